package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// logFieldsFile is the contract between the services' log lines and the log pipeline: the
// Logging component's index template and collector parser are built from the same file.
var logFieldsFile = filepath.Join("..", "..", "..", "components", "logging", "logFields.json")

// TestLogLineFields holds a request's log line to that contract: every field it promises is in
// the line, the time parses with the collector's format, and the contract lists nothing the
// services do not write.
func TestLogLineFields(t *testing.T) {
	var contract struct {
		TimeKey string                    `json:"timeKey"`
		Fields  map[string]map[string]any `json:"fields"`
	}
	readContract(t, logFieldsFile, &contract)

	var out bytes.Buffer
	log := NewLogger(&out, Config{ServiceName: "gateway", Environment: "dev"})
	log.InfoContext(withRequestID(inTrace(context.Background()), "req-1"), "request", "status", 200)
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, out.String())
	}

	var missing []string
	for field := range contract.Fields {
		if _, ok := line[field]; !ok {
			missing = append(missing, field)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("log line lacks the contract's fields %v: %s", missing, out.String())
	}
	stamp, ok := line[contract.TimeKey].(string)
	if !ok {
		t.Fatalf("time key %q is not a string in %s", contract.TimeKey, out.String())
	}
	// The collector's Time_Format (%Y-%m-%dT%H:%M:%S.%L%z) reads RFC 3339 with fractional seconds.
	if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", stamp, err)
	}
}
