package gateway

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
)

// unavailableUsers fails every call with UNAVAILABLE, the code reads are retried on, and counts
// the attempts that reach it.
type unavailableUsers struct {
	usersv1.UnimplementedUserServiceServer
	attempts atomic.Int64
}

func (u *unavailableUsers) GetUser(context.Context, *usersv1.UserRequest) (*usersv1.UserResponse, error) {
	u.attempts.Add(1)
	return nil, status.Error(codes.Unavailable, "always down")
}

// TestRetriesStayWithinTheBudget calls a users service that is down for good: reads are retried
// at first, then the retry budget stops the retries, so the users service sees far fewer than
// the three attempts per call the retry policy would otherwise make.
func TestRetriesStayWithinTheBudget(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &unavailableUsers{}
	server := grpc.NewServer()
	usersv1.RegisterUserServiceServer(server, fake)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	conn, err := Dial(listener.Addr().String(), platform.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := usersv1.NewUserServiceClient(conn)

	const calls = 300
	for range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := client.GetUser(ctx, &usersv1.UserRequest{UserId: "1"})
		cancel()
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("GetUser: %v; want UNAVAILABLE", err)
		}
	}
	attempts := fake.attempts.Load()
	t.Logf("%d calls, %d attempts", calls, attempts)
	if attempts <= calls {
		t.Errorf("%d attempts for %d calls: reads were not retried at all", attempts, calls)
	}
	// Without the budget: 3 attempts per call (900). With it: the calls plus about 50 retries.
	if attempts > calls+calls/4 {
		t.Errorf("%d attempts for %d calls: the retries were not throttled", attempts, calls)
	}
}

// TestReachableCheckAsksForUserService holds readiness to the health of the service the gateway
// calls, by name, as a mesh or a probe naming it would ask: a server that is healthy as a whole
// but does not serve UserService is not enough.
func TestReachableCheckAsksForUserService(t *testing.T) {
	tests := []struct {
		name    string
		serving map[string]healthpb.HealthCheckResponse_ServingStatus
		ready   bool
	}{
		{"UserService serving", map[string]healthpb.HealthCheckResponse_ServingStatus{usersv1.UserService_ServiceDesc.ServiceName: healthpb.HealthCheckResponse_SERVING}, true},
		{"only the server as a whole", map[string]healthpb.HealthCheckResponse_ServingStatus{"": healthpb.HealthCheckResponse_SERVING}, false},
		{"UserService not serving", map[string]healthpb.HealthCheckResponse_ServingStatus{usersv1.UserService_ServiceDesc.ServiceName: healthpb.HealthCheckResponse_NOT_SERVING}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listener, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			server := grpc.NewServer()
			h := health.NewServer()
			h.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
			for service, serving := range tt.serving {
				h.SetServingStatus(service, serving)
			}
			healthpb.RegisterHealthServer(server, h)
			go server.Serve(listener)
			defer server.Stop()
			conn, err := Dial(listener.Addr().String(), platform.NewMetrics())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := ReachableCheck(conn)(ctx); (err == nil) != tt.ready {
				t.Errorf("ReachableCheck() = %v, want ready %v", err, tt.ready)
			}
		})
	}
}

// countingUsers answers GetUser and counts the calls it served.
type countingUsers struct {
	usersv1.UnimplementedUserServiceServer
	served atomic.Int64
}

func (u *countingUsers) GetUser(_ context.Context, req *usersv1.UserRequest) (*usersv1.UserResponse, error) {
	u.served.Add(1)
	return &usersv1.UserResponse{UserId: req.GetUserId()}, nil
}

// TestDrainingPodGetsNoCallsAndLeavesTheGatewayReady runs two users servers behind one channel
// and drains one (its health turns NOT_SERVING, as users' does on SIGTERM): every read goes to the
// other, and the readiness check passes every time, where round robin alone would send a third of
// both to the draining one. Back to SERVING, it is given calls again.
func TestDrainingPodGetsNoCallsAndLeavesTheGatewayReady(t *testing.T) {
	type pod struct {
		users  *countingUsers
		health *health.Server
		addr   string
	}
	pods := make([]pod, 2)
	for i := range pods {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		server := grpc.NewServer()
		pods[i] = pod{users: &countingUsers{}, health: health.NewServer(), addr: listener.Addr().String()}
		pods[i].health.SetServingStatus(usersv1.UserService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
		usersv1.RegisterUserServiceServer(server, pods[i].users)
		healthpb.RegisterHealthServer(server, pods[i].health)
		go func() { _ = server.Serve(listener) }()
		t.Cleanup(server.Stop)
	}
	users := manual.NewBuilderWithScheme("pods")
	users.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: pods[0].addr}, {Addr: pods[1].addr}}})
	conn, err := dial("pods:///users", platform.NewMetrics(), grpc.WithResolvers(users))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := usersv1.NewUserServiceClient(conn)
	read := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := client.GetUser(ctx, &usersv1.UserRequest{UserId: "1"}); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
	}
	// servedEach waits until every pod in want has served a call, or fails after two seconds.
	servedEach := func(want ...int) {
		deadline := time.Now().Add(2 * time.Second)
		start := []int64{pods[0].users.served.Load(), pods[1].users.served.Load()}
		for _, i := range want {
			for pods[i].users.served.Load() == start[i] {
				if time.Now().After(deadline) {
					t.Fatalf("pod %d served no call in 2 s", i)
				}
				read()
			}
		}
	}
	servedEach(0, 1)

	pods[1].health.Shutdown()
	// The Watch stream brings the change within a moment; from then on, pod 1 gets nothing.
	time.Sleep(200 * time.Millisecond)
	before := pods[1].users.served.Load()
	for range 60 {
		read()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := ReachableCheck(conn)(ctx); err != nil {
			t.Fatalf("readiness while one of two pods drains: %v", err)
		}
		cancel()
	}
	if got := pods[1].users.served.Load() - before; got != 0 {
		t.Errorf("the draining pod served %d of 60 calls; want 0", got)
	}

	pods[1].health.Resume()
	servedEach(1)
}
