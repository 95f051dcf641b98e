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
