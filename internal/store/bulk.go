package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/roster-dev/roster/internal/directory"
)

// The bulk path of `roster user import` (directory.BulkStore): thousands of
// new users per transaction, in multi-row INSERTs through statements
// prepared once per transaction, instead of one transaction and a dozen
// statements per user. Uniqueness is still the database's: claims go in
// with ON CONFLICT DO NOTHING, and a row that lost one is deleted whole
// (its claims cascade) before the commit.

var _ directory.BulkStore = (*Store)(nil)

// bulkMaxParams bounds the parameters of one statement: SQLite's
// SQLITE_MAX_VARIABLE_NUMBER is 32766, PostgreSQL's limit 65535.
const bulkMaxParams = 30000

// bulkMaxRows bounds the rows of one multi-row statement. Longer
// statements cost more to prepare than they save in calls.
const bulkMaxRows = 256

// bulkCacheKiB is the SQLite page cache of the writer connection while it
// imports (the default is 2 MiB): a million users' indexes are written at
// random places, and a page found in the cache is not read, decoded and
// spilled again. It counts towards the importing process's memory.
const bulkCacheKiB = 32 << 10

// bulkUser is a row's encoded form (directory.BulkRow.Encoded).
type bulkUser struct {
	user    []any   // userColumns order
	values  [][]any // user_values rows
	aliases [][]any // user_aliases rows
	audit   []any   // bulkAuditColumns order
	idents  []string
}

var (
	partnerCodeCol   = slices.Index(userColumns, "partner_code")
	bulkAliasColumns = []string{"tenant_id", "user_id", "seq", "id", "type", "value", "value_norm"}
	bulkValueColumns = []string{"tenant_id", "user_id", "kind", "seq", "value", "value_norm", "display", "type", "is_primary",
		"formatted", "street", "locality", "region", "postal_code", "country"}
	bulkAuditColumns = []string{"tenant_id", "id", "at", "actor", "action", "target_type", "target_id", "fields", "request_id"}
	bulkClaimColumns = []string{"tenant_id", "kind", "value", "user_id"}
)

// EncodeBulk computes r's column values, SSN sealed, so that the writer
// only binds them. It is safe for concurrent use.
func (s *Store) EncodeBulk(r *directory.BulkRow) error {
	u := r.User
	if r.Change != nil && r.Change.Idempotency != nil {
		return errors.New("encode bulk row: a bulk insert records no Idempotency-Key")
	}
	args, err := s.userArgs(u)
	if err != nil {
		return fmt.Errorf("encode bulk row: %w", err)
	}
	values, err := valueRows(u) // the phones' normalised forms reused (userValueNorm)
	if err != nil {
		return fmt.Errorf("encode bulk row: %w", err)
	}
	b := &bulkUser{user: args, values: values}
	for i, a := range u.Aliases {
		b.aliases = append(b.aliases, []any{u.TenantID, u.ID, int64(i), a.ID, a.Type, a.Value, strings.ToLower(a.Value)})
	}
	if ch := r.Change; ch != nil {
		a := ch.Audit
		fields := a.Fields
		if fields == nil {
			fields = []string{}
		}
		fj, err := json.Marshal(fields)
		if err != nil {
			return fmt.Errorf("encode bulk row: audit fields: %w", err)
		}
		b.audit = []any{a.TenantID, a.ID, micros(a.At), a.Actor, a.Action, a.TargetType, a.TargetID, string(fj), a.RequestID}
	}
	b.idents = bulkIdents(r)
	r.Encoded = b
	return nil
}

// bulkIdents are the identifiers two rows of one batch may share: its id,
// its claims and its external id. Rows that share none cannot affect each
// other's outcome, so they can go in one multi-row statement.
func bulkIdents(r *directory.BulkRow) []string {
	out := make([]string, 0, len(r.Claims)+2)
	out = append(out, "i\x00"+r.User.ID)
	if r.User.ExternalID != "" {
		out = append(out, "e\x00"+r.User.ExternalID)
	}
	for _, c := range r.Claims {
		out = append(out, "c\x00"+string(c.Kind)+"\x00"+c.Value)
	}
	return out
}

