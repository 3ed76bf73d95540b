// Package userrecord holds the JSON form of a user's structured parts —
// address, multi-valued attributes, aliases, custom attributes — that
// `roster user export`/`import` (internal/cli) and the webhook payload's
// user object (internal/webhook) share, with the field names both document
// (docs/OPERATIONS.md#field-names, docs/WEBHOOKS.md). Change them only
// compatibly: scripts and webhook receivers read them.
//
// The two user objects themselves stay separate types on purpose: the
// export record omits every empty field and can carry the SSN, so that it
// is lossless and compact; the event always sends the booleans, version
// and times, at the microsecond precision Roster stores, and never the
// SSN.
package userrecord
