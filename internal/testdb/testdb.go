package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for CREATE/DROP DATABASE

	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
)

// EnvPostgres names the variable holding the URL of a PostgreSQL server
// (any database on it) where tests may create and drop databases, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvPostgres = "ROSTER_TEST_POSTGRES"

// Backends lists the store backends every store-level test runs on.
var Backends = []string{"sqlite", "postgres"}

// Keyring returns a keyring holding one fresh random key.
func Keyring(t testing.TB) *secret.Keyring {
	t.Helper()
	kr, err := secret.ParseKeyring(secret.NewKeySpec())
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return kr
}

// SQLiteURL returns the URL of a new SQLite database file in the test's
// temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "roster.db")
}

// PostgresURL creates an empty database on the server named by
// ROSTER_TEST_POSTGRES and returns its URL; the database is dropped when
// the test ends. Without the variable it skips the test, or fails it
// under CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; PostgreSQL tests must run in CI", EnvPostgres)
		}
		t.Skipf("%s not set: skipping PostgreSQL", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "roster_test_" + hex.EncodeToString(b)

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The name is ours (hex), so interpolating it is safe; DDL takes no
	// parameters.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends sessions a failed test may have left open.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// URL returns a fresh database URL for backend, "sqlite" or "postgres".
func URL(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return SQLiteURL(t)
	case "postgres":
		return PostgresURL(t)
	}
	t.Fatalf("unknown backend %q", backend)
	return ""
}

// Open returns a migrated store on a fresh database of backend, with a
// fresh keyring, closed when the test ends.
func Open(t testing.TB, backend string) *store.Store {
	t.Helper()
	return OpenURL(t, URL(t, backend), Keyring(t))
}

// OpenURL opens and migrates the database at url, closing the store when
// the test ends. Several stores may share one url (multi-instance tests).
func OpenURL(t testing.TB, url string, kr *secret.Keyring) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, url, store.Options{Keyring: kr})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// SQLite returns a migrated store on a new SQLite file.
func SQLite(t testing.TB) *store.Store { t.Helper(); return Open(t, "sqlite") }
