package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// The tests below drive the SQLite group committer (groupcommit.go); the
// conformance suite covers writeTx's contract on both backends.

func gcTenant(t *testing.T, s *store.Store) *directory.Tenant {
	t.Helper()
	tn := &directory.Tenant{ID: directory.NewID(), Name: "acme", Unique: directory.DefaultUniquePolicy, CreatedAt: time.Now()}
	if err := s.CreateTenant(t.Context(), tn, nil); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return tn
}

// gcUser returns user name of the tenant with its username and e-mail
// claims.
func gcUser(tenantID, name string) (*directory.User, []directory.Claim) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	email := name + "@example.com"
	u := &directory.User{ID: directory.NewID(), TenantID: tenantID, Username: name, UsernameNorm: name,
		Email: email, EmailNorm: email, Version: 1, CreatedAt: now, UpdatedAt: now}
	return u, []directory.Claim{{Kind: directory.ClaimLogin, Value: name}, {Kind: directory.ClaimEmail, Value: email}}
}

// holdCommitter makes the committer run a write that blocks until release
// is called, so that the writes queued meanwhile form the next batch.
func holdCommitter(t *testing.T, s *store.Store) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- store.WriteTxForTest(context.Background(), s, func(context.Context, *sql.Tx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-errc; err != nil {
			t.Errorf("blocking write: %v", err)
		}
	}
}

// waitQueued waits until n writes wait for the committer.
func waitQueued(t *testing.T, s *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for store.QueuedWritesForTest(s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queued writes: got %d, want %d", store.QueuedWritesForTest(s), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		writes      int
		wantCommits int64 // beside the blocking write's own
	}{
		{1, 1},
		{store.MaxBatchForTest, 1},
		{store.MaxBatchForTest + 36, 2}, // at most MaxBatchForTest a batch
	} {
		t.Run(fmt.Sprint(tc.writes), func(t *testing.T) {
			t.Parallel()
			s := testdb.SQLite(t)
			ctx := t.Context()
			tn := gcTenant(t, s)
			release := holdCommitter(t, s)
			commits0, writes0 := store.GroupCommitStatsForTest(s)
			users := make([]*directory.User, tc.writes)
			errs := make([]error, tc.writes)
			var wg sync.WaitGroup
			for i := range users {
				u, claims := gcUser(tn.ID, fmt.Sprintf("u%d", i))
				users[i] = u
				wg.Go(func() { errs[i] = s.CreateUser(ctx, u, claims, nil) })
			}
			waitQueued(t, s, tc.writes)
			release()
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("CreateUser %d: %v", i, err)
				}
			}
			commits, writes := store.GroupCommitStatsForTest(s)
			commits, writes = commits-commits0-1, writes-writes0-1 // the blocking write
			if commits != tc.wantCommits || writes != int64(tc.writes) {
				t.Errorf("%d writes: got %d commits holding %d writes, want %d holding %d",
					tc.writes, commits, writes, tc.wantCommits, tc.writes)
			}
			for _, u := range users {
				if _, err := s.GetUser(ctx, tn.ID, u.ID); err != nil {
					t.Errorf("GetUser %s: %v", u.Username, err)
				}
			}
		})
	}
}

