package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// Options configure a Store.
type Options struct {
	// Keyring encrypts SSNs at rest. Required.
	Keyring *secret.Keyring
	// CommitObserver, when set, is told of every committed write
	// transaction (for metrics); see CommitObserver.
	CommitObserver CommitObserver
	// ReadURL names a PostgreSQL streaming replica of the database that
	// serves user lists and searches when it has caught up (see listTx);
	// "" reads everything from the primary. PostgreSQL only.
	ReadURL string
}

// Store implements directory.Store over SQLite or PostgreSQL. It is safe
// for concurrent use.
type Store struct {
	d dialect
	// w takes every write. On SQLite it is a single connection, because
	// SQLite has one writer at a time and queueing in database/sql is
	// cheaper than spinning on SQLITE_BUSY; on PostgreSQL it is the pool.
	w *sql.DB
	// r serves reads. On SQLite it is a separate pool of query_only
	// connections, so reads never wait for the writer (WAL); on
	// PostgreSQL it is the same pool as w.
	r  *sql.DB
	kr *secret.Keyring
	// gc runs writeTx on SQLite (group commit); nil on PostgreSQL, which
	// merges concurrent commits into one WAL flush by itself.
	gc *groupCommitter
	// observe is Options.CommitObserver; nil: none.
	observe CommitObserver
	// rep is the read replica (Options.ReadURL), or nil.
	rep *replica
}

var _ directory.Store = (*Store)(nil)

// IsPostgresURL reports whether url names a PostgreSQL database
// ("postgres://..." or "postgresql://...").
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// sqlitePath returns the file path of a SQLite URL: "sqlite:PATH",
// "sqlite://PATH" or "file:PATH".
func sqlitePath(u string) (string, bool) {
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if p, ok := strings.CutPrefix(u, prefix); ok {
			return p, true
		}
	}
	return "", false
}

// Open connects to the database named by url: "sqlite:PATH" (also
// "sqlite://PATH" or "file:PATH") or a "postgres://" URL. It checks that the
// database is reachable but does not migrate it; see Migrate and
// CheckSchema.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	if o.Keyring == nil {
		return nil, errors.New("open store: no keyring")
	}
	var s *Store
	var err error
	switch {
	case IsPostgresURL(url):
		s, err = openPostgres(url)
	default:
		path, ok := sqlitePath(url)
		if !ok {
			return nil, fmt.Errorf("open store: unsupported database URL %q: want sqlite:PATH or postgres://...", redactURL(url))
		}
		s, err = openSQLite(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.kr = o.Keyring
	s.observe = o.CommitObserver
	if s.gc != nil {
		s.gc.observe = o.CommitObserver // before any write reaches it
	}
	if o.ReadURL != "" {
		if s.d.name != postgres.name || !IsPostgresURL(o.ReadURL) {
			s.Close()
			return nil, errors.New("open store: a read replica needs PostgreSQL for both the database and the replica")
		}
		if s.rep, err = openReplica(o.ReadURL); err != nil {
			s.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	// The writer is pinged first: on a new SQLite file its connection
	// creates the file and switches it to WAL before any reader opens it.
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

func openPostgres(url string) (*Store, error) {
	// A connector of our own classifies connection failures as
	// directory.ErrUnavailable (see unavailable.go).
	conn, err := newPGConnector(url)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	// 16 connections serve a 2-8 core server well and leave room for
	// several instances under PostgreSQL's default max_connections of 100.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{d: postgres, w: db, r: db}, nil
}

func openSQLite(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("invalid sqlite path %q", path)
	}
	// The database holds names, e-mails and phone numbers: create it
	// readable by its owner only. SQLite gives the -wal and -shm files the
	// mode of the database file, so they follow. An existing file keeps
	// the mode its operator chose.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create sqlite file: %w", err)
	}
	w, err := openCached(sqlite.driver, sqliteDSN(path, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := openCached(sqlite.driver, sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{d: sqlite, w: w, r: r, gc: newGroupCommitter(w)}, nil
}

// sqliteDSN builds the modernc DSN for path. Pragmas run on every new
// connection. busy_timeout comes first (modernc orders it first whatever
// the DSN order, and we list it first too): later pragmas such as
// journal_mode may need a lock and must wait for it rather than fail with
// SQLITE_BUSY. synchronous(FULL) because a 2xx must survive power loss;
// WAL's default NORMAL can lose the last commits. The writer begins its
// transactions IMMEDIATE so that a transaction that reads before it writes
// cannot fail to upgrade its lock midway.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		// The file is already in WAL: the writer connected first.
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		// Group commit runs each write in a SAVEPOINT, whose undo pages
		// SQLite keeps in a statement journal: a temporary file (one
		// pwrite per page) unless temp_store is MEMORY. That journal only
		// serves ROLLBACK TO inside the open transaction, never crash
		// recovery (the WAL does), so memory loses no durability.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_txlock", "immediate")
	}
	// No "file:" prefix: modernc then takes the path verbatim instead of
	// parsing it as a URI, so '%' in a path needs no escaping.
	return path + "?" + q.Encode()
}

// redactURL drops a password from a database URL for error messages.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	return p.Redacted()
}

// Backend returns "sqlite" or "postgres".
func (s *Store) Backend() string { return s.d.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
	}
	return nil
}

// Close waits for the writes already queued, then closes the database
// handles. Writes through writeTx after Close return ErrClosed.
func (s *Store) Close() error {
	if s.gc != nil {
		s.gc.close() // before the writer it uses is closed
	}
	var err error
	if s.r != s.w {
		err = s.r.Close()
	}
	if s.rep != nil {
		err = errors.Join(err, s.rep.db.Close())
	}
	return errors.Join(err, s.w.Close())
}

// readTx begins a read-only transaction, so that the statements of one
// read (a page, its count and its aliases) see one snapshot.
func (s *Store) readTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.d.snapshot})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return tx, nil
}

