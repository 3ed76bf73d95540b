-- 0003: Idempotency-Key records and the audit log. Both are written in the
-- transaction of the write they belong to (see directory.Change).

-- One row per key a client sent, in its scope (tenant, credential, method,
-- route): the primary key makes a concurrent duplicate wait for, then see,
-- the first (PostgreSQL) or run after it (SQLite's one writer), never a
-- check-then-insert. state: 'pending' (held by owner until lease_until),
-- 'committed' (the write committed; the response is not recorded yet),
-- 'done' (status, headers and body are recorded and replayed). The body is
-- sealed with the SSN keyring (it may hold an SSN or other personal data).
-- Rows are pruned 24 hours after created_at.
CREATE TABLE idempotency_keys (
	tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
	client_id    TEXT COLLATE "C" NOT NULL,
	method       TEXT COLLATE "C" NOT NULL,
	route        TEXT COLLATE "C" NOT NULL,
	idem_key     TEXT COLLATE "C" NOT NULL,
	request_hash BYTEA NOT NULL,
	state        TEXT COLLATE "C" NOT NULL,
	owner        TEXT COLLATE "C" NOT NULL,
	lease_until  BIGINT NOT NULL,
	resource_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
	status       BIGINT NOT NULL DEFAULT 0,
	headers      TEXT COLLATE "C" NOT NULL DEFAULT '',
	body_sealed  BYTEA,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, client_id, method, route, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The audit log: who (actor: a credential's client id, or 'admin' for the
-- roster command), what (action, target, and the NAMES of the fields
-- changed as a JSON array: never values), when (at, Unix microseconds), and
-- the request id of the access log. id is a UUID v7. No foreign key: an
-- entry outlives the user or credential it names.
CREATE TABLE audit_log (
	tenant_id   TEXT COLLATE "C" NOT NULL,
	id          TEXT COLLATE "C" NOT NULL,
	at          BIGINT NOT NULL,
	actor       TEXT COLLATE "C" NOT NULL,
	action      TEXT COLLATE "C" NOT NULL,
	target_type TEXT COLLATE "C" NOT NULL,
	target_id   TEXT COLLATE "C" NOT NULL,
	fields      TEXT COLLATE "C" NOT NULL DEFAULT '[]',
	request_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at, id);
CREATE INDEX audit_log_target ON audit_log (tenant_id, target_id, at, id);
