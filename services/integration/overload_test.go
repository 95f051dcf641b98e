//go:build faults

package integration

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The overload fault tests: more work than a service may take at once, shed by its in-flight
// limit (platform.LimitInFlight for the gateway, LimitInFlightUnary for users).

// TestFaultOverload sends 512 clients at a gateway that admits 4 requests at once. The excess
// must be shed at once with 503 and Retry-After. The unloaded baseline runs as many clients as the
// limit admits (a full gateway, nothing in excess), so the comparison measures what the 508
// clients beyond the limit cost the served ones. Three more runs put that in context, as figures:
// clients that ignore Retry-After (a retry storm), a limit of 16 (the latency/throughput dial),
// and no limit at all.
func TestFaultOverload(t *testing.T) {
	usersEnv := serviceEnv(t, nil)
	startProcess(t, buildService(t, "users"), usersEnv)
	gatewayBin := buildService(t, "gateway")
	gateway := func(limit int) string {
		env := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"], "MAX_IN_FLIGHT": strconv.Itoa(limit)})
		startProcess(t, gatewayBin, env)
		return "http://" + env["LISTEN_ADDR"] + "/v1/users/1"
	}
	const limit, clients, duration = 4, 512, 3 * time.Second
	url := gateway(limit)
	quiet := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: limit}, Timeout: 5 * time.Second}
	unloaded := load(limit, duration, 100_000, func(int) result { return httpDo(quiet, get(url)) })
	busy := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 5 * time.Second}
	overload := func(url string, honour bool) []result {
		return load(clients, duration, 400_000, func(int) result {
			r := httpDo(busy, get(url))
			if honour && r.status == http.StatusServiceUnavailable {
				time.Sleep(retryAfterJittered(t, r.retryAfter))
			}
			return r
		})
	}
	polite := overload(url, true)
	storm := overload(url, false)
	wide := overload(gateway(16), true)
	unlimited := overload(gateway(100_000), false)

	served, shed := statusIs(http.StatusOK), statusIs(http.StatusServiceUnavailable)
	rate := func(results []result) float64 { return float64(count(results, served)) / duration.Seconds() }
	figure(t, "overload.unloaded_p99", percentile(unloaded, 0.99, served), "ms")
	figure(t, "overload.unloaded_rate", rate(unloaded), "req/s")
	figure(t, "overload.served_p99", percentile(polite, 0.99, served), "ms")
	figure(t, "overload.served_rate", rate(polite), "req/s")
	figure(t, "overload.shed_fraction", float64(count(polite, shed))/float64(len(polite)), "")
	figure(t, "overload.storm_p99", percentile(storm, 0.99, served), "ms")
	figure(t, "overload.storm_rate", rate(storm), "req/s")
	figure(t, "overload.storm_shed_fraction", float64(count(storm, shed))/float64(len(storm)), "")
	figure(t, "overload.wide_p99", percentile(wide, 0.99, served), "ms")
	figure(t, "overload.wide_rate", rate(wide), "req/s")
	figure(t, "overload.unlimited_p99", percentile(unlimited, 0.99, served), "ms")
	figure(t, "overload.unlimited_rate", rate(unlimited), "req/s")
	for name, results := range map[string][]result{"polite": polite, "storm": storm, "limit 16": wide} {
		if count(results, shed) == 0 {
			t.Errorf("%s: %d clients shed nothing", name, clients)
		}
		if other := len(results) - count(results, served) - count(results, shed); other != 0 {
			t.Errorf("%s: %d requests were neither served nor shed (errors or other statuses)", name, other)
		}
		if missing := count(results, func(r result) bool { return shed(r) && r.retryAfter == "" }); missing != 0 {
			t.Errorf("%s: %d shed requests came without Retry-After", name, missing)
		}
	}
}

// retryAfterJittered is how long a client honouring Retry-After (delay-seconds) waits: between
// half and one and a half times the delay, so that clients shed together do not return together.
func retryAfterJittered(t *testing.T, header string) time.Duration {
	seconds, err := strconv.Atoi(header)
	if err != nil || seconds < 0 {
		t.Errorf("Retry-After %q: want delay-seconds", header)
		return time.Second
	}
	delay := time.Duration(seconds) * time.Second
	return delay/2 + rand.N(delay+1)
}

