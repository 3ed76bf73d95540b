package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
)

// certificate returns a base64-looking value of n characters ending in
// tail: longer than PostgreSQL's index prefix of value_norm, so equality
// must compare more than the prefix.
func certificate(n int, tail string) string {
	const alphabet = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFsdGltb3Jl"
	var b strings.Builder
	for b.Len() < n-len(tail) {
		b.WriteString(alphabet)
	}
	return b.String()[:n-len(tail)] + tail
}

// richValues is every multi-valued attribute with several values, as a
// SCIM client sends them, in step with the single-valued fields of
// fullUser.
func richValues() map[d.ValueKind][]d.Value {
	return map[d.ValueKind][]d.Value{
		d.KindEmail: {
			{Value: "Ann.Lee@Example.COM", Type: "work", Primary: true},
			{Value: "ann@home.example", Type: "home", Display: "Home mail"},
			{Value: "ANN.LEE@other.example", Type: "other"},
		},
		d.KindPhone: {
			{Value: "+1 (415) 555-0100", Type: "work", Primary: true},
			{Value: "415 555 0199", Type: "mobile"},
			{Value: "+44 20 7946 0958", Type: "home", Display: "London"},
		},
		d.KindAddress: {
			{Type: "work", Primary: true, Formatted: "1 Main St\nApt 2\nBoston, MA 02101\nUSA",
				Street: "1 Main St\nApt 2", Locality: "Boston", Region: "MA", PostalCode: "02101", Country: "US"},
			{Type: "home", Formatted: "9 Elm Rd, Cambridge, England CB2 1TN",
				Street: "9 Elm Rd", Locality: "Cambridge", Region: "England", PostalCode: "CB2 1TN", Country: "GB"},
		},
		d.KindIM:          {{Value: "ann.lee", Type: "xmpp", Display: "Ann (XMPP)"}, {Value: "annlee", Type: "skype"}},
		d.KindPhoto:       {{Value: "https://photos.example.com/ann.jpg", Type: "photo", Primary: true}, {Value: "https://photos.example.com/ann-t.jpg", Type: "thumbnail"}},
		d.KindEntitlement: {{Value: "bldg-7"}, {Value: "parking", Display: "Parking"}},
		d.KindRole:        {{Value: "admin", Display: "Administrator", Type: "system", Primary: true}, {Value: "auditor"}},
		d.KindCertificate: {{Value: certificate(3000, "ANN"), Display: "signing"}, {Value: certificate(3000, "ANN2")}},
	}
}

func testValuesRoundTrip(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	want := mustCreate(t, s, fullUser(tn.ID))
	check := func(what string, got *d.User) {
		t.Helper()
		if d := userDiff(got, want); d != "" {
			t.Errorf("%s: %s", what, d)
		}
		if !reflect.DeepEqual(got.Values, want.Values) {
			t.Errorf("%s: got values %+v, want %+v", what, got.Values, want.Values)
		}
	}
	check("GetUser", mustGet(t, s, tn.ID, want.ID))
	u, err := s.FindUserByClaim(ctx, tn.ID, d.Claim{Kind: d.ClaimEmail, Value: want.EmailNorm})
	if err != nil {
		t.Fatalf("FindUserByClaim: %v", err)
	}
	check("FindUserByClaim", u)

	// A page of several users: each gets its own lists, in order, and a
	// user without values keeps a nil map.
	other := mustCreate(t, s, newUser(tn.ID, "other", "o@example.com", func(u *d.User) {
		u.Values = map[d.ValueKind][]d.Value{
			d.KindEmail: {{Value: "o@example.com", Type: "work", Primary: true}},
			d.KindRole:  {{Value: "z"}, {Value: "a"}, {Value: "m"}},
		}
	}))
	bare := mustCreate(t, s, newUser(tn.ID, "bare", ""))
	page, err := s.ListUsers(ctx, tn.ID, d.UserQuery{})
	if err != nil || len(page.Users) != 3 {
		t.Fatalf("ListUsers: got %v, %v, want 3 users", page, err)
	}
	for _, got := range page.Users {
		switch got.ID {
		case want.ID:
			check("ListUsers", got)
		case other.ID:
			if !reflect.DeepEqual(got.Values, other.Values) {
				t.Errorf("ListUsers: other: got values %+v, want %+v", got.Values, other.Values)
			}
		case bare.ID:
			if got.Values != nil {
				t.Errorf("ListUsers: bare: got values %+v, want nil", got.Values)
			}
		}
	}
}

