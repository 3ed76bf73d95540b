package scim

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/directory"
)

// match evaluates a SCIM filter against a JSON object in memory: a value of
// a multi-valued attribute in a PATCH value path (emails[type eq "work"],
// members[value eq "…"]) or a whole resource. Attribute names compare
// case-insensitively (RFC 7643 §2.1); so do string values, except that two
// resource ids compare by their canonical form, so a 32-hex id matches its
// dashed twin. Listing filters never come here: they become SQL through
// userFilter/groupFilter (translate.go).
func match(e filter.Expr, obj map[string]any) (bool, error) {
	switch x := e.(type) {
	case filter.And:
		l, err := match(x.L, obj)
		if err != nil || !l {
			return false, err
		}
		return match(x.R, obj)
	case *filter.And:
		return match(*x, obj)
	case filter.Or:
		l, err := match(x.L, obj)
		if err != nil || l {
			return l, err
		}
		return match(x.R, obj)
	case *filter.Or:
		return match(*x, obj)
	case filter.Not:
		v, err := match(x.X, obj)
		return !v, err
	case *filter.Not:
		return match(*x, obj)
	case filter.Present:
		for _, v := range resolve(obj, x.Path) {
			if present(v) {
				return true, nil
			}
		}
		return false, nil
	case *filter.Present:
		return match(*x, obj)
	case filter.Compare:
		op := strings.ToLower(fmt.Sprint(x.Op))
		if op == "pr" {
			return match(filter.Present{Path: x.Path}, obj)
		}
		vals := resolve(obj, x.Path)
		if len(vals) == 0 {
			vals = []any{nil} // an absent attribute is null: "x eq null" matches it
		}
		for _, v := range vals {
			ok, err := compare(v, op, x.Value)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *filter.Compare:
		return match(*x, obj)
	case filter.ValuePath:
		for _, v := range resolve(obj, filter.AttrPath{URI: x.Path.URI, Attr: x.Path.Attr}) {
			sub, ok := v.(map[string]any)
			if !ok {
				continue
			}
			ok, err := match(x.Filter, sub)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *filter.ValuePath:
		return match(*x, obj)
	case nil:
		return true, nil
	}
	return false, badRequest(typeInvalidFilter, "unsupported filter expression")
}

// resolve returns the values at path in obj: the attribute's value, or each
// element of a multi-valued one, descending into Sub.
func resolve(obj map[string]any, p filter.AttrPath) []any {
	var root any = obj
	if p.URI != "" {
		if v, ok := lookupKey(obj, p.URI); ok {
			root = v
		} else if !isCoreURN(p.URI) {
			return nil
		}
	}
	o, ok := root.(map[string]any)
	if !ok {
		return nil
	}
	v, ok := lookupKey(o, p.Attr)
	if !ok {
		return nil
	}
	vals := flatten(v)
	if p.Sub == "" {
		return vals
	}
	var out []any
	for _, e := range vals {
		if eo, ok := e.(map[string]any); ok {
			if sv, ok := lookupKey(eo, p.Sub); ok {
				out = append(out, flatten(sv)...)
			}
		}
	}
	return out
}

func isCoreURN(u string) bool {
	return strings.EqualFold(u, URNUser) || strings.EqualFold(u, URNGroup)
}

func flatten(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// lookupKey finds key in m, case-insensitively.
func lookupKey(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// compare applies a SCIM comparison operator to an attribute value and the
// filter's literal.
func compare(have any, op string, want any) (bool, error) {
	if have == nil {
		switch op {
		case "eq":
			return want == nil, nil
		case "ne":
			return want != nil, nil
		}
		return false, nil
	}
	switch h := have.(type) {
	case string:
		w, ok := want.(string)
		if !ok {
			if op == "ne" {
				return true, nil
			}
			if b, isBool := want.(bool); isBool && (op == "eq") {
				hb, err := toBool(h, "")
				return err == nil && hb == b, nil
			}
			return false, nil
		}
		if hid, ok1 := directory.ParseID(h); ok1 {
			if wid, ok2 := directory.ParseID(w); ok2 {
				h, w = hid, wid
			}
		}
		h, w = strings.ToLower(h), strings.ToLower(w)
		switch op {
		case "co":
			return strings.Contains(h, w), nil
		case "sw":
			return strings.HasPrefix(h, w), nil
		case "ew":
			return strings.HasSuffix(h, w), nil
		}
		if res, ok := compareOrdered(op, h, w); ok {
			return res, nil
		}
	case bool:
		w, err := toBool(want, "")
		if err != nil {
			return op == "ne", nil
		}
		switch op {
		case "eq":
			return h == w, nil
		case "ne":
			return h != w, nil
		}
		return false, badRequest(typeInvalidFilter, "operator %q does not apply to a boolean", op)
	case float64:
		w, ok := toFloat(want)
		if !ok {
			return op == "ne", nil
		}
		if res, ok := compareOrdered(op, h, w); ok {
			return res, nil
		}
		return false, badRequest(typeInvalidFilter, "operator %q does not apply to a number", op)
	}
	return false, nil
}

// compareOrdered applies eq, ne, gt, ge, lt or le to two strings or two numbers;
// ok is false for any other operator, which the caller answers for its type.
func compareOrdered[T cmp.Ordered](op string, h, w T) (result, ok bool) {
	switch op {
	case "eq":
		return h == w, true
	case "ne":
		return h != w, true
	case "gt":
		return h > w, true
	case "ge":
		return h >= w, true
	case "lt":
		return h < w, true
	case "le":
		return h <= w, true
	}
	return false, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}
