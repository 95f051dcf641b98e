// Package gateway is the public HTTP JSON API. It validates what it can itself, calls the users
// service over gRPC with deadlines, and turns gRPC status codes into HTTP ones.
package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxBodyBytes bounds request bodies: a user record is tiny, so anything larger is refused unread.
const maxBodyBytes = 16 << 10

// createUserRequest is the body of POST /v1/users.
type createUserRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// requestError is a client mistake: its status and a message safe to send back.
type requestError struct {
	status  int
	message string
}

func (e *requestError) Error() string { return e.message }

// decodeCreateUser reads a create request: JSON, one object, known fields only, within the size
// limit. Every failure is a *requestError; it never panics, whatever the bytes.
func decodeCreateUser(contentType string, body io.Reader) (createUserRequest, error) {
	var req createUserRequest
	if mediaType, _, err := mime.ParseMediaType(contentType); err != nil || mediaType != "application/json" {
		return req, &requestError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, bodyError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, bodyError(err)
		}
		return req, &requestError{http.StatusBadRequest, "body must hold a single JSON object"}
	}
	return req, nil
}

func bodyError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body must be at most %d bytes", tooLarge.Limit)}
	case errors.As(err, &syntax):
		return &requestError{http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)}
	case errors.As(err, &wrongType):
		return &requestError{http.StatusBadRequest, fmt.Sprintf("field %q must be a %s", wrongType.Field, wrongType.Type)}
	case errors.Is(err, io.EOF):
		return &requestError{http.StatusBadRequest, "body is empty; expected a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &requestError{http.StatusBadRequest, "malformed JSON: body ends early"}
	default:
		// Unknown fields and other decoder complaints name the field; the message is the decoder's.
		return &requestError{http.StatusBadRequest, "invalid body: " + err.Error()}
	}
}
