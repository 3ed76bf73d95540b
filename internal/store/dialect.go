package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	msqlite "modernc.org/sqlite"       // registers driver "sqlite"

	"github.com/roster-dev/roster/internal/directory"
)

// dialect is everything that differs between the two backends. The SQL
// text itself does not: both drivers take $N placeholders, times are
// integers and booleans 0/1 on both.
type dialect struct {
	name   string // "sqlite" or "postgres"
	driver string // database/sql driver name
	// migrations is the directory of this backend's files in migrationFS.
	migrations string
	// snapshot is the isolation level of read transactions. PostgreSQL's
	// default, READ COMMITTED, gives each statement its own snapshot;
	// REPEATABLE READ makes a page, its count and its aliases agree.
	// SQLite's read transactions are snapshots already.
	snapshot sql.IsolationLevel
	// strpos names the function returning the 1-based position of a
	// substring, or 0: instr on SQLite, strpos on PostgreSQL.
	strpos string
	// extra returns the SQL text of the string kept under key in the
	// users.extras JSON column (alias u), '' when the key is absent or the
	// column empty, compared and ordered byte for byte as every other
	// column. arg adds a parameter and returns its placeholder: the key
	// never enters the SQL text.
	extra func(key string, arg func(any) string) string
	// tableExists is a query with one parameter, a table name, returning
	// a count.
	tableExists string
	// isUnique, isForeignKey classify a driver error.
	isUnique, isForeignKey func(error) bool
	// isRetryable reports whether a failed transaction may simply be run
	// again.
	isRetryable func(error) bool
}

// SQLite extended result codes (https://sqlite.org/rescode.html); modernc
// turns extended codes on for every connection.
const (
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

func sqliteCode(err error) int {
	var se *msqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

var sqlite = dialect{
	name:        "sqlite",
	driver:      "sqlite",
	migrations:  "migrations/sqlite",
	snapshot:    sql.LevelDefault,
	strpos:      "instr",
	tableExists: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`,
	extra:       sqliteExtra,
	isUnique: func(err error) bool {
		c := sqliteCode(err)
		return c == sqliteConstraintUnique || c == sqliteConstraintPrimaryKey
	},
	isForeignKey: func(err error) bool { return sqliteCode(err) == sqliteConstraintForeignKey },
	// One writer and a busy timeout: SQLite transactions do not deadlock.
	isRetryable: func(error) bool { return false },
}

var postgres = dialect{
	name:        "postgres",
	driver:      "pgx",
	migrations:  "migrations/postgres",
	snapshot:    sql.LevelRepeatableRead,
	strpos:      "strpos",
	tableExists: `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`,
	// ->> with a text key looks the key up exactly, whatever it holds.
	// Its result has the database's collation: "C" keeps the order
	// byte-wise, as on SQLite and in directory.CursorFor.
	extra: func(key string, arg func(any) string) string {
		return `(COALESCE(NULLIF(u.extras, '')::jsonb ->> CAST(` + arg(key) + ` AS text), '') COLLATE "C")`
	},
	isUnique: func(err error) bool { return pgCode(err) == "23505" },
	// 23503 foreign_key_violation.
	isForeignKey: func(err error) bool { return pgCode(err) == "23503" },
	// 40P01 deadlock_detected, 40001 serialization_failure.
	isRetryable: func(err error) bool { c := pgCode(err); return c == "40P01" || c == "40001" },
}

// sqliteExtra is the extra expression of SQLite. A JSON path names a key
// in double quotes, with no way to escape a quote (or, portably, a
// backslash) inside it; keys holding either are looked up through
// json_each instead, which compares decoded keys exactly but costs a
// subquery per row. The path, like the key, is a parameter.
func sqliteExtra(key string, arg func(any) string) string {
	if !strings.ContainsAny(key, `"\`) {
		return `COALESCE(json_extract(NULLIF(u.extras, ''), ` + arg(`$."`+key+`"`) + `), '')`
	}
	return `COALESCE((SELECT j.value FROM json_each(NULLIF(u.extras, '')) j WHERE j.key = ` + arg(key) + `), '')`
}

// classify translates a driver error to the directory's errors, keeping
// the driver error in the chain for logs. It is the only place that looks
// inside driver errors.
func (d dialect) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return directory.ErrNotFound
	case d.isUnique(err):
		return fmt.Errorf("%w: %w", directory.ErrConflict, err)
	case d.isForeignKey(err):
		return fmt.Errorf("%w: %w", directory.ErrInvalidReference, err)
	}
	return err
}
