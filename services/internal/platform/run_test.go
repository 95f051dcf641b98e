package platform

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"flotilla/services/internal/testnet"
)

func TestRunDrainsInOrder(t *testing.T) {
	cfg := Config{ServiceName: "t", ListenAddr: testnet.FreeAddr(t), OpsAddr: testnet.FreeAddr(t), DebugAddr: testnet.FreeAddr(t), ShutdownTimeout: 5 * time.Second}
	log := NewLogger(io.Discard, cfg)
	inFlight, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(inFlight)
		<-release
		fmt.Fprint(w, "done")
	})
	health := NewHealth()
	ctx, stop := context.WithCancel(context.Background())
	finished := make(chan error, 1)
	go func() {
		finished <- Run(ctx, cfg, log, health, NewMetrics(), HTTP{NewHTTPServer(mux, log)})
	}()
	waitFor(t, func() bool { return statusOf("http://"+cfg.OpsAddr+"/readyz") == 200 })
	if got := statusOf("http://" + cfg.DebugAddr + "/debug/pprof/"); got != 200 {
		t.Errorf("pprof on the debug address: %d", got)
	}
	if got := statusOf("http://" + cfg.ListenAddr + "/debug/pprof/"); got != 404 {
		t.Errorf("pprof must not be on the public address: %d", got)
	}

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + cfg.ListenAddr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		slow <- fmt.Sprintf("%d %s", resp.StatusCode, body)
	}()
	<-inFlight
	stop() // as SIGTERM would
	waitFor(t, func() bool { return statusOf("http://"+cfg.OpsAddr+"/readyz") == 503 })
	if got := statusOf("http://" + cfg.OpsAddr + "/healthz"); got != 200 {
		t.Errorf("liveness while draining: %d, want 200", got)
	}
	select {
	case err := <-finished:
		t.Fatalf("Run returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if got := <-slow; got != "200 done" {
		t.Errorf("in-flight request got %q, want 200 done", got)
	}
	if err := <-finished; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// While a stopping service drains, it keeps answering, on kept-alive connections and new ones,
// and tells each client to leave its connection: none is left for Shutdown to close under a request.
func TestRunDrainKeepsServingAndClosesEachConnection(t *testing.T) {
	const drain = 2 * time.Second
	cfg := Config{ServiceName: "t", ListenAddr: testnet.FreeAddr(t), OpsAddr: testnet.FreeAddr(t), DebugAddr: testnet.FreeAddr(t),
		DrainPeriod: drain, ShutdownTimeout: 5 * time.Second}
	log := NewLogger(io.Discard, cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") })
	ctx, stop := context.WithCancel(context.Background())
	finished := make(chan error, 1)
	go func() { finished <- Run(ctx, cfg, log, NewHealth(), NewMetrics(), HTTP{NewHTTPServer(mux, log)}) }()
	waitFor(t, func() bool { return statusOf("http://"+cfg.OpsAddr+"/readyz") == 200 })

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 5 * time.Second}
	type answer struct {
		status        int
		reused, close bool
	}
	get := func() answer {
		t.Helper()
		var reused bool
		req, _ := http.NewRequest("GET", "http://"+cfg.ListenAddr+"/hello", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) { reused = c.Reused }}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET /hello: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return answer{resp.StatusCode, reused, resp.Close}
	}
	if got := get(); got != (answer{200, false, false}) {
		t.Fatalf("before the drain: %+v, want 200 on a new connection, kept alive", got)
	}
	stopped := time.Now()
	stop() // as SIGTERM would
	waitFor(t, func() bool { return statusOf("http://"+cfg.OpsAddr+"/readyz") == 503 })
	if got := get(); got != (answer{200, true, true}) {
		t.Errorf("draining, on the kept-alive connection: %+v, want 200 with Connection: close", got)
	}
	// A client that still reaches the pod (the Service has not caught up) is served, and told to leave.
	if got := get(); got != (answer{200, false, true}) {
		t.Errorf("draining, on a new connection: %+v, want 200 with Connection: close", got)
	}
	if err := <-finished; err != nil {
		t.Errorf("Run: %v", err)
	}
	if took := time.Since(stopped); took < drain {
		t.Errorf("Run returned %v after the stop, before its %v drain ended", took, drain)
	}
}

func TestRunReportsBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := Config{ListenAddr: l.Addr().String(), OpsAddr: testnet.FreeAddr(t), DebugAddr: testnet.FreeAddr(t), ShutdownTimeout: time.Second}
	log := NewLogger(io.Discard, cfg)
	err = Run(context.Background(), cfg, log, NewHealth(), NewMetrics(), HTTP{NewHTTPServer(http.NewServeMux(), log)})
	if err == nil {
		t.Fatal("Run started on a busy port")
	}
}

func statusOf(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
