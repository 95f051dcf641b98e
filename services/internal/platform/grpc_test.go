package platform

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"
)

// seenIDs is a health server that records the ids each call arrived with.
type seenIDs struct {
	healthpb.UnimplementedHealthServer
	request, trace chan string
}

func (s *seenIDs) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	s.request <- RequestID(ctx)
	s.trace <- idsOf(ctx).trace
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// A call made within a request reaches the server, through both interceptors over a real gRPC
// connection, with the request's ids, and both sides count it.
func TestIDsCrossAGRPCHop(t *testing.T) {
	listener := bufconn.Listen(1 << 20)
	serverMetrics, clientMetrics := NewMetrics(), NewMetrics()
	seen := &seenIDs{request: make(chan string, 1), trace: make(chan string, 1)}
	server := NewGRPCServer(slog.New(slog.DiscardHandler), serverMetrics, 4)
	healthpb.RegisterHealthServer(server, seen)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return listener.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(clientMetrics)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := healthpb.NewHealthClient(conn)

	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"ids the service made", withIDs(context.Background(), edgeIDs("", ""))},
		{"a request id and trace the client chose", withIDs(context.Background(), edgeIDs("abc-123", callerHeader))},
		{"a trace the client started", withIDs(context.Background(), edgeIDs("", callerHeader))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := client.Check(tt.ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			if got, want := <-seen.request, RequestID(tt.ctx); got != want {
				t.Errorf("server saw request id %q, want %q", got, want)
			}
			if got, want := <-seen.trace, idsOf(tt.ctx).trace; got != want {
				t.Errorf("server saw trace id %q, want %q", got, want)
			}
		})
	}

	t.Run("a call outside any request gets ids of the server's own", func(t *testing.T) {
		if _, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
		if request, trace := <-seen.request, <-seen.trace; !spanID.MatchString(request) || !traceID.MatchString(trace) {
			t.Errorf("server made request id %q and trace id %q, want a span id and a trace id", request, trace)
		}
	})

	const method = "/grpc.health.v1.Health/Check"
	if got := testutil.ToFloat64(serverMetrics.grpcHandled.WithLabelValues(method, "OK")); got != 4 {
		t.Errorf("server counted %v calls, want 4", got)
	}
	if got := testutil.ToFloat64(clientMetrics.grpcClientCalls.WithLabelValues(method, "OK")); got != 4 {
		t.Errorf("client counted %v calls, want 4", got)
	}
}
