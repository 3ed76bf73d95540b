package filter

import (
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

// Schema URIs an attribute name may be prefixed with (RFC 7643 §8.7).
const (
	uriUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	uriGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	uriEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	uriRoster     = "urn:ietf:params:scim:schemas:extension:roster:2.0:User"
)

// Types Roster gives the values it keeps, as the SCIM server renders them:
// the one e-mail is "work"; the phone is "work" and the mobile "mobile";
// the one address is "work" (what Entra ID and Okta send for it).
const (
	emailType   = "work"
	phoneType   = "work"
	mobileType  = "mobile"
	addressType = "work"
)

// UserExpr translates a parsed filter on Users into the core's filter.
//
// Unknown attributes, attributes Roster does not store in a column
// (displayName, nickName, title, name.formatted, the enterprise extension…:
// they live in User.Extras or are derived), unsupported operators and
// mistyped values are *Error (Pos -1), so the server answers 400
// invalidFilter (RFC 7644 §3.12: "the specified attribute and filter
// comparison combination is not supported") instead of silently matching
// nothing, which would make a provisioning client create a duplicate.
//
// The result may be a directory.Const (e.g. `active pr` is always true).
func UserExpr(e Expr) (directory.Expr, error) {
	return translator{res: userResource}.expr(e, nil)
}

// GroupExpr translates a parsed filter on Groups into the core's filter;
// see UserExpr.
func GroupExpr(e Expr) (directory.Expr, error) {
	return translator{res: groupResource}.expr(e, nil)
}

// UserSortField maps a sortBy attribute (RFC 7644 §3.4.2.3) to a sortable
// core field: id, externalId, userName, name.givenName, name.familyName,
// emails (or emails.value), locale, meta.created, meta.lastModified, with
// or without the core User schema URI. active is not offered: the state
// column sorts ACTIVE before INACTIVE, the reverse of false < true.
func UserSortField(attr string) (directory.Field, bool) {
	return sortField(attr, uriUser, userSortFields)
}

// GroupSortField maps a sortBy attribute to a sortable group field: id,
// displayName, meta.created, meta.lastModified.
func GroupSortField(attr string) (directory.Field, bool) {
	return sortField(attr, uriGroup, groupSortFields)
}

var userSortFields = map[string]directory.Field{
	"id":                directory.FieldID,
	"externalid":        directory.FieldExternalID,
	"username":          directory.FieldUsername,
	"name.givenname":    directory.FieldFirstName,
	"name.familyname":   directory.FieldLastName,
	"emails":            directory.FieldEmail,
	"emails.value":      directory.FieldEmail,
	"locale":            directory.FieldLocale,
	"meta.created":      directory.FieldCreatedAt,
	"meta.lastmodified": directory.FieldUpdatedAt,
}

var groupSortFields = map[string]directory.Field{
	"id":                directory.FieldID,
	"displayname":       directory.FieldDisplayName,
	"meta.created":      directory.FieldCreatedAt,
	"meta.lastmodified": directory.FieldUpdatedAt,
}

func sortField(attr, coreURI string, fields map[string]directory.Field) (directory.Field, bool) {
	ap, ok := parseAttrPathString(attr)
	if !ok || ap.URI != "" && !strings.EqualFold(ap.URI, coreURI) {
		return "", false
	}
	key := strings.ToLower(ap.Attr)
	if ap.Sub != "" {
		key += "." + strings.ToLower(ap.Sub)
	}
	f, ok := fields[key]
	return f, ok
}

// kind is how a value is stored and compared.
type kind int

const (
	kindNone   kind = iota // known to the schema but not stored in a column: not filterable
	kindString             // string column
	kindID                 // string column holding a UUID; values are canonicalised
	kindTime               // time column; values are RFC 3339 strings
	kindActive             // SCIM active: bool over the state column
	kindBool               // bool constant (primary), decided in Go
)

// leaf is a filterable (or known but unfilterable) scalar attribute.
type leaf struct {
	name   string // canonical spelling, for messages
	kind   kind
	field  directory.Field
	fold   bool     // caseExact false (RFC 7643 §2.2)
	always bool     // every resource has a value: pr is Const true
	ops    []string // allowed operators; nil means every operator the kind supports
}

// attr is a top-level attribute of a schema. Exactly one of leaf, subs,
// multi or ref is set, or none for a known attribute Roster cannot filter.
type attr struct {
	name  string
	leaf  *leaf
	subs  map[string]*leaf // complex single-valued (name, meta); keys lower-case
	order []*leaf          // subs in schema order, for deterministic output
	multi *multi
	ref   *leaf // multi-valued whose core field already means "any value" (groups, members, aliases)
}

// multi is a multi-valued complex attribute stored in fixed slots: each
// slot is one value Roster can hold, with some sub-attributes in columns
// and the rest (type, primary) constant.
type multi struct {
	defaultSub string           // the sub-attribute meant when none is named ("value"); "" if none
	subs       map[string]*leaf // sub-attribute types; field unused (the slot has it); keys lower-case
	slots      []slot
}

type slot struct {
	present directory.Expr             // true when the slot holds a value
	fields  map[string]directory.Field // sub-attribute → column
	consts  map[string]any             // sub-attribute → constant; missing: unassigned
}

type schema struct {
	uri   string
	attrs map[string]*attr // keys lower-case
}

type resource struct {
	schemas []*schema // core first; bare names resolve in order
}

func str(name string, f directory.Field, fold bool) *leaf {
	return &leaf{name: name, kind: kindString, field: f, fold: fold}
}

func none(name string) *leaf { return &leaf{name: name} }

func attrs(list ...*attr) map[string]*attr {
	m := make(map[string]*attr, len(list))
	for _, a := range list {
		m[strings.ToLower(a.name)] = a
	}
	return m
}

func leaves(list ...*leaf) map[string]*leaf {
	m := make(map[string]*leaf, len(list))
	for _, l := range list {
		m[strings.ToLower(l.name)] = l
	}
	return m
}

func simple(l *leaf) *attr { return &attr{name: l.name, leaf: l} }

func complexAttr(name string, subs ...*leaf) *attr {
	return &attr{name: name, subs: leaves(subs...), order: subs}
}

func unfilterable(names ...string) []*attr {
	out := make([]*attr, len(names))
	for i, n := range names {
		out[i] = &attr{name: n}
	}
	return out
}

var (
	idLeaf   = &leaf{name: "id", kind: kindID, field: directory.FieldID, always: true}
	metaAttr = complexAttr("meta",
		&leaf{name: "created", kind: kindTime, field: directory.FieldCreatedAt, always: true},
		&leaf{name: "lastModified", kind: kindTime, field: directory.FieldUpdatedAt, always: true},
		none("resourceType"), none("location"), none("version"),
	)
	// schemas lists the URIs a resource uses; which extensions a user
	// "has" is decided at render time, so it is not filterable.
	schemasAttr = &attr{name: "schemas"}
)

func present(f directory.Field) directory.Expr {
	return directory.Cmp{Field: f, Op: directory.OpPr}
}

var addressFields = map[string]directory.Field{
	"streetaddress": directory.FieldAddressLine1,
	"locality":      directory.FieldAddressCity,
	"region":        directory.FieldAddressState,
	"postalcode":    directory.FieldAddressZip,
	"country":       directory.FieldAddressCountry,
}

// userResource is Roster's User as the SCIM server presents it. Every
// caseExact false attribute folds case (RFC 7643 §4.1); id and externalId
// are caseExact.
var userResource = &resource{schemas: []*schema{
	{uri: uriUser, attrs: attrs(append([]*attr{
		{name: "id", leaf: idLeaf},
		simple(str("externalId", directory.FieldExternalID, false)),
		simple(str("userName", directory.FieldUsername, true)),
		complexAttr("name",
			str("givenName", directory.FieldFirstName, true),
			str("familyName", directory.FieldLastName, true),
			// formatted is derived from the parts, the others live in
			// Extras: neither has a column to compare.
			none("formatted"), none("middleName"), none("honorificPrefix"), none("honorificSuffix"),
		),
		simple(str("locale", directory.FieldLocale, true)),
		simple(&leaf{name: "active", kind: kindActive, field: directory.FieldState, always: true}),
		{name: "emails", multi: &multi{
			defaultSub: "value",
			subs: leaves(
				&leaf{name: "value", kind: kindString, fold: true},
				&leaf{name: "type", kind: kindString, fold: true},
				&leaf{name: "primary", kind: kindBool},
				none("display"),
			),
			// The one e-mail is the primary one.
			slots: []slot{{
				present: present(directory.FieldEmail),
				fields:  map[string]directory.Field{"value": directory.FieldEmail},
				consts:  map[string]any{"type": emailType, "primary": true},
			}},
		}},
		{name: "phoneNumbers", multi: &multi{
			defaultSub: "value",
			subs: leaves(
				&leaf{name: "value", kind: kindString, fold: true},
				&leaf{name: "type", kind: kindString, fold: true},
				&leaf{name: "primary", kind: kindBool},
				none("display"),
			),
			// With two numbers neither is marked primary, so primary
			// is unassigned: `primary eq true` matches neither.
			slots: []slot{{
				present: present(directory.FieldPhone),
				fields:  map[string]directory.Field{"value": directory.FieldPhone},
				consts:  map[string]any{"type": phoneType},
			}, {
				present: present(directory.FieldMobile),
				fields:  map[string]directory.Field{"value": directory.FieldMobile},
				consts:  map[string]any{"type": mobileType},
			}},
		}},
		{name: "addresses", multi: &multi{
			subs: leaves(
				&leaf{name: "streetAddress", kind: kindString, fold: true},
				&leaf{name: "locality", kind: kindString, fold: true},
				&leaf{name: "region", kind: kindString, fold: true},
				&leaf{name: "postalCode", kind: kindString, fold: true},
				&leaf{name: "country", kind: kindString, fold: true},
				&leaf{name: "type", kind: kindString, fold: true},
				&leaf{name: "primary", kind: kindBool},
				none("formatted"),
			),
			slots: []slot{{
				present: anyPresent(directory.FieldAddressLine1, directory.FieldAddressLine2,
					directory.FieldAddressCity, directory.FieldAddressState,
					directory.FieldAddressCountry, directory.FieldAddressZip),
				fields: addressFields,
				consts: map[string]any{"type": addressType, "primary": true},
			}},
		}},
		// FieldGroupID supports eq only: "member of this group".
		{name: "groups", ref: &leaf{name: "value", kind: kindID, field: directory.FieldGroupID, ops: []string{"eq"}}},
		metaAttr,
		schemasAttr,
	}, unfilterable("displayName", "nickName", "profileUrl", "title", "userType",
		"preferredLanguage", "timezone", "password", "ims", "photos", "entitlements",
		"roles", "x509Certificates")...)...)},
	{uri: uriRoster, attrs: attrs(append([]*attr{
		// FieldAlias matches any alias; ne and pr would need "no alias
		// equals" and "has an alias", which the core does not offer.
		{name: "aliases", ref: &leaf{name: "value", kind: kindString, field: directory.FieldAlias, fold: true,
			ops: []string{"eq", "co", "sw", "ew"}}},
	}, unfilterable("ssn", "attributes", "extras")...)...)},
	// The enterprise extension is kept in Extras.
	{uri: uriEnterprise, attrs: attrs(unfilterable("employeeNumber", "costCenter", "organization",
		"division", "department", "manager")...)},
}}

var groupResource = &resource{schemas: []*schema{
	{uri: uriGroup, attrs: attrs(
		&attr{name: "id", leaf: idLeaf},
		simple(str("externalId", directory.FieldExternalID, false)),
		simple(str("displayName", directory.FieldDisplayName, true)),
		// FieldMemberID supports eq only: "has this user as member".
		&attr{name: "members", ref: &leaf{name: "value", kind: kindID, field: directory.FieldMemberID, ops: []string{"eq"}}},
		metaAttr,
		schemasAttr,
	)},
}}

func anyPresent(fields ...directory.Field) directory.Expr {
	var out directory.Expr = directory.Const(false)
	for _, f := range fields {
		out = or(out, present(f))
	}
	return out
}

func errf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Pos: -1}
}

