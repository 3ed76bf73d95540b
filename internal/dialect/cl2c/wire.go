package cl2c

import (
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Keys of the CL2C values kept in directory.User.Extras.
const (
	extraWalletAddress = "walletAddress"
	extraAuthLocation  = "authLocation"
	extraPushToken     = "pushToken"
)

// createBody is the documented create request. Plain strings: null and
// absent both read as "" and then fail the required checks.
type createBody struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Email       string `json:"email"`
	UserName    string `json:"userName"`
	PhoneNumber string `json:"phoneNumber"`
}

// updateBody is the documented update request. Every field but id is
// optional: absent leaves the value alone, null or "" clears it.
type updateBody struct {
	ID          string              `json:"id"`
	FirstName   httpapi.Opt[string] `json:"firstName"`
	LastName    httpapi.Opt[string] `json:"lastName"`
	PhoneNumber httpapi.Opt[string] `json:"phoneNumber"`
	PushToken   httpapi.Opt[string] `json:"pushToken"`
}

// userJSON is the documented user object (create, update, get, delete).
// userName, firstName, lastName and email, which a CL2C create requires,
// are always strings: "" for a user another dialect created without one
// (a client that created its users here has never seen them null). No
// other field stands in for a missing userName: the e-mail is a contact,
// not a login name, and is not unique under every tenant policy. The
// optional values Roster does not know are null (strings) or false
// (booleans).
type userJSON struct {
	ID             string  `json:"id"`
	UserName       string  `json:"userName"`
	FirstName      string  `json:"firstName"`
	LastName       string  `json:"lastName"`
	Email          string  `json:"email"`
	EmailConfirmed bool    `json:"emailConfirmed"`
	Authenticated  bool    `json:"authenticated"`
	AuthValidUpto  *string `json:"authValidUpto"`
	AuthLocation   *string `json:"authLocation"`
	PhoneNumber    *string `json:"phoneNumber"`
	WalletAddress  *string `json:"walletAddress"`
}

// listItemJSON is a user as the vendor's list example shows it: the user
// object without authValidUpto and authLocation.
type listItemJSON struct {
	ID             string  `json:"id"`
	UserName       string  `json:"userName"`
	FirstName      string  `json:"firstName"`
	LastName       string  `json:"lastName"`
	Email          string  `json:"email"`
	EmailConfirmed bool    `json:"emailConfirmed"`
	Authenticated  bool    `json:"authenticated"`
	PhoneNumber    *string `json:"phoneNumber"`
	WalletAddress  *string `json:"walletAddress"`
}

// toUser maps a core user to the CL2C user object. Roster has no end-user
// sessions, so authenticated is false and authValidUpto null.
func toUser(u *directory.User) userJSON {
	return userJSON{
		ID:             u.ID,
		UserName:       u.Username,
		FirstName:      u.FirstName,
		LastName:       u.LastName,
		Email:          u.Email,
		EmailConfirmed: u.EmailVerified,
		AuthLocation:   httpapi.NullIfEmpty(u.Extras[extraAuthLocation]),
		PhoneNumber:    httpapi.NullIfEmpty(u.Phone),
		WalletAddress:  httpapi.NullIfEmpty(u.Extras[extraWalletAddress]),
	}
}

// toListItem maps a core user to a list item.
func toListItem(u *directory.User) listItemJSON {
	return listItemJSON{
		ID:             u.ID,
		UserName:       u.Username,
		FirstName:      u.FirstName,
		LastName:       u.LastName,
		Email:          u.Email,
		EmailConfirmed: u.EmailVerified,
		PhoneNumber:    httpapi.NullIfEmpty(u.Phone),
		WalletAddress:  httpapi.NullIfEmpty(u.Extras[extraWalletAddress]),
	}
}

// createRules are what a CL2C create must satisfy: the four values the
// vendor calls "essential" are required, and no format is checked. The
// vendor documents none (every field is "string"), and its own "Example
// Request Body" sends "string" for each of them, e-mail and phone number
// included; a request the vendor shows as valid must succeed. The core
// still refuses control characters and over-long values, and normalises a
// copy of the e-mail and phone for uniqueness.
var createRules = directory.Rules{
	Required: []directory.Field{directory.FieldEmail, directory.FieldUsername, directory.FieldFirstName, directory.FieldLastName},
}

