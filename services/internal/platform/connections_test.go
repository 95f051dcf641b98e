package platform

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// get sends one GET on conn and returns the response's Connection header.
func get(t *testing.T, conn net.Conn) string {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: test\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return resp.Header.Get("Connection")
}

// Clients that each open a connection, send a request and then sit idle: far more of them than
// the limit are all served, because the idle ones are closed near the limit; keep-alive is on
// again once they are gone.
func TestIdleConnectionsDoNotHoldTheLimit(t *testing.T) {
	const max, clients = 8, 40
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })}
	closeIdleNearLimit(srv, max, slog.New(slog.DiscardHandler))
	go func() { _ = srv.Serve(limitConnections(listener, max)) }()
	t.Cleanup(func() { _ = srv.Close() })

	// Each client is answered (get fails the test after 5 s otherwise), though the first eight
	// hold every slot of the limit once they sit idle.
	var idle []net.Conn
	for range clients {
		conn, err := net.Dial("tcp", listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		get(t, conn)
		idle = append(idle, conn)
	}
	// The server closed the first idle client's connection to make room.
	_ = idle[0].SetReadDeadline(time.Now().Add(time.Second))
	if n, err := idle[0].Read(make([]byte, 1)); err == nil || n != 0 {
		t.Errorf("the first idle connection is still open: read %d bytes, %v", n, err)
	}
	for _, conn := range idle {
		conn.Close()
	}
	// The server sees the closes asynchronously: keep-alive must come back within a second.
	deadline := time.Now().Add(time.Second)
	for {
		conn, err := net.Dial("tcp", listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		header := get(t, conn)
		conn.Close()
		if header != "close" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("keep-alive still off a second after every idle client left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
