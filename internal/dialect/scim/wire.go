package scim

import (
	"github.com/roster-dev/roster/internal/httpapi"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// SCIM attributes with no core column are kept in User.Extras under these
// keys (the SCIM attribute names; the enterprise manager's id as "manager").
var (
	coreExtraAttrs       = []string{"displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "timezone"}
	nameExtraAttrs       = []string{"middleName", "honorificPrefix", "honorificSuffix"}
	enterpriseExtraAttrs = []string{"employeeNumber", "costCenter", "organization", "division", "department"}
)

// extraAddressType keeps the type of the stored address when it is not
// "work" (the default, what Okta and Entra ID send), so a "home" address
// comes back as "home".
const (
	extraAddressType = "addressType"
	extraManager     = "manager"
)

// extraAttrByKey maps an Extras key SCIM owns to its SCIM attribute (for
// error messages); the keys not in it are other dialects' extras, shown in
// the Roster extension.
var extraAttrByKey = func() map[string]string {
	m := map[string]string{extraAddressType: "addresses", extraManager: URNEnterpriseUser + ":manager"}
	for _, k := range coreExtraAttrs {
		m[k] = k
	}
	for _, k := range nameExtraAttrs {
		m[k] = "name." + k
	}
	for _, k := range enterpriseExtraAttrs {
		m[k] = URNEnterpriseUser + ":" + k
	}
	return m
}()

// rules are what a SCIM user write must satisfy. SCIM requires userName
// (RFC 7643 §4.1.1) and e-mail syntax is checked; phone numbers are kept as
// sent: RFC 7643 §4.1.2 says they SHOULD be RFC 3966, and provisioning
// clients send "+1 (555) 555-5555" and the like, so none is rejected.
var rules = directory.Rules{Required: []directory.Field{directory.FieldUsername}, Checks: directory.CheckEmail}

// timeFormat is how meta timestamps are written: RFC 3339 UTC, millisecond
// precision, as in the RFC's examples.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// baseURL returns the absolute URL of the SCIM root for r.
func (h *Handler) baseURL(r *http.Request) string {
	return httpapi.Origin(r, h.opts.BaseURL) + basePath
}

func meta(resourceType, location string, created, modified time.Time, version int64) map[string]any {
	return map[string]any{
		"resourceType": resourceType,
		"created":      created.UTC().Format(timeFormat),
		"lastModified": modified.UTC().Format(timeFormat),
		"location":     location,
		"version":      etag(version),
	}
}

// putIf sets m[k] = v when v is not empty.
func putIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// userResource is the SCIM representation of u. groups are the groups it
// is a member of (nil: none).
func userResource(u *directory.User, groups []directory.GroupRef, base string) map[string]any {
	m := map[string]any{"id": u.ID}
	schemas := []any{URNUser}
	putIf(m, "externalId", u.ExternalID)
	m["userName"] = u.Username
	name := map[string]any{}
	putIf(name, "givenName", u.FirstName)
	putIf(name, "familyName", u.LastName)
	for _, k := range nameExtraAttrs {
		putIf(name, k, u.Extras[k])
	}
	if formatted := formattedName(u); formatted != "" {
		name["formatted"] = formatted
	}
	if len(name) > 0 {
		m["name"] = name
	}
	for _, k := range coreExtraAttrs {
		putIf(m, k, u.Extras[k])
	}
	putIf(m, "locale", u.Locale)
	m["active"] = u.State != directory.StateInactive
	if u.Email != "" {
		m["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	var phones []any
	if u.Phone != "" {
		phones = append(phones, map[string]any{"value": u.Phone, "type": "work", "primary": true})
	}
	if u.Mobile != "" {
		mobile := map[string]any{"value": u.Mobile, "type": "mobile"}
		if u.Phone == "" {
			mobile["primary"] = true
		}
		phones = append(phones, mobile)
	}
	if phones != nil {
		m["phoneNumbers"] = phones
	}
	if !u.Address.IsZero() {
		a := map[string]any{"primary": true}
		street := u.Address.Line1
		if u.Address.Line2 != "" {
			street += "\n" + u.Address.Line2
		}
		putIf(a, "streetAddress", street)
		putIf(a, "locality", u.Address.City)
		putIf(a, "region", u.Address.State)
		putIf(a, "postalCode", u.Address.Zip)
		putIf(a, "country", u.Address.Country)
		a["type"] = "work"
		if t := u.Extras[extraAddressType]; t != "" {
			a["type"] = t
		}
		m["addresses"] = []any{a}
	}
	if len(groups) > 0 {
		gs := make([]any, 0, len(groups))
		for _, g := range groups {
			gs = append(gs, map[string]any{"value": g.ID, "$ref": base + "/Groups/" + g.ID, "display": g.DisplayName, "type": "direct"})
		}
		m["groups"] = gs
	}

	ent := map[string]any{}
	for _, k := range enterpriseExtraAttrs {
		putIf(ent, k, u.Extras[k])
	}
	if mgr := u.Extras[extraManager]; mgr != "" {
		ent["manager"] = map[string]any{"value": mgr}
	}
	if len(ent) > 0 {
		m[URNEnterpriseUser] = ent
		schemas = append(schemas, URNEnterpriseUser)
	}

	ros := map[string]any{}
	if len(u.Aliases) > 0 {
		as := make([]any, 0, len(u.Aliases))
		for _, a := range u.Aliases {
			e := map[string]any{"value": a.Value}
			putIf(e, "type", a.Type)
			as = append(as, e)
		}
		ros["aliases"] = as
	}
	if len(u.Attributes) > 0 {
		as := make([]any, 0, len(u.Attributes))
		for _, a := range u.Attributes {
			as = append(as, map[string]any{"name": a.Name, "value": a.Value})
		}
		ros["attributes"] = as
	}
	var extraKeys []string
	for k := range u.Extras {
		if _, scim := extraAttrByKey[k]; !scim {
			extraKeys = append(extraKeys, k)
		}
	}
	if len(extraKeys) > 0 {
		sort.Strings(extraKeys)
		es := make([]any, 0, len(extraKeys))
		for _, k := range extraKeys {
			es = append(es, map[string]any{"name": k, "value": u.Extras[k]})
		}
		ros["extras"] = es
	}
	if len(ros) > 0 {
		m[URNRosterUser] = ros
		schemas = append(schemas, URNRosterUser)
	}
	m["schemas"] = schemas
	m["meta"] = meta("User", base+"/Users/"+u.ID, u.CreatedAt, u.UpdatedAt, u.Version)
	return m
}

// formattedName derives name.formatted.
func formattedName(u *directory.User) string {
	var parts []string
	for _, p := range []string{u.FirstName, u.Extras["middleName"], u.LastName} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// applyUser writes the SCIM representation m (canonicalised) onto u. Core
// attributes absent from m are cleared (PUT replaces the resource); an
// extension's attributes are replaced only when m has that extension's
// object, or when allExt is set (PATCH, whose m is the whole resource).
// The SSN is write-only: absent means unchanged; clearSSN removes it.
// Read-only attributes (id, meta, groups, name.formatted) are ignored.
func applyUser(m map[string]any, u *directory.User, allExt, clearSSN bool) error {
	var err error
	get := func(obj map[string]any, key, path string) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = stringAt(obj, key, path)
		return s
	}
	if u.Extras == nil {
		u.Extras = map[string]string{}
	}
	setExtra := func(k, v string) {
		if v == "" {
			delete(u.Extras, k)
		} else {
			u.Extras[k] = v
		}
	}

	u.Username = get(m, "userName", "userName")
	u.ExternalID = get(m, "externalId", "externalId")
	name, nerr := objectAt(m, "name", "name")
	if nerr != nil {
		return nerr
	}
	u.FirstName = get(name, "givenName", "name.givenName")
	u.LastName = get(name, "familyName", "name.familyName")
	for _, k := range nameExtraAttrs {
		setExtra(k, get(name, k, "name."+k))
	}
	for _, k := range coreExtraAttrs {
		setExtra(k, get(m, k, k))
	}
	u.Locale = get(m, "locale", "locale")
	if err != nil {
		return err
	}
	// An absent active leaves the state alone (a create starts ACTIVE): a
	// PUT that omits it must not reactivate or deactivate anyone.
	switch v, ok := m["active"]; {
	case !ok || v == nil:
	default:
		b, berr := toBool(v, "active")
		if berr != nil {
			return berr
		}
		u.State = directory.StateActive
		if !b {
			u.State = directory.StateInactive
		}
	}

	emails, eerr := listAt(m, "emails")
	if eerr != nil {
		return eerr
	}
	u.Email = ""
	if e := pickPrimary(emails); e != nil {
		u.Email = get(e, "value", "emails.value")
	}

	phones, perr := listAt(m, "phoneNumbers")
	if perr != nil {
		return perr
	}
	u.Phone, u.Mobile = "", ""
	var others []string
	for _, p := range phones {
		v := get(p, "value", "phoneNumbers.value")
		t := strings.ToLower(get(p, "type", "phoneNumbers.type"))
		switch {
		case v == "":
		case t == "mobile" && u.Mobile == "":
			u.Mobile = v
		case t == "work" && u.Phone == "":
			u.Phone = v
		case t != "mobile" && t != "work":
			others = append(others, v)
		}
	}
	if u.Phone == "" && len(others) > 0 {
		u.Phone = others[0]
	}

	addrs, aerr := listAt(m, "addresses")
	if aerr != nil {
		return aerr
	}
	u.Address = directory.Address{}
	delete(u.Extras, extraAddressType)
	if a := pickPrimary(addrs); a != nil {
		street := get(a, "streetAddress", "addresses.streetAddress")
		line1, line2, _ := strings.Cut(strings.ReplaceAll(street, "\r\n", "\n"), "\n")
		u.Address = directory.Address{
			Line1:   line1,
			Line2:   line2,
			City:    get(a, "locality", "addresses.locality"),
			State:   get(a, "region", "addresses.region"),
			Zip:     get(a, "postalCode", "addresses.postalCode"),
			Country: get(a, "country", "addresses.country"),
		}
		if t := get(a, "type", "addresses.type"); t != "" && !strings.EqualFold(t, "work") && !u.Address.IsZero() {
			u.Extras[extraAddressType] = t
		}
	}
	if err != nil {
		return err
	}

	if ent, ok := m[URNEnterpriseUser]; ok || allExt {
		eo, oerr := asObject(ent, URNEnterpriseUser)
		if oerr != nil {
			return oerr
		}
		for _, k := range enterpriseExtraAttrs {
			setExtra(k, get(eo, k, URNEnterpriseUser+":"+k))
		}
		mgr, merr := managerID(eo["manager"])
		if merr != nil {
			return merr
		}
		setExtra(extraManager, mgr)
	}
	if err != nil {
		return err
	}

	if clearSSN {
		u.SSN = ""
	}
	if ros, ok := m[URNRosterUser]; ok || allExt {
		ro, oerr := asObject(ros, URNRosterUser)
		if oerr != nil {
			return oerr
		}
		if v, ok := ro["ssn"]; ok && v != nil {
			s, serr := toString(v, URNRosterUser+":ssn")
			if serr != nil {
				return serr
			}
			u.SSN = secret.Value(s)
		}
		if err := applyRosterLists(ro, u); err != nil {
			return err
		}
	}
	return nil
}

// applyRosterLists replaces aliases, attributes and the non-SCIM extras.
func applyRosterLists(ro map[string]any, u *directory.User) error {
	aliases, err := listAt(ro, "aliases")
	if err != nil {
		return err
	}
	old := map[string]string{} // keep alias ids stable across writes
	for _, a := range u.Aliases {
		old[strings.ToLower(a.Value)] = a.ID
	}
	u.Aliases = nil
	for _, a := range aliases {
		v, err := stringAt(a, "value", URNRosterUser+":aliases.value")
		if err != nil {
			return err
		}
		t, err := stringAt(a, "type", URNRosterUser+":aliases.type")
		if err != nil {
			return err
		}
		u.Aliases = append(u.Aliases, directory.Alias{ID: old[strings.ToLower(strings.TrimSpace(v))], Type: t, Value: v})
	}
	attrs, err := listAt(ro, "attributes")
	if err != nil {
		return err
	}
	u.Attributes = nil
	for _, a := range attrs {
		n, err := stringAt(a, "name", URNRosterUser+":attributes.name")
		if err != nil {
			return err
		}
		v, err := stringAt(a, "value", URNRosterUser+":attributes.value")
		if err != nil {
			return err
		}
		u.Attributes = append(u.Attributes, directory.Attribute{Name: n, Value: v})
	}
	extras, err := listAt(ro, "extras")
	if err != nil {
		return err
	}
	for k := range u.Extras {
		if _, scim := extraAttrByKey[k]; !scim {
			delete(u.Extras, k)
		}
	}
	for _, e := range extras {
		n, err := stringAt(e, "name", URNRosterUser+":extras.name")
		if err != nil {
			return err
		}
		v, err := stringAt(e, "value", URNRosterUser+":extras.value")
		if err != nil {
			return err
		}
		if _, scim := extraAttrByKey[n]; scim {
			return badRequest(typeMutability, "%s:extras cannot set %q: it is a SCIM attribute; set it by its own name", URNRosterUser, n)
		}
		if n == "" {
			return badRequest(typeInvalidValue, "%s:extras.name is required", URNRosterUser)
		}
		u.Extras[n] = v
	}
	return nil
}

func managerID(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string: // some clients send the manager's id alone
		return x, nil
	case map[string]any:
		return stringAt(x, "value", URNEnterpriseUser+":manager.value")
	}
	return "", badRequest(typeInvalidValue, "%s:manager must be an object", URNEnterpriseUser)
}

// pickPrimary returns the element with primary true, else the first.
func pickPrimary(list []map[string]any) map[string]any {
	for _, e := range list {
		if b, err := toBool(e["primary"], ""); err == nil && b {
			return e
		}
	}
	if len(list) > 0 {
		return list[0]
	}
	return nil
}

// --- typed access to decoded JSON ---

func stringAt(m map[string]any, key, path string) (string, error) {
	if m == nil {
		return "", nil
	}
	return toString(m[key], path)
}

func toString(v any, path string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return "", badRequest(typeInvalidValue, "%s must be a string", path)
}

// toBool accepts JSON booleans and, because Entra ID sends them so,
// the strings "true" and "false" in any case.
func toBool(v any, path string) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badRequest(typeInvalidValue, "%s must be a boolean", path)
}

func objectAt(m map[string]any, key, path string) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	return asObject(m[key], path)
}

func asObject(v any, path string) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	}
	return nil, badRequest(typeInvalidValue, "%s must be an object", path)
}

