// Command archivd ingests finished case files into verified archival
// packages and keeps them safe. Run "archivd help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the archive time zone must resolve on minimal systems too
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal asks the command to stop where it is safe; from
		// then on the default action applies, so a second one ends archivd
		// even if something blocks.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
