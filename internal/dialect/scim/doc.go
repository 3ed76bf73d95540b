// Package scim is Roster's SCIM 2.0 dialect (RFC 7643 schema, RFC 7644
// protocol) under /scim/v2: discovery (ServiceProviderConfig,
// ResourceTypes, Schemas), Users and Groups with filter, sort, paging,
// attribute projection, PATCH and weak ETags, and Bulk with bulkId
// references. It is written to provision from Okta and Microsoft Entra ID,
// whose quirks it accepts (capitalised PATCH ops, booleans as strings,
// path-less replace values).
//
// Callers authenticate with "Authorization: Bearer <credential secret>".
// Users map onto the core directory.User (see wire.go); SCIM attributes
// without a core column live in User.Extras, and Roster-only values (SSN,
// aliases, custom attributes, other dialects' extras) appear in the
// extension urn:ietf:params:scim:schemas:extension:roster:2.0:User.
// Listing filters are translated to the core filter (SQL on both stores) by
// the filter subpackage; PATCH value-path filters are evaluated in memory
// against the resource's SCIM representation (eval.go). docs/scim.md is the
// user-facing description.
package scim
