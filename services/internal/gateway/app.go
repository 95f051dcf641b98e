package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
)

// Run serves the HTTP API. USERS_ADDR is the users service (host:port); USERS_TIMEOUT bounds each call.
func Run(ctx context.Context, cfg platform.Config, getenv func(string) string, log *slog.Logger) error {
	addr := platform.Env(getenv, "USERS_ADDR", "localhost:9090")
	timeout, err := time.ParseDuration(platform.Env(getenv, "USERS_TIMEOUT", "2s"))
	if err != nil || timeout <= 0 || timeout > time.Minute {
		return platform.ConfigError{Err: fmt.Errorf("USERS_TIMEOUT=%q: must be a duration above 0 and at most 1m", getenv("USERS_TIMEOUT"))}
	}
	metrics := platform.NewMetrics()
	conn, err := Dial(addr, metrics)
	if err != nil {
		return platform.ConfigError{Err: err}
	}
	defer conn.Close()
	health := platform.NewHealth()
	health.AddCheck("users", ReachableCheck(conn))
	// Shed requests are still counted: the limit sits inside the instrumentation.
	api := platform.LimitInFlight(NewHandler(usersv1.NewUserServiceClient(conn), timeout, log), cfg.MaxInFlight, retryAfterSeconds, log)
	handler := platform.Instrument(api, log, metrics)
	return platform.Run(ctx, cfg, log, health, metrics, platform.HTTP{Server: platform.NewHTTPServer(handler, log)})
}
