package directory

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/roster-dev/roster/internal/secret"
)

// Checks are the optional validations a dialect turns on: each vendor
// documents different ones, and a request its documentation shows as valid
// must succeed. The checks every dialect gets regardless (lengths, control
// characters, SSN structure, state values, duplicate aliases) are always on.
type Checks uint8

const (
	// CheckEmail rejects an e-mail that is not a bare valid address.
	CheckEmail Checks = 1 << iota
	// CheckPhone rejects a phone or mobile not written in E.164.
	CheckPhone
	// CheckUSAddress requires address.state to be a USPS code and
	// address.country, when set, to be "US".
	CheckUSAddress
	// CheckPhoneFormat rejects a phone or mobile not written in E.164
	// form, without CheckPhone's question whether the number is possible.
	CheckPhoneFormat
	// CheckSSNStructure rejects an SSN that cannot have been issued (area
	// 000, 666 or 9xx, group 00, serial 0000). The nine-digit shape is
	// always checked; Truv, which documents ssn as a plain string and
	// whose clients send test values such as 000123456, leaves this off.
	CheckSSNStructure
)

// Rules are what one dialect's write must satisfy beyond the always-on
// checks.
type Rules struct {
	// Required fields must be non-empty after the write. FieldAddress
	// means "some address field is set".
	Required []Field
	Checks   Checks
}

// Check runs r's checks (not its required fields) on the listed fields of
// u, as a create would, and returns their errors. A dialect uses it to
// report problems of a write in one response together with wire-level ones
// it finds before the core sees the write (a malformed id, say).
func (r Rules) Check(u *User, fields ...Field) []FieldError {
	var ve *ValidationError
	if !errors.As(prepare(u.Clone(), nil, Rules{Checks: r.Checks}), &ve) {
		return nil
	}
	var out []FieldError
	for _, fe := range ve.Errors {
		if slices.Contains(fields, fe.Field) {
			out = append(out, fe)
		}
	}
	return out
}

