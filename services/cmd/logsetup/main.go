// Command logsetup applies the log pipeline's index template and Kibana data view; it runs as a
// Kubernetes Job beside Elasticsearch.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"flotilla/services/internal/logsetup"
	"flotilla/services/internal/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := platform.Main(ctx, "logsetup", logsetup.Run, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
