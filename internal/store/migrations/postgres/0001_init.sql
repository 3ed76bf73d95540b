-- 0001: the initial schema. Times are Unix microseconds (UTC) in BIGINT
-- columns, absent strings are '' (so keyset ordering needs no NULL
-- handling), booleans are 0/1 SMALLINTs: the DML is then one text for both
-- backends. Text columns use the "C" collation so that ordering, comparison
-- and LOWER() (ASCII only) behave exactly as SQLite's BINARY collation does,
-- whatever the database's default collation is.

CREATE TABLE tenants (
	id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name               TEXT COLLATE "C" NOT NULL UNIQUE,
	unique_email       SMALLINT NOT NULL DEFAULT 0,
	unique_phone       SMALLINT NOT NULL DEFAULT 0,
	unique_external_id SMALLINT NOT NULL DEFAULT 0,
	created_at         BIGINT NOT NULL
);

CREATE TABLE credentials (
	client_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
	secret_hash  BYTEA   NOT NULL,
	created_at   BIGINT NOT NULL,
	revoked_at   BIGINT,
	last_used_at BIGINT
);
CREATE INDEX credentials_tenant ON credentials (tenant_id, created_at);

CREATE TABLE tokens (
	hash       BYTEA   NOT NULL PRIMARY KEY,
	client_id  TEXT COLLATE "C" NOT NULL REFERENCES credentials (client_id) ON DELETE CASCADE,
	tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
	kind       TEXT COLLATE "C" NOT NULL DEFAULT '',
	scope      TEXT COLLATE "C" NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX tokens_client ON tokens (client_id);

CREATE TABLE users (
	tenant_id       TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
	id              TEXT COLLATE "C" NOT NULL,
	username        TEXT COLLATE "C" NOT NULL DEFAULT '',
	username_norm   TEXT COLLATE "C" NOT NULL DEFAULT '',
	external_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
	external_source TEXT COLLATE "C" NOT NULL DEFAULT '',
	first_name      TEXT COLLATE "C" NOT NULL DEFAULT '',
	last_name       TEXT COLLATE "C" NOT NULL DEFAULT '',
	email           TEXT COLLATE "C" NOT NULL DEFAULT '',
	email_norm      TEXT COLLATE "C" NOT NULL DEFAULT '',
	email_verified  SMALLINT NOT NULL DEFAULT 0,
	phone           TEXT COLLATE "C" NOT NULL DEFAULT '',
	phone_norm      TEXT COLLATE "C" NOT NULL DEFAULT '',
	phone_verified  SMALLINT NOT NULL DEFAULT 0,
	mobile          TEXT COLLATE "C" NOT NULL DEFAULT '',
	mobile_norm     TEXT COLLATE "C" NOT NULL DEFAULT '',
	locale          TEXT COLLATE "C" NOT NULL DEFAULT '',
	state           TEXT COLLATE "C" NOT NULL DEFAULT '',
	locked          SMALLINT NOT NULL DEFAULT 0,
	ssn_sealed      BYTEA,
	addr_line1      TEXT COLLATE "C" NOT NULL DEFAULT '',
	addr_line2      TEXT COLLATE "C" NOT NULL DEFAULT '',
	addr_city       TEXT COLLATE "C" NOT NULL DEFAULT '',
	addr_state      TEXT COLLATE "C" NOT NULL DEFAULT '',
	addr_country    TEXT COLLATE "C" NOT NULL DEFAULT '',
	addr_zip        TEXT COLLATE "C" NOT NULL DEFAULT '',
	attributes      TEXT COLLATE "C" NOT NULL DEFAULT '',
	extras          TEXT COLLATE "C" NOT NULL DEFAULT '',
	partner_code    TEXT COLLATE "C" NOT NULL DEFAULT '',
	version         BIGINT NOT NULL,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
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
	tenant_id  TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	seq        BIGINT NOT NULL,
	id         TEXT COLLATE "C" NOT NULL DEFAULT '',
	type       TEXT COLLATE "C" NOT NULL DEFAULT '',
	value      TEXT COLLATE "C" NOT NULL DEFAULT '',
	value_norm TEXT COLLATE "C" NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, user_id, seq),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_aliases_value ON user_aliases (tenant_id, value_norm);

-- user_claims is where uniqueness lives: a claim is inserted in the same
-- transaction as the user row, so the database decides who holds it.
CREATE TABLE user_claims (
	tenant_id TEXT COLLATE "C" NOT NULL,
	kind      TEXT COLLATE "C" NOT NULL,
	value     TEXT COLLATE "C" NOT NULL,
	user_id   TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, kind, value),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_claims_user ON user_claims (tenant_id, user_id);

CREATE TABLE groups (
	tenant_id         TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
	id                TEXT COLLATE "C" NOT NULL,
	display_name      TEXT COLLATE "C" NOT NULL DEFAULT '',
	display_name_norm TEXT COLLATE "C" NOT NULL DEFAULT '',
	external_id       TEXT COLLATE "C" NOT NULL DEFAULT '',
	version           BIGINT NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX groups_display_name ON groups (tenant_id, display_name_norm);

-- A member must be a user of the group's tenant: the composite foreign key
-- turns a foreign or unknown id into a constraint violation.
CREATE TABLE group_members (
	tenant_id TEXT COLLATE "C" NOT NULL,
	group_id  TEXT COLLATE "C" NOT NULL,
	user_id   TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, group_id, user_id),
	FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user ON group_members (tenant_id, user_id);
