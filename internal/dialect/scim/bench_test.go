package scim_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for the floor and seeding
	_ "modernc.org/sqlite"             // driver "sqlite", for the floor and seeding

	"github.com/roster-dev/roster/internal/dialect/scim"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/testdb"
)

const (
	benchUsers = 100_000
	benchPage  = 1000
	// benchFilter matches every other user (50,000): the benchmark pages
	// through all of them, 50 pages of 1000.
	benchFilter  = `emails co "example.com"`
	benchMatches = benchUsers / 2
)

// BenchmarkListUsersContainsFilter pages through the 50,000 of 100,000
// users that match a "co" filter with count=1000, over HTTP (scim), beside
// a floor: the same statements (count, then the page with ORDER BY id
// LIMIT/OFFSET) as raw SQL through database/sql on the same database
// (floor-sql). One op is the whole walk of 50 pages. Setup seeds 100,000
// users with batched INSERTs (about a minute on PostgreSQL); benchmarks run
// only under -bench.
//
//	ROSTER_TEST_POSTGRES=... go test -run '^$' -bench ListUsersContains -benchtime 5x ./internal/dialect/scim/
func BenchmarkListUsersContainsFilter(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 100,000 users")
	}
	for _, backend := range testdb.Backends {
		b.Run(backend, func(b *testing.B) {
			fx := newBenchFixture(b, backend)
			b.Run("scim", func(b *testing.B) {
				for b.Loop() {
					fx.walkSCIM(b)
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*benchMatches/benchPage), "ms/page")
			})
			b.Run("floor-sql", func(b *testing.B) {
				for b.Loop() {
					fx.walkSQL(b)
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*benchMatches/benchPage), "ms/page")
			})
		})
	}
}

type benchFixture struct {
	srv    *httptest.Server
	secret string
	tenant string
	db     *sql.DB
}

func newBenchFixture(b *testing.B, backend string) *benchFixture {
	b.Helper()
	ctx := context.Background()
	dbURL := testdb.URL(b, backend)
	st := testdb.OpenURL(b, dbURL, testdb.Keyring(b))
	svc := directory.NewService(st, directory.Options{})
	mux := http.NewServeMux()
	scim.New(svc, scim.Options{BaseURL: origin}).Register(mux)
	srv := httptest.NewServer(httpapi.Middleware(mux, slog.New(slog.NewTextHandler(io.Discard, nil)), httpapi.DefaultMaxBody))
	b.Cleanup(srv.Close)
	tn, err := svc.CreateTenant(ctx, "bench", directory.DefaultUniquePolicy)
	if err != nil {
		b.Fatal(err)
	}
	_, sec, err := svc.CreateCredential(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}

	driver, dsn := "pgx", dbURL
	if backend == "sqlite" {
		driver, dsn = "sqlite", "file:"+strings.TrimPrefix(dbURL, "sqlite:")+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	start := time.Now()
	if err := seedUsers(ctx, db, tn.ID); err != nil {
		b.Fatalf("seed: %v", err)
	}
	if backend == "postgres" {
		if _, err := db.ExecContext(ctx, "ANALYZE users"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: seeded %d users in %s", backend, benchUsers, time.Since(start).Round(time.Millisecond))
	return &benchFixture{srv: srv, secret: sec, tenant: tn.ID, db: db}
}

// seedUsers inserts benchUsers rows into users in one transaction, 100 rows
// per statement. Only the listing reads them, so no claims are written.
func seedUsers(ctx context.Context, db *sql.DB, tenantID string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	cols := []string{"tenant_id", "id", "username", "username_norm", "first_name", "last_name", "email", "email_norm", "state", "version", "created_at", "updated_at"}
	const per = 100
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < benchUsers; start += per {
		var sb strings.Builder
		sb.WriteString("INSERT INTO users (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, per*len(cols))
		for i := start; i < start+per; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			for c := range cols {
				if c > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", len(args)+c+1)
			}
			sb.WriteString(")")
			domain := "example.com"
			if i%2 == 1 {
				domain = "example.org"
			}
			created := base.Add(time.Duration(i) * time.Millisecond)
			// Ids sort in creation order, as UUID v7 ids do.
			id := fmt.Sprintf("01900000-0000-7000-8000-%012d", i)
			name := fmt.Sprintf("user%06d", i)
			email := name + "@" + domain
			args = append(args, tenantID, id, name, name, "Given", fmt.Sprintf("Family%d", i%97), email, email,
				directory.StateActive, int64(1), created.UnixMicro(), created.UnixMicro())
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// walkSCIM fetches every page of the filtered listing over HTTP.
func (fx *benchFixture) walkSCIM(b *testing.B) {
	q := url.Values{"filter": {benchFilter}, "count": {fmt.Sprint(benchPage)}}
	seen := 0
	for start := 1; start <= benchMatches; start += benchPage {
		q.Set("startIndex", fmt.Sprint(start))
		req, _ := http.NewRequest("GET", fx.srv.URL+"/scim/v2/Users?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+fx.secret)
		resp, err := fx.srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			TotalResults int               `json:"totalResults"`
			Resources    []json.RawMessage `json:"Resources"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || page.TotalResults != benchMatches {
			b.Fatalf("page %d: status %d, total %d, err %v", start, resp.StatusCode, page.TotalResults, err)
		}
		seen += len(page.Resources)
	}
	if seen != benchMatches {
		b.Fatalf("saw %d users, want %d", seen, benchMatches)
	}
}

// floorColumns is what the store selects for a user.
var floorColumns = "tenant_id, id, username, username_norm, external_id, external_source, first_name, last_name, " +
	"email, email_norm, email_verified, phone, phone_norm, phone_verified, mobile, mobile_norm, locale, state, locked, " +
	"ssn_sealed, addr_line1, addr_line2, addr_city, addr_state, addr_country, addr_zip, attributes, extras, partner_code, " +
	"version, created_at, updated_at"

// walkSQL runs the same statements the store runs for each page (the
// count for totalResults, then the page) and reads every column.
func (fx *benchFixture) walkSQL(b *testing.B) {
	ctx := context.Background()
	pattern := "%example.com%"
	seen := 0
	for off := 0; off < benchMatches; off += benchPage {
		var total int
		if err := fx.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND email_norm LIKE $2 ESCAPE '\'`,
			fx.tenant, pattern).Scan(&total); err != nil || total != benchMatches {
			b.Fatalf("count: %d %v", total, err)
		}
		rows, err := fx.db.QueryContext(ctx, `SELECT `+floorColumns+` FROM users WHERE tenant_id = $1 AND email_norm LIKE $2 ESCAPE '\' ORDER BY id LIMIT $3 OFFSET $4`,
			fx.tenant, pattern, int64(benchPage+1), int64(off))
		if err != nil {
			b.Fatal(err)
		}
		vals := make([]any, 32)
		ptrs := make([]any, 32)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		seen += min(n, benchPage)
	}
	if seen != benchMatches {
		b.Fatalf("saw %d rows, want %d", seen, benchMatches)
	}
}