func testValuesUpdate(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	u := mustCreate(t, s, fullUser(tn.ID))

	// Reorder, drop, edit and add values; drop whole kinds.
	v2 := u.Clone()
	old := v2.Values
	v2.Values = map[d.ValueKind][]d.Value{
		d.KindEmail:   {old[d.KindEmail][2], {Value: "new@example.com", Type: "work", Primary: true}},
		d.KindPhone:   {old[d.KindPhone][1]},
		d.KindAddress: {old[d.KindAddress][1]},
		d.KindRole:    {{Value: "auditor", Primary: true}},
	}
	v2.Values[d.KindAddress][0].Primary = true
	v2.Email, v2.Phone, v2.Mobile = "new@example.com", "", "415 555 0199"
	v2.Version, v2.UpdatedAt = 2, stamp()
	fix(v2)
	if err := s.UpdateUser(ctx, v2, claimsOf(v2), 1, nil); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got := mustGet(t, s, tn.ID, u.ID)
	if dd := userDiff(got, v2); dd != "" {
		t.Errorf("after UpdateUser: %s", dd)
	}
	if !reflect.DeepEqual(got.Values, v2.Values) {
		t.Errorf("after UpdateUser: got values %+v, want %+v", got.Values, v2.Values)
	}
	// The replaced values no longer match filters.
	if ids := listIDs(t, s, tn.ID, d.Any{Kind: d.KindRole, X: fold(d.FieldValue, d.OpEq, "admin")}); len(ids) != 0 {
		t.Errorf("filter on a removed role: got %v, want none", ids)
	}
	if ids := listIDs(t, s, tn.ID, d.Any{Kind: d.KindCertificate}); len(ids) != 0 {
		t.Errorf("filter on removed certificates: got %v, want none", ids)
	}

	// A failed update leaves the lists as they were.
	stale := v2.Clone()
	stale.Values = nil
	stale.Version = 3
	wantErr(t, "UpdateUser with a stale version", s.UpdateUser(ctx, stale, claimsOf(stale), 1, nil), d.ErrPrecondition)
	if got := mustGet(t, s, tn.ID, u.ID); !reflect.DeepEqual(got.Values, v2.Values) {
		t.Errorf("after a stale update: got values %+v, want %+v", got.Values, v2.Values)
	}

	// Clearing every list.
	v3 := v2.Clone()
	v3.Values, v3.Email, v3.Mobile = nil, "", ""
	v3.Version, v3.UpdatedAt = 3, stamp()
	fix(v3)
	if err := s.UpdateUser(ctx, v3, claimsOf(v3), 2, nil); err != nil {
		t.Fatalf("UpdateUser clearing values: %v", err)
	}
	if got := mustGet(t, s, tn.ID, u.ID); got.Values != nil {
		t.Errorf("after clearing: got values %+v, want nil", got.Values)
	}
}

