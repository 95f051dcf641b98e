// Package users is the user directory behind the UserService gRPC API: a concurrency-safe
// in-memory store and the server that validates requests and maps errors to gRPC codes.
package users

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
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
)

// InvalidError says which field of a request is wrong and why.
type InvalidError struct{ Field, Reason string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// Store keeps users in id order. Reads take a shared lock, so lookups scale across cores.
type Store struct {
	mu      sync.RWMutex
	byID    map[string]User
	byEmail map[string]string
	ids     []string // sorted
	newID   func() string
}

// NewStore returns an empty store that names new users with newID.
func NewStore(newID func() string) *Store {
	return &Store{byID: map[string]User{}, byEmail: map[string]string{}, newID: newID}
}

// Get returns the user with id.
func (s *Store) Get(id string) (User, error) {
	if err := validateID(id); err != nil {
		return User{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return User{}, ErrNotFound
	}
	return u, nil
}

// List returns up to limit users with ids after `after`, and whether more follow.
func (s *Store) List(after string, limit int) ([]User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	start, found := slices.BinarySearch(s.ids, after)
	if found {
		start++
	}
	end := min(start+limit, len(s.ids))
	page := make([]User, 0, end-start)
	for _, id := range s.ids[start:end] {
		page = append(page, s.byID[id])
	}
	return page, end < len(s.ids)
}

// Create validates name and email and adds a user with a new id.
func (s *Store) Create(name, email string) (User, error) {
	name, email = strings.TrimSpace(name), strings.TrimSpace(email)
	if err := validateUser(name, email); err != nil {
		return User{}, err
	}
	return s.add(User{ID: s.newID(), Name: name, Email: email})
}

func (s *Store) add(u User) (User, error) {
	key := strings.ToLower(u.Email)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.byEmail[key]; taken {
		return User{}, ErrExists
	}
	if _, taken := s.byID[u.ID]; taken {
		return User{}, fmt.Errorf("id %q is taken", u.ID)
	}
	s.byID[u.ID] = u
	s.byEmail[key] = u.ID
	i, _ := slices.BinarySearch(s.ids, u.ID)
	s.ids = slices.Insert(s.ids, i, u.ID)
	return u, nil
}

// Seed adds users from a JSON array of {"id","name","email"}, all or none.
func (s *Store) Seed(data []byte) error {
	var seed []User
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	for i, u := range seed {
		if err := validateID(u.ID); err != nil {
			return fmt.Errorf("seed[%d]: %w", i, err)
		}
		if err := validateUser(u.Name, u.Email); err != nil {
			return fmt.Errorf("seed[%d]: %w", i, err)
		}
	}
	for i, u := range seed {
		if _, err := s.add(u); err != nil {
			return fmt.Errorf("seed[%d]: %w", i, err)
		}
	}
	return nil
}

// Len is the number of users.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids)
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
