// Package integration runs the services together over real loopback listeners: in-process for
// the request paths, as separate processes for signals.
package integration

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serviceEnv is the environment the Kubernetes component would give a service, on free ports.
func serviceEnv(t *testing.T, extra map[string]string) map[string]string {
	env := map[string]string{"LISTEN_ADDR": freeAddr(t), "OPS_ADDR": freeAddr(t), "DEBUG_ADDR": freeAddr(t), "SHUTDOWN_TIMEOUT": "5s"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func waitReady(t *testing.T, opsAddr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + opsAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s/readyz not 200 within 10s", opsAddr)
}
