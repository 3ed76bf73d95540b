-- 0001: the initial schema. Times are Unix microseconds (UTC) in INTEGER
-- columns, absent strings are '' (so keyset ordering needs no NULL
-- handling), booleans are 0/1: the DML is then one text for both backends.

CREATE TABLE tenants (
	id                 TEXT    NOT NULL PRIMARY KEY,
	name               TEXT    NOT NULL UNIQUE,
	unique_email       INTEGER NOT NULL DEFAULT 0,
	unique_phone       INTEGER NOT NULL DEFAULT 0,
	unique_external_id INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL
);

CREATE TABLE credentials (
	client_id    TEXT    NOT NULL PRIMARY KEY,
	tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
	secret_hash  BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	revoked_at   INTEGER,
	last_used_at INTEGER
);
CREATE INDEX credentials_tenant ON credentials (tenant_id, created_at);

CREATE TABLE tokens (
	hash       BLOB    NOT NULL PRIMARY KEY,
	client_id  TEXT    NOT NULL REFERENCES credentials (client_id) ON DELETE CASCADE,
	tenant_id  TEXT    NOT NULL REFERENCES tenants (id),
	kind       TEXT    NOT NULL DEFAULT '',
	scope      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX tokens_client ON tokens (client_id);

CREATE TABLE users (
	tenant_id       TEXT    NOT NULL REFERENCES tenants (id),
	id              TEXT    NOT NULL,
	username        TEXT    NOT NULL DEFAULT '',
	username_norm   TEXT    NOT NULL DEFAULT '',
	external_id     TEXT    NOT NULL DEFAULT '',
	external_source TEXT    NOT NULL DEFAULT '',
	first_name      TEXT    NOT NULL DEFAULT '',
	last_name       TEXT    NOT NULL DEFAULT '',
	email           TEXT    NOT NULL DEFAULT '',
	email_norm      TEXT    NOT NULL DEFAULT '',
	email_verified  INTEGER NOT NULL DEFAULT 0,
	phone           TEXT    NOT NULL DEFAULT '',
	phone_norm      TEXT    NOT NULL DEFAULT '',
	phone_verified  INTEGER NOT NULL DEFAULT 0,
	mobile          TEXT    NOT NULL DEFAULT '',
	mobile_norm     TEXT    NOT NULL DEFAULT '',
	locale          TEXT    NOT NULL DEFAULT '',
	state           TEXT    NOT NULL DEFAULT '',
	locked          INTEGER NOT NULL DEFAULT 0,
	ssn_sealed      BLOB,
	addr_line1      TEXT    NOT NULL DEFAULT '',
	addr_line2      TEXT    NOT NULL DEFAULT '',
	addr_city       TEXT    NOT NULL DEFAULT '',
	addr_state      TEXT    NOT NULL DEFAULT '',
	addr_country    TEXT    NOT NULL DEFAULT '',
	addr_zip        TEXT    NOT NULL DEFAULT '',
	attributes      TEXT    NOT NULL DEFAULT '',
	extras          TEXT    NOT NULL DEFAULT '',
	partner_code    TEXT    NOT NULL DEFAULT '',
	version         INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX users_created ON users (tenant_id, created_at, id);
CREATE INDEX users_updated ON users (tenant_id, updated_at, id);
CREATE INDEX users_username ON users (tenant_id, username_norm, id);
CREATE INDEX users_email ON users (tenant_id, email_norm, id);
CREATE INDEX users_external_id ON users (tenant_id, external_id, id);
CREATE INDEX users_phone ON users (tenant_id, phone_norm);
CREATE INDEX users_mobile ON users (tenant_id, mobile_norm);

-- Aliases keep a sequence number so they read back in the order written.
CREATE TABLE user_aliases (
	tenant_id  TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	id         TEXT    NOT NULL DEFAULT '',
	type       TEXT    NOT NULL DEFAULT '',
	value      TEXT    NOT NULL DEFAULT '',
	value_norm TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, user_id, seq),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX user_aliases_value ON user_aliases (tenant_id, value_norm);

-- user_claims is where uniqueness lives: a claim is inserted in the same
-- transaction as the user row, so the database decides who holds it.
CREATE TABLE user_claims (
	tenant_id TEXT NOT NULL,
	kind      TEXT NOT NULL,
	value     TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, kind, value),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX user_claims_user ON user_claims (tenant_id, user_id);

CREATE TABLE groups (
	tenant_id         TEXT    NOT NULL REFERENCES tenants (id),
	id                TEXT    NOT NULL,
	display_name      TEXT    NOT NULL DEFAULT '',
	display_name_norm TEXT    NOT NULL DEFAULT '',
	external_id       TEXT    NOT NULL DEFAULT '',
	version           INTEGER NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX groups_display_name ON groups (tenant_id, display_name_norm);

-- A member must be a user of the group's tenant: the composite foreign key
-- turns a foreign or unknown id into a constraint violation.
CREATE TABLE group_members (
	tenant_id TEXT NOT NULL,
	group_id  TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, group_id, user_id),
	FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (tenant_id, user_id);
