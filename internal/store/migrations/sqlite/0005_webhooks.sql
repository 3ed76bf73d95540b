-- 0005: webhook subscriptions and their transactional outbox
-- (docs/WEBHOOKS.md).

-- One row per subscription (`roster webhook add`). events is the
-- comma-separated list of event types it receives. The signing secret is
-- sealed with the SSN keyring (additional data 'webhook/' || id), not
-- hashed: the dispatcher needs the key itself to compute HMACs.
CREATE TABLE webhooks (
	id            TEXT    NOT NULL PRIMARY KEY,
	tenant_id     TEXT    NOT NULL REFERENCES tenants (id),
	url           TEXT    NOT NULL,
	events        TEXT    NOT NULL,
	secret_sealed BLOB    NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at);

-- The outbox: one row per (event, subscription), inserted in the
-- transaction of the change it describes, so a committed change always has
-- its deliveries and a rolled-back one none. seq is assigned at insert,
-- after the user row was written in the same transaction, so the events of
-- one user are numbered in commit order; the dispatcher sends a user's
-- next row only when every earlier one is no longer 'pending'.
-- state: 'pending' (to send; in flight while lease_until is ahead),
-- 'delivered', 'dead' (gave up after the last attempt). lease_token fences
-- a dispatcher whose lease ran out: only the holder may record an outcome.
-- Times are Unix microseconds; done_at is 0 while pending.
CREATE TABLE webhook_outbox (
	seq             INTEGER PRIMARY KEY,
	tenant_id       TEXT    NOT NULL,
	webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id        TEXT    NOT NULL,
	event_type      TEXT    NOT NULL,
	user_id         TEXT    NOT NULL,
	payload         TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	state           TEXT    NOT NULL DEFAULT 'pending',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	lease_until     INTEGER NOT NULL DEFAULT 0,
	lease_token     TEXT    NOT NULL DEFAULT '',
	last_status     INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	done_at         INTEGER NOT NULL DEFAULT 0,
	UNIQUE (event_id, webhook_id)
);
-- What is due, oldest first; and "is an earlier event of this user still
-- pending" for per-user order. Both only over pending rows.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, seq) WHERE state = 'pending';
CREATE INDEX webhook_outbox_order ON webhook_outbox (webhook_id, user_id, seq) WHERE state = 'pending';
CREATE INDEX webhook_outbox_lease ON webhook_outbox (lease_token) WHERE lease_token <> '';
-- `roster webhook deliveries --tenant T --state S`, and the purge.
CREATE INDEX webhook_outbox_tenant ON webhook_outbox (tenant_id, state, seq);
CREATE INDEX webhook_outbox_done ON webhook_outbox (done_at) WHERE state <> 'pending';
