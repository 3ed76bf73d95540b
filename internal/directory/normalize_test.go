package directory

import (
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/secret"
)

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"john.doe@example.com", true},
		{"JOHN+tag@Example.CO.uk", true},
		{"", false},
		{"john", false},
		{"john@", false},
		{"@example.com", false},
		{"john@localhost", false},
		{"John <john@example.com>", false},
		{"john@example.com ", false},
		{"john@.example.com", false},
		{"john@example.com.", false},
		{strings.Repeat("a", 250) + "@example.com", false},
	}
	for _, tt := range tests {
		if got := ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPhones(t *testing.T) {
	tests := []struct {
		in       string
		e164     bool
		wantNorm string
	}{
		{"+14155554193", true, "+14155554193"},
		{"+15556667777", true, "+15556667777"}, // 555: possible, not assigned
		{"+442071838750", true, "+442071838750"},
		{"+161385699876", false, "+161385699876"}, // Entrust's example: not a possible number
		{"(415) 555-4193", false, "+14155554193"}, // parses as US, but not written in E.164
		{"+1 415 555 4193", false, "+14155554193"},
		{"12345", false, "12345"},
		{"+0123456789", false, "+0123456789"},
		{"+1415555419312345678", false, "+1415555419312345678"},
		{"abc", false, ""},
	}
	for _, tt := range tests {
		if got := ValidE164(tt.in); got != tt.e164 {
			t.Errorf("ValidE164(%q) = %v, want %v", tt.in, got, tt.e164)
		}
		if got, _ := NormalizePhone(tt.in); got != tt.wantNorm {
			t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.wantNorm)
		}
	}
}

