package users

import (
	"context"
	"encoding/base64"
	"errors"

	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// Server implements UserService over a Store: it validates requests, names new users with newID
// and maps the store's errors to gRPC codes.
type Server struct {
	usersv1.UnimplementedUserServiceServer
	store Store
	newID func() string
}

func NewServer(store Store, newID func() string) *Server { return &Server{store: store, newID: newID} }

func (s *Server) GetUser(ctx context.Context, req *usersv1.UserRequest) (*usersv1.UserResponse, error) {
	if err := validateID(req.GetUserId()); err != nil {
		return nil, toStatus(err)
	}
	u, err := s.store.Get(ctx, req.GetUserId())
	if err != nil {
		return nil, toStatus(err)
	}
	return toProto(u), nil
}

func (s *Server) ListUsers(ctx context.Context, req *usersv1.ListUsersRequest) (*usersv1.ListUsersResponse, error) {
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, status.Error(codes.InvalidArgument, "page_size: must not be negative")
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	after, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "page_token: not a token this server issued")
	}
	page, more, err := s.store.List(ctx, after, size)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &usersv1.ListUsersResponse{Users: make([]*usersv1.UserResponse, len(page))}
	for i, u := range page {
		resp.Users[i] = toProto(u)
	}
	if more && len(page) > 0 {
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].ID))
	}
	return resp, nil
}

func (s *Server) CreateUser(ctx context.Context, req *usersv1.CreateUserRequest) (*usersv1.UserResponse, error) {
	u, err := NewUser(s.newID(), req.GetName(), req.GetEmail())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.store.Insert(ctx, u); err != nil {
		return nil, toStatus(err)
	}
	return toProto(u), nil
}

func decodePageToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	after, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || validateID(string(after)) != nil {
		return "", errors.New("bad token")
	}
	return string(after), nil
}

func toProto(u User) *usersv1.UserResponse {
	return &usersv1.UserResponse{UserId: u.ID, Name: u.Name, Email: u.Email}
}

func toStatus(err error) error {
	var invalid *InvalidError
	switch {
	case errors.As(err, &invalid):
		return status.Error(codes.InvalidArgument, invalid.Error())
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, ErrUnavailable):
		// Nothing was changed: the gateway retries reads on UNAVAILABLE, and a client may retry a create.
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, ErrOutcomeUnknown):
		// Never retried for the client: it must look before it creates again.
		return status.Error(codes.Unknown, "the create may or may not have been applied: read before retrying")
	default:
		return status.Error(codes.Internal, "internal error")
	}
}
