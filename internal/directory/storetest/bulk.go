package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

// RunBulk runs the conformance suite of directory.BulkStore: open must
// return a fresh, empty, migrated store that implements it.
func RunBulk(t *testing.T, open func(t *testing.T) directory.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s directory.Store, bs directory.BulkStore)
	}{
		{"RoundTrip", testBulkRoundTrip},
		{"ClaimHeld", testBulkClaimHeld},
		{"InBatchOrder", testBulkInBatchOrder},
		{"Keys", testBulkKeys},
		{"PartnerCodes", testBulkPartnerCodes},
		{"TenantIsolation", testBulkTenantIsolation},
		{"RaceWithCreates", testBulkRaceWithCreates},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			bs, ok := s.(directory.BulkStore)
			if !ok {
				t.Fatalf("%T does not implement directory.BulkStore", s)
			}
			tc.fn(t, s, bs)
		})
	}
}

// bulkRow returns u as the Service hands it to InsertUsers, encoded.
func bulkRow(t *testing.T, bs directory.BulkStore, u *directory.User, key directory.Field) *directory.BulkRow {
	t.Helper()
	if u.PartnerCode == "" {
		u.PartnerCode = fmt.Sprintf("P%s", u.ID[len(u.ID)-12:])
	}
	r := &directory.BulkRow{User: u, Claims: claimsOf(u), Key: key, Change: &directory.Change{Audit: directory.AuditEntry{
		ID: directory.NewID(), TenantID: u.TenantID, At: u.CreatedAt, Actor: directory.ActorAdmin,
		Action: directory.ActionUserCreate, TargetType: directory.TargetUser, TargetID: u.ID, Fields: []string{"username"},
	}}}
	if err := bs.EncodeBulk(r); err != nil {
		t.Fatalf("EncodeBulk(%s): %v", u.Username, err)
	}
	return r
}

func insertBulk(t *testing.T, bs directory.BulkStore, tenantID string, rows ...*directory.BulkRow) {
	t.Helper()
	if err := bs.InsertUsers(t.Context(), tenantID, rows); err != nil {
		t.Fatalf("InsertUsers: %v", err)
	}
}

// wantInserted checks that r was inserted and reads back as r.User.
func wantInserted(t *testing.T, s directory.Store, r *directory.BulkRow) {
	t.Helper()
	if r.Conflict != nil || r.KeyHolders != 0 {
		t.Fatalf("row %s: got conflict %+v, key holders %d (%s), want inserted", r.User.Username, r.Conflict, r.KeyHolders, r.KeyHolder)
	}
	if d := userDiff(mustGet(t, s, r.User.TenantID, r.User.ID), r.User); d != "" {
		t.Errorf("row %s read back: %s", r.User.Username, d)
	}
}

// wantNotWritten checks that nothing of r is stored: no user, no claim.
func wantNotWritten(t *testing.T, s directory.Store, r *directory.BulkRow) {
	t.Helper()
	if _, err := s.GetUser(t.Context(), r.User.TenantID, r.User.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("rejected row %s: GetUser got err %v, want ErrNotFound", r.User.Username, err)
	}
	for _, c := range r.Claims {
		if u, err := s.FindUserByClaim(t.Context(), r.User.TenantID, c); err == nil && u.ID == r.User.ID {
			t.Errorf("rejected row %s still holds claim %+v", r.User.Username, c)
		}
	}
}

