package scim

import (
	"github.com/roster-dev/roster/internal/httpapi"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// rules are what a SCIM user write must satisfy. SCIM requires userName
// (RFC 7643 §4.1.1) and e-mail syntax is checked; phone numbers are kept as
// sent: RFC 7643 §4.1.2 says they SHOULD be RFC 3966, and provisioning
// clients send "+1 (555) 555-5555" and the like, so none is rejected.
var rules = directory.Rules{Required: []directory.Field{directory.FieldUsername}, Checks: directory.CheckEmail | directory.CheckSSNStructure}

// timeFormat is how meta timestamps are written: RFC 3339 UTC, millisecond
// precision, as in the RFC's examples.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func etag(version int64) string { return httpapi.ETag(version) }

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

// userResource is the SCIM representation of u, walked from the schema
// table: every attribute with a value, each through its binding. groups
// are the groups u is a member of (nil: none).
func userResource(u *directory.User, groups []directory.GroupRef, base string) map[string]any {
	return renderUser(&userView{u: u, groups: groups, base: base})
}

// patchBase is the representation a PATCH applies to: stored values only,
// without meta.
func patchBase(u *directory.User) map[string]any {
	m := renderUser(&userView{u: u, stored: true})
	delete(m, "meta")
	return m
}

func renderUser(v *userView) map[string]any {
	u := v.u
	m := map[string]any{"id": u.ID}
	schemas := []any{URNUser}
	writeAttrs(m, userType.Core.Attributes, "", v)
	for _, ext := range userType.Extensions {
		em := map[string]any{}
		writeAttrs(em, ext.Attributes, ext.ID+":", v)
		if len(em) > 0 {
			m[ext.ID] = em
			schemas = append(schemas, ext.ID)
		}
	}
	m["schemas"] = schemas
	m["meta"] = meta("User", v.base+"/Users/"+u.ID, u.CreatedAt, u.UpdatedAt, u.Version)
	return m
}

// writeAttrs renders attrs (whose paths start with prefix) into m.
func writeAttrs(m map[string]any, attrs []*attr, prefix string, v *userView) {
	for _, a := range attrs {
		if a.Returned == retNever {
			continue
		}
		path := prefix + a.Name
		if b := bindingFor(path); b != nil {
			if b.get != nil {
				if x := b.get(v); x != nil {
					m[a.Name] = x
				}
			}
			continue
		}
		if a.Type == "complex" && !a.MultiValued { // name, manager: one object of bound parts
			sub := map[string]any{}
			writeAttrs(sub, a.SubAttributes, path+".", v)
			if len(sub) > 0 {
				m[a.Name] = sub
			}
		}
	}
}

// applyUser writes the SCIM representation m (canonicalised) onto u, each
// attribute through its binding. Core attributes absent from m are
// unassigned (PUT replaces the resource) except those whose absence means
// "unchanged" (active); an extension's attributes are written only when m
// has that extension's object, or when allExt is set (PATCH, whose m is
// the whole resource). Read-only attributes (id, meta, groups) are
// ignored, as RFC 7644 §3.5.1 says.
func applyUser(m map[string]any, u *directory.User, allExt bool) error {
	if err := applyAttrs(u, m, userType.Core.Attributes, ""); err != nil {
		return err
	}
	// A name.formatted that says what the parts say is not kept: it is
	// derived, and follows the parts when they change (Entra sends
	// "givenName familyName" on create and expects it to follow a new
	// familyName). One that differs is the client's own and is kept.
	if f := u.Extras[extraFormatted]; f != "" && f == formattedName(u) {
		delete(u.Extras, extraFormatted)
	}
	for _, ext := range userType.Extensions {
		ev, ok := m[ext.ID]
		if !ok && !allExt {
			continue
		}
		eo, err := asObject(ev, ext.ID)
		if err != nil {
			return err
		}
		if err := applyAttrs(u, eo, ext.Attributes, ext.ID+":"); err != nil {
			return err
		}
	}
	return nil
}

// complexValue reads a bare string sent for a complex attribute with a
// value sub-attribute as that value: Entra ID sends the enterprise manager
// as the manager's id alone.
func complexValue(v any, def *attr) any {
	if s, ok := v.(string); ok && def.sub("value") != nil {
		return map[string]any{"value": s}
	}
	return v
}

func applyAttrs(u *directory.User, m map[string]any, attrs []*attr, prefix string) error {
	for _, a := range attrs {
		if a.Mutability == mutReadOnly {
			continue
		}
		path := prefix + a.Name
		val, present := m[a.Name]
		if b := bindingFor(path); b != nil {
			if b.set != nil {
				if err := b.set(u, val, present, path); err != nil {
					return err
				}
			}
			continue
		}
		if a.Type == "complex" && !a.MultiValued {
			obj, err := asObject(complexValue(val, a), path)
			if err != nil {
				return err
			}
			if err := applyAttrs(u, obj, a.SubAttributes, path+"."); err != nil {
				return err
			}
		}
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
	members, err := valueList(m["members"], "members")
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
