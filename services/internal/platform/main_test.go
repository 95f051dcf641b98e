package platform

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestMainExitCodes(t *testing.T) {
	keepRecording(t)
	tests := []struct {
		name       string
		env        map[string]string
		appErr     error
		wantCode   int
		wantStderr string
	}{
		{"clean stop", nil, nil, ExitOK, ""},
		{"bad platform setting", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, nil, ExitConfig, `SHUTDOWN_TIMEOUT="soon"`},
		{"bad service setting", nil, ConfigError{Err: errors.New(`USERS_TIMEOUT="x": must be a duration`)}, ExitConfig, "USERS_TIMEOUT"},
		{"failure while serving", nil, errors.New("listen: address in use"), ExitFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			app := func(context.Context, Config, func(string) string, *slog.Logger) error { return tt.appErr }
			code := Main(context.Background(), "svc", app, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
