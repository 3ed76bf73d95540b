package entrust

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Keys of directory.User.Extras this dialect owns. They are namespaced so
// that no other dialect's extra of the same name is mistaken for one.
const (
	extraPrefix          = "entrust."
	extraUPN             = extraPrefix + "userPrincipalName"
	extraSecurityID      = extraPrefix + "securityId"
	extraPreferredOTP    = extraPrefix + "preferredOtpDelivery"
	extraRegistrationReq = extraPrefix + "registrationRequired"
	extraVerificationReq = extraPrefix + "verificationRequired"
	// extraAttrPrefix + name holds a userExtraAttributes entry as
	// "TYPE:value".
	extraAttrPrefix = "xattr."
	// otpContactPrefix + OTP_EMAIL|OTP_SMS|OTP_VOICE holds an entry of
	// preferredOtpDeliveryContactAttributes.
	otpContactPrefix = "otpContact."
)

// maxExtraAttrName keeps "entrust.xattr.<name>" within the core's 64-byte
// extra key limit.
const maxExtraAttrName = 64 - len(extraPrefix+extraAttrPrefix)

// Enumerations of the vendor's spec (UserParms).
var (
	locales = set("da", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "nb", "pl", "pt", "ru", "sv", "th", "tr", "zh-cn", "zh-tw")
	states  = set(directory.StateActive, directory.StateInactive)
	// aliasTypes accepted on input; USERID is handled apart (see applyAliases).
	aliasTypes     = set("CUSTOM", "DERIVED")
	otpDeliveries  = set("EMAIL", "SMS", "VOICE", "SYSTEM")
	extraAttrTypes = set("NONE", "OTP_EMAIL", "OTP_SMS", "OTP_VOICE", "OTP_WECHAT", "OTP_WHATSAPP")
	otpContactKeys = set("OTP_EMAIL", "OTP_SMS", "OTP_VOICE")
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// userParms is the vendor's UserParms, the body of create and update. Every
// field distinguishes absent from null from a value: on update, absent and
// null leave a field unchanged and "" clears it (the vendor: "To unset the
// external ID, specify an empty string").
type userParms struct {
	UserID               httpapi.Opt[string]            `json:"userId"`
	FirstName            httpapi.Opt[string]            `json:"firstName"`
	LastName             httpapi.Opt[string]            `json:"lastName"`
	Email                httpapi.Opt[string]            `json:"email"`
	Mobile               httpapi.Opt[string]            `json:"mobile"`
	Phone                httpapi.Opt[string]            `json:"phone"`
	UserPrincipalName    httpapi.Opt[string]            `json:"userPrincipalName"`
	Locale               httpapi.Opt[string]            `json:"locale"`
	State                httpapi.Opt[string]            `json:"state"`
	ExternalID           httpapi.Opt[string]            `json:"externalId"`
	ExternalSource       httpapi.Opt[string]            `json:"externalSource"`
	SecurityID           httpapi.Opt[string]            `json:"securityId"`
	PreferredOTPDelivery httpapi.Opt[string]            `json:"preferredOtpDelivery"`
	OTPContactAttributes httpapi.Opt[map[string]string] `json:"preferredOtpDeliveryContactAttributes"`
	Lock                 httpapi.Opt[bool]              `json:"lock"`
	RegistrationRequired httpapi.Opt[bool]              `json:"registrationRequired"`
	VerificationRequired httpapi.Opt[bool]              `json:"verificationRequired"`
	UserAliases          httpapi.Opt[[]aliasIn]         `json:"userAliases"`
	UserAttributeValues  httpapi.Opt[[]attrValueIn]     `json:"userAttributeValues"`
	UserExtraAttributes  httpapi.Opt[[]extraAttrIn]     `json:"userExtraAttributes"`
	Groups               httpapi.Opt[[]string]          `json:"groups"`
	OAuthRoles           httpapi.Opt[[]string]          `json:"oauthRoles"`
	Organizations        httpapi.Opt[[]string]          `json:"organizations"`
	// EmailVerification and ApplyGracePeriod are accepted and ignored:
	// Roster sends no e-mail and never freezes users.
	EmailVerification httpapi.Opt[bool] `json:"emailVerification"`
	ApplyGracePeriod  httpapi.Opt[bool] `json:"applyGracePeriod"`
}

type aliasIn struct {
	Value *string `json:"value"`
	Type  *string `json:"type"`
}

type attrValueIn struct {
	UserAttributeID *string `json:"userAttributeId"`
	Value           *string `json:"value"`
}

type extraAttrIn struct {
	Name  *string `json:"name"`
	Type  *string `json:"type"`
	Value *string `json:"value"`
}

// apply writes the fields present in p onto u: the empty user on create, a
// copy of the stored one on update. It checks the vendor's enumerations
// and list shapes; the core checks lengths, required fields, e-mail syntax
// and uniqueness afterwards.
func (p *userParms) apply(u *directory.User) error {
	var fe fieldErrors
	str := func(dst *string, o httpapi.Opt[string]) {
		if v, ok := o.Get(); ok {
			*dst = v
		}
	}
	str(&u.Username, p.UserID)
	str(&u.FirstName, p.FirstName)
	str(&u.LastName, p.LastName)
	str(&u.Email, p.Email)
	str(&u.Mobile, p.Mobile)
	str(&u.Phone, p.Phone)
	str(&u.ExternalID, p.ExternalID)
	str(&u.ExternalSource, p.ExternalSource)
	if v, ok := p.Locale.Get(); ok {
		v = strings.ToLower(strings.TrimSpace(v))
		if v != "" && !locales[v] {
			fe.add("locale", directory.CodeInvalid, "locale must be one of da, de, en, es, fr, it, ja, ko, nl, nb, pl, pt, ru, sv, th, tr, zh-cn, zh-tw, or empty")
		}
		u.Locale = v
	}
	// State "" is treated as absent: a state cannot be cleared.
	if v, ok := p.State.Get(); ok && v != "" {
		if !states[v] {
			fe.add("state", directory.CodeInvalid, "state must be ACTIVE or INACTIVE")
		}
		u.State = v
	}
	if v, ok := p.Lock.Get(); ok {
		u.Locked = v
	}

	if u.Extras == nil {
		u.Extras = map[string]string{}
	}
	extra := func(key string, o httpapi.Opt[string]) {
		if v, ok := o.Get(); ok {
			u.Extras[key] = v // "" is dropped by the core
		}
	}
	extra(extraUPN, p.UserPrincipalName)
	extra(extraSecurityID, p.SecurityID)
	if v, ok := p.PreferredOTPDelivery.Get(); ok {
		if v != "" && !otpDeliveries[v] {
			fe.add("preferredOtpDelivery", directory.CodeInvalid, "preferredOtpDelivery must be EMAIL, SMS, VOICE or SYSTEM")
		}
		u.Extras[extraPreferredOTP] = v
	}
	boolExtra := func(key string, o httpapi.Opt[bool]) {
		if v, ok := o.Get(); ok {
			u.Extras[key] = strconv.FormatBool(v)
		}
	}
	boolExtra(extraRegistrationReq, p.RegistrationRequired)
	boolExtra(extraVerificationReq, p.VerificationRequired)
	if m, ok := p.OTPContactAttributes.Get(); ok {
		for k := range u.Extras {
			if strings.HasPrefix(k, extraPrefix+otpContactPrefix) {
				delete(u.Extras, k)
			}
		}
		for k, v := range m {
			if !otpContactKeys[k] {
				fe.add("preferredOtpDeliveryContactAttributes", directory.CodeInvalid,
					"preferredOtpDeliveryContactAttributes keys must be OTP_EMAIL, OTP_SMS or OTP_VOICE")
				continue
			}
			u.Extras[extraPrefix+otpContactPrefix+k] = v
		}
	}

	if as, ok := p.UserAliases.Get(); ok {
		applyAliases(u, as, &fe)
	}
	if avs, ok := p.UserAttributeValues.Get(); ok {
		applyAttributes(u, avs, &fe)
	}
	if xs, ok := p.UserExtraAttributes.Get(); ok {
		applyExtraAttributes(u, xs, &fe)
	}
	for _, l := range []struct {
		name string
		o    httpapi.Opt[[]string]
	}{{"groups", p.Groups}, {"oauthRoles", p.OAuthRoles}, {"organizations", p.Organizations}} {
		if v, ok := l.o.Get(); ok && len(v) > 0 {
			fe.add(l.name, directory.CodeNotAllowed, l.name+" cannot be assigned through this API in Roster")
		}
	}
	return fe.err()
}

// applyAliases replaces u's aliases. Input aliases of type USERID stand for
// the userId itself (the vendor lists the userId as such an alias): one
// whose value is the userId is ignored, so a GET body can be sent back;
// any other is rejected. An alias keeps its id when its value is kept.
func applyAliases(u *directory.User, in []aliasIn, fe *fieldErrors) {
	old := make(map[string]string, len(u.Aliases))
	for _, a := range u.Aliases {
		old[strings.ToLower(a.Value)] = a.ID
	}
	out := make([]directory.Alias, 0, len(in))
	for i, a := range in {
		name := fmt.Sprintf("userAliases[%d]", i)
		var value, typ string
		if a.Value != nil {
			value = strings.TrimSpace(*a.Value)
		}
		if a.Type != nil {
			typ = *a.Type
		}
		switch {
		case typ == "USERID":
			if !strings.EqualFold(value, strings.TrimSpace(u.Username)) {
				fe.add(name+".type", directory.CodeNotAllowed, "an alias of type USERID must equal the userId; send CUSTOM aliases")
			}
			continue
		case typ == "":
			typ = "CUSTOM"
		case !aliasTypes[typ]:
			fe.add(name+".type", directory.CodeInvalid, "alias type must be CUSTOM or DERIVED")
			continue
		}
		if value == "" {
			fe.add(name+".value", directory.CodeRequired, "alias value is required")
			continue
		}
		out = append(out, directory.Alias{ID: old[strings.ToLower(value)], Type: typ, Value: value})
	}
	u.Aliases = out
}

// applyAttributes replaces u's attribute values. Roster has no attribute
// definitions: userAttributeId is the attribute's name, free text, unique
// per user.
func applyAttributes(u *directory.User, in []attrValueIn, fe *fieldErrors) {
	out := make([]directory.Attribute, 0, len(in))
	seen := map[string]bool{}
	for i, a := range in {
		name := fmt.Sprintf("userAttributeValues[%d]", i)
		var id, value string
		if a.UserAttributeID != nil {
			id = strings.TrimSpace(*a.UserAttributeID)
		}
		if a.Value != nil {
			value = *a.Value
		}
		switch {
		case id == "":
			fe.add(name+".userAttributeId", directory.CodeRequired, "userAttributeId is required")
			continue
		case seen[id]:
			fe.add(name+".userAttributeId", directory.CodeInvalid, "userAttributeId repeats another attribute value")
			continue
		}
		seen[id] = true
		out = append(out, directory.Attribute{Name: id, Value: value})
	}
	u.Attributes = out
}

// applyExtraAttributes replaces u's userExtraAttributes, stored as extras.
func applyExtraAttributes(u *directory.User, in []extraAttrIn, fe *fieldErrors) {
	for k := range u.Extras {
		if strings.HasPrefix(k, extraPrefix+extraAttrPrefix) {
			delete(u.Extras, k)
		}
	}
	for i, x := range in {
		name := fmt.Sprintf("userExtraAttributes[%d]", i)
		var n, typ, value string
		if x.Name != nil {
			n = strings.TrimSpace(*x.Name)
		}
		if x.Type != nil {
			typ = *x.Type
		}
		if x.Value != nil {
			value = *x.Value
		}
		if typ == "" {
			typ = "NONE"
		}
		key := extraPrefix + extraAttrPrefix + n
		switch {
		case n == "":
			fe.add(name+".name", directory.CodeRequired, "name is required")
		case len(n) > maxExtraAttrName:
			fe.add(name+".name", directory.CodeTooLong, fmt.Sprintf("name is longer than %d bytes", maxExtraAttrName))
		case strings.IndexFunc(n, unicode.IsControl) >= 0:
			fe.add(name+".name", directory.CodeInvalid, "name contains a control character")
		case !extraAttrTypes[typ]:
			fe.add(name+".type", directory.CodeInvalid, "type must be NONE, OTP_EMAIL, OTP_SMS, OTP_VOICE, OTP_WECHAT or OTP_WHATSAPP")
		case u.Extras[key] != "":
			fe.add(name+".name", directory.CodeInvalid, "name repeats another extra attribute")
		default:
			u.Extras[key] = typ + ":" + value
		}
	}
}

// userOut is the vendor's User. Unset scalars are null, not omitted, as in
// the vendor's example. The optional collections of a paged search are
// pointers so that an unrequested one is left out while a requested empty
// one is [].
type userOut struct {
	ID                  string          `json:"id"`
	UserID              *string         `json:"userId"`
	FirstName           *string         `json:"firstName"`
	LastName            *string         `json:"lastName"`
	Email               *string         `json:"email"`
	Mobile              *string         `json:"mobile"`
	Phone               *string         `json:"phone"`
	Locale              *string         `json:"locale"`
	State               string          `json:"state"`
	ExternalID          *string         `json:"externalId"`
	ExternalSource      *string         `json:"externalSource"`
	Migrated            *bool           `json:"migrated"`
	Locked              bool            `json:"locked"`
	LockoutExpiry       *string         `json:"lockoutExpiry"`
	OTPCreateTime       *string         `json:"otpCreateTime"`
	Grids               *[]struct{}     `json:"grids,omitempty"`
	Tokens              *[]struct{}     `json:"tokens,omitempty"`
	SmartCredentials    *[]struct{}     `json:"smartCredentials,omitempty"`
	TempAccessCode      json.RawMessage `json:"tempAccessCode,omitempty"`
	UserAttributeValues *[]attrValueOut `json:"userAttributeValues,omitempty"`
	UserAliases         *[]aliasOut     `json:"userAliases,omitempty"`
	Groups              *[]groupOut     `json:"groups,omitempty"`
	Type                string          `json:"type"`

	UserPrincipalName                     *string           `json:"userPrincipalName"`
	UserCreationTime                      string            `json:"userCreationTime"`
	LastModified                          string            `json:"lastModified"`
	LastAuthTime                          *string           `json:"lastAuthTime"`
	PasswordExpirationTime                *string           `json:"passwordExpirationTime"`
	Frozen                                bool              `json:"frozen"`
	FrozenGracePeriod                     *string           `json:"frozenGracePeriod"`
	MagicLinkEnabled                      *bool             `json:"magicLinkEnabled"`
	RegistrationEnabled                   *bool             `json:"registrationEnabled"`
	RegistrationRequired                  bool              `json:"registrationRequired"`
	VerificationEnabled                   *bool             `json:"verificationEnabled"`
	VerificationRequired                  bool              `json:"verificationRequired"`
	ShowNotification                      *bool             `json:"showNotification"`
	PreferredOTPDelivery                  *string           `json:"preferredOtpDelivery"`
	PreferredOTPDeliveryContactAttributes map[string]string `json:"preferredOtpDeliveryContactAttributes"`
	SecurityID                            *string           `json:"securityId"`
	DirectoryDN                           *string           `json:"directoryDN"`
	DirectoryID                           *string           `json:"directoryId"`
	DirectoryName                         *string           `json:"directoryName"`
	DirectoryObjectGUID                   *string           `json:"directoryObjectGUID"`
	DirectoryType                         *string           `json:"directoryType"`
	AlternateEmails                       []struct{}        `json:"alternateEmails"`
	LockedAuthenticatorTypes              []struct{}        `json:"lockedAuthenticatorTypes"`
	UserAuthenticatorPreference           []struct{}        `json:"userAuthenticatorPreference"`
	UserExtraAttributes                   []extraAttrOut    `json:"userExtraAttributes"`
	UserPasswordDetails                   []struct{}        `json:"userPasswordDetails"`
	FIDOTokens                            *[]struct{}       `json:"fidoTokens,omitempty"`
	OAuthRoles                            *[]struct{}       `json:"oauthRoles,omitempty"`
	Organizations                         *[]struct{}       `json:"organizations,omitempty"`
	AuthenticatorLockoutStatus            *[]struct{}       `json:"authenticatorLockoutStatus,omitempty"`
}

type aliasOut struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
	Value  string `json:"value"`
	Type   string `json:"type"`
}

