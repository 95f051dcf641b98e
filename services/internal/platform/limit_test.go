package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestLimitInFlightShedsBeyondTheLimitAndRecovers(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	limited := LimitInFlight(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	}), 2, 1, slog.New(slog.DiscardHandler))

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
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	limited := LimitInFlight(next, 0, 1, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	limited.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("got %d, want the handler's 204", rec.Code)
	}
}

// A shed request is counted in the metrics as a 503 but gets no error line: the limiter's one
// warning stands for all the requests shed in its interval.
func TestShedRequestsAreCountedNotLoggedOneByOne(t *testing.T) {
	var logs bytes.Buffer
	log := NewLogger(&logs, Config{ServiceName: "gateway", Environment: "test", LogLevel: slog.LevelInfo})
	metrics := NewMetrics()
	release := make(chan struct{})
	entered := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
	})
	handler := Instrument(LimitInFlight(mux, 1, 1, log), log, metrics)
	done := make(chan struct{})
	go func() {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/slow", nil))
		close(done)
	}()
	<-entered
	const shed = 20
	for range shed {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("got %d beyond the limit, want 503", rec.Code)
		}
	}
	close(release)
	<-done

	if got := testutil.ToFloat64(metrics.httpRequests.WithLabelValues("unmatched", "GET", "503")); got != shed {
		t.Errorf("503s counted: %v, want %d", got, shed)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"level":"WARN"`) || !strings.Contains(lines[0], `"shed":1`) {
		t.Errorf("want one warning for the first shed request, got:\n%s", logs.String())
	}
}

func TestShedLogWarnsOncePerIntervalWithTheCountSince(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	now := time.Unix(0, 0)
	warn := newShedLog(log, 4, 10*time.Second, func() time.Time { return now })
	steps := []struct {
		advance  time.Duration
		sheds    int
		wantShed []int // the counts of the warnings these sheds write
	}{
		{advance: 0, sheds: 5, wantShed: []int{1}},           // the first at once, the rest wait
		{advance: 9 * time.Second, sheds: 3, wantShed: nil},  // still within the interval
		{advance: time.Second, sheds: 1, wantShed: []int{8}}, // 4 + 3 + this one
		{advance: time.Minute, sheds: 2, wantShed: []int{1}}, // after a quiet minute: at once again
	}
	for i, step := range steps {
		now = now.Add(step.advance)
		logs.Reset()
		for range step.sheds {
			warn.shed(context.Background())
		}
		var got []int
		for line := range strings.Lines(logs.String()) {
			var entry struct{ Shed int }
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatal(err)
			}
			got = append(got, entry.Shed)
		}
		if !slices.Equal(got, step.wantShed) {
			t.Errorf("step %d: warnings with counts %v, want %v", i, got, step.wantShed)
		}
	}
}

func TestLimitInFlightUnaryShedsCallsButNotHealthChecks(t *testing.T) {
	limited := LimitInFlightUnary(1, slog.New(slog.DiscardHandler))
	release := make(chan struct{})
	entered := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := limited(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/flotilla.users.v1.UserService/GetUser"},
			func(context.Context, any) (any, error) { entered <- struct{}{}; <-release; return "served", nil })
		done <- err
	}()
	<-entered

	served := func(context.Context, any) (any, error) { return "served", nil }
	tests := []struct {
		method   string
		wantCode codes.Code
	}{
		{method: "/flotilla.users.v1.UserService/GetUser", wantCode: codes.Unavailable},
		{method: "/flotilla.users.v1.UserService/CreateUser", wantCode: codes.Unavailable},
		{method: "/grpc.health.v1.Health/Check", wantCode: codes.OK},
	}
	for _, tt := range tests {
		resp, err := limited(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: tt.method}, served)
		if got := status.Code(err); got != tt.wantCode || (got == codes.OK && resp != "served") {
			t.Errorf("%s beyond the limit: %v, %v; want %v", tt.method, resp, err, tt.wantCode)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the call within the limit: %v", err)
	}
	if _, err := limited(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/flotilla.users.v1.UserService/GetUser"}, served); err != nil {
		t.Fatalf("after the burst: %v", err)
	}
}