func TestNormalizeSSN(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"222233333", "222233333", true},
		{"222-23-3333", "222233333", true},
		{" 123-45-6789 ", "123456789", true},
		{"000123456", "", false}, // area 000
		{"666123456", "", false}, // area 666
		{"900123456", "", false}, // area 9xx
		{"123001234", "", false}, // group 00
		{"123450000", "", false}, // serial 0000
		{"12345678", "", false},
		{"1234567890", "", false},
		{"12-345-6789", "", false},
		{"12345678a", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeSSN(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeSSN(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidUSState(t *testing.T) {
	for _, s := range []string{"CA", "ny", "DC", "PR", "GU", "VI"} {
		if !ValidUSState(s) {
			t.Errorf("ValidUSState(%q) = false", s)
		}
	}
	for _, s := range []string{"", "XX", "AE", "California", "C", "CAL"} {
		if ValidUSState(s) {
			t.Errorf("ValidUSState(%q) = true", s)
		}
	}
}

func TestParseID(t *testing.T) {
	const dashed = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	for _, in := range []string{dashed, "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", strings.ToUpper(dashed)} {
		if got, ok := ParseID(in); !ok || got != dashed {
			t.Errorf("ParseID(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "1", "{" + dashed + "}", "urn:uuid:" + dashed, dashed + "0", "zz90a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"} {
		if _, ok := ParseID(in); ok {
			t.Errorf("ParseID(%q) ok", in)
		}
	}
	if HexID(dashed) != "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b" {
		t.Error("HexID")
	}
}

func TestPrepare(t *testing.T) {
	strict := Rules{Required: []Field{FieldFirstName, FieldLastName, FieldAddressState}, Checks: CheckEmail | CheckPhone | CheckUSAddress}
	tests := []struct {
		name      string
		user      User
		rules     Rules
		wantField []Field // fields that must be reported; nil = valid
	}{
		{"valid", User{FirstName: " Ann ", LastName: "Lee", Email: "Ann@Example.com", Phone: "+15556667777", Address: Address{State: "CA", Country: "US"}}, strict, nil},
		{"missing required", User{Address: Address{State: "CA"}}, strict, []Field{FieldFirstName, FieldLastName}},
		{"bad email phone state country", User{FirstName: "a", LastName: "b", Email: "nope", Phone: "555", Address: Address{State: "ZZ", Country: "CA"}}, strict,
			[]Field{FieldEmail, FieldPhone, FieldAddressState, FieldAddressCountry}},
		{"lenient dialect keeps odd phone", User{Phone: "+161385699876"}, Rules{}, nil},
		{"format check accepts an impossible number", User{Phone: "+1234567890"}, Rules{Checks: CheckPhoneFormat}, nil},
		{"format check rejects separators", User{Phone: "+1 (555) 666-7777", Mobile: "5556667777"}, Rules{Checks: CheckPhoneFormat}, []Field{FieldPhone, FieldMobile}},
		{"possible check rejects an impossible number", User{Phone: "+1234567890"}, Rules{Checks: CheckPhone}, []Field{FieldPhone}},
		{"ssn shape always checked", User{SSN: secret.Value("12-345")}, Rules{}, []Field{FieldSSN}},
		{"ssn structure when asked", User{SSN: secret.Value("000-12-3456")}, Rules{Checks: CheckSSNStructure}, []Field{FieldSSN}},
		{"bad state value", User{State: "ENABLED"}, Rules{}, []Field{FieldState}},
		{"control character", User{FirstName: "a\x00b"}, Rules{}, []Field{FieldFirstName}},
		{"too long", User{LastName: strings.Repeat("x", 257)}, Rules{}, []Field{FieldLastName}},
		{"alias repeats username", User{Username: "John", Aliases: []Alias{{Type: "CUSTOM", Value: "john"}}}, Rules{}, []Field{FieldAliases}},
		{"empty alias", User{Aliases: []Alias{{Type: "CUSTOM", Value: " "}}}, Rules{}, []Field{FieldAliases}},
		{"empty attribute name", User{Attributes: []Attribute{{Name: "", Value: "x"}}}, Rules{}, []Field{FieldAttributes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user.Clone()
			err := prepare(u, nil, tt.rules)
			if tt.wantField == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want *ValidationError", err)
			}
			for _, f := range tt.wantField {
				if !ve.Has(f) {
					t.Errorf("error %v does not name %s", ve, f)
				}
			}
			if len(ve.Errors) != len(tt.wantField) {
				t.Errorf("got %d field errors (%v), want %d", len(ve.Errors), ve, len(tt.wantField))
			}
		})
	}
}

func TestPrepareNormalises(t *testing.T) {
	u := &User{Username: " JDoe ", Email: " John@Example.COM ", Phone: "+1 415 555 4193", SSN: "222-23-3333", Aliases: []Alias{{Type: "CUSTOM", Value: "Johnny"}}}
	if err := prepare(u, nil, Rules{}); err != nil {
		t.Fatal(err)
	}
	if u.Username != "JDoe" || u.UsernameNorm != "jdoe" {
		t.Errorf("username %q norm %q", u.Username, u.UsernameNorm)
	}
	if u.Email != "John@Example.COM" || u.EmailNorm != "john@example.com" {
		t.Errorf("email %q norm %q: want the value kept as sent, trimmed", u.Email, u.EmailNorm)
	}
	if u.PhoneNorm != "+14155554193" {
		t.Errorf("phone norm %q", u.PhoneNorm)
	}
	if u.SSN.Reveal() != "222233333" {
		t.Errorf("ssn %q", u.SSN.Reveal())
	}
	if u.State != StateActive || u.Aliases[0].ID == "" {
		t.Errorf("state %q alias id %q: want defaults filled", u.State, u.Aliases[0].ID)
	}
	got := claims(u, UniquePolicy{Email: true, Phone: true, ExternalID: true})
	want := []Claim{{ClaimLogin, "jdoe"}, {ClaimLogin, "johnny"}, {ClaimEmail, "john@example.com"}, {ClaimPhone, "+14155554193"}}
	if len(got) != len(want) {
		t.Fatalf("claims %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("claim %d = %v, want %v", i, got[i], want[i])
		}
	}
	if cs := claims(u, UniquePolicy{}); len(cs) != 2 {
		t.Errorf("policy none: claims %v, want only the two logins", cs)
	}
}

// TestPrepareUpdateChecksChangedOnly: a user written through a lenient
// dialect can be edited through a strict one without the untouched value
// failing the strict dialect's check.
func TestPrepareUpdateChecksChangedOnly(t *testing.T) {
	old := &User{FirstName: "a", Phone: "+161385699876"}
	if err := prepare(old, nil, Rules{}); err != nil {
		t.Fatal(err)
	}
	strict := Rules{Checks: CheckPhone, Required: []Field{FieldFirstName}}
	u := old.Clone()
	u.LastName = "b"
	if err := prepare(u, old, strict); err != nil {
		t.Fatalf("untouched phone rejected: %v", err)
	}
	u = old.Clone()
	u.Phone = "+1613856998"
	if err := prepare(u, old, strict); err == nil {
		t.Fatal("changed non-E.164 phone accepted")
	}
	u = old.Clone()
	u.FirstName = ""
	if err := prepare(u, old, strict); err == nil {
		t.Fatal("clearing a required field accepted")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := Cursor{Values: []string{"ann", "17"}, ID: "x"}
	got, err := DecodeCursor(c.Encode())
	if err != nil || got.ID != "x" || len(got.Values) != 2 || got.Values[1] != "17" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{"", "!!", "e30", "bnVsbA"} {
		if _, err := DecodeCursor(bad); err == nil {
			t.Errorf("DecodeCursor(%q) succeeded", bad)
		}
	}
}

func TestConflictErrorIs(t *testing.T) {
	var err error = &ConflictError{Field: FieldEmail}
	if !errors.Is(err, ErrConflict) {
		t.Fatal("ConflictError is not ErrConflict")
	}
	if !errors.Is(&ClaimConflict{}, ErrConflict) {
		t.Fatal("ClaimConflict is not ErrConflict")
	}
}

func TestRulesCheck(t *testing.T) {
	r := Rules{Required: []Field{FieldFirstName}, Checks: CheckEmail | CheckPhoneFormat}
	u := &User{Email: "nope", Phone: "555"}
	got := r.Check(u, FieldPhone)
	if len(got) != 1 || got[0].Field != FieldPhone {
		t.Fatalf("Check(phone) = %v, want one phone error (not e-mail, not the required first name)", got)
	}
	if got := r.Check(&User{Phone: "+1234567890"}, FieldPhone); got != nil {
		t.Fatalf("valid phone: got %v", got)
	}
	if u.Phone != "555" {
		t.Fatal("Check modified its argument")
	}
}
