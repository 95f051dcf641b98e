// Package testnet helps tests start servers on loopback.
package testnet

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// handedOut holds every address FreeAddr has returned in this process: the kernel may give a
// just-closed port out again at once, and a test that asks for three addresses in a row then gets
// two alike (a service refuses to start with LISTEN_ADDR equal to OPS_ADDR).
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// FreeAddr returns a 127.0.0.1 address with a port nothing listens on now, never one it has
// returned before in this process. The port lies below the kernel's ephemeral range, from which
// outgoing connections take their source ports: a port from that range, free when checked, may be
// taken by any connection that test packages running beside this one open before the service
// binds it, and the service then fails to start.
func FreeAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	low, high := portsOutsideEphemeralRange()
	for range 100 {
		port := 0 // the kernel's choice, when the ephemeral range leaves no room below it
		if high > low {
			port = low + rand.IntN(high-low)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			if port == 0 {
				t.Fatal(err)
			}
			continue // something listens there
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
	t.Fatal("no free loopback port that was not handed out already, after 100 tries")
	return ""
}

// The ports FreeAddr chooses from lie above those of servers a developer may run and below
// Kubernetes' NodePorts, which a kube-proxy on the same host may forward on every local address.
// scripts/lib/common.sh's free_port keeps to the same range.
const firstTestPort, firstNodePort = 20000, 30000

// portsOutsideEphemeralRange is [low, high): from firstTestPort to the start of the ephemeral
// range (Linux's ip_local_port_range; 32768 where it cannot be read, Linux's default and below
// macOS's 49152) or firstNodePort, whichever comes first. Empty when the range starts lower.
func portsOutsideEphemeralRange() (low, high int) {
	high = 32768
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if fields := strings.Fields(string(raw)); len(fields) == 2 {
			if n, err := strconv.Atoi(fields[0]); err == nil {
				high = n
			}
		}
	}
	return firstTestPort, max(min(high, firstNodePort), firstTestPort)
}