// TestGroupCommitIsolatesFailures puts writes that fail in every way
// beside writes that succeed, in one batch: each failure undoes only its
// own write.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	s := testdb.SQLite(t)
	ctx := t.Context()
	tn := gcTenant(t, s)
	if err := store.ExecForTest(ctx, s, `CREATE TABLE scratch (name TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	held, heldClaims := gcUser(tn.ID, "held")
	if err := s.CreateUser(ctx, held, heldClaims, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	// insert writes the scratch row name.
	insert := func(ctx context.Context, tx *sql.Tx, name string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scratch (name) VALUES ($1)`, name)
		return err
	}
	rawWrite := func(name string, body func(ctx context.Context, tx *sql.Tx, cancel func()) error) func(context.Context, func()) error {
		return func(ctx context.Context, cancel func()) error {
			return store.WriteTxForTest(ctx, s, func(wctx context.Context, tx *sql.Tx) error {
				if err := insert(wctx, tx, name); err != nil {
					return err
				}
				return body(wctx, tx, cancel)
			})
		}
	}
	ok := func(context.Context, *sql.Tx, func()) error { return nil }
	isErr := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	boom := errors.New("boom")
	user, claims := gcUser(tn.ID, "ann")
	dup, dupClaims := gcUser(tn.ID, "bob")
	dupClaims[1] = heldClaims[1] // held's e-mail

	cases := []struct {
		name          string
		write         func(ctx context.Context, cancel func()) error
		cancelQueued  bool // cancel the write's ctx before the batch starts
		wantErr       func(error) bool
		wantCommitted bool
	}{
		{name: "ok-first", write: rawWrite("ok-first", ok), wantErr: isErr(nil), wantCommitted: true},
		{
			name:          "create",
			write:         func(ctx context.Context, _ func()) error { return s.CreateUser(ctx, user, claims, nil) },
			wantErr:       isErr(nil),
			wantCommitted: true,
		},
		{
			name:  "conflicting claim",
			write: func(ctx context.Context, _ func()) error { return s.CreateUser(ctx, dup, dupClaims, nil) },
			wantErr: func(err error) bool {
				var cc *directory.ClaimConflict
				return errors.As(err, &cc) && cc.ExistingID == held.ID
			},
		},
		{
			name: "error",
			write: rawWrite("error", func(context.Context, *sql.Tx, func()) error {
				return boom
			}),
			wantErr: isErr(boom),
		},
		{
			name: "panic",
			write: rawWrite("panic", func(context.Context, *sql.Tx, func()) error {
				panic("write bug")
			}),
			wantErr: func(err error) bool { return err != nil && strings.Contains(err.Error(), "write bug") },
		},
		{name: "cancelled while queued", write: rawWrite("cancelled while queued", ok), cancelQueued: true, wantErr: isErr(context.Canceled)},
		{
			// The caller goes away while its write runs: its statements
			// still run (their ctx is not cancellable), then it is undone.
			name: "cancelled while running",
			write: rawWrite("cancelled while running", func(ctx context.Context, tx *sql.Tx, cancel func()) error {
				cancel()
				return insert(ctx, tx, "cancelled while running 2")
			}),
			wantErr: isErr(context.Canceled),
		},
		{
			// The caller goes away during a long statement: the statement
			// must not be interrupted, since SQLite would then roll back
			// the whole batch; the write is undone after it.
			name: "cancelled mid-statement",
			write: rawWrite("cancelled mid-statement", func(ctx context.Context, tx *sql.Tx, cancel func()) error {
				cancelled := make(chan struct{})
				go func() {
					time.Sleep(5 * time.Millisecond)
					cancel()
					close(cancelled)
				}()
				_, err := tx.ExecContext(ctx, `INSERT INTO scratch (name)
					WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 20000)
					SELECT 'm' || x FROM c`)
				<-cancelled
				return err
			}),
			wantErr: isErr(context.Canceled),
		},
		{
			// A write that runs a statement with its caller's ctx, and
			// that ctx is cancelled.
			name: "caller's ctx cancelled",
			write: func(ctx context.Context, cancel func()) error {
				return store.WriteTxForTest(ctx, s, func(wctx context.Context, tx *sql.Tx) error {
					if err := insert(wctx, tx, "caller's ctx cancelled"); err != nil {
						return err
					}
					cancel()
					return insert(ctx, tx, "caller's ctx cancelled 2")
				})
			},
			wantErr: isErr(context.Canceled),
		},
		{name: "ok-last", write: rawWrite("ok-last", ok), wantErr: isErr(nil), wantCommitted: true},
	}

	release := holdCommitter(t, s)
	commits0, _ := store.GroupCommitStatsForTest(s)
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		wg.Go(func() { errs[i] = tc.write(wctx, cancel) })
		waitQueued(t, s, i+1) // in the order of cases
		if tc.cancelQueued {
			cancel()
		}
	}
	release()
	wg.Wait()

	if commits, _ := store.GroupCommitStatsForTest(s); commits-commits0 != 2 {
		t.Errorf("got %d commits, want 2: the blocking write's and the batch's", commits-commits0)
	}
	for i, tc := range cases {
		if !tc.wantErr(errs[i]) {
			t.Errorf("%s: unexpected error %v", tc.name, errs[i])
		}
		var committed bool
		switch tc.name {
		case "create":
			_, err := s.GetUser(ctx, tn.ID, user.ID)
			committed = err == nil
		case "conflicting claim":
			_, err := s.GetUser(ctx, tn.ID, dup.ID)
			committed = err == nil
		default:
			committed = scratchRows(t, s, tc.name) > 0
		}
		if committed != tc.wantCommitted {
			t.Errorf("%s: committed %v, want %v", tc.name, committed, tc.wantCommitted)
		}
	}
	if n := scratchRows(t, s, "%"); n != 2 {
		t.Errorf("got %d scratch rows, want 2 (ok-first, ok-last)", n)
	}
}

