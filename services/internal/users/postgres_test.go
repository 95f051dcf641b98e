package users

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// testDatabase makes a database of its own for t on the server FLOTILLA_TEST_POSTGRES names (the
// test command starts one) and returns its URL; it is dropped when t ends. Without a server the
// test is skipped, unless FLOTILLA_REQUIRE_POSTGRES is set, as the test command sets it.
func testDatabase(t *testing.T) string {
	t.Helper()
	server := os.Getenv("FLOTILLA_TEST_POSTGRES")
	if server == "" {
		if os.Getenv("FLOTILLA_REQUIRE_POSTGRES") != "" {
			t.Fatal("FLOTILLA_REQUIRE_POSTGRES is set but FLOTILLA_TEST_POSTGRES names no server")
		}
		t.Skip("no PostgreSQL: set FLOTILLA_TEST_POSTGRES to a server URL (scripts/go-test does)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("users_test_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// migratedStore opens a PostgresStore on url and migrates it; it is closed when t ends.
func migratedStore(t *testing.T, url string) *PostgresStore {
	t.Helper()
	store, err := OpenPostgres(url, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

func TestPostgresStore(t *testing.T) {
	storeSuite(t, func(t *testing.T) Store { return migratedStore(t, testDatabase(t)) })
}

func TestPostgresMigrations(t *testing.T) {
	ctx := context.Background()
	t.Run("apply twice, and concurrently from two processes' pools, to one schema version", func(t *testing.T) {
		url := testDatabase(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				store, err := OpenPostgres(url, 4)
				if err != nil {
					errs[i] = err
					return
				}
				defer store.Close()
				errs[i] = errors.Join(store.Migrate(ctx), store.Migrate(ctx))
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		store := migratedStore(t, url)
		var applied int
		if err := store.pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != 1 {
			t.Errorf("%d migrations recorded, want 1 (each applied once)", applied)
		}
	})
	t.Run("refuse a schema newer than the binary's, naming both versions", func(t *testing.T) {
		store := migratedStore(t, testDatabase(t))
		if _, err := store.pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, true)`); err != nil {
			t.Fatal(err)
		}
		var tooNew *SchemaTooNewError
		err := store.Migrate(ctx)
		if !errors.As(err, &tooNew) || tooNew.Database != 99 || tooNew.Binary != 1 {
			t.Fatalf("Migrate: %v, want SchemaTooNewError{99, 1}", err)
		}
		if !strings.Contains(err.Error(), "version 99, newer than this binary's 1") {
			t.Errorf("message %q does not name both versions", err)
		}
	})
}

// Replicas started together seed one fresh database at once; none may fail for it, as a failed
// seed ends the process (a restart the kubelet counts).
func TestPostgresSeededConcurrently(t *testing.T) {
	ctx := context.Background()
	seed, err := ParseSeed([]byte(defaultSeed))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		url := testDatabase(t)
		stores := make([]*PostgresStore, 4)
		for i := range stores {
			stores[i] = migratedStore(t, url)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, store := range stores {
			wg.Go(func() { errs[i] = store.Seed(ctx, seed) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var count int
		if err := stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != len(seed) {
			t.Fatalf("round %d: %d users, want the seed's %d", round, count, len(seed))
		}
	}
}

func TestPostgresSharedByProcesses(t *testing.T) {
	ctx := context.Background()
	url := testDatabase(t)
	one, other := migratedStore(t, url), migratedStore(t, url)
	if err := one.Insert(ctx, mustUser(t, "u-1", "Ann", "ann@example.com")); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Get(ctx, "u-1"); err != nil || got.Email != "ann@example.com" {
		t.Fatalf("the other process reads %v, %v", got, err)
	}
	if err := other.Insert(ctx, mustUser(t, "u-2", "Ann", "Ann@Example.com")); !errors.Is(err, ErrExists) {
		t.Fatalf("the other process registers a taken email: %v", err)
	}
}

func TestPostgresUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A port that nothing listens on.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	listener.Close()
	store, err := OpenPostgres("postgres://postgres@"+address+"/users?sslmode=disable&connect_timeout=2", 4)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Ping(ctx); err == nil {
		t.Fatal("ready without a database")
	}
	if _, err := store.Get(ctx, "1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get before migrating: %v, want ErrUnavailable", err)
	}
	if err := store.Migrate(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Migrate without a database: %v, want ErrUnavailable", err)
	}
	// Once migrated, a database that goes away makes calls fail with ErrUnavailable, at once.
	store.migrated.Store(true)
	start := time.Now()
	if _, err := store.Get(ctx, "1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get: %v, want ErrUnavailable", err)
	}
	if err := store.Insert(ctx, mustUser(t, "u-1", "A", "a@example.com")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Insert that never reached the server: %v, want ErrUnavailable (not applied)", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the failures took %v", elapsed)
	}
}

func TestOpenPostgresRefusesABadURL(t *testing.T) {
	if _, err := OpenPostgres("postgres://a b:c/", 4); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("error %v, want one naming DATABASE_URL", err)
	}
}

// A read within a request's trace records its query as a child span, with the statement and
// without its arguments (an email is personal data).
func TestPostgresQueriesAreSpansOfTheRequest(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	previous := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	t.Cleanup(func() { otel.SetTracerProvider(previous) })
	store := migratedStore(t, testDatabase(t))

	ctx, request := otel.Tracer("test").Start(context.Background(), "request")
	if _, err := store.Get(ctx, "no-such-user"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get: %v, want ErrNotFound", err)
	}
	request.End()
	var query sdktrace.ReadOnlySpan
	for _, s := range recorder.Ended() {
		if s.Parent().SpanID() == request.SpanContext().SpanID() && s.Name() == "SELECT" {
			query = s
		}
	}
	if query == nil {
		t.Fatalf("no query span under the request's span among %d spans", len(recorder.Ended()))
	}
	var statement string
	for _, a := range query.Attributes() {
		if a.Key == semconv.DBQueryTextKey {
			statement = a.Value.AsString()
		}
		if strings.Contains(a.Value.Emit(), "no-such-user") {
			t.Errorf("attribute %s holds the query's argument", a.Key)
		}
	}
	if !strings.Contains(statement, "FROM users") {
		t.Errorf("query span's statement %q", statement)
	}
}
