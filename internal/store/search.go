package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/directory"
)

// MaxSearchQuery bounds the text SearchUsers matches: longer is no
// identifier any user holds, and each branch repeats it as a parameter.
const MaxSearchQuery = 256

// SearchUsers returns one page of the tenant's users whose username,
// e-mail, external id, phone, mobile, first name or last name starts with
// q (a first and last name when q is two words), and whether more match.
// It is the admin console's instant search (issue 13).
//
// Results are ordered by the value that matched (the smallest, when a
// user matches several ways), then id: a total order, so offset pages
// neither skip nor repeat. That order is what keeps the search fast
// however many users match: each branch is a range over an index
// (tenant_id, column, id) read in that index's order and cut at
// offset+limit+1 rows, so a page reads at most that many entries per
// branch, never every match. (The global top N of the merged order is
// always within the branches' top N: whatever precedes a row overall
// precedes it in the branch where its key is smallest.) Usernames and
// e-mails compare in their normalised (lower-cased) form, names with
// LOWER() (ASCII folding on both backends), external ids as stored,
// phones in their normalised form (E.164 where the text parses, else its
// digits). An empty q is an error: list users with ListUsers instead.
func (s *Store) SearchUsers(ctx context.Context, tenantID, q string, offset, limit int) ([]*directory.User, bool, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > MaxSearchQuery || strings.ContainsRune(q, 0) || !utf8.ValidString(q) {
		return nil, false, fmt.Errorf("search users: %w", invalidFilter("search text must be 1 to %d bytes of UTF-8 without NUL", MaxSearchQuery))
	}
	limit = pageLimit(limit)
	offset = max(offset, 0)
	cut := offset + limit + 1
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	var branches []string
	// branch adds the users whose col starts with p, first cut of them in
	// (col, id) order; extra is a further condition.
	branch := func(col, p, extra string) {
		if p == "" {
			return
		}
		branches = append(branches, fmt.Sprintf(
			"SELECT * FROM (SELECT id, %s AS k FROM users WHERE tenant_id = $1 AND %s >= %s AND %s < %s%s ORDER BY %s, id LIMIT %d) b%d",
			col, col, arg(p), col, arg(p+prefixEnd), extra, col, cut, len(branches)))
	}
	lower := strings.ToLower(q)
	branch("username_norm", lower, "")
	branch("email_norm", lower, "")
	branch("external_id", q, "")
	ascii := asciiLower(q)
	if first, last, ok := strings.Cut(ascii, " "); ok && !strings.Contains(strings.TrimSpace(last), " ") {
		// "Maria Gar": the last-name index in its order, filtered by
		// the first name (far fewer rows share a last-name prefix and a
		// first name than share the first name alone).
		last = strings.TrimSpace(last)
		branch("lower(last_name)", last, " AND lower(first_name) = "+arg(first))
	} else {
		branch("lower(first_name)", ascii, "")
		branch("lower(last_name)", ascii, "")
	}
	for _, p := range phonePrefixes(q) {
		branch("phone_norm", p, "")
		branch("mobile_norm", p, "")
	}
	query := fmt.Sprintf(`JOIN (SELECT id, MIN(k) AS k FROM (%s) m GROUP BY id ORDER BY MIN(k), id LIMIT %d OFFSET %d) hit
		ON u.tenant_id = $1 AND u.id = hit.id ORDER BY hit.k, hit.id`,
		strings.Join(branches, " UNION ALL "), limit+1, offset)
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("search users: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	users, err := s.queryUsers(ctx, tx, tenantID, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("search users: %w", s.d.classify(err))
	}
	more := len(users) > limit
	if more {
		users = users[:limit]
	}
	return users, more, nil
}

// prefixEnd follows every string that starts with a prefix and has no
// U+10FFFF of its own: p <= s < p+prefixEnd is "s starts with p" as a
// range an index answers, on SQLite's BINARY and PostgreSQL's "C"
// collation alike (both compare UTF-8 bytes).
const prefixEnd = "\U0010FFFF"

// phonePrefixes returns the normalised forms a phone prefix may take when
// q looks like (part of) a phone number: the whole number in E.164 when
// it parses, "+" and the digits, and the digits alone (the normalised form
// of numbers that do not parse). Fewer than 3 digits match too much to be
// meant as a phone.
func phonePrefixes(q string) []string {
	var digits strings.Builder
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.':
		default:
			return nil
		}
	}
	d := digits.String()
	if len(d) < 3 {
		return nil
	}
	out := []string{"+" + d, d}
	if n, ok := directory.NormalizePhone(q); ok && n != out[0] {
		out = append(out, n)
	}
	return out
}

// SearchAudit returns one page of a tenant's audit entries matching q,
// newest first, and whether older ones match too. It walks the index
// (tenant_id, at, id) backwards, so the newest page costs the same
// whatever the log's length.
func (s *Store) SearchAudit(ctx context.Context, tenantID string, q directory.AuditSearch) ([]*directory.AuditEntry, bool, error) {
	limit := q.Limit
	if limit <= 0 || limit > directory.MaxAuditPage {
		limit = directory.MaxAuditPage
	}
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where := []string{"tenant_id = $1"}
	for _, f := range []struct{ col, v string }{{"action", q.Action}, {"actor", q.Actor}, {"target_id", q.TargetID}} {
		if f.v != "" {
			where = append(where, f.col+" = "+arg(f.v))
		}
	}
	if !q.Since.IsZero() {
		where = append(where, "at >= "+arg(micros(q.Since)))
	}
	if c := q.Before; c != nil {
		at := arg(micros(c.At))
		where = append(where, fmt.Sprintf("(at < %s OR (at = %s AND id < %s))", at, at, arg(c.ID)))
	}
	rows, err := s.r.QueryContext(ctx, fmt.Sprintf(
		`SELECT tenant_id, id, at, actor, action, target_type, target_id, fields, request_id
		FROM audit_log WHERE %s ORDER BY at DESC, id DESC LIMIT %d`, strings.Join(where, " AND "), limit+1), args...)
	if err != nil {
		return nil, false, fmt.Errorf("search audit: %w", s.d.classify(err))
	}
	defer rows.Close()
	var out []*directory.AuditEntry
	for rows.Next() {
		var e directory.AuditEntry
		var at int64
		var fields string
		if err := rows.Scan(&e.TenantID, &e.ID, &at, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &fields, &e.RequestID); err != nil {
			return nil, false, fmt.Errorf("search audit: %w", err)
		}
		e.At = fromMicros(at)
		if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
			return nil, false, fmt.Errorf("search audit: fields of %s: %w", e.ID, err)
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("search audit: %w", s.d.classify(err))
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}
