package ownli

import (
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// rules are what Ownli documents for a user: firstName, lastName, phone and
// address with address.state are required; the phone is E.164, the state a
// USPS code and the country, when sent, "US". E-mail syntax is checked too:
// Ownli resolves users by e-mail, so a malformed one would be a dead key.
// On update the core applies them only to the fields the request changed.
var rules = directory.Rules{
	Required: []directory.Field{
		directory.FieldFirstName, directory.FieldLastName, directory.FieldPhone,
		directory.FieldAddress, directory.FieldAddressState,
	},
	Checks: directory.CheckEmail | directory.CheckPhone | directory.CheckUSAddress | directory.CheckSSNStructure,
}

// Keys of directory.User.Extras this dialect owns.
const (
	extraTosAnswer = "tosAnswer"
	extraAdminNote = "adminNote"
	extraFraud     = "fraud"
)

// customFields are the five free-text fields of Ownli's newer docs, stored
// in Extras under their wire names.
var customFields = [5]string{"customField1", "customField2", "customField3", "customField4", "customField5"}

// tosAnswers are the documented values of tosAnswer; "None" is the default
// and is not stored.
var tosAnswers = map[string]bool{"None": true, "Accepted": true, "Declined": true}

const tosNone = "None"

// timeLayout renders dateRegistered and updated: RFC 3339 in UTC with
// milliseconds, e.g. 2026-01-02T03:04:05.000Z.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// maxBody bounds a request body: a user is well under 16 KiB.
const maxBody = 64 << 10

var decodeOpts = httpapi.DecodeOptions{MaxBytes: maxBody, RequireJSONType: true}

// addressBody is Ownli's address, in requests and responses.
type addressBody struct {
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2"`
	City         string `json:"city"`
	State        string `json:"state"`
	Country      string `json:"country"`
	Zip          string `json:"zip"`
}

func (a addressBody) core() directory.Address {
	return directory.Address{
		Line1: a.AddressLine1, Line2: a.AddressLine2, City: a.City,
		State: a.State, Country: a.Country, Zip: a.Zip,
	}
}

// createBody is the POST /api/users body. Unknown fields are ignored, as
// Ownli's Node stack does; JSON null reads as absent.
type createBody struct {
	FirstName       string       `json:"firstName"`
	LastName        string       `json:"lastName"`
	Email           string       `json:"email"`
	Phone           string       `json:"phone"`
	Address         *addressBody `json:"address"`
	IsEmailVerified bool         `json:"isEmailVerified"`
	IsPhoneVerified bool         `json:"isPhoneVerified"`
	CustomField1    string       `json:"customField1"`
	CustomField2    string       `json:"customField2"`
	CustomField3    string       `json:"customField3"`
	CustomField4    string       `json:"customField4"`
	CustomField5    string       `json:"customField5"`
	AdminNote       string       `json:"adminNote"`
	Fraud           bool         `json:"fraud"`
	TosAnswer       string       `json:"tosAnswer"`
}

// user maps the body to a core user. The core trims, normalises and
// validates; this checks only Ownli's own enum (tosAnswer).
func (b *createBody) user() (*directory.User, error) {
	u := &directory.User{
		FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, Phone: b.Phone,
		EmailVerified: b.IsEmailVerified, PhoneVerified: b.IsPhoneVerified,
		Extras: map[string]string{},
	}
	if b.Address != nil {
		u.Address = b.Address.core()
	}
	for i, v := range [5]string{b.CustomField1, b.CustomField2, b.CustomField3, b.CustomField4, b.CustomField5} {
		setExtra(u, customFields[i], v)
	}
	setExtra(u, extraAdminNote, b.AdminNote)
	setFraud(u, b.Fraud)
	if err := setTos(u, b.TosAnswer); err != nil {
		return nil, err
	}
	return u, nil
}

// updateBody is the PUT /api/users/{userId} body: every field is optional.
// An absent field is left alone; null or "" clears it (and clearing a
// required one is a 400). A sent address replaces the stored address
// whole, so it must carry address.state, as Ownli documents.
type updateBody struct {
	FirstName       httpapi.Opt[string]      `json:"firstName"`
	LastName        httpapi.Opt[string]      `json:"lastName"`
	Email           httpapi.Opt[string]      `json:"email"`
	Phone           httpapi.Opt[string]      `json:"phone"`
	Address         httpapi.Opt[addressBody] `json:"address"`
	IsEmailVerified httpapi.Opt[bool]        `json:"isEmailVerified"`
	IsPhoneVerified httpapi.Opt[bool]        `json:"isPhoneVerified"`
	CustomField1    httpapi.Opt[string]      `json:"customField1"`
	CustomField2    httpapi.Opt[string]      `json:"customField2"`
	CustomField3    httpapi.Opt[string]      `json:"customField3"`
	CustomField4    httpapi.Opt[string]      `json:"customField4"`
	CustomField5    httpapi.Opt[string]      `json:"customField5"`
	AdminNote       httpapi.Opt[string]      `json:"adminNote"`
	Fraud           httpapi.Opt[bool]        `json:"fraud"`
	TosAnswer       httpapi.Opt[string]      `json:"tosAnswer"`
}

// check rejects what can be told from the body alone, before the user is
// read: a sent address without a state, and an unknown tosAnswer.
func (b *updateBody) check() error {
	if a, ok := b.Address.Get(); ok && strings.TrimSpace(a.State) == "" {
		return directory.Invalid(directory.FieldAddressState, directory.CodeRequired, "address.state is required")
	}
	if v, ok := b.TosAnswer.Get(); ok && v != "" && !tosAnswers[v] {
		return invalidTos()
	}
	return nil
}

// apply is the UpdateUser mutation.
func (b *updateBody) apply(u *directory.User) error {
	setString(&u.FirstName, b.FirstName)
	setString(&u.LastName, b.LastName)
	setString(&u.Email, b.Email)
	setString(&u.Phone, b.Phone)
	if b.Address.Set {
		u.Address = b.Address.Value.core() // zero when null: the core then says "address is required"
	}
	if b.IsEmailVerified.Set {
		u.EmailVerified = b.IsEmailVerified.Value
	}
	if b.IsPhoneVerified.Set {
		u.PhoneVerified = b.IsPhoneVerified.Value
	}
	if u.Extras == nil {
		u.Extras = map[string]string{}
	}
	for i, o := range [5]httpapi.Opt[string]{b.CustomField1, b.CustomField2, b.CustomField3, b.CustomField4, b.CustomField5} {
		if o.Set {
			setExtra(u, customFields[i], o.Value)
		}
	}
	if b.AdminNote.Set {
		setExtra(u, extraAdminNote, b.AdminNote.Value)
	}
	if b.Fraud.Set {
		setFraud(u, b.Fraud.Value)
	}
	if b.TosAnswer.Set {
		return setTos(u, b.TosAnswer.Value)
	}
	return nil
}

func setString(dst *string, o httpapi.Opt[string]) {
	if o.Set {
		*dst = o.Value // "" when null
	}
}

// setExtra stores v under key, or removes the key when v is blank.
func setExtra(u *directory.User, key, v string) {
	if strings.TrimSpace(v) == "" {
		delete(u.Extras, key)
		return
	}
	u.Extras[key] = v
}

func setFraud(u *directory.User, on bool) {
	if on {
		u.Extras[extraFraud] = "true"
	} else {
		delete(u.Extras, extraFraud)
	}
}

// setTos stores a tosAnswer; "" and "None" are the default and not stored.
func setTos(u *directory.User, v string) error {
	switch {
	case v == "" || v == tosNone:
		delete(u.Extras, extraTosAnswer)
	case tosAnswers[v]:
		u.Extras[extraTosAnswer] = v
	default:
		return invalidTos()
	}
	return nil
}

func invalidTos() error {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameters,
		Message: "tosAnswer must be one of None, Accepted, Declined"}
}

