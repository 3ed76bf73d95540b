package scim

import (
	"sort"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// A binding ties one attribute of the schema table (schema.go) to the core
// user: how its value is read for the wire, how a client's value is written
// back, and where filters and sortBy find it. The wire mapping (userResource,
// applyUser), PATCH (through them), filter translation, sorting and the
// /Schemas document all walk the same schema table and look bindings up by
// attribute path, so an attribute cannot be published without being stored,
// or stored without being filterable; TestEveryAttributeIsBound checks that.
type binding struct {
	// get returns the attribute's wire value, nil when absent.
	get func(v *userView) any
	// set writes a client's value onto u. present is false when the
	// attribute was absent from the representation (for PUT: unassign,
	// except where absence means "unchanged", as for active and ssn); v
	// nil with present true is an explicit null.
	set func(u *directory.User, v any, present bool, path string) error

	// Where a filter or sortBy finds the attribute: a core field for a
	// singular attribute, a value kind for a multi-valued one, or a
	// reference field for a multi-valued reference (groups, aliases)
	// that only "some value equals" can ask about.
	field   directory.Field
	kind    directory.ValueKind
	ref     directory.Field
	refOps  []string
	id      bool // values are UUIDs, compared in canonical form
	active  bool // the boolean active over the state column
	noFiltr string
}

// userView is what a getter reads: the user and what is rendered with it.
type userView struct {
	u      *directory.User
	groups []directory.GroupRef
	base   string
	// stored asks for stored values only, not derived ones: the base a
	// PATCH applies to, so a derived name.formatted is not written back
	// as if the client had sent it.
	stored bool
}

// userBindings maps lower-cased attribute paths ("name.givenname",
// "urn:…:enterprise:2.0:user:department") to their bindings.
var userBindings = map[string]*binding{}

// scimOwnedExtras are the User.Extras keys that SCIM attributes occupy;
// the other keys are other dialects' values, shown in the Roster
// extension's extras.
var scimOwnedExtras = map[string]string{} // key → SCIM attribute path

// kindAttr is the SCIM attribute of each value kind, for messages.
var kindAttr = map[directory.ValueKind]string{}

func bind(path string, b *binding) {
	userBindings[strings.ToLower(path)] = b
	if k, ok := b.field.ExtraKey(); ok {
		scimOwnedExtras[k] = path
	}
	if b.kind != "" {
		kindAttr[b.kind] = path
	}
}

// bindingFor returns the binding of an attribute path, or nil.
func bindingFor(path string) *binding { return userBindings[strings.ToLower(path)] }

// stringBinding binds a string column of the user.
func stringBinding(f directory.Field, p func(*directory.User) *string) *binding {
	return &binding{
		field: f,
		get:   func(v *userView) any { return nilIfEmpty(*p(v.u)) },
		set: func(u *directory.User, v any, _ bool, path string) error {
			s, err := toString(v, path)
			*p(u) = s
			return err
		},
	}
}

// extraBinding binds a string kept in User.Extras under key.
func extraBinding(key string) *binding {
	return &binding{
		field: directory.ExtraField(key),
		get:   func(v *userView) any { return nilIfEmpty(v.u.Extras[key]) },
		set: func(u *directory.User, v any, _ bool, path string) error {
			s, err := toString(v, path)
			if err != nil {
				return err
			}
			setExtra(u, key, s)
			return nil
		},
	}
}

func setExtra(u *directory.User, key, s string) {
	if s == "" {
		delete(u.Extras, key)
		return
	}
	if u.Extras == nil {
		u.Extras = map[string]string{}
	}
	u.Extras[key] = s
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// valueSub is a string sub-attribute of a multi-valued attribute and the
// Value field behind it.
type valueSub struct {
	field directory.Field
	get   func(*directory.Value) *string
}

var valueSubs = map[string]valueSub{
	"value":         {directory.FieldValue, func(v *directory.Value) *string { return &v.Value }},
	"display":       {directory.FieldValueDisplay, func(v *directory.Value) *string { return &v.Display }},
	"type":          {directory.FieldValueType, func(v *directory.Value) *string { return &v.Type }},
	"formatted":     {directory.FieldValueFormatted, func(v *directory.Value) *string { return &v.Formatted }},
	"streetaddress": {directory.FieldValueStreet, func(v *directory.Value) *string { return &v.Street }},
	"locality":      {directory.FieldValueLocality, func(v *directory.Value) *string { return &v.Locality }},
	"region":        {directory.FieldValueRegion, func(v *directory.Value) *string { return &v.Region }},
	"postalcode":    {directory.FieldValuePostalCode, func(v *directory.Value) *string { return &v.PostalCode }},
	"country":       {directory.FieldValueCountry, func(v *directory.Value) *string { return &v.Country }},
}

// valueField returns the Value field of a multi-valued attribute's
// sub-attribute, with whether it is the boolean primary.
func valueField(sub string) (f directory.Field, isBool, ok bool) {
	if strings.EqualFold(sub, "primary") {
		return directory.FieldValuePrimary, true, true
	}
	vs, ok := valueSubs[strings.ToLower(sub)]
	return vs.field, false, ok
}

// multiBinding binds a multi-valued complex attribute to the user's values
// of kind k. Every sub-attribute of the schema's definition is kept, in
// the order the client sent the values; primary is written only when true.
func multiBinding(k directory.ValueKind, def *attr) *binding {
	return &binding{
		kind: k,
		get: func(v *userView) any {
			vals := v.u.Values[k]
			if len(vals) == 0 {
				return nil
			}
			out := make([]any, 0, len(vals))
			for i := range vals {
				o := map[string]any{}
				for _, sa := range def.SubAttributes {
					if strings.EqualFold(sa.Name, "primary") {
						if vals[i].Primary {
							o[sa.Name] = true
						}
						continue
					}
					if vs, ok := valueSubs[strings.ToLower(sa.Name)]; ok {
						if s := *vs.get(&vals[i]); s != "" {
							o[sa.Name] = s
						}
					}
				}
				out = append(out, o)
			}
			return out
		},
		set: func(u *directory.User, v any, _ bool, path string) error {
			list, err := valueList(v, path)
			if err != nil {
				return err
			}
			vals := make([]directory.Value, 0, len(list))
			for _, o := range list {
				var val directory.Value
				for key, x := range o {
					sa := def.sub(key)
					if sa == nil {
						continue // e.g. a $ref Roster does not keep: ignored like any unknown attribute
					}
					if strings.EqualFold(sa.Name, "primary") {
						if x != nil {
							b, err := toBool(x, path+".primary")
							if err != nil {
								return err
							}
							val.Primary = b
						}
						continue
					}
					vs, ok := valueSubs[strings.ToLower(sa.Name)]
					if !ok {
						continue
					}
					s, err := toString(x, path+"."+sa.Name)
					if err != nil {
						return err
					}
					*vs.get(&val) = s
				}
				vals = append(vals, val)
			}
			if len(vals) == 0 {
				delete(u.Values, k)
				return nil
			}
			if u.Values == nil {
				u.Values = map[directory.ValueKind][]directory.Value{}
			}
			u.Values[k] = vals
			return nil
		},
	}
}

// valueList returns a multi-valued attribute's values. The schema says a
// list of objects (RFC 7643 §2.4); a lone object is a client error, not a
// one-element list, so a client that sends one learns it.
func valueList(v any, path string) ([]map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			switch o := e.(type) {
			case map[string]any:
				out = append(out, o)
			case nil:
			default:
				return nil, badRequest(typeInvalidValue, "each value of %s must be an object", path)
			}
		}
		return out, nil
	}
	return nil, badRequest(typeInvalidValue, "%s must be an array of objects", path)
}

