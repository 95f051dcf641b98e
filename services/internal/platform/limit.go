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
	limit := newInFlight(max, log)
	retryAfter := strconv.Itoa(retryAfterSeconds)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !limit.enter(r.Context()) {
			markShed(w)
			w.Header().Set("Retry-After", retryAfter)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "overloaded; retry later", "request_id": RequestID(r.Context())})
			return
		}
		defer limit.leave()
		next.ServeHTTP(w, r)
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
	limit := newInFlight(max, log)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		// Health checks are never shed: a caller that reads "unreachable" from a busy server
		// would take itself out of service (the gateway's readiness checks users this way).
		if strings.HasPrefix(info.FullMethod, "/grpc.health.v1.Health/") {
			return handler(ctx, req)
		}
		if !limit.enter(ctx) {
			return nil, status.Error(codes.Unavailable, "overloaded; retry later")
		}
		defer limit.leave()
		return handler(ctx, req)
	}
}

// inFlight is what both limiters share: the slots, and the warning for what they shed.
type inFlight struct {
	slots chan struct{}
	warn  *shedLog
}

func newInFlight(max int, log *slog.Logger) *inFlight {
	return &inFlight{slots: make(chan struct{}, max), warn: newShedLog(log, max, shedLogInterval, time.Now)}
}

// enter takes a slot if one is free; if none is, it counts the request as shed and says false.
func (l *inFlight) enter(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		l.warn.shed(ctx)
		return false
	}
}

// leave frees the slot enter took.
func (l *inFlight) leave() { <-l.slots }

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