func pathName(p AttrPath) string {
	n := p.Attr
	if p.URI != "" {
		n = p.URI + ":" + n
	}
	if p.Sub != "" {
		n += "." + p.Sub
	}
	return n
}

// lookup resolves a top-level attribute path to its definition. A bare
// name resolves in the core schema first, then the extensions, as most
// servers accept bare extension names.
func (r *resource) lookup(p AttrPath) (*attr, error) {
	name := strings.ToLower(p.Attr)
	for _, s := range r.schemas {
		if p.URI != "" && !strings.EqualFold(p.URI, s.uri) {
			continue
		}
		if a, ok := s.attrs[name]; ok {
			return a, nil
		}
		if p.URI != "" {
			return nil, errf("unknown attribute %q", pathName(p))
		}
	}
	if p.URI != "" {
		return nil, errf("unknown schema %q", p.URI)
	}
	return nil, errf("unknown attribute %q", pathName(p))
}

// scope is the attribute a value filter's names are relative to.
type scope struct {
	parent string
	multi  *multi
	slot   *slot
	subs   map[string]*leaf // complex single-valued parent
	ref    *leaf
}

type translator struct{ res *resource }

func (t translator) expr(e Expr, sc *scope) (directory.Expr, error) {
	switch x := e.(type) {
	case And:
		l, err := t.expr(x.L, sc)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(x.R, sc)
		if err != nil {
			return nil, err
		}
		if sc != nil && sc.ref != nil && !isConst(l) && !isConst(r) {
			// members[value eq "a" and value eq "b"] asks for one member
			// equal to both; the core's field can only say "a member is a"
			// and "a member is b", which differs.
			return nil, errf("\"and\" inside %s[...] is not supported", sc.parent)
		}
		return and(l, r), nil
	case Or:
		l, err := t.expr(x.L, sc)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(x.R, sc)
		if err != nil {
			return nil, err
		}
		return or(l, r), nil
	case Not:
		if sc != nil && sc.ref != nil {
			return nil, errf("\"not\" inside %s[...] is not supported", sc.parent)
		}
		v, err := t.expr(x.X, sc)
		if err != nil {
			return nil, err
		}
		return not(v), nil
	case Compare:
		return t.compare(x.Path, x.Op, x.Value, sc)
	case Present:
		return t.compare(x.Path, "pr", nil, sc)
	case ValuePath:
		if sc != nil {
			return nil, errf("nested value filter %s[...] inside %s[...] is not supported", pathName(x.Path), sc.parent)
		}
		return t.valuePath(x)
	// Pointers satisfy Expr too (the methods have value receivers); accept
	// them so a hand-built tree cannot panic the translator.
	case *And:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *Or:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *Not:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *Compare:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *Present:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *ValuePath:
		if x != nil {
			return t.expr(*x, sc)
		}
	}
	return nil, errf("empty or invalid filter expression")
}