// scratchRows counts the rows of the scratch table whose name is LIKE
// pattern.
func scratchRows(t *testing.T, s *store.Store, pattern string) int {
	t.Helper()
	var n int
	err := store.WriteTxForTest(t.Context(), s, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM scratch WHERE name LIKE $1`, pattern).Scan(&n)
	})
	if err != nil {
		t.Fatalf("count scratch rows: %v", err)
	}
	return n
}

// TestGroupCommitAbortedTransaction: when SQLite itself rolls back the
// shared transaction, no write of the batch is acknowledged, and the
// committer carries on with the next batch.
func TestGroupCommitAbortedTransaction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		abort func(tx *sql.Tx) error
	}{
		{"rollback", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(context.Background(), `ROLLBACK`)
			return err
		}},
		{"interrupted statement", func(tx *sql.Tx) error {
			// A write statement cancelled midway: SQLite rolls back the
			// whole transaction (https://sqlite.org/c3ref/interrupt.html).
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			_, err := tx.ExecContext(ctx, `INSERT INTO scratch (name)
				WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000000)
				SELECT 'n' || x FROM c`)
			if err == nil {
				return errors.New("not interrupted")
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testdb.SQLite(t)
			ctx := t.Context()
			if err := store.ExecForTest(ctx, s, `CREATE TABLE scratch (name TEXT PRIMARY KEY)`); err != nil {
				t.Fatal(err)
			}
			write := func(name string, abort bool) func() error {
				return func() error {
					return store.WriteTxForTest(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
						if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (name) VALUES ($1)`, name); err != nil {
							return err
						}
						if abort {
							return tc.abort(tx)
						}
						return nil
					})
				}
			}
			writes := []func() error{write("before", false), write("abort", true), write("after", false)}
			release := holdCommitter(t, s)
			errs := make([]error, len(writes))
			var wg sync.WaitGroup
			for i, w := range writes {
				wg.Go(func() { errs[i] = w() })
				waitQueued(t, s, i+1)
			}
			release()
			wg.Wait()
			for i, err := range errs {
				if err == nil {
					t.Errorf("write %d of the aborted batch: got nil error", i)
				}
			}
			if err := write("next", false)(); err != nil {
				t.Fatalf("write after the aborted batch: %v", err)
			}
			if n := scratchRows(t, s, "%"); n != 1 {
				t.Errorf("got %d scratch rows, want 1 (next)", n)
			}
		})
	}
}

