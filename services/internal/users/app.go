package users

import (
	"context"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"os"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// defaultSeed is the design's example user, so a fresh service answers GetUser("1").
const defaultSeed = `[{"id":"1","name":"Alice","email":"alice@example.com"}]`

// Run serves UserService. USERS_SEED_FILE (a JSON file) or USERS_SEED (JSON text) fill the store.
func Run(ctx context.Context, cfg platform.Config, getenv func(string) string, log *slog.Logger) error {
	seed := []byte(platform.Env(getenv, "USERS_SEED", defaultSeed))
	if path := getenv("USERS_SEED_FILE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return platform.ConfigError{Err: err}
		}
		seed = data
	}
	store := NewStore(func() string { return "u-" + hex.EncodeToString(randomBytes()) })
	if err := store.Seed(seed); err != nil {
		return platform.ConfigError{Err: err}
	}
	metrics := platform.NewMetrics()
	checks := platform.NewHealth()
	server := NewGRPCServer(store, log, metrics, cfg.MaxInFlight)
	grpcHealth := NewHealthServer()
	healthpb.RegisterHealthServer(server, grpcHealth)
	checks.OnDrain(grpcHealth.Shutdown)
	log.Info("store seeded", "users", store.Len())
	return platform.Run(ctx, cfg, log, checks, metrics, platform.GRPC{Server: server})
}

// NewGRPCServer returns the UserService server, with the platform's interceptors and limit
// (platform.NewGRPCServer) and reflection, without health.
func NewGRPCServer(store *Store, log *slog.Logger, metrics *platform.Metrics, maxInFlight int) *grpc.Server {
	server := platform.NewGRPCServer(log, metrics, maxInFlight)
	usersv1.RegisterUserServiceServer(server, NewServer(store))
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

func randomBytes() []byte {
	b := make([]byte, 8)
	v := rand.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}
