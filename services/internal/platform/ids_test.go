package platform

import (
	"context"
	"regexp"
	"testing"
)

var (
	spanID  = regexp.MustCompile(`^[0-9a-f]{16}$`)
	traceID = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

const (
	callerTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerParent = "00f067aa0ba902b7"
	callerHeader = "00-" + callerTrace + "-" + callerParent + "-01"
)

// What a service makes of the ids its caller sent, and what it sends on to the next hop.
func TestRequestIDsAcrossAHop(t *testing.T) {
	tests := []struct {
		name, requestID, traceparent string
		wantRequest                  string // "" means a new span id of this service
		wantTrace                    string // "" means a new trace id
		wantSentRequestID            bool   // the next hop gets x-request-id besides traceparent
	}{
		{name: "nothing sent: the request is named after this service's span", wantSentRequestID: false},
		{name: "a chosen request id and a trace are kept", requestID: "abc-123", traceparent: callerHeader,
			wantRequest: "abc-123", wantTrace: callerTrace, wantSentRequestID: true},
		{name: "a traceparent alone names the request after the caller's span", traceparent: callerHeader,
			wantRequest: callerParent, wantTrace: callerTrace, wantSentRequestID: true},
		{name: "an unsafe request id is replaced", requestID: "bad id\n{", traceparent: callerHeader,
			wantRequest: callerParent, wantTrace: callerTrace, wantSentRequestID: true},
		{name: "an all-zero trace id starts a new trace", traceparent: "00-00000000000000000000000000000000-" + callerParent + "-01"},
		{name: "an all-zero parent id starts a new trace", traceparent: "00-" + callerTrace + "-0000000000000000-01"},
		{name: "upper-case hex is not W3C", traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + callerParent + "-01"},
		{name: "a cut traceparent starts a new trace", traceparent: callerHeader[:40]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := idsFrom(tt.requestID, tt.traceparent)
			switch {
			case tt.wantRequest == "" && !spanID.MatchString(ids.request):
				t.Errorf("request id %q, want a new span id", ids.request)
			case tt.wantRequest != "" && ids.request != tt.wantRequest:
				t.Errorf("request id %q, want %q", ids.request, tt.wantRequest)
			}
			switch {
			case tt.wantTrace == "" && (!traceID.MatchString(ids.trace) || ids.trace == callerTrace):
				t.Errorf("trace id %q, want a new one", ids.trace)
			case tt.wantTrace != "" && ids.trace != tt.wantTrace:
				t.Errorf("trace id %q, want %q", ids.trace, tt.wantTrace)
			}

			traceparent, sentRequestID := ids.outgoing()
			trace, parent, ok := parseTraceparent(traceparent)
			if !ok || trace != ids.trace || parent == callerParent {
				t.Fatalf("sent traceparent %q: want this trace with a span of this service", traceparent)
			}
			// The next hop recovers the same request id, whether or not it was sent on its own.
			if next := idsFrom(sentRequestID, traceparent); next.request != ids.request || next.trace != ids.trace {
				t.Errorf("next hop reads request %q trace %q, want %q %q", next.request, next.trace, ids.request, ids.trace)
			}
			if (sentRequestID != "") != tt.wantSentRequestID {
				t.Errorf("x-request-id sent: %q, want sent: %v", sentRequestID, tt.wantSentRequestID)
			}
		})
	}
}

func TestOutgoingOutsideATrace(t *testing.T) {
	if traceparent, requestID := idsOf(WithRequestIDs(context.Background(), "r1", "")).outgoing(); traceparent != "" || requestID != "r1" {
		t.Errorf("a request id without a trace sends (%q, %q), want only the request id", traceparent, requestID)
	}
	if traceparent, requestID := idsOf(context.Background()).outgoing(); traceparent != "" || requestID != "" {
		t.Errorf("no ids send (%q, %q), want nothing", traceparent, requestID)
	}
}
