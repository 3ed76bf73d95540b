-- 0002: every value of a user's multi-valued attributes (e-mails, phones,
-- addresses, ims, photos, entitlements, roles, certificates), and group
-- display names unique per tenant.

-- One row per value, in the order written (seq counts within a kind).
-- value_norm is computed in Go when written: the lower-cased value, or for
-- phones the normalised number (E.164, else its digits; lower-cased when it
-- has none). Addresses keep their parts and leave value empty.
CREATE TABLE user_values (
	tenant_id   TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	seq         INTEGER NOT NULL,
	value       TEXT    NOT NULL DEFAULT '',
	value_norm  TEXT    NOT NULL DEFAULT '',
	display     TEXT    NOT NULL DEFAULT '',
	type        TEXT    NOT NULL DEFAULT '',
	is_primary  INTEGER NOT NULL DEFAULT 0,
	formatted   TEXT    NOT NULL DEFAULT '',
	street      TEXT    NOT NULL DEFAULT '',
	locality    TEXT    NOT NULL DEFAULT '',
	region      TEXT    NOT NULL DEFAULT '',
	postal_code TEXT    NOT NULL DEFAULT '',
	country     TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (tenant_id, user_id, kind, seq),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
-- Serves emails.value eq "x" (and the other kinds): the value, then the
-- user holding it.
CREATE INDEX user_values_value ON user_values (tenant_id, kind, value_norm);

-- Backfill: the lists the Service now derives from the single-valued
-- fields (directory.syncValues) of users written before this migration.
-- E-mail: one value, type work, primary.
INSERT INTO user_values (tenant_id, user_id, kind, seq, value, value_norm, type, is_primary)
SELECT tenant_id, id, 'email', 0, email, email_norm, 'work', 1
FROM users WHERE email <> '';

-- Phones: phone first (work, primary), then mobile (type mobile, primary
-- only when there is no phone).
INSERT INTO user_values (tenant_id, user_id, kind, seq, value, value_norm, type, is_primary)
SELECT tenant_id, id, 'phone', 0, phone,
	CASE WHEN phone_norm <> '' THEN phone_norm ELSE lower(phone) END, 'work', 1
FROM users WHERE phone <> '';
INSERT INTO user_values (tenant_id, user_id, kind, seq, value, value_norm, type, is_primary)
SELECT tenant_id, id, 'phone', CASE WHEN phone <> '' THEN 1 ELSE 0 END, mobile,
	CASE WHEN mobile_norm <> '' THEN mobile_norm ELSE lower(mobile) END, 'mobile',
	CASE WHEN phone <> '' THEN 0 ELSE 1 END
FROM users WHERE mobile <> '';

-- Address: one value, primary, its type the SCIM dialect's old
-- extras["addressType"] when set (else work); the street is line 1, then
-- line 2 after a line break.
INSERT INTO user_values (tenant_id, user_id, kind, seq, type, is_primary, street, locality, region, postal_code, country)
SELECT tenant_id, id, 'address', 0,
	COALESCE(NULLIF(json_extract(NULLIF(extras, ''), '$.addressType'), ''), 'work'), 1,
	addr_line1 || CASE WHEN addr_line2 <> '' THEN char(10) || addr_line2 ELSE '' END,
	addr_city, addr_state, addr_zip, addr_country
FROM users
WHERE addr_line1 <> '' OR addr_line2 <> '' OR addr_city <> '' OR addr_state <> '' OR addr_zip <> '' OR addr_country <> '';

-- The address's type now lives in its value: drop the superseded extra.
-- An emptied map is '' like every absent string.
UPDATE users SET extras = CASE
		WHEN json_remove(extras, '$.addressType') = '{}' THEN ''
		ELSE json_remove(extras, '$.addressType')
	END
WHERE extras <> '' AND json_type(extras, '$.addressType') IS NOT NULL;

-- Group display names become unique per tenant, case-insensitively
-- (display_name_norm is the lower-cased name), enforced by a unique index:
-- Entra matches groups by displayName. Groups that already share a name
-- keep it only for the oldest (by creation time, then id); each later one
-- is renamed "<name> (<its id>)" first, so that the index can be built,
-- and gets a new version so that clients holding its old ETag see the
-- change.
UPDATE groups SET
	display_name      = display_name || ' (' || id || ')',
	display_name_norm = display_name_norm || ' (' || id || ')',
	version           = version + 1,
	updated_at        = max(updated_at + 1, CAST(strftime('%s', 'now') AS INTEGER) * 1000000)
WHERE EXISTS (
	SELECT 1 FROM groups g
	WHERE g.tenant_id = groups.tenant_id AND g.display_name_norm = groups.display_name_norm
		AND (g.created_at < groups.created_at OR (g.created_at = groups.created_at AND g.id < groups.id))
);
DROP INDEX groups_display_name;
CREATE UNIQUE INDEX groups_display_name ON groups (tenant_id, display_name_norm);
