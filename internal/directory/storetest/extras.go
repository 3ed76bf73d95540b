package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
)

// oddKeys are extras keys that a JSON path cannot spell plainly: a quote,
// a backslash, a dot (a path separator), characters Go's encoder escapes,
// and SCIM's enterprise extension URN.
var oddKeys = []string{`a"b`, `back\slash`, "dotted.key", "x&<y>", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}

// extrasFixture creates users whose "title" extras tell the operators
// apart (case, wildcards, prefixes, absence), and one value under each odd
// key.
func extrasFixture(t *testing.T, s d.Store) (string, map[string]*d.User) {
	t.Helper()
	tn := mustTenant(t, s, "acme")
	titles := map[string]string{"ann": "Engineer", "bob": "engineer II", "carl": "Manager", "dana": "100%_done", "erin": "", "finn": "Élan"}
	users := map[string]*d.User{}
	for i, name := range []string{"ann", "bob", "carl", "dana", "erin", "finn"} {
		u := newUser(tn.ID, name, "", func(u *d.User) {
			u.Extras = map[string]string{"other": "x"}
			if titles[name] != "" {
				u.Extras["title"] = titles[name]
			}
			if i < len(oddKeys) {
				u.Extras[oddKeys[i]] = "odd-" + name
			}
		})
		users[name] = mustCreate(t, s, u)
	}
	users["none"] = mustCreate(t, s, newUser(tn.ID, "none", "")) // no extras at all
	return tn.ID, users
}

func testExtrasFilters(t *testing.T, s d.Store) {
	tenantID, byName := extrasFixture(t, s)
	var all []*d.User
	for _, u := range byName {
		all = append(all, u)
	}
	title := d.ExtraField("title")
	var stored []string
	for _, u := range all {
		stored = append(stored, u.Extras["title"])
	}
	for _, op := range stringOps {
		for _, fold := range []bool{false, true} {
			if op == d.OpPr && fold {
				continue
			}
			for _, probe := range probes(stored, op) {
				var want []string
				for _, u := range all {
					if matchString(u.Extras["title"], op, probe, fold, false) {
						want = append(want, u.Username)
					}
				}
				name := fmt.Sprintf("extras.title/%s", op)
				if fold {
					name += "/fold"
				}
				if op != d.OpPr {
					name += "/" + probe
				}
				filter := d.Cmp{Field: title, Op: op, Value: probe, Fold: fold}
				t.Run(name, func(t *testing.T) { wantUsers(t, s, tenantID, byName, filter, want) })
			}
		}
	}
	tests := []struct {
		name   string
		filter d.Expr
		want   []string
	}{
		{"pr", op(title, d.OpPr, nil), []string{"ann", "bob", "carl", "dana", "finn"}},
		{"not pr", d.Not{X: op(title, d.OpPr, nil)}, []string{"erin", "none"}},
		{"eq absent is empty", eq(title, ""), []string{"erin", "none"}},
		{"eq is case-sensitive", eq(title, "engineer"), nil},
		{"eq folded", fold(title, d.OpEq, "ENGINEER"), []string{"ann"}},
		{"sw folded", fold(title, d.OpSw, "ENG"), []string{"ann", "bob"}},
		{"co percent is literal", op(title, d.OpCo, "%"), []string{"dana"}},
		{"co underscore folded is literal", fold(title, d.OpCo, "%_D"), []string{"dana"}},
		{"folded is ASCII-only", fold(title, d.OpEq, "élan"), nil},
		{"ew", op(title, d.OpEw, "II"), []string{"bob"}},
		{"gt is byte order", op(title, d.OpGt, "Manager"), []string{"bob", "finn"}},
		{"unset key", op(d.ExtraField("nope"), d.OpPr, nil), nil},
		{"a key is not a prefix", op(d.ExtraField("titl"), d.OpPr, nil), nil},
		{"and with a column", d.And{L: fold(title, d.OpSw, "eng"), R: eq(d.FieldUsername, "bob")}, []string{"bob"}},
	}
	for i, k := range oddKeys {
		owner := []string{"ann", "bob", "carl", "dana", "erin", "finn"}[i]
		tests = append(tests,
			struct {
				name   string
				filter d.Expr
				want   []string
			}{"key " + k, eq(d.ExtraField(k), "odd-"+owner), []string{owner}},
			struct {
				name   string
				filter d.Expr
				want   []string
			}{"key " + k + " pr", op(d.ExtraField(k), d.OpPr, nil), []string{owner}},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantUsers(t, s, tenantID, byName, tc.filter, tc.want) })
	}
}

