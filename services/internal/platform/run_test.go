package platform

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"flotilla/services/internal/testnet"
)

// startRun runs Run on free loopback addresses with handler as the public HTTP server, draining
// for drain, and waits until it is ready. stop stands for SIGTERM; finished delivers Run's result.
func startRun(t *testing.T, handler http.Handler, drain time.Duration) (cfg Config, stop context.CancelFunc, finished <-chan error) {
	t.Helper()
	cfg = Config{ServiceName: "t", ListenAddr: testnet.FreeAddr(t), OpsAddr: testnet.FreeAddr(t), DebugAddr: testnet.FreeAddr(t),
		DrainPeriod: drain, ShutdownTimeout: 5 * time.Second}
	log := NewLogger(io.Discard, cfg)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	result := make(chan error, 1)
	go func() { result <- Run(ctx, cfg, log, NewHealth(), NewMetrics(), HTTP{NewHTTPServer(handler, log)}) }()
	waitFor(t, func() bool { return statusOf("http://"+cfg.OpsAddr+"/readyz") == 200 })
	return cfg, stop, result
}

func TestRunDrainsInOrder(t *testing.T) {
	inFlight, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(inFlight)
		<-release
		fmt.Fprint(w, "done")
	})
	cfg, stop, finished := startRun(t, mux, 0)
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") })
	cfg, stop, finished := startRun(t, mux, drain)

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

// A rollout, modelled: clients reach the stopping service through a dialer that stands for its
// Service, which stops sending new connections to it a third of the way into the drain. Over
// several stops under a load of non-idempotent requests (which no client resends), no request
// fails on a connection that served a response during the drain: each such response said
// "Connection: close". Sleeping through the drain and then stopping, as a preStop hook did,
// failed about six requests a stop here, on connections in use until Shutdown closed them.
//
// What no server can prevent is logged, not failed: a connection idle since before SIGTERM (a
// client's spare) that Shutdown closes as the client picks it; seen about once in 50 stops with
// the CPU busy, never on an idle machine.
func TestRunStopsUnderLoadWithNoFailedRequest(t *testing.T) {
	const stops, clients, drain = 5, 8, 300 * time.Millisecond
	echo := http.NewServeMux()
	echo.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })
	staying, err := net.Listen("tcp", testnet.FreeAddr(t)) // the pods that stay
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = http.Serve(staying, echo) }()
	t.Cleanup(func() { staying.Close() })

	var answered atomic.Int64
	for range stops {
		cfg, stop, finished := startRun(t, echo, drain)

		var endpointsMoved, loadEnds atomic.Bool
		var dialer net.Dialer
		transport := &http.Transport{MaxIdleConnsPerHost: clients, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			if endpointsMoved.Load() {
				return dialer.DialContext(ctx, network, staying.Addr().String())
			}
			return dialer.DialContext(ctx, network, cfg.ListenAddr)
		}}
		client := &http.Client{Transport: transport, Timeout: 5 * time.Second}
		failures := make(chan error, clients)
		var stoppedAt atomic.Int64 // UnixNano of SIGTERM
		var load sync.WaitGroup
		for range clients {
			load.Go(func() {
				for !loadEnds.Load() {
					var conn httptrace.GotConnInfo
					req, _ := http.NewRequest("POST", "http://service/echo", strings.NewReader("x"))
					req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) { conn = c }}))
					sent := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						lastAnswer := sent.Add(-conn.IdleTime)
						if conn.Reused && (!conn.WasIdle || lastAnswer.UnixNano() > stoppedAt.Load()) {
							failures <- fmt.Errorf("%w, on a connection that answered during the drain", err)
						} else {
							t.Logf("a request failed on a connection idle since before SIGTERM: %v", err)
						}
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					answered.Add(1)
				}
			})
		}
		time.Sleep(100 * time.Millisecond)
		stoppedAt.Store(time.Now().UnixNano())
		stop() // SIGTERM
		time.Sleep(drain / 3)
		endpointsMoved.Store(true)
		if err := <-finished; err != nil {
			t.Errorf("Run: %v", err)
		}
		loadEnds.Store(true)
		load.Wait()
		transport.CloseIdleConnections()
		close(failures)
		for err := range failures {
			t.Errorf("a request failed while the service stopped: %v", err)
		}
	}
	if answered.Load() < stops*clients {
		t.Errorf("only %d requests answered: the load did not run", answered.Load())
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
