package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// userColumns are the users columns in the order userArgs and scanUser
// use. UPDATE and INSERT statements are generated from this list so the
// three cannot drift apart.
var userColumns = []string{
	"tenant_id", "id",
	"username", "username_norm", "external_id", "external_source",
	"first_name", "last_name", "email", "email_norm", "email_verified",
	"phone", "phone_norm", "phone_verified", "mobile", "mobile_norm",
	"locale", "state", "locked", "ssn_sealed",
	"addr_line1", "addr_line2", "addr_city", "addr_state", "addr_country", "addr_zip",
	"attributes", "extras", "partner_code",
	"version", "created_at", "updated_at",
}

var (
	userSelectList = "u." + strings.Join(userColumns, ", u.")
	insertUserSQL  = "INSERT INTO users (" + strings.Join(userColumns, ", ") + ") VALUES (" + placeholders(1, len(userColumns)) + ")"
	// updateUserSQL sets every column but the key and created_at. Its
	// parameters are updateUserArgs: PostgreSQL must be able to infer the
	// type of every parameter, so none may go unused.
	updateUserSQL = func() string {
		var sets []string
		n := 2 // $1, $2: tenant_id, id
		for _, c := range userColumns {
			if !updatedColumn(c) {
				continue
			}
			n++
			sets = append(sets, fmt.Sprintf("%s = $%d", c, n))
		}
		return fmt.Sprintf("UPDATE users SET %s WHERE tenant_id = $1 AND id = $2 AND version = $%d",
			strings.Join(sets, ", "), n+1)
	}()
)

// updatedColumn reports whether UpdateUser writes column c.
func updatedColumn(c string) bool { return c != "tenant_id" && c != "id" && c != "created_at" }

// updateUserArgs returns the parameters of updateUserSQL from userArgs.
func updateUserArgs(args []any, expectVersion int64) []any {
	out := append(make([]any, 0, len(args)+1), args[0], args[1]) // tenant_id, id
	for i, c := range userColumns {
		if updatedColumn(c) {
			out = append(out, args[i])
		}
	}
	return append(out, expectVersion)
}

// attribute is the stored JSON form of a directory.Attribute, with names
// of its own so a Go rename cannot change stored data.
type attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ssnAAD binds a sealed SSN to its row: a ciphertext copied to another
// user or tenant does not open.
func ssnAAD(tenantID, userID string) []byte { return []byte(tenantID + "/" + userID) }

// userArgs returns u's column values in userColumns order.
func (s *Store) userArgs(u *directory.User) ([]any, error) {
	var sealed []byte // NULL when there is no SSN
	if !u.SSN.IsZero() {
		sealed = s.kr.Seal([]byte(u.SSN.Reveal()), ssnAAD(u.TenantID, u.ID))
	}
	var attrs, extras string // '' when empty, like every absent string
	if len(u.Attributes) > 0 {
		as := make([]attribute, len(u.Attributes))
		for i, a := range u.Attributes {
			as[i] = attribute(a)
		}
		b, err := json.Marshal(as)
		if err != nil {
			return nil, fmt.Errorf("encode attributes: %w", err)
		}
		attrs = string(b)
	}
	if len(u.Extras) > 0 {
		b, err := json.Marshal(u.Extras)
		if err != nil {
			return nil, fmt.Errorf("encode extras: %w", err)
		}
		extras = string(b)
	}
	a := u.Address
	return []any{
		u.TenantID, u.ID,
		u.Username, u.UsernameNorm, u.ExternalID, u.ExternalSource,
		u.FirstName, u.LastName, u.Email, u.EmailNorm, b2i(u.EmailVerified),
		u.Phone, u.PhoneNorm, b2i(u.PhoneVerified), u.Mobile, u.MobileNorm,
		u.Locale, u.State, b2i(u.Locked), sealed,
		a.Line1, a.Line2, a.City, a.State, a.Country, a.Zip,
		attrs, extras, u.PartnerCode,
		u.Version, micros(u.CreatedAt), micros(u.UpdatedAt),
	}, nil
}

