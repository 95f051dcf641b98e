// Package integration runs the services together over real loopback listeners: in-process for
// the request paths, as separate processes for signals.
package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"flotilla/services/internal/testnet"
)

// serviceEnv is the environment the Kubernetes component would give a service, on free ports.
func serviceEnv(t *testing.T, extra map[string]string) map[string]string {
	env := map[string]string{"LISTEN_ADDR": testnet.FreeAddr(t), "OPS_ADDR": testnet.FreeAddr(t), "DEBUG_ADDR": testnet.FreeAddr(t), "SHUTDOWN_TIMEOUT": "5s"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func waitReady(t *testing.T, opsAddr string) {
	t.Helper()
	waitFor(t, opsAddr, "/readyz")
}

// waitFor waits up to 10 s for an operations endpoint to answer 200.
func waitFor(t *testing.T, opsAddr, probe string) {
	t.Helper()
	if err := awaitAnswer(opsAddr, probe, nil); err != nil {
		t.Fatal(err)
	}
}

// awaitAnswer polls an operations endpoint until it answers 200, for up to 10 s, or until the
// process serving it ends (exited delivers; nil when there is no process to watch).
func awaitAnswer(opsAddr, probe string, exited <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for !answers200(opsAddr, probe) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited (%v) before %s answered", err, probe)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s%s not 200 within 10s", opsAddr, probe)
		}
	}
	return nil
}

func answers200(opsAddr, probe string) bool {
	resp, err := http.Get("http://" + opsAddr + probe)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
