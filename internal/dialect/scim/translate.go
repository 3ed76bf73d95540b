package scim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/directory"
)

// Filter translation: a parsed SCIM filter (RFC 7644 §3.4.2.2) becomes the
// core's filter, which the store runs as SQL. Every attribute is resolved
// through the schema table (its type and caseExact decide the operators and
// folding) and its binding (where the value lives), so whatever /Schemas
// publishes as stored is filterable.
//
// Unknown attributes, attributes that are not stored (password, ssn),
// unsupported operators and mistyped values are invalidFilter errors
// (RFC 7644 §3.12: "the specified attribute and filter comparison
// combination is not supported") rather than filters that silently match
// nothing, which would make a provisioning client create a duplicate.

// userFilter translates a filter on Users.
func userFilter(e filter.Expr) (directory.Expr, error) {
	return translator{rt: userType, bindings: userBindings}.expr(e, nil)
}

// groupFilter translates a filter on Groups.
func groupFilter(e filter.Expr) (directory.Expr, error) {
	return translator{rt: groupType, bindings: groupBindings}.expr(e, nil)
}

// commonBindings are the filter targets of the attributes every resource
// has (RFC 7643 §3.1).
var commonBindings = map[string]*binding{
	"id":                {field: directory.FieldID, id: true},
	"meta.created":      {field: directory.FieldCreatedAt},
	"meta.lastmodified": {field: directory.FieldUpdatedAt},
}

// groupBindings are the filter and sort targets of Group attributes.
var groupBindings = map[string]*binding{
	"externalid":  {field: directory.FieldExternalID},
	"displayname": {field: directory.FieldDisplayName},
	"members":     {ref: directory.FieldMemberID, refOps: []string{"eq"}, id: true},
}

func errf(format string, args ...any) *filter.Error {
	return &filter.Error{Msg: fmt.Sprintf(format, args...), Pos: -1}
}

type translator struct {
	rt       *resourceType
	bindings map[string]*binding
}

// filterTarget is a resolved attribute: its definition and binding, and the
// path by which messages name it.
type filterTarget struct {
	def  *attr
	b    *binding
	name string
	part bool // a part of a complex singular attribute (name.givenName), reached through its parent
}

// resolve finds the attribute p names. A bare name resolves in the core
// schema first, then in the extensions, as most servers accept.
func (t translator) resolve(p filter.AttrPath) (*filterTarget, error) {
	urn := p.URI
	if strings.EqualFold(urn, t.rt.Core.ID) {
		urn = ""
	}
	prefix := ""
	def := lookupAttr(t.rt, urn, p.Attr)
	if urn != "" {
		s := t.rt.ext(urn)
		if s == nil {
			return nil, errf("unknown schema %q", p.URI)
		}
		prefix = s.ID + ":"
	} else if def == nil {
		for _, s := range t.rt.Extensions {
			if def = findAttr(s.Attributes, p.Attr); def != nil {
				prefix = s.ID + ":"
				break
			}
		}
	}
	if def == nil {
		return nil, errf("unknown attribute %q", pathName(p))
	}
	path := prefix + def.Name
	tg := &filterTarget{def: def, name: path}
	if p.Sub != "" {
		sub := def.sub(p.Sub)
		if sub == nil {
			return nil, errf("unknown attribute %q", pathName(p))
		}
		if def.Type == "complex" && !def.MultiValued {
			// name.givenName, meta.created: the sub-attribute is the filterTarget.
			tg = &filterTarget{def: sub, name: path + "." + sub.Name, part: true}
			tg.b = t.binding(tg.name)
			return tg, nil
		}
		tg.name = path + "." + sub.Name
	}
	tg.b = t.binding(path)
	return tg, nil
}

func (t translator) binding(path string) *binding {
	key := strings.ToLower(path)
	if b, ok := commonBindings[key]; ok {
		return b
	}
	return t.bindings[key]
}

func pathName(p filter.AttrPath) string {
	n := p.Attr
	if p.URI != "" {
		n = p.URI + ":" + n
	}
	if p.Sub != "" {
		n += "." + p.Sub
	}
	return n
}

// scope is the multi-valued (or complex) attribute a value filter's
// names are relative to. oneValue marks a value filter on a multi-valued
// attribute stored as values: its comparisons name fields of one value,
// and valuePath wraps the whole filter in one Any.
type scope struct {
	tg       *filterTarget
	oneValue bool
}