// readOnlyBinding binds an attribute the server derives; a client's value
// is ignored (RFC 7644 §3.5.1: readOnly values SHALL be ignored).
func readOnlyBinding(get func(v *userView) any) *binding {
	return &binding{get: get, set: func(*directory.User, any, bool, string) error { return nil }}
}

func init() {
	bind("externalId", stringBinding(directory.FieldExternalID, func(u *directory.User) *string { return &u.ExternalID }))
	bind("userName", stringBinding(directory.FieldUsername, func(u *directory.User) *string { return &u.Username }))

	bind("name.givenName", stringBinding(directory.FieldFirstName, func(u *directory.User) *string { return &u.FirstName }))
	bind("name.familyName", stringBinding(directory.FieldLastName, func(u *directory.User) *string { return &u.LastName }))
	for _, k := range []string{"middleName", "honorificPrefix", "honorificSuffix"} {
		bind("name."+k, extraBinding(k))
	}
	// name.formatted is kept as sent; without one it is derived from
	// the parts, and only a sent one is stored (and filterable).
	formatted := extraBinding(extraFormatted)
	formatted.get = func(v *userView) any {
		if f := v.u.Extras[extraFormatted]; f != "" || v.stored {
			return nilIfEmpty(f)
		}
		return nilIfEmpty(formattedName(v.u))
	}
	bind("name.formatted", formatted)

	for _, k := range []string{"displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "timezone"} {
		bind(k, extraBinding(k))
	}
	bind("locale", stringBinding(directory.FieldLocale, func(u *directory.User) *string { return &u.Locale }))
	bind("active", &binding{
		field:  directory.FieldState,
		active: true,
		get:    func(v *userView) any { return v.u.State != directory.StateInactive },
		// An absent active leaves the state alone (a create starts
		// ACTIVE): a PUT that omits it must not reactivate or
		// deactivate anyone.
		set: func(u *directory.User, v any, _ bool, path string) error {
			if v == nil {
				return nil
			}
			b, err := toBool(v, path)
			if err != nil {
				return err
			}
			u.State = directory.StateActive
			if !b {
				u.State = directory.StateInactive
			}
			return nil
		},
	})
	// Roster holds no passwords: one sent is accepted (Okta and the
	// reference clients send it on create) and discarded, never stored
	// or returned (RFC 7643 §4.1.1: returned "never").
	bind("password", &binding{
		noFiltr: "password is write-only and not stored",
		set: func(_ *directory.User, v any, _ bool, path string) error {
			_, err := toString(v, path)
			return err
		},
	})

	for name, k := range map[string]directory.ValueKind{
		"emails": directory.KindEmail, "phoneNumbers": directory.KindPhone, "addresses": directory.KindAddress,
		"ims": directory.KindIM, "photos": directory.KindPhoto, "entitlements": directory.KindEntitlement,
		"roles": directory.KindRole, "x509Certificates": directory.KindCertificate,
	} {
		bind(name, multiBinding(k, lookupAttr(userType, "", name)))
	}
	bind("groups", &binding{
		ref:    directory.FieldGroupID,
		refOps: []string{"eq", "pr"},
		id:     true,
		get: func(v *userView) any {
			if len(v.groups) == 0 {
				return nil
			}
			gs := make([]any, 0, len(v.groups))
			for _, g := range v.groups {
				gs = append(gs, map[string]any{"value": g.ID, "$ref": v.base + "/Groups/" + g.ID, "display": g.DisplayName, "type": "direct"})
			}
			return gs
		},
		set: func(*directory.User, any, bool, string) error { return nil }, // read-only: membership changes through /Groups
	})

	ent := URNEnterpriseUser + ":"
	for _, k := range []string{"employeeNumber", "costCenter", "organization", "division", "department"} {
		bind(ent+k, extraBinding(k))
	}
	bind(ent+"manager.value", extraBinding(extraManager))
	bind(ent+"manager.$ref", readOnlyBinding(func(v *userView) any {
		if id := v.u.Extras[extraManager]; id != "" && v.base != "" {
			return v.base + "/Users/" + id
		}
		return nil
	}))
	bind(ent+"manager.displayName", readOnlyBinding(func(*userView) any { return nil }))

	ros := URNRosterUser + ":"
	bind(ros+"ssn", &binding{
		noFiltr: "ssn is write-only",
		// Write-only: absent means unchanged, null removes it.
		set: func(u *directory.User, v any, present bool, path string) error {
			if !present {
				return nil
			}
			s, err := toString(v, path)
			u.SSN = secret.Value(s)
			return err
		},
	})
	bind(ros+"aliases", &binding{
		ref:    directory.FieldAlias,
		refOps: []string{"eq", "co", "sw", "ew"},
		get: func(v *userView) any {
			if len(v.u.Aliases) == 0 {
				return nil
			}
			as := make([]any, 0, len(v.u.Aliases))
			for _, a := range v.u.Aliases {
				e := map[string]any{"value": a.Value}
				putIf(e, "type", a.Type)
				as = append(as, e)
			}
			return as
		},
		set: setAliases,
	})
	bind(ros+"attributes", &binding{
		noFiltr: "custom attributes are not filterable",
		get: func(v *userView) any {
			if len(v.u.Attributes) == 0 {
				return nil
			}
			as := make([]any, 0, len(v.u.Attributes))
			for _, a := range v.u.Attributes {
				as = append(as, map[string]any{"name": a.Name, "value": a.Value})
			}
			return as
		},
		set: func(u *directory.User, v any, _ bool, path string) error {
			list, err := valueList(v, path)
			if err != nil {
				return err
			}
			u.Attributes = nil
			for _, a := range list {
				n, err := stringAt(a, "name", path+".name")
				if err != nil {
					return err
				}
				val, err := stringAt(a, "value", path+".value")
				if err != nil {
					return err
				}
				u.Attributes = append(u.Attributes, directory.Attribute{Name: n, Value: val})
			}
			return nil
		},
	})
	bind(ros+"extras", &binding{
		noFiltr: "filter on other dialects' values is not offered",
		get:     getOtherExtras,
		set:     setOtherExtras,
	})
}

