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

// Server implements UserService over a Store.
type Server struct {
	usersv1.UnimplementedUserServiceServer
	store *Store
}

func NewServer(store *Store) *Server { return &Server{store: store} }

func (s *Server) GetUser(_ context.Context, req *usersv1.UserRequest) (*usersv1.UserResponse, error) {
	u, err := s.store.Get(req.GetUserId())
	if err != nil {
		return nil, toStatus(err)
	}
	return toProto(u), nil
}

func (s *Server) ListUsers(_ context.Context, req *usersv1.ListUsersRequest) (*usersv1.ListUsersResponse, error) {
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
	page, more := s.store.List(after, size)
	resp := &usersv1.ListUsersResponse{Users: make([]*usersv1.UserResponse, len(page))}
	for i, u := range page {
		resp.Users[i] = toProto(u)
	}
	if more && len(page) > 0 {
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].ID))
	}
	return resp, nil
}

func (s *Server) CreateUser(_ context.Context, req *usersv1.CreateUserRequest) (*usersv1.UserResponse, error) {
	u, err := s.store.Create(req.GetName(), req.GetEmail())
	if err != nil {
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
	default:
		return status.Error(codes.Internal, "internal error")
	}
}
