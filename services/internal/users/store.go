// Package users is the user directory behind the UserService gRPC API: the server that validates
// requests and maps errors to gRPC codes, over a Store that keeps the users: in memory (one copy
// per process, for tests and a run without a database) or in PostgreSQL (shared by every replica).
package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// User is one entry of the directory.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

var (
	ErrNotFound = errors.New("user not found")
	ErrExists   = errors.New("email already registered")
	// ErrUnavailable: the store could not be asked; nothing was changed, so the call may be retried.
	ErrUnavailable = errors.New("store unavailable")
	// ErrOutcomeUnknown: a write was sent and its answer lost; it may or may not have been applied.
	ErrOutcomeUnknown = errors.New("the write may or may not have been applied")
)

// InvalidError says which field of a request is wrong and why.
type InvalidError struct{ Field, Reason string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// Store keeps users in id order (bytewise). Implementations: MemoryStore and PostgresStore; both
// pass the same suite (storeSuite in store_test.go).
type Store interface {
	// Get returns the user with id, or ErrNotFound.
	Get(ctx context.Context, id string) (User, error)
	// List returns up to limit users with ids after `after`, and whether more follow.
	List(ctx context.Context, after string, limit int) ([]User, bool, error)
	// Insert adds u, whose fields are valid; ErrExists when its email is taken, whatever its case.
	Insert(ctx context.Context, u User) error
	// Seed adds users that are not there yet (by id), all or none; a seed applied twice changes nothing.
	Seed(ctx context.Context, users []User) error
}

// NewUser trims and validates a user's fields.
func NewUser(id, name, email string) (User, error) {
	u := User{ID: id, Name: strings.TrimSpace(name), Email: strings.TrimSpace(email)}
	if err := validateID(u.ID); err != nil {
		return User{}, err
	}
	if err := validateUser(u.Name, u.Email); err != nil {
		return User{}, err
	}
	return u, nil
}

// ParseSeed reads a JSON array of {"id","name","email"}, every entry valid and no email twice.
func ParseSeed(data []byte) ([]User, error) {
	var seed []User
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	emails := map[string]bool{}
	for i, u := range seed {
		if _, err := NewUser(u.ID, u.Name, u.Email); err != nil {
			return nil, fmt.Errorf("seed[%d]: %w", i, err)
		}
		if key := strings.ToLower(u.Email); emails[key] {
			return nil, fmt.Errorf("seed[%d]: %w: %s", i, ErrExists, u.Email)
		} else {
			emails[key] = true
		}
	}
	return seed, nil
}

func validateID(id string) error {
	switch {
	case id == "":
		return &InvalidError{"user_id", "is required"}
	case len(id) > 64 || !utf8.ValidString(id):
		return &InvalidError{"user_id", "must be valid UTF-8 of at most 64 bytes"}
	}
	return nil
}

func validateUser(name, email string) error {
	switch {
	case name == "":
		return &InvalidError{"name", "is required"}
	case utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name):
		return &InvalidError{"name", "must be valid UTF-8 of at most 100 characters"}
	case len(email) > 254:
		return &InvalidError{"email", "must be at most 254 characters"}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return &InvalidError{"email", "must be a plain address such as alice@example.com"}
	}
	return nil
}
