-- 0006: the admin console (issue 13). Operators are the people who sign
-- in to /console/; they are not tenant credentials and belong to no
-- tenant (an operator manages every tenant). Passwords are argon2id PHC
-- strings; sessions are stored only as the SHA-256 of their token.
-- Lock-out state lives in the operator row, so several instances share it.
CREATE TABLE operators (
	id              TEXT    NOT NULL PRIMARY KEY,
	email           TEXT    NOT NULL,
	email_norm      TEXT    NOT NULL UNIQUE,
	role            TEXT    NOT NULL,
	password_hash   TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	failed_count    INTEGER NOT NULL DEFAULT 0,
	failed_since    INTEGER NOT NULL DEFAULT 0,
	locked_until    INTEGER NOT NULL DEFAULT 0,
	last_sign_in_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE operator_sessions (
	hash         BLOB    NOT NULL PRIMARY KEY,
	operator_id  TEXT    NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires_at);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

-- The console's user search matches name prefixes case-insensitively;
-- these let both backends answer it from an index range (LOWER() folds
-- ASCII only on both, as elsewhere in the schema).
CREATE INDEX users_first_name_lower ON users (tenant_id, lower(first_name), id);
CREATE INDEX users_last_name_lower ON users (tenant_id, lower(last_name), id);
