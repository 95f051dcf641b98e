// Command users serves the UserService gRPC API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"flotilla/services/internal/platform"
	"flotilla/services/internal/users"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := platform.Main(ctx, "users", users.Run, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
