package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/syndication-hub/hub/progress"
	"github.com/syndication-hub/hub/pull"
)

func newPullCommand() *cobra.Command {
	var (
		cfg  toolConfig
		opts pull.Options
	)
	cmd := &cobra.Command{
		Use:   "pull --dest DIR [--campaign C] [--lang L] [--follow]",
		Short: "Mirror released packages into a watch folder, verified, and follow new releases",
		Long: `The outlet's ingest agent. With a partner key (--key or HUB_KEY, the hub at --hub or
HUB_URL) it mirrors every released package the partner may see into DEST, one folder per
package (DEST/<campaign>/<language>/<package id>/) with its assets, ninjs.json (plain ninjs
2.2, valid against IPTC's schema) and package.json (the package as the hub sent it, with the
hub's own fields), written last. Each file is downloaded into DEST/.hub-pull/partial, resumed after
an interruption, verified by SHA-256, and only then moved into place, so watch-folder software
never sees a partial file. A correction moves the previous files to .versions/<n>/ in the
package folder; a withdrawal or purge removes the files and leaves WITHDRAWN.txt.

It catches up from where it stopped (state in DEST/.hub-pull/state.json). With --follow it
then keeps running: over your NATS consumer (GET /v1/me/nats) when it can reach it, otherwise
polling the change log. Ctrl-C stops it cleanly; run it again to continue.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyToolEnv(cmd.Flags(), os.Getenv); err != nil {
				return err
			}
			client, log, err := cfg.client("pull", cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			opts.Logger, opts.Progress = log, progress.Auto(os.Stderr, log)
			p, err := pull.New(client, opts)
			if err != nil {
				return err
			}
			return p.Run(cmd.Context())
		},
	}
	cfg.registerFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.Dest, "dest", "", "the destination (watch) folder")
	f.StringSliceVar(&opts.Campaigns, "campaign", nil, "mirror only these campaigns (repeat or comma-separate)")
	f.StringSliceVar(&opts.Languages, "lang", nil, "mirror only these languages (repeat or comma-separate)")
	f.BoolVar(&opts.Follow, "follow", false, "keep running and mirror new releases as they come")
	f.DurationVar(&opts.PollInterval, "poll-interval", 5*time.Second, "how often to read the change log when not on NATS")
	f.BoolVar(&opts.NoNATS, "no-nats", false, "poll the change log even when NATS could be reached")
	cmd.MarkFlagRequired("dest")
	return cmd
}