// testValuesDelete: deleting a user removes its values. A new user given
// the deleted one's id must not inherit them.
func testValuesDelete(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	u := mustCreate(t, s, fullUser(tn.ID))
	if err := s.DeleteUser(ctx, tn.ID, u.ID, 0, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	again := newUser(tn.ID, "again", "")
	again.ID = u.ID
	mustCreate(t, s, again)
	if got := mustGet(t, s, tn.ID, u.ID); got.Values != nil {
		t.Errorf("user reusing a deleted id: got values %+v, want nil", got.Values)
	}
	if ids := listIDs(t, s, tn.ID, d.Any{Kind: d.KindEmail}); len(ids) != 0 {
		t.Errorf("users with an e-mail value after the delete: got %v, want none", ids)
	}
}

// testValuesTenantIsolation: user ids are unique per tenant only, so two
// tenants may hold the same id; neither sees the other's values, on read
// or in a filter.
func testValuesTenantIsolation(t *testing.T, s d.Store) {
	a := mustTenant(t, s, "a")
	b := mustTenant(t, s, "b")
	ua := mustCreate(t, s, newUser(a.ID, "ann", ""))
	ub := newUser(b.ID, "ann", "ann@example.com", func(u *d.User) {
		u.Values = map[d.ValueKind][]d.Value{d.KindEmail: {{Value: "ann@example.com", Type: "work", Primary: true}}}
	})
	ub.ID = ua.ID
	mustCreate(t, s, ub)
	if got := mustGet(t, s, a.ID, ua.ID); got.Values != nil {
		t.Errorf("tenant a's user: got values %+v, want nil (tenant b's user has the same id)", got.Values)
	}
	if got := mustGet(t, s, b.ID, ub.ID); !reflect.DeepEqual(got.Values, ub.Values) {
		t.Errorf("tenant b's user: got values %+v, want %+v", got.Values, ub.Values)
	}
	for _, f := range []d.Expr{
		d.Any{Kind: d.KindEmail},
		d.Any{Kind: d.KindEmail, X: fold(d.FieldValue, d.OpEq, "ann@example.com")},
	} {
		if ids := listIDs(t, s, a.ID, f); len(ids) != 0 {
			t.Errorf("tenant a, filter %+v: got %v, want none", f, ids)
		}
		if ids := listIDs(t, s, b.ID, f); !slices.Equal(ids, []string{ub.ID}) {
			t.Errorf("tenant b, filter %+v: got %v, want tenant b's user", f, ids)
		}
	}
}

func listIDs(t *testing.T, s d.Store, tenantID string, f d.Expr) []string {
	t.Helper()
	page, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Filter: f})
	if err != nil {
		t.Fatalf("ListUsers(%+v): %v", f, err)
	}
	return ids(page.Users)
}

// valueFixture creates users whose values tell the operators apart: case,
// non-ASCII letters, LIKE wildcards, prefixes of one another, values on
// several users and several values on one user.
func valueFixture(t *testing.T, s d.Store) (string, map[string]*d.User) {
	t.Helper()
	tn := mustTenant(t, s, "acme")
	users := map[string]*d.User{}
	for _, u := range []*d.User{
		newUser(tn.ID, "ann", "Ann@Example.com", func(u *d.User) {
			u.LastName = "Employee"
			u.Values = map[d.ValueKind][]d.Value{
				d.KindEmail: {{Value: "Ann@Example.com", Type: "work", Primary: true}, {Value: "ann@home.example.org", Type: "home"}},
				d.KindPhone: {{Value: "+1 415 555 0100", Type: "work", Primary: true}, {Value: "(415) 555-0102", Type: "Mobile"}},
				d.KindAddress: {{Type: "work", Primary: true, Formatted: "1 Main St\nBoston MA", Street: "1 Main St", Locality: "Boston", Region: "MA", PostalCode: "02101", Country: "US"},
					{Type: "home", Formatted: "Zürich", Locality: "Zürich", PostalCode: "8001", Country: "CH"}},
				d.KindIM:          {{Value: "ann_lee", Display: "Ann L.", Type: "xmpp"}},
				d.KindPhoto:       {{Value: "https://p.example/Ann.jpg", Type: "photo", Primary: true}},
				d.KindEntitlement: {{Value: "bldg-7", Display: "Building 7"}},
				d.KindRole:        {{Value: "Admin", Display: "Administrator", Type: "system", Primary: true}, {Value: "auditor"}},
				d.KindCertificate: {{Value: certificate(600, "AAA"), Display: "sign"}},
			}
		}),
		newUser(tn.ID, "bob", "bob@example.org", func(u *d.User) {
			u.LastName = "Employee"
			u.Values = map[d.ValueKind][]d.Value{
				d.KindEmail:       {{Value: "bob@example.org", Type: "work"}, {Value: "BOB@Example.com", Type: "other", Primary: true}},
				d.KindPhone:       {{Value: "12", Type: "work"}},
				d.KindAddress:     {{Type: "Work", Formatted: "100% Main_St", Street: "100% Main_St\nRear", Locality: "boston", Region: "ma", PostalCode: "02101-1234", Country: "us"}},
				d.KindIM:          {{Value: "bob%1", Display: "BOB", Type: "aim"}},
				d.KindEntitlement: {{Value: "bldg-70"}},
				d.KindRole:        {{Value: "admin", Type: "System"}},
				d.KindCertificate: {{Value: certificate(600, "AAB")}},
			}
		}),
		newUser(tn.ID, "carl", "carl@EXAMPLE.com", func(u *d.User) {
			u.LastName = "Lee"
			u.Values = map[d.ValueKind][]d.Value{
				d.KindEmail:   {{Value: "carl@EXAMPLE.com", Type: "work", Primary: true}},
				d.KindAddress: {{Type: "work", Primary: true, Locality: "Bos_ton", Region: "Ma", Country: "DE"}},
				d.KindPhoto:   {{Value: "https://p.example/carl.png", Type: "thumbnail"}},
				d.KindRole:    {{Value: "user", Display: "User", Primary: true}},
			}
		}),
		newUser(tn.ID, "dana", "", func(u *d.User) {
			u.LastName = "Employee"
			u.Values = map[d.ValueKind][]d.Value{
				d.KindEmail: {{Value: "dána@example.org", Display: "DÁNA", Type: "home", Primary: true}},
			}
		}),
		newUser(tn.ID, "erin", ""),
	} {
		users[u.Username] = mustCreate(t, s, u)
	}
	return tn.ID, users
}

