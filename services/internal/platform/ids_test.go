package platform

import (
	"regexp"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

var (
	spanIDPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
	traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

const (
	callerTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerParent = "00f067aa0ba902b7"
	callerHeader = "00-" + callerTrace + "-" + callerParent + "-01"
)

// What a request is named: the id its client chose when safe to log, else this service's span id.
func TestRequestID(t *testing.T) {
	traceID, _ := trace.TraceIDFromHex(callerTrace)
	spanID, _ := trace.SpanIDFromHex(callerParent)
	span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID})
	tests := []struct {
		name, chosen string
		span         trace.SpanContext
		want         func(string) bool
	}{
		{"a chosen id is kept", "abc-123", span, func(id string) bool { return id == "abc-123" }},
		{"none chosen: the span's id", "", span, func(id string) bool { return id == callerParent }},
		{"an unsafe one is replaced by the span's id", "bad id\n{", span, func(id string) bool { return id == callerParent }},
		{"too long for a header is replaced", string(make([]byte, 65)), span, func(id string) bool { return id == callerParent }},
		{"no span (no tracer provider): a new id", "", trace.SpanContext{}, spanIDPattern.MatchString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requestID(tt.chosen, tt.span); !tt.want(got) {
				t.Errorf("requestID(%q) = %q", tt.chosen, got)
			}
		})
	}
}
