package gateway

import (
	"context"
	"fmt"

	"flotilla/services/internal/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serviceConfig retries only the idempotent reads, on UNAVAILABLE (a pod going away); a create
// is never sent twice. Retries stay within each call's deadline.
const serviceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [
      {"service": "flotilla.users.v1.UserService", "method": "GetUser"},
      {"service": "flotilla.users.v1.UserService", "method": "ListUsers"}
    ],
    "retryPolicy": {
      "maxAttempts": 3,
      "initialBackoff": "0.05s",
      "maxBackoff": "0.5s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// Dial connects to the users service at addr (host:port). In-cluster traffic is plain text:
// the network policy limits who can reach it, and a mesh adds mTLS where one is installed.
func Dial(addr string, metrics *platform.Metrics) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("dns:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(serviceConfig),
		grpc.WithChainUnaryInterceptor(platform.UnaryClientInterceptor(metrics)),
	)
	if err != nil {
		return nil, fmt.Errorf("users client for %q: %w", addr, err)
	}
	conn.Connect()
	return conn, nil
}

// ReachableCheck is a readiness check: the users service answers its gRPC health check as SERVING.
func ReachableCheck(conn *grpc.ClientConn) platform.Check {
	client := healthpb.NewHealthClient(conn)
	return func(ctx context.Context) error {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return fmt.Errorf("users unreachable: %w", err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("users not serving: %s", resp.GetStatus())
		}
		return nil
	}
}
