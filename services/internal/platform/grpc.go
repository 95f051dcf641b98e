package platform

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver/dns"
	"google.golang.org/grpc/status"
)

// UnaryServerInterceptor gives gRPC calls what Instrument gives HTTP requests: ids taken from the
// caller's metadata (or made), RED metrics by method, panic recovery and a log line.
func UnaryServerInterceptor(log *slog.Logger, metrics *Metrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		ctx = withIDs(ctx, hopIDs(incoming(ctx, "x-request-id"), incoming(ctx, "traceparent")))
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "handler panicked", "panic", p, "method", info.FullMethod)
				err = status.Error(codes.Internal, "internal error")
			}
			code := status.Code(err)
			metrics.grpcServer.record(grpcKey{info.FullMethod, code}, time.Since(start).Seconds())
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

// UnaryClientInterceptor passes the caller's request and trace ids on and records client-side RED metrics.
func UnaryClientInterceptor(metrics *Metrics) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		// One append for both ids: each append copies the outgoing metadata.
		switch traceparent, requestID := idsOf(ctx).outgoing(); {
		case traceparent != "" && requestID != "":
			ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", traceparent, "x-request-id", requestID)
		case traceparent != "":
			ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", traceparent)
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		metrics.grpcClient.record(grpcKey{method, status.Code(err)}, time.Since(start).Seconds())
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

// NewGRPCServer returns the gRPC server of a service, with what every call gets: ids, RED metrics,
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