// compare translates `path op v` (op "pr" for Present).
func (t translator) compare(p AttrPath, op string, v any, sc *scope) (directory.Expr, error) {
	op = strings.ToLower(op)
	if op != "pr" && !isCompareOp(op) {
		return nil, errf("unknown operator %q", op)
	}
	if sc != nil {
		return t.relative(p, op, v, sc)
	}
	a, err := t.res.lookup(p)
	if err != nil {
		return nil, err
	}
	name := pathName(p)
	switch {
	case a.leaf != nil:
		if p.Sub != "" {
			return nil, errf("unknown attribute %q: %q has no sub-attributes", name, a.name)
		}
		return compareLeaf(a.leaf, a.name, op, v)
	case a.subs != nil:
		if p.Sub == "" {
			if op == "pr" {
				return anySubPresent(a.order), nil
			}
			return nil, errf("%q is a complex attribute: compare one of its sub-attributes", a.name)
		}
		l, err := subLeaf(a.subs, a.name, p.Sub)
		if err != nil {
			return nil, err
		}
		return compareLeaf(l, name, op, v)
	case a.multi != nil:
		sub := p.Sub
		if sub == "" {
			sub = a.multi.defaultSub
		}
		if sub == "" {
			if op == "pr" {
				return slotsPresent(a.multi), nil
			}
			return nil, errf("%q is a complex attribute: compare one of its sub-attributes", a.name)
		}
		// A flat comparison on a multi-valued attribute is true when one
		// of its values matches (RFC 7644 §3.4.2.2): the same as a value
		// filter on that one sub-attribute.
		inner := Compare{Path: AttrPath{Attr: sub}, Op: op, Value: v}
		if op == "pr" {
			return t.expandSlots(a, Present{Path: inner.Path})
		}
		return t.expandSlots(a, inner)
	case a.ref != nil:
		if p.Sub != "" && !strings.EqualFold(p.Sub, "value") {
			return nil, errf("attribute %q is not filterable", name)
		}
		return compareLeaf(a.ref, name, op, v)
	}
	return nil, errf("attribute %q is not filterable", name)
}

