package platform

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"
)

// A latency bucket takes a sampled request's trace as its exemplar at most once per
// exemplarInterval: the first in an interval stays, a later one in another bucket gets its own,
// and once the interval has passed the bucket takes the next. Unsampled requests never do.
func TestABucketTakesAnExemplarOncePerInterval(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	type observation struct {
		after   time.Duration
		seconds float64
		traceID string
		sampled bool
	}
	tests := []struct {
		name         string
		observations []observation
		want         map[float64]string // bucket bound -> the trace its exemplar names
	}{
		{"the first in an interval stays", []observation{
			{0, 0.002, "11111111111111111111111111111111", true},
			{500 * time.Millisecond, 0.002, "22222222222222222222222222222222", true},
		}, map[float64]string{0.0025: "11111111111111111111111111111111"}},
		{"another bucket takes its own", []observation{
			{0, 0.002, "11111111111111111111111111111111", true},
			{time.Millisecond, 0.3, "33333333333333333333333333333333", true},
		}, map[float64]string{0.0025: "11111111111111111111111111111111", 0.5: "33333333333333333333333333333333"}},
		{"after the interval the next replaces it", []observation{
			{0, 0.002, "11111111111111111111111111111111", true},
			{exemplarInterval, 0.002, "44444444444444444444444444444444", true},
		}, map[float64]string{0.0025: "44444444444444444444444444444444"}},
		{"an unsampled request takes none", []observation{
			{0, 0.002, "55555555555555555555555555555555", false},
		}, map[float64]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			metrics := NewMetrics()
			r := metrics.grpcServer
			r.clock = func() time.Time { return now }
			for _, o := range tt.observations {
				now = start.Add(o.after)
				traceID, _ := trace.TraceIDFromHex(o.traceID)
				flags := trace.TraceFlags(0)
				if o.sampled {
					flags = trace.FlagsSampled
				}
				ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1}, TraceFlags: flags}))
				r.record(ctx, grpcKey{echoMethod, 0}, o.seconds)
			}
			var m dto.Metric
			if err := metrics.grpcDuration.WithLabelValues(echoMethod).(interface{ Write(*dto.Metric) error }).Write(&m); err != nil {
				t.Fatal(err)
			}
			got := map[float64]string{}
			for _, bucket := range m.GetHistogram().GetBucket() {
				for _, label := range bucket.GetExemplar().GetLabel() {
					got[bucket.GetUpperBound()] = label.GetValue()
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("exemplars %v, want %v", got, tt.want)
			}
			for bound, traceID := range tt.want {
				if got[bound] != traceID {
					t.Errorf("bucket le=%v: exemplar %q, want %q", bound, got[bound], traceID)
				}
			}
		})
	}
}
