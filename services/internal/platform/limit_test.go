package platform

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestLimitInFlightShedsBeyondTheLimitAndRecovers(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	limited := LimitInFlight(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	}), 2, 1)

	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			limited.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			codes <- rec.Code
		}()
	}
	<-entered
	<-entered

	shed := httptest.NewRecorder()
	limited.ServeHTTP(shed, httptest.NewRequest(http.MethodGet, "/", nil))
	if shed.Code != http.StatusServiceUnavailable || shed.Header().Get("Retry-After") != "1" {
		t.Fatalf("third request: got %d, Retry-After %q; want 503 with Retry-After 1", shed.Code, shed.Header().Get("Retry-After"))
	}

	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusNoContent {
			t.Fatalf("a request within the limit got %d", code)
		}
	}
	after := httptest.NewRecorder()
	limited.ServeHTTP(after, httptest.NewRequest(http.MethodGet, "/", nil))
	if after.Code != http.StatusNoContent {
		t.Fatalf("after the burst: got %d, want 204", after.Code)
	}
}

func TestLimitInFlightOfZeroIsNoLimit(t *testing.T) {
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if got := LimitInFlight(next, 0, 1); got == nil {
		t.Fatal("nil handler")
	}
}
