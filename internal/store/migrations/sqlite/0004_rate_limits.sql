-- 0004: a per-credential rate limit, and the shared counters table.

-- A credential's own budget in requests a minute: NULL follows the server's
-- ROSTER_RATE_LIMIT, 0 is unlimited (`roster credential create --rate-limit`).
ALTER TABLE credentials ADD COLUMN rate_limit INTEGER;

-- The counters several PostgreSQL instances share (see the PostgreSQL
-- migration). A SQLite database has one serving process, whose limits stay
-- in its memory: this table exists so both schemas have the same tables,
-- and stays empty.
CREATE TABLE rate_limits (
	bucket       TEXT    NOT NULL,
	window_start INTEGER NOT NULL,
	count        INTEGER NOT NULL,
	PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
