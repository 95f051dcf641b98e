package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"flotilla/services/internal/testnet"
)

// logLines collects a process's JSON log lines.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logLines) read(r io.Reader) {
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		var line map[string]any
		if json.Unmarshal(scanner.Bytes(), &line) == nil {
			l.mu.Lock()
			l.lines = append(l.lines, line)
			l.mu.Unlock()
		}
	}
}

// traceOf is the trace_id of the log line with msg and this request_id, or "" if none comes
// within 2 s (a request's line is written after its response is sent).
func (l *logLines) traceOf(msg, requestID string) string {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		for _, line := range l.lines {
			if line["msg"] == msg && line["request_id"] == requestID {
				l.mu.Unlock()
				trace, _ := line["trace_id"].(string)
				return trace
			}
		}
		l.mu.Unlock()
	}
	return ""
}

// traced is a service process that exports its spans: its environment and its log lines.
type traced struct {
	env  map[string]string
	logs *logLines
}

func (p traced) base() string { return "http://" + p.env["LISTEN_ADDR"] }

// startTraced runs a service binary exporting to receiver, every span sampled unless env says
// otherwise, its debug log lines (one per request or call) collected; SIGTERM at the end sends its
// last spans.
func startTraced(t *testing.T, bin string, receiver *testnet.OTLPReceiver, env map[string]string) traced {
	t.Helper()
	env = serviceEnv(t, env)
	cmd := exec.Command(bin)
	base := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.Endpoint, "OTEL_TRACES_SAMPLER": "parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY": "100", // milliseconds: spans reach the receiver while the test waits
		"LOG_LEVEL":               "debug",
	}
	for k, v := range base {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &logLines{}
	go logs.read(stdout)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	waitFor(t, env["OPS_ADDR"], "/healthz")
	return traced{env, logs}
}

// spansWithin waits up to 10 s for the receiver to hold at least n spans of trace.
func spansWithin(t *testing.T, receiver *testnet.OTLPReceiver, trace string, n int) []testnet.Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var spans []testnet.Span
		for _, s := range receiver.Spans() {
			if s.TraceID == trace {
				spans = append(spans, s)
			}
		}
		if len(spans) >= n || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// find is the one span of service and kind in spans, or fails the test.
func find(t *testing.T, spans []testnet.Span, service string, kind tracepb.Span_SpanKind) testnet.Span {
	t.Helper()
	for _, s := range spans {
		if s.Service == service && s.Kind == kind {
			return s
		}
	}
	t.Fatalf("no %s span of %s among %+v", kind, service, spans)
	return testnet.Span{}
}

