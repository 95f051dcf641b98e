package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
)

// Exit codes of a service: 2 for configuration a person must fix, 1 for anything else.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitConfig = 2
)

// App is a service's own part: given its platform config and logger, serve until ctx ends.
// getenv is how it reads its own settings; a bad one is reported as a ConfigError.
type App func(ctx context.Context, cfg Config, getenv func(string) string, log *slog.Logger) error

// ConfigError marks an error in the environment's settings: exit code 2, not a crash loop's 1.
type ConfigError struct{ Err error }

func (e ConfigError) Error() string { return "configuration: " + e.Err.Error() }
func (e ConfigError) Unwrap() error { return e.Err }

// Exec is a command's whole main: it runs app through Main until SIGTERM (Kubernetes stopping the
// pod) or an interrupt, and exits the process with Main's code.
func Exec(service string, app App) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := Main(ctx, service, app, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main loads the platform config, runs app and returns the process's exit code.
func Main(ctx context.Context, service string, app App, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := LoadConfig(service, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: bad configuration:\n%v\n", service, err)
		return ExitConfig
	}
	log := NewLogger(stdout, cfg)
	gogc, memoryLimit := TuneRuntime(getenv)
	log.Debug("runtime", "gogc", gogc, "memory_limit_bytes", memoryLimit)
	// The exporter's errors (a collector down, spans dropped) go to the service's own log.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "err", err) }))
	stopTracing, err := StartTracing(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: bad configuration:\n%v\n", service, err)
		return ExitConfig
	}
	defer func() {
		// The spans of the last requests: sent within a bounded time, or dropped with a warning.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTracing(ctx); err != nil {
			log.Warn("tracing: spans not sent at exit", "err", err)
		}
	}()
	if err := app(ctx, cfg, getenv, log); err != nil {
		if ce := (ConfigError{}); errors.As(err, &ce) {
			fmt.Fprintf(stderr, "%s: bad configuration:\n%v\n", service, ce.Err)
			return ExitConfig
		}
		log.Error("exiting", "err", err)
		return ExitFailed
	}
	return ExitOK
}
