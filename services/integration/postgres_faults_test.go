//go:build faults

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresForFaults makes a database of its own on the server that bench/faults started
// (FLOTILLA_TEST_POSTGRES) and returns its URL and a function that restarts the server
// (pg_ctl restart on FLOTILLA_TEST_POSTGRES_DATA, as the postgres user).
func postgresForFaults(t *testing.T) (string, func() error) {
	t.Helper()
	server, data := os.Getenv("FLOTILLA_TEST_POSTGRES"), os.Getenv("FLOTILLA_TEST_POSTGRES_DATA")
	if server == "" || data == "" {
		t.Fatal("FLOTILLA_TEST_POSTGRES and FLOTILLA_TEST_POSTGRES_DATA must name a server bench/faults started")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("faults_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	restart := func() error {
		cmd := exec.Command("setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--",
			os.Getenv("FLOTILLA_TEST_POSTGRES_BIN")+"/pg_ctl", "restart", "-m", "fast", "-w", "-t", "30", "-D", data, "-l", filepath.Join(filepath.Dir(data), "server.log"))
		// Not the test's own output: the server pg_ctl starts would hold it open after the test ends.
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("pg_ctl restart: %v: %s", err, out)
		}
		return nil
	}
	return u.String(), restart
}

// TestFaultPostgresRestart restarts PostgreSQL under reads and creates through the gateway and
// users. While it is down, reads fail (UNAVAILABLE, retried by the gateway, then 503); once it is
// back they must succeed again within seconds. Every create acknowledged to a client must be
// there afterwards, and none stored twice.
func TestFaultPostgresRestart(t *testing.T) {
	database, restartPostgres := postgresForFaults(t)
	usersBin, gatewayBin := buildService(t, "users"), buildService(t, "gateway")
	usersEnv := serviceEnv(t, map[string]string{"DATABASE_URL": database})
	startProcess(t, usersBin, usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"], "USERS_TIMEOUT": "2s"})
	startProcess(t, gatewayBin, gatewayEnv)
	base := "http://" + gatewayEnv["LISTEN_ADDR"]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 5 * time.Second}

	var downAt, backAt, created atomic.Int64
	acknowledged := make(chan string, 100_000)
	go func() {
		time.Sleep(time.Second)
		downAt.Store(time.Now().UnixNano())
		if err := restartPostgres(); err != nil {
			t.Error(err)
			return
		}
		backAt.Store(time.Now().UnixNano())
	}()
	results := load(9, 6*time.Second, 100_000, func(worker int) result {
		if worker == 8 { // one writer among eight readers
			time.Sleep(10 * time.Millisecond)
			email := fmt.Sprintf("pg%d@example.com", created.Add(1))
			r := httpDo(client, post(base+"/v1/users", "application/json", fmt.Sprintf(`{"name":"Pat","email":%q}`, email)))
			r.kind = "create"
			if r.err == nil && r.status == http.StatusCreated {
				acknowledged <- email
			}
			return r
		}
		start := time.Now()
		r := httpDo(client, get(base+"/v1/users/1"))
		r.kind = "read"
		// When it was sent, for the recovery time: latency holds the end.
		r.latency = time.Duration(start.UnixNano())
		return r
	})
	close(acknowledged)
	if backAt.Load() == 0 {
		t.Fatal("PostgreSQL was not restarted during the load")
	}
	failed := func(r result) bool { return r.err != nil || r.status != http.StatusOK }
	var reads, failedReads, lateFailures int
	var lastFailure int64
	for _, r := range results {
		if r.kind != "read" {
			continue
		}
		reads++
		if failed(r) {
			failedReads++
			lastFailure = max(lastFailure, int64(r.latency))
			if int64(r.latency) > backAt.Load()+int64(5*time.Second) {
				lateFailures++
			}
		}
	}
	recovered := 0.0
	if lastFailure > backAt.Load() {
		recovered = float64(lastFailure-backAt.Load()) / 1e9
	}
	creates := len(results) - reads
	figure(t, "pgrestart.reads", float64(reads), "requests")
	figure(t, "pgrestart.failed_reads", float64(failedReads), "requests")
	figure(t, "pgrestart.down", float64(backAt.Load()-downAt.Load())/1e6, "ms")
	figure(t, "pgrestart.recovered", recovered, "s")
	figure(t, "pgrestart.creates", float64(creates), "requests")
	figure(t, "pgrestart.acknowledged", float64(len(acknowledged)), "requests")

	// Every acknowledged create is there, once; nothing else but what clients were told failed.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stored := map[string]int{}
	rows, _ := conn.Query(ctx, `SELECT lower(email) FROM users WHERE email LIKE 'pg%'`)
	emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		stored[e]++
	}
	acked := 0
	for email := range acknowledged {
		acked++
		if stored[email] != 1 {
			t.Errorf("acknowledged create %s stored %d times", email, stored[email])
		}
	}
	failedCreates := creates - acked
	figure(t, "pgrestart.failed_creates", float64(failedCreates), "requests")
	if extra := len(emails) - acked; extra < 0 || extra > failedCreates {
		t.Errorf("%d users stored beyond the %d acknowledged, of %d creates that failed", extra, acked, failedCreates)
	}
	if lateFailures > 0 {
		t.Errorf("%d reads failed more than 5 s after PostgreSQL was back (last %.1f s after)", lateFailures, recovered)
	}
	if reads < 500 {
		t.Errorf("only %d reads: the load did not run", reads)
	}
}

// TestFaultUsersRestartKeepsUsers creates users through the gateway, restarts users with SIGTERM,
// and reads every one back through the new process: the directory is the database's, not the
// process's.
func TestFaultUsersRestartKeepsUsers(t *testing.T) {
	database, _ := postgresForFaults(t)
	usersBin, gatewayBin := buildService(t, "users"), buildService(t, "gateway")
	usersEnv := serviceEnv(t, map[string]string{"DATABASE_URL": database})
	first, firstExited := startProcess(t, usersBin, usersEnv)
	gatewayEnv := serviceEnv(t, map[string]string{"USERS_ADDR": usersEnv["LISTEN_ADDR"], "USERS_TIMEOUT": "3s"})
	startProcess(t, gatewayBin, gatewayEnv)
	base := "http://" + gatewayEnv["LISTEN_ADDR"]
	const count = 50
	ids := make([]string, 0, count)
	for i := range count {
		resp, err := http.Post(base+"/v1/users", "application/json", stringsReader(fmt.Sprintf(`{"name":"Kim","email":"kim%d@example.com"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ ID string }
		decodeJSON(t, resp, &body)
		if resp.StatusCode != http.StatusCreated || body.ID == "" {
			t.Fatalf("create %d: %d %q", i, resp.StatusCode, body.ID)
		}
		ids = append(ids, body.ID)
	}
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-firstExited
	startProcess(t, usersBin, usersEnv)
	missing := 0
	for _, id := range ids {
		resp, err := http.Get(base + "/v1/users/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			missing++
		}
	}
	figure(t, "usersrestart.kept", float64(count-missing), "users")
	if missing > 0 {
		t.Errorf("%d of %d users gone after users restarted", missing, count)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// decodeJSON reads resp's JSON body into v and closes it.
func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%d response: %v", resp.StatusCode, err)
	}
}
