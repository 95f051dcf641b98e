package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"flotilla/services/internal/gateway"
	"flotilla/services/internal/platform"
	"flotilla/services/internal/testnet"
	"flotilla/services/internal/users"
)

// start runs app in-process with env and stops it when the test ends.
func start(t *testing.T, name string, app platform.App, env map[string]string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- platform.Main(ctx, name, app, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		stop()
		if code := <-done; code != platform.ExitOK {
			t.Errorf("%s exited with %d", name, code)
		}
	})
	waitReady(t, env["OPS_ADDR"])
}

func TestGatewayCallsUsers(t *testing.T) {
	usersEnv := serviceEnv(t, nil)
	start(t, "users", users.Run, usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"]})
	start(t, "gateway", gateway.Run, gatewayEnv)
	base := "http://" + gatewayEnv["LISTEN_ADDR"]

	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var decoded map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&decoded)
		return resp.StatusCode, decoded
	}

	steps := []struct {
		name, method, path, body string
		wantStatus               int
		check                    func(map[string]any) bool
	}{
		{"the design's user", "GET", "/v1/users/1", "", 200, func(b map[string]any) bool { return b["name"] == "Alice" && b["email"] == "alice@example.com" }},
		{"missing user", "GET", "/v1/users/nobody", "", 404, func(b map[string]any) bool { return b["error"] == "user not found" }},
		{"create", "POST", "/v1/users", `{"name":"Bob","email":"bob@example.com"}`, 201, func(b map[string]any) bool { return b["name"] == "Bob" }},
		{"duplicate email", "POST", "/v1/users", `{"name":"Bobby","email":"BOB@example.com"}`, 409, func(b map[string]any) bool { return b["error"] != nil }},
		{"invalid email, validated by users", "POST", "/v1/users", `{"name":"C","email":"not-an-address"}`, 400, func(b map[string]any) bool {
			return strings.Contains(b["error"].(string), "email")
		}},
		{"list", "GET", "/v1/users?page_size=1", "", 200, func(b map[string]any) bool { return len(b["users"].([]any)) == 1 && b["next_page_token"] != nil }},
	}
	for _, s := range steps {
		status, body := call(s.method, s.path, s.body)
		if status != s.wantStatus || !s.check(body) {
			t.Errorf("%s: got %d %v, want %d", s.name, status, body, s.wantStatus)
		}
	}

	resp, err := http.Get("http://" + usersEnv["OPS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="NotFound",grpc_method="/flotilla.users.v1.UserService/GetUser"} 1`,
		`grpc_server_handled_total{grpc_code="AlreadyExists",grpc_method="/flotilla.users.v1.UserService/CreateUser"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("users /metrics lacks %s", want)
		}
	}
}

func TestGatewayNotReadyWithoutUsers(t *testing.T) {
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": testnet.FreeAddr(t)})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go platform.Main(ctx, "gateway", gateway.Run, func(k string) string { return gatewayEnv[k] }, io.Discard, io.Discard)
	var status int
	for range 200 {
		if resp, err := http.Get("http://" + gatewayEnv["OPS_ADDR"] + "/readyz"); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status != http.StatusServiceUnavailable {
		t.Fatalf("gateway /readyz with users unreachable: %d, want 503", status)
	}
}
