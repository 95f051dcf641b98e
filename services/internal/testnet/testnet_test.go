package testnet

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAddrNeverRepeats(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		addr := FreeAddr(t)
		if seen[addr] {
			t.Fatalf("FreeAddr returned %s twice", addr)
		}
		seen[addr] = true
	}
}

func TestFreeAddrIsOutsideTheEphemeralRange(t *testing.T) {
	low, high := portsOutsideEphemeralRange()
	if high <= low {
		t.Skipf("the ephemeral range starts at %d, below %d: FreeAddr takes the kernel's ports", high, low)
	}
	for range 50 {
		_, portText, err := net.SplitHostPort(FreeAddr(t))
		if err != nil {
			t.Fatal(err)
		}
		if port, _ := strconv.Atoi(portText); port < low || port >= high {
			t.Fatalf("FreeAddr gave port %d, outside [%d, %d)", port, low, high)
		}
	}
}
