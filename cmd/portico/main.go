// Command portico is the whole product in one binary: `portico server` runs
// the control plane with an embedded gateway, `portico demo-backend` an
// httpbin-like echo server for the tour, `portico ctl` drives the admin
// API from a terminal, `portico version` prints the version.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "portico",
		Short:         "Portico: API publishing platform — control plane and gateway in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serverCmd(), gatewayCmd(), migrateCmd(), backupCmd(), restoreCmd(), demoBackendCmd(), versionCmd(), openAPICmd(), cli.Command())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "portico:", err)
		os.Exit(cli.ExitCode(err))
	}
}