func (t translator) expr(e filter.Expr, sc *scope) (directory.Expr, error) {
	switch x := e.(type) {
	case filter.And:
		l, err := t.expr(x.L, sc)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(x.R, sc)
		if err != nil {
			return nil, err
		}
		if sc != nil && sc.tg.b != nil && sc.tg.b.ref != "" && !isConst(l) && !isConst(r) {
			// members[value eq "a" and value eq "b"] asks for one member
			// equal to both; the core's reference field can only say "a
			// member is a" and "a member is b", which differs.
			return nil, errf("\"and\" inside %s[...] is not supported", sc.tg.name)
		}
		return and(l, r), nil
	case filter.Or:
		l, err := t.expr(x.L, sc)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(x.R, sc)
		if err != nil {
			return nil, err
		}
		return or(l, r), nil
	case filter.Not:
		if sc != nil && sc.tg.b != nil && sc.tg.b.ref != "" {
			return nil, errf("\"not\" inside %s[...] is not supported", sc.tg.name)
		}
		v, err := t.expr(x.X, sc)
		if err != nil {
			return nil, err
		}
		return not(v), nil
	case filter.Compare:
		return t.compare(x.Path, strings.ToLower(x.Op), x.Value, sc)
	case filter.Present:
		return t.compare(x.Path, "pr", nil, sc)
	case filter.ValuePath:
		if sc != nil {
			return nil, errf("nested value filter %s[...] inside %s[...] is not supported", pathName(x.Path), sc.tg.name)
		}
		return t.valuePath(x)
	// Pointers satisfy Expr too (the methods have value receivers); accept
	// them so a hand-built tree cannot panic the translator.
	case *filter.And:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *filter.Or:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *filter.Not:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *filter.Compare:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *filter.Present:
		if x != nil {
			return t.expr(*x, sc)
		}
	case *filter.ValuePath:
		if x != nil {
			return t.expr(*x, sc)
		}
	}
	return nil, errf("empty or invalid filter expression")
}

var compareOps = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"}

// compare translates `path op v` (op "pr" for Present).
func (t translator) compare(p filter.AttrPath, op string, v any, sc *scope) (directory.Expr, error) {
	if !slices.Contains(compareOps, op) {
		return nil, errf("unknown operator %q", op)
	}
	if sc != nil {
		if p.URI != "" || p.Sub != "" {
			return nil, errf("%q inside %s[...] must be a sub-attribute name", pathName(p), sc.tg.name)
		}
		return t.inValue(sc.tg, p.Attr, op, v, sc.oneValue)
	}
	tg, err := t.resolve(p)
	if err != nil {
		return nil, err
	}
	def := tg.def
	switch {
	case def.Type == "complex" && !def.MultiValued:
		// `name pr`: some part is set. A comparison needs a part.
		if op != "pr" {
			return nil, errf("%q is a complex attribute: compare one of its sub-attributes", tg.name)
		}
		var out directory.Expr = directory.Const(false)
		for _, sa := range def.SubAttributes {
			b := t.binding(tg.name + "." + sa.Name)
			if b == nil || b.field == "" {
				continue
			}
			e, err := leafCompare(&filterTarget{def: sa, b: b, name: tg.name + "." + sa.Name}, "pr", nil)
			if err != nil {
				return nil, err
			}
			out = or(out, e)
		}
		return out, nil
	case def.MultiValued:
		if tg.b == nil {
			return nil, errf("attribute %q is not filterable", tg.name)
		}
		sub := p.Sub
		if sub == "" && def.sub("value") != nil {
			sub = "value" // `emails co "x"` means its value
		}
		if tg.b.ref != "" {
			if sub != "" && !strings.EqualFold(sub, "value") {
				return nil, errf("attribute %q is not filterable", tg.name)
			}
			return refCompare(tg, op, v)
		}
		if sub == "" {
			if op != "pr" {
				return nil, errf("%q is a complex attribute: compare one of its sub-attributes", tg.name)
			}
			return directory.Any{Kind: tg.b.kind}, nil
		}
		// A comparison on a multi-valued attribute "matches if any of the
		// values of the specified attribute match" (RFC 7644 §3.4.2.2).
		if v == nil && op == "eq" { // no value has it
			e, err := t.inValue(tg, sub, "pr", nil, false)
			if err != nil {
				return nil, err
			}
			return not(e), nil
		}
		return t.inValue(tg, sub, op, v, false)
	}
	if p.Sub != "" && !tg.part {
		return nil, errf("unknown attribute %q: %q has no sub-attributes", pathName(p), tg.name)
	}
	return leafCompare(tg, op, v)
}

