package users

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func sequentialIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("u-%03d", n) }
}

func TestCreateValidates(t *testing.T) {
	tests := []struct {
		name, userName, email, wantField string
	}{
		{"valid", "Bob", "bob@example.com", ""},
		{"trimmed", "  Bob ", " bob2@example.com ", ""},
		{"no name", "", "x@example.com", "name"},
		{"blank name", "   ", "x@example.com", "name"},
		{"long name", strings.Repeat("é", 101), "x@example.com", "name"},
		{"no email", "Bob", "", "email"},
		{"display name", "Bob", "Bob <bob@example.com>", "email"},
		{"no at", "Bob", "bob.example.com", "email"},
		{"too long", "Bob", strings.Repeat("a", 250) + "@x.io", "email"},
		{"bad utf-8", "B\xffb", "b@example.com", "name"},
	}
	store := NewStore(sequentialIDs())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Create(tt.userName, tt.email)
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

func TestEmailsAreUniqueIgnoringCase(t *testing.T) {
	store := NewStore(sequentialIDs())
	if _, err := store.Create("Ann", "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create("Ann 2", "ANN@example.com"); !errors.Is(err, ErrExists) {
		t.Fatalf("second registration: %v, want ErrExists", err)
	}
}

func TestListPages(t *testing.T) {
	store := NewStore(sequentialIDs())
	for i := range 7 {
		if _, err := store.Create(fmt.Sprintf("User %d", i), fmt.Sprintf("u%d@example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		page, more := store.List(after, 3)
		for _, u := range page {
			all = append(all, u.ID)
		}
		if !more {
			break
		}
		after = page[len(page)-1].ID
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if got := strings.Join(all, ","); got != "u-001,u-002,u-003,u-004,u-005,u-006,u-007" {
		t.Errorf("pages gave %s", got)
	}
}

func TestSeed(t *testing.T) {
	tests := []struct {
		name, seed, wantErr string
		wantLen             int
	}{
		{"the design's user", defaultSeed, "", 1},
		{"not JSON", `[{`, "seed:", 0},
		{"unknown field", `[{"id":"1","name":"A","email":"a@example.com","age":3}]`, "unknown field", 0},
		{"invalid entry leaves the store empty", `[{"id":"1","name":"A","email":"a@example.com"},{"id":"2","name":"","email":"b@example.com"}]`, "seed[1]: name", 0},
		{"duplicate email", `[{"id":"1","name":"A","email":"a@example.com"},{"id":"2","name":"B","email":"a@example.com"}]`, "seed[1]", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewStore(sequentialIDs())
			err := store.Seed([]byte(tt.seed))
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Seed error %v, want %q", err, tt.wantErr)
			}
			if store.Len() != tt.wantLen {
				t.Errorf("%d users after seeding, want %d", store.Len(), tt.wantLen)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	store := NewStore(func() string { return "" })
	var mu sync.Mutex
	n := 0
	store.newID = func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("c-%04d", n) }
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				u, err := store.Create("N", fmt.Sprintf("w%d-%d@example.com", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := store.Get(u.ID); err != nil {
					t.Error(err)
				}
				store.List("", 10)
			}
		})
	}
	wg.Wait()
	if store.Len() != 400 {
		t.Errorf("%d users, want 400", store.Len())
	}
}

func BenchmarkGet(b *testing.B) {
	store := NewStore(sequentialIDs())
	for i := range 1000 {
		if _, err := store.Create("N", fmt.Sprintf("b%d@example.com", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := store.Get("u-500"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
