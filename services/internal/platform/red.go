package platform

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	clock    func() time.Time
}

type redSeries struct {
	calls      prometheus.Counter
	duration   prometheus.Observer
	exemplarAt *exemplarTimes
}

// exemplarTimes is when each latency bucket (the last one +Inf) last got an exemplar, in Unix ns.
type exemplarTimes [len(latencyBuckets) + 1]atomic.Int64

// exemplarInterval is the least time between two exemplars of one latency bucket. A bucket keeps
// only its latest exemplar, which Prometheus reads once a scrape (15 s and more apart), so a new
// one every millisecond, as a sampled tenth of a busy service's requests gives, is work thrown
// away: a label map, the trace id in hex and the exemplar's own objects, a quarter of a sampled
// request's allocations. Once a second, every bucket a request reaches still links to a trace.
const exemplarInterval = time.Second

// record counts one request and observes its duration; when its trace is sampled (so the trace
// exists), the trace id goes with the observation as an exemplar, a link from a slow bucket to a
// trace, unless that bucket has had one within exemplarInterval.
func (r *red[K]) record(ctx context.Context, key K, seconds float64) {
	found, ok := r.series.Load(key)
	if !ok {
		calls, duration := r.labels(key)
		found, _ = r.series.LoadOrStore(key, redSeries{r.calls.WithLabelValues(calls...), r.duration.WithLabelValues(duration...), new(exemplarTimes)})
	}
	s := found.(redSeries)
	s.calls.Inc()
	if span := trace.SpanContextFromContext(ctx); span.IsSampled() {
		if exemplars, ok := s.duration.(prometheus.ExemplarObserver); ok && s.exemplarDue(seconds, r.now()) {
			exemplars.ObserveWithExemplar(seconds, prometheus.Labels{traceIDKey: span.TraceID().String()})
			return
		}
	}
	s.duration.Observe(seconds)
}

// exemplarDue says whether an observation of seconds at now is the one its bucket keeps as
// exemplar, and if so marks the bucket's time; of two at once, one is.
func (s redSeries) exemplarDue(seconds float64, now time.Time) bool {
	at := &s.exemplarAt[sort.SearchFloat64s(latencyBuckets[:], seconds)] // the first bound >= seconds: its le bucket
	last := at.Load()
	return now.UnixNano()-last >= int64(exemplarInterval) && at.CompareAndSwap(last, now.UnixNano())
}

// now is the clock exemplars are timed by: time.Now, or a test's.
func (r *red[K]) now() time.Time {
	if r.clock != nil {
		return r.clock()
	}
	return time.Now()
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