// relative translates a comparison inside a value filter, whose names are
// sub-attributes of sc.parent.
func (t translator) relative(p AttrPath, op string, v any, sc *scope) (directory.Expr, error) {
	if p.URI != "" || p.Sub != "" {
		return nil, errf("%q inside %s[...] must be a sub-attribute name", pathName(p), sc.parent)
	}
	name := sc.parent + "." + p.Attr
	switch {
	case sc.ref != nil:
		if !strings.EqualFold(p.Attr, "value") {
			return nil, errf("attribute %q is not filterable", name)
		}
		return compareLeaf(sc.ref, name, op, v)
	case sc.subs != nil:
		l, err := subLeaf(sc.subs, sc.parent, p.Attr)
		if err != nil {
			return nil, err
		}
		return compareLeaf(l, name, op, v)
	}
	l, err := subLeaf(sc.multi.subs, sc.parent, p.Attr)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(p.Attr)
	if f, ok := sc.slot.fields[key]; ok {
		col := *l
		col.field = f
		return compareLeaf(&col, name, op, v)
	}
	return compareConst(l, name, sc.slot.consts[key], op, v)
}

func subLeaf(subs map[string]*leaf, parent, sub string) (*leaf, error) {
	l, ok := subs[strings.ToLower(sub)]
	if !ok {
		return nil, errf("unknown attribute %q", parent+"."+sub)
	}
	if l.kind == kindNone {
		return nil, errf("attribute %q is not filterable", parent+"."+l.name)
	}
	return l, nil
}

