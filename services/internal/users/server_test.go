package users

import (
	"context"
	"testing"

	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func TestServerStatusCodes(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	if err := store.Seed(ctx, mustParseSeed(t, defaultSeed)); err != nil {
		t.Fatal(err)
	}
	server := NewServer(store, sequentialIDs())
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"get existing", func() error { _, err := server.GetUser(ctx, &usersv1.UserRequest{UserId: "1"}); return err }, codes.OK},
		{"get missing", func() error { _, err := server.GetUser(ctx, &usersv1.UserRequest{UserId: "404"}); return err }, codes.NotFound},
		{"get empty id", func() error { _, err := server.GetUser(ctx, &usersv1.UserRequest{}); return err }, codes.InvalidArgument},
		{"create", func() error {
			_, err := server.CreateUser(ctx, &usersv1.CreateUserRequest{Name: "B", Email: "b@example.com"})
			return err
		}, codes.OK},
		{"create taken", func() error {
			_, err := server.CreateUser(ctx, &usersv1.CreateUserRequest{Name: "A", Email: "alice@example.com"})
			return err
		}, codes.AlreadyExists},
		{"create invalid", func() error { _, err := server.CreateUser(ctx, &usersv1.CreateUserRequest{Name: "A"}); return err }, codes.InvalidArgument},
		{"list negative size", func() error { _, err := server.ListUsers(ctx, &usersv1.ListUsersRequest{PageSize: -1}); return err }, codes.InvalidArgument},
		{"store unavailable", func() error {
			_, err := NewServer(failingStore{ErrUnavailable}, sequentialIDs()).GetUser(ctx, &usersv1.UserRequest{UserId: "1"})
			return err
		}, codes.Unavailable},
		{"create of unknown outcome", func() error {
			_, err := NewServer(failingStore{ErrOutcomeUnknown}, sequentialIDs()).CreateUser(ctx, &usersv1.CreateUserRequest{Name: "B", Email: "b@example.com"})
			return err
		}, codes.Unknown},
		{"list forged token", func() error { _, err := server.ListUsers(ctx, &usersv1.ListUsersRequest{PageToken: "%%%"}); return err }, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(tt.call()); got != tt.want {
				t.Errorf("code %s, want %s", got, tt.want)
			}
		})
	}
}

func TestListUsersTokens(t *testing.T) {
	server := NewServer(NewMemoryStore(), sequentialIDs())
	for _, email := range []string{"a@x.io", "b@x.io", "c@x.io"} {
		if _, err := server.CreateUser(context.Background(), &usersv1.CreateUserRequest{Name: "N", Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := server.ListUsers(context.Background(), &usersv1.ListUsersRequest{PageSize: 2})
	if err != nil || len(first.GetUsers()) != 2 || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %v %v", first, err)
	}
	second, err := server.ListUsers(context.Background(), &usersv1.ListUsersRequest{PageSize: 2, PageToken: first.GetNextPageToken()})
	if err != nil || len(second.GetUsers()) != 1 || second.GetNextPageToken() != "" || second.GetUsers()[0].GetUserId() != "u-003" {
		t.Fatalf("last page: %v %v", second, err)
	}
}

func TestHealthServerNamesUserService(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		service  string
		shutdown bool
		want     healthpb.HealthCheckResponse_ServingStatus
		wantCode codes.Code
	}{
		{"server as a whole", "", false, healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"UserService by name", usersv1.UserService_ServiceDesc.ServiceName, false, healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"an unknown service", "flotilla.users.v1.Other", false, 0, codes.NotFound},
		{"UserService while draining", usersv1.UserService_ServiceDesc.ServiceName, true, healthpb.HealthCheckResponse_NOT_SERVING, codes.OK},
		{"server while draining", "", true, healthpb.HealthCheckResponse_NOT_SERVING, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHealthServer()
			if tt.shutdown {
				h.Shutdown()
			}
			resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: tt.service})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("Check(%q) error %v, want code %v", tt.service, err, tt.wantCode)
			}
			if err == nil && resp.GetStatus() != tt.want {
				t.Errorf("Check(%q) = %v, want %v", tt.service, resp.GetStatus(), tt.want)
			}
		})
	}
}

// failingStore fails every call with err, as a store whose database is down would.
type failingStore struct{ err error }

func (f failingStore) Get(context.Context, string) (User, error) { return User{}, f.err }
func (f failingStore) List(context.Context, string, int) ([]User, bool, error) {
	return nil, false, f.err
}
func (f failingStore) Insert(context.Context, User) error { return f.err }
func (f failingStore) Seed(context.Context, []User) error { return f.err }
