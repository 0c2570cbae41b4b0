package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/syndication-hub/hub/server"
)

// stateCommand is a command that works on a stopped hub's state: it
// reads where that state lives from the flags and HUB_* variables `hub
// serve` reads (--data-dir, --nats-url, --s3-endpoint, ...), so one
// environment file serves both.
func stateCommand(cmd *cobra.Command, cfg *server.Config, force *bool, forceUsage string) {
	state := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	cfg.RegisterStateFlags(state)
	cmd.Flags().AddFlagSet(state)
	cmd.Flags().BoolVar(force, "force", false, forceUsage)
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		// Only the state's flags come from the environment: --force and
		// the paths are said each time.
		if err := server.ApplyEnv(state, os.Getenv); err != nil {
			return err
		}
		return run(cmd, args)
	}
}

func newBackupCommand() *cobra.Command {
	var (
		cfg   server.Config
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "backup --out DIR",
		Short: "Back up a stopped hub: every NATS stream as a JetStream snapshot, and every blob, checked",
		Long: "Back up a stopped hub into an empty directory. With no --nats-url that is the hub in --data-dir\n" +
			"(the hub must be stopped: the data dir is locked while it runs); with --nats-url and --s3-endpoint\n" +
			"it is the hub on that NATS account and bucket. Each stream is kept as a JetStream snapshot\n" +
			"(sequence numbers, consumers and their positions); each blob a record names is copied and its\n" +
			"SHA-256 checked. manifest.json is written last: a directory without it holds no backup, and a\n" +
			"backup cut off is written anew by running the command again. --force replaces a whole backup.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			log, err := cfg.Logger()
			if err != nil {
				return err
			}
			m, err := server.Backup(cmd.Context(), cfg, out, server.ToolOptions{Force: force, Logger: log})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup %s written to %s: %d streams, %d blobs\n", m.ID, out, len(m.Streams), len(m.Blobs))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the backup into (empty or absent)")
	stateCommand(cmd, &cfg, &force, "replace a whole backup in --out")
	return cmd
}

func newRestoreCommand() *cobra.Command {
	var (
		cfg   server.Config
		from  string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "restore --from DIR",
		Short: "Restore a backup into a stopped hub's data dir, or onto a NATS cluster and S3",
		Long: "Restore the backup in --from into --data-dir (no --nats-url), or into the NATS account and S3\n" +
			"bucket --nats-url and --s3-endpoint name, with --nats-replicas copies of every stream. Streams\n" +
			"come back with their sequence numbers and consumers; every blob is checked against its SHA-256.\n" +
			"The target must hold no hub yet (--force: restore over it, replacing the streams the backup has).\n" +
			"Until the restore finishes the hub refuses to start there; cut off, run the same command again.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return fmt.Errorf("--from is required")
			}
			log, err := cfg.Logger()
			if err != nil {
				return err
			}
			if err := server.Restore(cmd.Context(), from, cfg, server.ToolOptions{Force: force, Logger: log}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s\n", from)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "directory of a backup made by `hub backup`")
	stateCommand(cmd, &cfg, &force, "restore over a target that holds a hub's state already (the backup's streams replace its own)")
	return cmd
}

func newMigrateCommand() *cobra.Command {
	var (
		cfg     server.Config
		workDir string
		force   bool
	)
	cmd := &cobra.Command{
		Use:   "migrate --data-dir DIR --nats-url URL --s3-endpoint HOST:PORT",
		Short: "Move a stopped single-machine hub onto a NATS cluster and S3",
		Long: "Move the stopped hub in --data-dir onto the NATS account --nats-url reaches (as a user allowed\n" +
			"the whole JetStream API of the hub's account, such as admin in deploy/nats) and the S3 bucket\n" +
			"--s3-endpoint names, with --nats-replicas copies of every stream: packages, keys, partners,\n" +
			"webhooks, the release stream with its sequence numbers (partners' change-log cursors) and\n" +
			"durable consumers (their positions), and every blob, checked against its SHA-256. The data dir\n" +
			"is left as it was. The target must be empty (--force: restore over it). Cut off, run the same\n" +
			"command again: it continues, and the hub refuses to start on the target until it has finished.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := cfg.Logger()
			if err != nil {
				return err
			}
			m, err := server.Migrate(cmd.Context(), cfg, workDir, server.ToolOptions{Force: force, Logger: log})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "migrated %s onto NATS and s3://%s/%s: %d streams, %d blobs\n", cfg.DataDir, cfg.S3Endpoint, cfg.S3Bucket, len(m.Streams), len(m.Blobs))
			return nil
		},
	}
	cmd.Flags().StringVar(&workDir, "work-dir", "", "where the streams' snapshots wait on their way (default <data-dir>/migration; removed at the end)")
	stateCommand(cmd, &cfg, &force, "migrate onto a target that holds a hub's state already (the data dir's streams replace its own)")
	return cmd
}
