package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/syndication-hub/hub/progress"
	"github.com/syndication-hub/hub/push"
)

const pushManifestHelp = `The folder holds the files and a manifest, hub.yaml (or hub.yml, or hub.json), such as:

  campaign: korgau123
  by: Dobrye Vesti
  usageterms: Free to republish with credit
  copyrightnotice: © 2026 Dobrye Vesti
  contentwarning: Describes harassment at work
  subjects: ["#korgau123"]
  assets:                      # in every language's package
    - file: poster.png
      caption: Campaign poster
      credit: Dobrye Vesti
      primary: true
  languages:                   # one package per language, linked as translations
    ru:
      headline: Домогательства на работе — это преступление
      description: ...
      body: ...
      assets:
        - file: ru/интервью.mp4
          type: video
    kk:
      headline: Жұмыстағы қудалау — қылмыс

An asset takes file (inside the folder), name (default: the file's name), type (picture,
graphic, video, audio, text; default: inferred from the bytes), caption, credit, language and
primary. Unknown fields are errors, and every file is checked before anything is sent.
The package ids are kept in DIR/.hub-push.json, so pushing again updates the same packages,
uploading only the files whose bytes changed and deleting assets the manifest dropped.`

func newPushCommand() *cobra.Command {
	var (
		cfg      toolConfig
		manifest string
		release  bool
		embargo  string
		check    bool
		tusFrom  int64
	)
	cmd := &cobra.Command{
		Use:   "push DIR",
		Short: "Create or update a campaign package from a folder and its manifest; release it or schedule it",
		Long:  "Push a folder to the hub as one package per language.\n\n" + pushManifestHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyToolEnv(cmd.Flags(), os.Getenv); err != nil {
				return err
			}
			req := push.Request{Dir: args[0], Manifest: manifest, Release: release}
			if embargo != "" {
				t, err := time.Parse(time.RFC3339, embargo)
				if err != nil {
					return fmt.Errorf("--embargo %q is not an RFC 3339 time such as 2026-11-25T06:00:00+06:00", embargo)
				}
				req.Embargo = &t
			}
			if check {
				plan, err := push.Load(req.Dir, req.Manifest, req.Release || req.Embargo != nil)
				if err != nil {
					return err
				}
				for _, pp := range plan.Packages {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %d assets\n", pp.Language, len(pp.Assets))
				}
				fmt.Fprintln(cmd.OutOrStdout(), "the manifest and its files are in order")
				return nil
			}
			client, log, err := cfg.client("push", cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			p := push.New(client, push.Options{Progress: progress.Auto(os.Stderr, log), Logger: log, ResumableThreshold: tusFrom})
			res, err := p.Push(cmd.Context(), req)
			if err != nil {
				return err
			}
			printPushResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cfg.registerFlags(cmd.Flags())
	cmd.Flags().StringVar(&manifest, "manifest", "", "the manifest (default: hub.yaml, hub.yml or hub.json in DIR)")
	cmd.Flags().BoolVar(&release, "release", false, "release the packages now (a correction for released packages that changed)")
	cmd.Flags().StringVar(&embargo, "embargo", "", "schedule the packages for this RFC 3339 time (2026-11-25T06:00:00+06:00)")
	cmd.Flags().BoolVar(&check, "check", false, "only check the manifest and its files; send nothing")
	cmd.Flags().Int64Var(&tusFrom, "resumable-threshold", push.DefaultResumableThreshold, "send files of at least this many bytes as resumable uploads, which survive broken connections and hub restarts (env HUB_PUSH_RESUMABLE_THRESHOLD; negative: never)")
	cmd.MarkFlagsMutuallyExclusive("release", "embargo")
	return cmd
}

func printPushResult(w io.Writer, res *push.Result) {
	for _, r := range res.Packages {
		what := "updated"
		if r.Created {
			what = "created"
		}
		line := fmt.Sprintf("%s %s %s: %d uploaded, %d unchanged", r.Language, r.ID, what, len(r.Uploaded), len(r.Unchanged))
		if len(r.Deleted) > 0 {
			line += fmt.Sprintf(", %d deleted (%s)", len(r.Deleted), strings.Join(r.Deleted, ", "))
		}
		line += fmt.Sprintf("; %s, version %s", r.Status, r.Version)
		if r.Released != "" {
			line += " (" + r.Released + ")"
		}
		fmt.Fprintln(w, line)
	}
}
