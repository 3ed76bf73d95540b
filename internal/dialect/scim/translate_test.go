package scim

import (
	"errors"
	"reflect"
	"testing"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/directory"
)

func fcmp(f directory.Field, op directory.Op, v any) directory.Cmp {
	return directory.Cmp{Field: f, Op: op, Value: v}
}

func ffold(f directory.Field, op directory.Op, v any) directory.Cmp {
	return directory.Cmp{Field: f, Op: op, Value: v, Fold: true}
}

func fpres(f directory.Field) directory.Cmp { return directory.Cmp{Field: f, Op: directory.OpPr} }

const uuidDashed = "0190b3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e"

// TestUserFilter pins what each kind of attribute translates to: a column,
// an Extras value, an Any over one kind of values, a reference field, or a
// constant decided without the database.
func TestUserFilter(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	email := func(x directory.Expr) directory.Any { return directory.Any{Kind: directory.KindEmail, X: x} }
	tests := []struct {
		name string
		in   string
		want directory.Expr
	}{
		{"userName folds", `userName eq "Ann"`, ffold(directory.FieldUsername, directory.OpEq, "Ann")},
		{"externalId is caseExact", `externalId eq "8f3c"`, fcmp(directory.FieldExternalID, directory.OpEq, "8f3c")},
		{"core URN prefix", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, ffold(directory.FieldUsername, directory.OpSw, "J")},
		{"id canonicalised", `id eq "0190B3E45F6A7B8C9D0E1F2A3B4C5D6E"`, fcmp(directory.FieldID, directory.OpEq, uuidDashed)},
		{"id not a uuid", `id eq "nope"`, directory.Const(false)},
		{"id pr", `id pr`, directory.Const(true)},
		{"active", `active eq false`, fcmp(directory.FieldState, directory.OpEq, directory.StateInactive)},
		{"active ne false", `active ne false`, fcmp(directory.FieldState, directory.OpEq, directory.StateActive)},
		{"displayName in Extras", `displayName co "Ann"`, ffold(directory.ExtraField("displayName"), directory.OpCo, "Ann")},
		{"title pr", `title pr`, fpres(directory.ExtraField("title"))},
		{"title eq null", `title eq null`, directory.Not{X: fpres(directory.ExtraField("title"))}},
		{"name.middleName", `name.middleName sw "Q"`, ffold(directory.ExtraField("middleName"), directory.OpSw, "Q")},
		{"name.formatted stored", `name.formatted eq "Ann Lee"`, ffold(directory.ExtraField("formatted"), directory.OpEq, "Ann Lee")},
		{"name pr", `name pr`, directory.Or{L: directory.Or{L: directory.Or{L: directory.Or{L: directory.Or{
			L: fpres(directory.ExtraField("formatted")), R: fpres(directory.FieldLastName)}, R: fpres(directory.FieldFirstName)},
			R: fpres(directory.ExtraField("middleName"))}, R: fpres(directory.ExtraField("honorificPrefix"))}, R: fpres(directory.ExtraField("honorificSuffix"))}},
		{"name value filter", `name[givenName eq "a" and familyName eq "b"]`, directory.And{L: ffold(directory.FieldFirstName, directory.OpEq, "a"), R: ffold(directory.FieldLastName, directory.OpEq, "b")}},
		{"enterprise by URN", ent + `department eq "Ops"`, ffold(directory.ExtraField("department"), directory.OpEq, "Ops")},
		{"enterprise bare name", `costCenter eq "4130"`, ffold(directory.ExtraField("costCenter"), directory.OpEq, "4130")},
		{"enterprise manager.value", ent + `manager.value eq "m1"`, ffold(directory.ExtraField("manager"), directory.OpEq, "m1")},
		{"emails flat", `emails co "example.com"`, email(ffold(directory.FieldValue, directory.OpCo, "example.com"))},
		{"emails.value", `emails.value ew ".org"`, email(ffold(directory.FieldValue, directory.OpEw, ".org"))},
		{"emails pr", `emails pr`, email(fpres(directory.FieldValue))},
		{"addresses pr", `addresses pr`, directory.Any{Kind: directory.KindAddress}},
		{"emails.type", `emails.type eq "home"`, email(ffold(directory.FieldValueType, directory.OpEq, "home"))},
		{"value filter needs one value for both", `emails[type eq "work" and value co "x"]`,
			email(directory.And{L: ffold(directory.FieldValueType, directory.OpEq, "work"), R: ffold(directory.FieldValue, directory.OpCo, "x")})},
		{"primary", `emails[primary eq true]`, email(fcmp(directory.FieldValuePrimary, directory.OpEq, true))},
		{"addresses.formatted", `addresses.formatted co "Main"`, directory.Any{Kind: directory.KindAddress, X: ffold(directory.FieldValueFormatted, directory.OpCo, "Main")}},
		{"addresses[type].locality", `addresses[type eq "work" and locality eq "X"]`, directory.Any{Kind: directory.KindAddress,
			X: directory.And{L: ffold(directory.FieldValueType, directory.OpEq, "work"), R: ffold(directory.FieldValueLocality, directory.OpEq, "X")}}},
		{"roles", `roles.value eq "admin"`, directory.Any{Kind: directory.KindRole, X: ffold(directory.FieldValue, directory.OpEq, "admin")}},
		{"x509 binary value", `x509Certificates.value pr`, directory.Any{Kind: directory.KindCertificate, X: fpres(directory.FieldValue)}},
		{"emails eq null", `emails.value eq null`, directory.Not{X: email(fpres(directory.FieldValue))}},
		{"groups value", `groups.value eq "` + uuidDashed + `"`, fcmp(directory.FieldGroupID, directory.OpEq, uuidDashed)},
		{"groups flat", `groups eq "` + uuidDashed + `"`, fcmp(directory.FieldGroupID, directory.OpEq, uuidDashed)},
		{"groups pr", `groups pr`, fpres(directory.FieldGroupID)},
		{"meta.created", `meta.created gt "2024-01-02T03:04:05Z"`, fcmp(directory.FieldCreatedAt, directory.OpGt, mustTime(t, "2024-01-02T03:04:05Z"))},
		{"or and not", `not (userName eq "a") or title pr`, directory.Or{L: directory.Not{X: ffold(directory.FieldUsername, directory.OpEq, "a")}, R: fpres(directory.ExtraField("title"))}},
		{"issue example", `name.familyName eq "Employee" and (emails.value co "example.com" or emails.value co "example.org")`,
			directory.And{L: ffold(directory.FieldLastName, directory.OpEq, "Employee"), R: directory.Or{
				L: email(ffold(directory.FieldValue, directory.OpCo, "example.com")), R: email(ffold(directory.FieldValue, directory.OpCo, "example.org"))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.in, err)
			}
			got, err := userFilter(e)
			if err != nil {
				t.Fatalf("userFilter(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("userFilter(%s)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func mustTime(t *testing.T, s string) any {
	t.Helper()
	tm, err := directory.ParseTimeValue(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// badUserFilters parse but must not translate: each is an invalidFilter.
var badUserFilters = []string{
	`foo eq "x"`,
	`name.foo eq "x"`,
	`name eq "x"`,
	`userName.foo eq "x"`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`password eq "secret"`,
	`urn:ietf:params:scim:schemas:extension:roster:2.0:User:ssn eq "123456789"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x"`,
	`urn:example:unknown:userName eq "x"`,
	`userName eq 5`,
	`userName eq true`,
	`userName co null`,
	`externalId eq 1.5`,
	`active co "x"`,
	`active gt true`,
	`active eq "true"`,
	`meta.created sw "2"`,
	`meta.created eq "yesterday"`,
	`meta.created eq 1700000000`,
	`meta.version eq "W/\"1\""`,
	`emails[primary eq "yes"]`,
	`emails[type gt 1]`,
	`emails[primary co true]`,
	`emails[foo eq "a"]`,
	`emails[value pr and phoneNumbers[value pr]]`,
	`addresses eq "x"`,
	`x509Certificates.value co "MII"`,
	`groups co "x"`,
	`groups.display eq "x"`,
	`userName[value eq "x"]`,
}

func TestUserFilterRejects(t *testing.T) {
	for _, in := range badUserFilters {
		t.Run(in, func(t *testing.T) {
			e, err := filter.Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := userFilter(e)
			var fe *filter.Error
			if !errors.As(err, &fe) || fe.Pos != -1 || fe.Msg == "" {
				t.Fatalf("userFilter = %#v, %v; want a *filter.Error with Pos -1", got, err)
			}
		})
	}
}

func TestSortFields(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	tests := []struct {
		in   string
		want directory.Field
	}{
		{"userName", directory.FieldUsername},
		{"name.familyName", directory.FieldLastName},
		{"emails", directory.FieldEmail},
		{"emails.value", directory.FieldEmail},
		{"title", directory.ExtraField("title")},
		{"displayName", directory.ExtraField("displayName")},
		{"name.middleName", directory.ExtraField("middleName")},
		{ent + "department", directory.ExtraField("department")},
		{"meta.lastModified", directory.FieldUpdatedAt},
		{"id", directory.FieldID},
	}
	for _, tt := range tests {
		if got, ok := userSortField(tt.in); !ok || got != tt.want {
			t.Errorf("userSortField(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"active", "phoneNumbers", "password", "groups", "nope", "name"} {
		if got, ok := userSortField(in); ok {
			t.Errorf("userSortField(%q) = %q, want not sortable", in, got)
		}
	}
	if got, ok := groupSortField("displayName"); !ok || got != directory.FieldDisplayName {
		t.Errorf("groupSortField(displayName) = %q, %v", got, ok)
	}
}

// FuzzTranslate: whatever parses translates or fails with a *filter.Error;
// nothing panics.
func FuzzTranslate(f *testing.F) {
	for _, s := range badUserFilters {
		f.Add(s)
	}
	f.Add(`emails[type eq "work" and value co "@x.com"] or not (title pr)`)
	f.Add(`members[value eq "2819c223"]`)
	f.Fuzz(func(t *testing.T, in string) {
		userSortField(in)
		groupSortField(in)
		e, err := filter.Parse(in)
		if err != nil {
			return
		}
		for name, tr := range map[string]func(filter.Expr) (directory.Expr, error){"user": userFilter, "group": groupFilter} {
			if _, err := tr(e); err != nil {
				var fe *filter.Error
				if !errors.As(err, &fe) {
					t.Fatalf("%sFilter(%q): %T %v, want *filter.Error", name, in, err, err)
				}
			}
		}
	})
}

// TestEntraSubAfterValuePath: Entra's `attr[filter].sub op value` means the
// RFC's `attr[filter and sub op value]`, in parse and in translation.
func TestEntraSubAfterValuePath(t *testing.T) {
	tests := []struct{ entra, rfc string }{
		{`emails[type eq "work"].value eq "ann@example.com"`, `emails[type eq "work" and value eq "ann@example.com"]`},
		{`phoneNumbers[type eq "mobile"].value co "555"`, `phoneNumbers[type eq "mobile" and value co "555"]`},
		{`emails[type eq "work"].value pr and userName eq "a"`, `emails[type eq "work" and value pr] and userName eq "a"`},
		{`EMAILS[TYPE EQ "work"].Value EQ "x" or active eq true`, `emails[type eq "work" and value eq "x"] or active eq true`},
	}
	for _, tt := range tests {
		got, err := filter.Parse(tt.entra)
		if err != nil {
			t.Errorf("filter.Parse(%s): %v", tt.entra, err)
			continue
		}
		want, err := filter.Parse(tt.rfc)
		if err != nil {
			t.Fatalf("filter.Parse(%s): %v", tt.rfc, err)
		}
		gotU, err1 := userFilter(got)
		wantU, err2 := userFilter(want)
		if err1 != nil || err2 != nil {
			t.Errorf("UserExpr: %v / %v", err1, err2)
			continue
		}
		if !reflect.DeepEqual(gotU, wantU) {
			t.Errorf("%s translates to %#v, want the same as %s: %#v", tt.entra, gotU, tt.rfc, wantU)
		}
	}
}
