// Package truv speaks Truv's users API (https://docs.truv.com/api-reference/users):
// POST and GET /v1/users/, GET, PATCH and DELETE /v1/users/{id}/, and POST
// /v1/users/{id}/tokens/ (a bridge token; Roster does not run Bridge), with
// Truv's static X-Access-Client-Id / X-Access-Secret headers, its user
// object (32-hex ids, millisecond UTC timestamps, Truv's key order), its
// Django REST Framework page envelope {count, next, previous, results} and
// its error bodies: {"error":{"code","message","extra":{"invalid-params"}}}
// for 400, 401 and the like, and DRF's {"detail": ...} for 404, 405, 406 and
// 415.
//
// The package only translates. Validation and normalisation are the core's
// (internal/directory); this package picks the checks Truv documents
// (Rules) and maps Truv's wire names to core fields and back. Every choice
// made where Truv is silent is written down in docs/truv.md.
package truv
