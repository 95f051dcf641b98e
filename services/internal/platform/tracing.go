package platform

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Tracing is how a service records spans, from the standard OTEL_* variables. With no endpoint
// spans still give every request a trace id and span id (the logs carry them, and calls pass them
// on in traceparent), but nothing is exported: no exporter, no connection, no retries.
type Tracing struct {
	// Endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT: the
	// collector's OTLP gRPC address as a URL (http://collector:4317). Empty, or OTEL_SDK_DISABLED
	// or OTEL_TRACES_EXPORTER=none: nothing is exported.
	Endpoint string
	// Sampler is OTEL_TRACES_SAMPLER (default parentbased_always_on) with its ratio, OTEL_TRACES_SAMPLER_ARG.
	Sampler    string
	SamplerArg float64
	// Attributes are OTEL_RESOURCE_ATTRIBUTES (key=value,...): the pod, namespace and version the
	// stack sets, beside service.name and the environment, which the platform adds.
	Attributes []attribute.KeyValue
}

// defaultTracing exports nothing and, once it does, samples every trace its caller has not decided on.
var defaultTracing = Tracing{Sampler: "parentbased_always_on", SamplerArg: 1}

// samplers are the OTEL_TRACES_SAMPLER values of OpenTelemetry's specification that sampler() makes.
var samplers = []string{"always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}

// loadTracing reads the OTEL_* variables; every bad one is an error naming it.
func loadTracing(getenv func(string) string) (Tracing, error) {
	t := defaultTracing
	var errs []error
	t.Endpoint = Env(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	if t.Endpoint != "" {
		if u, err := url.Parse(t.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT=%q: must be a URL such as http://collector:4317", t.Endpoint))
		}
	}
	switch exporter := getenv("OTEL_TRACES_EXPORTER"); exporter {
	case "", "otlp":
	case "none":
		t.Endpoint = ""
	default:
		errs = append(errs, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: must be otlp or none", exporter))
	}
	if disabled := getenv("OTEL_SDK_DISABLED"); disabled != "" {
		if off, err := strconv.ParseBool(disabled); err != nil {
			errs = append(errs, fmt.Errorf("OTEL_SDK_DISABLED=%q: must be true or false", disabled))
		} else if off {
			t.Endpoint = ""
		}
	}
	if v := getenv("OTEL_TRACES_SAMPLER"); v != "" {
		if !slices.Contains(samplers, v) {
			errs = append(errs, fmt.Errorf("OTEL_TRACES_SAMPLER=%q: must be one of %s", v, strings.Join(samplers, ", ")))
		}
		t.Sampler = v
	}
	if v := getenv("OTEL_TRACES_SAMPLER_ARG"); v != "" {
		ratio, err := strconv.ParseFloat(v, 64)
		if err != nil || ratio < 0 || ratio > 1 {
			errs = append(errs, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q: must be a ratio from 0 to 1", v))
		}
		t.SamplerArg = ratio
	}
	if v := getenv("OTEL_RESOURCE_ATTRIBUTES"); v != "" {
		attrs, err := parseAttributes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err))
		}
		t.Attributes = attrs
	}
	return t, errors.Join(errs...)
}

// parseAttributes reads key=value pairs separated by commas, values percent-encoded (W3C Baggage's form).
func parseAttributes(s string) ([]attribute.KeyValue, error) {
	var attrs []attribute.KeyValue
	for pair := range strings.SplitSeq(s, ",") {
		key, value, ok := strings.Cut(pair, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("%q is not key=value", pair)
		}
		decoded, err := url.PathUnescape(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%q: bad percent-encoding", pair)
		}
		attrs = append(attrs, attribute.String(key, decoded))
	}
	return attrs, nil
}

// sampler is the sampler t names; with no endpoint, one that records nothing. It also says
// whether the child of a span it did not sample is never sampled (the parent-based ones, and
// never), which lets a call skip a span that nobody would record (startClientSpan).
func (t Tracing) sampler() (sampler sdktrace.Sampler, childrenFollowParent bool) {
	if t.Endpoint == "" {
		// With nowhere to send them, no span is recorded: requests still get trace and span ids (the
		// logs and the calls carry them), at the cost of two random numbers, not of a span each.
		return sdktrace.NeverSample(), true
	}
	ratio := sdktrace.TraceIDRatioBased(t.SamplerArg)
	switch t.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample(), false
	case "always_off":
		return sdktrace.NeverSample(), true
	case "traceidratio":
		return ratio, false
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), true
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(ratio), true
	default:
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), true
	}
}

// StartTracing makes the process's tracer provider and W3C propagator (otel's globals, which the
// HTTP and gRPC instrumentation read) from cfg. The returned shutdown sends the spans still
// buffered; call it after the servers have stopped.
func StartTracing(cfg Config) (shutdown func(context.Context) error, err error) {
	provider, err := newTracerProvider(cfg)
	if err != nil {
		return nil, err
	}
	_, childrenFollowParent := cfg.Tracing.sampler()
	useTracerProvider(provider, childrenFollowParent)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return provider.Shutdown, nil
}

// newTracerProvider samples as cfg says, names the service in every span's resource, and exports
// in batches over OTLP gRPC when there is an endpoint; with none it records nothing.
func newTracerProvider(cfg Config) (*sdktrace.TracerProvider, error) {
	attrs := append([]attribute.KeyValue{
		semconv.ServiceName(cfg.ServiceName),
		semconv.DeploymentEnvironmentName(cfg.Environment),
	}, cfg.Tracing.Attributes...)
	sampler, _ := cfg.Tracing.sampler()
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, attrs...)),
	}
	if cfg.Tracing.Endpoint != "" {
		// Dials lazily and in the background: a collector that is down costs dropped spans, never a request.
		exporter, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpointURL(cfg.Tracing.Endpoint))
		if err != nil {
			return nil, fmt.Errorf("trace exporter for %s: %w", cfg.Tracing.Endpoint, err)
		}
		opts = append(opts, sdktrace.WithBatcher(exporter))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}
