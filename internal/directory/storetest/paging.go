package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
)

// pagingFixture creates n users whose last names repeat (so the id
// tie-breaker matters) and whose e-mails sort differently from their
// usernames.
func pagingFixture(t *testing.T, s d.Store, n int) (string, []*d.User) {
	t.Helper()
	tn := mustTenant(t, s, "acme")
	lasts := []string{"Lee", "adams", "Lee", "Zhu", "adams"}
	var users []*d.User
	for i := range n {
		u := newUser(tn.ID, fmt.Sprintf("User%02d", i), fmt.Sprintf("%c%02d@example.com", 'Z'-i, i), func(u *d.User) {
			u.LastName = lasts[i%len(lasts)]
		})
		users = append(users, mustCreate(t, s, u))
	}
	return tn.ID, users
}

// sorted returns users ordered by key (then id), as the store must.
func sorted(users []*d.User, key func(*d.User) string, desc bool) []string {
	us := slices.Clone(users)
	slices.SortStableFunc(us, func(a, b *d.User) int {
		c := strings.Compare(key(a), key(b))
		if desc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.ID, b.ID))
	})
	return ids(us)
}

func testSortAndOffset(t *testing.T, s d.Store) {
	ctx := t.Context()
	tenantID, users := pagingFixture(t, s, 7)
	last := func(u *d.User) string { return u.LastName }
	tests := []struct {
		name string
		sort []d.SortKey
		want []string
	}{
		{"default is id", nil, sorted(users, func(u *d.User) string { return u.ID }, false)},
		{"last name", []d.SortKey{{Field: d.FieldLastName}}, sorted(users, last, false)},
		{"last name desc", []d.SortKey{{Field: d.FieldLastName, Desc: true}}, sorted(users, last, true)},
		{"email by its norm", []d.SortKey{{Field: d.FieldEmail}}, sorted(users, func(u *d.User) string { return u.EmailNorm }, false)},
		{"username desc", []d.SortKey{{Field: d.FieldUsername, Desc: true}}, sorted(users, func(u *d.User) string { return u.UsernameNorm }, true)},
		{"created desc", []d.SortKey{{Field: d.FieldCreatedAt, Desc: true}}, sorted(users, func(u *d.User) string { return fmt.Sprint(u.CreatedAt.UnixMicro()) }, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListUsers(ctx, tenantID, d.UserQuery{Sort: tc.sort})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if got := ids(page.Users); !slices.Equal(got, tc.want) {
				t.Errorf("got order %v, want %v", got, tc.want)
			}
			if page.Total != -1 || page.HasMore {
				t.Errorf("got Total %d HasMore %v, want -1 false", page.Total, page.HasMore)
			}
			page, err = s.ListUsers(ctx, tenantID, d.UserQuery{Sort: tc.sort, Offset: 2, Limit: 3, Total: true})
			if err != nil {
				t.Fatalf("ListUsers with offset: %v", err)
			}
			if got := ids(page.Users); !slices.Equal(got, tc.want[2:5]) {
				t.Errorf("offset 2 limit 3: got %v, want %v", got, tc.want[2:5])
			}
			if page.Total != 7 || !page.HasMore {
				t.Errorf("offset 2 limit 3: got Total %d HasMore %v, want 7 true", page.Total, page.HasMore)
			}
			page, _ = s.ListUsers(ctx, tenantID, d.UserQuery{Sort: tc.sort, Offset: 5, Limit: 3})
			if got := ids(page.Users); !slices.Equal(got, tc.want[5:]) || page.HasMore {
				t.Errorf("last page: got %v HasMore %v, want %v false", got, page.HasMore, tc.want[5:])
			}
		})
	}
}

// walk pages through the whole listing with keyset cursors and returns
// the ids seen, failing on a page that breaks the paging contract.
func walk(t *testing.T, s d.Store, tenantID string, sort []d.SortKey, limit int, backward bool, between func()) []string {
	t.Helper()
	var seen []string
	var after *d.Cursor
	if backward {
		// Start past the end: a cursor after every row, in this sort.
		full, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Sort: sort})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		c := d.CursorFor(full.Users[len(full.Users)-1], sort)
		page, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Sort: sort, After: &c, Limit: limit})
		if err != nil || len(page.Users) != 0 || page.HasMore {
			t.Fatalf("page after the last row: got %v, %v, want empty", page, err)
		}
		after = &c
		seen = append(seen, c.ID) // the walk starts from the last row itself
	}
	for range 100 {
		page, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Sort: sort, Limit: limit, After: after, Backward: backward})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if len(page.Users) > limit {
			t.Fatalf("got %d users, want at most %d", len(page.Users), limit)
		}
		if len(page.Users) == 0 {
			break
		}
		got := ids(page.Users)
		if backward {
			seen = append(slices.Clone(got), seen...)
			c := d.CursorFor(page.Users[0], sort)
			after = &c
		} else {
			seen = append(seen, got...)
			c := d.CursorFor(page.Users[len(page.Users)-1], sort)
			after = &c
		}
		if !page.HasMore {
			break
		}
		if between != nil {
			between()
		}
	}
	return seen
}

