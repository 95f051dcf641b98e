// Package testnet helps tests start servers on loopback.
package testnet

import (
	"net"
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
// returned before in this process.
func FreeAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
	t.Fatal("no loopback port that was not handed out already, after 100 tries")
	return ""
}
