package storetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
)

func newGroup(tenantID, name string, members ...*d.User) *d.Group {
	now := stamp()
	g := &d.Group{ID: d.NewID(), TenantID: tenantID, DisplayName: name, Version: 1, CreatedAt: now, UpdatedAt: now}
	for _, u := range members {
		g.Members = append(g.Members, d.Member{UserID: u.ID})
	}
	return g
}

// memberView is what GetGroup must return for members: sorted by user id,
// with display names filled in.
func memberView(users ...*d.User) []d.Member {
	ms := []d.Member{}
	for _, u := range users {
		disp := strings.TrimSpace(u.FirstName + " " + u.LastName)
		if disp == "" {
			disp = u.Username
		}
		ms = append(ms, d.Member{UserID: u.ID, Display: disp})
	}
	slices.SortFunc(ms, func(a, b d.Member) int { return strings.Compare(a.UserID, b.UserID) })
	return ms
}

func sortedMembers(ms []d.Member) []d.Member {
	out := append([]d.Member{}, ms...)
	slices.SortFunc(out, func(a, b d.Member) int { return strings.Compare(a.UserID, b.UserID) })
	return out
}

func testGroups(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	other := mustTenant(t, s, "other")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", "", func(u *d.User) { u.FirstName, u.LastName = "Ann", "Lee" }))
	bob := mustCreate(t, s, newUser(tn.ID, "bob", "", func(u *d.User) { u.FirstName = "Bob" }))
	carl := mustCreate(t, s, newUser(tn.ID, "carl", ""))
	stranger := mustCreate(t, s, newUser(other.ID, "stranger", ""))

	g := newGroup(tn.ID, "Admins", ann, bob, ann) // a duplicate member is one member
	g.ExternalID = "ext-g"
	if err := s.CreateGroup(ctx, g, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	got, err := s.GetGroup(ctx, tn.ID, g.ID)
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	want := *g
	want.Members = memberView(ann, bob)
	got.Members = sortedMembers(got.Members)
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("GetGroup: got %+v, want %+v", got, &want)
	}
	_, err = s.GetGroup(ctx, other.ID, g.ID)
	wantErr(t, "GetGroup from another tenant", err, d.ErrNotFound)

	for _, m := range []*d.User{stranger, {ID: d.NewID()}} {
		bad := newGroup(tn.ID, "Bad", ann, m)
		wantErr(t, "CreateGroup with a member outside the tenant", s.CreateGroup(ctx, bad, nil), d.ErrInvalidReference)
		_, err = s.GetGroup(ctx, tn.ID, bad.ID)
		wantErr(t, "GetGroup of the rejected group", err, d.ErrNotFound)
	}

	// Update: rename and replace the member set.
	v2 := *g
	v2.DisplayName, v2.ExternalID, v2.Version, v2.UpdatedAt = "Owners", "", 2, stamp()
	v2.Members = []d.Member{{UserID: carl.ID}, {UserID: bob.ID}}
	if err := s.UpdateGroup(ctx, &v2, 1, nil); err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	got, _ = s.GetGroup(ctx, tn.ID, g.ID)
	if got.DisplayName != "Owners" || got.ExternalID != "" || got.Version != 2 || !got.UpdatedAt.Equal(v2.UpdatedAt) {
		t.Errorf("after UpdateGroup: got %+v, want name Owners, version 2", got)
	}
	if gm, wm := sortedMembers(got.Members), memberView(carl, bob); !reflect.DeepEqual(gm, wm) {
		t.Errorf("members after UpdateGroup: got %+v, want %+v", gm, wm)
	}
	stale := v2
	stale.Version = 3
	wantErr(t, "UpdateGroup with a stale version", s.UpdateGroup(ctx, &stale, 1, nil), d.ErrPrecondition)
	bad := v2
	bad.Version, bad.Members = 3, []d.Member{{UserID: stranger.ID}}
	wantErr(t, "UpdateGroup with a foreign member", s.UpdateGroup(ctx, &bad, 2, nil), d.ErrInvalidReference)
	if got, _ := s.GetGroup(ctx, tn.ID, g.ID); got.Version != 2 || len(got.Members) != 2 {
		t.Errorf("after failed updates: got version %d, %d members, want 2, 2", got.Version, len(got.Members))
	}
	missing := v2
	missing.ID = d.NewID()
	wantErr(t, "UpdateGroup of a missing group", s.UpdateGroup(ctx, &missing, 1, nil), d.ErrNotFound)
	foreign := v2
	foreign.TenantID = other.ID
	wantErr(t, "UpdateGroup from another tenant", s.UpdateGroup(ctx, &foreign, 2, nil), d.ErrNotFound)

	// Deleting a user removes its memberships.
	if err := s.DeleteUser(ctx, tn.ID, carl.ID, 0, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	got, _ = s.GetGroup(ctx, tn.ID, g.ID)
	if gm, wm := sortedMembers(got.Members), memberView(bob); !reflect.DeepEqual(gm, wm) {
		t.Errorf("members after deleting carl: got %+v, want %+v", gm, wm)
	}

	// GroupsOfUsers, ordered by display name.
	z := newGroup(tn.ID, "Zebras", bob)
	a := newGroup(tn.ID, "Ants", bob, ann)
	for _, g := range []*d.Group{z, a} {
		if err := s.CreateGroup(ctx, g, nil); err != nil {
			t.Fatalf("CreateGroup: %v", err)
		}
	}
	refs, err := s.GroupsOfUsers(ctx, tn.ID, []string{bob.ID, ann.ID, carl.ID, stranger.ID})
	if err != nil {
		t.Fatalf("GroupsOfUsers: %v", err)
	}
	wantRefs := map[string][]d.GroupRef{
		bob.ID: {{ID: a.ID, DisplayName: "Ants"}, {ID: g.ID, DisplayName: "Owners"}, {ID: z.ID, DisplayName: "Zebras"}},
		ann.ID: {{ID: a.ID, DisplayName: "Ants"}},
	}
	if len(refs[carl.ID]) != 0 || len(refs[stranger.ID]) != 0 {
		t.Errorf("GroupsOfUsers: got groups for users in none: %v", refs)
	}
	delete(refs, carl.ID)
	delete(refs, stranger.ID)
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Errorf("GroupsOfUsers: got %v, want %v", refs, wantRefs)
	}
	if refs, err := s.GroupsOfUsers(ctx, other.ID, []string{bob.ID}); err != nil || len(refs[bob.ID]) != 0 {
		t.Errorf("GroupsOfUsers from another tenant: got %v, %v, want none", refs, err)
	}

	// Delete with version semantics.
	wantErr(t, "DeleteGroup with a stale version", s.DeleteGroup(ctx, tn.ID, g.ID, 1, nil), d.ErrPrecondition)
	wantErr(t, "DeleteGroup from another tenant", s.DeleteGroup(ctx, other.ID, g.ID, 0, nil), d.ErrNotFound)
	if err := s.DeleteGroup(ctx, tn.ID, g.ID, 2, nil); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err = s.GetGroup(ctx, tn.ID, g.ID)
	wantErr(t, "GetGroup after DeleteGroup", err, d.ErrNotFound)
	wantErr(t, "DeleteGroup again", s.DeleteGroup(ctx, tn.ID, g.ID, 0, nil), d.ErrNotFound)
	if refs, _ := s.GroupsOfUsers(ctx, tn.ID, []string{bob.ID}); len(refs[bob.ID]) != 2 {
		t.Errorf("GroupsOfUsers after DeleteGroup: got %v, want Ants and Zebras", refs[bob.ID])
	}
	mustGet(t, s, tn.ID, bob.ID) // deleting a group leaves its members
}

