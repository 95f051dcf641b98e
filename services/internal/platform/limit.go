package platform

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// shedLogInterval is the least time between two of the limiter's "shedding load" warnings.
const shedLogInterval = 10 * time.Second

// LimitInFlight serves at most max requests at once and sheds the rest at once with 503 and
// Retry-After, instead of queueing them: under overload the requests it does serve keep their
// latency, and callers (or the load balancer) retry elsewhere or later. max <= 0 means no limit.
//
// Placed inside Instrument, a shed request is counted in the RED metrics like any other. It does
// not get an error line of its own: one per shed request would flood the logs (and the pipeline
// behind them) exactly when the service is overloaded, and cost the CPU the served requests need.
// Instead the limiter warns at most once per shedLogInterval, with how many it shed since.
func LimitInFlight(next http.Handler, max int, retryAfterSeconds int, log *slog.Logger) http.Handler {
	if max <= 0 {
		return next
	}
	slots := make(chan struct{}, max)
	retryAfter := strconv.Itoa(retryAfterSeconds)
	warn := newShedLog(log, max, shedLogInterval, time.Now)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			markShed(w)
			warn.shed(r.Context())
			w.Header().Set("Retry-After", retryAfter)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "overloaded; retry later", "request_id": RequestID(r.Context())})
		}
	})
}

// LimitInFlightUnary is LimitInFlight for a gRPC server: at most max calls at once, the rest
// answered at once with UNAVAILABLE, the code gRPC clients retry with backoff (the gateway's
// channel does, on another pod, within its retry budget). Chained after UnaryServerInterceptor,
// a shed call is counted in the metrics by its code; the same warning stands for the log lines.
// Health checks pass whatever the load.
func LimitInFlightUnary(max int, log *slog.Logger) grpc.UnaryServerInterceptor {
	if max <= 0 {
		return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			return handler(ctx, req)
		}
	}
	slots := make(chan struct{}, max)
	warn := newShedLog(log, max, shedLogInterval, time.Now)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		// Health checks are never shed: a caller that reads "unreachable" from a busy server
		// would take itself out of service (the gateway's readiness checks users this way).
		if strings.HasPrefix(info.FullMethod, "/grpc.health.v1.Health/") {
			return handler(ctx, req)
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			return handler(ctx, req)
		default:
			warn.shed(ctx)
			return nil, status.Error(codes.Unavailable, "overloaded; retry later")
		}
	}
}

// shedLog counts shed requests and writes a warning for the first one after a quiet interval,
// then at most one per interval, each with the count since the last.
type shedLog struct {
	log   *slog.Logger
	limit int
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	next  time.Time // no warning before this
	count int       // shed since the last warning
}

func newShedLog(log *slog.Logger, limit int, every time.Duration, now func() time.Time) *shedLog {
	return &shedLog{log: log, limit: limit, every: every, now: now}
}

func (s *shedLog) shed(ctx context.Context) {
	s.mu.Lock()
	s.count++
	now := s.now()
	if now.Before(s.next) {
		s.mu.Unlock()
		return
	}
	count := s.count
	s.count, s.next = 0, now.Add(s.every)
	s.mu.Unlock()
	// shed counts the requests shed since the previous warning (or the start), however long ago.
	s.log.WarnContext(ctx, "shedding load: in-flight limit reached", "shed", count, "limit", s.limit)
}

// markShed tells the Instrument wrapped around w that this response sheds load on purpose, so
// that it does not log it as an error.
func markShed(w http.ResponseWriter) {
	for {
		switch rw := w.(type) {
		case *statusRecorder:
			rw.shed = true
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = rw.Unwrap()
		default:
			return
		}
	}
}
