package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/roster-dev/roster/internal/directory"
)

// pgUnavailable reports whether err says the PostgreSQL server (or the
// pooler in front of it) cannot do the work now but may soon: no
// connection could be made, the connection broke, the server is shutting
// down or still starting, it is a standby (read-only), or it is out of
// connections. These are the errors a failover produces; the request that
// met one is answered 503 with Retry-After, never 500.
func pgUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false // the caller gave up: the client is gone
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// Refused, reset, timed out (connect_timeout: a host that does
		// not answer at all), or "server is not read-write" under
		// target_session_attrs while the standby is not yet promoted.
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's deadline, not the server's state
	}
	if errors.Is(err, driver.ErrBadConn) {
		// database/sql retries a bad connection on another; it reaches
		// a caller only when the fresh ones fail too.
		return true
	}
	switch c := pgCode(err); {
	case len(c) == 5 && c[:2] == "08": // connection_exception (PgBouncer reports its own failures so too)
		return true
	case c == "57P01", c == "57P02", c == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return true
	case c == "25006": // read_only_sql_transaction: a session on a server that became a standby
		return true
	case c == "53300": // too_many_connections
		return true
	case c != "":
		return false // any other server error is about the statement, not the server
	}
	if pgconn.SafeToRetry(err) {
		return true // nothing was sent: the connection was already unusable
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// markUnavailable wraps err with directory.ErrUnavailable when
// pgUnavailable says so, keeping the driver error in the chain for the
// access log (and for database/sql, which looks for driver.ErrBadConn in
// it to retry on another connection).
func markUnavailable(err error) error {
	if pgUnavailable(err) && !errors.Is(err, directory.ErrUnavailable) {
		return fmt.Errorf("%w: %w", directory.ErrUnavailable, err)
	}
	return err
}

// pgConnector opens pgx connections for database/sql and classifies every
// error they return: a failover makes errors appear at any statement of
// any store method (authentication reads first), so the classification is
// done once, here, at the driver boundary, rather than at each call site.
type pgConnector struct {
	inner driver.Connector
}

// newPGConnector parses url as pgx does (so every pgx connection-string
// setting, default_query_exec_mode and target_session_attrs among them,
// works as documented) and returns a connector for sql.OpenDB.
func newPGConnector(url string) (driver.Connector, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	return pgConnector{inner: stdlib.GetConnector(*cfg)}, nil
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, markUnavailable(err)
	}
	return &pgConn{conn: conn.(*stdlib.Conn)}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a *stdlib.Conn whose errors are classified. It implements the
// optional interfaces *stdlib.Conn does, and database/sql finds them by
// type assertion, so none may be left out.
type pgConn struct {
	conn *stdlib.Conn
}

var (
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
)

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	st, err := c.conn.Prepare(query)
	return st, markUnavailable(err)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.conn.PrepareContext(ctx, query)
	return st, markUnavailable(err)
}

func (c *pgConn) Close() error { return c.conn.Close() }

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, markUnavailable(err)
	}
	return pgTx{tx}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.conn.ExecContext(ctx, query, args)
	return res, markUnavailable(err)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.conn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, markUnavailable(err)
	}
	return &pgRows{rows.(*stdlib.Rows)}, nil
}

func (c *pgConn) Ping(ctx context.Context) error { return markUnavailable(c.conn.Ping(ctx)) }

func (c *pgConn) CheckNamedValue(v *driver.NamedValue) error { return c.conn.CheckNamedValue(v) }

// ResetSession is passed through untouched: its driver.ErrBadConn is how
// database/sql learns to drop a broken connection from the pool.
func (c *pgConn) ResetSession(ctx context.Context) error { return c.conn.ResetSession(ctx) }

// pgTx classifies COMMIT's error: a connection lost during COMMIT leaves
// the outcome unknown, and the write is then answered 503, never 2xx.
type pgTx struct{ tx driver.Tx }

func (t pgTx) Commit() error   { return markUnavailable(t.tx.Commit()) }
func (t pgTx) Rollback() error { return markUnavailable(t.tx.Rollback()) }

// pgRows classifies an error met while reading rows (the connection can
// break mid-result). io.EOF, the end of the rows, passes unchanged.
type pgRows struct{ rows *stdlib.Rows }

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*pgRows)(nil)
	_ driver.RowsColumnTypeLength           = (*pgRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*pgRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*pgRows)(nil)
)

func (r *pgRows) Columns() []string { return r.rows.Columns() }
func (r *pgRows) Close() error      { return markUnavailable(r.rows.Close()) }

func (r *pgRows) Next(dest []driver.Value) error {
	err := r.rows.Next(dest)
	if err == io.EOF {
		return err // database/sql compares with ==
	}
	return markUnavailable(err)
}

func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.rows.ColumnTypeDatabaseTypeName(i)
}
func (r *pgRows) ColumnTypeLength(i int) (int64, bool) { return r.rows.ColumnTypeLength(i) }
func (r *pgRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.rows.ColumnTypePrecisionScale(i)
}
func (r *pgRows) ColumnTypeScanType(i int) reflect.Type { return r.rows.ColumnTypeScanType(i) }
