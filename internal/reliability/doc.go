// Package reliability holds end-to-end tests of Roster's durability and
// multi-instance promises (docs/RELIABILITY.md), run against the real
// binary: the tests build `roster` once, start `roster serve` as child
// processes on 127.0.0.1, drive them over real HTTP in several dialects,
// and check the database directly with database/sql afterwards.
//
//   - TestCrashSafety SIGKILLs a loaded server at random moments, restarts
//     it, and checks that every acknowledged write survived exactly once
//     and that no unacknowledged write is half there (SQLite and
//     PostgreSQL).
//   - TestSeveralInstances runs three servers on one PostgreSQL database:
//     racing creates of one e-mail or username give one user and a
//     conflict in each dialect's format for every other request, one
//     Idempotency-Key raced through them gives one user and replays or
//     "in use" conflicts, session tokens work on every instance, and a
//     revoked credential fails on every instance from the next request.
//
// The package has no non-test code; it exists so that `go test ./...` runs
// these tests.
package reliability