// wireUser is Ownli's user object: the documented fields, then those of
// the newer docs. What Ownli requires on create is always there, so a
// client that reads user.address.state or user.phone.length never meets a
// null it could not have met before: firstName, lastName and phone are
// strings ("" when absent) and address an object (its members null when
// absent). Optional values are null when absent; booleans always present.
type wireUser struct {
	ID             string      `json:"id"`
	FirstName      string      `json:"firstName"`
	LastName       string      `json:"lastName"`
	Email          *string     `json:"email"`
	Phone          string      `json:"phone"`
	Address        wireAddress `json:"address"`
	TosAnswer      string      `json:"tosAnswer"`
	PartnerCode    *string     `json:"partnerCode"`
	DateRegistered string      `json:"dateRegistered"`
	Updated        string      `json:"updated"`
	EmailVerified  bool        `json:"emailVerified"`
	PhoneVerified  bool        `json:"phoneVerified"`
	CustomField1   *string     `json:"customField1"`
	CustomField2   *string     `json:"customField2"`
	CustomField3   *string     `json:"customField3"`
	CustomField4   *string     `json:"customField4"`
	CustomField5   *string     `json:"customField5"`
	AdminNote      *string     `json:"adminNote"`
	Fraud          bool        `json:"fraud"`
}

// wireAddress is addressBody with absent values as null.
type wireAddress struct {
	AddressLine1 *string `json:"addressLine1"`
	AddressLine2 *string `json:"addressLine2"`
	City         *string `json:"city"`
	State        *string `json:"state"`
	Country      *string `json:"country"`
	Zip          *string `json:"zip"`
}