// errBulkRace: a concurrent writer took an id between the batch's lookup
// and its insert (PostgreSQL only: SQLite's writer holds the write lock).
// The batch is rolled back and run again, and then sees that writer's row.
var errBulkRace = errors.New("bulk insert: a concurrent write took an id")

// InsertUsers implements directory.BulkStore. See there for the contract.
//
// The rows are cut into segments in which no two rows share an identifier
// (id, claim or external id); a segment's rows cannot change each other's
// outcome, so each segment is: one lookup of the rows' keys, multi-row
// INSERTs of the users and their claims (ON CONFLICT DO NOTHING), and, only
// when a claim did not insert, a read of its holder and a DELETE of the
// rows that lost one. Segments run in order in the one transaction, each
// seeing the ones before, which is the order of the file.
func (s *Store) InsertUsers(ctx context.Context, tenantID string, rows []*directory.BulkRow) error {
	for i, r := range rows {
		if _, ok := r.Encoded.(*bulkUser); !ok || r.User.TenantID != tenantID {
			return fmt.Errorf("bulk insert: row %d is not encoded for tenant %s", i, tenantID)
		}
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.bulkWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			b := &bulkTx{s: s, ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
			defer b.close()
			for _, r := range rows {
				r.KeyHolder, r.KeyHolders, r.Conflict = "", 0, nil
			}
			for _, seg := range segments(rows) {
				if err := b.segment(tenantID, seg); err != nil {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, errBulkRace) {
			break
		}
	}
	return err
}

// bulkWriteTx runs fn in a transaction of its own and returns once it has
// committed. On PostgreSQL that is writeTx. On SQLite it takes the one
// writer connection itself rather than joining a group commit: a batch of
// thousands of rows needs no company to fill an fsync, and inside the
// committer's SAVEPOINT SQLite would copy every page the batch touches to
// a sub-journal first (a third of a batch's time, measured). The
// committer's writes wait for the connection meanwhile, as they wait for
// each other's commits. Invariant 1 holds: the caller hears of the rows
// only after COMMIT, under synchronous=FULL.
func (s *Store) bulkWriteTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if s.gc == nil {
		return s.writeTx(ctx, fn)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("bulk insert: %w", err)
	}
	defer conn.Close()
	// Per connection, outside a transaction. temp_store keeps the
	// statement journals of multi-row statements in memory.
	for _, pragma := range []string{fmt.Sprintf("PRAGMA cache_size = -%d", bulkCacheKiB), "PRAGMA temp_store = MEMORY"} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("bulk insert: %s: %w", pragma, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bulk insert: begin: %w", s.d.classify(err))
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback() // the error that matters is fn's
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bulk insert: commit: %w", s.d.classify(err))
	}
	return nil
}

// segments cuts rows, in order, where a row shares an identifier with an
// earlier row of the current segment.
func segments(rows []*directory.BulkRow) [][]*directory.BulkRow {
	var out [][]*directory.BulkRow
	seen := make(map[string]struct{}, len(rows)*4)
	start := 0
	for i, r := range rows {
		idents := r.Encoded.(*bulkUser).idents
		clash := false
		for _, id := range idents {
			if _, ok := seen[id]; ok {
				clash = true
				break
			}
		}
		if clash {
			out = append(out, rows[start:i])
			start = i
			clear(seen)
		}
		for _, id := range idents {
			seen[id] = struct{}{}
		}
	}
	if start < len(rows) {
		out = append(out, rows[start:])
	}
	return out
}

// bulkTx is one bulk transaction: its statements, prepared once for each
// shape (table and row count) and reused for every chunk of that shape.
type bulkTx struct {
	s     *Store
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (b *bulkTx) close() {
	for _, st := range b.stmts {
		st.Close()
	}
}

// stmt returns the prepared statement of text.
func (b *bulkTx) stmt(text string) (*sql.Stmt, error) {
	if st, ok := b.stmts[text]; ok {
		return st, nil
	}
	st, err := b.tx.PrepareContext(b.ctx, text)
	if err != nil {
		return nil, err
	}
	b.stmts[text] = st
	return st, nil
}

// bulkParam is the placeholder of parameter i in a bulk statement. SQLite
// gets "?": modernc looks the name of every "$N" parameter up in a list
// as long as the statement's parameters, which makes binding a statement
// of thousands of them quadratic (80% of a bulk insert's time, measured).
// The rest of the store keeps "$N", whose statements are short.
func bulkParam(d dialect, i int) string {
	if d.name == "sqlite" {
		return "?"
	}
	return "$" + strconv.Itoa(i)
}

// bulkParams is bulkParam for n parameters from i, comma-separated.
func bulkParams(d dialect, from, n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(bulkParam(d, from+i))
	}
	return sb.String()
}

// insertSQL caches the text of multi-row INSERTs by table, width and row
// count: building a statement of thousands of placeholders is not free.
var insertSQL sync.Map // string -> string

func multiInsertSQL(d dialect, table string, cols []string, n int, suffix string) string {
	key := fmt.Sprintf("%s/%s/%d/%d/%s", d.name, table, len(cols), n, suffix)
	if q, ok := insertSQL.Load(key); ok {
		return q.(string)
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	p := 1
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(bulkParam(d, p))
			p++
		}
		sb.WriteByte(')')
	}
	sb.WriteString(suffix)
	q := sb.String()
	insertSQL.Store(key, q)
	return q
}

