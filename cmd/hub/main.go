// Command hub is the syndication hub: one binary that serves the API
// (`hub serve`), the producer's upload tool (`hub push`), the outlets'
// ingest agent (`hub pull`) and republication reports (`hub report`).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "hub",
		Short:         "The syndication hub: campaign packages in, partner outlets republishing them out",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand())
	root.AddCommand(newPushCommand(), newPullCommand(), newReportCommand())
	root.AddCommand(newBackupCommand(), newRestoreCommand(), newMigrateCommand())
	return root
}
