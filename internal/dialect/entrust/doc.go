// Package entrust speaks the user endpoints of the Entrust Identity as a
// Service Administration API (version 5.46): admin-API authentication with
// short-lived tokens, user create/get/update/delete, lookup by userId, alias
// or externalId, cursor-paged search, bulk operations, and the state and
// unlock calls. Every body it sends, success or error, follows the vendor's
// published OpenAPI schema (testdata/entrust-admin-users.openapi.json);
// errors are the vendor's ErrorInfo {errorCode, errorMessage, parameters}.
//
// See docs/entrust.md for routes, authentication forms, error codes and the
// choices made where the vendor is silent.
package entrust
