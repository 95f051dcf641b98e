package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"google.golang.org/grpc"
)

// Server is the public server of a service: an *http.Server or a gRPC server, through the adapters below.
type Server interface {
	Serve(net.Listener) error
	// Shutdown stops accepting, lets accepted requests finish until ctx ends, then closes.
	Shutdown(ctx context.Context) error
}

// NewHTTPServer returns an http.Server with every timeout set, so a slow or idle client cannot
// hold a connection or a goroutine for ever.
func NewHTTPServer(handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// HTTP adapts an http.Server; ErrServerClosed is the normal end, not a failure.
type HTTP struct{ *http.Server }

func (s HTTP) Serve(l net.Listener) error {
	if err := s.Server.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// GRPC adapts a grpc.Server: a graceful stop, cut short when ctx ends.
type GRPC struct{ *grpc.Server }

func (s GRPC) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Stop()
		return ctx.Err()
	}
}

// Run serves public (at most cfg.MaxConnections connections at once), the operations endpoints
// and pprof until ctx ends (SIGTERM), then shuts down in order: readiness fails and the public
// server keeps serving for cfg.DrainPeriod while the pod leaves its Service's endpoints, then
// finishes what it accepted within cfg.ShutdownTimeout; the operations server goes last so
// probes are answered throughout.
func Run(ctx context.Context, cfg Config, log *slog.Logger, health *Health, metrics *Metrics, public Server) error {
	started := time.Now()
	publicListener, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR: %w", err)
	}
	capped := cfg.MaxConnections > 0 // 0, as in a Config written out by hand, means no cap
	if capped {
		publicListener = limitConnections(publicListener, cfg.MaxConnections)
	}
	if h, ok := public.(HTTP); ok {
		if capped {
			closeIdleNearLimit(h.Server, cfg.MaxConnections, log)
		}
		h.Handler = closeWhileDraining(h.Handler, health)
	}
	opsListener, err := net.Listen("tcp", cfg.OpsAddr)
	if err != nil {
		publicListener.Close()
		return fmt.Errorf("listen on OPS_ADDR: %w", err)
	}
	debugListener, err := net.Listen("tcp", cfg.DebugAddr)
	if err != nil {
		publicListener.Close()
		opsListener.Close()
		return fmt.Errorf("listen on DEBUG_ADDR: %w", err)
	}

	opsMux := http.NewServeMux()
	health.Register(opsMux)
	opsMux.Handle("GET /metrics", metrics.Handler())
	ops := HTTP{NewHTTPServer(opsMux, log)}
	debug := HTTP{NewHTTPServer(debugMux(), log)}
	// Profiles take as long as they are asked to; the debug port is loopback-only, so no write timeout.
	debug.WriteTimeout = 0

	failed := make(chan error, 3)
	serve := func(name string, s Server, l net.Listener) {
		if err := s.Serve(l); err != nil {
			failed <- fmt.Errorf("%s server: %w", name, err)
		}
	}
	go serve("public", public, publicListener)
	go serve("ops", ops, opsListener)
	go serve("debug", debug, debugListener)
	log.Info("serving", "listen", publicListener.Addr().String(), "ops", opsListener.Addr().String(),
		"debug", debugListener.Addr().String(), "startup_ms", float64(time.Since(started).Microseconds())/1000)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("draining", "period", cfg.DrainPeriod, "timeout", cfg.ShutdownTimeout)
	case runErr = <-failed:
		log.Error("server failed; shutting down", "err", runErr)
	}
	health.Drain()
	if runErr == nil { // a failed server drains nothing: shut down at once
		select {
		case <-time.After(cfg.DrainPeriod):
		case runErr = <-failed:
			log.Error("server failed while draining; shutting down", "err", runErr)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := public.Shutdown(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("public server did not finish in-flight requests: %w", err))
	}
	runErr = errors.Join(runErr, debug.Shutdown(shutdownCtx), ops.Shutdown(shutdownCtx))
	log.Info("stopped", "err", runErr)
	return runErr
}

// closeWhileDraining answers each request of a draining service with "Connection: close", so a
// client leaves its kept-alive connection after this response, told so, and its next request opens
// a new one through the Service to a pod that is not stopping. Without it the client keeps the
// connection until Shutdown closes it as idle, and a request it is sending on it just then is
// answered by a reset.
func closeWhileDraining(next http.Handler, health *Health) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if health.Draining() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
