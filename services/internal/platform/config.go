// Package platform is what every Flotilla service shares: configuration from the environment,
// JSON logs, health, metrics, pprof and a graceful lifecycle. A new service calls Run with its
// public server and gets all of it.
package platform

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the part of a service's configuration the platform owns. The Kubernetes component
// sets these variables; the defaults suit a laptop.
type Config struct {
	ServiceName     string        // SERVICE_NAME: tags every log line and metric.
	Environment     string        // ENVIRONMENT: dev, staging or prod.
	ListenAddr      string        // LISTEN_ADDR: the public API.
	OpsAddr         string        // OPS_ADDR: /healthz, /readyz, /metrics.
	DebugAddr       string        // DEBUG_ADDR: pprof; keep it on loopback.
	DrainPeriod     time.Duration // DRAIN_PERIOD: how long a stopping service keeps serving, not ready, before it stops accepting.
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: how long in-flight requests get after the drain.
	LogLevel        slog.Level    // LOG_LEVEL: debug, info, warn or error.
	MaxInFlight     int           // MAX_IN_FLIGHT: public requests or calls served at once; more are shed (503, or UNAVAILABLE).
	MaxConnections  int           // MAX_CONNECTIONS: public connections open at once; more wait to be accepted.
	Tracing         Tracing       // The standard OTEL_* variables: where spans go, and how many (tracing.go).
}

// DefaultConfig is the configuration of a service started with no environment at all.
func DefaultConfig(service string) Config {
	return Config{
		ServiceName: service,
		Environment: "dev",
		ListenAddr:  ":8080",
		OpsAddr:     ":8081",
		DebugAddr:   "127.0.0.1:6060",
		// No drain outside a cluster: nothing there routes around a stopping process. The GoService
		// component sets DRAIN_PERIOD from its drainSeconds.
		DrainPeriod:     0,
		ShutdownTimeout: 20 * time.Second,
		LogLevel:        slog.LevelInfo,
		MaxInFlight:     256,
		// About 23 KiB each when idle (measured): 1024 hold about 23 MiB of the default 128 MiB.
		MaxConnections: 1024,
		Tracing:        defaultTracing,
	}
}

// LoadConfig reads the platform's variables through getenv over the defaults. Every bad value is
// reported, not only the first.
func LoadConfig(service string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig(service)
	var errs []error
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	addr := func(key string, dst *string) {
		str(key, dst)
		if err := checkAddr(*dst); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", key, *dst, err))
		}
	}
	str("SERVICE_NAME", &cfg.ServiceName)
	str("ENVIRONMENT", &cfg.Environment)
	addr("LISTEN_ADDR", &cfg.ListenAddr)
	addr("OPS_ADDR", &cfg.OpsAddr)
	addr("DEBUG_ADDR", &cfg.DebugAddr)
	duration := func(key string, dst *time.Duration, allowZero bool) {
		v := getenv(key)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: not a duration such as 20s", key, v))
		case d < 0, d == 0 && !allowZero, d > 10*time.Minute:
			least := "above 0"
			if allowZero {
				least = "0 or more"
			}
			errs = append(errs, fmt.Errorf("%s=%q: must be %s and at most 10m", key, v, least))
		default:
			*dst = d
		}
	}
	duration("DRAIN_PERIOD", &cfg.DrainPeriod, true)
	duration("SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout, false)
	count := func(key string, dst *int) {
		if v := getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100_000 {
				errs = append(errs, fmt.Errorf("%s=%q: must be a whole number from 1 to 100000", key, v))
			} else {
				*dst = n
			}
		}
	}
	count("MAX_IN_FLIGHT", &cfg.MaxInFlight)
	count("MAX_CONNECTIONS", &cfg.MaxConnections)
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: must be debug, info, warn or error", v))
		}
	}
	tracing, err := loadTracing(getenv)
	errs = append(errs, err)
	cfg.Tracing = tracing
	if cfg.ListenAddr == cfg.OpsAddr || cfg.ListenAddr == cfg.DebugAddr || cfg.OpsAddr == cfg.DebugAddr {
		errs = append(errs, errors.New("LISTEN_ADDR, OPS_ADDR and DEBUG_ADDR must differ"))
	}
	return cfg, errors.Join(errs...)
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("not a host:port address such as :8080")
	}
	if strings.ContainsAny(host, " /") || port == "" {
		return errors.New("not a host:port address such as :8080")
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// Env reads a service's own variable with a default, for the few settings beyond the platform's.
func Env(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}
