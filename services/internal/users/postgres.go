package users

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// PostgresStore keeps users in a PostgreSQL database that every replica shares. It serves only
// once Migrate has brought the schema to this binary's version; until then, and whenever the
// database cannot be reached, calls fail with ErrUnavailable and change nothing.
type PostgresStore struct {
	pool     *pgxpool.Pool
	migrated atomic.Bool
}

// OpenPostgres makes a pool for url (a postgres:// URL) of at most maxConns connections, unless
// the URL sets pool_max_conns. It connects lazily: a database that is down does not stop a start.
func OpenPostgres(url string, maxConns int) (*PostgresStore, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["pool_max_conns"]; !set && maxConns > 0 {
		cfg.MaxConns = int32(min(maxConns, 1<<16))
	}
	// A span for each query, and for each wait for a pooled connection, in the caller's trace.
	// The statements are recorded, their arguments (emails, names) never.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return &PostgresStore{pool: pool}, nil
}

// Close closes the pool's connections.
func (s *PostgresStore) Close() { s.pool.Close() }

// SchemaTooNewError: the database was migrated by a newer binary, which this one must not serve.
type SchemaTooNewError struct{ Database, Binary int64 }

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("the database schema is at version %d, newer than this binary's %d: deploy a binary at least that new", e.Database, e.Binary)
}

// Migrate applies the embedded migrations that the database lacks, under a PostgreSQL advisory
// lock, so replicas starting together migrate once. A schema newer than the binary's is refused.
func (s *PostgresStore) Migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	provider, err := newMigrator(db)
	if err != nil {
		return err
	}
	current, target, err := provider.GetVersions(ctx)
	if err != nil {
		return unavailable(err)
	}
	if current > target {
		return &SchemaTooNewError{Database: current, Binary: target}
	}
	if _, err := provider.Up(ctx); err != nil {
		return unavailable(err)
	}
	s.migrated.Store(true)
	return nil
}

func newMigrator(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
}

// Ping is the readiness check: the schema is migrated and the database answers.
func (s *PostgresStore) Ping(ctx context.Context) error {
	if !s.migrated.Load() {
		return errors.New("schema not migrated yet")
	}
	return s.pool.Ping(ctx)
}

func (s *PostgresStore) Get(ctx context.Context, id string) (User, error) {
	if err := s.ready(); err != nil {
		return User{}, err
	}
	var u User
	err := s.pool.QueryRow(ctx, `SELECT id, name, email FROM users WHERE id = $1`, id).Scan(&u.ID, &u.Name, &u.Email)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, ErrNotFound
	case err != nil:
		return User{}, unavailable(err)
	}
	return u, nil
}

func (s *PostgresStore) List(ctx context.Context, after string, limit int) ([]User, bool, error) {
	if err := s.ready(); err != nil {
		return nil, false, err
	}
	// One row more than the page says whether more follow.
	rows, err := s.pool.Query(ctx, `SELECT id, name, email FROM users WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
	if err != nil {
		return nil, false, unavailable(err)
	}
	page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) {
		var u User
		return u, row.Scan(&u.ID, &u.Name, &u.Email)
	})
	if err != nil {
		return nil, false, unavailable(err)
	}
	if len(page) > limit {
		return page[:limit], true, nil
	}
	return page, false, nil
}

func (s *PostgresStore) Insert(ctx context.Context, u User) error {
	if err := s.ready(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO users (id, name, email) VALUES ($1, $2, $3)`, u.ID, u.Name, u.Email)
	return writeError(err, u)
}

func (s *PostgresStore) Seed(ctx context.Context, users []User) error {
	if err := s.ready(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// ON CONFLICT (id) settles only the id: a replica seeding at the same moment would trip the
		// email index instead, so seeders take turns, and a later one finds the rows committed.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, seedLockKey); err != nil {
			return unavailable(err)
		}
		for i, u := range users {
			_, err := tx.Exec(ctx, `INSERT INTO users (id, name, email) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, u.ID, u.Name, u.Email)
			if err := writeError(err, u); err != nil {
				return fmt.Errorf("seed[%d]: %w", i, err)
			}
		}
		return nil
	})
}

// seedLockKey names the advisory lock that seeders take turns on; any number of users' own
// choosing does, as long as nothing else in the database uses it.
const seedLockKey int64 = 0x75736572735f7365 // "users_se"

func (s *PostgresStore) ready() error {
	if !s.migrated.Load() {
		return fmt.Errorf("%w: schema not migrated yet", ErrUnavailable)
	}
	return nil
}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// writeError tells a taken email, a write that surely did not happen and one that may have.
func writeError(err error, u User) error {
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &connectErr):
		// No connection was made: nothing was sent.
		return unavailable(err)
	case errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.ConstraintName == "users_email_key":
		return ErrExists
	case errors.As(err, &pgErr):
		// The server answered: the statement failed as a whole and changed nothing.
		return fmt.Errorf("%w: %s", ErrUnavailable, pgErr.Message)
	case pgconn.SafeToRetry(err):
		return unavailable(err)
	default:
		return fmt.Errorf("%w: user %s: %v", ErrOutcomeUnknown, u.ID, err)
	}
}

// unavailable marks a failed read or migration as ErrUnavailable, keeping its cause: a read
// changes nothing, so whatever failed it, asking again is safe.
func unavailable(err error) error { return fmt.Errorf("%w: %v", ErrUnavailable, err) }
