package platform

import (
	"log/slog"
	"net/http"
	"time"
)

// Instrument wraps a public HTTP handler with what every request gets: panic recovery, a request
// id and a trace id (taken from X-Request-Id and traceparent, or made), RED metrics by route
// pattern, and a log line (debug for all, error for 5xx but the ones LimitInFlight sheds).
func Instrument(next http.Handler, log *slog.Logger, metrics *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ids := edgeIDs(r.Header.Get("X-Request-Id"), r.Header.Get("Traceparent"))
		requestID := ids.request
		ctx := withIDs(r.Context(), ids)
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
