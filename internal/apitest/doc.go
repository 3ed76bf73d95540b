// Package apitest runs a dialect's routes on a real httptest server over a
// real store (SQLite or PostgreSQL, from internal/testdb) with the shared
// middleware, a controllable clock and captured logs, and pins wire formats
// with golden files. Dialect tests import it; production code never does.
package apitest