// scanUser reads one row of userSelectList.
func (s *Store) scanUser(sc interface{ Scan(...any) error }) (*directory.User, error) {
	var u directory.User
	var emailVerified, phoneVerified, locked, created, updated int64
	var sealed []byte
	var attrs, extras string
	a := &u.Address
	err := sc.Scan(
		&u.TenantID, &u.ID,
		&u.Username, &u.UsernameNorm, &u.ExternalID, &u.ExternalSource,
		&u.FirstName, &u.LastName, &u.Email, &u.EmailNorm, &emailVerified,
		&u.Phone, &u.PhoneNorm, &phoneVerified, &u.Mobile, &u.MobileNorm,
		&u.Locale, &u.State, &locked, &sealed,
		&a.Line1, &a.Line2, &a.City, &a.State, &a.Country, &a.Zip,
		&attrs, &extras, &u.PartnerCode,
		&u.Version, &created, &updated,
	)
	if err != nil {
		return nil, err
	}
	u.EmailVerified, u.PhoneVerified, u.Locked = emailVerified != 0, phoneVerified != 0, locked != 0
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	if sealed != nil {
		plain, err := s.kr.Open(sealed, ssnAAD(u.TenantID, u.ID))
		if err != nil {
			return nil, fmt.Errorf("user %s: decrypt ssn: %w", u.ID, err)
		}
		u.SSN = secret.Value(plain)
	}
	if attrs != "" {
		var as []attribute
		if err := json.Unmarshal([]byte(attrs), &as); err != nil {
			return nil, fmt.Errorf("user %s: decode attributes: %w", u.ID, err)
		}
		u.Attributes = make([]directory.Attribute, len(as))
		for i, a := range as {
			u.Attributes[i] = directory.Attribute(a)
		}
	}
	if extras != "" {
		if err := json.Unmarshal([]byte(extras), &u.Extras); err != nil {
			return nil, fmt.Errorf("user %s: decode extras: %w", u.ID, err)
		}
	}
	return &u, nil
}

// queryUsers runs a SELECT of userSelectList FROM users u (query is the
// text after that) and loads the users' aliases with one more query.
func (s *Store) queryUsers(ctx context.Context, q querier, tenantID, query string, args ...any) ([]*directory.User, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+userSelectList+" FROM users u "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := []*directory.User{}
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close() // SQLite read transactions hold one connection: free it for the next query
	if err := loadAliases(ctx, q, tenantID, users); err != nil {
		return nil, err
	}
	if err := loadValues(ctx, q, tenantID, users); err != nil {
		return nil, err
	}
	return users, nil
}

// loadAliases fills in the aliases of users, in their stored order.
func loadAliases(ctx context.Context, q querier, tenantID string, users []*directory.User) error {
	return loadPerUser(ctx, q, tenantID, users, "aliases",
		`SELECT user_id, id, type, value FROM user_aliases
		WHERE tenant_id = $1 AND user_id IN (%s)
		ORDER BY user_id, seq`,
		func(rows *sql.Rows, byID map[string]*directory.User) error {
			var userID string
			var a directory.Alias
			if err := rows.Scan(&userID, &a.ID, &a.Type, &a.Value); err != nil {
				return err
			}
			if u := byID[userID]; u != nil {
				u.Aliases = append(u.Aliases, a)
			}
			return nil
		})
}

