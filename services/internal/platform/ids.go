package platform

import (
	"context"
	"math/rand/v2"

	"go.opentelemetry.io/otel/trace"
)

type requestIDKey struct{}

// withRequestID returns ctx carrying a request's id, which every log line written with that
// context then carries, beside the trace and span ids of the span in ctx.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID names a request: the id its client chose (X-Request-Id, or a Flotilla caller's
// x-request-id) when it is safe to log, else the id of this service's span for it, so that a
// request named here is found under that name in its trace too. Every call made within the
// request passes the name on (UnaryClientInterceptor).
func requestID(chosen string, span trace.SpanContext) string {
	switch {
	case validID(chosen):
		return chosen
	case span.HasSpanID():
		return span.SpanID().String()
	default: // no tracer provider: a handler used outside Main, as in a test
		return newID(8)
	}
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
