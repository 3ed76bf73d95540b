package reliability

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for the checks run on the database directly
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/roster-dev/roster/internal/proctest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(proctest.Main(m)) }

// backendEnv is the environment of every roster command on one database;
// its Vars are the ROSTER_* settings shared by every command on it.
type backendEnv struct {
	proctest.Env
	backend string
	dbURL   string
}

// credentialCacheTTL is every instance's ROSTER_CREDENTIAL_CACHE_TTL.
const credentialCacheTTL = 500 * time.Millisecond

// newBackendEnv makes a fresh database of backend. PostgreSQL needs an
// encryption key configured (every instance must share it); SQLite
// generates its key file beside the database on the first command.
func newBackendEnv(t *testing.T, backend string) *backendEnv {
	t.Helper()
	e := &backendEnv{backend: backend, dbURL: testdb.URL(t, backend)}
	e.Vars = []string{
		"ROSTER_DB=" + e.dbURL,
		"ROSTER_RATE_LIMIT=0", // the tests measure durability, not the limiter
		"ROSTER_SHUTDOWN_GRACE=2s",
		// Short, so that the revocation test can wait out the bound
		// within which other instances must refuse a revoked credential.
		"ROSTER_CREDENTIAL_CACHE_TTL=" + credentialCacheTTL.String(),
	}
	if backend == "postgres" {
		e.Vars = append(e.Vars, "ROSTER_ENCRYPTION_KEY=k1:"+secret.NewKeySpec())
	}
	return e
}

// openDB opens the database directly, for checks that must not go through
// Roster's own code.
func (e *backendEnv) openDB(t testing.TB) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", e.dbURL
	if e.backend == "sqlite" {
		driver, dsn = "sqlite", "file:"+strings.TrimPrefix(e.dbURL, "sqlite:")+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s directly: %v", e.backend, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dialectReq is one HTTP request in some dialect's wire format: a type of
// this package, so that the tests' tables can list requests as unkeyed
// literals.
type dialectReq proctest.Request

// response is what came back; Err is set when no status line arrived (the
// server died or refused the connection).
type response = proctest.Response

// do sends r to base with client c.
func do(ctx context.Context, c *http.Client, base string, r dialectReq) response {
	return proctest.Do(ctx, c, base, proctest.Request(r))
}
