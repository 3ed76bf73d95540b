// Package testdb gives tests a real database: a SQLite file in the test's
// temporary directory, or a fresh PostgreSQL database created on the server
// named by ROSTER_TEST_POSTGRES and dropped when the test ends.
//
// Without ROSTER_TEST_POSTGRES, PostgreSQL tests skip locally but fail when
// the CI environment variable is set: a silent skip in CI would count as a
// pass.
package testdb
