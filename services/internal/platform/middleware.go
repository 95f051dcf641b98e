package platform

import (
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// Instrument wraps a public HTTP handler with what every request gets: panic recovery, a request
// id and a trace id (taken from X-Request-Id and traceparent, or made), RED metrics by route
// pattern, and a log line (debug for all, error for 5xx but the ones LimitInFlight sheds).
func Instrument(next http.Handler, log *slog.Logger, metrics *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		requestID := r.Header.Get("X-Request-Id")
		if !validID(requestID) {
			requestID = newID(8)
		}
		traceID := traceIDFrom(r.Header.Get("Traceparent"))
		ctx := WithRequestIDs(r.Context(), requestID, traceID)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", requestID)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "handler panicked", "panic", p, "path", r.URL.Path)
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, map[string]string{"error": "internal error", "request_id": requestID})
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			metrics.http.record(httpKey{route, methodLabel(r.Method), rec.status}, elapsed.Seconds())
			level := slog.LevelDebug
			if rec.status >= 500 && !rec.shed {
				level = slog.LevelError
			}
			if log.Enabled(ctx, level) {
				log.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("route", route),
					slog.String("path", r.URL.Path), slog.Int("status", rec.status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	shed   bool // set by LimitInFlight: a 503 on purpose, not a fault
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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

// traceIDFrom takes the trace id from a W3C traceparent header, or makes a new one.
func traceIDFrom(traceparent string) string {
	// version "-" trace-id(32 hex) "-" parent-id(16 hex) "-" flags
	if len(traceparent) >= 55 && traceparent[2] == '-' && traceparent[35] == '-' {
		id := traceparent[3:35]
		if _, err := hex.DecodeString(id); err == nil && id != "00000000000000000000000000000000" {
			return id
		}
	}
	return newID(16)
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