// toWire renders a core user. A user written through another dialect may
// lack fields Ownli requires. Its phone is then its mobile where it has one:
// Ownli's phone is the "Cell Phone Number of the User", which is what the
// core's mobile (Entrust's, SCIM's type "mobile") holds. Nothing stands in
// for a missing name or address: those stay "" and an address of nulls.
func toWire(u *directory.User) wireUser {
	phone := u.Phone
	if phone == "" {
		phone = u.Mobile
	}
	a := u.Address
	w := wireUser{
		ID:        u.ID,
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Email:     httpapi.NullIfEmpty(u.Email),
		Phone:     phone,
		Address: wireAddress{
			AddressLine1: httpapi.NullIfEmpty(a.Line1), AddressLine2: httpapi.NullIfEmpty(a.Line2), City: httpapi.NullIfEmpty(a.City),
			State: httpapi.NullIfEmpty(a.State), Country: httpapi.NullIfEmpty(a.Country), Zip: httpapi.NullIfEmpty(a.Zip),
		},
		TosAnswer:      tosNone,
		PartnerCode:    httpapi.NullIfEmpty(u.PartnerCode),
		DateRegistered: formatTime(u.CreatedAt),
		Updated:        formatTime(u.UpdatedAt),
		EmailVerified:  u.EmailVerified,
		PhoneVerified:  u.PhoneVerified,
		CustomField1:   httpapi.NullIfEmpty(u.Extras[customFields[0]]),
		CustomField2:   httpapi.NullIfEmpty(u.Extras[customFields[1]]),
		CustomField3:   httpapi.NullIfEmpty(u.Extras[customFields[2]]),
		CustomField4:   httpapi.NullIfEmpty(u.Extras[customFields[3]]),
		CustomField5:   httpapi.NullIfEmpty(u.Extras[customFields[4]]),
		AdminNote:      httpapi.NullIfEmpty(u.Extras[extraAdminNote]),
		Fraud:          u.Extras[extraFraud] == "true",
	}
	if v := u.Extras[extraTosAnswer]; v != "" {
		w.TosAnswer = v
	}
	return w
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// listBody is the GET /api/users envelope.
type listBody struct {
	Users    []wireUser `json:"users"`
	Page     int        `json:"page"`
	PageSize int        `json:"pageSize"`
	Total    int        `json:"total"`
}

// tokenRequest is the POST /api/auth/token body.
type tokenRequest struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	PartnerID    string `json:"partnerId"`
	Scope        string `json:"scope"`
}

// tokenResponse is its answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	PartnerID   string `json:"partner_id"`
	Scope       string `json:"scope"`
}

// wireFields names core fields as Ownli's requests do, for error messages.
var wireFields = map[directory.Field]string{
	directory.FieldFirstName:      "firstName",
	directory.FieldLastName:       "lastName",
	directory.FieldEmail:          "email",
	directory.FieldEmailVerified:  "isEmailVerified",
	directory.FieldPhone:          "phone",
	directory.FieldPhoneVerified:  "isPhoneVerified",
	directory.FieldAddress:        "address",
	directory.FieldAddressLine1:   "address.addressLine1",
	directory.FieldAddressLine2:   "address.addressLine2",
	directory.FieldAddressCity:    "address.city",
	directory.FieldAddressState:   "address.state",
	directory.FieldAddressCountry: "address.country",
	directory.FieldAddressZip:     "address.zip",
	directory.FieldExtras:         "customFields",
}

// wireField returns Ownli's name for f; extras are named by their key.
func wireField(f directory.Field) string {
	if n, ok := wireFields[f]; ok {
		return n
	}
	if k, ok := strings.CutPrefix(string(f), "extras."); ok {
		return k
	}
	return string(f)
}