// scimName is the SCIM attribute of a kind, for test names.
var scimName = map[d.ValueKind]string{
	d.KindEmail: "emails", d.KindPhone: "phoneNumbers", d.KindAddress: "addresses", d.KindIM: "ims",
	d.KindPhoto: "photos", d.KindEntitlement: "entitlements", d.KindRole: "roles", d.KindCertificate: "x509Certificates",
}

// valueField reads field f of v.
func valueField(v d.Value, f d.Field) string {
	switch f {
	case d.FieldValue:
		return v.Value
	case d.FieldValueDisplay:
		return v.Display
	case d.FieldValueType:
		return v.Type
	case d.FieldValueFormatted:
		return v.Formatted
	case d.FieldValueStreet:
		return v.Street
	case d.FieldValueLocality:
		return v.Locality
	case d.FieldValueRegion:
		return v.Region
	case d.FieldValuePostalCode:
		return v.PostalCode
	case d.FieldValueCountry:
		return v.Country
	}
	panic("no string field " + f)
}

// matchString is the meaning of a string Cmp (see directory.Cmp): byte
// order, and folding by strings.ToLower where the store has a normalised
// column (unicode) or by ASCII letters only elsewhere.
func matchString(got string, op d.Op, want string, fold, unicode bool) bool {
	if op == d.OpPr {
		return got != ""
	}
	if fold {
		lower := asciiLower
		if unicode {
			lower = strings.ToLower
		}
		got, want = lower(got), lower(want)
	}
	switch op {
	case d.OpEq:
		return got == want
	case d.OpNe:
		return got != want
	case d.OpCo:
		return strings.Contains(got, want)
	case d.OpSw:
		return strings.HasPrefix(got, want)
	case d.OpEw:
		return strings.HasSuffix(got, want)
	case d.OpGt:
		return got > want
	case d.OpGe:
		return got >= want
	case d.OpLt:
		return got < want
	case d.OpLe:
		return got <= want
	}
	panic("operator " + op)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

var stringOps = []d.Op{d.OpEq, d.OpNe, d.OpCo, d.OpSw, d.OpEw, d.OpGt, d.OpGe, d.OpLt, d.OpLe, d.OpPr}

// probes returns the operands a string operator is tried with: for each
// stored value of the field, that value (or a part of it, for co, sw and
// ew) as stored and upper-cased, so that each operator meets exact,
// differently cased and absent operands.
func probes(stored []string, op d.Op) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	// Three stored values (first, middle, last) are enough to tell the
	// operators apart, and keep the case count down.
	stored = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(stored))), func(s string) bool { return s == "" })
	if n := len(stored); n > 3 {
		stored = []string{stored[0], stored[n/2], stored[n-1]}
	}
	for _, v := range stored {
		r := []rune(v)
		part := v
		switch op {
		case d.OpCo:
			if len(r) > 2 {
				part = string(r[1 : len(r)-1])
			}
		case d.OpSw:
			part = string(r[:min(3, len(r))])
		case d.OpEw:
			part = string(r[max(0, len(r)-3):])
		}
		add(part)
		add(strings.ToUpper(part))
	}
	add("zz-absent")
	return out
}

