// Package directory is Roster's core: tenants, credentials, session tokens,
// users and groups, their normalisation and validation, the uniqueness
// policy, and the typed errors every wire dialect maps to its own format.
//
// It knows nothing of HTTP or SQL. Dialects (internal/dialect/...) call the
// Service; the Service calls a Store, which internal/store implements for
// SQLite and PostgreSQL. The Store contract is pinned by the conformance
// suite in internal/directory/storetest.
package directory