// insert inserts rows of len(cols) values into table, in chunks, and
// returns how many rows the database inserted (fewer than len(rows) when
// suffix is ON CONFLICT DO NOTHING and some conflicted). done, when not
// nil, is told how many each chunk inserted, with the chunk's range.
func (b *bulkTx) insert(table string, cols []string, rows [][]any, suffix string, done func(lo, hi int, n int64)) (int64, error) {
	per := max(1, min(bulkMaxRows, bulkMaxParams/len(cols)))
	var total int64
	args := make([]any, 0, min(len(rows), per)*len(cols))
	for lo := 0; lo < len(rows); lo += per {
		hi := min(lo+per, len(rows))
		args = args[:0]
		for _, r := range rows[lo:hi] {
			args = append(args, r...)
		}
		st, err := b.stmt(multiInsertSQL(b.s.d, table, cols, hi-lo, suffix))
		if err != nil {
			return 0, fmt.Errorf("prepare insert into %s: %w", table, err)
		}
		res, err := st.ExecContext(b.ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("insert into %s: %w", table, b.s.d.classify(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("insert into %s: %w", table, err)
		}
		total += n
		if done != nil {
			done(lo, hi, n)
		}
	}
	return total, nil
}

// claimRow is one user_claims row of a segment, with the row it is for.
type claimRow struct {
	c   directory.Claim
	row *directory.BulkRow
}

// segment writes one segment: rows that share no identifier.
func (b *bulkTx) segment(tenantID string, seg []*directory.BulkRow) error {
	if err := b.lookupKeys(tenantID, seg); err != nil {
		return err
	}
	pending := make([]*directory.BulkRow, 0, len(seg))
	for _, r := range seg {
		if r.KeyHolders == 0 {
			pending = append(pending, r)
		}
	}
	var winners []*directory.BulkRow
	// Rounds: a round's losers whose only lost claim was a generated
	// partner code are drawn a new code and tried again.
	for round := 0; len(pending) > 0; round++ {
		won, retry, err := b.round(tenantID, pending, round < 8)
		if err != nil {
			return err
		}
		winners = append(winners, won...)
		pending = retry
	}
	return b.children(winners)
}

// round inserts rows and their claims; it returns the rows that are now
// stored and those to try again with a new partner code.
func (b *bulkTx) round(tenantID string, rows []*directory.BulkRow, mayRedraw bool) (won, retry []*directory.BulkRow, err error) {
	users := make([][]any, len(rows))
	for i, r := range rows {
		users[i] = r.Encoded.(*bulkUser).user
	}
	// Every id is new: looked up in this transaction (a row keyed by
	// it) or a fresh UUID v7. A unique violation is a concurrent writer.
	if _, err := b.insert("users", userColumns, users, "", nil); err != nil {
		if errors.Is(err, directory.ErrConflict) {
			return nil, nil, errBulkRace
		}
		return nil, nil, fmt.Errorf("bulk insert: %w", err)
	}
	// Claims in one sorted list: two transactions taking the same claims
	// take them in the same order (PostgreSQL).
	var cs []claimRow
	for _, r := range rows {
		for _, c := range r.Claims {
			cs = append(cs, claimRow{c, r})
		}
	}
	slices.SortFunc(cs, func(a, b claimRow) int {
		return cmp.Or(cmp.Compare(a.c.Kind, b.c.Kind), cmp.Compare(a.c.Value, b.c.Value))
	})
	// One user may claim a value twice (a username equal to an alias
	// differing in case is refused, but the Service compacts nothing).
	cs = slices.CompactFunc(cs, func(a, b claimRow) bool { return a.c == b.c && a.row == b.row })
	crows := make([][]any, len(cs))
	for i, c := range cs {
		crows[i] = []any{tenantID, string(c.c.Kind), c.c.Value, c.row.User.ID}
	}
	var short [][2]int // chunks in which a claim did not insert
	if _, err := b.insert("user_claims", bulkClaimColumns, crows, " ON CONFLICT DO NOTHING", func(lo, hi int, n int64) {
		if n < int64(hi-lo) {
			short = append(short, [2]int{lo, hi})
		}
	}); err != nil {
		return nil, nil, fmt.Errorf("bulk insert: claims: %w", err)
	}
	if len(short) == 0 {
		return rows, nil, nil
	}
	// Some claims are held by other users: find them, and who holds them.
	lost := map[*directory.BulkRow][]directory.Claim{}
	for _, ch := range short {
		part := cs[ch[0]:ch[1]]
		holders, err := b.claimHolders(tenantID, part)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range part {
			if h := holders[c.c]; h != c.row.User.ID {
				lost[c.row] = append(lost[c.row], c.c)
				if c.row.Conflict == nil { // the first in claim order, as CreateUser reports
					c.row.Conflict = &directory.ClaimConflict{Claim: c.c, ExistingID: h}
				}
			}
		}
	}
	var gone []any
	for _, r := range rows {
		lc, ok := lost[r]
		if !ok {
			won = append(won, r)
			continue
		}
		gone = append(gone, r.User.ID)
		if mayRedraw && r.RedrawCode != nil && len(lc) == 1 && lc[0].Kind == directory.ClaimPartnerCode {
			redraw(r)
			retry = append(retry, r)
		}
	}
	if err := b.deleteUsers(tenantID, gone); err != nil {
		return nil, nil, err
	}
	return won, retry, nil
}

// redraw gives r a new partner code, in its user, claims and encoded row.
func redraw(r *directory.BulkRow) {
	code := r.RedrawCode()
	r.Conflict = nil
	r.User.PartnerCode = code
	enc := r.Encoded.(*bulkUser)
	enc.user[partnerCodeCol] = code
	for i := range r.Claims {
		if r.Claims[i].Kind == directory.ClaimPartnerCode {
			r.Claims[i].Value = code
		}
	}
}

// claimHolders returns the holder of each claim, read in the transaction.
func (b *bulkTx) claimHolders(tenantID string, cs []claimRow) (map[directory.Claim]string, error) {
	out := make(map[directory.Claim]string, len(cs))
	byKind := map[directory.ClaimKind][]any{}
	for _, c := range cs {
		byKind[c.c.Kind] = append(byKind[c.c.Kind], c.c.Value)
	}
	for kind, values := range byKind {
		err := b.queryIn(`SELECT value, user_id FROM user_claims WHERE tenant_id = %s AND kind = %s AND value IN (%s)`,
			[]any{tenantID, string(kind)}, values, func(rows *sql.Rows) error {
				var v, holder string
				if err := rows.Scan(&v, &holder); err != nil {
					return err
				}
				out[directory.Claim{Kind: kind, Value: v}] = holder
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("bulk insert: read claim holders: %w", err)
		}
	}
	return out, nil
}

// deleteUsers removes rows that lost a claim; their claims go with them
// (ON DELETE CASCADE).
func (b *bulkTx) deleteUsers(tenantID string, ids []any) error {
	for lo := 0; lo < len(ids); lo += bulkMaxRows {
		part := ids[lo:min(lo+bulkMaxRows, len(ids))]
		q := `DELETE FROM users WHERE tenant_id = ` + bulkParam(b.s.d, 1) + ` AND id IN (` + bulkParams(b.s.d, 2, len(part)) + `)`
		if _, err := b.tx.ExecContext(b.ctx, q, append([]any{tenantID}, part...)...); err != nil {
			return fmt.Errorf("bulk insert: remove rows that lost a claim: %w", b.s.d.classify(err))
		}
	}
	return nil
}

// queryIn runs query for every chunk of values and hands each row to
// scan. query has a %s for each fixed parameter, then one for the chunk's
// placeholders.
func (b *bulkTx) queryIn(query string, fixed, values []any, scan func(*sql.Rows) error) error {
	per := bulkMaxRows * 4
	for lo := 0; lo < len(values); lo += per {
		part := values[lo:min(lo+per, len(values))]
		ps := make([]any, 0, len(fixed)+1)
		for i := range fixed {
			ps = append(ps, bulkParam(b.s.d, i+1))
		}
		ps = append(ps, bulkParams(b.s.d, len(fixed)+1, len(part)))
		st, err := b.stmt(fmt.Sprintf(query, ps...))
		if err != nil {
			return err
		}
		args := append(slices.Clone(fixed), part...)
		rows, err := st.QueryContext(b.ctx, args...)
		if err != nil {
			return b.s.d.classify(err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return b.s.d.classify(err)
		}
	}
	return nil
}

// keyLookups are the columns a row's key is looked up by.
var keyLookups = map[directory.Field]string{
	directory.FieldID:         `SELECT id, id FROM users WHERE tenant_id = %s AND id IN (%s)`,
	directory.FieldUsername:   `SELECT username_norm, id FROM users WHERE tenant_id = %s AND username_norm IN (%s)`,
	directory.FieldExternalID: `SELECT external_id, id FROM users WHERE tenant_id = %s AND external_id IN (%s)`,
}

// lookupKeys sets KeyHolder(s) of the rows whose key a stored user has.
// It is a read before the write, inside the write's transaction: it decides
// only skip-or-insert, never uniqueness, which the inserts' unique keys
// still enforce (a key a concurrent writer takes after the read makes the
// row a conflict, or the batch run again, not a duplicate).
func (b *bulkTx) lookupKeys(tenantID string, seg []*directory.BulkRow) error {
	byKey := map[directory.Field]map[string][]*directory.BulkRow{}
	for _, r := range seg {
		if r.Key == "" {
			continue
		}
		m := byKey[r.Key]
		if m == nil {
			m = map[string][]*directory.BulkRow{}
			byKey[r.Key] = m
		}
		v := r.KeyValue()
		m[v] = append(m[v], r)
	}
	for key, m := range byKey {
		query, ok := keyLookups[key]
		if !ok {
			return fmt.Errorf("bulk insert: unknown key %q", key)
		}
		values := make([]any, 0, len(m))
		for v := range m {
			values = append(values, v)
		}
		err := b.queryIn(query, []any{tenantID}, values, func(rows *sql.Rows) error {
			var v, holder string
			if err := rows.Scan(&v, &holder); err != nil {
				return err
			}
			for _, r := range m[v] {
				if r.KeyHolders == 0 || holder < r.KeyHolder { // the oldest id of several
					r.KeyHolder = holder
				}
				r.KeyHolders++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bulk insert: look up keys: %w", err)
		}
	}
	return nil
}

// children inserts the aliases, values and audit entries of stored rows.
func (b *bulkTx) children(rows []*directory.BulkRow) error {
	var aliases, values, audit [][]any
	for _, r := range rows {
		enc := r.Encoded.(*bulkUser)
		aliases = append(aliases, enc.aliases...)
		values = append(values, enc.values...)
		if enc.audit != nil {
			audit = append(audit, enc.audit)
		}
	}
	if _, err := b.insert("user_aliases", bulkAliasColumns, aliases, "", nil); err != nil {
		return fmt.Errorf("bulk insert: aliases: %w", err)
	}
	if _, err := b.insert("user_values", bulkValueColumns, values, "", nil); err != nil {
		return fmt.Errorf("bulk insert: values: %w", err)
	}
	if _, err := b.insert("audit_log", bulkAuditColumns, audit, "", nil); err != nil {
		return fmt.Errorf("bulk insert: audit: %w", err)
	}
	changes := make([]*directory.Change, len(rows))
	for i, r := range rows {
		changes[i] = r.Change
	}
	if err := b.s.enqueueWebhooksBatch(b.ctx, b.tx, changes); err != nil {
		return fmt.Errorf("bulk insert: %w", err)
	}
	return nil
}
