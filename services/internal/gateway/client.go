package gateway

import (
	"context"
	"fmt"
	"time"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serviceConfig retries only the idempotent reads, on UNAVAILABLE (a pod going away), and lets
// them wait for a connection instead of failing while the channel reconnects (a users process
// restarting, or every pod of it replaced): within each call's deadline either way. A create is
// never sent twice, nor held back waiting. The retry budget (retryThrottling) keeps retries from
// multiplying the load on a users service that is failing for good: once failures outrun a tenth
// of the successes by about 50, the channel stops retrying until successes earn it back.
const serviceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "retryThrottling": {"maxTokens": 100, "tokenRatio": 0.1},
  "methodConfig": [{
    "name": [
      {"service": "flotilla.users.v1.UserService", "method": "GetUser"},
      {"service": "flotilla.users.v1.UserService", "method": "ListUsers"}
    ],
    "waitForReady": true,
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
		// Reconnect within a tenth of a second of a refused dial (gRPC's default starts at 1 s),
		// so a waiting read is served soon after the users process is back.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 2 * time.Second,
		}),
		grpc.WithChainUnaryInterceptor(platform.UnaryClientInterceptor(metrics)),
	)
	if err != nil {
		return nil, fmt.Errorf("users client for %q: %w", addr, err)
	}
	conn.Connect()
	return conn, nil
}

// ReachableCheck is a readiness check: the users service answers the gRPC health check of
// UserService, the service the gateway calls, as SERVING.
func ReachableCheck(conn *grpc.ClientConn) platform.Check {
	client := healthpb.NewHealthClient(conn)
	request := &healthpb.HealthCheckRequest{Service: usersv1.UserService_ServiceDesc.ServiceName}
	return func(ctx context.Context) error {
		resp, err := client.Check(ctx, request)
		if err != nil {
			return fmt.Errorf("users unreachable: %w", err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("users not serving: %s", resp.GetStatus())
		}
		return nil
	}
}
