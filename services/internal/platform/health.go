package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Check reports whether something the service needs to serve is usable; nil means yes.
type Check func(ctx context.Context) error

// Health answers the kubelet: /healthz while the process runs, /readyz while it should get traffic.
type Health struct {
	draining atomic.Bool
	mu       sync.RWMutex
	checks   map[string]Check
	onDrain  []func()
}

// NewHealth starts ready, with no checks.
func NewHealth() *Health { return &Health{checks: map[string]Check{}} }

// AddCheck makes readiness depend on check as well.
func (h *Health) AddCheck(name string, check Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = check
}

// OnDrain runs f when draining starts, for health signals of other protocols (gRPC's health service).
func (h *Health) OnDrain(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onDrain = append(h.onDrain, f)
}

// Drain makes readiness fail from now on, so the endpoints controller stops sending traffic.
func (h *Health) Drain() {
	if h.draining.Swap(true) {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, f := range h.onDrain {
		f()
	}
}

// Draining reports whether Drain has been called.
func (h *Health) Draining() bool { return h.draining.Load() }

// Ready reports readiness and, when not ready, why.
func (h *Health) Ready(ctx context.Context) (bool, map[string]string) {
	if h.Draining() {
		return false, map[string]string{"lifecycle": "draining"}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	failed := map[string]string{}
	for name, check := range h.checks {
		if err := check(ctx); err != nil {
			failed[name] = err.Error()
		}
	}
	return len(failed) == 0, failed
}

// Register adds /healthz and /readyz to mux.
func (h *Health) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 800*time.Millisecond)
		defer cancel()
		if ok, failed := h.Ready(ctx); !ok {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "failed": failed})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
