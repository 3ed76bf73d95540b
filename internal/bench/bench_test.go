package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"
)

// noEnv keeps the developer's ROSTER_* settings out of the tests.
func noEnv(string) string { return "" }

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"10.0.0.1", false},
		{"192.168.1.20", false},
		{"example.com", false}, // resolves elsewhere, or (offline) not at all: refused either way
		{"[::1]", true},
		{"::1", true},
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"localhost", true},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			err := CheckLoopback(t.Context(), tt.host)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckLoopback(%q) = %v, want ok=%v", tt.host, err, tt.ok)
			}
		})
	}
}

// TestRunRefusesRemote: a remote --url or --db host is refused before any
// request or connection, and --allow-remote lifts the check (the run then
// fails on connecting instead, which is not the refusal).
func TestRunRefusesRemote(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // in the error
	}{
		{"url private address", Options{URL: "http://10.0.0.1:8080", Tenant: "t", ClientID: "c", Secret: "s"}, "not a loopback"},
		{"url name", Options{URL: "http://example.com", Tenant: "t", ClientID: "c", Secret: "s"}, "example.com"},
		{"postgres remote host", Options{DB: "postgres://postgres@10.0.0.1:5432/roster_bench"}, "not a loopback"},
		{"postgres no database named", Options{DB: "postgres://postgres@127.0.0.1:5432/"}, "name the database"},
		{"postgres maintenance database", Options{DB: "postgres://postgres@127.0.0.1:5432/postgres"}, "server's own database"},
		{"url without credential", Options{URL: "http://127.0.0.1:1"}, "--client-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Env = noEnv
			tt.o.Duration = 100 * time.Millisecond
			_, err := Run(t.Context(), tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("allow-remote skips the check", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		// 10.255.255.1 on a closed port: the run gets past the check
		// and fails connecting (or times out), never "not a loopback".
		_, err := Run(ctx, Options{URL: "http://10.255.255.1:9", Tenant: "t", ClientID: "c", Secret: "s",
			AllowRemote: true, Env: noEnv, Duration: 100 * time.Millisecond})
		if err == nil || strings.Contains(err.Error(), "loopback") {
			t.Fatalf("Run with AllowRemote = %v, want a connection error", err)
		}
	})
}

// checkReport asserts a run did real work on both targets without errors,
// and that its JSON has every figure.
func checkReport(t *testing.T, rep *Report) {
	t.Helper()
	for name, s := range map[string]Stats{"roster": rep.Roster, "floor": rep.Floor} {
		if s.Requests <= 0 || s.PerSecond <= 0 {
			t.Errorf("%s: %d requests, %.0f/s; want some", name, s.Requests, s.PerSecond)
		}
		if s.Errors != 0 {
			t.Errorf("%s: %d errors, first: %s", name, s.Errors, s.FirstError)
		}
		if s.P50ms > s.P90ms || s.P90ms > s.P99ms || s.P99ms > s.MaxMs || s.MaxMs <= 0 {
			t.Errorf("%s: percentiles out of order: %+v", name, s)
		}
	}
	if rep.Ratio <= 0 {
		t.Errorf("ratio %v, want > 0", rep.Ratio)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	for _, k := range []string{"workload", "target", "conns", "ratio", "rate_limit_off", "roster", "floor", "prepopulated_users"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q: %s", k, b)
		}
	}
	for _, side := range []string{"roster", "floor"} {
		s, _ := m[side].(map[string]any)
		for _, k := range []string{"requests", "errors", "requests_per_second", "p50_ms", "p90_ms", "p99_ms", "max_ms", "cpu_ms_per_request"} {
			if _, ok := s[k]; !ok {
				t.Errorf("report JSON %s lacks %q: %s", side, k, b)
			}
		}
	}
}

// TestRunWorkloads runs every workload briefly on an in-process SQLite
// server (and Truv creates on PostgreSQL too): no errors, work on both
// targets, the rate limit off.
func TestRunWorkloads(t *testing.T) {
	type run struct{ workload, dialect, backend string }
	var runs []run
	for _, d := range Dialects {
		runs = append(runs, run{"create", d, "sqlite"})
	}
	for _, w := range []string{"get", "list", "search", "mixed"} {
		runs = append(runs, run{w, "truv", "sqlite"})
	}
	runs = append(runs, run{"create", "truv", "postgres"}, run{"mixed", "truv", "postgres"})
	for _, r := range runs {
		t.Run(r.workload+"/"+r.dialect+"/"+r.backend, func(t *testing.T) {
			// In parallel: a run mostly waits on its fsyncs and timers,
			// and nothing here is timed.
			t.Parallel()
			o := Options{Workload: r.workload, Dialect: r.dialect, Conns: 2, Duration: 300 * time.Millisecond, Env: noEnv}
			if r.workload != "create" {
				o.Users = 20
			}
			if r.backend == "postgres" {
				o.DB = testdb.PostgresURL(t) // an existing database bench may write into
			}
			rep, err := Run(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, rep)
			if !rep.RateLimitOff {
				t.Error("in-process server: rate limit not reported off")
			}
			if rep.Roster.CPUmsPerRequest <= 0 || rep.Floor.CPUmsPerRequest <= 0 {
				t.Errorf("cpu-ms/request %v / %v, want > 0 in process", rep.Roster.CPUmsPerRequest, rep.Floor.CPUmsPerRequest)
			}
			if r.workload != "create" && (rep.Users != 20 || rep.UsersPerSec <= 0) {
				t.Errorf("pre-populated %d users at %.0f/s, want 20", rep.Users, rep.UsersPerSec)
			}
			// The after-run figures: at least the pre-populated users (and
			// every acknowledged create) are stored, in a file of some size.
			sqlite := !strings.Contains(rep.Target, "postgres") // PostgreSQL's files are not the bench's to measure
			if minUsers := int64(rep.Users) + rep.Roster.Requests*boolInt(r.workload == "create"); rep.StoredUsers < minUsers ||
				(sqlite && (rep.DBBytes <= 0 || rep.BytesPerUser <= 0)) || (!sqlite && rep.DBBytes != 0) ||
				rep.PeakRSSMiB < rep.RSSMiB || rep.RSSMiB <= 0 {
				t.Errorf("after the run: %d users stored (want >= %d), %d bytes (%.0f/user), RSS %.1f peak %.1f MiB",
					rep.StoredUsers, minUsers, rep.DBBytes, rep.BytesPerUser, rep.RSSMiB, rep.PeakRSSMiB)
			}
		})
	}
}

// TestRunAgainstURL benches a server the test started, over --url: the
// creates and the SCIM pre-population go over HTTP, and the server's CPU
// is "n/a" (-1).
func TestRunAgainstURL(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	svc := directory.NewService(st, directory.Options{})
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	if _, err := svc.CreateTenant(t.Context(), "acme", directory.UniquePolicy{}); err != nil {
		t.Fatal(err)
	}
	c, sec, err := svc.CreateCredential(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"create", "get"} {
		t.Run(w, func(t *testing.T) {
			rep, err := Run(t.Context(), Options{URL: srv.URL, Tenant: "acme", ClientID: c.ClientID, Secret: sec,
				Workload: w, Users: 10, Conns: 2, Duration: 300 * time.Millisecond, Env: noEnv})
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, rep)
			if rep.Roster.CPUmsPerRequest != -1 {
				t.Errorf("server CPU over --url = %v, want -1 (n/a)", rep.Roster.CPUmsPerRequest)
			}
			if rep.RateLimitOff || rep.Target != srv.URL {
				t.Errorf("target %q, rate limit off %v; want the URL and not claimed off", rep.Target, rep.RateLimitOff)
			}
		})
	}
}