// TestARequestIsOneTraceAcrossTheServices runs users and the gateway as processes exporting to an
// OTLP receiver: a request through the gateway is one trace of three parent-linked spans, the
// same trace as the request's log lines in both services; a failing request's spans are errors;
// the gateway's latency exemplar names a trace it exported; and a gateway that samples nothing
// exports nothing while serving as before.
func TestARequestIsOneTraceAcrossTheServices(t *testing.T) {
	receiver := testnet.StartOTLPReceiver(t)
	users := startTraced(t, buildService(t, "users"), receiver, map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=users-0"})
	gatewayBin := buildService(t, "gateway")
	gateway := startTraced(t, gatewayBin, receiver, map[string]string{"USERS_ADDR": users.env["LISTEN_ADDR"], "OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=gateway-0"})

	get := func(base, path, requestID string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("X-Request-Id", requestID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("a read is one trace of three spans, the logs' trace", func(t *testing.T) {
		if status := get(gateway.base(), "/v1/users/1", "trace-me-1"); status != http.StatusOK {
			t.Fatalf("GET /v1/users/1: %d", status)
		}
		trace := gateway.logs.traceOf("request", "trace-me-1")
		if trace == "" {
			t.Fatal("the gateway's request log line has no trace_id")
		}
		if got := users.logs.traceOf("call", "trace-me-1"); got != trace {
			t.Errorf("users' call log line is in trace %q, want the gateway's %q", got, trace)
		}
		spans := spansWithin(t, receiver, trace, 3)
		server := find(t, spans, "gateway", tracepb.Span_SPAN_KIND_SERVER)
		client := find(t, spans, "gateway", tracepb.Span_SPAN_KIND_CLIENT)
		callee := find(t, spans, "users", tracepb.Span_SPAN_KIND_SERVER)
		if server.Name != "GET /v1/users/{id}" || client.Name != "flotilla.users.v1.UserService/GetUser" || callee.Name != client.Name {
			t.Errorf("span names %q, %q, %q", server.Name, client.Name, callee.Name)
		}
		if server.ParentID != "" || client.ParentID != server.SpanID || callee.ParentID != client.SpanID {
			t.Errorf("spans not parent-linked gateway server → gateway client → users server: %+v", spans)
		}
		if server.Pod != "gateway-0" || callee.Pod != "users-0" || server.Environment != "dev" {
			t.Errorf("resources: gateway on %q, users on %q, environment %q", server.Pod, callee.Pod, server.Environment)
		}
		if server.Error || client.Error || callee.Error {
			t.Errorf("a good read's spans are marked as errors: %+v", spans)
		}
	})

	t.Run("a read that times out is marked as an error on the gateway's side", func(t *testing.T) {
		// A gateway whose users address answers nothing: the read waits for a connection until
		// its deadline, and the gateway answers 504.
		lost := startTraced(t, gatewayBin, receiver, map[string]string{"USERS_ADDR": testnet.FreeAddr(t), "USERS_TIMEOUT": "300ms"})
		if status := get(lost.base(), "/v1/users/1", "trace-me-2"); status != http.StatusGatewayTimeout {
			t.Fatalf("GET through a gateway without users: %d, want 504", status)
		}
		spans := spansWithin(t, receiver, lost.logs.traceOf("request", "trace-me-2"), 2)
		if server, client := find(t, spans, "gateway", tracepb.Span_SPAN_KIND_SERVER), find(t, spans, "gateway", tracepb.Span_SPAN_KIND_CLIENT); !server.Error || !client.Error {
			t.Errorf("server span error %v, client span error %v; want both", server.Error, client.Error)
		}
	})

	t.Run("the latency histogram's exemplar names an exported trace", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+gateway.env["OPS_ADDR"]+"/metrics", nil)
		req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var exemplar string
		for line := range strings.SplitSeq(string(body), "\n") {
			if strings.HasPrefix(line, `http_server_request_duration_seconds_bucket{method="GET",route="GET /v1/users/{id}"`) {
				if _, after, ok := strings.Cut(line, `# {trace_id="`); ok {
					exemplar, _, _ = strings.Cut(after, `"`)
					break
				}
			}
		}
		if exemplar == "" {
			t.Fatalf("no exemplar on the gateway's read latency:\n%s", body)
		}
		if spans := spansWithin(t, receiver, exemplar, 1); len(spans) == 0 {
			t.Errorf("exemplar trace %s was not exported", exemplar)
		}
	})

	t.Run("sampling nothing exports nothing, and serves as before", func(t *testing.T) {
		quiet := startTraced(t, gatewayBin, receiver, map[string]string{"USERS_ADDR": users.env["LISTEN_ADDR"], "OTEL_TRACES_SAMPLER": "always_off"})
		if status := get(quiet.base(), "/v1/users/1", "trace-me-3"); status != http.StatusOK {
			t.Fatalf("GET through a gateway sampling nothing: %d", status)
		}
		trace := quiet.logs.traceOf("request", "trace-me-3")
		if trace == "" {
			t.Fatal("the request's log line has no trace_id: ids are made whether sampled or not")
		}
		// Another, sampled, request after it: once its spans are in, the unsampled one's would be.
		if status := get(gateway.base(), "/v1/users/1", "trace-me-4"); status != http.StatusOK {
			t.Fatalf("GET: %d", status)
		}
		spansWithin(t, receiver, gateway.logs.traceOf("request", "trace-me-4"), 3)
		if spans := spansWithin(t, receiver, trace, 0); len(spans) != 0 {
			t.Errorf("an unsampled request exported %+v", spans)
		}
	})
}
