package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeCreateUser(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantStatus              int
		wantMessage             string
	}{
		{"valid", "application/json", `{"name":"Bob","email":"bob@example.com"}`, 0, ""},
		{"charset parameter", "application/json; charset=utf-8", `{"name":"Bob","email":"b@x.io"}`, 0, ""},
		{"wrong media type", "text/plain", `{"name":"Bob"}`, 415, "Content-Type must be application/json"},
		{"no media type", "", `{}`, 415, "Content-Type"},
		{"empty body", "application/json", ``, 400, "body is empty"},
		{"truncated", "application/json", `{"name":"Bob",`, 400, "body ends early"},
		{"syntax error", "application/json", `{"name":Bob}`, 400, "malformed JSON at byte"},
		{"wrong type", "application/json", `{"name":42}`, 400, `field "name" must be a string`},
		{"unknown field", "application/json", `{"name":"Bob","admin":true}`, 400, `unknown field "admin"`},
		{"two objects", "application/json", `{"name":"a"}{"name":"b"}`, 400, "single JSON object"},
		{"array", "application/json", `[1,2]`, 400, "must be a"},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "at most 16384 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			_, err := decodeCreateUser(tt.contentType, http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(tt.body)), maxBodyBytes))
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var re *requestError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a requestError", err)
			}
			if re.status != tt.wantStatus || !strings.Contains(re.message, tt.wantMessage) {
				t.Errorf("got %d %q, want %d containing %q", re.status, re.message, tt.wantStatus, tt.wantMessage)
			}
		})
	}
}

// FuzzDecodeCreateUser: whatever the bytes, decoding either succeeds or fails with a client
// error (4xx) and a message; it never panics and never blames the server.
func FuzzDecodeCreateUser(f *testing.F) {
	for _, seed := range []string{`{"name":"Bob","email":"bob@example.com"}`, `{"name":`, `[]`, `{"name":"\u00e9"}`, `null`, `{"email":1e999}`} {
		f.Add("application/json", []byte(seed))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		rec := httptest.NewRecorder()
		req, err := decodeCreateUser(contentType, http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader(body)), maxBodyBytes))
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status < 400 || re.status > 499 || re.message == "" {
				t.Fatalf("error %#v for %q is not a client error with a message", err, body)
			}
			return
		}
		if !utf8.ValidString(req.Name) || !utf8.ValidString(req.Email) {
			t.Fatalf("decoded invalid UTF-8 from %q", body)
		}
	})
}