func (t translator) valuePath(vp ValuePath) (directory.Expr, error) {
	a, err := t.res.lookup(vp.Path)
	if err != nil {
		return nil, err
	}
	if vp.Path.Sub != "" {
		return nil, errf("\"[\" must follow an attribute, not %q", pathName(vp.Path))
	}
	switch {
	case a.multi != nil:
		return t.expandSlots(a, vp.Filter)
	case a.subs != nil:
		// Not in RFC 7644 (value paths are for multi-valued attributes),
		// but name[givenName eq "a" and familyName eq "b"] has one
		// obvious meaning, and clients send it.
		return t.expr(vp.Filter, &scope{parent: a.name, subs: a.subs})
	case a.ref != nil:
		return t.expr(vp.Filter, &scope{parent: a.name, ref: a.ref})
	case a.leaf != nil:
		return nil, errf("%q is not a complex attribute: \"[...]\" does not apply", a.name)
	}
	return nil, errf("attribute %q is not filterable", pathName(vp.Path))
}

// expandSlots translates f, relative to the multi-valued attribute a, into
// "some slot holds a value that matches f": an Or over the slots of
// (slot present and f on that slot), where f's constant sub-attributes
// (type, primary) have become Consts.
func (t translator) expandSlots(a *attr, f Expr) (directory.Expr, error) {
	var out directory.Expr = directory.Const(false)
	for i := range a.multi.slots {
		s := &a.multi.slots[i]
		e, err := t.expr(f, &scope{parent: a.name, multi: a.multi, slot: s})
		if err != nil {
			return nil, err
		}
		if !impliesPresent(e, s) {
			e = and(s.present, e)
		}
		out = or(out, e)
	}
	return out, nil
}

