package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildService compiles cmd/<name> into a temporary directory.
func buildService(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/"+name)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	return bin
}

// startProcess runs a service binary with env and waits until it is ready; the test gets its
// exit through the returned channel.
func startProcess(t *testing.T, bin string, env map[string]string) (*exec.Cmd, <-chan error) {
	t.Helper()
	return startProcessUntil(t, bin, env, "/readyz")
}

// startProcessUntil is startProcess waiting for another operations endpoint (such as /healthz).
// A process that exits first, or is not ready in time, fails the test with its own log, as does
// any later failure of the test.
func startProcessUntil(t *testing.T, bin string, env map[string]string, probe string) (*exec.Cmd, <-chan error) {
	t.Helper()
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	output := &processLog{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	name := filepath.Base(bin)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, output)
		}
	})
	// An exit read here fails the test, so the caller never waits for it on exited.
	if err := awaitAnswer(env["OPS_ADDR"], probe, exited); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cmd, exited
}

// processLog keeps what a service process writes, for the message of a failing test.
type processLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *processLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *processLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestSIGTERMUnderLoadDropsNothing sends SIGTERM to the gateway process while 16 clients keep it
// busy. Requests that reached the server must all succeed; after the listener closes, the only
// acceptable failure is a refused connection (what a client sees once the pod is out of the
// Service's endpoints). The load is bounded in time and count.
func TestSIGTERMUnderLoadDropsNothing(t *testing.T) {
	usersEnv := serviceEnv(t, nil)
	startProcess(t, buildService(t, "users"), usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"]})
	gatewayCmd, gatewayExited := startProcess(t, buildService(t, "gateway"), gatewayEnv)

	const workers, maxRequests, maxDuration = 16, 50_000, 5 * time.Second
	var ok, refused, budget atomic.Int64
	var failures sync.Map
	var terminated atomic.Bool
	deadline := time.Now().Add(maxDuration)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for budget.Add(1) <= maxRequests && time.Now().Before(deadline) {
				resp, err := client.Get("http://" + gatewayEnv["LISTEN_ADDR"] + "/v1/users/1")
				switch {
				case err != nil && errors.Is(err, syscall.ECONNREFUSED) && terminated.Load():
					refused.Add(1)
					return
				case err != nil:
					failures.Store(err.Error(), true)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failures.Store(fmt.Sprintf("status %d", resp.StatusCode), true)
					return
				}
				ok.Add(1)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	terminated.Store(true)
	if err := gatewayCmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case err := <-gatewayExited:
		if err != nil {
			t.Errorf("gateway exited with %v, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not exit within 10s of SIGTERM")
	}
	failures.Range(func(k, _ any) bool {
		t.Errorf("failed request: %v", k)
		return true
	})
	if ok.Load() < 100 {
		t.Errorf("only %d requests succeeded before SIGTERM; the load did not run", ok.Load())
	}
	t.Logf("%d requests succeeded, %d connections refused after SIGTERM", ok.Load(), refused.Load())
}