// loadValues fills in the multi-valued attributes of users, each list in
// its stored order. A user without values keeps a nil map, and a kind
// without values stays absent, as the Service builds them.
func loadValues(ctx context.Context, q querier, tenantID string, users []*directory.User) error {
	return loadPerUser(ctx, q, tenantID, users, "values",
		`SELECT user_id, kind, value, display, type, is_primary, formatted, street, locality, region, postal_code, country
		FROM user_values
		WHERE tenant_id = $1 AND user_id IN (%s)
		ORDER BY user_id, kind, seq`,
		func(rows *sql.Rows, byID map[string]*directory.User) error {
			var userID, kind string
			var v directory.Value
			var primary int64
			if err := rows.Scan(&userID, &kind, &v.Value, &v.Display, &v.Type, &primary,
				&v.Formatted, &v.Street, &v.Locality, &v.Region, &v.PostalCode, &v.Country); err != nil {
				return err
			}
			v.Primary = primary != 0
			u := byID[userID]
			if u == nil {
				return nil
			}
			if u.Values == nil {
				u.Values = make(map[directory.ValueKind][]directory.Value, 2)
			}
			k := directory.ValueKind(kind)
			u.Values[k] = append(u.Values[k], v)
			return nil
		})
}

// loadPerUser runs query (whose %s takes the user-id placeholders, $2 on)
// for users, one query per chunk of users rather than one per user, and
// hands each row to scan with the users by id.
func loadPerUser(ctx context.Context, q querier, tenantID string, users []*directory.User, what, query string,
	scan func(*sql.Rows, map[string]*directory.User) error) error {
	const chunk = 500
	byID := make(map[string]*directory.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for start := 0; start < len(users); start += chunk {
		part := users[start:min(start+chunk, len(users))]
		args := make([]any, 0, len(part)+1)
		args = append(args, tenantID)
		for _, u := range part {
			args = append(args, u.ID)
		}
		rows, err := q.QueryContext(ctx, fmt.Sprintf(query, placeholders(2, len(part))), args...)
		if err != nil {
			return fmt.Errorf("load %s: %w", what, err)
		}
		for rows.Next() {
			if err := scan(rows, byID); err != nil {
				rows.Close()
				return fmt.Errorf("load %s: %w", what, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("load %s: %w", what, err)
		}
	}
	return nil
}

// valueNorm is the user_values.value_norm of a value of kind k: what
// folded and normalised comparisons (and the index) use. Phones keep the
// normalised number, as users.phone_norm does, else the lower-cased text.
func valueNorm(k directory.ValueKind, value string) string {
	if k == directory.KindPhone {
		if norm, _ := directory.NormalizePhone(value); norm != "" {
			return norm
		}
	}
	return strings.ToLower(value)
}

// valueRows returns the user_values rows of u, kind by kind in
// directory.ValueKinds order. A kind outside that list is an error: the
// Service never writes one, and a silently dropped list would be lost data.
func valueRows(u *directory.User) ([][]any, error) {
	n := 0
	for _, vs := range u.Values {
		n += len(vs)
	}
	if n == 0 {
		return nil, nil
	}
	rows := make([][]any, 0, n)
	for _, k := range directory.ValueKinds {
		for i, v := range u.Values[k] {
			rows = append(rows, []any{
				u.TenantID, u.ID, string(k), int64(i),
				v.Value, userValueNorm(u, k, v.Value), v.Display, v.Type, b2i(v.Primary),
				v.Formatted, v.Street, v.Locality, v.Region, v.PostalCode, v.Country,
			})
		}
	}
	if len(rows) != n {
		for k := range u.Values {
			if !slices.Contains(directory.ValueKinds, k) {
				return nil, fmt.Errorf("unknown value kind %q", k)
			}
		}
	}
	return rows, nil
}

const insertValuesSQL = `INSERT INTO user_values (tenant_id, user_id, kind, seq, value, value_norm, display, type, is_primary,
	formatted, street, locality, region, postal_code, country)`

// CreateUser inserts u with its aliases, values and claims in one
// transaction. A claim held by another user is a *directory.ClaimConflict
// naming it and its holder, and nothing is written.
func (s *Store) CreateUser(ctx context.Context, u *directory.User, claims []directory.Claim, ch *directory.Change) error {
	args, err := s.userArgs(u)
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	values, err := valueRows(u)
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	if s.d.name == postgres.name {
		// One round trip when nothing is in the way (pgpipeline.go).
		if err := s.createUserPipelined(ctx, u, args, values, claims, ch); !errors.Is(err, errPipelineFallback) {
			return err
		}
	}
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insertUserSQL, args...); err != nil {
			return fmt.Errorf("insert user: %w", s.d.classify(err))
		}
		if err := s.insertClaims(ctx, tx, u.TenantID, u.ID, claims); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if err := insertAliases(ctx, tx, u); err != nil {
			return fmt.Errorf("insert user: %w", s.d.classify(err))
		}
		if err := insertRows(ctx, tx, insertValuesSQL, values); err != nil {
			return fmt.Errorf("insert user: values: %w", s.d.classify(err))
		}
		return s.recordChange(ctx, tx, ch)
	})
}

