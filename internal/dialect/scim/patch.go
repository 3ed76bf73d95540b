package scim

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/httpapi"
)

// maxPatchOps bounds the operations of one PATCH request.
const maxPatchOps = 1000

// patchOp is one operation of a PatchOp request (RFC 7644 §3.5.2).
type patchOp struct {
	Op    string // add, remove or replace (any case: Entra ID sends "Replace")
	Path  string
	Value any // decoded JSON; nil when absent or null
}

// patchRequest is a decoded PatchOp body.
type patchRequest struct {
	Ops []patchOp
}

// parsePatch decodes a PatchOp body. Keys are matched case-insensitively.
func parsePatch(raw []byte) (*patchRequest, error) {
	var m map[string]any
	if err := httpapi.Unmarshal(raw, &m, false); err != nil {
		return nil, err
	}
	return patchFromMap(m)
}

func patchFromMap(m map[string]any) (*patchRequest, error) {
	if err := checkSchemas(canonicalKeys(m), URNPatchOp); err != nil {
		return nil, err
	}
	opsV, ok := lookupKey(m, "Operations")
	if !ok || opsV == nil {
		return nil, badRequest(typeInvalidSyntax, "Operations is required")
	}
	list, ok := opsV.([]any)
	if !ok {
		return nil, badRequest(typeInvalidSyntax, "Operations must be an array")
	}
	if len(list) == 0 {
		return nil, badRequest(typeInvalidSyntax, "Operations must hold at least one operation")
	}
	if len(list) > maxPatchOps {
		return nil, badRequest(typeTooMany, "at most %d operations per PATCH", maxPatchOps)
	}
	req := &patchRequest{}
	for i, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, badRequest(typeInvalidSyntax, "Operations[%d] must be an object", i)
		}
		var op patchOp
		v, _ := lookupKey(o, "op")
		s, ok := v.(string)
		if !ok {
			return nil, badRequest(typeInvalidSyntax, "Operations[%d].op must be add, remove or replace", i)
		}
		op.Op = strings.ToLower(strings.TrimSpace(s))
		if op.Op != "add" && op.Op != "remove" && op.Op != "replace" {
			return nil, badRequest(typeInvalidSyntax, "Operations[%d].op must be add, remove or replace", i)
		}
		if pv, ok := lookupKey(o, "path"); ok && pv != nil {
			p, ok := pv.(string)
			if !ok {
				return nil, badRequest(typeInvalidPath, "Operations[%d].path must be a string", i)
			}
			op.Path = strings.TrimSpace(p)
		}
		op.Value, _ = lookupKey(o, "value")
		if op.Path == "" && op.Op == "remove" {
			return nil, badRequest(typeNoTarget, "Operations[%d]: remove requires a path", i)
		}
		if op.Op != "remove" && op.Value == nil {
			if _, present := lookupKey(o, "value"); !present {
				return nil, badRequest(typeInvalidValue, "Operations[%d]: %s requires a value", i, op.Op)
			}
		}
		req.Ops = append(req.Ops, op)
	}
	return req, nil
}

// canonicalKeys returns m with a "schemas" key spelled so.
func canonicalKeys(m map[string]any) map[string]any {
	if v, ok := lookupKey(m, "schemas"); ok {
		return map[string]any{"schemas": v}
	}
	return map[string]any{}
}

// applyPatch applies ops, in order, to rep (the resource's full SCIM
// representation, modified in place). Any error aborts: the caller
// discards rep, so a PATCH applies all operations or none. A write-only
// attribute (ssn) is absent from rep, which applyUser reads as
// "unchanged"; removing it leaves an explicit null, which unassigns it.
func applyPatch(rt *resourceType, rep map[string]any, ops []patchOp) error {
	for _, op := range ops {
		if s := rt.ext(op.Path); s != nil { // the path is a whole extension
			if op.Op == "remove" {
				rep[s.ID] = unassignedWriteOnly(s)
				continue
			}
			obj, ok := op.Value.(map[string]any)
			if !ok {
				return badRequest(typeInvalidValue, "%s needs an object value", s.ID)
			}
			if err := applyObject(rt, rep, op.Op, s.ID, obj); err != nil {
				return err
			}
			continue
		}
		if op.Path == "" {
			obj, ok := op.Value.(map[string]any)
			if !ok {
				return badRequest(typeInvalidValue, "%s without a path needs an object value", op.Op)
			}
			if err := applyObject(rt, rep, op.Op, "", obj); err != nil {
				return err
			}
			continue
		}
		if err := applyPath(rt, rep, op.Op, op.Path, op.Value, true); err != nil {
			return err
		}
	}
	return nil
}

