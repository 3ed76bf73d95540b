package entrust

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Paging bounds (the vendor's SearchParms.limit is 1-100).
const (
	maxLimit        = 100
	defaultLimit    = 100
	maxSearchAttrs  = 20
	maxSearchValue  = 256
	maxCursorLength = 4096
)

// searchParms is the vendor's SearchParms.
type searchParms struct {
	Limit              *int         `json:"limit"`
	Cursor             *string      `json:"cursor"`
	SearchByAttributes []searchAttr `json:"searchByAttributes"`
	OrderByAttribute   *orderBy     `json:"orderByAttribute"`
	Attributes         []string     `json:"attributes"`
}

type searchAttr struct {
	Name     string `json:"name"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
}

type orderBy struct {
	Name      string `json:"name"`
	Ascending *bool  `json:"ascending"`
}

// pageCursor is what nextCursor and prevCursor encode: the search and
// order of the first request, re-validated on every use, and the keyset
// position. It is opaque to clients and not signed: a forged one can only
// describe another valid search of the caller's own tenant.
type pageCursor struct {
	Version int              `json:"v"`
	Search  []searchAttr     `json:"s,omitempty"`
	Order   *orderBy         `json:"o,omitempty"`
	Pos     directory.Cursor `json:"p"`
	Back    bool             `json:"b,omitempty"`
}

func (c pageCursor) encode() string {
	b, _ := json.Marshal(c) // strings, bools and ints only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageCursor(s string) (pageCursor, error) {
	var c pageCursor
	if len(s) > maxCursorLength {
		return c, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Version != 1 {
		return c, errBadCursor
	}
	id, ok := directory.ParseID(c.Pos.ID)
	if !ok {
		return c, errBadCursor
	}
	c.Pos.ID = id
	return c, nil
}

type usersPage struct {
	Results []*userOut `json:"results"`
	Paging  paging     `json:"paging"`
}

type paging struct {
	Limit      int     `json:"limit"`
	NextCursor *string `json:"nextCursor"`
	PrevCursor *string `json:"prevCursor"`
}

// usersPaged implements POST /api/web/v4/userspaged.
//
// Vendor: "Returns users for the provided search parameters." SearchParms
// {limit 1-100, cursor ("if present, search by / order by attributes are
// ignored"), searchByAttributes (ANDed), orderByAttribute (userId, state,
// lastAuthTime), attributes (optional collections to include)}; 200
// UsersPage {results, paging {limit, nextCursor, prevCursor}}.
func (h *Handler) usersPaged(w http.ResponseWriter, r *http.Request) error {
	var body searchParms
	if err := httpapi.DecodeJSON(w, r, &body, smallBody); err != nil {
		return err
	}
	limit := defaultLimit
	if body.Limit != nil {
		limit = *body.Limit
		if limit < 1 || limit > maxLimit {
			return invalidField("limit", directory.CodeInvalid, "limit must be between 1 and 100")
		}
	}
	cur := pageCursor{Version: 1, Search: body.SearchByAttributes, Order: body.OrderByAttribute}
	var after *directory.Cursor
	if body.Cursor != nil && *body.Cursor != "" {
		c, err := decodePageCursor(*body.Cursor)
		if err != nil {
			return err
		}
		cur, after = c, &c.Pos
	}
	filter, err := buildFilter(cur.Search)
	if err != nil {
		return err
	}
	sortKeys, err := buildSort(cur.Order)
	if err != nil {
		return err
	}
	if after != nil && len(after.Values) != len(sortKeys) {
		return errBadCursor
	}
	attrs := map[string]bool{}
	for _, a := range body.Attributes {
		if allAttributes[a] { // unknown names are ignored
			attrs[a] = true
		}
	}

	p := principal(r)
	page, err := h.svc.ListUsers(r.Context(), p, directory.UserQuery{
		Filter: filter, Sort: sortKeys, Limit: limit, After: after, Backward: after != nil && cur.Back,
	})
	if err != nil {
		return err
	}
	var groups map[string][]directory.GroupRef
	if attrs[attrGroups] && len(page.Users) > 0 {
		ids := make([]string, len(page.Users))
		for i, u := range page.Users {
			ids[i] = u.ID
		}
		if groups, err = h.svc.GroupsOfUsers(r.Context(), p, ids); err != nil {
			return err
		}
	}
	out := usersPage{Results: make([]*userOut, 0, len(page.Users)), Paging: paging{Limit: limit}}
	for _, u := range page.Users {
		out.Results = append(out.Results, toUser(u, attrs, groups[u.ID]))
	}
	out.Paging.NextCursor, out.Paging.PrevCursor = pageLinks(cur, after, page, sortKeys)
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// pageLinks returns the cursors of the pages after and before this one.
// A link is left out (null) only when the page is known to be the last or
// first: the forward page after a backward one always has a next link, and
// vice versa.
func pageLinks(cur pageCursor, after *directory.Cursor, page *directory.UserPage, sortKeys []directory.SortKey) (next, prev *string) {
	link := func(pos directory.Cursor, back bool) *string {
		c := pageCursor{Version: 1, Search: cur.Search, Order: cur.Order, Pos: pos, Back: back}
		s := c.encode()
		return &s
	}
	n := len(page.Users)
	back := after != nil && cur.Back
	first, last := func() directory.Cursor { return directory.CursorFor(page.Users[0], sortKeys) },
		func() directory.Cursor { return directory.CursorFor(page.Users[n-1], sortKeys) }
	switch {
	case after == nil: // first page
		if page.HasMore && n > 0 {
			next = link(last(), false)
		}
	case !back:
		if page.HasMore && n > 0 {
			next = link(last(), false)
		}
		if n > 0 {
			prev = link(first(), true)
		} else {
			prev = link(*after, true)
		}
	default:
		if page.HasMore && n > 0 {
			prev = link(first(), true)
		}
		if n > 0 {
			next = link(last(), false)
		} else {
			next = link(*after, false)
		}
	}
	return next, prev
}

// buildSort maps orderByAttribute to sort keys. With none, users are
// ordered by userId ascending. lastAuthTime is always null in Roster, so
// ordering by it is the stable tie-break order (creation).
func buildSort(o *orderBy) ([]directory.SortKey, error) {
	if o == nil {
		return []directory.SortKey{{Field: directory.FieldUsername}}, nil
	}
	var fe fieldErrors
	if o.Ascending == nil {
		fe.add("orderByAttribute.ascending", directory.CodeRequired, "orderByAttribute.ascending is required")
	}
	desc := o.Ascending != nil && !*o.Ascending
	var keys []directory.SortKey
	switch o.Name {
	case "userId":
		keys = []directory.SortKey{{Field: directory.FieldUsername, Desc: desc}}
	case "state":
		keys = []directory.SortKey{{Field: directory.FieldState, Desc: desc}}
	case "lastAuthTime":
		keys = []directory.SortKey{}
	case "":
		fe.add("orderByAttribute.name", directory.CodeRequired, "orderByAttribute.name is required")
	default:
		fe.add("orderByAttribute.name", directory.CodeInvalid, "orderByAttribute.name must be userId, state or lastAuthTime")
	}
	return keys, fe.err()
}

// searchError reports an unusable search attribute.
func searchError(i int, part, msg string) error {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidSearch, msg: msg,
		params: []param{{Name: fmt.Sprintf("searchByAttributes[%d].%s", i, part)}}}
}

// stringOps are the operators of the userId search.
var stringOps = map[string]directory.Op{
	"EQUALS": directory.OpEq, "NOT_EQUALS": directory.OpEq,
	"CONTAINS": directory.OpCo, "NOT_CONTAINS": directory.OpCo,
	"STARTS_WITH": directory.OpSw, "ENDS_WITH": directory.OpEw,
}

// buildFilter translates searchByAttributes (ANDed) to a core filter. The
// vendor's attributes that Roster has no data for are decided without the
// database: no user ever authenticated (lastAuthTime is null), none has a
// password expiry or an authenticator, and every user is LOCAL.
func buildFilter(attrs []searchAttr) (directory.Expr, error) {
	if len(attrs) > maxSearchAttrs {
		return nil, invalidField("searchByAttributes", directory.CodeTooLong, fmt.Sprintf("at most %d search attributes", maxSearchAttrs))
	}
	var exprs []directory.Expr
	for i, a := range attrs {
		if len(a.Value) > maxSearchValue {
			return nil, searchError(i, "value", "value is too long")
		}
		e, err := searchExpr(i, a)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, e)
	}
	return directory.AllOf(exprs...), nil
}

func searchExpr(i int, a searchAttr) (directory.Expr, error) {
	badOp := func(allowed string) error {
		return searchError(i, "operator", fmt.Sprintf("operator for %s must be %s", a.Name, allowed))
	}
	switch a.Name {
	case "userId":
		op, ok := stringOps[a.Operator]
		if !ok {
			return nil, badOp("EQUALS, NOT_EQUALS, CONTAINS, NOT_CONTAINS, STARTS_WITH or ENDS_WITH")
		}
		if a.Value == "" {
			return nil, searchError(i, "value", "value is required")
		}
		var e directory.Expr = directory.Cmp{Field: directory.FieldLogin, Op: op, Value: a.Value, Fold: true}
		if strings.HasPrefix(a.Operator, "NOT_") {
			e = directory.Not{X: e}
		}
		return e, nil
	case "state":
		if a.Operator != "EQUALS" {
			return nil, badOp("EQUALS")
		}
		if !states[a.Value] {
			return nil, searchError(i, "value", "state value must be ACTIVE or INACTIVE")
		}
		return directory.Cmp{Field: directory.FieldState, Op: directory.OpEq, Value: a.Value}, nil
	case "locked":
		if a.Operator != "EQUALS" {
			return nil, badOp("EQUALS")
		}
		if a.Value != "true" {
			return nil, searchError(i, "value", "locked value must be true")
		}
		return directory.Cmp{Field: directory.FieldLocked, Op: directory.OpEq, Value: true}, nil
	case "groupId":
		if a.Operator != "EQUALS" {
			return nil, badOp("EQUALS")
		}
		id, ok := directory.ParseID(a.Value)
		if !ok {
			return nil, searchError(i, "value", "groupId value must be a group UUID")
		}
		return directory.Cmp{Field: directory.FieldGroupID, Op: directory.OpEq, Value: id}, nil
	case "userType":
		if a.Operator != "EQUALS" {
			return nil, badOp("EQUALS")
		}
		switch a.Value {
		case "LOCAL":
			return directory.Const(true), nil
		case "SYNC", "EXTERNAL":
			return directory.Const(false), nil
		}
		return nil, searchError(i, "value", "userType value must be LOCAL, SYNC or EXTERNAL")
	case "authenticator":
		if a.Value == "" {
			return nil, searchError(i, "value", "value is required")
		}
		switch a.Operator {
		case "EQUALS":
			return directory.Const(false), nil
		case "NOT_EQUALS":
			return directory.Const(true), nil
		}
		return nil, badOp("EQUALS or NOT_EQUALS")
	case "lastAuthTime", "passwordExpirationTime":
		switch a.Operator {
		case "EXISTS":
			return directory.Const(false), nil
		case "NOT_EXISTS":
			return directory.Const(true), nil
		case "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL":
			if _, err := parseSearchTime(a.Value); err != nil {
				return nil, searchError(i, "value", a.Name+" value must be an ISO-8601 date-time in UTC, e.g. 2018-08-04T18:15:30")
			}
			return directory.Const(false), nil // null compares with nothing
		}
		return nil, badOp("GREATER_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN, LESS_THAN_OR_EQUAL, EXISTS or NOT_EXISTS")
	case "":
		return nil, searchError(i, "name", "name is required")
	}
	return nil, searchError(i, "name", "searching by this attribute is not supported")
}

// parseSearchTime accepts the vendor's "2018-08-04T18:15:30" (UTC, no
// zone) and RFC 3339.
func parseSearchTime(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, nil
	}
	return directory.ParseTimeValue(s)
}