// testValueFilters runs every operator on every field of every value
// kind against valueFixture, with and without folding, and compares the
// store's answer with the meaning of the filter evaluated here over the
// users' values. Hand-written cases below pin that meaning on its own.
func testValueFilters(t *testing.T, s d.Store) {
	tenantID, users := valueFixture(t, s)
	all := slices.Collect(func(yield func(*d.User) bool) {
		for _, u := range users {
			if !yield(u) {
				return
			}
		}
	})
	fieldsOf := func(k d.ValueKind) []d.Field {
		if k == d.KindAddress {
			return []d.Field{d.FieldValueType, d.FieldValueFormatted, d.FieldValueStreet, d.FieldValueLocality,
				d.FieldValueRegion, d.FieldValuePostalCode, d.FieldValueCountry}
		}
		return []d.Field{d.FieldValue, d.FieldValueDisplay, d.FieldValueType}
	}
	informative := 0 // cases whose answer is neither nobody nor everybody
	cases := 0
	for _, k := range d.ValueKinds {
		for _, f := range fieldsOf(k) {
			var stored []string
			for _, u := range all {
				for _, v := range u.Values[k] {
					stored = append(stored, valueField(v, f))
				}
			}
			for _, op := range stringOps {
				for _, fold := range []bool{false, true} {
					if op == d.OpPr && fold {
						continue
					}
					// Phone equality compares normalised numbers:
					// pinned by the hand-written cases instead.
					if k == d.KindPhone && f == d.FieldValue && op == d.OpEq {
						continue
					}
					for _, probe := range probes(stored, op) {
						name := fmt.Sprintf("%s/%s/%s", scimName[k], f, op)
						if fold {
							name += "/fold"
						}
						if op != d.OpPr {
							name += "/" + strings.ReplaceAll(truncate(probe, 12), "/", "_")
						}
						unicode := f == d.FieldValue && k != d.KindPhone
						var want []string
						for _, u := range all {
							if slices.ContainsFunc(u.Values[k], func(v d.Value) bool {
								return matchString(valueField(v, f), op, probe, fold, unicode)
							}) {
								want = append(want, u.Username)
							}
						}
						if len(want) > 0 && len(want) < len(all) {
							informative++
						}
						cases++
						filter := d.Any{Kind: k, X: d.Cmp{Field: f, Op: op, Value: probe, Fold: fold}}
						t.Run(name, func(t *testing.T) {
							t.Parallel()
							wantUsers(t, s, tenantID, users, filter, want)
						})
					}
				}
			}
		}
		// primary, a bool.
		for _, tc := range []struct {
			op d.Op
			v  any
		}{{d.OpEq, true}, {d.OpEq, false}, {d.OpNe, true}, {d.OpPr, nil}} {
			var want []string
			for _, u := range all {
				if slices.ContainsFunc(u.Values[k], func(v d.Value) bool {
					return tc.op == d.OpPr || (v.Primary == tc.v.(bool)) == (tc.op == d.OpEq)
				}) {
					want = append(want, u.Username)
				}
			}
			cases++
			filter := d.Any{Kind: k, X: d.Cmp{Field: d.FieldValuePrimary, Op: tc.op, Value: tc.v}}
			t.Run(fmt.Sprintf("%s/primary/%s/%v", scimName[k], tc.op, tc.v), func(t *testing.T) {
				wantUsers(t, s, tenantID, users, filter, want)
			})
		}
	}
	if informative < cases/3 {
		t.Errorf("only %d of %d generated cases tell matching users from others: the fixture no longer tests much", informative, cases)
	}

	email := func(x d.Expr) d.Expr { return d.Any{Kind: d.KindEmail, X: x} }
	phone := func(x d.Expr) d.Expr { return d.Any{Kind: d.KindPhone, X: x} }
	addr := func(x d.Expr) d.Expr { return d.Any{Kind: d.KindAddress, X: x} }
	tests := []struct {
		name   string
		filter d.Expr
		want   []string
	}{
		{"emails/value/eq/fold finds a second value", email(fold(d.FieldValue, d.OpEq, "BOB@example.COM")), []string{"bob"}},
		{"emails/value/eq is case-sensitive", email(eq(d.FieldValue, "bob@example.com")), nil},
		{"emails/value/eq/fold is Unicode", email(fold(d.FieldValue, d.OpEq, "DÁNA@EXAMPLE.ORG")), []string{"dana"}},
		{"emails/display/eq/fold is ASCII-only", email(fold(d.FieldValueDisplay, d.OpEq, "dána")), nil},
		{"ims/value/co percent is literal", d.Any{Kind: d.KindIM, X: op(d.FieldValue, d.OpCo, "%")}, []string{"bob"}},
		{"ims/value/co/fold underscore is literal", d.Any{Kind: d.KindIM, X: fold(d.FieldValue, d.OpCo, "_")}, []string{"ann"}},
		{"addresses/locality/co/fold underscore is literal", addr(fold(d.FieldValueLocality, d.OpCo, "S_T")), []string{"carl"}},
		{"addresses/street/co line break", addr(op(d.FieldValueStreet, d.OpCo, "\nRear")), []string{"bob"}},
		{"addresses/formatted/sw", addr(op(d.FieldValueFormatted, d.OpSw, "1 Main St\nBos")), []string{"ann"}},
		{"addresses/locality/eq second address", addr(eq(d.FieldValueLocality, "Zürich")), []string{"ann"}},
		// SCIM's own example (RFC 7644 §3.4.2.2) over the second values.
		{"issue 8 example", d.And{L: eq(d.FieldLastName, "Employee"), R: d.Or{
			L: email(op(d.FieldValue, d.OpCo, "example.com")), R: email(op(d.FieldValue, d.OpCo, "example.org"))}},
			[]string{"ann", "bob", "dana"}},
		{"phoneNumbers/value/eq normalises", phone(eq(d.FieldValue, "+14155550102")), []string{"ann"}},
		{"phoneNumbers/value/eq normalises the operand", phone(eq(d.FieldValue, "415.555.0100")), []string{"ann"}},
		{"phoneNumbers/value/eq impossible number", phone(eq(d.FieldValue, "12")), []string{"bob"}},
		{"phoneNumbers/value/eq impossible number by digits", phone(eq(d.FieldValue, "1-2")), []string{"bob"}},
		{"phoneNumbers/value/eq raw text", phone(eq(d.FieldValue, "(415) 555-0102")), []string{"ann"}},
		{"phoneNumbers/value/co raw text", phone(op(d.FieldValue, d.OpCo, "(415)")), []string{"ann"}},
		{"phoneNumbers/type/eq/fold", phone(fold(d.FieldValueType, d.OpEq, "mobile")), []string{"ann"}},
		{"x509Certificates/value/eq long", d.Any{Kind: d.KindCertificate, X: eq(d.FieldValue, certificate(600, "AAB"))}, []string{"bob"}},
		{"x509Certificates/value/eq/fold long", d.Any{Kind: d.KindCertificate, X: fold(d.FieldValue, d.OpEq, strings.ToLower(certificate(600, "AAA")))}, []string{"ann"}},
		{"x509Certificates/value/eq long, another tail", d.Any{Kind: d.KindCertificate, X: fold(d.FieldValue, d.OpEq, certificate(600, "AAC"))}, nil},
		// Any holds one value to every part of its filter.
		{"emails[type eq work and value ew .org]", email(d.And{L: eq(d.FieldValueType, "work"), R: op(d.FieldValue, d.OpEw, ".org")}), []string{"bob"}},
		{"emails.type eq work and emails.value ew .org", d.And{L: email(eq(d.FieldValueType, "work")), R: email(op(d.FieldValue, d.OpEw, ".org"))}, []string{"ann", "bob"}},
		{"emails[primary eq true and type eq other]", email(d.And{L: eq(d.FieldValuePrimary, true), R: eq(d.FieldValueType, "other")}), []string{"bob"}},
		{"emails[type eq home or display pr]", email(d.Or{L: eq(d.FieldValueType, "home"), R: op(d.FieldValueDisplay, d.OpPr, nil)}), []string{"ann", "dana"}},
		{"emails[not (type eq work)]", email(d.Not{X: eq(d.FieldValueType, "work")}), []string{"ann", "bob", "dana"}},
		{"emails[const false]", email(d.Const(false)), nil},
		{"emails pr", email(nil), []string{"ann", "bob", "carl", "dana"}},
		{"not emails pr", d.Not{X: email(nil)}, []string{"erin"}},
		{"not emails[value eq/fold]", d.Not{X: email(fold(d.FieldValue, d.OpEq, "ann@example.com"))}, []string{"bob", "carl", "dana", "erin"}},
		{"not roles[value eq admin]", d.Not{X: d.Any{Kind: d.KindRole, X: eq(d.FieldValue, "admin")}}, []string{"ann", "carl", "dana", "erin"}},
		{"photos pr or ims pr", d.Or{L: d.Any{Kind: d.KindPhoto}, R: d.Any{Kind: d.KindIM}}, []string{"ann", "bob", "carl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantUsers(t, s, tenantID, users, tc.filter, tc.want) })
	}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// wantUsers checks that filter selects exactly the named users, and that
// the total agrees.
func wantUsers(t *testing.T, s d.Store, tenantID string, users map[string]*d.User, filter d.Expr, names []string) {
	t.Helper()
	page, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Filter: filter, Total: true})
	if err != nil {
		t.Fatalf("ListUsers(%+v): %v", filter, err)
	}
	want := byID(users, names)
	if got := usernames(page.Users); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if page.Total != len(want) {
		t.Errorf("got Total %d, want %d", page.Total, len(want))
	}
}

func testInvalidValueFilters(t *testing.T, s d.Store) {
	tn := mustTenant(t, s, "acme")
	for _, tc := range []struct {
		name   string
		filter d.Expr
	}{
		{"unknown kind", d.Any{Kind: "pets"}},
		{"user field inside Any", d.Any{Kind: d.KindEmail, X: eq(d.FieldUsername, "ann")}},
		{"Any inside Any", d.Any{Kind: d.KindEmail, X: d.Any{Kind: d.KindPhone}}},
		{"value field outside Any", eq(d.FieldValue, "x")},
		{"co on primary", d.Any{Kind: d.KindEmail, X: op(d.FieldValuePrimary, d.OpCo, true)}},
		{"string value on primary", d.Any{Kind: d.KindEmail, X: eq(d.FieldValuePrimary, "true")}},
		{"bool value on value", d.Any{Kind: d.KindEmail, X: eq(d.FieldValue, true)}},
		{"unknown operator in Any", d.Any{Kind: d.KindRole, X: op(d.FieldValue, "regex", "a")}},
		{"bool value on an extra", eq(d.ExtraField("title"), true)},
		{"unknown operator on an extra", op(d.ExtraField("title"), "regex", "a")},
		{"Any in groups", nil}, // below
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.filter == nil {
				_, err = s.ListGroups(t.Context(), tn.ID, d.GroupQuery{Filter: d.Any{Kind: d.KindEmail}})
			} else {
				_, err = s.ListUsers(t.Context(), tn.ID, d.UserQuery{Filter: tc.filter})
			}
			if !errors.Is(err, d.ErrInvalidFilter) {
				t.Errorf("got err %v, want ErrInvalidFilter", err)
			}
		})
	}
}
