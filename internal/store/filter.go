package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/directory"
)

// sqlBuilder accumulates the parameters of one statement. Values only ever
// reach SQL as parameters; column names come from the tables below.
type sqlBuilder struct {
	d    dialect
	args []any
	// tenant is the placeholder of the listed tenant's id, for subqueries
	// that select by tenant rather than correlate with the outer row.
	tenant string
}

// arg adds a parameter and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

func invalidFilter(format string, a ...any) error {
	return fmt.Errorf("%w: %s", directory.ErrInvalidFilter, fmt.Sprintf(format, a...))
}

// colKind is the type of a filterable column.
type colKind int

const (
	kindString colKind = iota
	kindBool
	kindTime
	kindInt
)

// column describes how one Field maps onto a column of the listed table.
type column struct {
	kind colKind
	name string // qualified column, e.g. "u.email"
	// norm, when set, is the lower-cased copy of name that Fold compares
	// with strings.ToLower(value): exact Unicode folding, and indexable.
	norm string
	// phoneNorm, when set, is the normalised phone column that OpEq
	// compares when the value normalises.
	phoneNorm string
}

// userColumnsByField maps plain filter fields to users columns; the
// fields that need a subquery (alias, login, group_id) are handled in
// userCmp.
var userColumnsByField = map[directory.Field]column{
	directory.FieldID:             {kind: kindString, name: "u.id"},
	directory.FieldUsername:       {kind: kindString, name: "u.username", norm: "u.username_norm"},
	directory.FieldExternalID:     {kind: kindString, name: "u.external_id"},
	directory.FieldExternalSource: {kind: kindString, name: "u.external_source"},
	directory.FieldFirstName:      {kind: kindString, name: "u.first_name"},
	directory.FieldLastName:       {kind: kindString, name: "u.last_name"},
	directory.FieldEmail:          {kind: kindString, name: "u.email", norm: "u.email_norm"},
	directory.FieldEmailVerified:  {kind: kindBool, name: "u.email_verified"},
	directory.FieldPhone:          {kind: kindString, name: "u.phone", phoneNorm: "u.phone_norm"},
	directory.FieldPhoneVerified:  {kind: kindBool, name: "u.phone_verified"},
	directory.FieldMobile:         {kind: kindString, name: "u.mobile", phoneNorm: "u.mobile_norm"},
	directory.FieldLocale:         {kind: kindString, name: "u.locale"},
	directory.FieldState:          {kind: kindString, name: "u.state"},
	directory.FieldLocked:         {kind: kindBool, name: "u.locked"},
	directory.FieldAddressLine1:   {kind: kindString, name: "u.addr_line1"},
	directory.FieldAddressLine2:   {kind: kindString, name: "u.addr_line2"},
	directory.FieldAddressCity:    {kind: kindString, name: "u.addr_city"},
	directory.FieldAddressState:   {kind: kindString, name: "u.addr_state"},
	directory.FieldAddressCountry: {kind: kindString, name: "u.addr_country"},
	directory.FieldAddressZip:     {kind: kindString, name: "u.addr_zip"},
	directory.FieldPartnerCode:    {kind: kindString, name: "u.partner_code"},
	directory.FieldCreatedAt:      {kind: kindTime, name: "u.created_at"},
	directory.FieldUpdatedAt:      {kind: kindTime, name: "u.updated_at"},
	directory.FieldVersion:        {kind: kindInt, name: "u.version"},
}

// userSortColumns maps sortable fields to the column ordered by: username
// and e-mail sort by their normalised form, as directory.CursorFor reads.
var userSortColumns = map[directory.Field]column{
	directory.FieldID:         {kind: kindString, name: "u.id"},
	directory.FieldUsername:   {kind: kindString, name: "u.username_norm"},
	directory.FieldExternalID: {kind: kindString, name: "u.external_id"},
	directory.FieldFirstName:  {kind: kindString, name: "u.first_name"},
	directory.FieldLastName:   {kind: kindString, name: "u.last_name"},
	directory.FieldEmail:      {kind: kindString, name: "u.email_norm"},
	directory.FieldState:      {kind: kindString, name: "u.state"},
	directory.FieldLocale:     {kind: kindString, name: "u.locale"},
	directory.FieldCreatedAt:  {kind: kindTime, name: "u.created_at"},
	directory.FieldUpdatedAt:  {kind: kindTime, name: "u.updated_at"},
}

