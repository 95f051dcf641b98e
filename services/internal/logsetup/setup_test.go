package logsetup

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flotilla/services/internal/platform"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int // status codes, in order; the last one repeats
		wantErr   string
		wantCalls int32
	}{
		{name: "applied at once", answers: []int{200}, wantCalls: 1},
		{name: "retried while the service starts", answers: []int{503, 502, 200}, wantCalls: 3},
		{name: "rate limited, then applied", answers: []int{429, 201}, wantCalls: 2},
		{name: "a refused request fails at once", answers: []int{400}, wantErr: "refused with 400", wantCalls: 1},
		{name: "gives up at the deadline", answers: []int{503}, wantErr: "not applied before the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				if user, pass, ok := r.BasicAuth(); !ok || user != "elastic" || pass != "secret" {
					t.Errorf("request without the credentials: %q %q", user, pass)
				}
				if r.Header.Get("kbn-xsrf") == "" {
					t.Error("request without kbn-xsrf")
				}
				body, _ := io.ReadAll(r.Body)
				if !json.Valid(body) {
					t.Errorf("body %q is not JSON", body)
				}
				w.WriteHeader(tt.answers[min(n, len(tt.answers)-1)])
			}))
			defer server.Close()
			settings := Settings{ElasticsearchURL: server.URL, Username: "elastic", Password: "secret", RetryEvery: time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			requests := []Request{{Target: "elasticsearch", Method: http.MethodPut, Path: "/_index_template/t", Body: json.RawMessage(`{"a":1}`)}}
			err := Apply(ctx, server.Client(), settings, requests, slog.New(slog.DiscardHandler))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Apply: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Apply = %v, want an error with %q", err, tt.wantErr)
			}
			if tt.wantCalls > 0 && calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestApplyRefusesAnUnknownTarget(t *testing.T) {
	err := Apply(context.Background(), http.DefaultClient, Settings{ElasticsearchURL: "http://127.0.0.1:1"},
		[]Request{{Target: "kibana", Method: http.MethodPost, Path: "/api/data_views/data_view"}}, slog.New(slog.DiscardHandler))
	var configErr platform.ConfigError
	if !errors.As(err, &configErr) {
		t.Fatalf("Apply = %v, want a ConfigError for a target without a URL", err)
	}
}

func TestLoadSettingsReadsThePasswordFromAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "elastic")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(func(k string) string {
		return map[string]string{"ELASTICSEARCH_URL": "https://x", "ELASTICSEARCH_PASSWORD_FILE": file}[k]
	})
	if err != nil || s.Password != "s3cret" {
		t.Fatalf("LoadSettings = %q, %v; want the file's password without its newline", s.Password, err)
	}
}

func TestLoadSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "defaults", env: map[string]string{"ELASTICSEARCH_URL": "https://logs-es-http:9200"}},
		{name: "no Elasticsearch", env: map[string]string{}, wantErr: "ELASTICSEARCH_URL is required"},
		{name: "bad deadline", env: map[string]string{"ELASTICSEARCH_URL": "https://x", "DEADLINE": "soon"}, wantErr: "DEADLINE must be a positive duration"},
		{name: "missing password file", env: map[string]string{"ELASTICSEARCH_URL": "https://x", "ELASTICSEARCH_PASSWORD_FILE": "/nonexistent/elastic"}, wantErr: "ELASTICSEARCH_PASSWORD_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadSettings(func(k string) string { return tt.env[k] })
			if tt.wantErr == "" {
				if err != nil || s.Deadline != 10*time.Minute || s.RequestsFile != "/config/requests.json" || s.Username != "elastic" {
					t.Fatalf("LoadSettings = %+v, %v", s, err)
				}
				return
			}
			var configErr platform.ConfigError
			if !errors.As(err, &configErr) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadSettings error = %v, want a ConfigError with %q", err, tt.wantErr)
			}
		})
	}
}