type attrValueOut struct {
	ID              string       `json:"id"`
	UserID          string       `json:"userId"`
	UserAttributeID string       `json:"userAttributeId"`
	Value           string       `json:"value"`
	Editable        bool         `json:"editable"`
	LastUpdate      *string      `json:"lastUpdate"`
	UserAttribute   userAttrDefn `json:"userAttribute"`
}

// userAttrDefn is the vendor's UserAttribute, the definition behind a
// value; Roster has none beyond the name.
type userAttrDefn struct {
	Name          string `json:"name"`
	Mandatory     bool   `json:"mandatory"`
	SystemDefined bool   `json:"systemDefined"`
	Unique        bool   `json:"unique"`
}

type extraAttrOut struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type groupOut struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Optional collections of a User in a paged search ("attributes").
const (
	attrGrids                      = "grids"
	attrTokens                     = "tokens"
	attrSmartCredentials           = "smartCredentials"
	attrTempAccessCode             = "tempAccessCode"
	attrFIDOTokens                 = "fidoTokens"
	attrUserAttributeValues        = "userAttributeValues"
	attrUserAliases                = "userAliases"
	attrGroups                     = "groups"
	attrOAuthRoles                 = "oauthRoles"
	attrAuthenticatorLockoutStatus = "authenticatorLockoutStatus"
	attrOrganizations              = "organizations"
)

