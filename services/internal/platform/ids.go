package platform

import (
	"context"
	"math/rand/v2"
)

type idsKey struct{}

// requestIDs are what a request carries through a service: its request id, its W3C trace id, and
// span, this service's span of the trace when the service named the request itself (otherwise
// empty: each call it makes then gets a span id of its own). They travel as one context value:
// one allocation and one lookup per request.
type requestIDs struct{ request, trace, span string }

// withIDs returns ctx carrying ids, which every log line written with that context then carries too.
func withIDs(ctx context.Context, ids requestIDs) context.Context {
	return context.WithValue(ctx, idsKey{}, &ids)
}

func idsOf(ctx context.Context) requestIDs {
	if ids, ok := ctx.Value(idsKey{}).(*requestIDs); ok {
		return *ids
	}
	return requestIDs{}
}

// RequestID is the request id in ctx, or "".
func RequestID(ctx context.Context) string { return idsOf(ctx).request }

// edgeIDs makes the ids of a request from outside (HTTP): the request id is the client's
// X-Request-Id when it is safe to log, else a new span id of this service, unique whatever span
// the client says it came from, so that the id travels to the next hop in traceparent alone; the
// trace id is the client's traceparent's, or a new one.
func edgeIDs(requestID, traceparent string) requestIDs {
	trace, _, ok := parseTraceparent(traceparent)
	if !ok {
		trace = newID(16)
	}
	if validID(requestID) {
		return requestIDs{request: requestID, trace: trace}
	}
	span := newID(8)
	return requestIDs{request: span, trace: trace, span: span}
}

// hopIDs makes the ids of a call from another service (gRPC): without an x-request-id, the
// request is named by the caller's span, the parent id of its traceparent, which is how a
// Flotilla service passes on a request id it made. Otherwise as edgeIDs.
func hopIDs(requestID, traceparent string) requestIDs {
	if trace, parent, ok := parseTraceparent(traceparent); ok && !validID(requestID) {
		return requestIDs{request: parent, trace: trace}
	}
	return edgeIDs(requestID, traceparent)
}

// outgoing is what a call made within the request sends on: a traceparent whose parent id is
// this service's span, and the request id only where the traceparent does not already say it.
// Both are empty outside a request (edgeIDs and hopIDs always make a trace).
func (ids requestIDs) outgoing() (traceparent, requestID string) {
	if ids.trace == "" {
		return "", ""
	}
	span := ids.span
	if span == "" {
		span = newID(8)
	}
	traceparent = "00-" + ids.trace + "-" + span + "-01" // W3C Trace Context, version 00, sampled
	if ids.request != span {
		requestID = ids.request
	}
	return traceparent, requestID
}

// validID accepts ids a client may choose: short, and safe to put in logs and headers.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parseTraceparent takes the trace id and parent id out of a W3C traceparent header
// ("00-" trace-id "-" parent-id "-" flags), when both are well formed and not all zeros.
func parseTraceparent(header string) (trace, parent string, ok bool) {
	if len(header) < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-' {
		return "", "", false
	}
	trace, parent = header[3:35], header[36:52]
	if !nonZeroHex(trace) || !nonZeroHex(parent) {
		return "", "", false
	}
	return trace, parent, true
}

// nonZeroHex says s is lower-case hex digits, not all of them 0 (W3C's invalid id).
func nonZeroHex(s string) bool {
	zero := true
	for _, c := range []byte(s) {
		switch {
		case c == '0':
		case c >= '1' && c <= '9' || c >= 'a' && c <= 'f':
			zero = false
		default:
			return false
		}
	}
	return !zero
}

// newID is n random bytes in hex. Ids need to be unique, not unguessable, so the fast generator does.
// It writes the hex digits straight into a buffer on the stack: one allocation, the string's.
func newID(n int) string {
	const digits = "0123456789abcdef"
	var hexed [32]byte // n is at most 16
	for i := 0; i < n; i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b := byte(v >> (8 * j))
			hexed[2*(i+j)], hexed[2*(i+j)+1] = digits[b>>4], digits[b&0x0f]
		}
	}
	return string(hexed[:2*n])
}
