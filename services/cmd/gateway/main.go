// Command gateway serves the public HTTP JSON API in front of the users service.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"flotilla/services/internal/gateway"
	"flotilla/services/internal/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := platform.Main(ctx, "gateway", gateway.Run, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
