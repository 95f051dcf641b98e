package users

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// defaultSeed is the design's example user, so a fresh service answers GetUser("1").
const defaultSeed = `[{"id":"1","name":"Alice","email":"alice@example.com"}]`

// Run serves UserService. With DATABASE_URL set, users are kept in that PostgreSQL database,
// shared by every replica; without it, in this process's memory. USERS_SEED_FILE (a JSON file) or
// USERS_SEED (JSON text) add users that are not there yet.
func Run(ctx context.Context, cfg platform.Config, getenv func(string) string, log *slog.Logger) error {
	seedText := []byte(platform.Env(getenv, "USERS_SEED", defaultSeed))
	if path := getenv("USERS_SEED_FILE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return platform.ConfigError{Err: err}
		}
		seedText = data
	}
	seed, err := ParseSeed(seedText)
	if err != nil {
		return platform.ConfigError{Err: err}
	}
	metrics := platform.NewMetrics()
	checks := platform.NewHealth()
	var store Store = NewMemoryStore()
	if url := getenv(DatabaseURLVariable); url != "" {
		poolSize, err := PoolSize(getenv, cfg.MaxInFlight)
		if err != nil {
			return platform.ConfigError{Err: err}
		}
		pg, err := OpenPostgres(url, poolSize)
		if err != nil {
			return platform.ConfigError{Err: err}
		}
		defer pg.Close()
		checks.AddCheck("database", pg.Ping)
		store = pg
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			if err := prepare(ctx, pg, seed, log); err != nil {
				cancel(err)
			}
		}()
	} else if err := store.Seed(ctx, seed); err != nil {
		return platform.ConfigError{Err: err}
	}
	server := NewGRPCServer(store, log, metrics, cfg.MaxInFlight)
	grpcHealth := NewHealthServer()
	healthpb.RegisterHealthServer(server, grpcHealth)
	checks.OnDrain(grpcHealth.Shutdown)
	err = platform.Run(ctx, cfg, log, checks, metrics, platform.GRPC{Server: server})
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// The variables users reads its database from; components/data/database.json names them for the
// stack, and database_contract_test.go holds the two together.
const (
	// DatabaseURLVariable names the PostgreSQL URL (the operator's Secret's `uri`).
	DatabaseURLVariable = "DATABASE_URL"
	// DatabasePoolSizeVariable names the most connections one replica opens; the stack sets it
	// so that every replica's pool fits the server's max_connections.
	DatabasePoolSizeVariable = "DATABASE_POOL_SIZE"
)

// PoolSize is DATABASE_POOL_SIZE, a positive whole number, or fallback when it is unset: one
// connection per call served at once, since more would wait in the pool anyway.
func PoolSize(getenv func(string) string, fallback int) (int, error) {
	text := getenv(DatabasePoolSizeVariable)
	if text == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > 1<<16 {
		return 0, fmt.Errorf("%s: want a whole number from 1 to 65536, got %q", DatabasePoolSizeVariable, text)
	}
	return n, nil
}

// prepare migrates the database and seeds it, trying again every few seconds while it cannot be
// reached: a database that is down keeps the pod unready, never crash-looping. A schema newer than
// this binary, or a seed that conflicts with the users there, ends the process.
func prepare(ctx context.Context, pg *PostgresStore, seed []User, log *slog.Logger) error {
	wait := 500 * time.Millisecond
	for {
		err := pg.Migrate(ctx)
		if err == nil {
			err = pg.Seed(ctx, seed)
			if err == nil {
				log.Info("database migrated and seeded", "seed_users", len(seed))
				return nil
			}
			if !errors.Is(err, ErrUnavailable) {
				return platform.ConfigError{Err: err}
			}
		}
		var tooNew *SchemaTooNewError
		if errors.As(err, &tooNew) {
			return tooNew
		}
		log.Warn("database not ready; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// NewGRPCServer returns the UserService server, with the platform's interceptors and limit
// (platform.NewGRPCServer) and reflection, without health.
func NewGRPCServer(store Store, log *slog.Logger, metrics *platform.Metrics, maxInFlight int) *grpc.Server {
	server := platform.NewGRPCServer(log, metrics, maxInFlight)
	usersv1.RegisterUserServiceServer(server, NewServer(store, newUserID))
	reflection.Register(server)
	return server
}

// NewHealthServer answers gRPC health checks for the server as a whole ("") and for UserService
// by name, as a mesh or a probe that names the service asks; draining (Shutdown) turns both off.
func NewHealthServer() *health.Server {
	h := health.NewServer()
	h.SetServingStatus(usersv1.UserService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	return h
}

// newUserID names a new user: "u-" and 16 random hex digits.
func newUserID() string { return "u-" + hex.EncodeToString(randomBytes()) }

func randomBytes() []byte {
	b := make([]byte, 8)
	v := rand.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}
