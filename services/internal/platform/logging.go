package platform

import (
	"context"
	"io"
	"log/slog"
)

// NewLogger writes JSON lines to w, each with the service and environment, and with request_id and
// trace_id when the context has them: the fields the log pipeline indexes.
func NewLogger(w io.Writer, cfg Config) *slog.Logger {
	handler := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel})
	return slog.New(contextHandler{handler}).With("service", cfg.ServiceName, "environment", cfg.Environment)
}

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	ids := idsOf(ctx)
	if ids.request != "" {
		r.AddAttrs(slog.String("request_id", ids.request))
	}
	if ids.trace != "" {
		r.AddAttrs(slog.String("trace_id", ids.trace))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
