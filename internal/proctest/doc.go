// Package proctest runs the roster binary as child processes, for the
// end-to-end tests of internal/ha and internal/reliability (and the
// goroutine-safe output buffer internal/cli's tests share). It is for tests
// only: its helpers fail the calling test with testing.TB, and Roster
// builds ./cmd/roster with the go command. Nothing outside _test.go files
// may import it.
//
// What it holds is the part those harnesses had in common: building the
// binary once per test run, the ROSTER_* environment of one test's
// commands, admin commands run to completion, and `roster serve`
// processes started on a free loopback port, waited for until /readyz
// answers, killed when the test ends, and their standard error shown when
// it failed. What each package checks stays in that package.
package proctest
