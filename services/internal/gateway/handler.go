package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"flotilla/services/internal/platform"
	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// User is the JSON form of a user.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Handler serves the /v1/users routes against a UserService client.
type Handler struct {
	users   usersv1.UserServiceClient
	timeout time.Duration
	log     *slog.Logger
}

// NewHandler returns the API's routes; each upstream call gets at most timeout.
func NewHandler(users usersv1.UserServiceClient, timeout time.Duration, log *slog.Logger) http.Handler {
	h := &Handler{users: users, timeout: timeout, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users/{id}", h.getUser)
	mux.HandleFunc("GET /v1/users", h.listUsers)
	mux.HandleFunc("POST /v1/users", h.createUser)
	return mux
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	resp, err := h.users.GetUser(ctx, &usersv1.UserRequest{UserId: r.PathValue("id")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fromProto(resp))
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	size := 0
	if v := query.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			h.fail(w, r, &requestError{http.StatusBadRequest, "page_size must be a whole number from 1 to 500"})
			return
		}
		size = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	resp, err := h.users.ListUsers(ctx, &usersv1.ListUsersRequest{PageSize: int32(size), PageToken: query.Get("page_token")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body := struct {
		Users         []User `json:"users"`
		NextPageToken string `json:"next_page_token,omitempty"`
	}{Users: make([]User, len(resp.GetUsers())), NextPageToken: resp.GetNextPageToken()}
	for i, u := range resp.GetUsers() {
		body.Users[i] = fromProto(u)
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > maxBodyBytes {
		// Declared too large: refused before a byte of it is read or decoded. A body without a
		// length (chunked) is cut by MaxBytesReader below instead.
		h.fail(w, r, bodyError(&http.MaxBytesError{Limit: maxBodyBytes}))
		return
	}
	req, err := decodeCreateUser(r.Header.Get("Content-Type"), http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	resp, err := h.users.CreateUser(ctx, &usersv1.CreateUserRequest{Name: req.Name, Email: req.Email})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/users/"+resp.GetUserId())
	writeJSON(w, http.StatusCreated, fromProto(resp))
}

// retryAfterSeconds is what every 503 of the gateway tells callers to wait: its own shedding's
// and users' (down or shedding through every retry).
const retryAfterSeconds = 1

// fail answers with a JSON error; upstream failures are logged, client mistakes are not.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, message := httpStatus(err)
	if code >= 500 {
		h.log.WarnContext(r.Context(), "upstream call failed", "err", err, "status", code)
	}
	if code == http.StatusServiceUnavailable {
		// users was down or shedding through every retry: tell the caller when to come back,
		// as the gateway's own shedding does.
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	writeJSON(w, code, map[string]string{"error": message, "request_id": platform.RequestID(r.Context())})
}

// httpStatus maps an error to the HTTP status and the message a client may see.
func httpStatus(err error) (int, string) {
	var re *requestError
	if errors.As(err, &re) {
		return re.status, re.message
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest, st.Message()
	case codes.NotFound:
		return http.StatusNotFound, st.Message()
	case codes.AlreadyExists:
		return http.StatusConflict, st.Message()
	case codes.FailedPrecondition:
		return http.StatusPreconditionFailed, st.Message()
	case codes.Unauthenticated:
		return http.StatusUnauthorized, "unauthenticated"
	case codes.PermissionDenied:
		return http.StatusForbidden, "permission denied"
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests, "too many requests"
	case codes.Canceled:
		return 499, "request canceled" // nginx's client-closed-request: the client is gone anyway
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, "users service timed out"
	case codes.Unavailable:
		return http.StatusServiceUnavailable, "users service unavailable"
	case codes.Unimplemented:
		return http.StatusNotImplemented, "not implemented"
	default:
		return http.StatusBadGateway, "users service failed"
	}
}

func fromProto(u *usersv1.UserResponse) User {
	return User{ID: u.GetUserId(), Name: u.GetName(), Email: u.GetEmail()}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
