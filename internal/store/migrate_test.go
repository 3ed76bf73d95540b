package store_test

import (
	"errors"
	"reflect"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// v1User is a users row as schema 0001 held it: single-valued contact
// fields only, the SCIM address type among the extras.
type v1User struct {
	id, username                         string
	email, emailNorm                     string
	phone, phoneNorm, mobile, mobileNorm string
	line1, line2, city, state, zip       string
	country, extras                      string
}

// TestMigrate0002 builds a database at schema 0001 with rows written the
// way 0001 binaries wrote them, migrates it, and checks what 0002 promises:
// every user's value lists are the ones the Service derives from its
// single-valued fields, the address type moved from extras into the
// address value, and duplicate group names were renamed so that the new
// unique index holds.
func TestMigrate0002(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			testMigrate0002(t, backend)
		})
	}
}

func testMigrate0002(t *testing.T, backend string) {
	ctx := t.Context()
	s, err := store.Open(ctx, testdb.URL(t, backend), store.Options{Keyring: testdb.Keyring(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if n, err := store.MigrateToForTest(ctx, s, 1); err != nil || n != 1 {
		t.Fatalf("migrate to 0001: got %d, %v, want 1, nil", n, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if err := store.ExecForTest(ctx, s, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tenantA, tenantB := d.NewID(), d.NewID()
	exec(`INSERT INTO tenants (id, name, created_at) VALUES ($1, 'a', 1), ($2, 'b', 2)`, tenantA, tenantB)

	users := []v1User{
		{id: d.NewID(), username: "full", email: "Ann@Example.com", emailNorm: "ann@example.com",
			phone: "+1 415 555 0100", phoneNorm: "+14155550100", mobile: "(415) 555-0199", mobileNorm: "+14155550199",
			line1: "1 Main St", line2: "Apt 2", city: "Boston", state: "MA", zip: "02101", country: "US",
			extras: `{"addressType":"home","title":"Eng"}`},
		{id: d.NewID(), username: "mobile-only", mobile: "415 555 0199", mobileNorm: "+14155550199",
			city: "Austin", extras: `{"addressType":"work"}`},
		{id: d.NewID(), username: "line2-only", phone: "n/a", line2: "Rear", extras: `{"addressType":""}`},
		{id: d.NewID(), username: "bare"},
		{id: d.NewID(), username: "type-no-address", email: "x@y.example", emailNorm: "x@y.example",
			extras: `{"addressType":"other","nick":"X"}`},
	}
	for i, u := range users {
		exec(`INSERT INTO users (tenant_id, id, username, username_norm, email, email_norm, phone, phone_norm, mobile, mobile_norm,
			addr_line1, addr_line2, addr_city, addr_state, addr_zip, addr_country, extras, state, version, created_at, updated_at)
			VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'ACTIVE', 1, $17, $17)`,
			tenantA, u.id, u.username, u.email, u.emailNorm, u.phone, u.phoneNorm, u.mobile, u.mobileNorm,
			u.line1, u.line2, u.city, u.state, u.zip, u.country, u.extras, int64(100+i))
	}

	// Groups: three spellings of one name in tenant a (the oldest keeps
	// it), two of another created in the same microsecond (the smaller id
	// keeps it), and the name again in tenant b, where it is unique.
	g := map[string]string{}
	for _, k := range []string{"Admins", "admins", "ADMINS", "dupA", "dupB", "Solo", "b-admins"} {
		g[k] = d.NewID()
	}
	if g["dupA"] > g["dupB"] {
		g["dupA"], g["dupB"] = g["dupB"], g["dupA"]
	}
	for _, row := range []struct {
		tenant, key, name string
		created           int64
	}{
		{tenantA, "ADMINS", "ADMINS", 30}, {tenantA, "Admins", "Admins", 10}, {tenantA, "admins", "admins", 20},
		{tenantA, "dupB", "Dup", 40}, {tenantA, "dupA", "dup", 40}, {tenantA, "Solo", "Solo", 50},
		{tenantB, "b-admins", "admins", 60},
	} {
		exec(`INSERT INTO groups (tenant_id, id, display_name, display_name_norm, version, created_at, updated_at)
			VALUES ($1, $2, $3, lower($3), 1, $4, $4)`, row.tenant, g[row.key], row.name, row.created)
	}
	exec(`INSERT INTO group_members (tenant_id, group_id, user_id) VALUES ($1, $2, $3)`, tenantA, g["admins"], users[0].id)

	if n, err := s.Migrate(ctx); err != nil || n < 1 {
		t.Fatalf("Migrate: got %d, %v, want the rest applied", n, err)
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema: %v", err)
	}

	work, mobile := d.TypeWork, d.TypeMobile
	want := map[string]struct {
		values map[d.ValueKind][]d.Value
		extras map[string]string
	}{
		"full": {map[d.ValueKind][]d.Value{
			d.KindEmail: {{Value: "Ann@Example.com", Type: work, Primary: true}},
			d.KindPhone: {{Value: "+1 415 555 0100", Type: work, Primary: true}, {Value: "(415) 555-0199", Type: mobile}},
			d.KindAddress: {{Type: "home", Primary: true, Street: "1 Main St\nApt 2", Locality: "Boston", Region: "MA",
				PostalCode: "02101", Country: "US"}},
		}, map[string]string{"title": "Eng"}},
		"mobile-only": {map[d.ValueKind][]d.Value{
			d.KindPhone:   {{Value: "415 555 0199", Type: mobile, Primary: true}},
			d.KindAddress: {{Type: work, Primary: true, Locality: "Austin"}},
		}, nil},
		"line2-only": {map[d.ValueKind][]d.Value{
			d.KindPhone:   {{Value: "n/a", Type: work, Primary: true}},
			d.KindAddress: {{Type: work, Primary: true, Street: "\nRear"}},
		}, nil},
		"bare":            {nil, nil},
		"type-no-address": {map[d.ValueKind][]d.Value{d.KindEmail: {{Value: "x@y.example", Type: work, Primary: true}}}, map[string]string{"nick": "X"}},
	}
	svc := d.NewService(s, d.Options{})
	for _, u := range users {
		got, err := s.GetUser(ctx, tenantA, u.id)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", u.username, err)
		}
		w := want[u.username]
		if !reflect.DeepEqual(got.Values, w.values) {
			t.Errorf("%s: got values %+v, want %+v", u.username, got.Values, w.values)
		}
		if !reflect.DeepEqual(got.Extras, w.extras) {
			t.Errorf("%s: got extras %v, want %v", u.username, got.Extras, w.extras)
		}

		// The same single-valued fields written through the Service
		// today give the same lists (the address type aside, which only
		// the migration reads from the old extras).
		twin, err := svc.CreateUser(ctx, d.Principal{TenantID: tenantB}, &d.User{
			Email: got.Email, Phone: got.Phone, Mobile: got.Mobile, Address: got.Address,
		}, d.Rules{})
		if err != nil {
			t.Fatalf("%s: create twin: %v", u.username, err)
		}
		derived := twin.Values
		if as := derived[d.KindAddress]; len(as) == 1 && len(got.Values[d.KindAddress]) == 1 {
			as[0].Type = got.Values[d.KindAddress][0].Type
		}
		if !reflect.DeepEqual(got.Values, derived) {
			t.Errorf("%s: migrated values %+v differ from the Service's %+v", u.username, got.Values, derived)
		}
	}

	// value_norm as Go computes it: lower-cased e-mail, normalised phone,
	// lower-cased text of a phone without digits.
	rows, err := store.QueryStringsForTest(ctx, s,
		`SELECT v.value, v.value_norm FROM user_values v WHERE v.tenant_id = $1 AND v.kind IN ('email', 'phone') ORDER BY v.value`, tenantA)
	if err != nil {
		t.Fatalf("read value_norm: %v", err)
	}
	wantNorms := [][]string{
		{"(415) 555-0199", "+14155550199"}, {"+1 415 555 0100", "+14155550100"}, {"415 555 0199", "+14155550199"},
		{"Ann@Example.com", "ann@example.com"}, {"n/a", "n/a"}, {"x@y.example", "x@y.example"},
	}
	if !reflect.DeepEqual(rows, wantNorms) {
		t.Errorf("value_norm: got %q, want %q", rows, wantNorms)
	}
	// A filter served by the new index finds the migrated e-mail.
	page, err := s.ListUsers(ctx, tenantA, d.UserQuery{Filter: d.Any{Kind: d.KindEmail, X: d.Cmp{Field: d.FieldValue, Op: d.OpEq, Value: "ANN@example.COM", Fold: true}}})
	if err != nil || len(page.Users) != 1 || page.Users[0].ID != users[0].id {
		t.Errorf("emails.value eq after migration: got %v, %v, want user full", page, err)
	}

	// Groups.
	wantGroups := map[string]struct {
		name    string
		version int64
	}{
		"Admins": {"Admins", 1}, "admins": {"admins (" + g["admins"] + ")", 2}, "ADMINS": {"ADMINS (" + g["ADMINS"] + ")", 2},
		"dupA": {"dup", 1}, "dupB": {"Dup (" + g["dupB"] + ")", 2}, "Solo": {"Solo", 1}, "b-admins": {"admins", 1},
	}
	for key, w := range wantGroups {
		tenant := tenantA
		if key == "b-admins" {
			tenant = tenantB
		}
		got, err := s.GetGroup(ctx, tenant, g[key])
		if err != nil {
			t.Fatalf("GetGroup(%s): %v", key, err)
		}
		if got.DisplayName != w.name || got.Version != w.version {
			t.Errorf("group %s: got %q version %d, want %q version %d", key, got.DisplayName, got.Version, w.name, w.version)
		}
		if w.version == 2 && got.UpdatedAt.UnixMicro() <= 40 {
			t.Errorf("group %s: got updated_at %v, want later than before the rename", key, got.UpdatedAt)
		}
		if key == "admins" && (len(got.Members) != 1 || got.Members[0].UserID != users[0].id) {
			t.Errorf("renamed group lost its members: got %+v", got.Members)
		}
	}
	// The index now holds: a new spelling of a kept name is a conflict.
	err = s.CreateGroup(ctx, &d.Group{ID: d.NewID(), TenantID: tenantA, DisplayName: "SOLO", Version: 1}, nil)
	var ce *d.ConflictError
	if !errors.As(err, &ce) || ce.Field != d.FieldDisplayName || ce.ExistingID != g["Solo"] {
		t.Errorf("CreateGroup(SOLO) after migration: got %v, want a display name conflict with Solo", err)
	}
}
