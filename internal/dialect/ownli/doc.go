// Package ownli speaks the Ownli partner API (docs.ownli.co, "Create a
// user" and its siblings) over the directory core: POST /api/auth/token,
// POST /api/users, PUT /api/users/{userId}, and the get, list and delete
// routes Ownli's pages do not document but its integration guide implies.
//
// Ownli authenticates either with the legacy headers partnerId (the tenant
// name), clientId and clientSecret on every request, or with a bearer token
// from /api/auth/token of scope "admin" or "user". Resources are camelCase
// JSON; errors are {"error_code", "error_message"}. Ownli requires firstName,
// lastName, an E.164 phone and an address with a USPS state code, and
// rejects a second user with the same e-mail or phone unless the caller asks
// for the existing one (returnExistingUserIfExists=true).
//
// Every behaviour the vendor leaves open is decided and listed in
// docs/ownli.md.
package ownli