func testListGroups(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	other := mustTenant(t, s, "other")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", ""))
	bob := mustCreate(t, s, newUser(tn.ID, "bob", ""))
	gs := map[string]*d.Group{}
	for _, g := range []*d.Group{
		newGroup(tn.ID, "admins", ann),
		newGroup(tn.ID, "Builders", ann, bob),
		newGroup(tn.ID, "Cooks"),
		newGroup(tn.ID, "drivers_1", bob),
	} {
		g.ExternalID = "x-" + strings.ToLower(g.DisplayName)
		if err := s.CreateGroup(ctx, g, nil); err != nil {
			t.Fatalf("CreateGroup: %v", err)
		}
		gs[g.DisplayName] = g
	}
	if err := s.CreateGroup(ctx, newGroup(other.ID, "admins"), nil); err != nil {
		t.Fatalf("CreateGroup in another tenant: %v", err)
	}
	names := func(groups []*d.Group) []string {
		out := []string{}
		for _, g := range groups {
			out = append(out, g.DisplayName)
		}
		return out
	}
	byName := []d.SortKey{{Field: d.FieldDisplayName}}
	tests := []struct {
		name string
		q    d.GroupQuery
		want []string
	}{
		{"all by display name, folded", d.GroupQuery{Sort: byName}, []string{"admins", "Builders", "Cooks", "drivers_1"}},
		{"desc", d.GroupQuery{Sort: []d.SortKey{{Field: d.FieldDisplayName, Desc: true}}}, []string{"drivers_1", "Cooks", "Builders", "admins"}},
		{"created desc", d.GroupQuery{Sort: []d.SortKey{{Field: d.FieldCreatedAt, Desc: true}}}, []string{"drivers_1", "Cooks", "Builders", "admins"}},
		{"display name eq", d.GroupQuery{Filter: eq(d.FieldDisplayName, "cooks")}, []string{}},
		{"display name eq folded", d.GroupQuery{Filter: fold(d.FieldDisplayName, d.OpEq, "cooks")}, []string{"Cooks"}},
		{"display name co underscore", d.GroupQuery{Filter: op(d.FieldDisplayName, d.OpCo, "_")}, []string{"drivers_1"}},
		{"display name sw folded", d.GroupQuery{Filter: fold(d.FieldDisplayName, d.OpSw, "B"), Sort: byName}, []string{"Builders"}},
		{"external id", d.GroupQuery{Filter: eq(d.FieldExternalID, "x-admins")}, []string{"admins"}},
		{"member", d.GroupQuery{Filter: eq(d.FieldMemberID, bob.ID), Sort: byName}, []string{"Builders", "drivers_1"}},
		{"no members", d.GroupQuery{Filter: d.Not{X: op(d.FieldMemberID, d.OpPr, nil)}}, []string{"Cooks"}},
		{"id", d.GroupQuery{Filter: eq(d.FieldID, gs["Cooks"].ID)}, []string{"Cooks"}},
		{"created after", d.GroupQuery{Filter: op(d.FieldCreatedAt, d.OpGt, gs["Builders"].CreatedAt), Sort: byName}, []string{"Cooks", "drivers_1"}},
		{"offset", d.GroupQuery{Sort: byName, Offset: 1, Limit: 2}, []string{"Builders", "Cooks"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Total = true
			page, err := s.ListGroups(ctx, tn.ID, tc.q)
			if err != nil {
				t.Fatalf("ListGroups: %v", err)
			}
			got := names(page.Groups)
			want := tc.want
			if tc.q.Sort == nil {
				slices.Sort(got)
				want = slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			wantTotal := len(tc.want)
			if tc.q.Offset > 0 {
				wantTotal = 4
			}
			if page.Total != wantTotal {
				t.Errorf("got Total %d, want %d", page.Total, wantTotal)
			}
		})
	}

	page, err := s.ListGroups(ctx, tn.ID, d.GroupQuery{Filter: eq(d.FieldDisplayName, "Builders")})
	if err != nil || len(page.Groups) != 1 {
		t.Fatalf("ListGroups: got %v, %v, want Builders", page, err)
	}
	if gm, wm := sortedMembers(page.Groups[0].Members), memberView(ann, bob); !reflect.DeepEqual(gm, wm) {
		t.Errorf("listed members: got %+v, want %+v", gm, wm)
	}
	if page.Total != -1 {
		t.Errorf("Total without asking: got %d, want -1", page.Total)
	}
	page, err = s.ListGroups(ctx, tn.ID, d.GroupQuery{Filter: eq(d.FieldDisplayName, "Builders"), NoMembers: true})
	if err != nil || len(page.Groups) != 1 || len(page.Groups[0].Members) != 0 {
		t.Errorf("ListGroups with NoMembers: got %+v, %v, want one group without members", page, err)
	}
}

// wantNameConflict checks that err is a display-name *ConflictError held
// by holder.
func wantNameConflict(t *testing.T, what string, err error, norm, holder string) {
	t.Helper()
	var ce *d.ConflictError
	if !errors.Is(err, d.ErrConflict) || !errors.As(err, &ce) {
		t.Fatalf("%s: got err %v, want a *ConflictError", what, err)
	}
	if ce.Field != d.FieldDisplayName || ce.Value != norm || ce.ExistingID != holder {
		t.Errorf("%s: got conflict on %s %q held by %q, want %s %q held by %q", what, ce.Field, ce.Value, ce.ExistingID, d.FieldDisplayName, norm, holder)
	}
}

// testGroupNameUnique: display names are unique per tenant, compared
// lower-cased, on create and on rename; a group keeps its own name in any
// case, and a freed name can be taken again.
func testGroupNameUnique(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	other := mustTenant(t, s, "other")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", ""))
	admins := newGroup(tn.ID, "Admins", ann)
	if err := s.CreateGroup(ctx, admins, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}

	dup := newGroup(tn.ID, "ADMINS", ann)
	wantNameConflict(t, "CreateGroup(ADMINS)", s.CreateGroup(ctx, dup, nil), "admins", admins.ID)
	_, err := s.GetGroup(ctx, tn.ID, dup.ID)
	wantErr(t, "GetGroup of the rejected group", err, d.ErrNotFound)
	if err := s.CreateGroup(ctx, newGroup(other.ID, "admins"), nil); err != nil {
		t.Errorf("CreateGroup(admins) in another tenant: %v", err)
	}

	ops := newGroup(tn.ID, "Ops")
	if err := s.CreateGroup(ctx, ops, nil); err != nil {
		t.Fatalf("CreateGroup(Ops): %v", err)
	}
	rename := *ops
	rename.DisplayName, rename.Version, rename.UpdatedAt = "aDMINs", 2, stamp()
	wantNameConflict(t, "UpdateGroup(Ops → aDMINs)", s.UpdateGroup(ctx, &rename, 1, nil), "admins", admins.ID)
	if got, err := s.GetGroup(ctx, tn.ID, ops.ID); err != nil || got.DisplayName != "Ops" || got.Version != 1 {
		t.Errorf("Ops after a conflicting rename: got %+v, %v, want unchanged", got, err)
	}
	// The transaction is still usable after the conflict: a write in it
	// that follows must land (on SQLite it may share a group commit).
	rename.DisplayName = "Operations"
	if err := s.UpdateGroup(ctx, &rename, 1, nil); err != nil {
		t.Fatalf("UpdateGroup(Ops → Operations): %v", err)
	}

	self := *admins
	self.DisplayName, self.Version, self.UpdatedAt = "ADMINS", 2, stamp()
	if err := s.UpdateGroup(ctx, &self, 1, nil); err != nil {
		t.Fatalf("UpdateGroup of a group to its own name in another case: %v", err)
	}
	if got, _ := s.GetGroup(ctx, tn.ID, admins.ID); got.DisplayName != "ADMINS" {
		t.Errorf("after the case change: got %q, want ADMINS", got.DisplayName)
	}

	if err := s.DeleteGroup(ctx, tn.ID, admins.ID, 0, nil); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	if err := s.CreateGroup(ctx, newGroup(tn.ID, "admins"), nil); err != nil {
		t.Errorf("CreateGroup of a freed name: %v", err)
	}
}
