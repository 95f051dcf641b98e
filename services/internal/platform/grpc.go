package platform

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver/dns"
	"google.golang.org/grpc/status"
)

// UnaryServerInterceptor gives gRPC calls what Instrument gives HTTP requests: a server span
// continuing the caller's trace (health checks apart), a request id (the caller's x-request-id,
// or the span's id), RED metrics by method with the trace as exemplar, panic recovery and a log line.
func UnaryServerInterceptor(log *slog.Logger, metrics *Metrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		traced := !isHealthCheck(info.FullMethod)
		span := trace.SpanFromContext(ctx)
		if traced {
			ctx, span = startServerSpan(ctx, incomingCarrier{ctx}, spanName(info.FullMethod))
		}
		ctx = withRequestID(ctx, requestID(incoming(ctx, "x-request-id"), span.SpanContext()))
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "handler panicked", "panic", p, "method", info.FullMethod)
				err = status.Error(codes.Internal, "internal error")
			}
			code := status.Code(err)
			if traced {
				endGRPCSpan(span, info.FullMethod, code, err, false)
			}
			metrics.grpcServer.record(ctx, grpcKey{info.FullMethod, code}, time.Since(start).Seconds())
			level := slog.LevelDebug
			if code == codes.Internal || code == codes.Unknown || code == codes.DataLoss {
				level = slog.LevelError
			}
			if log.Enabled(ctx, level) {
				log.LogAttrs(ctx, level, "call", slog.String("method", info.FullMethod), slog.String("code", code.String()), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
			}
		}()
		return handler(ctx, req)
	}
}

// UnaryClientInterceptor makes a client span for each call (health checks apart; and not in a
// trace that is not recorded, startClientSpan), passes the trace on in traceparent with the
// request id, and records client-side RED metrics.
func UnaryClientInterceptor(metrics *Metrics) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		callCtx, span := ctx, trace.Span(nil)
		out := newOutgoingCarrier()
		if !isHealthCheck(method) {
			callCtx, span = startClientSpan(ctx, spanName(method))
			otel.GetTextMapPropagator().Inject(callCtx, out)
		}
		if id := RequestID(ctx); id != "" {
			out.Set("x-request-id", id)
		}
		err := invoker(out.into(callCtx), method, req, reply, cc, opts...)
		code := status.Code(err)
		if span != nil {
			endGRPCSpan(span, method, code, err, true)
		}
		metrics.grpcClient.record(ctx, grpcKey{method, code}, time.Since(start).Seconds())
		return err
	}
}

// incoming is the first value of a caller's metadata key, or "". It copies only that key's
// values, where FromIncomingContext copies the whole metadata.
func incoming(ctx context.Context, key string) string {
	if values := metadata.ValueFromIncomingContext(ctx, key); len(values) > 0 {
		return values[0]
	}
	return ""
}

// Client-side balancing over a headless Service: the platform gives every gRPC service a headless
// Service (one DNS address per ready pod), and callers dial `dns:///name:port` with round_robin,
// one connection per pod. gRPC re-resolves only when a connection ends, so servers age
// connections out after MaxConnectionAge (gRPC adds ±10% jitter): a caller then finds the pods
// an autoscaler added within about that time, and re-resolution may come as often as
// minResolutionInterval (gRPC's own default, 30 s, would hold new pods back for longer).
const (
	MaxConnectionAge      = 20 * time.Second
	maxConnectionAgeGrace = 30 * time.Second
	minResolutionInterval = 5 * time.Second
)

func init() { dns.SetMinResolutionInterval(minResolutionInterval) }

// NewGRPCServer returns the gRPC server of a service, with what every call gets: a server span
// continuing the caller's trace (health checks apart), a request id, RED metrics,
// panic recovery and a log line (UnaryServerInterceptor), outside the in-flight limit so that
// shed calls are counted too (LimitInFlightUnary). Messages are capped at 1 MiB. Connections are
// aged out (MaxConnectionAge), so that callers re-resolve and spread their calls over new pods.
//
// Calls run on maxInFlight workers the server keeps, not on a goroutine each: a new goroutine
// starts on a small stack and grows it (a copy) on each call through the interceptors, which
// measured at about a fifth of users' CPU under load. Beyond maxInFlight calls the server starts
// goroutines again, only to shed them. maxInFlight <= 0 (no limit) keeps a goroutine per call.
func NewGRPCServer(log *slog.Logger, metrics *Metrics, maxInFlight int) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(log, metrics), LimitInFlightUnary(maxInFlight, log)),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: MaxConnectionAge, MaxConnectionAgeGrace: maxConnectionAgeGrace}),
		grpc.MaxRecvMsgSize(1 << 20),
	}
	if maxInFlight > 0 {
		opts = append(opts, grpc.NumStreamWorkers(uint32(maxInFlight)))
	}
	return grpc.NewServer(opts...)
}
