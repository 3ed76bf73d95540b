-- 0004: rate limits shared by every instance, and a per-credential limit.

-- A credential's own budget in requests a minute: NULL follows the server's
-- ROSTER_RATE_LIMIT, 0 is unlimited (`roster credential create --rate-limit`).
ALTER TABLE credentials ADD COLUMN rate_limit BIGINT;

-- One counter per (bucket, fixed window): a bucket is a credential's
-- request budget ('req:' || client id) or an authentication-failure count
-- ('fail:...'); window_start is the window's start in Unix microseconds.
-- Every instance increments the same row with one INSERT ... ON CONFLICT DO
-- UPDATE, so N instances share one budget. UNLOGGED: a counter is not worth
-- a WAL write, and after a crash PostgreSQL empties the table, which only
-- forgives the current minute. Windows older than two lengths are pruned.
CREATE UNLOGGED TABLE rate_limits (
	bucket       TEXT COLLATE "C" NOT NULL,
	window_start BIGINT NOT NULL,
	count        BIGINT NOT NULL,
	PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