// unassignedWriteOnly is an extension object with every write-only
// attribute of s explicitly null: what removing the whole extension means.
func unassignedWriteOnly(s *schema) map[string]any {
	o := map[string]any{}
	for _, a := range s.Attributes {
		if a.Mutability == mutWriteOnly {
			o[a.Name] = nil
		}
	}
	return o
}

// unassign removes attribute def from c. A write-only attribute is never in
// the representation, so its removal is written as an explicit null.
func unassign(c map[string]any, def *attr) {
	if def.Mutability == mutWriteOnly {
		c[def.Name] = nil
		return
	}
	delete(c, def.Name)
}

// applyObject applies a path-less add or replace: each key of obj is an
// attribute (or, as Entra ID sends them, a path like "name.givenName" or
// "urn:...:enterprise:2.0:User:department", or an extension URN holding an
// object of that extension's attributes). Read-only attributes are
// skipped: Okta sends "id" in such a value.
func applyObject(rt *resourceType, rep map[string]any, op, urn string, obj map[string]any) error {
	for k, v := range obj {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if urn == "" {
			if s := rt.ext(k); s != nil {
				o, ok := v.(map[string]any)
				if !ok {
					return badRequest(typeInvalidValue, "%s must be an object", s.ID)
				}
				if err := applyObject(rt, rep, op, s.ID, o); err != nil {
					return err
				}
				continue
			}
		}
		path := k
		if urn != "" {
			path = urn + ":" + k
		}
		if err := applyPath(rt, rep, op, path, v, false); err != nil {
			return err
		}
	}
	return nil
}

// target is a resolved PATCH path.
type target struct {
	container map[string]any // rep, or the extension object
	def       *attr
	filter    filter.Expr
	sub       *attr
}

// resolvePath parses and resolves path against rt. create makes a missing
// extension object.
func resolvePath(rt *resourceType, rep map[string]any, path string, create bool) (*target, error) {
	p, err := filter.ParsePath(path)
	if err != nil {
		return nil, badRequest(typeInvalidPath, "invalid path %q: %v", clip(path), err)
	}
	container := rep
	urn := p.Attr.URI
	if urn != "" && !strings.EqualFold(urn, rt.Core.ID) {
		s := rt.ext(urn)
		if s == nil {
			return nil, badRequest(typeInvalidPath, "unknown schema %q in path", clip(urn))
		}
		c, ok := rep[s.ID].(map[string]any)
		if !ok {
			c = map[string]any{}
			if create {
				rep[s.ID] = c
			}
		}
		container = c
		urn = s.ID
	}
	def := lookupAttr(rt, urn, p.Attr.Attr)
	if def == nil {
		return nil, badRequest(typeInvalidPath, "unknown attribute %q in path", clip(p.Attr.Attr))
	}
	subName := p.Sub
	if p.Attr.Sub != "" {
		if subName != "" {
			return nil, badRequest(typeInvalidPath, "invalid path %q", clip(path))
		}
		subName = p.Attr.Sub
	}
	t := &target{container: container, def: def, filter: p.Filter}
	if subName != "" {
		t.sub = def.sub(subName)
		if t.sub == nil {
			return nil, badRequest(typeInvalidPath, "%s has no sub-attribute %q", def.Name, clip(subName))
		}
	}
	if t.filter != nil && !(def.MultiValued && def.Type == "complex") {
		return nil, badRequest(typeInvalidPath, "a value filter applies only to multi-valued attributes, not %s", def.Name)
	}
	return t, nil
}

