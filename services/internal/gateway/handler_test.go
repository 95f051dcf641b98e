package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeUsers answers every call with resp and err, and records the deadline it was given.
type fakeUsers struct {
	usersv1.UserServiceClient
	err         error
	hadDeadline bool
}

func (f *fakeUsers) GetUser(ctx context.Context, req *usersv1.UserRequest, _ ...grpc.CallOption) (*usersv1.UserResponse, error) {
	_, f.hadDeadline = ctx.Deadline()
	return &usersv1.UserResponse{UserId: req.GetUserId(), Name: "Alice", Email: "alice@example.com"}, f.err
}

func (f *fakeUsers) ListUsers(_ context.Context, req *usersv1.ListUsersRequest, _ ...grpc.CallOption) (*usersv1.ListUsersResponse, error) {
	return &usersv1.ListUsersResponse{Users: []*usersv1.UserResponse{{UserId: "1"}}, NextPageToken: "t"}, f.err
}

func (f *fakeUsers) CreateUser(_ context.Context, req *usersv1.CreateUserRequest, _ ...grpc.CallOption) (*usersv1.UserResponse, error) {
	return &usersv1.UserResponse{UserId: "u-1", Name: req.GetName(), Email: req.GetEmail()}, f.err
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		upstreamErr              error
		wantStatus               int
		wantBody                 string
	}{
		{"get", "GET", "/v1/users/1", "", nil, 200, `{"id":"1","name":"Alice","email":"alice@example.com"}`},
		{"get missing", "GET", "/v1/users/9", "", status.Error(codes.NotFound, "user not found"), 404, `"error":"user not found"`},
		{"list", "GET", "/v1/users?page_size=10", "", nil, 200, `"next_page_token":"t"`},
		{"list bad size", "GET", "/v1/users?page_size=0", "", nil, 400, "page_size must be"},
		{"list bad size text", "GET", "/v1/users?page_size=ten", "", nil, 400, "page_size must be"},
		{"create", "POST", "/v1/users", `{"name":"Bob","email":"b@x.io"}`, nil, 201, `"id":"u-1"`},
		{"create invalid upstream", "POST", "/v1/users", `{"name":"","email":"b@x.io"}`, status.Error(codes.InvalidArgument, "name: is required"), 400, "name: is required"},
		{"create conflict", "POST", "/v1/users", `{"name":"B","email":"b@x.io"}`, status.Error(codes.AlreadyExists, "email already registered"), 409, "already"},
		{"create malformed", "POST", "/v1/users", `{"name":`, nil, 400, "malformed JSON"},
		{"upstream down", "GET", "/v1/users/1", "", status.Error(codes.Unavailable, "conn refused"), 503, "users service unavailable"},
		{"upstream slow", "GET", "/v1/users/1", "", status.Error(codes.DeadlineExceeded, "deadline"), 504, "timed out"},
		{"upstream bug", "GET", "/v1/users/1", "", status.Error(codes.Internal, "nil pointer at store.go:12"), 502, "users service failed"},
		{"wrong method", "DELETE", "/v1/users/1", "", nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := &fakeUsers{err: tt.upstreamErr}
			handler := NewHandler(users, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("got %d %s, want %d containing %s", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
			if rec.Code >= 400 && rec.Code != 405 {
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == "" {
					t.Errorf("error body %q is not JSON with an error field", rec.Body.String())
				}
				if strings.Contains(rec.Body.String(), "store.go") {
					t.Errorf("internal details leaked: %s", rec.Body.String())
				}
			}
			if retryAfter := rec.Header().Get("Retry-After"); (rec.Code == http.StatusServiceUnavailable) != (retryAfter == "1") {
				t.Errorf("status %d with Retry-After %q; want Retry-After: 1 on every 503 and on no other status", rec.Code, retryAfter)
			}
			if tt.path == "/v1/users/1" && tt.method == "GET" && !users.hadDeadline {
				t.Error("upstream call had no deadline")
			}
		})
	}
}

func TestCreateSetsLocation(t *testing.T) {
	handler := NewHandler(&fakeUsers{}, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	req := httptest.NewRequest(http.MethodPost, "/v1/users", strings.NewReader(`{"name":"B","email":"b@x.io"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if got := rec.Header().Get("Location"); got != "/v1/users/u-1" {
		t.Errorf("Location %q", got)
	}
}

// unreadable fails the test if anything reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the body of a request declared too large was read")
	return 0, io.EOF
}

func TestDeclaredOversizedBodyIsRefusedUnread(t *testing.T) {
	handler := NewHandler(&fakeUsers{}, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	req := httptest.NewRequest(http.MethodPost, "/v1/users", unreadable{t})
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = maxBodyBytes + 1
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "at most 16384 bytes") {
		t.Errorf("got %d %s, want 413 naming the limit", rec.Code, rec.Body.String())
	}
}
