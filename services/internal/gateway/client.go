package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	// Registers the client side of health checking, which healthCheckConfig turns on.
	_ "google.golang.org/grpc/health"
)

// serviceConfig balances calls over the users pods that report UserService SERVING on gRPC's
// health Watch stream (healthCheckConfig): a draining pod turns NOT_SERVING and stops getting
// calls at once, before its endpoint leaves DNS, and the readiness check (ReachableCheck) reads
// the same streams, so one users pod going away never makes the gateway unready.
// It retries only the idempotent reads, on UNAVAILABLE (a pod going away), and lets
// them wait for a connection instead of failing while the channel reconnects (a users process
// restarting, or every pod of it replaced): within each call's deadline either way. A create is
// never sent twice, nor held back waiting. The retry budget (retryThrottling) keeps retries from
// multiplying the load on a users service that is failing for good: once failures outrun a tenth
// of the successes by about 50, the channel stops retrying until successes earn it back.
const serviceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "healthCheckConfig": {"serviceName": "flotilla.users.v1.UserService"},
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
	return dial("dns:///"+addr, metrics)
}

// dial is Dial of any target; a test passes its own resolver among opts.
func dial(target string, metrics *platform.Metrics, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(target, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(serviceConfig),
		// Reconnect within a tenth of a second of a refused dial (gRPC's default starts at 1 s),
		// so a waiting read is served soon after the users process is back.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 2 * time.Second,
		}),
		grpc.WithChainUnaryInterceptor(platform.UnaryClientInterceptor(metrics)),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("users client for %q: %w", target, err)
	}
	conn.Connect()
	return conn, nil
}

// ReachableCheck is a readiness check: at least one users pod reports UserService SERVING on its
// health stream, which is what the channel's READY state means under healthCheckConfig; a channel
// gone idle is woken first. It sends no call of its own, so it never lands on a pod that has just
// begun to drain (a Check call could, in the moment before the channel hears of it).
func ReachableCheck(conn *grpc.ClientConn) platform.Check {
	return func(ctx context.Context) error {
		for {
			state := conn.GetState()
			switch state {
			case connectivity.Ready:
				return nil
			case connectivity.Idle:
				conn.Connect()
			case connectivity.Shutdown:
				return errors.New("users client closed")
			}
			if !conn.WaitForStateChange(ctx, state) {
				return fmt.Errorf("users unreachable: no pod serving %s (channel %s)", usersv1.UserService_ServiceDesc.ServiceName, state)
			}
		}
	}
}