// applyPath applies one operation at path. explicit reports whether the
// client named the path (a read-only attribute there is an error) rather
// than sending it as a key of a path-less value (where it is skipped).
func applyPath(rt *resourceType, rep map[string]any, op, path string, value any, explicit bool) error {
	t, err := resolvePath(rt, rep, path, true)
	if err != nil {
		if !explicit && isInvalidPath(err) {
			return nil // an unknown key in a path-less value: ignored, as in POST and PUT
		}
		return err
	}
	readOnlyTarget := t.def.Mutability == mutReadOnly || t.sub != nil && t.sub.Mutability == mutReadOnly
	if readOnlyTarget || t.def.Name == "id" || t.def.Name == "meta" {
		if !explicit {
			return nil
		}
		return badRequest(typeMutability, "%s is read-only", t.def.Name)
	}
	key := t.def.Name
	c := t.container
	if t.sub == nil {
		value = canonicalValue(value, t.def)
	}
	if t.def.MultiValued && t.def.sub("primary") != nil {
		// RFC 7644 §3.5.2: setting a value's primary to true "SHALL cause
		// the server to automatically set primary to false for any other
		// values in the array".
		defer keepNewPrimary(c, key, primaries(c, key))
	}

	if t.filter != nil {
		return applyFiltered(c, key, t, op, value)
	}
	switch op {
	case "remove":
		if t.sub == nil {
			if t.def.MultiValued && value != nil {
				return removeValues(c, key, value)
			}
			unassign(c, t.def)
			return nil
		}
		for _, e := range elements(c, key, t.def) {
			delete(e, t.sub.Name)
		}
		return nil
	case "add", "replace":
		if value == nil { // a null value unassigns (RFC 7643 §2.5)
			if t.sub == nil {
				unassign(c, t.def)
			} else {
				for _, e := range elements(c, key, t.def) {
					delete(e, t.sub.Name)
				}
			}
			return nil
		}
		if t.sub != nil {
			if t.def.MultiValued {
				els := elements(c, key, t.def)
				if len(els) == 0 {
					c[key] = []any{map[string]any{t.sub.Name: value}}
					return nil
				}
				for _, e := range els {
					e[t.sub.Name] = value
				}
				return nil
			}
			o, _ := c[key].(map[string]any)
			if o == nil {
				o = map[string]any{}
			}
			o[t.sub.Name] = value
			c[key] = o
			return nil
		}
		switch {
		case t.def.MultiValued:
			vals := asList(value)
			if op == "replace" {
				c[key] = vals
				return nil
			}
			existing, _ := c[key].([]any)
			c[key] = appendDistinct(existing, vals, t.def)
		case t.def.Type == "complex":
			o, ok := complexValue(value, t.def).(map[string]any)
			if !ok {
				return badRequest(typeInvalidValue, "%s needs an object value", t.def.Name)
			}
			cur, _ := c[key].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
			}
			for k, v := range o { // sub-attributes not given are left unchanged
				cur[k] = v
			}
			c[key] = cur
		default:
			c[key] = value
		}
	}
	return nil
}

// primaries returns the values of attribute key that are primary now.
func primaries(c map[string]any, key string) map[uintptr]bool {
	out := map[uintptr]bool{}
	for _, e := range elements(c, key, nil) {
		if b, err := toBool(e["primary"], ""); err == nil && b {
			out[reflect.ValueOf(e).Pointer()] = true
		}
	}
	return out
}

// keepNewPrimary clears primary on the values that had it before an
// operation (before) when the operation made another value primary.
func keepNewPrimary(c map[string]any, key string, before map[uintptr]bool) {
	now := primaries(c, key)
	if len(now) <= 1 {
		return
	}
	for _, e := range elements(c, key, nil) {
		if before[reflect.ValueOf(e).Pointer()] {
			delete(e, "primary")
		}
	}
}

func isInvalidPath(err error) bool {
	se, ok := err.(*Error)
	return ok && se.ScimType == typeInvalidPath
}

