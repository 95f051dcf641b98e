package platform

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(Config) bool
		wantErr []string
	}{
		{name: "defaults", env: nil, want: func(c Config) bool {
			return c.ListenAddr == ":8080" && c.OpsAddr == ":8081" && c.DebugAddr == "127.0.0.1:6060" && c.DrainPeriod == 0 && c.ShutdownTimeout == 20*time.Second &&
				c.LogLevel == slog.LevelInfo && c.MaxInFlight == 256 && c.MaxConnections == 1024
		}},
		{name: "everything set", env: map[string]string{
			"SERVICE_NAME": "orders", "ENVIRONMENT": "prod", "LISTEN_ADDR": ":9090", "OPS_ADDR": "0.0.0.0:9091",
			"DEBUG_ADDR": "127.0.0.1:7070", "DRAIN_PERIOD": "5s", "SHUTDOWN_TIMEOUT": "45s", "LOG_LEVEL": "debug", "MAX_IN_FLIGHT": "64", "MAX_CONNECTIONS": "500",
		}, want: func(c Config) bool {
			return c.ServiceName == "orders" && c.Environment == "prod" && c.ListenAddr == ":9090" && c.DrainPeriod == 5*time.Second && c.ShutdownTimeout == 45*time.Second && c.LogLevel == slog.LevelDebug &&
				c.MaxInFlight == 64 && c.MaxConnections == 500
		}},
		{name: "address without port", env: map[string]string{"LISTEN_ADDR": "localhost"}, wantErr: []string{`LISTEN_ADDR="localhost": not a host:port`}},
		{name: "bad port", env: map[string]string{"OPS_ADDR": ":http-alt-x"}, wantErr: []string{`OPS_ADDR=":http-alt-x": bad port`}},
		{name: "timeout not a duration", env: map[string]string{"SHUTDOWN_TIMEOUT": "20"}, wantErr: []string{`SHUTDOWN_TIMEOUT="20": not a duration`}},
		{name: "timeout too long", env: map[string]string{"SHUTDOWN_TIMEOUT": "1h"}, wantErr: []string{"at most 10m"}},
		{name: "no drain", env: map[string]string{"DRAIN_PERIOD": "0s"}, want: func(c Config) bool { return c.DrainPeriod == 0 }},
		{name: "negative drain", env: map[string]string{"DRAIN_PERIOD": "-1s"}, wantErr: []string{`DRAIN_PERIOD="-1s": must be 0 or more and at most 10m`}},
		{name: "no shutdown time", env: map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, wantErr: []string{`SHUTDOWN_TIMEOUT="0s": must be above 0 and at most 10m`}},
		{name: "unknown level", env: map[string]string{"LOG_LEVEL": "verbose"}, wantErr: []string{`LOG_LEVEL="verbose"`}},
		{name: "in-flight limit of zero", env: map[string]string{"MAX_IN_FLIGHT": "0"}, wantErr: []string{`MAX_IN_FLIGHT="0": must be a whole number from 1 to 100000`}},
		{name: "connection limit not a number", env: map[string]string{"MAX_CONNECTIONS": "lots"}, wantErr: []string{`MAX_CONNECTIONS="lots": must be a whole number from 1 to 100000`}},
		{name: "same address twice", env: map[string]string{"OPS_ADDR": ":8080"}, wantErr: []string{"must differ"}},
		{name: "every problem at once", env: map[string]string{"LISTEN_ADDR": "x", "LOG_LEVEL": "loud"}, wantErr: []string{"LISTEN_ADDR", "LOG_LEVEL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig("users", func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; want one mentioning %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.want(cfg) {
				t.Errorf("config %+v is not what was asked for", cfg)
			}
		})
	}
}