var groupColumnsByField = map[directory.Field]column{
	directory.FieldID:          {kind: kindString, name: "g.id"},
	directory.FieldDisplayName: {kind: kindString, name: "g.display_name", norm: "g.display_name_norm"},
	directory.FieldExternalID:  {kind: kindString, name: "g.external_id"},
	directory.FieldCreatedAt:   {kind: kindTime, name: "g.created_at"},
	directory.FieldUpdatedAt:   {kind: kindTime, name: "g.updated_at"},
}

var groupSortColumns = map[directory.Field]column{
	directory.FieldID:          {kind: kindString, name: "g.id"},
	directory.FieldDisplayName: {kind: kindString, name: "g.display_name_norm"},
	directory.FieldCreatedAt:   {kind: kindTime, name: "g.created_at"},
	directory.FieldUpdatedAt:   {kind: kindTime, name: "g.updated_at"},
}

// terms translates the leaves of a filter, which differ between users,
// groups and the values of one user: comparisons, and Any (users only;
// nil elsewhere, where an Any is an invalid filter).
type terms struct {
	cmp func(directory.Cmp) (string, error)
	any func(directory.Any) (string, error)
}

// where translates e to a SQL boolean expression.
func (b *sqlBuilder) where(e directory.Expr, t terms) (string, error) {
	switch e := e.(type) {
	case nil:
		return "1=1", nil
	case directory.Const:
		if e {
			return "1=1", nil
		}
		return "1=0", nil
	case directory.And, directory.Or:
		var l, r directory.Expr
		op := " AND "
		if a, ok := e.(directory.And); ok {
			l, r = a.L, a.R
		} else {
			o := e.(directory.Or)
			l, r, op = o.L, o.R, " OR "
		}
		ls, err := b.where(l, t)
		if err != nil {
			return "", err
		}
		rs, err := b.where(r, t)
		if err != nil {
			return "", err
		}
		return "(" + ls + op + rs + ")", nil
	case directory.Not:
		xs, err := b.where(e.X, t)
		if err != nil {
			return "", err
		}
		return "(NOT " + xs + ")", nil
	case directory.Cmp:
		return t.cmp(e)
	case directory.Any:
		if t.any == nil {
			return "", invalidFilter("%s values cannot be filtered here", e.Kind)
		}
		return t.any(e)
	}
	return "", invalidFilter("unsupported expression %T", e)
}

// userTerms are the leaves of a filter on users (alias u).
func (b *sqlBuilder) userTerms() terms { return terms{cmp: b.userCmp, any: b.userAny} }

// valueColumns maps the fields a Cmp inside an Any names to the columns
// of user_values (alias v). FieldValue is special-cased in valueCmp.
var valueColumns = map[directory.Field]column{
	directory.FieldValue:           {kind: kindString, name: "v.value", norm: "v.value_norm"},
	directory.FieldValueDisplay:    {kind: kindString, name: "v.display"},
	directory.FieldValueType:       {kind: kindString, name: "v.type"},
	directory.FieldValuePrimary:    {kind: kindBool, name: "v.is_primary"},
	directory.FieldValueFormatted:  {kind: kindString, name: "v.formatted"},
	directory.FieldValueStreet:     {kind: kindString, name: "v.street"},
	directory.FieldValueLocality:   {kind: kindString, name: "v.locality"},
	directory.FieldValueRegion:     {kind: kindString, name: "v.region"},
	directory.FieldValuePostalCode: {kind: kindString, name: "v.postal_code"},
	directory.FieldValueCountry:    {kind: kindString, name: "v.country"},
}

// phoneValue is FieldValue of a phone: its value_norm is the normalised
// number, which OpEq compares as FieldPhone does with phone_norm, while a
// folded comparison lower-cases the text as sent.
var phoneValue = column{kind: kindString, name: "v.value", phoneNorm: "v.value_norm"}