// inValue translates `sub op v` on one value of the multi-valued (or
// complex singular) attribute tg: an Any over the values of its kind, or,
// with oneValue, the comparison on one value for the caller to wrap.
func (t translator) inValue(tg *filterTarget, sub, op string, v any, oneValue bool) (directory.Expr, error) {
	sa := tg.def.sub(sub)
	if sa == nil {
		return nil, errf("unknown attribute %q", tg.name+"."+sub)
	}
	name := tg.name + "." + sa.Name
	if !tg.def.MultiValued { // name[givenName eq "a"]: a part of one object
		return leafCompare(&filterTarget{def: sa, b: t.binding(name), name: name}, op, v)
	}
	if tg.b == nil {
		return nil, errf("attribute %q is not filterable", tg.name)
	}
	if tg.b.ref != "" {
		if !strings.EqualFold(sa.Name, "value") {
			return nil, errf("attribute %q is not filterable", name)
		}
		return refCompare(tg, op, v)
	}
	f, _, ok := valueField(sa.Name)
	if !ok {
		return nil, errf("attribute %q is not filterable", name)
	}
	e, err := leafCompare(&filterTarget{def: sa, b: &binding{field: f}, name: name}, op, v)
	if err != nil {
		return nil, err
	}
	if _, isConst := e.(directory.Const); isConst || oneValue {
		return e, nil
	}
	return directory.Any{Kind: tg.b.kind, X: e}, nil
}

// valuePath translates attr[filter].
func (t translator) valuePath(vp filter.ValuePath) (directory.Expr, error) {
	if vp.Path.Sub != "" {
		return nil, errf("\"[\" must follow an attribute, not %q", pathName(vp.Path))
	}
	tg, err := t.resolve(vp.Path)
	if err != nil {
		return nil, err
	}
	if tg.def.Type != "complex" {
		return nil, errf("%q is not a complex attribute: \"[...]\" does not apply", tg.name)
	}
	if !tg.def.MultiValued {
		// Not in RFC 7644 (value paths are for multi-valued attributes),
		// but name[givenName eq "a" and familyName eq "b"] has one
		// obvious meaning, and clients send it.
		return t.expr(vp.Filter, &scope{tg: tg})
	}
	if tg.b == nil {
		return nil, errf("attribute %q is not filterable", tg.name)
	}
	if tg.b.ref != "" {
		return t.expr(vp.Filter, &scope{tg: tg})
	}
	// Translate the inner filter over one value, then wrap it once, so
	// emails[type eq "work" and value co "x"] needs one value to satisfy
	// both.
	inner, err := t.expr(vp.Filter, &scope{tg: tg, oneValue: true})
	if err != nil {
		return nil, err
	}
	if c, ok := inner.(directory.Const); ok {
		if !c {
			return c, nil
		}
		return directory.Any{Kind: tg.b.kind}, nil
	}
	return directory.Any{Kind: tg.b.kind, X: inner}, nil
}

// refCompare translates a comparison on the value of a multi-valued
// reference (groups.value, members.value, aliases.value): the core field
// means "some value is".
func refCompare(tg *filterTarget, op string, v any) (directory.Expr, error) {
	if !slices.Contains(tg.b.refOps, op) {
		return nil, errf("operator %q is not supported for attribute %q", op, tg.name)
	}
	if op == "pr" {
		return directory.Cmp{Field: tg.b.ref, Op: directory.OpPr}, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, errf("attribute %q expects a string, got %s", tg.name, describeValue(v))
	}
	if tg.b.id {
		id, ok := directory.ParseID(s)
		if !ok {
			return directory.Const(false), nil
		}
		s = id
	}
	return directory.Cmp{Field: tg.b.ref, Op: directory.Op(op), Value: s, Fold: !tg.b.id}, nil
}

// opsByType are the operators each attribute type allows (RFC 7644
// §3.4.2.2: gt/ge/lt/le on booleans and binary are invalidFilter; co, sw
// and ew have no meaning on dates and booleans).
var opsByType = map[string][]string{
	"boolean":  {"pr", "eq", "ne"},
	"binary":   {"pr", "eq", "ne"},
	"dateTime": {"pr", "eq", "ne", "gt", "ge", "lt", "le"},
}

