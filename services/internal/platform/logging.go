package platform

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// NewLogger writes JSON lines to w, each with the service and environment, and with request_id,
// trace_id and span_id when the context has them: the fields the log pipeline indexes, and by
// which a log line and its trace find each other.
func NewLogger(w io.Writer, cfg Config) *slog.Logger {
	handler := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel})
	return slog.New(contextHandler{handler}).With("service", cfg.ServiceName, "environment", cfg.Environment)
}

// traceIDKey names a trace's id in log lines and in the latency exemplars alike, so that Grafana
// follows both to the trace by one name (components/logging/logFields.json; the stack's tracing
// defaults read it there).
const traceIDKey = "trace_id"

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if span := trace.SpanContextFromContext(ctx); span.IsValid() {
		r.AddAttrs(slog.String(traceIDKey, span.TraceID().String()), slog.String("span_id", span.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
