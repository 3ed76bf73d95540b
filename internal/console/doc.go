// Package console is Roster's admin console (issue 13): server-rendered
// HTML pages at /console/ for operators to find users, manage tenants and
// credentials, and read the audit log. Every asset is embedded; the only
// script is a small vanilla one for instant search, and every page works
// without it.
//
// Operators sign in with an e-mail and password (argon2id), get a session
// cookie whose token is stored only as a hash, and send a CSRF token tied
// to that session with every form. Viewers read; admins also create
// tenants and credentials, revoke credentials and reveal SSNs, each
// reveal written to the audit log. See docs/CONSOLE.md.
package console
