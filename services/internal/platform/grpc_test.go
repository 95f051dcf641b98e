package platform

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"
)

// echoMethod is a test service's one method, registered by hand: the platform traces every method
// but the health checks, so the test needs one of its own.
const echoMethod = "/flotilla.test.Echo/Echo"

// seen is what the server's handler found in its context: the request id and span.
type seen struct {
	request     string
	span        trace.SpanContext
	traceparent string // as the call carried it
}

func registerEcho(server *grpc.Server, calls chan<- seen) {
	server.RegisterService(&grpc.ServiceDesc{
		ServiceName: "flotilla.test.Echo",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Echo", Handler: func(_ any, ctx context.Context, decode func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := &emptypb.Empty{}
			if err := decode(in); err != nil {
				return nil, err
			}
			handler := func(ctx context.Context, _ any) (any, error) {
				calls <- seen{RequestID(ctx), trace.SpanContextFromContext(ctx), incoming(ctx, "traceparent")}
				return &emptypb.Empty{}, nil
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{FullMethod: echoMethod}, handler)
		}}},
	}, struct{}{})
}

// A call made within a request reaches the server, over a real gRPC connection through the stats
// handlers and interceptors, with the request's id and in its trace: the server's span is a child
// of the client's span, itself a child of the request's. Both sides count it.
func TestACallCarriesTheRequestAcrossAGRPCHop(t *testing.T) {
	serverMetrics, clientMetrics := NewMetrics(), NewMetrics()
	call := startEcho(t, serverMetrics, clientMetrics)

	for _, requestID := range []string{"abc-123", "0123456789abcdef"} {
		t.Run("within a request named "+requestID, func(t *testing.T) {
			ctx, request := otel.Tracer("test").Start(context.Background(), "request")
			got := call(withRequestID(ctx, requestID))
			request.End()
			if got.request != requestID {
				t.Errorf("server saw request id %q, want %q", got.request, requestID)
			}
			traceID := request.SpanContext().TraceID()
			if got.span.TraceID() != traceID {
				t.Fatalf("server span in trace %s, want the request's %s", got.span.TraceID(), traceID)
			}
			// The server's span ends once its response is sent, which may be after the client has it.
			var client, server sdktrace.ReadOnlySpan
			for deadline := time.Now().Add(2 * time.Second); (client == nil || server == nil) && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				for _, s := range spansOf(t, traceID) {
					switch s.SpanKind() {
					case trace.SpanKindClient:
						client = s
					case trace.SpanKindServer:
						server = s
					}
				}
			}
			if client == nil || server == nil {
				t.Fatalf("trace %s lacks a client or a server span", traceID)
			}
			if client.Parent().SpanID() != request.SpanContext().SpanID() || server.Parent().SpanID() != client.SpanContext().SpanID() {
				t.Errorf("spans not parent-linked request → client → server")
			}
			if server.SpanContext().SpanID() != got.span.SpanID() {
				t.Errorf("the handler's span is not the server span")
			}
		})
	}

	t.Run("a call outside any request is named by the server's span", func(t *testing.T) {
		got := call(context.Background())
		if got.request != got.span.SpanID().String() || !traceIDPattern.MatchString(got.span.TraceID().String()) {
			t.Errorf("server made request id %q in span %v, want the span's id", got.request, got.span)
		}
	})

	if got := testutil.ToFloat64(serverMetrics.grpcHandled.WithLabelValues(echoMethod, "OK")); got != 3 {
		t.Errorf("server counted %v calls, want 3", got)
	}
	if got := testutil.ToFloat64(clientMetrics.grpcClientCalls.WithLabelValues(echoMethod, "OK")); got != 3 {
		t.Errorf("client counted %v calls, want 3", got)
	}
}

// startEcho serves the echo method over a real gRPC connection (in memory) through the platform's
// server and client interceptors, and returns a call that says what the handler saw.
func startEcho(t *testing.T, serverMetrics, clientMetrics *Metrics) (call func(context.Context) seen) {
	t.Helper()
	listener := bufconn.Listen(1 << 20)
	calls := make(chan seen, 1)
	server := NewGRPCServer(slog.New(slog.DiscardHandler), serverMetrics, 4)
	registerEcho(server, calls)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return listener.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(clientMetrics)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return func(ctx context.Context) seen {
		t.Helper()
		if err := conn.Invoke(ctx, echoMethod, &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
			t.Fatal(err)
		}
		return <-calls
	}
}

// In a trace that is not sampled, a call makes no client span where the sampler would not record
// one (startClientSpan): it carries the request's own span as the parent instead. Where the
// sampler may record the child of an unsampled span (always_on), the client span is still made.
func TestAnUnsampledCallSkipsItsClientSpan(t *testing.T) {
	for _, tt := range []struct {
		sampler        string
		wantClientSpan bool
	}{
		{"parentbased_traceidratio", false},
		{"always_on", true},
	} {
		t.Run(tt.sampler, func(t *testing.T) {
			keepRecording(t)
			sampler, childrenFollowParent := Tracing{Endpoint: "http://collector:4317", Sampler: tt.sampler, SamplerArg: 1}.sampler()
			spans := tracetest.NewSpanRecorder()
			provider := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(spans))
			useTracerProvider(provider, childrenFollowParent)
			call := startEcho(t, NewMetrics(), NewMetrics())

			traceID, _ := trace.TraceIDFromHex(callerTrace)
			requestSpan, _ := trace.SpanIDFromHex(callerParent)
			got := call(trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: requestSpan})))
			carried := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": got.traceparent})
			parent := trace.SpanContextFromContext(carried)
			if parent.TraceID() != traceID {
				t.Fatalf("call carried traceparent %q, want one in trace %s", got.traceparent, traceID)
			}
			var client sdktrace.ReadOnlySpan
			for _, s := range spans.Ended() {
				if s.SpanKind() == trace.SpanKindClient {
					client = s
				}
			}
			switch {
			case !tt.wantClientSpan && parent.SpanID() != requestSpan:
				t.Errorf("call carried parent %s, want the request's span %s", parent.SpanID(), requestSpan)
			case tt.wantClientSpan && (client == nil || parent.SpanID() != client.SpanContext().SpanID()):
				t.Errorf("call carried parent %s, want a recorded client span", parent.SpanID())
			}
		})
	}
}