// impliesPresent reports whether e can only be true when slot s holds a
// value, so the presence test can be left out. Only plain columns qualify:
// the core compares phones through normalisation, whose empty results are
// not worth reasoning about.
func impliesPresent(e directory.Expr, s *slot) bool {
	switch x := e.(type) {
	case directory.And:
		return impliesPresent(x.L, s) || impliesPresent(x.R, s)
	case directory.Or:
		return impliesPresent(x.L, s) && impliesPresent(x.R, s)
	case directory.Cmp:
		if x.Field == directory.FieldPhone || x.Field == directory.FieldMobile {
			return false
		}
		inSlot := false
		for _, f := range s.fields {
			inSlot = inSlot || f == x.Field
		}
		if !inSlot {
			return false
		}
		str, _ := x.Value.(string)
		switch x.Op {
		case directory.OpPr, directory.OpGt:
			return true
		case directory.OpEq, directory.OpCo, directory.OpSw, directory.OpEw, directory.OpGe:
			return str != ""
		}
	}
	return false
}

func slotsPresent(m *multi) directory.Expr {
	var out directory.Expr = directory.Const(false)
	for _, s := range m.slots {
		out = or(out, s.present)
	}
	return out
}

// anySubPresent is `name pr`: some sub-attribute with a column has a value.
func anySubPresent(subs []*leaf) directory.Expr {
	var out directory.Expr = directory.Const(false)
	for _, l := range subs {
		switch {
		case l.kind == kindNone:
		case l.always:
			return directory.Const(true)
		default:
			out = or(out, present(l.field))
		}
	}
	return out
}

// compareLeaf type-checks `name op v` and builds the comparison on l's
// column.
func compareLeaf(l *leaf, name, op string, v any) (directory.Expr, error) {
	if l.kind == kindNone {
		return nil, errf("attribute %q is not filterable", name)
	}
	if err := checkOp(l, name, op, v); err != nil {
		return nil, err
	}
	if op == "pr" {
		if l.always {
			return directory.Const(true), nil
		}
		return directory.Cmp{Field: l.field, Op: directory.OpPr}, nil
	}
	if v == nil {
		// eq null asks for an unassigned value, ne null for an assigned
		// one (RFC 7643 §2.5: null is equivalent to unassigned).
		e, err := compareLeaf(l, name, "pr", nil)
		if err != nil {
			return nil, err
		}
		if op == "eq" {
			return not(e), nil
		}
		return e, nil
	}
	switch l.kind {
	case kindTime:
		tm, err := directory.ParseTimeValue(v.(string))
		if err != nil {
			return nil, errf("attribute %q expects an RFC 3339 date-time, got %q", name, v)
		}
		return directory.Cmp{Field: l.field, Op: directory.Op(op), Value: tm}, nil
	case kindActive:
		want := v.(bool) == (op == "eq")
		state := directory.StateInactive
		if want {
			state = directory.StateActive
		}
		return directory.Cmp{Field: l.field, Op: directory.OpEq, Value: state}, nil
	case kindID:
		s := v.(string)
		if op == "eq" || op == "ne" {
			// Ids are UUIDs, shown dashed or as 32 hex digits: compare
			// the canonical form, and decide here when it is not one.
			id, ok := directory.ParseID(s)
			if !ok {
				return directory.Const(op == "ne"), nil
			}
			s = id
		}
		return directory.Cmp{Field: l.field, Op: directory.Op(op), Value: s}, nil
	}
	return directory.Cmp{Field: l.field, Op: directory.Op(op), Value: v.(string), Fold: l.fold}, nil
}

