package users

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore keeps users in this process: each replica has its own copy, lost when it stops. For
// tests and a users run without a database. Reads take a shared lock, so lookups scale across cores.
type MemoryStore struct {
	mu      sync.RWMutex
	byID    map[string]User
	byEmail map[string]string
	ids     []string // sorted
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{byID: map[string]User{}, byEmail: map[string]string{}}
}

func (s *MemoryStore) Get(_ context.Context, id string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return User{}, ErrNotFound
	}
	return u, nil
}

func (s *MemoryStore) List(_ context.Context, after string, limit int) ([]User, bool, error) {
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
	return page, end < len(s.ids), nil
}

func (s *MemoryStore) Insert(_ context.Context, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insertLocked(u)
}

func (s *MemoryStore) insertLocked(u User) error {
	key := strings.ToLower(u.Email)
	if _, taken := s.byEmail[key]; taken {
		return ErrExists
	}
	if _, taken := s.byID[u.ID]; taken {
		return fmt.Errorf("id %q is taken", u.ID)
	}
	s.byID[u.ID] = u
	s.byEmail[key] = u.ID
	i, _ := slices.BinarySearch(s.ids, u.ID)
	s.ids = slices.Insert(s.ids, i, u.ID)
	return nil
}

func (s *MemoryStore) Seed(_ context.Context, users []User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var fresh []User
	for i, u := range users {
		if _, there := s.byID[u.ID]; there {
			continue
		}
		if _, taken := s.byEmail[strings.ToLower(u.Email)]; taken {
			return fmt.Errorf("seed[%d]: %w: %s", i, ErrExists, u.Email)
		}
		fresh = append(fresh, u)
	}
	for _, u := range fresh {
		if err := s.insertLocked(u); err != nil {
			return err
		}
	}
	return nil
}

// Len is the number of users.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids)
}