// TestGroupCommitDurable: once CreateUser has returned, the row is in the
// database files, before any Close: a copy of the files taken then, as a
// crash would leave them, holds every row.
func TestGroupCommitDurable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	kr := testdb.Keyring(t)
	url := testdb.SQLiteURL(t)
	s := testdb.OpenURL(t, url, kr)
	tn := gcTenant(t, s)
	const n = 50
	users := make([]*directory.User, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range users {
		u, claims := gcUser(tn.ID, fmt.Sprintf("u%d", i))
		users[i] = u
		wg.Go(func() { errs[i] = s.CreateUser(ctx, u, claims, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreateUser %d: %v", i, err)
		}
	}
	// "Crash": copy the database and its WAL while the store is open.
	path := strings.TrimPrefix(url, "sqlite:")
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatalf("read %s: %v", path+suffix, err)
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, reopened := range []string{"sqlite:" + crashed, url} {
		if reopened == url {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		s2 := testdb.OpenURL(t, reopened, kr)
		for _, u := range users {
			if _, err := s2.GetUser(ctx, tn.ID, u.ID); err != nil {
				t.Errorf("%s: GetUser %s: %v", reopened, u.Username, err)
			}
		}
	}
}

// TestGroupCommitClose closes the store while writes are in flight: each
// either commits (nil) or fails with ErrClosed, nothing panics or hangs,
// and exactly the acknowledged writes are stored.
func TestGroupCommitClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	kr := testdb.Keyring(t)
	url := testdb.SQLiteURL(t)
	s, err := store.Open(ctx, url, store.Options{Keyring: kr})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	tn := gcTenant(t, s)
	const n = 200
	users := make([]*directory.User, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range users {
		u, claims := gcUser(tn.ID, fmt.Sprintf("u%d", i))
		users[i] = u
		wg.Go(func() { errs[i] = s.CreateUser(ctx, u, claims, nil) })
	}
	time.Sleep(2 * time.Millisecond) // let some of them commit, some queue
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	u, claims := gcUser(tn.ID, "late")
	if err := s.CreateUser(ctx, u, claims, nil); !errors.Is(err, store.ErrClosed) {
		t.Errorf("CreateUser after Close: got %v, want ErrClosed", err)
	}

	s2 := testdb.OpenURL(t, url, kr)
	acked := 0
	for i, u := range users {
		_, gerr := s2.GetUser(ctx, tn.ID, u.ID)
		switch {
		case errs[i] == nil:
			acked++
			if gerr != nil {
				t.Errorf("user %d: acknowledged but not stored: %v", i, gerr)
			}
		case errors.Is(errs[i], store.ErrClosed):
			if !errors.Is(gerr, directory.ErrNotFound) {
				t.Errorf("user %d: got ErrClosed but GetUser: %v, want ErrNotFound", i, gerr)
			}
		default:
			t.Errorf("user %d: got %v, want nil or ErrClosed", i, errs[i])
		}
	}
	t.Logf("%d of %d writes committed before Close", acked, n)
}

// TestGroupCommitAnswersFailuresAfterCommit: a write that fails against
// another write of its batch (here a version the other bumped) is answered
// only once that write has committed, so that a caller who reads again on
// ErrPrecondition sees why.
func TestGroupCommitAnswersFailuresAfterCommit(t *testing.T) {
	t.Parallel()
	s := testdb.SQLite(t)
	ctx := t.Context()
	tn := gcTenant(t, s)
	u, claims := gcUser(tn.ID, "ann")
	if err := s.CreateUser(ctx, u, claims, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	release := holdCommitter(t, s)
	type result struct {
		err     error
		version int64 // read right after UpdateUser returned
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		v := *u
		v.FirstName, v.Version = fmt.Sprint("v", i), 2
		wg.Go(func() {
			err := s.UpdateUser(ctx, &v, claims, 1, nil)
			got, gerr := s.GetUser(ctx, tn.ID, u.ID)
			if gerr != nil {
				t.Errorf("GetUser: %v", gerr)
				return
			}
			results[i] = result{err, got.Version}
		})
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()
	if results[0].err != nil {
		t.Errorf("first update: %v", results[0].err)
	}
	if !errors.Is(results[1].err, directory.ErrPrecondition) {
		t.Errorf("second update: got %v, want ErrPrecondition", results[1].err)
	}
	for i, r := range results {
		if r.version != 2 {
			t.Errorf("update %d: read version %d after it returned, want 2", i, r.version)
		}
	}
}
