//go:build faults

package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
)

// TestFaultUsersRestartMidLoad stops users with SIGTERM under steady reads through the gateway
// and starts a new process on the same address. Reads wait for the channel to reconnect and are
// retried on UNAVAILABLE, so none may fail; creates are never retried, so some may.
func TestFaultUsersRestartMidLoad(t *testing.T) {
	usersBin, gatewayBin := buildService(t, "users"), buildService(t, "gateway")
	usersEnv := serviceEnv(t, nil)
	first, firstExited := startProcess(t, usersBin, usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"], "USERS_TIMEOUT": "3s"})
	startProcess(t, gatewayBin, gatewayEnv)
	base := "http://" + gatewayEnv["LISTEN_ADDR"]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 5 * time.Second}

	var restartedAt, backAt, created atomic.Int64
	go func() {
		time.Sleep(time.Second)
		restartedAt.Store(time.Now().UnixNano())
		if err := first.Process.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
			return
		}
		<-firstExited
		startProcess(t, usersBin, usersEnv)
		backAt.Store(time.Now().UnixNano())
	}()
	results := load(9, 4*time.Second, 200_000, func(worker int) result {
		if worker == 8 { // one writer among eight readers
			time.Sleep(20 * time.Millisecond)
			body := fmt.Sprintf(`{"name":"Bo","email":"bo%d@example.com"}`, created.Add(1))
			r := httpDo(client, post(base+"/v1/users", "application/json", body))
			r.kind = "create"
			return r
		}
		r := httpDo(client, get(base+"/v1/users/1"))
		r.kind = "read"
		return r
	})
	if backAt.Load() == 0 {
		t.Fatal("users was not restarted during the load")
	}
	isRead := func(r result) bool { return r.kind == "read" }
	reads := count(results, isRead)
	failedReads := count(results, func(r result) bool { return isRead(r) && (r.err != nil || r.status != http.StatusOK) })
	creates := len(results) - reads
	failedCreates := count(results, func(r result) bool { return !isRead(r) && (r.err != nil || r.status != http.StatusCreated) })
	figure(t, "restart.reads", float64(reads), "requests")
	figure(t, "restart.failed_reads", float64(failedReads), "requests")
	figure(t, "restart.creates", float64(creates), "requests")
	figure(t, "restart.failed_creates", float64(failedCreates), "requests")
	figure(t, "restart.users_down", float64(backAt.Load()-restartedAt.Load())/1e6, "ms")
	figure(t, "restart.read_p99", percentile(results, 0.99, isRead), "ms")
	if failedReads != 0 {
		t.Errorf("%d of %d reads failed while users restarted; want 0", failedReads, reads)
	}
	if reads < 1000 {
		t.Errorf("only %d reads: the load did not run", reads)
	}
}

// slowUsers answers every call after a delay far beyond the gateway's deadline.
type slowUsers struct {
	usersv1.UnimplementedUserServiceServer
	delay time.Duration
}

func (s slowUsers) GetUser(ctx context.Context, req *usersv1.UserRequest) (*usersv1.UserResponse, error) {
	time.Sleep(s.delay)
	return &usersv1.UserResponse{UserId: req.GetUserId(), Name: "Slow", Email: "slow@example.com"}, nil
}

// TestFaultSlowUsers points the gateway at a users service that answers after a second, with a
// 200 ms deadline: every request must get 504 within the deadline, and the gateway's goroutines
// and memory must stay bounded and come back down.
func TestFaultSlowUsers(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	usersv1.RegisterUserServiceServer(server, slowUsers{delay: time.Second})
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)

	const timeout, workers = 200 * time.Millisecond, 32
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": listener.Addr().String(), "USERS_TIMEOUT": timeout.String()})
	// Readiness checks the users health service, which this fake lacks: wait for liveness instead.
	gateway, _ := startProcessUntil(t, buildService(t, "gateway"), gatewayEnv, "/healthz")
	base := "http://" + gatewayEnv["LISTEN_ADDR"]
	idleGoroutines, idleRSS := goroutines(t, gatewayEnv["DEBUG_ADDR"]), rssKB(t, gateway.Process.Pid)

	var peakGoroutines, peakRSS atomic.Int64
	stopSampling := every(100*time.Millisecond, func() {
		if n := int64(goroutines(t, gatewayEnv["DEBUG_ADDR"])); n > peakGoroutines.Load() {
			peakGoroutines.Store(n)
		}
		if kb := int64(rssKB(t, gateway.Process.Pid)); kb > peakRSS.Load() {
			peakRSS.Store(kb)
		}
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 5 * time.Second}
	results := load(workers, 3*time.Second, 50_000, func(int) result { return httpDo(client, get(base+"/v1/users/1")) })
	stopSampling()
	time.Sleep(time.Second)
	afterGoroutines := goroutines(t, gatewayEnv["DEBUG_ADDR"])

	timeouts := count(results, statusIs(http.StatusGatewayTimeout))
	figure(t, "slow.requests", float64(len(results)), "requests")
	figure(t, "slow.gateway_timeouts", float64(timeouts), "requests")
	figure(t, "slow.latency_max", percentile(results, 1, statusIs(http.StatusGatewayTimeout)), "ms")
	figure(t, "slow.goroutines_idle", float64(idleGoroutines), "goroutines")
	figure(t, "slow.goroutines_peak", float64(peakGoroutines.Load()), "goroutines")
	figure(t, "slow.goroutines_after", float64(afterGoroutines), "goroutines")
	figure(t, "slow.rss_idle", float64(idleRSS)/1024, "MiB")
	figure(t, "slow.rss_peak", float64(peakRSS.Load())/1024, "MiB")
	if timeouts != len(results) || len(results) < workers {
		t.Errorf("%d of %d requests got 504; want all (at least %d)", timeouts, len(results), workers)
	}
	if worst := percentile(results, 1, statusIs(http.StatusGatewayTimeout)); worst > float64((timeout + 300*time.Millisecond).Milliseconds()) {
		t.Errorf("slowest 504 took %.0f ms; the deadline is %s", worst, timeout)
	}
	// Each in-flight request holds a few goroutines (connection, handler, gRPC stream); nothing may pile up.
	if peak := int(peakGoroutines.Load()); peak > idleGoroutines+6*workers {
		t.Errorf("goroutines peaked at %d with %d clients (idle %d): unbounded", peak, workers, idleGoroutines)
	}
	if afterGoroutines > idleGoroutines+workers {
		t.Errorf("goroutines stayed at %d after the load (idle %d)", afterGoroutines, idleGoroutines)
	}
	if peakRSS.Load() > int64(idleRSS)+64*1024 {
		t.Errorf("RSS grew from %d to %d KiB", idleRSS, peakRSS.Load())
	}
}