// compareConst evaluates `name op v` in Go against c, the value every
// resource has in that slot (nil: unassigned).
func compareConst(l *leaf, name string, c any, op string, v any) (directory.Expr, error) {
	if err := checkOp(l, name, op, v); err != nil {
		return nil, err
	}
	if op == "pr" {
		return directory.Const(c != nil && c != ""), nil
	}
	if v == nil {
		return directory.Const((c == nil) == (op == "eq")), nil
	}
	if c == nil {
		return directory.Const(false), nil
	}
	if b, ok := v.(bool); ok {
		cb, _ := c.(bool)
		return directory.Const((cb == b) == (op == "eq")), nil
	}
	a, _ := c.(string)
	b := v.(string)
	if l.fold {
		a, b = strings.ToLower(a), strings.ToLower(b)
	}
	var r bool
	switch op {
	case "eq":
		r = a == b
	case "ne":
		r = a != b
	case "co":
		r = strings.Contains(a, b)
	case "sw":
		r = strings.HasPrefix(a, b)
	case "ew":
		r = strings.HasSuffix(a, b)
	case "gt":
		r = a > b
	case "ge":
		r = a >= b
	case "lt":
		r = a < b
	case "le":
		r = a <= b
	}
	return directory.Const(r), nil
}

// checkOp reports whether op and v suit l: the operator is allowed for the
// attribute's type, and v has that type. RFC 7644 §3.4.2.2 makes gt/ge/
// lt/le on booleans an invalidFilter; co/sw/ew on dates and booleans have
// no meaning either.
func checkOp(l *leaf, name, op string, v any) error {
	allowed := l.ops
	if allowed == nil {
		switch l.kind {
		case kindTime:
			allowed = []string{"pr", "eq", "ne", "gt", "ge", "lt", "le"}
		case kindActive, kindBool:
			allowed = []string{"pr", "eq", "ne"}
		}
	}
	if allowed != nil && !contains(allowed, op) {
		return errf("operator %q is not supported for attribute %q", op, name)
	}
	if op == "pr" {
		return nil
	}
	if v == nil {
		if op != "eq" && op != "ne" {
			return errf("null can only be compared with eq or ne (attribute %q)", name)
		}
		return nil
	}
	switch l.kind {
	case kindActive, kindBool:
		if _, ok := v.(bool); !ok {
			return errf("attribute %q expects true or false, got %s", name, describeValue(v))
		}
	case kindTime:
		if _, ok := v.(string); !ok {
			return errf("attribute %q expects an RFC 3339 date-time string, got %s", name, describeValue(v))
		}
	default:
		if _, ok := v.(string); !ok {
			return errf("attribute %q expects a string, got %s", name, describeValue(v))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func describeValue(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case int64, float64, int, float32, int32:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

func isConst(e directory.Expr) bool {
	_, ok := e.(directory.Const)
	return ok
}

// and, or and not fold constants, so a clause decided in Go (a slot's type
// or primary flag) never reaches the SQL.
func and(a, b directory.Expr) directory.Expr {
	if c, ok := a.(directory.Const); ok {
		if !c {
			return c
		}
		return b
	}
	if c, ok := b.(directory.Const); ok {
		if !c {
			return c
		}
		return a
	}
	return directory.And{L: a, R: b}
}

func or(a, b directory.Expr) directory.Expr {
	if c, ok := a.(directory.Const); ok {
		if c {
			return c
		}
		return b
	}
	if c, ok := b.(directory.Const); ok {
		if c {
			return c
		}
		return a
	}
	return directory.Or{L: a, R: b}
}

func not(a directory.Expr) directory.Expr {
	switch x := a.(type) {
	case directory.Const:
		return !x
	case directory.Not:
		return x.X
	}
	return directory.Not{X: a}
}