// listAt returns the multi-valued complex attribute key of m. A single
// object is accepted as a one-element list.
func listAt(m map[string]any, key string) ([]map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	switch x := m[key].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return []map[string]any{x}, nil
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			switch o := e.(type) {
			case map[string]any:
				out = append(out, o)
			case nil:
			default:
				return nil, badRequest(typeInvalidValue, "each value of %s must be an object", key)
			}
		}
		return out, nil
	}
	return nil, badRequest(typeInvalidValue, "%s must be an array of objects", key)
}

// --- canonicalisation of client JSON ---

// canonicalize renames the keys of a resource object sent by a client to
// the schema's spelling (attribute names are case-insensitive, RFC 7643
// §2.1) and folds "urn:...:core:2.0:User:attr" keys into attr. Unknown keys
// are kept (and later ignored): clients send attributes Roster does not
// store, such as Okta's password or Entra's roles.
func canonicalize(m map[string]any, rt *resourceType) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if strings.EqualFold(k, "schemas") {
			out["schemas"] = v
			continue
		}
		if s := rt.ext(k); s != nil {
			if o, ok := v.(map[string]any); ok {
				v = canonicalAttrs(o, s.Attributes)
			}
			out[s.ID] = v
			continue
		}
		name := k
		if len(k) > len(rt.Core.ID)+1 && strings.EqualFold(k[:len(rt.Core.ID)+1], rt.Core.ID+":") {
			name = k[len(rt.Core.ID)+1:]
		}
		a := lookupAttr(rt, "", name)
		if a == nil {
			out[k] = v
			continue
		}
		out[a.Name] = canonicalValue(v, a)
	}
	return out
}

