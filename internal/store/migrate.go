package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// Schema version errors returned by CheckSchema.
var (
	// ErrSchemaBehind: the database lacks migrations this binary has; run
	// "roster migrate".
	ErrSchemaBehind = errors.New("database schema is older than this binary")
	// ErrSchemaAhead: the database was migrated by a newer binary, whose
	// data this one may not understand.
	ErrSchemaAhead = errors.New("database schema is newer than this binary")
)

// migrateLockKey is the pg_advisory_xact_lock key that serialises Migrate
// across processes on one PostgreSQL database ("roster" in ASCII).
const migrateLockKey int64 = 0x726f73746572

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns d's embedded migrations in order. Their versions
// must be 1..n without gaps: a schema version is then simply a count.
func (d dialect) loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, d.migrations)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join(d.migrations, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: got version %d, want %d", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// createMigrationsTable is valid on both backends.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`

// Migrate applies the embedded migrations the database lacks, each in its
// own transaction together with its row in schema_migrations, and returns
// how many it applied. Several processes may call it at once: on
// PostgreSQL they queue on an advisory lock, on SQLite on the write lock,
// and each re-reads the version under the lock.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	return s.migrateTo(ctx, -1)
}

// migrateTo is Migrate stopping after version to (every version when to
// is negative): migration tests build a database at an older schema, seed
// it, then migrate the rest.
func (s *Store) migrateTo(ctx context.Context, to int) (applied int, err error) {
	ms, err := s.d.loadMigrations()
	if err != nil {
		return 0, err
	}
	if to >= 0 && to < len(ms) {
		ms = ms[:to]
	}
	// One connection throughout (on SQLite the only writer anyway).
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if err := s.inMigrationTx(ctx, conn, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, createMigrationsTable)
		return err
	}); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		done, err := s.applyMigration(ctx, conn, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// applyMigration applies m unless it is recorded already, and reports
// whether it applied it.
func (s *Store) applyMigration(ctx context.Context, conn *sql.Conn, m migration) (applied bool, err error) {
	err = s.inMigrationTx(ctx, conn, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		// Exec without arguments runs a multi-statement script on both
		// drivers (pgx then uses the simple protocol).
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			m.version, micros(time.Now())); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	return applied, nil
}

// inMigrationTx runs fn in a transaction on conn and commits it. On
// PostgreSQL the transaction first takes the migration lock with
// pg_advisory_xact_lock, which COMMIT or ROLLBACK releases: a session lock
// (pg_advisory_lock) would not survive PgBouncer's transaction pooling,
// where the statement after the lock may run on another server
// connection and the unlock on yet another, leaving the lock held by a
// pooled server session for good. Taking it per transaction serialises
// every migration step (each re-reads schema_migrations under the lock)
// whether Roster connects directly or through a pooler. On SQLite the
// writer's BEGIN IMMEDIATE is the lock.
func (s *Store) inMigrationTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.d.name == postgres.name {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SchemaVersion returns the number of migrations applied to the database
// (0 for an empty one) and the number this binary embeds.
func (s *Store) SchemaVersion(ctx context.Context) (db, binary int, err error) {
	ms, err := s.d.loadMigrations()
	if err != nil {
		return 0, 0, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, s.d.tableExists, "schema_migrations").Scan(&n); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	if n > 0 {
		if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&db); err != nil {
			return 0, 0, fmt.Errorf("read schema version: %w", err)
		}
	}
	return db, len(ms), nil
}

// CheckSchema returns nil when the database schema is exactly the one this
// binary embeds, an error wrapping ErrSchemaBehind when migrations are
// pending, and one wrapping ErrSchemaAhead when the database is newer.
// roster serve refuses to run on either.
func (s *Store) CheckSchema(ctx context.Context) error {
	db, bin, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case db < bin:
		return fmt.Errorf("%w: database at version %d, binary at %d", ErrSchemaBehind, db, bin)
	case db > bin:
		return fmt.Errorf("%w: database at version %d, binary at %d", ErrSchemaAhead, db, bin)
	}
	return nil
}
