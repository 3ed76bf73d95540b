// Package filter parses SCIM 2.0 filters (RFC 7644 §3.4.2.2) and PATCH
// paths (RFC 7644 §3.5.2) and translates filters to the core's filter
// (directory.Expr) for the SCIM dialect.
//
// Parsing is purely syntactic: Parse and ParsePath accept any attribute
// name the grammar allows, and report every syntax error as an *Error with
// the byte offset where it was found. UserExpr and GroupExpr then resolve
// the names against Roster's SCIM schemas (names case-insensitive, optional
// schema-URI prefix) and type-check the values, so an unsupported attribute
// or a mistyped value is an *Error as well: the SCIM server answers both
// with 400 invalidFilter, never with a 500 or an unfiltered listing.
//
// Roster keeps fewer values than SCIM can express (one e-mail, a phone and
// a mobile, one address). A filter on a multi-valued attribute is expanded
// into a disjunction over those fixed slots, with the slot's type and
// primary flag decided here in Go and emitted as directory.Const; see
// userResource in translate.go for every mapping.
package filter