// userAny matches users having a value of a.Kind that satisfies a.X,
// tested row by row of user_values, so every part of X holds for the same
// value.
//
// It is written as "u.id IN (the users having such a value)" rather than
// as an EXISTS correlated with u: PostgreSQL plans both as the same
// semi-join, but SQLite runs a correlated EXISTS once per user of the
// tenant, while it can drive an uncorrelated IN from the user_values_value
// index (an emails.value eq in a tenant of 20,000 users: 37 ms as EXISTS,
// 0.35 ms as IN; BenchmarkFilterValue).
func (b *sqlBuilder) userAny(a directory.Any) (string, error) {
	if !slices.Contains(directory.ValueKinds, a.Kind) {
		return "", invalidFilter("unknown multi-valued attribute %q", a.Kind)
	}
	if b.tenant == "" {
		return "", invalidFilter("%s values cannot be filtered here", a.Kind)
	}
	s := `u.id IN (SELECT v.user_id FROM user_values v WHERE v.tenant_id = ` + b.tenant + ` AND v.kind = ` + b.arg(string(a.Kind))
	if a.X != nil {
		x, err := b.where(a.X, terms{cmp: func(c directory.Cmp) (string, error) { return b.valueCmp(a.Kind, c) }})
		if err != nil {
			return "", err
		}
		s += ` AND ` + x
	}
	return s + `)`, nil
}

// valueCmp translates one comparison on a value of kind k (alias v).
func (b *sqlBuilder) valueCmp(k directory.ValueKind, c directory.Cmp) (string, error) {
	col, ok := valueColumns[c.Field]
	if !ok {
		return "", invalidFilter("unknown field %q of a %s value", c.Field, k)
	}
	if c.Field != directory.FieldValue || c.Op != directory.OpEq {
		if c.Field == directory.FieldValue && k == directory.KindPhone {
			col = phoneValue
		}
		return b.columnCmp(col, c)
	}
	v, err := stringValue(c)
	if err != nil {
		return "", err
	}
	if k == directory.KindPhone {
		// As columnCmp does for FieldPhone, with the indexed form of
		// the value_norm equality.
		norm, ok := directory.NormalizePhone(v)
		switch {
		case ok:
			return b.valueNormEq(norm), nil
		case norm != "":
			raw, err := b.stringCmp(phoneValue, c.Op, v, c.Fold)
			if err != nil {
				return "", err
			}
			return "(" + raw + " OR " + b.valueNormEq(norm) + ")", nil
		}
		return b.stringCmp(phoneValue, c.Op, v, c.Fold)
	}
	if c.Fold {
		return b.valueNormEq(strings.ToLower(v)), nil
	}
	return b.stringCmp(col, c.Op, v, false)
}

// valueIndexPrefix is how many characters of value_norm PostgreSQL's
// user_values_value index keeps (see migration 0002).
const valueIndexPrefix = 200

// valueNormEq is "v.value_norm = norm" in the form the index serves on
// both backends: PostgreSQL indexes only a prefix of value_norm (a B-tree
// entry is bounded, a value is not), so the prefix is compared first; on
// SQLite, which indexes the whole column, the prefix test is a cheap
// filter.
func (b *sqlBuilder) valueNormEq(norm string) string {
	prefix := norm
	if utf8.RuneCountInString(prefix) > valueIndexPrefix {
		prefix = string([]rune(prefix)[:valueIndexPrefix])
	}
	return fmt.Sprintf("(substr(v.value_norm, 1, %d) = %s AND v.value_norm = %s)", valueIndexPrefix, b.arg(prefix), b.arg(norm))
}

// extraColumn is the string an ExtraField names: the value under key in
// the users.extras JSON, empty when absent. The key reaches SQL only as
// a parameter.
func (b *sqlBuilder) extraColumn(key string) column {
	return column{kind: kindString, name: b.d.extra(key, b.arg)}
}

// userCmp translates one comparison on users (alias u).
func (b *sqlBuilder) userCmp(c directory.Cmp) (string, error) {
	switch c.Field {
	case directory.FieldAlias:
		v, err := stringValue(c)
		if err != nil {
			return "", err
		}
		return b.existsAlias(c.Op, v, c.Fold)
	case directory.FieldLogin:
		// Logins are compared case-insensitively always, as they are
		// claimed (ClaimLogin holds the lower-cased form).
		v, err := stringValue(c)
		if err != nil {
			return "", err
		}
		if c.Op == directory.OpNe {
			s, err := b.loginPred(directory.OpEq, v)
			return "(NOT " + s + ")", err
		}
		return b.loginPred(c.Op, v)
	case directory.FieldGroupID:
		v, err := stringValue(c)
		if err != nil {
			return "", err
		}
		const member = `EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id`
		switch c.Op {
		case directory.OpPr:
			return member + `)`, nil
		case directory.OpEq:
			return member + ` AND m.group_id = ` + b.arg(v) + `)`, nil
		case directory.OpNe:
			return `(NOT ` + member + ` AND m.group_id = ` + b.arg(v) + `))`, nil
		}
		return "", invalidFilter("operator %q on %s", c.Op, c.Field)
	}
	if key, ok := c.Field.ExtraKey(); ok {
		return b.columnCmp(b.extraColumn(key), c)
	}
	col, ok := userColumnsByField[c.Field]
	if !ok {
		return "", invalidFilter("unknown user field %q", c.Field)
	}
	return b.columnCmp(col, c)
}

