package platform

import (
	"net/http"
	"strconv"
)

// LimitInFlight serves at most max requests at once and sheds the rest at once with 503 and
// Retry-After, instead of queueing them: under overload the requests it does serve keep their
// latency, and callers (or the load balancer) retry elsewhere or later. max <= 0 means no limit.
func LimitInFlight(next http.Handler, max int, retryAfterSeconds int) http.Handler {
	if max <= 0 {
		return next
	}
	slots := make(chan struct{}, max)
	retryAfter := strconv.Itoa(retryAfterSeconds)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", retryAfter)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "overloaded; retry later", "request_id": RequestID(r.Context())})
		}
	})
}
