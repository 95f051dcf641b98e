package platform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// platformFile is what the platform and the GoService component must agree on: the variables
// the component sets on every service and the defaults of both. The component reads it; this
// test holds the Go side to it.
var platformFile = filepath.Join("..", "..", "..", "components", "apps", "platform.json")

// readContract decodes one of the JSON files the services share with the components.
func readContract(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestPlatformContract(t *testing.T) {
	var contract struct {
		Variables map[string]string `json:"variables"`
		Defaults  struct {
			Environment            string `json:"environment"`
			Port                   int    `json:"port"`
			OpsPort                int    `json:"opsPort"`
			DebugPort              int    `json:"debugPort"`
			ShutdownTimeoutSeconds int    `json:"shutdownTimeoutSeconds"`
		} `json:"defaults"`
	}
	readContract(t, platformFile, &contract)

	t.Run("defaults", func(t *testing.T) {
		d, got := contract.Defaults, DefaultConfig("svc")
		want := Config{
			Environment:     d.Environment,
			ListenAddr:      ":" + strconv.Itoa(d.Port),
			OpsAddr:         ":" + strconv.Itoa(d.OpsPort),
			DebugAddr:       "127.0.0.1:" + strconv.Itoa(d.DebugPort),
			ShutdownTimeout: time.Duration(d.ShutdownTimeoutSeconds) * time.Second,
		}
		if got.Environment != want.Environment || got.ListenAddr != want.ListenAddr || got.OpsAddr != want.OpsAddr ||
			got.DebugAddr != want.DebugAddr || got.ShutdownTimeout != want.ShutdownTimeout {
			t.Errorf("DefaultConfig = %+v, the contract says %+v", got, want)
		}
	})

	// Each variable the component sets, with a value of its own, reaches the field it names.
	tests := []struct {
		variable string
		value    string
		read     func(Config) string
	}{
		{"serviceName", "contract-service", func(c Config) string { return c.ServiceName }},
		{"environment", "staging", func(c Config) string { return c.Environment }},
		{"listenAddr", ":9191", func(c Config) string { return c.ListenAddr }},
		{"opsAddr", ":9192", func(c Config) string { return c.OpsAddr }},
		{"debugAddr", "127.0.0.1:9193", func(c Config) string { return c.DebugAddr }},
		{"drainPeriod", "3s", func(c Config) string { return c.DrainPeriod.String() }},
		{"shutdownTimeout", "7s", func(c Config) string { return c.ShutdownTimeout.String() }},
	}
	if len(tests) != len(contract.Variables) {
		t.Fatalf("the contract names %d variables, this test %d: %v", len(contract.Variables), len(tests), contract.Variables)
	}
	for _, tt := range tests {
		t.Run(tt.variable, func(t *testing.T) {
			name, ok := contract.Variables[tt.variable]
			if !ok {
				t.Fatalf("the contract has no variable %q", tt.variable)
			}
			cfg, err := LoadConfig("svc", func(key string) string {
				if key == name {
					return tt.value
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.read(cfg); got != tt.value {
				t.Errorf("%s=%s read as %q", name, tt.value, got)
			}
		})
	}
}