// groupCmp translates one comparison on groups (alias g).
func (b *sqlBuilder) groupCmp(c directory.Cmp) (string, error) {
	if c.Field == directory.FieldMemberID {
		v, err := stringValue(c)
		if err != nil {
			return "", err
		}
		const member = `EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id`
		switch c.Op {
		case directory.OpPr:
			return member + `)`, nil
		case directory.OpEq:
			return member + ` AND m.user_id = ` + b.arg(v) + `)`, nil
		case directory.OpNe:
			return `(NOT ` + member + ` AND m.user_id = ` + b.arg(v) + `))`, nil
		}
		return "", invalidFilter("operator %q on %s", c.Op, c.Field)
	}
	col, ok := groupColumnsByField[c.Field]
	if !ok {
		return "", invalidFilter("unknown group field %q", c.Field)
	}
	return b.columnCmp(col, c)
}

func stringValue(c directory.Cmp) (string, error) {
	if c.Op == directory.OpPr {
		return "", nil
	}
	v, ok := c.Value.(string)
	if !ok {
		return "", invalidFilter("%s wants a string value, got %T", c.Field, c.Value)
	}
	return v, nil
}

// existsAlias matches users having an alias that satisfies op. ne means
// "has no alias equal to the value", as a multi-valued SCIM attribute does.
func (b *sqlBuilder) existsAlias(op directory.Op, v string, fold bool) (string, error) {
	const exists = `EXISTS (SELECT 1 FROM user_aliases a WHERE a.tenant_id = u.tenant_id AND a.user_id = u.id`
	if op == directory.OpPr {
		return exists + `)`, nil
	}
	negate := op == directory.OpNe
	if negate {
		op = directory.OpEq
	}
	col := column{kind: kindString, name: "a.value", norm: "a.value_norm"}
	pred, err := b.stringCmp(col, op, v, fold)
	if err != nil {
		return "", err
	}
	s := exists + ` AND ` + pred + `)`
	if negate {
		s = "(NOT " + s + ")"
	}
	return s, nil
}

// loginPred matches the username or any alias, folded.
func (b *sqlBuilder) loginPred(op directory.Op, v string) (string, error) {
	if op == directory.OpPr {
		alias, _ := b.existsAlias(op, "", true)
		return "(u.username_norm <> '' OR " + alias + ")", nil
	}
	user, err := b.stringCmp(column{kind: kindString, name: "u.username", norm: "u.username_norm"}, op, v, true)
	if err != nil {
		return "", err
	}
	alias, err := b.existsAlias(op, v, true)
	if err != nil {
		return "", err
	}
	return "(" + user + " OR " + alias + ")", nil
}

var sqlOps = map[directory.Op]string{
	directory.OpEq: "=", directory.OpNe: "<>",
	directory.OpGt: ">", directory.OpGe: ">=", directory.OpLt: "<", directory.OpLe: "<=",
}

