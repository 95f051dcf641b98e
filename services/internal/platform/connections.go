package platform

import (
	"log/slog"
	"net"
	"net/http"
	"sync"

	"golang.org/x/net/netutil"
)

// limitConnections caps a listener at max open connections: beyond it Accept waits, and new
// connections queue in the kernel's backlog until one closes. A flood of connections then costs
// the service a bounded amount of memory (about 23 KiB each when idle, measured) instead of
// getting it killed for memory with every request it was serving.
func limitConnections(l net.Listener, max int) net.Listener {
	return netutil.LimitListener(l, max)
}

// closeIdleNearLimit keeps idle keep-alive connections from holding the connection limit while
// others wait: at seven eighths of max open connections it turns keep-alives off, which closes
// the idle ones and every other after its response, and turns them back on once at most half
// are open. Without it, max idle clients would keep everyone else waiting for IdleTimeout.
func closeIdleNearLimit(srv *http.Server, max int, log *slog.Logger) {
	high, low := max-max/8, max/2
	var mu sync.Mutex
	open, shedding := 0, false
	previous := srv.ConnState
	srv.ConnState = func(c net.Conn, state http.ConnState) {
		if previous != nil {
			previous(c, state)
		}
		delta := 0
		switch state {
		case http.StateNew:
			delta = 1
		case http.StateClosed, http.StateHijacked:
			delta = -1
		default: // active and idle: every request passes through them, and they change no count
			return
		}
		mu.Lock()
		defer mu.Unlock()
		open += delta
		switch {
		case !shedding && open >= high:
			shedding = true
			srv.SetKeepAlivesEnabled(false)
			log.Warn("near the connection limit: keep-alive off, idle connections closed", "open", open, "limit", max)
		case shedding && open <= low:
			shedding = false
			srv.SetKeepAlivesEnabled(true)
			log.Info("keep-alive back on", "open", open, "limit", max)
		}
	}
}