func canonicalAttrs(m map[string]any, attrs []*attr) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		a := findAttr(attrs, k)
		if a == nil {
			out[k] = v
			continue
		}
		out[a.Name] = canonicalValue(v, a)
	}
	return out
}

func canonicalValue(v any, a *attr) any {
	if a.Type != "complex" {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		return canonicalAttrs(x, a.SubAttributes)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if o, ok := e.(map[string]any); ok {
				out[i] = canonicalAttrs(o, a.SubAttributes)
			} else {
				out[i] = e
			}
		}
		return out
	}
	return v
}

// checkSchemas rejects a body whose schemas attribute is present but lacks
// want. A missing schemas attribute is accepted (several clients omit it).
func checkSchemas(m map[string]any, want string) error {
	v, ok := m["schemas"]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return badRequest(typeInvalidSyntax, "schemas must be an array of URNs")
	}
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, want) {
			return nil
		}
	}
	return badRequest(typeInvalidSyntax, "schemas must include %s", want)
}

// groupResource is the SCIM representation of g. withMembers false omits
// members (excludedAttributes=members).
func groupResource(g *directory.Group, base string, withMembers bool) map[string]any {
	m := map[string]any{
		"schemas":     []any{URNGroup},
		"id":          g.ID,
		"displayName": g.DisplayName,
		"meta":        meta("Group", base+"/Groups/"+g.ID, g.CreatedAt, g.UpdatedAt, g.Version),
	}
	putIf(m, "externalId", g.ExternalID)
	if withMembers {
		ms := make([]any, 0, len(g.Members))
		for _, mb := range g.Members {
			e := map[string]any{"value": mb.UserID, "$ref": base + "/Users/" + mb.UserID, "type": "User"}
			putIf(e, "display", mb.Display)
			ms = append(ms, e)
		}
		m["members"] = ms
	}
	return m
}

// applyGroup writes the representation m onto g (PUT semantics: absent
// attributes are cleared).
func applyGroup(m map[string]any, g *directory.Group) error {
	dn, err := stringAt(m, "displayName", "displayName")
	if err != nil {
		return err
	}
	ext, err := stringAt(m, "externalId", "externalId")
	if err != nil {
		return err
	}
	members, err := listAt(m, "members")
	if err != nil {
		return err
	}
	g.DisplayName, g.ExternalID = dn, ext
	g.Members = g.Members[:0]
	for _, mb := range members {
		v, err := stringAt(mb, "value", "members.value")
		if err != nil {
			return err
		}
		if t, _ := stringAt(mb, "type", ""); t != "" && !strings.EqualFold(t, "User") {
			return badRequest(typeInvalidValue, "members.type %q is not supported: members are users", t)
		}
		id, ok := directory.ParseID(v)
		if !ok {
			return badRequest(typeInvalidValue, "members.value %s is not a user id", strconv.Quote(clip(v)))
		}
		g.Members = append(g.Members, directory.Member{UserID: id})
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