// columnCmp compares one column with c.Value according to the column's
// type.
func (b *sqlBuilder) columnCmp(col column, c directory.Cmp) (string, error) {
	switch col.kind {
	case kindString:
		v, err := stringValue(c)
		if err != nil {
			return "", err
		}
		if col.phoneNorm != "" && c.Op == directory.OpEq {
			if norm, ok := directory.NormalizePhone(v); ok {
				return col.phoneNorm + " = " + b.arg(norm), nil
			} else if norm != "" {
				// Not a possible number: stored norms of such phones are
				// their digits, so match those as well as the raw text.
				raw, err := b.stringCmp(col, c.Op, v, c.Fold)
				if err != nil {
					return "", err
				}
				return "(" + raw + " OR " + col.phoneNorm + " = " + b.arg(norm) + ")", nil
			}
		}
		return b.stringCmp(col, c.Op, v, c.Fold)
	case kindBool:
		if c.Op == directory.OpPr {
			return "1=1", nil // never NULL
		}
		v, ok := c.Value.(bool)
		if !ok {
			return "", invalidFilter("%s wants a bool value, got %T", c.Field, c.Value)
		}
		if c.Op != directory.OpEq && c.Op != directory.OpNe {
			return "", invalidFilter("operator %q on bool field %s", c.Op, c.Field)
		}
		return col.name + " " + sqlOps[c.Op] + " " + b.arg(b2i(v)), nil
	case kindTime, kindInt:
		if c.Op == directory.OpPr {
			return "1=1", nil // never NULL
		}
		var n int64
		switch v := c.Value.(type) {
		case time.Time:
			if col.kind != kindTime {
				return "", invalidFilter("%s wants an integer value, got time", c.Field)
			}
			n = micros(v)
		case int64:
			n = v
		case int:
			n = int64(v)
		default:
			return "", invalidFilter("%s: unsupported value type %T", c.Field, c.Value)
		}
		if _, isTime := c.Value.(time.Time); col.kind == kindTime && !isTime {
			return "", invalidFilter("%s wants a time value, got %T", c.Field, c.Value)
		}
		op, ok := sqlOps[c.Op]
		if !ok {
			return "", invalidFilter("operator %q on %s", c.Op, c.Field)
		}
		return col.name + " " + op + " " + b.arg(n), nil
	}
	return "", invalidFilter("field %s", c.Field)
}

// likeEscaper escapes LIKE's wildcards; the statements say ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// stringCmp compares a text column.
//
// Folded comparisons use the normalised column when there is one, with
// strings.ToLower of the value; else LOWER() of the column, which folds
// ASCII letters only on both backends (PostgreSQL columns use the "C"
// collation), against the value lower-cased the same way in Go. co/sw/ew
// then use LIKE on lower-cased text on both sides, where LIKE's own case
// handling (ASCII-insensitive on SQLite, sensitive on PostgreSQL) no
// longer matters.
//
// Case-sensitive co/sw/ew avoid LIKE, which SQLite folds for ASCII: they
// use the substring position and substr, identical on both backends.
func (b *sqlBuilder) stringCmp(col column, op directory.Op, v string, fold bool) (string, error) {
	if op == directory.OpPr {
		return col.name + " <> ''", nil
	}
	if fold {
		lhs := "LOWER(" + col.name + ")"
		v = asciiLower(v)
		if col.norm != "" {
			lhs = col.norm
			v = strings.ToLower(v)
		}
		rhs := b.arg
		var pattern string
		switch op {
		case directory.OpCo:
			pattern = "%" + likeEscaper.Replace(v) + "%"
		case directory.OpSw:
			pattern = likeEscaper.Replace(v) + "%"
		case directory.OpEw:
			pattern = "%" + likeEscaper.Replace(v)
		default:
			sqlOp, ok := sqlOps[op]
			if !ok {
				return "", invalidFilter("operator %q", op)
			}
			return lhs + " " + sqlOp + " " + rhs(v), nil
		}
		return lhs + " LIKE " + rhs(pattern) + ` ESCAPE '\'`, nil
	}
	switch op {
	case directory.OpCo:
		return b.d.strpos + "(" + col.name + ", " + b.arg(v) + ") > 0", nil
	case directory.OpSw:
		n := b.arg(int64(utf8.RuneCountInString(v)))
		return "substr(" + col.name + ", 1, " + n + ") = " + b.arg(v), nil
	case directory.OpEw:
		// When the value is longer than the column, the start is <= 0 and
		// substr returns a string shorter than the value: no match.
		n := b.arg(int64(utf8.RuneCountInString(v)))
		return "substr(" + col.name + ", length(" + col.name + ") - " + n + " + 1) = " + b.arg(v), nil
	}
	sqlOp, ok := sqlOps[op]
	if !ok {
		return "", invalidFilter("operator %q", op)
	}
	return col.name + " " + sqlOp + " " + b.arg(v), nil
}

// asciiLower lower-cases ASCII letters only, as SQL LOWER() does on both
// backends here.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
