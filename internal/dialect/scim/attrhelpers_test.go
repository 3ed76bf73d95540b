package scim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// Helpers of the attribute tests (attributes_test.go,
// entra_multivalue_test.go).

// listQuery lists users with the query parameters kv (pairs) as secret
// and returns the userNames of the page in order and totalResults.
func (e *env) listQuery(secret string, kv ...string) (names []string, total int) {
	e.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	r := e.callAs(secret, "GET", "/Users?"+v.Encode(), "")
	if r.Status != http.StatusOK {
		e.t.Errorf("GET /Users?%s: status %d, want 200; body: %s", v.Encode(), r.Status, r.Body)
		return nil, -1
	}
	m := r.Map(e.t)
	names = []string{}
	for _, res := range asSlice(m["Resources"]) {
		n, _ := at(res, "userName").(string)
		names = append(names, n)
	}
	t, _ := m["totalResults"].(float64)
	return names, int(t)
}

// nameSet returns names sorted, for comparing result sets.
func nameSet(names ...string) []string {
	out := append([]string{}, names...)
	sort.Strings(out)
	return out
}

// mustObj decodes a JSON object literal of a test table; a malformed one
// fails the test.
func mustObj(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("test JSON %s: %v", s, err)
	}
	return m
}

// sameJSON reports whether a and b encode to the same JSON (map keys
// sorted by encoding/json, so key order does not matter).
func sameJSON(a, b any) bool { return jsonString(a) == jsonString(b) }

// diffSent checks that every leaf of sent comes back in got at the same
// place with the same value, arrays with the same length and order. In
// got, keys that sent lacks are reported too, except those allowed(path,
// value) accepts (a server-set "primary": false, say). path names the
// place for the message.
func diffSent(t testing.TB, path string, sent, got any, allowed func(path string, v any) bool) {
	t.Helper()
	switch s := sent.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s = %s, want an object like %s", path, jsonString(got), jsonString(sent))
			return
		}
		for k, sv := range s {
			gv, ok := lookupFold(g, k)
			if !ok {
				t.Errorf("%s.%s missing, want %s", path, k, jsonString(sv))
				continue
			}
			diffSent(t, path+"."+k, sv, gv, allowed)
		}
		for k, gv := range g {
			if _, ok := lookupFold(s, k); !ok && (allowed == nil || !allowed(path+"."+k, gv)) {
				t.Errorf("%s.%s = %s returned but not sent", path, k, jsonString(gv))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(s) {
			t.Errorf("%s = %s, want %d values as sent: %s", path, jsonString(got), len(s), jsonString(sent))
			return
		}
		for i := range s {
			diffSent(t, path+"."+itoa(i), s[i], g[i], allowed)
		}
	default:
		if !sameJSON(sent, got) {
			t.Errorf("%s = %s, want %s", path, jsonString(got), jsonString(sent))
		}
	}
}

// lookupFold finds key k in m, attribute names being case-insensitive
// (RFC 7643 §2.1).
func lookupFold(m map[string]any, k string) (any, bool) {
	if v, ok := m[k]; ok {
		return v, true
	}
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v, true
		}
	}
	return nil, false
}

// primaries counts the values of a multi-valued attribute with primary
// true.
func primaries(vs any) int {
	n := 0
	for _, v := range asSlice(vs) {
		if at(v, "primary") == true {
			n++
		}
	}
	return n
}

// valueWhere returns the first value of a multi-valued attribute whose
// sub-attribute key equals want (nil if none).
func valueWhere(vs any, key, want string) map[string]any {
	for _, v := range asSlice(vs) {
		if s, _ := at(v, key).(string); s == want {
			m, _ := v.(map[string]any)
			return m
		}
	}
	return nil
}

// getUser reads a user and fails the test unless it is 200.
func (e *env) getUser(id string) map[string]any {
	e.t.Helper()
	r := e.call("GET", "/Users/"+id, "")
	mustStatus(e.t, r, http.StatusOK)
	return r.Map(e.t)
}

// absent, as a value for setAt, deletes the key (or array element).
var absent = &struct{ absent bool }{true}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	var out any
	_ = json.Unmarshal([]byte(jsonString(v)), &out)
	return out
}

// setAt sets the value at a path of at's syntax in v (maps and arrays
// decoded from JSON), creating objects on the way; absent deletes it.
func setAt(v any, path string, val any) {
	segs := splitPath(path)
	for i, seg := range segs {
		last := i == len(segs)-1
		switch x := v.(type) {
		case map[string]any:
			if last {
				if val == absent {
					delete(x, seg)
				} else {
					x[seg] = val
				}
				return
			}
			next, ok := x[seg]
			if !ok || next == nil {
				next = map[string]any{}
				x[seg] = next
			}
			v = next
		case []any:
			n := 0
			for _, c := range seg {
				n = n*10 + int(c-'0')
			}
			if n >= len(x) {
				return
			}
			if last {
				x[n] = val
				return
			}
			v = x[n]
		default:
			return
		}
	}
}

// without returns a copy of the array vs without the elements at idx.
func without(vs any, idx ...int) []any {
	out := []any{}
	for i, v := range asSlice(vs) {
		drop := false
		for _, j := range idx {
			drop = drop || i == j
		}
		if !drop {
			out = append(out, deepCopy(v))
		}
	}
	return out
}

// normalizeEmpty drops keys whose value is null or an empty array,
// recursively: RFC 7643 §2.5 makes unassigned, null and [] the same state.
func normalizeEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			if c == nil {
				continue
			}
			if a, ok := c.([]any); ok && len(a) == 0 {
				continue
			}
			out[k] = normalizeEmpty(c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = normalizeEmpty(c)
		}
		return out
	}
	return v
}

// serverSetFalse accepts a "primary": false the server adds to a value
// that was sent without one.
func serverSetFalse(path string, v any) bool {
	return strings.HasSuffix(path, ".primary") && v == false
}
