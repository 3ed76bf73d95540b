package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"

	_ "github.com/jackc/pgx/v5/stdlib" // the floor opens PostgreSQL directly
	_ "modernc.org/sqlite"             // and SQLite
)

// benchParallelism: goroutines per GOMAXPROCS for the create benchmarks,
// so that requests overlap and the database, not the client, is the limit.
const benchParallelism = 8

// BenchmarkCreateUser measures the whole create path: HTTP, Truv decoding,
// authentication, validation, claims and a durable commit. Run it with
// scripts/bench.sh; the Floor* benchmarks beside it measure, in the same
// run, what no implementation can beat on this machine.
func BenchmarkCreateUser(b *testing.B) {
	for _, backend := range testdb.Backends {
		b.Run(backend, func(b *testing.B) {
			st := testdb.Open(b, backend)
			svc := directory.NewService(st, directory.Options{})
			srv := httptest.NewServer(server.New(svc, server.Options{}))
			b.Cleanup(srv.Close)
			if _, err := svc.CreateTenant(b.Context(), "bench", directory.DefaultUniquePolicy); err != nil {
				b.Fatal(err)
			}
			c, sec, err := svc.CreateCredential(b.Context(), "bench")
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			runCreates(b, srv.URL+"/v1/users/", func(req *http.Request) {
				req.Header.Set("X-Access-Client-Id", c.ClientID)
				req.Header.Set("X-Access-Secret", sec)
			}, func() string {
				i := n.Add(1)
				return fmt.Sprintf(`{"external_user_id":"e%d","first_name":"Bench","last_name":"User","email":"u%d@example.com","phone":"+1415%07d"}`, i, i, i%10000000)
			}, http.StatusCreated)
		})
	}
}

// BenchmarkFloorNoopHTTP is the HTTP floor: a handler that decodes the same
// JSON and answers 201 without touching a database.
func BenchmarkFloorNoopHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(v)
	}))
	b.Cleanup(srv.Close)
	body := `{"external_user_id":"e1","first_name":"Bench","last_name":"User","email":"u1@example.com","phone":"+14150000001"}`
	runCreates(b, srv.URL, func(*http.Request) {}, func() string { return body }, http.StatusCreated)
}

// BenchmarkFloorInsert is the database floor: one durable single-row
// INSERT transaction per operation, with the same durability settings as
// the store (SQLite: WAL, synchronous=FULL, one writer; PostgreSQL: a pool
// of 16), at the same parallelism as BenchmarkCreateUser.
func BenchmarkFloorInsert(b *testing.B) {
	for _, backend := range testdb.Backends {
		b.Run(backend, func(b *testing.B) {
			url := testdb.URL(b, backend)
			var db *sql.DB
			var err error
			if backend == "sqlite" {
				path := strings.TrimPrefix(url, "sqlite:")
				db, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
				db.SetMaxOpenConns(1)
			} else {
				db, err = sql.Open("pgx", url)
				db.SetMaxOpenConns(16)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := db.Exec(`CREATE TABLE floor (tenant_id TEXT NOT NULL, id TEXT NOT NULL, email TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, id))`); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					tx, err := db.Begin()
					if err == nil {
						_, err = tx.Exec(`INSERT INTO floor (tenant_id, id, email, created_at) VALUES ($1, $2, $3, $4)`,
							"t", directory.NewID(), fmt.Sprintf("u%d@example.com", i), time.Now().UnixMicro())
						if err == nil {
							err = tx.Commit()
						} else {
							_ = tx.Rollback()
						}
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// runCreates posts bodies in parallel and checks every status.
func runCreates(b *testing.B, url string, auth func(*http.Request), body func() string, want int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, bytes.NewBufferString(body()))
			req.Header.Set("Content-Type", "application/json")
			auth(req)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("status %d, want %d", resp.StatusCode, want)
				return
			}
		}
	})
}