// TestFaultUsersSheds lets users serve one call at a time behind a gateway with 64 clients: users
// sheds the excess with UNAVAILABLE, the gateway retries those reads (on the same pod here,
// within its retry budget) and answers 503 only when a retry is shed too. Nothing else may fail,
// and the gateway must stay ready throughout: users never sheds its health checks.
func TestFaultUsersSheds(t *testing.T) {
	usersEnv := serviceEnv(t, map[string]string{"MAX_IN_FLIGHT": "1"})
	startProcess(t, buildService(t, "users"), usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"]})
	startProcess(t, buildService(t, "gateway"), gatewayEnv)
	url := "http://" + gatewayEnv["LISTEN_ADDR"] + "/v1/users/1"

	var probes, notReady atomic.Int64
	stopProbing := every(20*time.Millisecond, func() {
		probes.Add(1)
		resp, err := http.Get("http://" + gatewayEnv["OPS_ADDR"] + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			notReady.Add(1)
		}
		if err == nil {
			resp.Body.Close()
		}
	})
	const clients = 64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 5 * time.Second}
	results := load(clients, 2*time.Second, 100_000, func(int) result { return httpDo(client, get(url)) })
	stopProbing()

	shedByUsers := counter(t, usersEnv["OPS_ADDR"], "grpc_server_handled_total", `grpc_code="Unavailable"`, `UserService/GetUser"`)
	served, shed := count(results, statusIs(http.StatusOK)), count(results, statusIs(http.StatusServiceUnavailable))
	figure(t, "usersshed.requests", float64(len(results)), "requests")
	figure(t, "usersshed.users_shed", shedByUsers, "calls")
	figure(t, "usersshed.gateway_503", float64(shed), "requests")
	figure(t, "usersshed.not_ready", float64(notReady.Load()), "probes")
	figure(t, "usersshed.probes", float64(probes.Load()), "probes")
	if shedByUsers == 0 {
		t.Errorf("users with an in-flight limit of 1 shed nothing under %d clients", clients)
	}
	if other := len(results) - served - shed; other != 0 {
		t.Errorf("%d requests got neither 200 nor 503 (errors or other statuses)", other)
	}
	if notReady.Load() != 0 {
		t.Errorf("the gateway was not ready in %d of %d probes while users shed", notReady.Load(), probes.Load())
	}
}

// TestFaultIdleConnectionFlood opens 3,000 connections (fewer where the file limit is lower) that
// each send one request and then sit idle, against a gateway that holds at most 100: every
// request must be answered, the idle connections closed to make room, and the gateway's memory
// bounded. The same flood against a gateway without the cap is the comparison.
func TestFaultIdleConnectionFlood(t *testing.T) {
	usersEnv := serviceEnv(t, nil)
	startProcess(t, buildService(t, "users"), usersEnv)
	gatewayBin := buildService(t, "gateway")
	const workers = 20
	connections := floodSize(t)
	flood := func(maxConnections int) (answered int, growthMiB float64) {
		env := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"], "MAX_CONNECTIONS": strconv.Itoa(maxConnections)})
		gateway, _ := startProcess(t, gatewayBin, env)
		idleRSS := rssKB(t, gateway.Process.Pid)
		var peakRSS, ok atomic.Int64
		stopSampling := every(50*time.Millisecond, func() {
			if kb := int64(rssKB(t, gateway.Process.Pid)); kb > peakRSS.Load() {
				peakRSS.Store(kb)
			}
		})
		var open sync.Mutex
		var conns []net.Conn
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range connections / workers {
					conn, err := net.Dial("tcp", env["LISTEN_ADDR"])
					if err != nil {
						t.Error(err)
						return
					}
					open.Lock()
					conns = append(conns, conn)
					open.Unlock()
					if status, err := rawGet(conn, "/v1/users/1"); err == nil && status == http.StatusOK {
						ok.Add(1)
					}
				}
			})
		}
		wg.Wait()
		time.Sleep(200 * time.Millisecond) // one more sample with every connection open
		stopSampling()
		for _, conn := range conns {
			conn.Close()
		}
		return int(ok.Load()), float64(peakRSS.Load()-int64(idleRSS)) / 1024
	}
	capped, cappedGrowth := flood(100)
	uncapped, uncappedGrowth := flood(100_000)
	figure(t, "connflood.connections", float64(connections), "connections")
	figure(t, "connflood.answered", float64(capped), "requests")
	figure(t, "connflood.rss_growth", cappedGrowth, "MiB")
	figure(t, "connflood.uncapped_answered", float64(uncapped), "requests")
	figure(t, "connflood.uncapped_rss_growth", uncappedGrowth, "MiB")
	if capped != connections {
		t.Errorf("%d of %d requests answered 200 with the connection cap; want all", capped, connections)
	}
	// 100 idle connections take about 2.3 MiB; the rest is garbage not yet collected.
	if cappedGrowth > 32 {
		t.Errorf("RSS grew %.1f MiB under the flood with at most 100 connections open: not bounded", cappedGrowth)
	}
}

// rawGet sends one GET on conn, waits up to 5 s for the answer and leaves the connection open.
func rawGet(conn net.Conn, path string) (int, error) {
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: gateway\r\n\r\n")); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// floodSize is how many connections the flood opens: 3,000, or what this process's open-file
// limit leaves room for (Go raises the soft limit to the hard one at start), rounded to whole
// rounds of the workers.
func floodSize(t *testing.T) int {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		t.Fatal(err)
	}
	n := min(3000, int(limit.Cur)-500) / 20 * 20
	if n < 1000 {
		t.Fatalf("the open-file limit (%d) leaves room for %d connections; the flood needs 1,000: raise it (ulimit -n)", limit.Cur, n)
	}
	return n
}
