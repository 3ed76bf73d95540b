package filter

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

func dcmp(f directory.Field, op directory.Op, v any) directory.Cmp {
	return directory.Cmp{Field: f, Op: op, Value: v}
}

func fold(f directory.Field, op directory.Op, v any) directory.Cmp {
	return directory.Cmp{Field: f, Op: op, Value: v, Fold: true}
}

func pres(f directory.Field) directory.Cmp { return directory.Cmp{Field: f, Op: directory.OpPr} }

const (
	uuidDashed = "0190b3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e"
	uuidHex    = "0190B3E45F6A7B8C9D0E1F2A3B4C5D6E"
	uuidOther  = "0190b3e4-5f6a-7b8c-9d0e-000000000002"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := directory.ParseTimeValue(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestUserExpr(t *testing.T) {
	created := mustTime(t, "2024-01-02T03:04:05Z")
	modified := mustTime(t, "2024-01-02T03:04:05.123+02:00")
	addrPresent := directory.Or{L: directory.Or{L: directory.Or{L: directory.Or{L: directory.Or{
		L: pres(directory.FieldAddressLine1), R: pres(directory.FieldAddressLine2)},
		R: pres(directory.FieldAddressCity)}, R: pres(directory.FieldAddressState)},
		R: pres(directory.FieldAddressCountry)}, R: pres(directory.FieldAddressZip)}

	tests := []struct {
		name string
		in   string
		want directory.Expr
	}{
		// What Okta and Entra ID send before creating a user.
		{"okta/entra userName", `userName eq "ann@example.com"`, fold(directory.FieldUsername, directory.OpEq, "ann@example.com")},
		{"entra externalId", `externalId eq "8f3c"`, dcmp(directory.FieldExternalID, directory.OpEq, "8f3c")},
		{"case-insensitive name and op", `USERNAME Eq "Ann"`, fold(directory.FieldUsername, directory.OpEq, "Ann")},
		{"schema URI prefix", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, fold(directory.FieldUsername, directory.OpSw, "J")},
		{"lexicographic gt", `userName gt "m"`, fold(directory.FieldUsername, directory.OpGt, "m")},
		{"userName pr", `userName pr`, pres(directory.FieldUsername)},

		{"id dashed", `id eq "` + uuidDashed + `"`, dcmp(directory.FieldID, directory.OpEq, uuidDashed)},
		{"id hex canonicalised", `id eq "` + uuidHex + `"`, dcmp(directory.FieldID, directory.OpEq, uuidDashed)},
		{"id not a uuid", `id eq "nope"`, directory.Const(false)},
		{"id ne not a uuid", `id ne "nope"`, directory.Const(true)},
		{"id sw", `id sw "0190"`, dcmp(directory.FieldID, directory.OpSw, "0190")},
		{"id pr", `id pr`, directory.Const(true)},

		{"givenName", `name.givenName sw "Ba"`, fold(directory.FieldFirstName, directory.OpSw, "Ba")},
		{"familyName RFC", `name.familyName co "O'Malley"`, fold(directory.FieldLastName, directory.OpCo, "O'Malley")},
		{"name pr", `name pr`, directory.Or{L: pres(directory.FieldFirstName), R: pres(directory.FieldLastName)}},
		{"name value path", `name[givenName eq "Barbara" and familyName eq "Jensen"]`,
			directory.And{L: fold(directory.FieldFirstName, directory.OpEq, "Barbara"), R: fold(directory.FieldLastName, directory.OpEq, "Jensen")}},
		{"locale", `locale eq "en-US"`, fold(directory.FieldLocale, directory.OpEq, "en-US")},
		{"externalId eq null", `externalId eq null`, directory.Not{X: pres(directory.FieldExternalID)}},
		{"externalId ne null", `externalId ne null`, pres(directory.FieldExternalID)},

		{"active true", `active eq true`, dcmp(directory.FieldState, directory.OpEq, directory.StateActive)},
		{"active false", `active eq false`, dcmp(directory.FieldState, directory.OpEq, directory.StateInactive)},
		{"active ne true", `active ne true`, dcmp(directory.FieldState, directory.OpEq, directory.StateInactive)},
		{"active pr", `active pr`, directory.Const(true)},

		{"created gt", `meta.created gt "2024-01-02T03:04:05Z"`, dcmp(directory.FieldCreatedAt, directory.OpGt, created)},
		{"lastModified le offset", `meta.lastModified le "2024-01-02T03:04:05.123+02:00"`, dcmp(directory.FieldUpdatedAt, directory.OpLe, modified)},
		{"created pr", `meta.created pr`, directory.Const(true)},

		// emails: one slot, type "work", primary.
		{"emails", `emails eq "Ann@X.com"`, fold(directory.FieldEmail, directory.OpEq, "Ann@X.com")},
		{"emails.value co", `emails.value co "@x.com"`, fold(directory.FieldEmail, directory.OpCo, "@x.com")},
		{"emails value path", `emails[type eq "work" and value co "@x.com"]`, fold(directory.FieldEmail, directory.OpCo, "@x.com")},
		{"emails type folds", `emails[type eq "WORK"]`, pres(directory.FieldEmail)},
		{"emails type home", `emails[type eq "home" and value co "@x.com"]`, directory.Const(false)},
		{"emails.type flat", `emails.type eq "work"`, pres(directory.FieldEmail)},
		{"emails primary", `emails[primary eq true]`, pres(directory.FieldEmail)},
		{"emails pr", `emails pr`, pres(directory.FieldEmail)},
		{"emails ne keeps presence", `emails[value ne "a@x.com"]`,
			directory.And{L: pres(directory.FieldEmail), R: fold(directory.FieldEmail, directory.OpNe, "a@x.com")}},
		{"emails not keeps presence", `emails[not (value ew "@x.com")]`,
			directory.And{L: pres(directory.FieldEmail), R: directory.Not{X: fold(directory.FieldEmail, directory.OpEw, "@x.com")}}},
		{"not around value path", `not (emails[value ew "@x.com"])`, directory.Not{X: fold(directory.FieldEmail, directory.OpEw, "@x.com")}},
		{"emails type or", `emails[type eq "work" or type eq "home"]`, pres(directory.FieldEmail)},

		// phoneNumbers: two slots, phone ("work") and mobile ("mobile").
		{"mobile value path", `phoneNumbers[type eq "mobile" and value eq "+15551234567"]`,
			directory.And{L: pres(directory.FieldMobile), R: fold(directory.FieldMobile, directory.OpEq, "+15551234567")}},
		{"phone flat", `phoneNumbers.value eq "+15551234567"`, directory.Or{
			L: directory.And{L: pres(directory.FieldPhone), R: fold(directory.FieldPhone, directory.OpEq, "+15551234567")},
			R: directory.And{L: pres(directory.FieldMobile), R: fold(directory.FieldMobile, directory.OpEq, "+15551234567")}}},
		{"phone work", `phoneNumbers[type eq "work"]`, pres(directory.FieldPhone)},
		{"phone type ne mobile", `phoneNumbers[type ne "mobile"]`, pres(directory.FieldPhone)},
		{"phone primary unassigned", `phoneNumbers[primary eq true]`, directory.Const(false)},
		{"phone primary null", `phoneNumbers[primary eq null]`, directory.Or{L: pres(directory.FieldPhone), R: pres(directory.FieldMobile)}},

		// addresses: one slot, type "work", primary.
		{"address value path", `addresses[type eq "work" and locality eq "Austin"]`, fold(directory.FieldAddressCity, directory.OpEq, "Austin")},
		{"address flat", `addresses.postalCode sw "787"`, fold(directory.FieldAddressZip, directory.OpSw, "787")},
		{"address street", `addresses.streetAddress co "Main"`, fold(directory.FieldAddressLine1, directory.OpCo, "Main")},
		{"address region country", `addresses[region eq "TX" or country eq "US"]`,
			directory.Or{L: fold(directory.FieldAddressState, directory.OpEq, "TX"), R: fold(directory.FieldAddressCountry, directory.OpEq, "US")}},
		{"addresses pr", `addresses pr`, addrPresent},
		{"address type work", `addresses[type eq "work"]`, addrPresent},
		{"address type home", `addresses[type eq "home"]`, directory.Const(false)},

		// groups: membership, eq only.
		{"groups", `groups eq "` + uuidDashed + `"`, dcmp(directory.FieldGroupID, directory.OpEq, uuidDashed)},
		{"groups.value hex", `groups.value eq "` + uuidHex + `"`, dcmp(directory.FieldGroupID, directory.OpEq, uuidDashed)},
		{"groups value path or", `groups[value eq "` + uuidDashed + `" or value eq "` + uuidOther + `"]`,
			directory.Or{L: dcmp(directory.FieldGroupID, directory.OpEq, uuidDashed), R: dcmp(directory.FieldGroupID, directory.OpEq, uuidOther)}},
		{"groups not a uuid", `groups eq "admins"`, directory.Const(false)},

		// Roster extension.
		{"aliases", `urn:ietf:params:scim:schemas:extension:roster:2.0:User:aliases.value eq "Bob"`, fold(directory.FieldAlias, directory.OpEq, "Bob")},
		{"aliases bare", `aliases sw "b"`, fold(directory.FieldAlias, directory.OpSw, "b")},
		{"aliases value path", `urn:ietf:params:scim:schemas:extension:roster:2.0:User:aliases[value eq "bob"]`, fold(directory.FieldAlias, directory.OpEq, "bob")},

		// Logic.
		{"not and", `not (userName eq "x") and active eq true`,
			directory.And{L: directory.Not{X: fold(directory.FieldUsername, directory.OpEq, "x")}, R: dcmp(directory.FieldState, directory.OpEq, directory.StateActive)}},
		{"or precedence", `userName eq "a" or userName eq "b" and active eq false`,
			directory.Or{L: fold(directory.FieldUsername, directory.OpEq, "a"), R: directory.And{
				L: fold(directory.FieldUsername, directory.OpEq, "b"), R: dcmp(directory.FieldState, directory.OpEq, directory.StateInactive)}}},
		{"const folded away", `userName eq "a" and emails[type eq "work"] or active pr`, directory.Const(true)},
		{"double not", `not (not (locale pr))`, pres(directory.FieldLocale)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			got, err := UserExpr(f)
			if err != nil {
				t.Fatalf("UserExpr(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("UserExpr(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

// badUserFilters parse but do not translate.
var badUserFilters = []string{
	`foo eq "x"`,
	`displayName eq "Ann"`,
	`name.formatted eq "Ann Lee"`,
	`name.middleName pr`,
	`name.foo eq "x"`,
	`name eq "x"`,
	`userName.foo eq "x"`,
	`title pr`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`password eq "secret"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x"`,
	`urn:example:unknown:userName eq "x"`,
	`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"`,
	`userName eq 5`,
	`userName eq true`,
	`userName co null`,
	`externalId eq 1.5`,
	`active co "x"`,
	`active gt true`,
	`active eq "true"`,
	`active eq 1`,
	`meta.created sw "2"`,
	`meta.created eq "yesterday"`,
	`meta.created eq 1700000000`,
	`meta.version eq "W/\"1\""`,
	`meta.resourceType eq "User"`,
	`emails.display eq "x"`,
	`emails[display eq "x"]`,
	`emails[primary eq "yes"]`,
	`emails[type gt 1]`,
	`emails[primary co true]`,
	`emails[value.x eq "a"]`,
	`emails[urn:x:value eq "a"]`,
	`emails[foo eq "a"]`,
	`emails[value pr and phoneNumbers[value pr]]`,
	`addresses eq "x"`,
	`addresses.formatted co "x"`,
	`ims[type eq "xmpp"]`,
	`userName[value eq "x"]`,
	`displayName[value eq "x"]`,
	`groups ne "` + uuidDashed + `"`,
	`groups pr`,
	`groups co "0190"`,
	`groups.display eq "Admins"`,
	`groups[value eq "` + uuidDashed + `" and value eq "` + uuidOther + `"]`,
	`groups[not (value eq "` + uuidDashed + `")]`,
	`groups[display eq "x"]`,
	`aliases ne "x"`,
	`aliases pr`,
	`aliases.type eq "CUSTOM"`,
	`members eq "` + uuidDashed + `"`,
	`urn:ietf:params:scim:schemas:extension:roster:2.0:User:ssn eq "123456789"`,
}

func TestUserExprInvalid(t *testing.T) {
	for _, in := range badUserFilters {
		f, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		got, err := UserExpr(f)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("UserExpr(%q) = %#v, %v; want *Error", in, got, err)
			continue
		}
		if fe.Pos != -1 || fe.Error() != fe.Msg || fe.Msg == "" {
			t.Errorf("UserExpr(%q): error %#v, want a message and Pos -1", in, fe)
		}
	}
}

func TestUserExprHandBuilt(t *testing.T) {
	for _, e := range []Expr{
		nil,
		And{},
		Or{L: Present{p("userName")}},
		Not{},
		ValuePath{Path: p("emails")},
		(*And)(nil),
		(*Compare)(nil),
		Compare{Path: p("userName"), Op: "like", Value: "x"},
		Compare{Path: p("userName"), Op: "eq", Value: 3},
		Compare{Path: p("userName"), Op: "eq", Value: []string{"x"}},
		ValuePath{Path: p("emails.value"), Filter: Present{p("value")}},
	} {
		got, err := UserExpr(e)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("UserExpr(%#v) = %#v, %v; want *Error", e, got, err)
		}
	}
	// Pointers and upper-case operators from a hand-built tree work.
	got, err := UserExpr(&And{L: &Compare{Path: p("userName"), Op: "EQ", Value: "a"}, R: &Present{Path: p("locale")}})
	want := directory.And{L: fold(directory.FieldUsername, directory.OpEq, "a"), R: pres(directory.FieldLocale)}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("UserExpr(pointers) = %#v, %v; want %#v", got, err, want)
	}
}

func TestUserExprRFCExamples(t *testing.T) {
	// Several RFC examples name attributes Roster does not keep (title,
	// userType, ims, schemas); each must translate or fail with *Error.
	translated := 0
	for _, tc := range rfcExamples {
		f, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		_, err = UserExpr(f)
		var fe *Error
		switch {
		case err == nil:
			translated++
		case !errors.As(err, &fe):
			t.Errorf("UserExpr(%q): %v, want *Error", tc.in, err)
		}
	}
	if translated != 8 {
		t.Errorf("translated %d RFC examples, want 8", translated)
	}
}

func TestGroupExpr(t *testing.T) {
	created := mustTime(t, "2024-01-02T03:04:05Z")
	tests := []struct {
		name string
		in   string
		want directory.Expr
	}{
		{"displayName", `displayName eq "Admins"`, fold(directory.FieldDisplayName, directory.OpEq, "Admins")},
		{"displayName URI", `urn:ietf:params:scim:schemas:core:2.0:Group:displayName sw "Ad"`, fold(directory.FieldDisplayName, directory.OpSw, "Ad")},
		{"externalId", `externalId eq "g-1"`, dcmp(directory.FieldExternalID, directory.OpEq, "g-1")},
		{"id", `id eq "` + uuidHex + `"`, dcmp(directory.FieldID, directory.OpEq, uuidDashed)},
		{"members", `members eq "` + uuidDashed + `"`, dcmp(directory.FieldMemberID, directory.OpEq, uuidDashed)},
		{"members.value", `members.value eq "` + uuidDashed + `"`, dcmp(directory.FieldMemberID, directory.OpEq, uuidDashed)},
		{"members value path", `members[value eq "` + uuidDashed + `"]`, dcmp(directory.FieldMemberID, directory.OpEq, uuidDashed)},
		{"members not a uuid", `members[value eq "2819c223"]`, directory.Const(false)},
		{"members and displayName", `displayName eq "Admins" and members[value eq "` + uuidDashed + `"]`,
			directory.And{L: fold(directory.FieldDisplayName, directory.OpEq, "Admins"), R: dcmp(directory.FieldMemberID, directory.OpEq, uuidDashed)}},
		{"created", `meta.created ge "2024-01-02T03:04:05Z"`, dcmp(directory.FieldCreatedAt, directory.OpGe, created)},
		{"lastModified", `meta.lastModified lt "2024-01-02T03:04:05Z"`, dcmp(directory.FieldUpdatedAt, directory.OpLt, created)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			got, err := GroupExpr(f)
			if err != nil {
				t.Fatalf("GroupExpr(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("GroupExpr(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

var badGroupFilters = []string{
	`userName eq "x"`,
	`members pr`,
	`members ne "` + uuidDashed + `"`,
	`members.display eq "Ann"`,
	`members[type eq "User"]`,
	`members[value eq "` + uuidDashed + `" and value eq "` + uuidOther + `"]`,
	`displayName eq 1`,
	`urn:ietf:params:scim:schemas:core:2.0:User:displayName eq "x"`,
	`meta.created co "2024"`,
	`emails pr`,
}

func TestGroupExprInvalid(t *testing.T) {
	for _, in := range badGroupFilters {
		f, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		got, err := GroupExpr(f)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("GroupExpr(%q) = %#v, %v; want *Error", in, got, err)
		}
	}
}

func TestSortFields(t *testing.T) {
	users := []struct {
		in   string
		want directory.Field
		ok   bool
	}{
		{"userName", directory.FieldUsername, true},
		{"USERNAME", directory.FieldUsername, true},
		{"urn:ietf:params:scim:schemas:core:2.0:User:userName", directory.FieldUsername, true},
		{"id", directory.FieldID, true},
		{"externalId", directory.FieldExternalID, true},
		{"name.givenName", directory.FieldFirstName, true},
		{"name.familyName", directory.FieldLastName, true},
		{"emails", directory.FieldEmail, true},
		{"emails.value", directory.FieldEmail, true},
		{"locale", directory.FieldLocale, true},
		{"meta.created", directory.FieldCreatedAt, true},
		{"meta.lastModified", directory.FieldUpdatedAt, true},
		{"active", "", false},
		{"displayName", "", false},
		{"name", "", false},
		{"urn:ietf:params:scim:schemas:core:2.0:Group:userName", "", false},
		{"emails[type eq \"work\"].value", "", false},
		{"userName ", "", false},
		{"", "", false},
	}
	for _, tc := range users {
		got, ok := UserSortField(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("UserSortField(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	groups := []struct {
		in   string
		want directory.Field
		ok   bool
	}{
		{"displayName", directory.FieldDisplayName, true},
		{"urn:ietf:params:scim:schemas:core:2.0:Group:displayName", directory.FieldDisplayName, true},
		{"id", directory.FieldID, true},
		{"meta.created", directory.FieldCreatedAt, true},
		{"meta.lastModified", directory.FieldUpdatedAt, true},
		{"externalId", "", false},
		{"members", "", false},
		{"userName", "", false},
	}
	for _, tc := range groups {
		got, ok := GroupSortField(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("GroupSortField(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	// Every mapped user sort field is one the store can sort by.
	for _, f := range userSortFields {
		sortable := false
		for _, s := range directory.SortableUserFields {
			sortable = sortable || s == f
		}
		if !sortable {
			t.Errorf("user sort field %q is not in directory.SortableUserFields", f)
		}
	}
}
