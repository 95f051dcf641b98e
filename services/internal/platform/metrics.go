package platform

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets suit in-cluster calls: sub-millisecond up to the 2.5 s that no healthy call reaches.
var latencyBuckets = [...]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Metrics holds a service's RED metrics (rate, errors, duration) in a registry of its own, with
// the Go runtime and process collectors beside them.
type Metrics struct {
	Registry          *prometheus.Registry
	httpRequests      *prometheus.CounterVec
	httpDuration      *prometheus.HistogramVec
	grpcHandled       *prometheus.CounterVec
	grpcDuration      *prometheus.HistogramVec
	grpcClientCalls   *prometheus.CounterVec
	grpcClientLatency *prometheus.HistogramVec

	// The same, through caches of their series (red.go): what the request paths record with.
	http       *red[httpKey]
	grpcServer *red[grpcKey]
	grpcClient *red[grpcKey]
}

// NewMetrics registers the platform's metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_server_requests_total", Help: "HTTP requests handled, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_server_request_duration_seconds", Help: "Time to handle an HTTP request, by route pattern and method.", Buckets: latencyBuckets[:],
		}, []string{"route", "method"}),
		grpcHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total", Help: "gRPC calls handled, by method and status code.",
		}, []string{"grpc_method", "grpc_code"}),
		grpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grpc_server_handling_seconds", Help: "Time to handle a gRPC call, by method.", Buckets: latencyBuckets[:],
		}, []string{"grpc_method"}),
		grpcClientCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_client_handled_total", Help: "gRPC calls made, by method and status code.",
		}, []string{"grpc_method", "grpc_code"}),
		grpcClientLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grpc_client_handling_seconds", Help: "Time until a gRPC call made returned, by method.", Buckets: latencyBuckets[:],
		}, []string{"grpc_method"}),
	}
	m.http = &red[httpKey]{calls: m.httpRequests, duration: m.httpDuration, labels: httpLabels}
	m.grpcServer = &red[grpcKey]{calls: m.grpcHandled, duration: m.grpcDuration, labels: grpcLabels}
	m.grpcClient = &red[grpcKey]{calls: m.grpcClientCalls, duration: m.grpcClientLatency, labels: grpcLabels}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.grpcHandled, m.grpcDuration, m.grpcClientCalls, m.grpcClientLatency,
	)
	return m
}

// Handler serves the registry in the Prometheus text format, or in OpenMetrics to a scraper that
// asks for it (Prometheus does): only OpenMetrics carries the latency histograms' exemplars.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, EnableOpenMetrics: true})
}
