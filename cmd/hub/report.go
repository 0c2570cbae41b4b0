package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/syndication-hub/hub/hubclient"
)

func newReportCommand() *cobra.Command {
	var (
		cfg       toolConfig
		id        string
		rep       hubclient.Republication
		published string
	)
	cmd := &cobra.Command{
		Use:   "report --package ID --url URL --audience N [--published TIME] [--medium M]",
		Short: "Tell the hub where your outlet republished a package, and to how many people",
		Long: `Report a republication with a partner key, as POST /v1/packages/{id}/republications does.
An ingest script can call it once the piece is on air or online; the package id is the name
of its folder under the hub pull destination, and in its package.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyToolEnv(cmd.Flags(), os.Getenv); err != nil {
				return err
			}
			if id == "" || rep.URL == "" {
				return errors.New("--package and --url are required")
			}
			rep.Published = time.Now().UTC().Truncate(time.Second)
			if published != "" {
				t, err := time.Parse(time.RFC3339, published)
				if err != nil {
					return fmt.Errorf("--published %q is not an RFC 3339 time such as 2026-11-25T19:30:00+06:00", published)
				}
				rep.Published = t
			}
			client, _, err := cfg.client("report", cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out, err := client.ReportRepublication(cmd.Context(), id, rep)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(string(out)))
			return nil
		},
	}
	cfg.registerFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&id, "package", "", "the package id")
	f.StringVar(&rep.URL, "url", "", "where it was republished (http or https URL)")
	f.StringVar(&rep.Medium, "medium", "", "tv, radio, print or online (default: your outlet's)")
	f.StringVar(&published, "published", "", "when it was published, RFC 3339 (default: now)")
	f.Int64Var(&rep.Audience, "audience", 0, "how many people it reached")
	return cmd
}