// insertClaims inserts the user's claims. The unique key of user_claims,
// not a prior read, decides: a claim that did not insert is held by
// someone, whom we then read in the same transaction. On PostgreSQL a
// concurrent, uncommitted insert of the same claim makes ours wait for
// its transaction; under READ COMMITTED the SELECT that follows sees its
// committed row. All claims go in one multi-row INSERT (one round trip,
// not one per claim), whose rows are inserted in VALUES order; the claims
// are sorted so two transactions claiming the same pair take them in the
// same order and cannot deadlock.
func (s *Store) insertClaims(ctx context.Context, tx *sql.Tx, tenantID, userID string, claims []directory.Claim) error {
	q, args, cs := claimsInsert(tenantID, userID, claims, true)
	if q == "" {
		return nil
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("insert claims: %w", s.d.classify(err))
	}
	inserted := make(map[directory.Claim]bool, len(cs))
	for rows.Next() {
		var kind, value string
		if err := rows.Scan(&kind, &value); err != nil {
			rows.Close()
			return fmt.Errorf("insert claims: %w", err)
		}
		inserted[directory.Claim{Kind: directory.ClaimKind(kind), Value: value}] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("insert claims: %w", s.d.classify(err))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert claims: %w", s.d.classify(err))
	}
	for _, c := range cs {
		if inserted[c] {
			continue
		}
		var holder string
		err := tx.QueryRowContext(ctx,
			`SELECT user_id FROM user_claims WHERE tenant_id = $1 AND kind = $2 AND value = $3`,
			tenantID, string(c.Kind), c.Value).Scan(&holder)
		if err != nil && !errors.Is(err, sql.ErrNoRows) { // no rows: the holder vanished since
			return fmt.Errorf("read claim holder: %w", err)
		}
		return &directory.ClaimConflict{Claim: c, ExistingID: holder}
	}
	return nil
}

func insertAliases(ctx context.Context, tx *sql.Tx, u *directory.User) error {
	rows := make([][]any, len(u.Aliases))
	for i, a := range u.Aliases {
		rows[i] = []any{u.TenantID, u.ID, int64(i), a.ID, a.Type, a.Value, strings.ToLower(a.Value)}
	}
	return insertRows(ctx, tx, `INSERT INTO user_aliases (tenant_id, user_id, seq, id, type, value, value_norm)`, rows)
}

// GetUser returns the user, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, tenantID, id string) (*directory.User, error) {
	u, err := s.getUserWhere(ctx, tenantID, `WHERE u.tenant_id = $1 AND u.id = $2`, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// FindUserByClaim returns the user holding the claim, or ErrNotFound.
func (s *Store) FindUserByClaim(ctx context.Context, tenantID string, c directory.Claim) (*directory.User, error) {
	u, err := s.getUserWhere(ctx, tenantID,
		`JOIN user_claims c ON c.tenant_id = u.tenant_id AND c.user_id = u.id
		WHERE c.tenant_id = $1 AND c.kind = $2 AND c.value = $3`,
		tenantID, string(c.Kind), c.Value)
	if err != nil {
		return nil, fmt.Errorf("find user by claim: %w", err)
	}
	return u, nil
}

func (s *Store) getUserWhere(ctx context.Context, tenantID, where string, args ...any) (*directory.User, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	users, err := s.queryUsers(ctx, tx, tenantID, where, args...)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, directory.ErrNotFound
	}
	return users[0], nil
}

