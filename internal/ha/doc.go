// Package ha holds the tests of Roster on a highly available PostgreSQL
// (issue 12): the store conformance suite and several instances through
// PgBouncer in transaction pooling mode, a synchronous standby promoted
// under load from three `roster serve` processes, and reads from a
// streaming replica with read-your-writes. The servers are real, started
// by internal/pgcluster; the package has no non-test code.
package ha
