// Package cli is the roster command line: serve, migrate, tenant,
// credential, user and version. It parses flags, builds the dependencies
// and calls the core; it holds no business logic. Run returns an exit code
// so tests can drive it with buffers.
package cli