// Extras keys SCIM uses beyond the attribute names themselves.
const (
	extraFormatted = "formatted" // name.formatted, when a client sent one
	extraManager   = "manager"   // the enterprise manager's id
)

// formattedName derives name.formatted from the parts.
func formattedName(u *directory.User) string {
	var parts []string
	for _, p := range []string{u.Extras["honorificPrefix"], u.FirstName, u.Extras["middleName"], u.LastName, u.Extras["honorificSuffix"]} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

func setAliases(u *directory.User, v any, _ bool, path string) error {
	list, err := valueList(v, path)
	if err != nil {
		return err
	}
	old := map[string]string{} // keep alias ids stable across writes
	for _, a := range u.Aliases {
		old[strings.ToLower(a.Value)] = a.ID
	}
	u.Aliases = nil
	for _, a := range list {
		val, err := stringAt(a, "value", path+".value")
		if err != nil {
			return err
		}
		t, err := stringAt(a, "type", path+".type")
		if err != nil {
			return err
		}
		u.Aliases = append(u.Aliases, directory.Alias{ID: old[strings.ToLower(strings.TrimSpace(val))], Type: t, Value: val})
	}
	return nil
}

// isOtherExtra reports whether an Extras key belongs to another dialect
// (or to SCIM before every attribute had its place: addressType).
func isOtherExtra(k string) bool {
	_, scim := scimOwnedExtras[k]
	return !scim && k != legacyAddressType
}

// legacyAddressType is where the type of the one stored address used to
// be kept; the address list carries types now, and the key is ignored.
const legacyAddressType = "addressType"

func getOtherExtras(v *userView) any {
	var keys []string
	for k := range v.u.Extras {
		if isOtherExtra(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	es := make([]any, 0, len(keys))
	for _, k := range keys {
		es = append(es, map[string]any{"name": k, "value": v.u.Extras[k]})
	}
	return es
}

func setOtherExtras(u *directory.User, v any, _ bool, path string) error {
	list, err := valueList(v, path)
	if err != nil {
		return err
	}
	for k := range u.Extras {
		if isOtherExtra(k) {
			delete(u.Extras, k)
		}
	}
	for _, e := range list {
		n, err := stringAt(e, "name", path+".name")
		if err != nil {
			return err
		}
		val, err := stringAt(e, "value", path+".value")
		if err != nil {
			return err
		}
		if !isOtherExtra(n) {
			return badRequest(typeMutability, "%s cannot set %q: it is a SCIM attribute; set it by its own name", path, n)
		}
		if n == "" {
			return badRequest(typeInvalidValue, "%s.name is required", path)
		}
		setExtra(u, n, val)
	}
	return nil
}
