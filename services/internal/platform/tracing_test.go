package platform

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"flotilla/services/internal/testnet"
)

// recorded holds every span the package's tests end, as the process's tracer provider (as Main
// installs one) would export them; a test finds its own by trace id.
var recorded = tracetest.NewSpanRecorder()

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorded)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	os.Exit(m.Run())
}

// keepRecording puts the recording provider back once a test that runs Main (which installs its
// own) ends.
func keepRecording(t *testing.T) {
	provider := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(provider) })
}

// spansOf are the ended spans of one trace.
func spansOf(t *testing.T, traceID trace.TraceID) []sdktrace.ReadOnlySpan {
	t.Helper()
	var spans []sdktrace.ReadOnlySpan
	for _, s := range recorded.Ended() {
		if s.SpanContext().TraceID() == traceID {
			spans = append(spans, s)
		}
	}
	return spans
}

// inTrace returns ctx within a span of the caller's trace (callerTrace), as a request's handler has it.
func inTrace(ctx context.Context) context.Context {
	traceID, _ := trace.TraceIDFromHex(callerTrace)
	spanID, _ := trace.SpanIDFromHex(callerParent)
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))
}

func TestLoadTracing(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Tracing
		wantErr []string // the variables the error names
	}{
		{name: "nothing set: no export, the caller's decision or every trace", want: defaultTracing},
		{name: "an endpoint and a ratio", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.tracing:4317", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1",
		}, want: Tracing{Endpoint: "http://collector.tracing:4317", Sampler: "parentbased_traceidratio", SamplerArg: 0.1}},
		{name: "the traces endpoint wins over the general one", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4317",
		}, want: Tracing{Endpoint: "http://b:4317", Sampler: "parentbased_always_on", SamplerArg: 1}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_TRACES_EXPORTER": "none"}, want: defaultTracing},
		{name: "SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_SDK_DISABLED": "true"}, want: defaultTracing},
		{name: "every bad value named", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OTEL_TRACES_SAMPLER": "sometimes", "OTEL_TRACES_SAMPLER_ARG": "1.5",
			"OTEL_TRACES_EXPORTER": "jaeger", "OTEL_SDK_DISABLED": "maybe", "OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name",
		}, wantErr: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER=", "OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_RESOURCE_ATTRIBUTES"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadTracing(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one naming %v", tt.wantErr)
				}
				for _, name := range tt.wantErr {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error %q does not name %s", err, name)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Endpoint != tt.want.Endpoint || got.Sampler != tt.want.Sampler || got.SamplerArg != tt.want.SamplerArg {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResourceAttributesAreDecoded(t *testing.T) {
	got, err := loadTracing(func(k string) string {
		return map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=users-7d9f,service.version=v1%2C2 , k8s.namespace.name=flotilla"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, a := range got.Attributes {
		pairs = append(pairs, string(a.Key)+"="+a.Value.AsString())
	}
	if want := []string{"k8s.pod.name=users-7d9f", "service.version=v1,2", "k8s.namespace.name=flotilla"}; !slices.Equal(pairs, want) {
		t.Errorf("attributes %v, want %v", pairs, want)
	}
}

// Spans reach a real OTLP gRPC endpoint with the service's resource, as sampled; with sampling
// off nothing is sent.
func TestSpansAreExportedOverOTLP(t *testing.T) {
	for _, tt := range []struct {
		sampler string
		want    []testnet.Span
	}{
		{"always_on", []testnet.Span{{Service: "users", Pod: "users-1", Environment: "dev", Name: "work", Kind: tracepb.Span_SPAN_KIND_INTERNAL}}},
		{"always_off", nil},
	} {
		t.Run(tt.sampler, func(t *testing.T) {
			receiver := testnet.StartOTLPReceiver(t)
			cfg, err := LoadConfig("users", func(k string) string {
				return map[string]string{
					"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.Endpoint, // plain text, as http:// says
					"OTEL_TRACES_SAMPLER":         tt.sampler, "OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=users-1",
				}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			provider, err := newTracerProvider(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, span := provider.Tracer("test").Start(context.Background(), "work")
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := provider.Shutdown(ctx); err != nil { // sends what the batch holds
				t.Fatal(err)
			}
			got := receiver.Spans()
			for i := range got {
				got[i].TraceID, got[i].SpanID, got[i].ParentID = "", "", ""
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("received %+v, want %+v", got, tt.want)
			}
		})
	}
}

// With no endpoint the provider still names every request's trace and span, so logs and calls
// carry them, and records nothing.
func TestNoEndpointStillMakesIDs(t *testing.T) {
	cfg := DefaultConfig("users")
	provider, err := newTracerProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer provider.Shutdown(context.Background())
	_, span := provider.Tracer("test").Start(context.Background(), "work")
	defer span.End()
	if sc := span.SpanContext(); !sc.HasTraceID() || !sc.HasSpanID() {
		t.Errorf("span context %v: want a trace id and a span id", sc)
	}
	if span.IsRecording() {
		t.Error("a span is recorded with nowhere to send it")
	}
}

// Each sampler says truly whether it ever samples the child of a span it did not sample, which
// startClientSpan relies on: asked about many children of unsampled parents, the SDK's own sampler
// samples none where the flag says so, and some where it does not.
func TestSamplersSayWhetherChildrenFollowTheirParent(t *testing.T) {
	configs := []Tracing{{Sampler: "parentbased_always_on"}} // no endpoint
	for _, name := range samplers {
		configs = append(configs, Tracing{Endpoint: "http://collector:4317", Sampler: name, SamplerArg: 0.5})
	}
	for _, cfg := range configs {
		sampler, childrenFollowParent := cfg.sampler()
		traceID, _ := trace.TraceIDFromHex(callerTrace)
		sampled := 0
		for i := range 200 {
			traceID[8] = byte(i) // ratio samplers decide by the trace id's last eight bytes
			parent := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1}}))
			if sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: parent, TraceID: traceID, Name: "call"}).Decision != sdktrace.Drop {
				sampled++
			}
		}
		if childrenFollowParent != (sampled == 0) {
			t.Errorf("%q (endpoint %q): childrenFollowParent %v, but %d of 200 children of unsampled parents sampled", cfg.Sampler, cfg.Endpoint, childrenFollowParent, sampled)
		}
	}
}