// writeTx runs fn in a write transaction and returns once that
// transaction has committed (Invariant 1), or fn's error, in which case
// nothing of fn is written. fn must use the ctx it is given, not its
// caller's, for its statements, must return every error it gets from tx,
// and must depend only on its inputs: on PostgreSQL, when the transaction
// is aborted as a deadlock victim or a serialization failure, writeTx runs
// it again. (UpdateUser releases claims before taking new ones, so two
// writers swapping identifiers can deadlock; one of them then retries and
// sees the other's committed claims.)
//
// On SQLite, fn shares its transaction with other concurrent writes (see
// groupCommitter): its ctx is then not cancellable, and a cancellation of
// the caller's ctx is checked before and after fn instead.
func (s *Store) writeTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.gc != nil {
		return s.gc.do(ctx, fn)
	}
	const attempts = 3
	for i := 1; ; i++ {
		err := s.writeTxOnce(ctx, fn)
		if err == nil || i == attempts || !s.d.isRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (s *Store) writeTxOnce(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", s.d.classify(err))
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback() // the error that matters is fn's
		return err
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.d.classify(err))
	}
	if s.observe != nil {
		s.observe(1, time.Since(start))
	}
	return nil
}

// exec runs one write statement in its own transaction through writeTx,
// so that on SQLite it joins a group commit with concurrent writes rather
// than paying an fsync of its own.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// micros converts a time to the stored form: Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts the stored form back, in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// b2i stores a bool as 0/1: one column type and one SQL text on both
// backends.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "$from, $from+1, ..." for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// insertRows inserts rows (each of the same width) with multi-row VALUES,
// in batches small enough for either backend's parameter limit.
func insertRows(ctx context.Context, q querier, prefix string, rows [][]any) error {
	for _, st := range multiRowInserts(prefix, rows) {
		if _, err := q.ExecContext(ctx, st.sql, st.args...); err != nil {
			return err
		}
	}
	return nil
}
