package main

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/syndication-hub/hub/server"
)

func newServeCommand() *cobra.Command {
	var cfg server.Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub: the HTTP API, with embedded NATS and local-disk blobs unless told otherwise",
		Long: "Run the hub. With no flags it needs nothing installed: NATS runs in-process and blobs are\n" +
			"kept on disk, both under --data-dir. Every flag is also an environment variable: HUB_ plus\n" +
			"the flag name in upper case (--s3-endpoint is HUB_S3_ENDPOINT).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := server.ApplyEnv(cmd.Flags(), os.Getenv); err != nil {
				return err
			}
			if err := cfg.Resolve(); err != nil {
				return err
			}
			log, err := cfg.Logger()
			if err != nil {
				return err
			}
			srv, err := server.Start(cmd.Context(), cfg, server.Options{
				Logger: log, AdminKeyOut: cmd.ErrOrStderr(), Version: version,
			})
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			log.Info("shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Close(ctx)
		},
	}
	cfg.RegisterFlags(cmd.Flags())
	return cmd
}
