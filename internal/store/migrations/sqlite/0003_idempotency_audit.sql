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
	tenant_id    TEXT NOT NULL REFERENCES tenants (id),
	client_id    TEXT NOT NULL,
	method       TEXT NOT NULL,
	route        TEXT NOT NULL,
	idem_key     TEXT NOT NULL,
	request_hash BLOB NOT NULL,
	state        TEXT NOT NULL,
	owner        TEXT NOT NULL,
	lease_until  INTEGER NOT NULL,
	resource_id  TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0,
	headers      TEXT NOT NULL DEFAULT '',
	body_sealed  BLOB,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, client_id, method, route, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The audit log: who (actor: a credential's client id, or 'admin' for the
-- roster command), what (action, target, and the NAMES of the fields
-- changed as a JSON array: never values), when (at, Unix microseconds), and
-- the request id of the access log. id is a UUID v7. No foreign key: an
-- entry outlives the user or credential it names.
CREATE TABLE audit_log (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	fields      TEXT NOT NULL DEFAULT '[]',
	request_id  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at, id);
CREATE INDEX audit_log_target ON audit_log (tenant_id, target_id, at, id);