func testBulkRoundTrip(t *testing.T, s directory.Store, bs directory.BulkStore) {
	tn := mustTenant(t, s, "acme")
	full := fullUser(tn.ID)
	var rows []*directory.BulkRow
	rows = append(rows, bulkRow(t, bs, full, directory.FieldUsername))
	// Enough rows for several multi-row statements of each table.
	for i := range 700 {
		u := newUser(tn.ID, fmt.Sprintf("user%04d", i), fmt.Sprintf("user%04d@example.com", i), func(u *directory.User) {
			u.Phone = fmt.Sprintf("+1415556%04d", i)
			u.Values = map[directory.ValueKind][]directory.Value{directory.KindEmail: {{Value: u.Email, Primary: true}}}
		})
		rows = append(rows, bulkRow(t, bs, u, directory.FieldUsername))
	}
	insertBulk(t, bs, tn.ID, rows...)
	for _, r := range rows {
		wantInserted(t, s, r)
	}
	// Claims are the database's: a later create of a taken e-mail fails.
	dup := newUser(tn.ID, "dup", "user0007@example.com")
	wantClaimConflict(t, s.CreateUser(t.Context(), dup, claimsOf(dup), nil),
		directory.Claim{Kind: directory.ClaimEmail, Value: "user0007@example.com"}, rows[8].User.ID)
	// Every inserted row has its audit entry.
	entries, err := s.ListAudit(t.Context(), tn.ID, directory.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(rows) {
		t.Errorf("audit entries: got %d, want %d", len(entries), len(rows))
	}
}

func testBulkClaimHeld(t *testing.T, s directory.Store, bs directory.BulkStore) {
	tn := mustTenant(t, s, "acme")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", "ann@example.com"))
	a := bulkRow(t, bs, newUser(tn.ID, "a", "a@example.com"), directory.FieldUsername)
	// b's username is new, its e-mail ann's: b is rejected whole, with
	// its aliases and values, and its username stays free.
	b := bulkRow(t, bs, newUser(tn.ID, "b", "ANN@example.com", func(u *directory.User) {
		u.Aliases = []directory.Alias{{ID: directory.NewID(), Type: "CUSTOM", Value: "bee"}}
		u.Values = map[directory.ValueKind][]directory.Value{directory.KindEmail: {{Value: u.Email, Primary: true}}}
	}), directory.FieldUsername)
	c := bulkRow(t, bs, newUser(tn.ID, "c", "c@example.com"), directory.FieldUsername)
	insertBulk(t, bs, tn.ID, a, b, c)
	wantInserted(t, s, a)
	wantInserted(t, s, c)
	if b.Conflict == nil || b.Conflict.Claim != (directory.Claim{Kind: directory.ClaimEmail, Value: "ann@example.com"}) || b.Conflict.ExistingID != ann.ID {
		t.Fatalf("row b: got conflict %+v, want e-mail held by ann %s", b.Conflict, ann.ID)
	}
	wantNotWritten(t, s, b)
	bee := newUser(tn.ID, "bee", "bee@example.com")
	if err := s.CreateUser(t.Context(), bee, claimsOf(bee), nil); err != nil {
		t.Errorf("create with the rejected row's alias as username: %v", err)
	}
}

// testBulkInBatchOrder: rows of one batch behave as if created one after
// the other: an earlier row wins a claim, and a row that was rejected
// does not keep a later row from a claim it released.
func testBulkInBatchOrder(t *testing.T, s directory.Store, bs directory.BulkStore) {
	tn := mustTenant(t, s, "acme")
	held := mustCreate(t, s, newUser(tn.ID, "held", "held@example.com"))
	first := bulkRow(t, bs, newUser(tn.ID, "first", "same@example.com"), directory.FieldUsername)
	second := bulkRow(t, bs, newUser(tn.ID, "second", "SAME@example.com"), directory.FieldUsername)
	// loser takes username "x" but loses its e-mail to held; later
	// wants username "x" and must get it.
	loser := bulkRow(t, bs, newUser(tn.ID, "x", "held@example.com"), directory.FieldUsername)
	later := bulkRow(t, bs, newUser(tn.ID, "X", "later@example.com"), "")
	insertBulk(t, bs, tn.ID, first, second, loser, later)
	wantInserted(t, s, first)
	if second.Conflict == nil || second.Conflict.ExistingID != first.User.ID {
		t.Errorf("second: got conflict %+v, want the e-mail held by first %s", second.Conflict, first.User.ID)
	}
	wantNotWritten(t, s, second)
	if loser.Conflict == nil || loser.Conflict.ExistingID != held.ID {
		t.Errorf("loser: got conflict %+v, want the e-mail held by %s", loser.Conflict, held.ID)
	}
	wantNotWritten(t, s, loser)
	wantInserted(t, s, later)
}

func testBulkKeys(t *testing.T, s directory.Store, bs directory.BulkStore) {
	tn := mustTenant(t, s, "loose")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", "", func(u *directory.User) { u.ExternalID = "hr-1" }))
	mustCreate(t, s, newUser(tn.ID, "", "", func(u *directory.User) { u.ExternalID = "hr-2" }))
	mustCreate(t, s, newUser(tn.ID, "", "", func(u *directory.User) { u.ExternalID = "hr-2" }))

	byID := bulkRow(t, bs, newUser(tn.ID, "other-name", "", func(u *directory.User) { u.ID = ann.ID }), directory.FieldID)
	byName := bulkRow(t, bs, newUser(tn.ID, "ANN", ""), directory.FieldUsername)
	byExt := bulkRow(t, bs, newUser(tn.ID, "", "", func(u *directory.User) { u.ExternalID = "hr-1" }), directory.FieldExternalID)
	twice := bulkRow(t, bs, newUser(tn.ID, "", "", func(u *directory.User) { u.ExternalID = "hr-2" }), directory.FieldExternalID)
	fresh := bulkRow(t, bs, newUser(tn.ID, "", "", func(u *directory.User) { u.ExternalID = "hr-3" }), directory.FieldExternalID)
	// A key an earlier row of the same batch holds is held too.
	again := bulkRow(t, bs, newUser(tn.ID, "", "", func(u *directory.User) { u.ExternalID = "hr-3" }), directory.FieldExternalID)
	insertBulk(t, bs, tn.ID, byID, byName, byExt, twice, fresh, again)
	for _, tc := range []struct {
		name    string
		r       *directory.BulkRow
		holder  string
		holders int
	}{
		{"id", byID, ann.ID, 1}, {"username", byName, ann.ID, 1}, {"external id", byExt, ann.ID, 1},
		{"external id of two users", twice, "", 2}, {"external id of an earlier row", again, fresh.User.ID, 1},
	} {
		if tc.r.KeyHolders != tc.holders || (tc.holder != "" && tc.r.KeyHolder != tc.holder) {
			t.Errorf("%s: got key held by %q (%d holders), want %q (%d)", tc.name, tc.r.KeyHolder, tc.r.KeyHolders, tc.holder, tc.holders)
		}
	}
	if twice.KeyHolder == "" {
		t.Errorf("external id of two users: no holder named")
	}
	wantInserted(t, s, fresh)
	for _, r := range []*directory.BulkRow{byName, byExt, twice, again} {
		wantNotWritten(t, s, r)
	}
	if u := mustGet(t, s, tn.ID, ann.ID); u.Username != "ann" {
		t.Errorf("the user holding the id was changed: username %q", u.Username)
	}
}

func testBulkPartnerCodes(t *testing.T, s directory.Store, bs directory.BulkStore) {
	tn := mustTenant(t, s, "acme")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", "", func(u *directory.User) { u.PartnerCode = "TAKEN001" }))
	drawn := 0
	redrawn := bulkRow(t, bs, newUser(tn.ID, "drawn", "", func(u *directory.User) { u.PartnerCode = "TAKEN001" }), directory.FieldUsername)
	redrawn.RedrawCode = func() string { drawn++; return fmt.Sprintf("NEW%05d", drawn) }
	given := bulkRow(t, bs, newUser(tn.ID, "given", "", func(u *directory.User) { u.PartnerCode = "TAKEN001" }), directory.FieldUsername)
	insertBulk(t, bs, tn.ID, redrawn, given)
	if drawn != 1 || redrawn.User.PartnerCode != "NEW00001" {
		t.Errorf("generated code: drawn %d times, code %q, want 1 and NEW00001", drawn, redrawn.User.PartnerCode)
	}
	wantInserted(t, s, redrawn)
	if u, err := s.FindUserByClaim(t.Context(), tn.ID, directory.Claim{Kind: directory.ClaimPartnerCode, Value: "NEW00001"}); err != nil || u.ID != redrawn.User.ID {
		t.Errorf("the redrawn code's claim: got %v, %v", u, err)
	}
	if given.Conflict == nil || given.Conflict.Claim.Kind != directory.ClaimPartnerCode || given.Conflict.ExistingID != ann.ID {
		t.Errorf("given code: got conflict %+v, want partner_code held by ann", given.Conflict)
	}
	wantNotWritten(t, s, given)
}

func testBulkTenantIsolation(t *testing.T, s directory.Store, bs directory.BulkStore) {
	a, b := mustTenant(t, s, "a"), mustTenant(t, s, "b")
	ann := mustCreate(t, s, newUser(a.ID, "ann", "ann@example.com", func(u *directory.User) { u.ExternalID = "hr-1" }))
	// The same username, e-mail, external id and even id in another
	// tenant is no conflict and no held key.
	row := bulkRow(t, bs, newUser(b.ID, "ann", "ann@example.com", func(u *directory.User) { u.ExternalID = "hr-1"; u.ID = ann.ID }), directory.FieldID)
	insertBulk(t, bs, b.ID, row)
	wantInserted(t, s, row)
	// A row of another tenant is refused before anything is written.
	stray := bulkRow(t, bs, newUser(a.ID, "stray", "stray@example.com"), directory.FieldUsername)
	if err := bs.InsertUsers(t.Context(), b.ID, []*directory.BulkRow{stray}); err == nil {
		t.Errorf("InsertUsers of a row of tenant a into tenant b: got nil error")
	}
	wantNotWritten(t, s, stray)
}

// testBulkRaceWithCreates: batches inserting e-mails that single creates
// take at the same time. The database decides each e-mail once: every
// e-mail ends with exactly one user, each bulk row is stored with all its
// claims or not at all, and every loser, on either side, names the winner.
func testBulkRaceWithCreates(t *testing.T, s directory.Store, bs directory.BulkStore) {
	const n, batches = 300, 3
	tn := mustTenant(t, s, "acme")
	email := func(i int) string { return fmt.Sprintf("race%03d@example.com", i) }
	var rows []*directory.BulkRow
	for i := range n {
		rows = append(rows, bulkRow(t, bs, newUser(tn.ID, fmt.Sprintf("bulk%03d", i), email(i)), directory.FieldUsername))
	}
	singles := make([]*directory.User, n)
	errs := make([]error, n)
	for i := range singles {
		// In reverse order, so that both sides meet in the middle.
		singles[i] = newUser(tn.ID, fmt.Sprintf("single%03d", i), email(n-1-i))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	bulkErrs := make([]error, batches)
	for b := range batches {
		wg.Go(func() {
			<-start
			per := n / batches
			bulkErrs[b] = bs.InsertUsers(t.Context(), tn.ID, rows[b*per:(b+1)*per])
		})
	}
	for w := range 4 {
		wg.Go(func() {
			<-start
			for i := w; i < n; i += 4 {
				errs[i] = s.CreateUser(t.Context(), singles[i], claimsOf(singles[i]), nil)
			}
		})
	}
	close(start)
	wg.Wait()
	for b, err := range bulkErrs {
		if err != nil {
			t.Fatalf("InsertUsers batch %d: %v", b, err)
		}
	}
	holder := map[string]string{} // e-mail -> id of the user that won it
	for _, r := range rows {
		if r.Conflict == nil {
			holder[r.User.Email] = r.User.ID
		}
	}
	for i, u := range singles {
		if errs[i] == nil {
			if h, ok := holder[u.Email]; ok {
				t.Fatalf("e-mail %s created twice: bulk %s and single %s", u.Email, h, u.ID)
			}
			holder[u.Email] = u.ID
		}
	}
	t.Logf("bulk rows stored: %d of %d; the rest lost to single creates", countStored(rows), n)
	for i := range n {
		if holder[email(i)] == "" {
			t.Errorf("e-mail %s: nobody holds it", email(i))
		}
	}
	for _, r := range rows {
		if r.Conflict == nil {
			wantInserted(t, s, r)
			continue
		}
		if r.Conflict.Claim.Kind != directory.ClaimEmail || r.Conflict.ExistingID != holder[r.User.Email] {
			t.Errorf("bulk row %s: got conflict %+v, want its e-mail held by %s", r.User.Username, r.Conflict, holder[r.User.Email])
		}
		wantNotWritten(t, s, r)
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		var cc *directory.ClaimConflict
		if !errors.As(err, &cc) || cc.ExistingID != holder[singles[i].Email] {
			t.Errorf("single %d: got err %v, want a conflict naming %s", i, err, holder[singles[i].Email])
		}
	}
	page, err := s.ListUsers(t.Context(), tn.ID, directory.UserQuery{Total: true})
	if err != nil || page.Total != n {
		t.Errorf("after the race: %v users (err %v), want %d, one per e-mail", page.Total, err, n)
	}
}

func countStored(rows []*directory.BulkRow) int {
	n := 0
	for _, r := range rows {
		if r.Conflict == nil && r.KeyHolders == 0 {
			n++
		}
	}
	return n
}