func testKeyset(t *testing.T, s d.Store) {
	tenantID, users := pagingFixture(t, s, 8)
	sorts := []struct {
		name string
		sort []d.SortKey
		want []string
	}{
		{"id", nil, sorted(users, func(u *d.User) string { return u.ID }, false)},
		{"last name", []d.SortKey{{Field: d.FieldLastName}}, sorted(users, func(u *d.User) string { return u.LastName }, false)},
		{"last name desc", []d.SortKey{{Field: d.FieldLastName, Desc: true}}, sorted(users, func(u *d.User) string { return u.LastName }, true)},
		{"email", []d.SortKey{{Field: d.FieldEmail}}, sorted(users, func(u *d.User) string { return u.EmailNorm }, false)},
		{"last name desc then created", []d.SortKey{{Field: d.FieldLastName, Desc: true}, {Field: d.FieldCreatedAt}}, func() []string {
			us := slices.Clone(users)
			slices.SortStableFunc(us, func(a, b *d.User) int {
				return cmp.Or(-strings.Compare(a.LastName, b.LastName), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
			})
			return ids(us)
		}()},
	}
	for _, tc := range sorts {
		t.Run(tc.name, func(t *testing.T) {
			// 3 pages unevenly; 20 in one page. Limit 1, the most
			// round trips, only on the sort with mixed directions.
			limits := []int{3, 20}
			if len(tc.sort) > 1 {
				limits = append(limits, 1)
			}
			for _, limit := range limits {
				if got := walk(t, s, tenantID, tc.sort, limit, false, nil); !slices.Equal(got, tc.want) {
					t.Errorf("forward, limit %d: got %v, want %v", limit, got, tc.want)
				}
				if got := walk(t, s, tenantID, tc.sort, limit, true, nil); !slices.Equal(got, tc.want) {
					t.Errorf("backward, limit %d: got %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	t.Run("backward page is in forward order", func(t *testing.T) {
		sort := []d.SortKey{{Field: d.FieldLastName}}
		want := sorted(users, func(u *d.User) string { return u.LastName }, false)
		pos := slices.Index(ids(users), want[6])
		c := d.CursorFor(users[pos], sort)
		page, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Sort: sort, After: &c, Backward: true, Limit: 3})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if got := ids(page.Users); !slices.Equal(got, want[3:6]) || !page.HasMore {
			t.Errorf("got %v HasMore %v, want %v true", got, page.HasMore, want[3:6])
		}
	})
}

func testKeysetStable(t *testing.T, s d.Store) {
	ctx := t.Context()
	tenantID, users := pagingFixture(t, s, 12)
	sort := []d.SortKey{{Field: d.FieldLastName}}
	lasts := []string{"Aaron", "Lee", "Zz", "adams", "Mid"}
	var extra []*d.User
	n := 0
	// Between pages: add rows before, among and after the cursor, delete
	// one added earlier, and delete one original (which then no longer
	// exists throughout, so the walk may or may not see it).
	deletedOriginal := users[5]
	between := func() {
		n++
		u := newUser(tenantID, fmt.Sprintf("extra%02d", n), "", func(u *d.User) { u.LastName = lasts[n%len(lasts)] })
		extra = append(extra, mustCreate(t, s, u))
		if len(extra) > 1 {
			gone := extra[len(extra)-2]
			if err := s.DeleteUser(ctx, tenantID, gone.ID, 0, nil); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
		}
		if n == 2 {
			if err := s.DeleteUser(ctx, tenantID, deletedOriginal.ID, 0, nil); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
		}
	}
	for _, backward := range []bool{false, true} {
		seen := walk(t, s, tenantID, sort, 2, backward, between)
		count := map[string]int{}
		for _, id := range seen {
			count[id]++
		}
		for id, c := range count {
			if c > 1 {
				t.Errorf("backward=%v: got user %s %d times, want once", backward, id, c)
			}
		}
		for _, u := range users {
			if u.ID != deletedOriginal.ID && count[u.ID] != 1 {
				t.Errorf("backward=%v: got user %s (%s) %d times, want once", backward, u.Username, u.LastName, count[u.ID])
			}
		}
	}
}
