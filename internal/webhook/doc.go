// Package webhook delivers Roster's change events to the URLs a tenant's
// operator subscribed (`roster webhook add`): the event types and their
// JSON payload, the HMAC-SHA256 signature, the destination policy that
// refuses link-local, metadata and other non-public addresses, and the
// Dispatcher that `roster serve` runs over the store's transactional
// outbox. The store writes the outbox rows in the transaction of the
// change itself (internal/store/webhooks.go); this package only reads them.
// docs/WEBHOOKS.md is the contract for receivers.
package webhook
