package platform

import (
	"log/slog"
	"net/http"
	"time"
)

// Instrument wraps a public HTTP handler with what every request gets: a server span (continuing
// the client's traceparent, if any; spans.go), panic recovery, a request id (X-Request-Id, or the
// span's id), RED metrics by route pattern with the trace as exemplar, and a log line (debug for
// all, error for 5xx but the ones LimitInFlight sheds).
func Instrument(next http.Handler, log *slog.Logger, metrics *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// Named by method until the mux has routed the request.
		ctx, span := startServerSpan(r.Context(), requestHeaders(r.Header), r.Method)
		requestID := requestID(r.Header.Get("X-Request-Id"), span.SpanContext())
		ctx = withRequestID(ctx, requestID)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", requestID)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			p := recover()
			if p == http.ErrAbortHandler {
				span.End()
				panic(p) // net/http's way to abort a response: it closes the connection, quietly
			}
			if p != nil {
				log.ErrorContext(ctx, "handler panicked", "panic", p, "path", r.URL.Path)
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, map[string]string{"error": "internal error", "request_id": requestID})
				}
			}
			route := r.Pattern
			endHTTPSpan(span, r, route, rec.status)
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			metrics.http.record(ctx, httpKey{route, methodLabel(r.Method), rec.status}, elapsed.Seconds())
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
