-- 0006: the admin console (issue 13). Operators are the people who sign
-- in to /console/; they are not tenant credentials and belong to no
-- tenant (an operator manages every tenant). Passwords are argon2id PHC
-- strings; sessions are stored only as the SHA-256 of their token.
-- Lock-out state lives in the operator row, so several instances share it.
CREATE TABLE operators (
	id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	email           TEXT COLLATE "C" NOT NULL,
	email_norm      TEXT COLLATE "C" NOT NULL UNIQUE,
	role            TEXT COLLATE "C" NOT NULL,
	password_hash   TEXT COLLATE "C" NOT NULL,
	created_at      BIGINT NOT NULL,
	failed_count    INTEGER NOT NULL DEFAULT 0,
	failed_since    BIGINT NOT NULL DEFAULT 0,
	locked_until    BIGINT NOT NULL DEFAULT 0,
	last_sign_in_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE operator_sessions (
	hash         BYTEA  NOT NULL PRIMARY KEY,
	operator_id  TEXT COLLATE "C" NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires_at);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

-- The console's user search matches name prefixes case-insensitively;
-- these let both backends answer it from an index range (LOWER() folds
-- ASCII only on both, as elsewhere in the schema).
CREATE INDEX users_first_name_lower ON users (tenant_id, lower(first_name), id);
CREATE INDEX users_last_name_lower ON users (tenant_id, lower(last_name), id);