// updateRules: the names stay required when an update changes them.
var updateRules = directory.Rules{
	Required: []directory.Field{directory.FieldFirstName, directory.FieldLastName},
}

// toCore returns the core user a create body describes; the core checks it
// under createRules and reports every violation in one error.
func (b *createBody) toCore() *directory.User {
	return &directory.User{
		Username:  b.UserName,
		FirstName: b.FirstName,
		LastName:  b.LastName,
		Email:     b.Email,
		Phone:     b.PhoneNumber,
	}
}

// check reports the CL2C rule violations of an update body before the user
// is looked up: a missing or malformed id and a cleared name, all in one
// 400 as the vendor's FluentValidation would. It returns the canonical id.
func (b *updateBody) check() (string, error) {
	ve := &directory.ValidationError{}
	id, ok := "", false
	switch strings.TrimSpace(b.ID) {
	case "":
		ve.Errors = append(ve.Errors, directory.FieldError{Field: directory.FieldID, Code: directory.CodeRequired})
	default:
		if id, ok = directory.ParseID(strings.TrimSpace(b.ID)); !ok {
			ve.Errors = append(ve.Errors, directory.FieldError{Field: directory.FieldID, Code: directory.CodeInvalid})
		}
	}
	if b.FirstName.Set && strings.TrimSpace(b.FirstName.Value) == "" {
		ve.Errors = append(ve.Errors, directory.FieldError{Field: directory.FieldFirstName, Code: directory.CodeRequired})
	}
	if b.LastName.Set && strings.TrimSpace(b.LastName.Value) == "" {
		ve.Errors = append(ve.Errors, directory.FieldError{Field: directory.FieldLastName, Code: directory.CodeRequired})
	}
	if len(ve.Errors) > 0 {
		return "", ve
	}
	return id, nil
}

// apply writes the fields present in b onto u.
func (b *updateBody) apply(u *directory.User) {
	if b.FirstName.Set {
		u.FirstName = b.FirstName.Value
	}
	if b.LastName.Set {
		u.LastName = b.LastName.Value
	}
	if b.PhoneNumber.Set {
		u.Phone = b.PhoneNumber.Value
	}
	if b.PushToken.Set {
		if u.Extras == nil {
			u.Extras = map[string]string{}
		}
		u.Extras[extraPushToken] = b.PushToken.Value // "" is dropped by the core
	}
}

// wireField is a core field as CL2C names it: the camelCase JSON key, the
// words FluentValidation would show, and the core's length limit.
type wireField struct {
	key     string
	display string
	max     int
}

var wireFields = map[directory.Field]wireField{
	directory.FieldID:              {"id", "Id", 0},
	directory.FieldUsername:        {"userName", "User Name", 256},
	directory.FieldFirstName:       {"firstName", "First Name", 256},
	directory.FieldLastName:        {"lastName", "Last Name", 256},
	directory.FieldEmail:           {"email", "Email", 254},
	directory.FieldPhone:           {"phoneNumber", "Phone Number", 32},
	"extras." + extraPushToken:     {"pushToken", "Push Token", 2048},
	"extras." + extraWalletAddress: {"walletAddress", "Wallet Address", 2048},
	"extras." + extraAuthLocation:  {"authLocation", "Auth Location", 2048},
	// Query parameters of the list.
	"pageNumber": {"pageNumber", "Page Number", 0},
	"pageSize":   {"pageSize", "Page Size", 0},
}

// wireFieldOf names f on the wire. Fields CL2C does not write can only fail
// on a user another dialect wrote; they get a camelCase form of the core
// name.
func wireFieldOf(f directory.Field) wireField {
	if wf, ok := wireFields[f]; ok {
		return wf
	}
	parts := strings.FieldsFunc(string(f), func(r rune) bool { return r == '_' || r == '.' })
	key, words := "", make([]string, len(parts))
	for i, p := range parts {
		title := strings.ToUpper(p[:1]) + p[1:]
		words[i] = title
		if i == 0 {
			key += p
		} else {
			key += title
		}
	}
	if key == "" {
		key = "$"
	}
	return wireField{key: key, display: strings.Join(words, " ")}
}
