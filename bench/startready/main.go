// Command startready starts a service binary and prints, in milliseconds, how long it took from
// the exec to the first 200 from its /readyz; then it stops the service with SIGTERM.
// Usage: startready <ops-address> <binary>; the environment is passed on.
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: startready <ops-address> <binary>")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	cmd := exec.Command(os.Args[2])
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	for time.Since(start) < 10*time.Second {
		if resp, err := client.Get("http://" + os.Args[1] + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/1000)
				return
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	fmt.Fprintln(os.Stderr, "not ready within 10s")
	os.Exit(1)
}
