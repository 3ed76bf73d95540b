// Command roster is the Roster user directory: an HTTP service speaking the
// Truv, Entrust, CL2C, Ownli and SCIM 2.0 user APIs on one store, and the
// admin commands beside it. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/roster-dev/roster/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // os.Exit skips deferred calls, so release the signal handler first
	os.Exit(code)
}