// applyFiltered applies op to the values of a multi-valued attribute that
// match t.filter. add and replace with no match create the value when the
// filter is a conjunction of eq comparisons (emails[type eq "work"].value
// on a user without a work e-mail: Entra ID sends that as Add or Replace);
// otherwise no match is noTarget. remove with no match does nothing.
func applyFiltered(c map[string]any, key string, t *target, op string, value any) error {
	list, _ := c[key].([]any)
	var matched []map[string]any
	keep := list[:0:0]
	for _, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			keep = append(keep, e)
			continue
		}
		ok, err := match(t.filter, o)
		if err != nil {
			return err
		}
		if ok {
			matched = append(matched, o)
			if op == "remove" && t.sub == nil {
				continue
			}
		}
		keep = append(keep, e)
	}
	switch op {
	case "remove":
		if t.sub == nil {
			if len(keep) == 0 {
				delete(c, key)
			} else {
				c[key] = keep
			}
			return nil
		}
		for _, o := range matched {
			delete(o, t.sub.Name)
		}
		return nil
	}
	if len(matched) == 0 {
		pairs, ok := eqPairs(t.filter)
		if !ok {
			return &Error{Status: 400, ScimType: typeNoTarget, Detail: "no value of " + key + " matches the filter"}
		}
		o := map[string]any{}
		for k, v := range pairs {
			if sa := t.def.sub(k); sa != nil {
				o[sa.Name] = v
			}
		}
		list = append(list, o)
		c[key] = list
		matched = []map[string]any{o}
	}
	for _, o := range matched {
		if t.sub != nil {
			if value == nil {
				delete(o, t.sub.Name)
			} else {
				o[t.sub.Name] = value
			}
			continue
		}
		v, ok := value.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "%s[...] needs an object value", key)
		}
		if op == "replace" {
			for k := range o {
				delete(o, k)
			}
		}
		for k, x := range v {
			o[k] = x
		}
	}
	return nil
}

// eqPairs returns the attribute=value pairs of a filter made only of eq
// comparisons joined by and.
func eqPairs(e filter.Expr) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch x := e.(type) {
		case filter.And:
			return walk(x.L) && walk(x.R)
		case *filter.And:
			return walk(x.L) && walk(x.R)
		case filter.Compare:
			return eqPair(out, x)
		case *filter.Compare:
			return eqPair(out, *x)
		}
		return false
	}
	return out, walk(e)
}

func eqPair(out map[string]any, c filter.Compare) bool {
	if !strings.EqualFold(stringOf(c.Op), "eq") || c.Path.Sub != "" || c.Path.URI != "" {
		return false
	}
	out[c.Path.Attr] = c.Value
	return true
}

// elements returns the objects of attribute key: each value of a
// multi-valued one, or the single object.
func elements(c map[string]any, key string, def *attr) []map[string]any {
	switch x := c[key].(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if o, ok := e.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// appendDistinct adds vals to existing, skipping a value already there (by
// its "value" sub-attribute), so adding a present group member is a no-op.
// A new primary value takes primary from the others: see keepNewPrimary.
func appendDistinct(existing, vals []any, def *attr) []any {
	out := append([]any(nil), existing...)
	for _, v := range vals {
		o, ok := v.(map[string]any)
		if ok && def.sub("value") != nil {
			if idx := indexByValue(out, o["value"]); idx >= 0 {
				if cur, ok := out[idx].(map[string]any); ok {
					for k, x := range o {
						cur[k] = x
					}
				}
				continue
			}
		}
		out = append(out, v)
	}
	return out
}

func indexByValue(list []any, v any) int {
	if v == nil {
		return -1
	}
	for i, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if same, _ := compare(o["value"], "eq", v); same {
			return i
		}
	}
	return -1
}

// removeValues removes the values listed in value (objects with a "value"
// sub-attribute, as Entra ID sends group members to remove).
func removeValues(c map[string]any, key string, value any) error {
	list, _ := c[key].([]any)
	for _, v := range asList(value) {
		o, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "each value to remove from %s must be an object with a value", key)
		}
		want, _ := lookupKey(o, "value")
		if idx := indexByValue(list, want); idx >= 0 {
			list = append(list[:idx:idx], list[idx+1:]...)
		}
	}
	if len(list) == 0 {
		delete(c, key)
	} else {
		c[key] = list
	}
	return nil
}

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}