// UpdateUser replaces the stored user u.ID, its aliases, values and claims
// in one transaction, provided the stored version is expectVersion.
// ErrNotFound if the user does not exist in u.TenantID, ErrPrecondition if
// its version differs, *directory.ClaimConflict if a new claim is held.
func (s *Store) UpdateUser(ctx context.Context, u *directory.User, claims []directory.Claim, expectVersion int64, ch *directory.Change) error {
	args, err := s.userArgs(u)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	args = updateUserArgs(args, expectVersion)
	values, err := valueRows(u)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, updateUserSQL, args...)
		if err != nil {
			return fmt.Errorf("update user: %w", s.d.classify(err))
		}
		if err := s.checkVersioned(ctx, tx, res, "users", u.TenantID, u.ID); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		// Replace rather than diff: the unique key still decides, and
		// releasing then re-taking a claim in one transaction is
		// invisible to others.
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_claims WHERE tenant_id = $1 AND user_id = $2`, u.TenantID, u.ID); err != nil {
			return fmt.Errorf("update user: delete claims: %w", s.d.classify(err))
		}
		if err := s.insertClaims(ctx, tx, u.TenantID, u.ID, claims); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_aliases WHERE tenant_id = $1 AND user_id = $2`, u.TenantID, u.ID); err != nil {
			return fmt.Errorf("update user: delete aliases: %w", s.d.classify(err))
		}
		if err := insertAliases(ctx, tx, u); err != nil {
			return fmt.Errorf("update user: %w", s.d.classify(err))
		}
		// Values too are replaced: the store is not told what changed,
		// and a list rewritten in one multi-row INSERT costs less than
		// reading it back to diff.
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_values WHERE tenant_id = $1 AND user_id = $2`, u.TenantID, u.ID); err != nil {
			return fmt.Errorf("update user: delete values: %w", s.d.classify(err))
		}
		if err := insertRows(ctx, tx, insertValuesSQL, values); err != nil {
			return fmt.Errorf("update user: values: %w", s.d.classify(err))
		}
		return s.recordChange(ctx, tx, ch)
	})
}

// checkVersioned turns a versioned UPDATE or DELETE that touched no row
// into ErrNotFound or ErrPrecondition, by looking in the same transaction
// whether the row exists. table is a constant.
func (s *Store) checkVersioned(ctx context.Context, tx *sql.Tx, res sql.Result, table, tenantID, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return directory.ErrNotFound
	}
	if err != nil {
		return err
	}
	return directory.ErrPrecondition
}

// DeleteUser removes the user; its claims, aliases, values and group
// memberships go with it (ON DELETE CASCADE). ErrNotFound if it does not
// exist in the tenant; ErrPrecondition if expectVersion is non-zero and
// differs.
func (s *Store) DeleteUser(ctx context.Context, tenantID, id string, expectVersion int64, ch *directory.Change) error {
	return s.deleteVersioned(ctx, "users", tenantID, id, expectVersion, ch)
}

func (s *Store) deleteVersioned(ctx context.Context, table, tenantID, id string, expectVersion int64, ch *directory.Change) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		query := `DELETE FROM ` + table + ` WHERE tenant_id = $1 AND id = $2`
		args := []any{tenantID, id}
		if expectVersion != 0 {
			query += ` AND version = $3`
			args = append(args, expectVersion)
		}
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("delete from %s: %w", table, s.d.classify(err))
		}
		if err := s.checkVersioned(ctx, tx, res, table, tenantID, id); err != nil {
			return fmt.Errorf("delete from %s: %w", table, err)
		}
		return s.recordChange(ctx, tx, ch)
	})
}