// leafCompare type-checks `name op v` on a singular attribute (or a
// sub-attribute of one value) and builds the comparison on its field.
func leafCompare(tg *filterTarget, op string, v any) (directory.Expr, error) {
	if tg.b == nil || tg.b.field == "" {
		reason := "is not filterable"
		if tg.b != nil && tg.b.noFiltr != "" {
			reason = "is not filterable: " + tg.b.noFiltr
		}
		return nil, errf("attribute %q %s", tg.name, reason)
	}
	typ := tg.def.Type
	if ops, ok := opsByType[typ]; ok && !slices.Contains(ops, op) {
		return nil, errf("operator %q is not supported for attribute %q", op, tg.name)
	}
	f := tg.b.field
	always := f == directory.FieldID || f == directory.FieldCreatedAt || f == directory.FieldUpdatedAt || tg.b.active
	if op == "pr" {
		if always {
			return directory.Const(true), nil
		}
		return directory.Cmp{Field: f, Op: directory.OpPr}, nil
	}
	if v == nil {
		// eq null asks for an unassigned value, ne null for an assigned
		// one (RFC 7643 §2.5: null is equivalent to unassigned).
		if op != "eq" && op != "ne" {
			return nil, errf("null can only be compared with eq or ne (attribute %q)", tg.name)
		}
		e, err := leafCompare(tg, "pr", nil)
		if err != nil {
			return nil, err
		}
		if op == "eq" {
			return not(e), nil
		}
		return e, nil
	}
	switch typ {
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, errf("attribute %q expects true or false, got %s", tg.name, describeValue(v))
		}
		if tg.b.active {
			state := directory.StateInactive
			if b == (op == "eq") {
				state = directory.StateActive
			}
			return directory.Cmp{Field: f, Op: directory.OpEq, Value: state}, nil
		}
		return directory.Cmp{Field: f, Op: directory.Op(op), Value: b}, nil
	case "dateTime":
		s, ok := v.(string)
		if !ok {
			return nil, errf("attribute %q expects an RFC 3339 date-time string, got %s", tg.name, describeValue(v))
		}
		tm, err := directory.ParseTimeValue(s)
		if err != nil {
			return nil, errf("attribute %q expects an RFC 3339 date-time, got %q", tg.name, s)
		}
		return directory.Cmp{Field: f, Op: directory.Op(op), Value: tm}, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, errf("attribute %q expects a string, got %s", tg.name, describeValue(v))
	}
	if !always && (op == "ne" || op == "lt" || op == "le") {
		// A user without the value has nothing to compare: it matches
		// neither `title ne "x"` nor `title lt "x"` (an absent value is
		// stored as "", which would otherwise match both); `not (title
		// eq "x")` is how to include it.
		return and(directory.Cmp{Field: f, Op: directory.OpPr}, directory.Cmp{Field: f, Op: directory.Op(op), Value: s, Fold: !tg.def.CaseExact}), nil
	}
	if tg.b.id && (op == "eq" || op == "ne") {
		// Ids are UUIDs, shown dashed or as 32 hex digits: compare the
		// canonical form, and decide here when it is not one.
		id, ok := directory.ParseID(s)
		if !ok {
			return directory.Const(op == "ne"), nil
		}
		s = id
	}
	return directory.Cmp{Field: f, Op: directory.Op(op), Value: s, Fold: !tg.def.CaseExact}, nil
}

func describeValue(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case int64, float64, int, float32, int32:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

func isConst(e directory.Expr) bool {
	_, ok := e.(directory.Const)
	return ok
}

// and, or and not fold constants, so a clause decided in Go never reaches
// the SQL.
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

// userSortField maps a sortBy attribute (RFC 7644 §3.4.2.3) to a sortable
// core field: every singular attribute Roster stores (active aside: its
// column sorts ACTIVE before INACTIVE, the reverse of false < true), and
// emails by the primary e-mail ("sorting by a multi-valued attribute uses
// its primary value").
func userSortField(attr string) (directory.Field, bool) {
	return sortField(translator{rt: userType, bindings: userBindings}, attr)
}

// groupSortField maps a sortBy attribute to a sortable group field: id,
// displayName, externalId, meta.created, meta.lastModified.
func groupSortField(attr string) (directory.Field, bool) {
	return sortField(translator{rt: groupType, bindings: groupBindings}, attr)
}

func sortField(t translator, attr string) (directory.Field, bool) {
	e, err := filter.Parse(attr + " pr")
	pr, ok := e.(filter.Present)
	if err != nil || !ok {
		return "", false
	}
	tg, err := t.resolve(pr.Path)
	if err != nil || tg.b == nil {
		return "", false
	}
	if tg.b.kind == directory.KindEmail && (pr.Path.Sub == "" || strings.EqualFold(pr.Path.Sub, "value")) {
		return directory.FieldEmail, true
	}
	if tg.def.MultiValued || tg.b.field == "" || tg.b.active {
		return "", false
	}
	f := tg.b.field
	if t.rt == groupType {
		return f, slices.Contains([]directory.Field{directory.FieldID, directory.FieldDisplayName, directory.FieldExternalID, directory.FieldCreatedAt, directory.FieldUpdatedAt}, f)
	}
	return f, f.Sortable()
}
