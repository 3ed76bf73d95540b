// Package openapi holds Roster's OpenAPI 3.1 documents, one per dialect
// (truv, entrust, cl2c, ownli, scim) and one for Roster's own operational
// routes (admin), embedded in the binary. It serves them as JSON at
// /openapi/{name}.json, lists them at /openapi/, and renders a reference
// page from them at /docs (HTML rendered here, no script, no CDN).
//
// The documents are the contract: internal/server's contract test sends
// real requests for every operation of every document and validates each
// request and response against it with kin-openapi's openapi3filter.
package openapi