// ParseID accepts a user or group id as a dashed UUID or as 32 hex
// characters (Truv's form) in either case, and returns the canonical dashed
// lower-case form.
func ParseID(s string) (string, bool) {
	if len(s) != 32 && len(s) != 36 {
		return "", false
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// HexID returns id (dashed UUID) as 32 lower-case hex characters.
func HexID(id string) string { return strings.ReplaceAll(id, "-", "") }

// stringField is one plain text field of a user, for the generic checks.
type stringField struct {
	field Field
	max   int
	get   func(*User) *string
}

var userStringFields = []stringField{
	{FieldUsername, maxName, func(u *User) *string { return &u.Username }},
	{FieldExternalID, maxName, func(u *User) *string { return &u.ExternalID }},
	{FieldExternalSource, maxName, func(u *User) *string { return &u.ExternalSource }},
	{FieldFirstName, maxName, func(u *User) *string { return &u.FirstName }},
	{FieldLastName, maxName, func(u *User) *string { return &u.LastName }},
	{FieldEmail, maxEmail, func(u *User) *string { return &u.Email }},
	{FieldPhone, maxPhone, func(u *User) *string { return &u.Phone }},
	{FieldMobile, maxPhone, func(u *User) *string { return &u.Mobile }},
	{FieldLocale, 35, func(u *User) *string { return &u.Locale }},
	{FieldAddressLine1, maxName, func(u *User) *string { return &u.Address.Line1 }},
	{FieldAddressLine2, maxName, func(u *User) *string { return &u.Address.Line2 }},
	{FieldAddressCity, maxName, func(u *User) *string { return &u.Address.City }},
	{FieldAddressState, maxName, func(u *User) *string { return &u.Address.State }},
	{FieldAddressCountry, maxName, func(u *User) *string { return &u.Address.Country }},
	{FieldAddressZip, 32, func(u *User) *string { return &u.Address.Zip }},
}

// fieldValue returns the text of a required-able field.
func fieldValue(u *User, f Field) string {
	switch f {
	case FieldSSN:
		return u.SSN.Reveal()
	case FieldAddress:
		if u.Address.IsZero() {
			return ""
		}
		return "set"
	case FieldState:
		return u.State
	}
	for _, sf := range userStringFields {
		if sf.field == f {
			return *sf.get(u)
		}
	}
	return "set" // fields with no text form cannot be "empty"
}

// prepare trims, validates and normalises u in place. old is the stored
// user on update (nil on create): checks that depend on the dialect apply
// only to fields the write changed, so that a user written through one
// dialect can be edited through another without tripping over a value the
// second dialect's vendor would not have accepted.
func prepare(u, old *User, r Rules) error {
	ve := &ValidationError{}
	changed := func(f Field) bool { return old == nil || fieldValue(old, f) != fieldValue(u, f) }

	for _, sf := range userStringFields {
		p := sf.get(u)
		v, problem := cleanText(*p, sf.max)
		*p = v
		if problem != "" {
			code := CodeInvalid
			if problem == "is too long" {
				code = CodeTooLong
			}
			ve.add(sf.field, code, fmt.Sprintf("%s %s", sf.field, problem))
		}
	}

	prepareValues(u, ve)
	syncValues(u, old)

	if u.State == "" {
		u.State = StateActive
	}
	if u.State != StateActive && u.State != StateInactive {
		ve.add(FieldState, CodeInvalid, "state must be ACTIVE or INACTIVE")
	}

	if !u.SSN.IsZero() {
		digits, ok := SSNDigits(u.SSN.Reveal())
		switch {
		case ok && (r.Checks&CheckSSNStructure == 0 || ValidSSNStructure(digits)):
			u.SSN = secret.Value(digits)
		case !changed(FieldSSN):
		case !ok:
			ve.add(FieldSSN, CodeInvalid, "ssn must be 9 digits")
		default:
			ve.add(FieldSSN, CodeInvalid, "ssn must be a structurally valid SSN")
		}
	}

	for _, f := range r.Required {
		if fieldValue(u, f) == "" && (old == nil || changed(f)) {
			ve.add(f, CodeRequired, fmt.Sprintf("%s is required", f))
		}
	}

	if r.Checks&CheckEmail != 0 {
		if u.Email != "" && changed(FieldEmail) && !ValidEmail(u.Email) {
			ve.add(FieldEmail, CodeInvalid, "email is not a valid e-mail address")
		}
		// Every e-mail of the list, not only the one Email shows, when
		// the list was written.
		if old == nil || !slices.Equal(u.Values[KindEmail], old.Values[KindEmail]) {
			for _, v := range u.Values[KindEmail] {
				if v.Value != u.Email && !ValidEmail(v.Value) {
					ve.add(FieldEmail, CodeInvalid, fmt.Sprintf("%q is not a valid e-mail address", v.Value))
				}
			}
		}
	}
	if r.Checks&CheckPhone != 0 {
		if u.Phone != "" && changed(FieldPhone) && !ValidE164(u.Phone) {
			ve.add(FieldPhone, CodeInvalid, "phone must be in E.164 format, e.g. +15556667777")
		}
		if u.Mobile != "" && changed(FieldMobile) && !ValidE164(u.Mobile) {
			ve.add(FieldMobile, CodeInvalid, "mobile must be in E.164 format, e.g. +15556667777")
		}
	}
	if r.Checks&CheckPhoneFormat != 0 && r.Checks&CheckPhone == 0 {
		if u.Phone != "" && changed(FieldPhone) && !ValidE164Format(u.Phone) {
			ve.add(FieldPhone, CodeInvalid, "phone must be in E.164 format, e.g. +15556667777")
		}
		if u.Mobile != "" && changed(FieldMobile) && !ValidE164Format(u.Mobile) {
			ve.add(FieldMobile, CodeInvalid, "mobile must be in E.164 format, e.g. +15556667777")
		}
	}
	if r.Checks&CheckUSAddress != 0 {
		if u.Address.State != "" && changed(FieldAddressState) && !ValidUSState(u.Address.State) {
			ve.add(FieldAddressState, CodeInvalid, "address.state must be a two-letter USPS state code")
		}
		if u.Address.Country != "" && changed(FieldAddressCountry) && !strings.EqualFold(u.Address.Country, "US") {
			ve.add(FieldAddressCountry, CodeInvalid, "address.country must be US")
		}
	}

	prepareLists(u, ve)

	u.UsernameNorm = strings.ToLower(u.Username)
	u.EmailNorm = NormalizeEmail(u.Email)
	u.PhoneNorm, _ = NormalizePhone(u.Phone)
	u.MobileNorm, _ = NormalizePhone(u.Mobile)
	return ve.orNil()
}

// prepareLists checks aliases, attributes and extras.
func prepareLists(u *User, ve *ValidationError) {
	if len(u.Aliases) > maxListItems {
		ve.add(FieldAliases, CodeTooLong, fmt.Sprintf("at most %d aliases", maxListItems))
	}
	seen := map[string]bool{}
	if u.Username != "" {
		seen[strings.ToLower(u.Username)] = true
	}
	for i := range u.Aliases {
		a := &u.Aliases[i]
		v, problem := cleanText(a.Value, maxName)
		a.Value = v
		t, tproblem := cleanText(a.Type, 32)
		a.Type = t
		switch {
		case problem != "" || tproblem != "":
			ve.add(FieldAliases, CodeInvalid, "alias "+problem+tproblem)
		case v == "":
			ve.add(FieldAliases, CodeRequired, "alias value is required")
		case seen[strings.ToLower(v)]:
			ve.add(FieldAliases, CodeInvalid, fmt.Sprintf("alias %q repeats the username or another alias", v))
		}
		seen[strings.ToLower(v)] = true
		if a.ID == "" {
			a.ID = newID()
		}
	}
	if len(u.Attributes) > maxListItems {
		ve.add(FieldAttributes, CodeTooLong, fmt.Sprintf("at most %d attributes", maxListItems))
	}
	for i := range u.Attributes {
		at := &u.Attributes[i]
		n, p1 := cleanText(at.Name, maxName)
		v, p2 := cleanText(at.Value, maxExtra)
		at.Name, at.Value = n, v
		if p1 != "" || p2 != "" || n == "" {
			ve.add(FieldAttributes, CodeInvalid, "attribute name must be set; "+p1+p2)
		}
	}
	if len(u.Extras) > maxListItems {
		ve.add(FieldExtras, CodeTooLong, fmt.Sprintf("at most %d extra values", maxListItems))
	}
	for k, v := range u.Extras {
		// No control characters: PostgreSQL's jsonb, which filters on
		// extras read, refuses a NUL in a key.
		if k == "" || len(k) > 64 || !utf8.ValidString(k) || strings.ContainsFunc(k, unicode.IsControl) {
			ve.add(FieldExtras, CodeInvalid, "extra value names are 1 to 64 bytes of printable text")
			continue
		}
		clean, problem := cleanText(v, maxExtra)
		if problem != "" {
			ve.add(Field("extras."+k), CodeInvalid, k+" "+problem)
		}
		if clean == "" {
			delete(u.Extras, k)
		} else {
			u.Extras[k] = clean
		}
	}
}

// claims lists the unique identifiers u holds under policy p.
func claims(u *User, p UniquePolicy) []Claim {
	var cs []Claim
	if u.UsernameNorm != "" {
		cs = append(cs, Claim{ClaimLogin, u.UsernameNorm})
	}
	for _, a := range u.Aliases {
		cs = append(cs, Claim{ClaimLogin, strings.ToLower(a.Value)})
	}
	if p.Email && u.EmailNorm != "" {
		cs = append(cs, Claim{ClaimEmail, u.EmailNorm})
	}
	if p.Phone && u.PhoneNorm != "" {
		cs = append(cs, Claim{ClaimPhone, u.PhoneNorm})
	}
	if p.ExternalID && u.ExternalID != "" {
		cs = append(cs, Claim{ClaimExternalID, u.ExternalID})
	}
	if u.PartnerCode != "" {
		cs = append(cs, Claim{ClaimPartnerCode, u.PartnerCode})
	}
	return cs
}

// conflictField names the user field behind a claim conflict.
func conflictField(u *User, c Claim) Field {
	switch c.Kind {
	case ClaimLogin:
		if c.Value == u.UsernameNorm {
			return FieldUsername
		}
		return FieldAlias
	case ClaimEmail:
		return FieldEmail
	case ClaimPhone:
		return FieldPhone
	case ClaimExternalID:
		return FieldExternalID
	case ClaimPartnerCode:
		return FieldPartnerCode
	}
	return Field(c.Kind)
}

// newID returns a UUID v7: time-ordered, so ids index and page well.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil { // only if the CSPRNG fails, which Go treats as fatal anyway
		panic(fmt.Sprintf("uuid v7: %v", err))
	}
	return id.String()
}

// NewID returns a fresh UUID v7 for records dialects create (none today;
// exported for tests and tools).
func NewID() string { return newID() }
