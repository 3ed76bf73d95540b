// Package filter parses SCIM 2.0 filters (RFC 7644 §3.4.2.2) and PATCH
// paths (RFC 7644 §3.5.2).
//
// Parsing is purely syntactic: Parse and ParsePath accept any attribute
// name the grammar allows, and report every syntax error as an *Error with
// the byte offset where it was found. The SCIM dialect then resolves the
// names against its schema table (names case-insensitive, optional
// schema-URI prefix) and type-checks the values (translate.go there), so an
// unsupported attribute or a mistyped value is an *Error as well: the SCIM
// server answers both with 400 invalidFilter, never with a 500 or an
// unfiltered listing.
package filter
