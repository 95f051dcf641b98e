//go:build faults

package integration

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fault tests (build tag faults, run by bench/faults and the test command) drive real
// processes over loopback with bounded load: a fixed number of workers for a fixed time, with a
// cap on requests. They assert what must hold whatever the machine (no failed read, a 504, a 503
// with Retry-After, bounded goroutines); the latencies they measure go out as FIGURE lines, which
// bench/faults prints beside their targets.

// figure reports one measurement for bench/faults: name, value, unit.
func figure(t *testing.T, name string, value float64, unit string) {
	t.Helper()
	t.Logf("FIGURE %s %s %s", name, strconv.FormatFloat(value, 'f', 3, 64), unit)
}

// result is what one request came back with.
type result struct {
	kind       string // what the caller sent, where a load mixes kinds (such as "read" and "create")
	status     int
	retryAfter string
	latency    time.Duration
	err        error
}

// load runs workers, each calling do in a loop until the duration ends or the request budget is
// spent, and returns every result.
func load(workers int, duration time.Duration, budget int, do func(worker int) result) []result {
	var mu sync.Mutex
	var all []result
	var wg sync.WaitGroup
	deadline := time.Now().Add(duration)
	var issued atomic.Int64
	for w := range workers {
		wg.Go(func() {
			var mine []result
			for time.Now().Before(deadline) && issued.Add(1) <= int64(budget) {
				mine = append(mine, do(w))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}

// every calls f every interval, from another goroutine, until the returned stop is called; stop
// returns once f is no longer running.
func every(interval time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			f()
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// httpDo makes one request and times it.
func httpDo(client *http.Client, req func() (*http.Request, error)) result {
	r, err := req()
	if err != nil {
		return result{err: err}
	}
	start := time.Now()
	resp, err := client.Do(r)
	if err != nil {
		return result{err: err, latency: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), latency: time.Since(start)}
}

func get(url string) func() (*http.Request, error) {
	return func() (*http.Request, error) { return http.NewRequest(http.MethodGet, url, nil) }
}

func post(url, contentType, body string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err == nil {
			r.Header.Set("Content-Type", contentType)
		}
		return r, err
	}
}

// percentile of the latencies of the results that pass keep, in milliseconds.
func percentile(results []result, p float64, keep func(result) bool) float64 {
	var ms []float64
	for _, r := range results {
		if keep(r) {
			ms = append(ms, float64(r.latency.Microseconds())/1000)
		}
	}
	if len(ms) == 0 {
		return 0
	}
	slices.Sort(ms)
	return ms[min(len(ms)-1, int(p*float64(len(ms))))]
}

func count(results []result, keep func(result) bool) int {
	n := 0
	for _, r := range results {
		if keep(r) {
			n++
		}
	}
	return n
}

func statusIs(codes ...int) func(result) bool {
	return func(r result) bool { return r.err == nil && slices.Contains(codes, r.status) }
}

// rssKB is a process's resident memory, from /proc. Like goroutines, it reports a failure with
// t.Error and returns 0 rather than stopping the test: samplers call it from goroutines of their
// own, where t.Fatal must not be called.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Error(err)
		return 0
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(rest)[0])
			return kb
		}
	}
	t.Errorf("no VmRSS for pid %d", pid)
	return 0
}

// goroutines is a service's goroutine count, from pprof on its debug port (0 and t.Error when it
// cannot be read, as rssKB).
func goroutines(t *testing.T, debugAddr string) int {
	t.Helper()
	resp, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Error(err)
		return 0
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Error(err)
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total")))
	if err != nil {
		t.Errorf("goroutine profile header %q: %v", line, err)
		return 0
	}
	return n
}

// counter is the sum of a counter's series, on a service's /metrics, whose labels contain every
// one of labels (such as `code="Unavailable"`).
func counter(t *testing.T, opsAddr, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + opsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		series, value, ok := strings.Cut(scanner.Text(), " ")
		if !ok || !strings.HasPrefix(series, name+"{") || !containsAll(series, labels) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%s: %v", scanner.Text(), err)
		}
		sum += v
	}
	return sum
}

func containsAll(s string, parts []string) bool {
	for _, part := range parts {
		if !strings.Contains(s, part) {
			return false
		}
	}
	return true
}
