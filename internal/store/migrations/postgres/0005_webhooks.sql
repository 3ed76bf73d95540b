-- 0005: webhook subscriptions and their transactional outbox
-- (docs/WEBHOOKS.md).

-- One row per subscription (`roster webhook add`). events is the
-- comma-separated list of event types it receives. The signing secret is
-- sealed with the SSN keyring (additional data 'webhook/' || id), not
-- hashed: the dispatcher needs the key itself to compute HMACs.
CREATE TABLE webhooks (
	id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
	url           TEXT COLLATE "C" NOT NULL,
	events        TEXT COLLATE "C" NOT NULL,
	secret_sealed BYTEA   NOT NULL,
	created_at    BIGINT  NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at);

-- The outbox: one row per (event, subscription), inserted in the
-- transaction of the change it describes, so a committed change always has
-- its deliveries and a rolled-back one none. seq is assigned at insert,
-- after the user row was written (and locked) in the same transaction, so
-- the events of one user are numbered in commit order: a second writer of
-- that user waits for the first to commit before it inserts; the dispatcher sends a user's
-- next row only when every earlier one is no longer 'pending'.
-- state: 'pending' (to send; in flight while lease_until is ahead),
-- 'delivered', 'dead' (gave up after the last attempt). lease_token fences
-- a dispatcher whose lease ran out: only the holder may record an outcome.
-- Times are Unix microseconds; done_at is 0 while pending.
CREATE TABLE webhook_outbox (
	seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id       TEXT COLLATE "C" NOT NULL,
	webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id        TEXT COLLATE "C" NOT NULL,
	event_type      TEXT COLLATE "C" NOT NULL,
	user_id         TEXT COLLATE "C" NOT NULL,
	payload         TEXT COLLATE "C" NOT NULL,
	created_at      BIGINT  NOT NULL,
	state           TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
	attempts        BIGINT  NOT NULL DEFAULT 0,
	next_attempt_at BIGINT  NOT NULL,
	lease_until     BIGINT  NOT NULL DEFAULT 0,
	lease_token     TEXT COLLATE "C" NOT NULL DEFAULT '',
	last_status     BIGINT  NOT NULL DEFAULT 0,
	last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
	done_at         BIGINT  NOT NULL DEFAULT 0,
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
