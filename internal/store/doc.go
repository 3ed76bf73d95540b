// Package store is the one SQL implementation of directory.Store, over
// database/sql, for SQLite (modernc.org/sqlite, the embedded default) and
// PostgreSQL (pgx's stdlib driver).
//
// Every statement is written once, with $N placeholders, which both drivers
// accept. What must differ between the backends (driver name, DSN, pool
// shape, error classification, the migrations directory, the one string
// function whose name differs, and how to read a key of the users.extras
// JSON text) lives in a small dialect value. Driver errors
// are translated to the directory's errors here and nowhere else, so nothing
// above this package imports a driver.
//
// Schema changes are numbered SQL files embedded per backend under
// migrations/ and applied by Migrate; Open never migrates, and CheckSchema
// tells a server whether the database matches the binary.
package store
