package directory

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Expr is a filter over users or groups. Dialects build it (SCIM from its
// filter grammar, Entrust from searchByAttributes, Truv from query
// parameters); the store translates it to SQL for its backend, so a filter
// never loads a tenant's users into memory.
type Expr interface{ isExpr() }

// And is true when both sides are.
type And struct{ L, R Expr }

// Or is true when either side is.
type Or struct{ L, R Expr }

// Not negates X.
type Not struct{ X Expr }

// Const is a fixed truth value. A translator emits it where a clause can be
// decided without the database (a SCIM filter on emails.type "work", say).
type Const bool

// Op is a comparison operator, after SCIM's (RFC 7644 §3.4.2.2).
type Op string

// Operators.
const (
	OpEq Op = "eq"
	OpNe Op = "ne"
	OpCo Op = "co" // contains
	OpSw Op = "sw" // starts with
	OpEw Op = "ew" // ends with
	OpGt Op = "gt"
	OpGe Op = "ge"
	OpLt Op = "lt"
	OpLe Op = "le"
	OpPr Op = "pr" // present: non-empty string, or any value for bools/times
)

// Cmp compares a field with a value.
//
// Value types by field: strings for string fields (and for FieldID,
// FieldGroupID, FieldMemberID, FieldLogin, FieldAlias), bool for
// FieldLocked, FieldEmailVerified and FieldPhoneVerified, time.Time for
// FieldCreatedAt and FieldUpdatedAt, int64 for FieldVersion. Value is unused
// for OpPr. An ExtraField is a string field (absent when the key is not
// set). OpPr on FieldGroupID is true for a member of any group. Inside an
// Any, Cmps name value fields: FieldValuePrimary takes a bool, the others
// strings.
//
// Fold asks for a case-insensitive comparison. For FieldUsername,
// FieldEmail, FieldLogin and FieldAlias the store compares the lower-cased
// (strings.ToLower) value with the normalised column, so folding is exact
// Unicode folding; for other string fields it uses SQL LOWER(), which folds
// ASCII letters only on both backends (PostgreSQL columns use the C
// collation so that both backends sort and compare byte for byte).
//
// A string comparison with OpEq on FieldPhone or FieldMobile compares the
// normalised phone (see NormalizePhone) when the value normalises.
type Cmp struct {
	Field Field
	Op    Op
	Value any
	Fold  bool
}

func (And) isExpr()   {}
func (Or) isExpr()    {}
func (Not) isExpr()   {}
func (Const) isExpr() {}
func (Cmp) isExpr()   {}

// AllOf joins exprs with And, skipping nils; nil when none is left.
func AllOf(exprs ...Expr) Expr {
	var out Expr
	for _, e := range exprs {
		if e == nil {
			continue
		}
		if out == nil {
			out = e
		} else {
			out = And{out, e}
		}
	}
	return out
}

// SortKey orders a listing by one field.
type SortKey struct {
	Field Field
	Desc  bool
	// EmptyLast sorts the rows whose value is empty (absent) after the
	// others in ascending order, and so before them in descending order,
	// as SCIM sorts missing values; without it "" sorts first ascending.
	// String fields only (the store rejects it on others).
	EmptyLast bool
}

// Sortable user fields, beside every ExtraField (see Field.Sortable). The
// store always appends FieldID ascending as the final tie-breaker, so every
// order is total and keyset paging is exact.
var SortableUserFields = []Field{
	FieldID, FieldUsername, FieldExternalID, FieldFirstName, FieldLastName,
	FieldEmail, FieldState, FieldLocale, FieldCreatedAt, FieldUpdatedAt,
}

// Cursor is a position in a sorted listing: the sort-key values of the last
// row seen and its id. Values are strings: time as Unix microseconds,
// booleans "true"/"false".
type Cursor struct {
	Values []string `json:"v"`
	ID     string   `json:"id"`
}

// Encode returns the cursor as an opaque URL-safe string.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // cannot fail: strings only
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses what Encode returned. Any damage is an error (which
// dialects report as invalid input).
func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("decode cursor: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode cursor: %w", err)
	}
	if c.ID == "" {
		return c, fmt.Errorf("decode cursor: no id")
	}
	return c, nil
}

// CursorFor returns the cursor positioned on u for the given sort keys.
func CursorFor(u *User, sort []SortKey) Cursor {
	c := Cursor{ID: u.ID, Values: make([]string, 0, len(sort))}
	for _, k := range sort {
		v := userSortValue(u, k.Field)
		if k.EmptyLast { // the store's emptiness key comes first
			empty := "0"
			if v == "" {
				empty = "1"
			}
			c.Values = append(c.Values, empty)
		}
		c.Values = append(c.Values, v)
	}
	return c
}

func userSortValue(u *User, f Field) string {
	if k, ok := f.ExtraKey(); ok {
		return u.Extras[k]
	}
	switch f {
	case FieldID:
		return u.ID
	case FieldUsername:
		return u.UsernameNorm
	case FieldExternalID:
		return u.ExternalID
	case FieldFirstName:
		return u.FirstName
	case FieldLastName:
		return u.LastName
	case FieldEmail:
		return u.EmailNorm
	case FieldState:
		return u.State
	case FieldLocale:
		return u.Locale
	case FieldCreatedAt:
		return strconv.FormatInt(u.CreatedAt.UnixMicro(), 10)
	case FieldUpdatedAt:
		return strconv.FormatInt(u.UpdatedAt.UnixMicro(), 10)
	}
	return ""
}

// UserQuery selects a page of a tenant's users.
//
// Paging is either by offset (Offset, for page-number and SCIM startIndex
// APIs) or by keyset (After, for cursor APIs). With After set, Offset is
// ignored and the page holds the rows strictly after the cursor in the sort
// order; with Backward also set it holds the Limit rows strictly before the
// cursor, still returned in the forward order. Keyset paging never skips or
// repeats a row that exists throughout, whatever is inserted or deleted
// between pages.
type UserQuery struct {
	Filter   Expr
	Sort     []SortKey // empty: by id (UUID v7, so by creation time)
	Offset   int
	Limit    int // 0 means the store's maximum, MaxPageSize
	After    *Cursor
	Backward bool
	Total    bool // also count every row that matches Filter
}

// MaxPageSize bounds one store read.
const MaxPageSize = 1000

// UserPage is one page of users.
type UserPage struct {
	Users   []*User
	Total   int  // rows matching the filter, when UserQuery.Total; else -1
	HasMore bool // another row exists beyond this page in the paging direction
}

// GroupQuery selects a page of a tenant's groups (display names are
// unique per tenant, compared lower-cased). Filter fields:
// FieldID, FieldDisplayName, FieldExternalID, FieldMemberID, FieldCreatedAt,
// FieldUpdatedAt. Sort fields: FieldID, FieldDisplayName, FieldCreatedAt,
// FieldUpdatedAt.
type GroupQuery struct {
	Filter Expr
	Sort   []SortKey
	Offset int
	Limit  int
	Total  bool
	// NoMembers skips loading members (SCIM excludedAttributes=members).
	NoMembers bool
}

// GroupPage is one page of groups.
type GroupPage struct {
	Groups []*Group
	Total  int
}

// ParseTimeValue is a small helper for dialects that take time filters as
// strings: RFC 3339 with or without fractional seconds.
func ParseTimeValue(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}
