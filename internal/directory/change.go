package directory

import (
	"context"
	"time"
)

// Change is what a write records beside itself, in the write's own
// transaction: the audit entry that says who changed what, and, when the
// request carried an Idempotency-Key, the mark that ties the key to the
// write. The Service builds it; the store writes it inside the same
// transaction (SQLite's group-commit savepoint included), so a committed
// write always has its audit row and its key, and a rolled-back one has
// neither.
//
// A nil *Change records nothing; only tests of the store pass nil.
type Change struct {
	Audit       AuditEntry
	Idempotency *IdempotencyMark // nil: the request had no Idempotency-Key
	// User is the user as a create or update writes it (nil for other
	// changes): the store's webhook outbox sends it, without its SSN,
	// with the user.created or user.updated event (docs/WEBHOOKS.md).
	User *User
}

// Audit actions. Each names the kind of record and what happened to it.
const (
	ActionUserCreate       = "user.create"
	ActionUserUpdate       = "user.update"
	ActionUserDelete       = "user.delete"
	ActionGroupCreate      = "group.create"
	ActionGroupUpdate      = "group.update"
	ActionGroupDelete      = "group.delete"
	ActionTenantCreate     = "tenant.create"
	ActionCredentialCreate = "credential.create"
	ActionCredentialRevoke = "credential.revoke"
	ActionWebhookCreate    = "webhook.create" // roster webhook add
	ActionWebhookDelete    = "webhook.delete" // roster webhook remove
)

// Audit target kinds.
const (
	TargetUser       = "user"
	TargetGroup      = "group"
	TargetTenant     = "tenant"
	TargetCredential = "credential"
	TargetWebhook    = "webhook"
)

// ActorAdmin is the actor of changes made by the roster command itself
// (tenant create, credential create and revoke, user import), which run
// with the database's own access and no API credential.
const ActorAdmin = "admin"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	actorKey
	idempotencyKey
)

// WithRequestID returns ctx carrying the request id the audit log
// records. internal/httpapi's middleware sets it on every request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request id WithRequestID stored, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithActor returns ctx naming who makes the changes done under it when
// there is no Principal (the CLI's "admin", say).
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// actorOf is the audit actor of a change made for p: its credential's
// client id, else the context's actor, else ActorAdmin.
func actorOf(ctx context.Context, p *Principal) string {
	if p != nil && p.ClientID != "" {
		return p.ClientID
	}
	if a, ok := ctx.Value(actorKey).(string); ok && a != "" {
		return a
	}
	return ActorAdmin
}

// change builds the Change of one write. tenantID is the tenant the audit
// row belongs to; p is nil for administrative changes.
func (s *Service) change(ctx context.Context, p *Principal, tenantID, action, targetType, targetID string, fields []string, at time.Time) *Change {
	ch := &Change{Audit: AuditEntry{
		ID:         newID(),
		TenantID:   tenantID,
		At:         at,
		Actor:      actorOf(ctx, p),
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		Fields:     fields,
		RequestID:  RequestIDFrom(ctx),
	}}
	if c := idempotencyFrom(ctx); c != nil && p != nil && c.Key.TenantID == p.TenantID && c.Key.ClientID == p.ClientID {
		ch.Idempotency = &IdempotencyMark{Key: c.Key, Owner: c.Owner, ResourceID: targetID}
	}
	return ch
}

// committed tells the request's idempotency claim, if any, that a write
// of it has committed, so the HTTP layer records its response rather
// than releasing the key.
func committed(ctx context.Context, ch *Change) {
	if ch == nil || ch.Idempotency == nil {
		return
	}
	if c := idempotencyFrom(ctx); c != nil {
		c.committed = true
		c.ResourceID = ch.Idempotency.ResourceID
	}
}
