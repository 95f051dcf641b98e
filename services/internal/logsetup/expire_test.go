package logsetup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"flotilla/services/internal/platform"
)

func TestExpired(t *testing.T) {
	// 2026-12-06 at 00:30 UTC: an index's day counts in UTC whatever the clock's zone.
	now := time.Date(2026, 12, 6, 1, 30, 0, 0, time.FixedZone("CET", 3600))
	names := []string{
		"flotilla-jaeger-span-2026-12-06",
		"flotilla-jaeger-span-2026-12-03",
		"flotilla-jaeger-span-2026-12-02",
		"flotilla-jaeger-service-2026-11-30",
		"flotilla-jaeger-span-2025-12-31",
		"flotilla-jaeger-span-read",        // an alias-like name without a day: never expired
		"flotilla-jaeger-span-2026-13-01",  // not a date
		"flotilla-jaeger-span-2026-12-02x", // not at the end
	}
	tests := []struct {
		afterDays int
		want      []string
	}{
		// Three days after 12-02 ended is 12-06 00:00: 12-02 and older go, 12-03 stays.
		{afterDays: 3, want: []string{"flotilla-jaeger-span-2025-12-31", "flotilla-jaeger-service-2026-11-30", "flotilla-jaeger-span-2026-12-02"}},
		{afterDays: 7, want: []string{"flotilla-jaeger-span-2025-12-31"}},
		{afterDays: 1000, want: nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("after %d days", tt.afterDays), func(t *testing.T) {
			if got := Expired(names, tt.afterDays, now); !slices.Equal(got, tt.want) {
				t.Errorf("Expired = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadExpiry(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    *Expiry
		wantErr string
	}{
		{name: "unset: the Job applies requests", env: map[string]string{}},
		{name: "set", env: map[string]string{"EXPIRE_INDICES": "flotilla-jaeger-*", "EXPIRE_AFTER_DAYS": "3"}, want: &Expiry{Pattern: "flotilla-jaeger-*", AfterDays: 3}},
		{name: "no days", env: map[string]string{"EXPIRE_INDICES": "flotilla-jaeger-*"}, wantErr: "EXPIRE_AFTER_DAYS must be"},
		{name: "zero days", env: map[string]string{"EXPIRE_INDICES": "a-*", "EXPIRE_AFTER_DAYS": "0"}, wantErr: "EXPIRE_AFTER_DAYS must be"},
		{name: "every index", env: map[string]string{"EXPIRE_INDICES": "*", "EXPIRE_AFTER_DAYS": "3"}, wantErr: "EXPIRE_INDICES must be one index pattern"},
		{name: "two patterns", env: map[string]string{"EXPIRE_INDICES": "a-*,b-*", "EXPIRE_AFTER_DAYS": "3"}, wantErr: "EXPIRE_INDICES must be one index pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ELASTICSEARCH_URL": "https://x"}
			for k, v := range tt.env {
				env[k] = v
			}
			s, err := LoadSettings(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				var configErr platform.ConfigError
				if !errors.As(err, &configErr) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadSettings error = %v, want a ConfigError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadSettings: %v", err)
			}
			if (s.Expiry == nil) != (tt.want == nil) || (s.Expiry != nil && *s.Expiry != *tt.want) {
				t.Errorf("Expiry = %+v, want %+v", s.Expiry, tt.want)
			}
		})
	}
}

// fakeIndices answers _resolve/index with its names and deletes the ones a DELETE names,
// refusing wildcards as Elasticsearch does (action.destructive_requires_name).
type fakeIndices struct {
	mu          sync.Mutex
	names       []string
	deleteFails bool
}

func (f *fakeIndices) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/_resolve/index/"):
		var list []string
		for _, n := range f.names {
			list = append(list, fmt.Sprintf(`{"name":%q,"attributes":["open"]}`, n))
		}
		fmt.Fprintf(w, `{"indices":[%s],"aliases":[],"data_streams":[]}`, strings.Join(list, ","))
	case r.Method == http.MethodDelete && !strings.Contains(r.URL.Path, "*") && !f.deleteFails:
		for _, n := range strings.Split(strings.TrimPrefix(r.URL.Path, "/"), ",") {
			f.names = slices.DeleteFunc(f.names, func(have string) bool { return have == n })
		}
		fmt.Fprint(w, `{"acknowledged":true}`)
	default:
		http.Error(w, `{"error":"refused"}`, http.StatusForbidden)
	}
}

func TestExpire(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var names []string
	// 60 expired days, more than one DELETE's batch, and the four days kept.
	for day := range 64 {
		names = append(names, "flotilla-jaeger-span-"+now.AddDate(0, 0, -day).Format(time.DateOnly))
	}
	tests := []struct {
		name        string
		deleteFails bool
		wantErr     string
		wantLeft    int
	}{
		{name: "deletes every expired index, in batches", wantLeft: 4},
		{name: "a refused delete is an error", deleteFails: true, wantErr: "status 403", wantLeft: 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeIndices{names: slices.Clone(names), deleteFails: tt.deleteFails}
			server := httptest.NewServer(fake)
			defer server.Close()
			err := Expire(context.Background(), server.Client(), Settings{ElasticsearchURL: server.URL}, Expiry{Pattern: "flotilla-jaeger-*", AfterDays: 3}, now, slog.New(slog.DiscardHandler))
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Expire = %v, want error %q", err, tt.wantErr)
			}
			if len(fake.names) != tt.wantLeft {
				t.Errorf("%d indices left, want %d: %q", len(fake.names), tt.wantLeft, fake.names)
			}
		})
	}
}
