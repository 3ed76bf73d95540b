package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

// sortCol is one ORDER BY key.
type sortCol struct {
	col  column
	desc bool
}

// sortCols maps sort keys to columns and appends the id tie-breaker, so
// every order is total and a cursor names exactly one position.
func sortCols(keys []directory.SortKey, cols func(directory.Field) (column, bool), id column) ([]sortCol, error) {
	out := make([]sortCol, 0, len(keys)+1)
	for _, k := range keys {
		c, ok := cols(k.Field)
		if !ok {
			return nil, invalidFilter("cannot sort by %q", k.Field)
		}
		if k.EmptyLast {
			if c.kind != kindString {
				return nil, invalidFilter("cannot sort %q with empty values last: not a string", k.Field)
			}
			// 1 for an empty value, ordered in the key's direction:
			// empty values last ascending, first descending.
			out = append(out, sortCol{col: column{kind: kindInt, name: "(CASE WHEN " + c.name + " = '' THEN 1 ELSE 0 END)"}, desc: k.Desc})
		}
		out = append(out, sortCol{col: c, desc: k.Desc})
	}
	return append(out, sortCol{col: id}), nil
}

// mapColumns looks sort fields up in a fixed map.
func mapColumns(m map[directory.Field]column) func(directory.Field) (column, bool) {
	return func(f directory.Field) (column, bool) { c, ok := m[f]; return c, ok }
}

// userSortColumn is the column ordered by for f: one of userSortColumns,
// or the text of an ExtraField, whose key becomes a parameter of b.
func (b *sqlBuilder) userSortColumn(f directory.Field) (column, bool) {
	if key, ok := f.ExtraKey(); ok {
		return b.extraColumn(key), true
	}
	c, ok := userSortColumns[f]
	return c, ok
}

// orderBy renders the ORDER BY list, reversed when backward.
func orderBy(keys []sortCol, backward bool) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		dir := " ASC"
		if k.desc != backward {
			dir = " DESC"
		}
		parts[i] = k.col.name + dir
	}
	return strings.Join(parts, ", ")
}

// keyset renders the predicate "row comes strictly after the cursor" in the
// order of keys (strictly before when backward), as the lexicographic
// expansion (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., which both backends
// evaluate the same way whatever the mix of directions.
func (b *sqlBuilder) keyset(keys []sortCol, c directory.Cursor, backward bool) (string, error) {
	if len(c.Values) != len(keys)-1 {
		return "", invalidFilter("cursor has %d values, sort has %d keys", len(c.Values), len(keys)-1)
	}
	vals := make([]string, len(keys))
	for i, k := range keys {
		raw := c.ID
		if i < len(c.Values) {
			raw = c.Values[i]
		}
		var v any = raw
		if k.col.kind == kindTime || k.col.kind == kindInt {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return "", invalidFilter("cursor value %q is not a number", raw)
			}
			v = n
		}
		vals[i] = b.arg(v)
	}
	var ors []string
	for i, k := range keys {
		var ands []string
		for j := range i {
			ands = append(ands, keys[j].col.name+" = "+vals[j])
		}
		op := " > "
		if k.desc != backward {
			op = " < "
		}
		ands = append(ands, k.col.name+op+vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", nil
}

func pageLimit(n int) int {
	if n <= 0 || n > directory.MaxPageSize {
		return directory.MaxPageSize
	}
	return n
}

// ListUsers returns one page of the tenant's users; see
// directory.UserQuery. The page, its total and its aliases are read in one
// read-only transaction, so they agree.
func (s *Store) ListUsers(ctx context.Context, tenantID string, q directory.UserQuery) (*directory.UserPage, error) {
	limit := pageLimit(q.Limit)
	b := &sqlBuilder{d: s.d}
	b.tenant = b.arg(tenantID)
	cond := "u.tenant_id = " + b.tenant
	if q.Filter != nil {
		w, err := b.where(q.Filter, b.userTerms())
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		cond += " AND " + w
	}
	// The count takes the filter's parameters only: sort keys on extras
	// add parameters of their own, after these.
	countArgs := slices.Clone(b.args)
	countCond := cond
	keys, err := sortCols(q.Sort, b.userSortColumn, userSortColumns[directory.FieldID])
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	backward := q.After != nil && q.Backward
	if q.After != nil {
		ks, err := b.keyset(keys, *q.After, backward)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		cond += " AND " + ks
	}
	// One row more than asked tells whether there is another page.
	query := "WHERE " + cond + " ORDER BY " + orderBy(keys, backward) + " LIMIT " + b.arg(int64(limit+1))
	if q.After == nil && q.Offset > 0 {
		query += " OFFSET " + b.arg(int64(q.Offset))
	}

	tx, err := s.listTx(ctx) // the read replica, when configured and caught up
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	page := &directory.UserPage{Total: -1}
	if q.Total {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users u WHERE "+countCond, countArgs...).Scan(&page.Total); err != nil {
			return nil, fmt.Errorf("list users: count: %w", err)
		}
	}
	users, err := s.queryUsers(ctx, tx, tenantID, query, b.args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	if len(users) > limit {
		users, page.HasMore = users[:limit], true
	}
	if backward {
		slices.Reverse(users)
	}
	page.Users = users
	return page, nil
}
