package users

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func sequentialIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("u-%03d", n) }
}

func mustParseSeed(t testing.TB, text string) []User {
	t.Helper()
	seed, err := ParseSeed([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

func mustUser(t testing.TB, id, name, email string) User {
	t.Helper()
	u, err := NewUser(id, name, email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNewUserValidates(t *testing.T) {
	tests := []struct {
		name, id, userName, email, wantField string
	}{
		{"valid", "u-1", "Bob", "bob@example.com", ""},
		{"trimmed", "u-1", "  Bob ", " bob2@example.com ", ""},
		{"no id", "", "Bob", "bob@example.com", "user_id"},
		{"long id", strings.Repeat("x", 65), "Bob", "bob@example.com", "user_id"},
		{"no name", "u-1", "", "x@example.com", "name"},
		{"blank name", "u-1", "   ", "x@example.com", "name"},
		{"long name", "u-1", strings.Repeat("é", 101), "x@example.com", "name"},
		{"no email", "u-1", "Bob", "", "email"},
		{"display name", "u-1", "Bob", "Bob <bob@example.com>", "email"},
		{"no at", "u-1", "Bob", "bob.example.com", "email"},
		{"too long", "u-1", "Bob", strings.Repeat("a", 250) + "@x.io", "email"},
		{"bad utf-8", "u-1", "B\xffb", "b@example.com", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUser(tt.id, tt.userName, tt.email)
			var invalid *InvalidError
			switch {
			case tt.wantField == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantField != "" && (!errors.As(err, &invalid) || invalid.Field != tt.wantField):
				t.Fatalf("error %v, want an InvalidError on %s", err, tt.wantField)
			}
		})
	}
}

func TestParseSeed(t *testing.T) {
	tests := []struct {
		name, seed, wantErr string
		wantLen             int
	}{
		{"the design's user", defaultSeed, "", 1},
		{"not JSON", `[{`, "seed:", 0},
		{"unknown field", `[{"id":"1","name":"A","email":"a@example.com","age":3}]`, "unknown field", 0},
		{"invalid entry", `[{"id":"1","name":"A","email":"a@example.com"},{"id":"2","name":"","email":"b@example.com"}]`, "seed[1]: name", 0},
		{"duplicate email", `[{"id":"1","name":"A","email":"a@example.com"},{"id":"2","name":"B","email":"A@example.com"}]`, "seed[1]: email already registered", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, err := ParseSeed([]byte(tt.seed))
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ParseSeed error %v, want %q", err, tt.wantErr)
			}
			if len(seed) != tt.wantLen {
				t.Errorf("%d users parsed, want %d", len(seed), tt.wantLen)
			}
		})
	}
}

func TestMemoryStore(t *testing.T) {
	storeSuite(t, func(t *testing.T) Store { return NewMemoryStore() })
}

// storeSuite is what every Store must do; each case gets an empty store from newStore.
func storeSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"gets what it inserted, and nothing else", func(t *testing.T, s Store) {
			want := mustUser(t, "u-1", "Ann", "ann@example.com")
			if err := s.Insert(ctx, want); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, "u-1"); err != nil || got != want {
				t.Fatalf("Get = %v, %v; want %v", got, err, want)
			}
			if _, err := s.Get(ctx, "u-2"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of a missing id: %v, want ErrNotFound", err)
			}
		}},
		{"keeps emails unique whatever their case", func(t *testing.T, s Store) {
			if err := s.Insert(ctx, mustUser(t, "u-1", "Ann", "ann@example.com")); err != nil {
				t.Fatal(err)
			}
			if err := s.Insert(ctx, mustUser(t, "u-2", "Ann 2", "ANN@example.com")); !errors.Is(err, ErrExists) {
				t.Fatalf("second registration: %v, want ErrExists", err)
			}
			if _, err := s.Get(ctx, "u-2"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("the refused user was stored: %v", err)
			}
		}},
		{"pages in bytewise id order, with the same keys", func(t *testing.T, s Store) {
			ids := []string{"u-007", "B", "a", "é", "z", "u-001", "Z9", "u-010"}
			for i, id := range ids {
				if err := s.Insert(ctx, mustUser(t, id, "N", fmt.Sprintf("p%d@example.com", i))); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				page, more, err := s.List(ctx, after, 3)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range page {
					got = append(got, u.ID)
				}
				if !more {
					break
				}
				after = page[len(page)-1].ID
				if pages > len(ids) {
					t.Fatal("pagination does not end")
				}
			}
			want := slices.Clone(ids)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("pages gave %v, want %v", got, want)
			}
			if page, more, err := s.List(ctx, want[len(want)-1], 3); err != nil || len(page) != 0 || more {
				t.Errorf("after the last id: %v %v %v", page, more, err)
			}
		}},
		{"seeds all or none, and a second time changes nothing", func(t *testing.T, s Store) {
			seed := mustParseSeed(t, `[{"id":"1","name":"Alice","email":"alice@example.com"},{"id":"2","name":"Bob","email":"bob@example.com"}]`)
			for range 2 {
				if err := s.Seed(ctx, seed); err != nil {
					t.Fatal(err)
				}
			}
			page, _, err := s.List(ctx, "", 10)
			if err != nil || len(page) != 2 {
				t.Fatalf("after seeding twice: %v %v", page, err)
			}
			clash := mustParseSeed(t, `[{"id":"3","name":"Carol","email":"carol@example.com"},{"id":"4","name":"Al","email":"ALICE@example.com"}]`)
			if err := s.Seed(ctx, clash); !errors.Is(err, ErrExists) {
				t.Fatalf("a seed whose email is taken: %v, want ErrExists", err)
			}
			if _, err := s.Get(ctx, "3"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("a refused seed added some of its users: %v", err)
			}
		}},
		{"gives one success to 50 concurrent creates of one email", func(t *testing.T, s Store) {
			var wg sync.WaitGroup
			errs := make([]error, 50)
			for i := range errs {
				wg.Go(func() { errs[i] = s.Insert(ctx, mustUser(t, fmt.Sprintf("r-%02d", i), "Racer", "race@example.com")) })
			}
			wg.Wait()
			won, lost := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, ErrExists):
					lost++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if won != 1 || lost != 49 {
				t.Errorf("%d created and %d refused, want 1 and 49", won, lost)
			}
		}},
		{"serves readers and writers at once", func(t *testing.T, s Store) {
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 25 {
						u := mustUser(t, fmt.Sprintf("c-%d-%02d", w, i), "N", fmt.Sprintf("w%d-%d@example.com", w, i))
						if err := s.Insert(ctx, u); err != nil {
							t.Error(err)
							return
						}
						if _, err := s.Get(ctx, u.ID); err != nil {
							t.Error(err)
						}
						if _, _, err := s.List(ctx, "", 10); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			page, _, err := s.List(ctx, "", 500)
			if err != nil || len(page) != 200 {
				t.Errorf("%d users (%v), want 200", len(page), err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

func BenchmarkMemoryGet(b *testing.B) {
	ctx := context.Background()
	store := NewMemoryStore()
	for i := range 1000 {
		if err := store.Insert(ctx, mustUser(b, fmt.Sprintf("u-%03d", i), "N", fmt.Sprintf("b%d@example.com", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := store.Get(ctx, "u-500"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