// allAttributes selects every optional collection (single-user responses).
var allAttributes = set(attrGrids, attrTokens, attrSmartCredentials, attrTempAccessCode, attrFIDOTokens,
	attrUserAttributeValues, attrUserAliases, attrGroups, attrOAuthRoles, attrAuthenticatorLockoutStatus, attrOrganizations)

func emptyList() *[]struct{} {
	l := []struct{}{}
	return &l
}

// derivedID returns a stable UUID (v5) for something of user id that has
// no id of its own in the core: the USERID alias, an attribute value.
func derivedID(userID, what string) string {
	ns, err := uuid.Parse(userID)
	if err != nil {
		ns = uuid.Nil
	}
	return uuid.NewSHA1(ns, []byte(what)).String()
}

// aliasTypeOut maps a stored alias type to the vendor's enum (aliases
// written by another path may carry another word).
func aliasTypeOut(t string) string {
	if aliasTypes[t] {
		return t
	}
	return "CUSTOM"
}

// toUser renders u with the optional collections in attrs; groups are the
// user's group memberships.
func toUser(u *directory.User, attrs map[string]bool, groups []directory.GroupRef) *userOut {
	o := &userOut{
		ID:                   u.ID,
		UserID:               httpapi.NullIfEmpty(u.Username),
		FirstName:            httpapi.NullIfEmpty(u.FirstName),
		LastName:             httpapi.NullIfEmpty(u.LastName),
		Email:                httpapi.NullIfEmpty(u.Email),
		Mobile:               httpapi.NullIfEmpty(u.Mobile),
		Phone:                httpapi.NullIfEmpty(u.Phone),
		Locale:               httpapi.NullIfEmpty(u.Locale),
		State:                u.State,
		ExternalID:           httpapi.NullIfEmpty(u.ExternalID),
		ExternalSource:       httpapi.NullIfEmpty(u.ExternalSource),
		Locked:               u.Locked,
		Type:                 "MGMT_UI",
		UserPrincipalName:    httpapi.NullIfEmpty(u.Extras[extraUPN]),
		UserCreationTime:     formatTime(u.CreatedAt),
		LastModified:         formatTime(u.UpdatedAt),
		RegistrationRequired: u.Extras[extraRegistrationReq] != "false",
		VerificationRequired: u.Extras[extraVerificationReq] != "false",
		PreferredOTPDelivery: httpapi.NullIfEmpty(u.Extras[extraPreferredOTP]),
		SecurityID:           httpapi.NullIfEmpty(u.Extras[extraSecurityID]),

		AlternateEmails:             []struct{}{},
		LockedAuthenticatorTypes:    []struct{}{},
		UserAuthenticatorPreference: []struct{}{},
		UserExtraAttributes:         []extraAttrOut{},
		UserPasswordDetails:         []struct{}{},
	}
	if o.State == "" {
		o.State = directory.StateActive
	}
	keys := make([]string, 0, len(u.Extras))
	for k := range u.Extras {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := u.Extras[k]
		if name, ok := strings.CutPrefix(k, extraPrefix+extraAttrPrefix); ok {
			typ, value, _ := strings.Cut(v, ":")
			if !extraAttrTypes[typ] {
				typ, value = "NONE", v
			}
			o.UserExtraAttributes = append(o.UserExtraAttributes,
				extraAttrOut{ID: derivedID(u.ID, "xattr:"+name), Name: name, Type: typ, Value: value})
		}
		if key, ok := strings.CutPrefix(k, extraPrefix+otpContactPrefix); ok {
			if o.PreferredOTPDeliveryContactAttributes == nil {
				o.PreferredOTPDeliveryContactAttributes = map[string]string{}
			}
			o.PreferredOTPDeliveryContactAttributes[key] = v
		}
	}
	for name, list := range map[string]**[]struct{}{
		attrGrids: &o.Grids, attrTokens: &o.Tokens, attrSmartCredentials: &o.SmartCredentials,
		attrFIDOTokens: &o.FIDOTokens, attrOAuthRoles: &o.OAuthRoles, attrOrganizations: &o.Organizations,
		attrAuthenticatorLockoutStatus: &o.AuthenticatorLockoutStatus,
	} {
		if attrs[name] {
			*list = emptyList()
		}
	}
	if attrs[attrTempAccessCode] {
		o.TempAccessCode = json.RawMessage("null")
	}
	if attrs[attrUserAliases] {
		as := make([]aliasOut, 0, len(u.Aliases)+1)
		for _, a := range u.Aliases {
			as = append(as, aliasOut{ID: a.ID, UserID: u.ID, Value: a.Value, Type: aliasTypeOut(a.Type)})
		}
		if u.Username != "" {
			as = append(as, aliasOut{ID: derivedID(u.ID, "USERID"), UserID: u.ID, Value: u.Username, Type: "USERID"})
		}
		o.UserAliases = &as
	}
	if attrs[attrUserAttributeValues] {
		avs := make([]attrValueOut, 0, len(u.Attributes))
		for _, a := range u.Attributes {
			avs = append(avs, attrValueOut{
				ID: derivedID(u.ID, "attr:"+a.Name), UserID: u.ID, UserAttributeID: a.Name, Value: a.Value,
				Editable: true, UserAttribute: userAttrDefn{Name: a.Name},
			})
		}
		o.UserAttributeValues = &avs
	}
	if attrs[attrGroups] {
		gs := make([]groupOut, 0, len(groups))
		for _, g := range groups {
			gs = append(gs, groupOut{ID: g.ID, Name: g.DisplayName, Type: "MGMT_UI"})
		}
		o.Groups = &gs
	}
	return o
}

// userGetParms is the vendor's UserGetParms: a userId, alias or externalId.
type userGetParms struct {
	UserID *string `json:"userId"`
}
