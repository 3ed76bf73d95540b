package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openCachedForTest is a writer-style SQLite handle with one connection,
// so every statement meets the same statement cache.
func openCachedForTest(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openCached(sqlite.driver, sqliteDSN(filepath.Join(t.TempDir(), "c.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// cachedCount returns how many statements the handle's one connection
// holds prepared.
func cachedCount(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(c any) error { n = len(c.(*cachingConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStmtCacheReuses: a statement run many times, in transactions and
// out, is prepared once and gives the same results as unprepared SQL,
// errors included.
func TestStmtCacheReuses(t *testing.T) {
	db := openCachedForTest(t)
	ctx := t.Context()
	before := cachedCount(t, db)
	for i := range 50 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, 7, "dup"); !sqlite.isUnique(err) {
		t.Fatalf("duplicate key through a cached statement: %v, want a unique violation", err)
	}
	var n int
	var last string
	if err := db.QueryRowContext(ctx, `SELECT count(*), max(v) FROM t WHERE k >= $1`, 0).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if n != 50 || last != "v9" {
		t.Fatalf("count %d, max %q; want 50, v9", n, last)
	}
	if got := cachedCount(t, db) - before; got != 2 {
		t.Fatalf("%d statements cached for 2 texts run 52 times", got)
	}
}

// TestStmtCacheNestedQuery: a query whose text is already open as rows on
// the connection (one cursor per prepared statement) runs unprepared
// instead of resetting the open rows.
func TestStmtCacheNestedQuery(t *testing.T) {
	db := openCachedForTest(t)
	ctx := t.Context()
	for i := range 3 {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	const q = `SELECT k, v FROM t WHERE k >= $1 ORDER BY k`
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		// The same text, while outer is open.
		var inner []string
		rows, err := tx.QueryContext(ctx, q, k)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k2 int
			var v2 string
			if err := rows.Scan(&k2, &v2); err != nil {
				t.Fatal(err)
			}
			inner = append(inner, v2)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(v, inner))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	want := []string{"v0[v0 v1 v2]", "v1[v1 v2]", "v2[v2]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("nested queries: got %v, want %v", got, want)
	}
}

// TestStmtCacheBounded: past stmtCacheMax texts, statements still run,
// unprepared, and the cache stops growing.
func TestStmtCacheBounded(t *testing.T) {
	db := openCachedForTest(t)
	ctx := context.Background()
	for i := range stmtCacheMax + 20 {
		var n int
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)).Scan(&n); err != nil || n != i {
			t.Fatalf("query %d: %d %v", i, n, err)
		}
	}
	if got := cachedCount(t, db); got != stmtCacheMax {
		t.Fatalf("%d statements cached, want the bound %d", got, stmtCacheMax)
	}
}
