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

// What a service makes of the ids its caller sent, at the edge (HTTP, from clients) and at a hop
// (gRPC, from another service), and what it sends on to the next hop.
func TestRequestIDsAcrossAHop(t *testing.T) {
	const made = "" // a new span id of this service
	tests := []struct {
		name, requestID, traceparent    string
		wantEdgeRequest, wantHopRequest string
		wantTrace                       string // "" means a new trace id
	}{
		{name: "nothing sent", wantEdgeRequest: made, wantHopRequest: made},
		{name: "a chosen request id and a trace are kept", requestID: "abc-123", traceparent: callerHeader,
			wantEdgeRequest: "abc-123", wantHopRequest: "abc-123", wantTrace: callerTrace},
		// A client may send one traceparent with every request; a caller service sends its span.
		{name: "a traceparent alone names the request at a hop only", traceparent: callerHeader,
			wantEdgeRequest: made, wantHopRequest: callerParent, wantTrace: callerTrace},
		{name: "an unsafe request id is replaced", requestID: "bad id\n{", traceparent: callerHeader,
			wantEdgeRequest: made, wantHopRequest: callerParent, wantTrace: callerTrace},
		{name: "an all-zero trace id starts a new trace", traceparent: "00-00000000000000000000000000000000-" + callerParent + "-01",
			wantEdgeRequest: made, wantHopRequest: made},
		{name: "an all-zero parent id starts a new trace", traceparent: "00-" + callerTrace + "-0000000000000000-01",
			wantEdgeRequest: made, wantHopRequest: made},
		{name: "upper-case hex is not W3C", traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + callerParent + "-01",
			wantEdgeRequest: made, wantHopRequest: made},
		{name: "a cut traceparent starts a new trace", traceparent: callerHeader[:40], wantEdgeRequest: made, wantHopRequest: made},
	}
	for _, tt := range tests {
		for _, side := range []struct {
			name        string
			ids         func(requestID, traceparent string) requestIDs
			wantRequest string
		}{{"edge", edgeIDs, tt.wantEdgeRequest}, {"hop", hopIDs, tt.wantHopRequest}} {
			t.Run(tt.name+"/"+side.name, func(t *testing.T) {
				ids := side.ids(tt.requestID, tt.traceparent)
				switch {
				case side.wantRequest == made && (!spanID.MatchString(ids.request) || ids.request == callerParent):
					t.Errorf("request id %q, want a new span id", ids.request)
				case side.wantRequest != made && ids.request != side.wantRequest:
					t.Errorf("request id %q, want %q", ids.request, side.wantRequest)
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
				// The next hop reads the same ids, and x-request-id goes only where the
				// traceparent does not say the request id already.
				if next := hopIDs(sentRequestID, traceparent); next.request != ids.request || next.trace != ids.trace {
					t.Errorf("next hop reads request %q trace %q, want %q %q", next.request, next.trace, ids.request, ids.trace)
				}
				if wantSent := ids.request != parent; (sentRequestID != "") != wantSent {
					t.Errorf("x-request-id sent: %q, want sent: %v", sentRequestID, wantSent)
				}
				// What the benchmark's requests take: a request the gateway named costs the hop
				// one header, not two.
				if side.name == "edge" && side.wantRequest == made && sentRequestID != "" {
					t.Errorf("a request id made here is sent as x-request-id %q too", sentRequestID)
				}
			})
		}
	}
}

func TestOutgoingOutsideARequest(t *testing.T) {
	if traceparent, requestID := idsOf(context.Background()).outgoing(); traceparent != "" || requestID != "" {
		t.Errorf("no ids send (%q, %q), want nothing", traceparent, requestID)
	}
}
