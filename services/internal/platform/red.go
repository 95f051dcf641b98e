package platform

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
)

// red records one request's rate, errors and duration: a counter by outcome and a histogram. It
// caches the two series each key resolves to, so a request pays one lock-free lookup instead of
// WithLabelValues twice (each validates, hashes and locks), and formats no label on the way.
type red[K comparable] struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	labels   func(K) (calls, duration []string)
	series   sync.Map // K -> redSeries
}

type redSeries struct {
	calls    prometheus.Counter
	duration prometheus.Observer
}

// record counts one request and observes its duration; when its trace is sampled (so the trace
// exists), the trace id goes with the observation as an exemplar, a link from a slow bucket to a trace.
func (r *red[K]) record(ctx context.Context, key K, seconds float64) {
	s, ok := r.series.Load(key)
	if !ok {
		calls, duration := r.labels(key)
		s, _ = r.series.LoadOrStore(key, redSeries{r.calls.WithLabelValues(calls...), r.duration.WithLabelValues(duration...)})
	}
	s.(redSeries).calls.Inc()
	if span := trace.SpanContextFromContext(ctx); span.IsSampled() {
		if exemplars, ok := s.(redSeries).duration.(prometheus.ExemplarObserver); ok {
			exemplars.ObserveWithExemplar(seconds, prometheus.Labels{traceIDKey: span.TraceID().String()})
			return
		}
	}
	s.(redSeries).duration.Observe(seconds)
}

// httpKey is an HTTP request's labels: the route pattern, the method and the status code.
type httpKey struct {
	route, method string
	status        int
}

func httpLabels(k httpKey) (calls, duration []string) {
	return []string{k.route, k.method, strconv.Itoa(k.status)}, []string{k.route, k.method}
}

// grpcKey is a gRPC call's labels: the full method and the status code.
type grpcKey struct {
	method string
	code   codes.Code
}

func grpcLabels(k grpcKey) (calls, duration []string) {
	return []string{k.method, k.code.String()}, []string{k.method}
}

// methodLabel keeps the method label to the methods HTTP defines: any other token a client sends
// would otherwise make a new series each (a way to exhaust the service's memory).
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}
