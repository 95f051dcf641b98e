package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

func TestInstrument(t *testing.T) {
	var logs bytes.Buffer
	log := NewLogger(&logs, Config{ServiceName: "gateway", Environment: "test", LogLevel: -4})
	metrics := NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	handler := Instrument(mux, log, metrics)

	tests := []struct {
		name, path, requestID, traceparent string
		wantStatus                         int
		wantRequestID                      func(string) bool
		wantTraceID                        string
	}{
		{name: "client ids are kept", path: "/ok/1", requestID: "abc-123", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			wantStatus: 204, wantRequestID: func(id string) bool { return id == "abc-123" }, wantTraceID: "4bf92f3577b34da6a3ce929d0e0e4736"},
		{name: "unsafe request id is replaced", path: "/ok/2", requestID: "bad id\n{", wantStatus: 204,
			wantRequestID: func(id string) bool { return len(id) == 16 && id != "bad id\n{" }},
		{name: "panic becomes a JSON 500", path: "/panic", wantStatus: 500, wantRequestID: func(id string) bool { return id != "" }},
		{name: "unknown route", path: "/nope", wantStatus: 404, wantRequestID: func(id string) bool { return id != "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.requestID != "" {
				req.Header.Set("X-Request-Id", tt.requestID)
			}
			if tt.traceparent != "" {
				req.Header.Set("Traceparent", tt.traceparent)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			id := rec.Header().Get("X-Request-Id")
			if !tt.wantRequestID(id) {
				t.Errorf("request id %q not as expected", id)
			}
			if tt.wantTraceID != "" && !strings.Contains(logs.String(), `"trace_id":"`+tt.wantTraceID+`"`) {
				t.Errorf("logs lack trace id %s: %s", tt.wantTraceID, logs.String())
			}
			if tt.wantStatus == 500 {
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["request_id"] != id {
					t.Errorf("500 body %q is not a JSON error with the request id", rec.Body.String())
				}
			}
		})
	}
	if got := testutil.ToFloat64(metrics.httpRequests.WithLabelValues("GET /ok/{id}", "GET", "204")); got != 2 {
		t.Errorf("requests counted by route pattern: %v, want 2", got)
	}
	if got := testutil.ToFloat64(metrics.httpRequests.WithLabelValues("unmatched", "GET", "404")); got != 1 {
		t.Errorf("unmatched requests: %v, want 1", got)
	}
}

// A method label takes only the methods HTTP defines: whatever else clients send shares one
// series, so they cannot grow the metrics without bound.
func TestMethodLabelIsBounded(t *testing.T) {
	metrics := NewMetrics()
	handler := Instrument(http.NewServeMux(), slog.New(slog.DiscardHandler), metrics)
	for _, method := range []string{"GET", "DELETE", "FOO1", "FOO2", "BREW", "PROPFIND"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/nope", nil))
	}
	if got := testutil.ToFloat64(metrics.httpRequests.WithLabelValues("unmatched", "OTHER", "404")); got != 4 {
		t.Errorf("requests with other methods counted as OTHER: %v, want 4", got)
	}
	if got := testutil.CollectAndCount(metrics.httpRequests); got != 3 {
		t.Errorf("%d request-count series for methods GET, DELETE and four others; want 3", got)
	}
}

func TestLogLinesCarryServiceAndIDs(t *testing.T) {
	var out bytes.Buffer
	log := NewLogger(&out, Config{ServiceName: "users", Environment: "prod"})
	log.InfoContext(withRequestID(inTrace(context.Background()), "r1"), "hello", "n", 1)
	var line map[string]any
	if err := json.NewDecoder(io.Reader(&out)).Decode(&line); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"msg": "hello", "service": "users", "environment": "prod", "request_id": "r1", "trace_id": callerTrace, "span_id": callerParent, "level": "INFO"} {
		if line[key] != want {
			t.Errorf("%s = %v, want %v", key, line[key], want)
		}
	}
}

func TestHealth(t *testing.T) {
	health := NewHealth()
	mux := http.NewServeMux()
	health.Register(mux)
	get := func(path string) int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	var upstreamDown bool
	health.AddCheck("upstream", func(context.Context) error {
		if upstreamDown {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	drained := false
	health.OnDrain(func() { drained = true })

	steps := []struct {
		name            string
		act             func()
		healthz, readyz int
	}{
		{"ready at start", func() {}, 200, 200},
		{"not ready while a check fails", func() { upstreamDown = true }, 200, 503},
		{"ready again", func() { upstreamDown = false }, 200, 200},
		{"not ready once draining, still alive", health.Drain, 200, 503},
	}
	for _, s := range steps {
		s.act()
		if got := get("/healthz"); got != s.healthz {
			t.Errorf("%s: /healthz %d, want %d", s.name, got, s.healthz)
		}
		if got := get("/readyz"); got != s.readyz {
			t.Errorf("%s: /readyz %d, want %d", s.name, got, s.readyz)
		}
	}
	if !drained {
		t.Error("OnDrain hook did not run")
	}
}

// A request gets a server span in its client's trace, named by its route once routed, marked as an
// error when it fails; its request id is the span's id, its log lines carry both, and its latency
// is observed with the trace id as exemplar.
func TestInstrumentTracesARequest(t *testing.T) {
	var logs bytes.Buffer
	log := NewLogger(&logs, Config{ServiceName: "gateway", LogLevel: slog.LevelDebug})
	metrics := NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	handler := Instrument(mux, log, metrics)

	tests := []struct {
		path, traceID, wantName string
		wantError               bool
	}{
		{"/ok/7", newID(16), "GET /ok/{id}", false},
		{"/panic", newID(16), "GET /panic", true},
		{"/nope", newID(16), "GET", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.Header.Set("Traceparent", "00-"+tt.traceID+"-"+callerParent+"-01")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			traceID, _ := trace.TraceIDFromHex(tt.traceID)
			spans := spansOf(t, traceID)
			if len(spans) != 1 {
				t.Fatalf("%d spans in the request's trace, want 1", len(spans))
			}
			span := spans[0]
			if span.Name() != tt.wantName || span.SpanKind() != trace.SpanKindServer || span.Parent().SpanID().String() != callerParent {
				t.Errorf("span %q (%v, parent %s), want the server span %q under the caller's", span.Name(), span.SpanKind(), span.Parent().SpanID(), tt.wantName)
			}
			if failed := span.Status().Code == codes.Error; failed != tt.wantError {
				t.Errorf("span status %v, want error: %v", span.Status(), tt.wantError)
			}
			if id := rec.Header().Get("X-Request-Id"); id != span.SpanContext().SpanID().String() {
				t.Errorf("request id %q, want the span's id %s", id, span.SpanContext().SpanID())
			}
			if !strings.Contains(logs.String(), `"trace_id":"`+tt.traceID+`","span_id":"`+span.SpanContext().SpanID().String()+`"`) {
				t.Errorf("log lack the trace and span ids: %s", logs.String())
			}
		})
	}

	exemplars := map[string]bool{}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range families {
		if family.GetName() != "http_server_request_duration_seconds" {
			continue
		}
		for _, m := range family.GetMetric() {
			for _, bucket := range m.GetHistogram().GetBucket() {
				for _, label := range bucket.GetExemplar().GetLabel() {
					exemplars[label.GetValue()] = true
				}
			}
		}
	}
	for _, tt := range tests {
		if !exemplars[tt.traceID] {
			t.Errorf("no latency exemplar names trace %s; exemplars: %v", tt.traceID, exemplars)
		}
	}
}