func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys = append(keys, prefix+k)
				walk(prefix+k+".", x)
			}
		case []any:
			for _, x := range v {
				walk(prefix+"[].", x)
			}
		}
	}
	walk("", v)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// TestFloorAnswersLikeRoster: for each dialect's create, the floor
// answers a fresh request with the status, content type and JSON keys
// (nested) of Roster's answer to another fresh one, so the comparison
// writes the same response.
func TestFloorAnswersLikeRoster(t *testing.T) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			o := Options{Workload: "create", Dialect: d, Env: noEnv}
			if err := o.defaults(); err != nil {
				t.Fatal(err)
			}
			tg, err := startInProcess(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer tg.close()
			if d == "entrust" {
				if err := tg.entrustLogin(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			gen := tg.generator(o, newRunID())
			client := newClient(1)
			samples, err := tg.samples(t.Context(), client, gen, 1)
			if err != nil {
				t.Fatal(err)
			}
			fl, err := startFloor(tg, samples)
			if err != nil {
				t.Fatal(err)
			}
			defer fl.close()
			answer := func(base string) (int, string, []string) {
				t.Helper()
				resp, err := send(t.Context(), client, base, gen(seqCounter.Add(1), nil))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header.Get("Content-Type"), jsonKeys(t, b)
			}
			rs, rct, rk := answer(tg.base)
			fs, fct, fk := answer(fl.base)
			if rs/100 != 2 || rs != fs || rct != fct {
				t.Errorf("roster %d %q, floor %d %q: want the same 2xx and content type", rs, rct, fs, fct)
			}
			if !slices.Equal(rk, fk) || len(rk) == 0 {
				t.Errorf("JSON keys differ:\nroster %v\nfloor  %v", rk, fk)
			}
		})
	}
}