// TestFaultBadRequestsUnderLoad runs good reads alone (before and after) and beside oversized
// bodies, malformed JSON, unknown paths and slowloris connections. The bad requests must get their 4xx, the
// slowloris connections must be cut by the header timeout; the good traffic's latency with and
// without them is a figure.
func TestFaultBadRequestsUnderLoad(t *testing.T) {
	usersEnv := serviceEnv(t, nil)
	startProcess(t, buildService(t, "users"), usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"]})
	startProcess(t, buildService(t, "gateway"), gatewayEnv)
	base := "http://" + gatewayEnv["LISTEN_ADDR"]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 5 * time.Second}
	good := func(int) result { return httpDo(client, get(base+"/v1/users/1")) }
	// Half of the good traffic alone runs before the bad traffic and half after, so that a drift
	// of the machine's speed during the test weighs on both sides alike.
	alone := load(4, 1500*time.Millisecond, 100_000, good)

	// Slowloris: connections that send a header line now and then and never finish; the
	// server's 5 s header timeout (platform.NewHTTPServer) must cut them.
	const slowConns = 50
	var cut atomic.Int64
	var slow sync.WaitGroup
	for range slowConns {
		slow.Go(func() {
			conn, err := net.Dial("tcp", gatewayEnv["LISTEN_ADDR"])
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			_, _ = conn.Write([]byte("GET /v1/users/1 HTTP/1.1\r\nHost: x\r\n"))
			for range 16 {
				time.Sleep(500 * time.Millisecond)
				if _, err := conn.Write([]byte("X-Slow: 1\r\n")); err != nil {
					cut.Add(1)
					return
				}
			}
		})
	}
	oversized := `{"name":"` + strings.Repeat("x", 20<<10) + `","email":"a@example.com"}`
	badKinds := []struct {
		name string
		req  func() (*http.Request, error)
		want int
	}{
		{"oversized body", post(base+"/v1/users", "application/json", oversized), http.StatusRequestEntityTooLarge},
		{"malformed JSON", post(base+"/v1/users", "application/json", `{"name":`), http.StatusBadRequest},
		{"unknown path", get(base + "/v1/nothing-here"), http.StatusNotFound},
	}
	var badResults [3][]result
	var notFourXX int
	var badMu sync.Mutex
	var badWorkers sync.WaitGroup
	badWorkers.Go(func() {
		badClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 3}, Timeout: 5 * time.Second}
		results := load(3, 3*time.Second, 30_000, func(worker int) result {
			time.Sleep(5 * time.Millisecond)
			return httpDo(badClient, badKinds[worker].req)
		})
		badMu.Lock()
		defer badMu.Unlock()
		for i := range badKinds {
			for _, r := range results {
				if r.err == nil && r.status == badKinds[i].want {
					badResults[i] = append(badResults[i], r)
				}
			}
		}
		notFourXX = count(results, func(r result) bool { return r.err != nil || r.status >= 500 || r.status < 400 })
		if notFourXX != 0 {
			t.Errorf("%d bad requests got no 4xx", notFourXX)
		}
	})
	beside := load(4, 3*time.Second, 200_000, good)
	badWorkers.Wait()
	slow.Wait()
	alone = append(alone, load(4, 1500*time.Millisecond, 100_000, good)...)

	figure(t, "bad.good_alone_p50", percentile(alone, 0.5, statusIs(http.StatusOK)), "ms")
	figure(t, "bad.good_beside_p50", percentile(beside, 0.5, statusIs(http.StatusOK)), "ms")
	figure(t, "bad.good_alone_p99", percentile(alone, 0.99, statusIs(http.StatusOK)), "ms")
	figure(t, "bad.good_beside_p99", percentile(beside, 0.99, statusIs(http.StatusOK)), "ms")
	figure(t, "bad.good_alone_rate", float64(len(alone))/3, "req/s")
	figure(t, "bad.good_beside_rate", float64(len(beside))/3, "req/s")
	for i, kind := range badKinds {
		figure(t, "bad."+strings.ReplaceAll(kind.name, " ", "_"), float64(len(badResults[i])), "requests")
		if len(badResults[i]) == 0 {
			t.Errorf("no %s got %d", kind.name, kind.want)
		}
	}
	figure(t, "bad.slowloris_cut", float64(cut.Load()), "connections")
	figure(t, "bad.not_4xx", float64(notFourXX), "requests")
	if failed := len(beside) - count(beside, statusIs(http.StatusOK)); failed != 0 {
		t.Errorf("%d good requests failed beside the bad ones", failed)
	}
	if cut.Load() != slowConns {
		t.Errorf("%d of %d slowloris connections were cut by the header timeout", cut.Load(), slowConns)
	}
}