// testExtrasSort sorts by an extras field, alone and before a column, in
// both directions, and walks it with keyset cursors forward and backward
// in pages that split runs of equal values.
func testExtrasSort(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	depts := []string{"Sales", "", "eng", "Eng", "sales", "Sales", "", "ops", "Éx", "Sales", "eng"}
	var users []*d.User
	for i, dept := range depts {
		u := newUser(tn.ID, fmt.Sprintf("u%02d", i), "", func(u *d.User) {
			u.LastName = []string{"Lee", "Adams"}[i%2]
			if dept != "" {
				u.Extras = map[string]string{"department": dept, "x": "y"}
			}
		})
		users = append(users, mustCreate(t, s, u))
	}
	dept := d.ExtraField("department")
	key := func(u *d.User) string { return u.Extras["department"] }
	sorts := []struct {
		name string
		sort []d.SortKey
		want []string
	}{
		{"asc", []d.SortKey{{Field: dept}}, sorted(users, key, false)},
		{"desc", []d.SortKey{{Field: dept, Desc: true}}, sorted(users, key, true)},
		{"then last name desc", []d.SortKey{{Field: dept}, {Field: d.FieldLastName, Desc: true}}, func() []string {
			us := slices.Clone(users)
			slices.SortStableFunc(us, func(a, b *d.User) int {
				if c := strings.Compare(key(a), key(b)); c != 0 {
					return c
				}
				if c := strings.Compare(b.LastName, a.LastName); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			return ids(us)
		}()},
		{"odd key", []d.SortKey{{Field: d.ExtraField(`a"b\c`)}}, sorted(users, func(*d.User) string { return "" }, false)},
		// EmptyLast: absent values after the others ascending, before
		// them descending (the exact reverse).
		{"asc, empty last", []d.SortKey{{Field: dept, EmptyLast: true}}, emptyLast(users, key, false)},
		{"desc, empty first", []d.SortKey{{Field: dept, Desc: true, EmptyLast: true}}, emptyLast(users, key, true)},
		{"column, empty last", []d.SortKey{{Field: d.FieldExternalID, EmptyLast: true}}, emptyLast(users, func(u *d.User) string { return u.ExternalID }, false)},
	}
	for _, tc := range sorts {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListUsers(ctx, tn.ID, d.UserQuery{Sort: tc.sort, Total: true})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if got := ids(page.Users); !slices.Equal(got, tc.want) {
				t.Errorf("got order %v, want %v", got, tc.want)
			}
			if page.Total != len(users) {
				t.Errorf("got Total %d, want %d", page.Total, len(users))
			}
			page, err = s.ListUsers(ctx, tn.ID, d.UserQuery{Sort: tc.sort, Offset: 3, Limit: 4})
			if err != nil {
				t.Fatalf("ListUsers with offset: %v", err)
			}
			if got := ids(page.Users); !slices.Equal(got, tc.want[3:7]) {
				t.Errorf("offset 3 limit 4: got %v, want %v", got, tc.want[3:7])
			}
			for _, limit := range []int{1, 2, 3, 20} {
				if got := walk(t, s, tn.ID, tc.sort, limit, false, nil); !slices.Equal(got, tc.want) {
					t.Errorf("forward, limit %d: got %v, want %v", limit, got, tc.want)
				}
				if got := walk(t, s, tn.ID, tc.sort, limit, true, nil); !slices.Equal(got, tc.want) {
					t.Errorf("backward, limit %d: got %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	t.Run("with a filter on the same key", func(t *testing.T) {
		q := d.UserQuery{Sort: []d.SortKey{{Field: dept, Desc: true}}, Filter: fold(dept, d.OpEq, "SALES"), Total: true, Limit: 2}
		var want []string
		for _, id := range sorted(users, key, true) {
			for _, u := range users {
				if u.ID == id && strings.EqualFold(key(u), "sales") {
					want = append(want, id)
				}
			}
		}
		var got []string
		for range 10 {
			page, err := s.ListUsers(ctx, tn.ID, q)
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if page.Total != len(want) {
				t.Errorf("got Total %d, want %d", page.Total, len(want))
			}
			got = append(got, ids(page.Users)...)
			if !page.HasMore {
				break
			}
			c := d.CursorFor(page.Users[len(page.Users)-1], q.Sort)
			q.After = &c
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

// emptyLast is sorted with the users whose key is empty moved after the
// others (before them when desc), each group in the sorted order.
func emptyLast(users []*d.User, key func(*d.User) string, desc bool) []string {
	us := slices.Clone(users)
	slices.SortStableFunc(us, func(a, b *d.User) int {
		ea, eb := key(a) == "", key(b) == ""
		c := 0
		switch {
		case ea && !eb:
			c = 1
		case !ea && eb:
			c = -1
		default:
			c = strings.Compare(key(a), key(b))
		}
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ids(us)
}