// TestFloorRejectsBadJSON: the floor decodes the body for real, so a
// malformed one is a 400, as it is for Roster.
func TestFloorRejectsBadJSON(t *testing.T) {
	srv := httptest.NewServer(floorHandler(map[string]sample{"POST": {status: 201, ctype: "application/json", body: map[string]any{"id": "x"}}}))
	defer srv.Close()
	for body, want := range map[string]int{`{"a":1}`: 201, `{"a":`: 400} {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("floor on %q: %d, want %d", body, resp.StatusCode, want)
		}
	}
}

// TestPostgresDatabaseCreated: --db naming a database that does not exist
// on a loopback PostgreSQL creates it and benches into it.
func TestPostgresDatabaseCreated(t *testing.T) {
	existing := testdb.PostgresURL(t) // skips (or fails under CI) without a server
	u, err := url.Parse(existing)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_new"
	u.Path = "/" + name
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", os.Getenv(testdb.EnvPostgres))
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	rep, err := Run(t.Context(), Options{DB: u.String(), Conns: 2, Duration: 200 * time.Millisecond, Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	if rep.Target != "in-process postgres" {
		t.Errorf("target %q", rep.Target)
	}
}

// TestSQLiteKeyFileRequired: --db naming an existing SQLite database
// without its key file is refused, and nothing is created beside it.
func TestSQLiteKeyFileRequired(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Run(t.Context(), Options{DB: "sqlite:" + db, Duration: 100 * time.Millisecond, Env: noEnv})
	if err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("Run = %v, want the missing key file refused", err)
	}
	if _, err := os.Stat(db + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file created beside the database: %v", err)
	}
}

// TestProgressLine: with Progress on, a phase redraws one line with
// carriage returns and clears it at the end; off, it writes nothing.
func TestProgressLine(t *testing.T) {
	for _, on := range []bool{true, false} {
		var buf bytes.Buffer
		p := &progressLine{w: &buf, on: on, phase: "roster 1/2"}
		var done atomic.Int64
		done.Store(42)
		stop := p.start(time.Now(), time.Second, &done)
		time.Sleep(450 * time.Millisecond)
		stop()
		p.clear()
		got := buf.String()
		if on && (!strings.Contains(got, "\r\033[Kbench: roster 1/2") || !strings.Contains(got, "42 requests") || !strings.HasSuffix(got, "\r\033[K")) {
			t.Errorf("progress on: %q", got)
		}
		if !on && got != "" {
			t.Errorf("progress off wrote %q", got)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
