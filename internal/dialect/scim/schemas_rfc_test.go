package scim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

// rfcSchemasFile is RFC 7643 §8.7.1 ("Resource Schema Representation") as
// the RFC publishes it: the User, Group and EnterpriseUser schemas. See
// testdata/rfc7643/README.md for where it comes from.
const rfcSchemasFile = "testdata/rfc7643/schemas.json"

// differencesHeading is the docs heading under which rfcDifferences is
// published; the table there must be this table, row for row.
const differencesHeading = "Differences from RFC 7643 §8.7.1"

// differencesDocs are the files that may carry the table: docs/scim.md, or
// a page of its own linked from it. Every one that has the heading is
// checked; at least one must.
var differencesDocs = []string{"../../../docs/scim.md", "../../../docs/scim-rfc-differences.md"}

// difference is one deliberate difference between /Schemas and RFC 7643
// §8.7.1. path is "<schema name>:<attribute path>" ("User:groups.$ref"),
// or a schema URN for a whole schema the RFC does not define.
// characteristic is the attribute characteristic, "(attribute)" for an
// attribute one side lacks, "(schema)" for a schema. rfc and roster are
// the values as rendered by render: "true", "readOnly", `["User"]`,
// "absent", "present".
type difference struct {
	path, characteristic, rfc, roster, reason string
}

// rfcDifferences is every deliberate difference, and the only place they
// are listed (the docs carry a copy that the test checks). An
// undeclared difference fails the test, and so does a declared one that no
// longer exists.
var rfcDifferences = []difference{
	{"User:externalId", "(attribute)", "absent", "present",
		"A common attribute (RFC 7643 §3.1) that §8.7.1 puts in no schema; Roster lists it so that clients see its characteristics (caseExact, readWrite)."},
	{"User:addresses.primary", "(attribute)", "absent", "present",
		"§8.7.1 omits it, but §2.4 gives every multi-valued attribute a primary and §4.1.2 and the §8.2 example use it for addresses; Roster stores it, at most one primary address."},
	{"User:groups.$ref", "referenceTypes", `["User","Group"]`, `["Group"]`,
		"Erratum EID 8471 (verified): a user's groups reference Group resources only."},
	{"User:groups.type", "canonicalValues", `["direct","indirect"]`, `["direct"]`,
		"Roster has no nested or dynamic groups: every membership is direct."},
	{"User:x509Certificates.value", "caseExact", "false", "true",
		"A binary value is case exact (RFC 7643 §2.3.6; errata EID 6000 and EID 8470): base64 is case-sensitive."},
	{"Group:displayName", "required", "false", "true",
		"Erratum EID 5368 (verified) and §4.2: displayName is REQUIRED; Roster answers 400 without it."},
	{"Group:displayName", "uniqueness", "none", "server",
		"Entra ID matches groups by displayName eq, so Roster keeps group names unique in a tenant, case-insensitively, enforced by a unique index (409 uniqueness)."},
	{"Group:externalId", "(attribute)", "absent", "present",
		"As User:externalId."},
	{"Group:members.display", "(attribute)", "absent", "present",
		"§8.7.1 omits it; §2.4 defines display (mutability immutable) for multi-valued attributes, and Roster returns each member's display name."},
	{"Group:members.$ref", "referenceTypes", `["User","Group"]`, `["User"]`,
		"Members are users only: Roster has no nested groups."},
	{"Group:members.type", "canonicalValues", `["User","Group"]`, `["User"]`,
		"Members are users only: type Group is 400 invalidValue."},
	{"urn:ietf:params:scim:schemas:extension:roster:2.0:User", "(schema)", "absent", "present",
		"Roster's own extension (RFC 7643 §3.3) for the SSN, aliases, custom attributes and other dialects' values."},
}

// characteristics are the attribute characteristics compared, with the
// RFC 7643 §2.2 default that applies when a definition omits one (the RFC's
// JSON leaves out, e.g., caseExact of booleans and uniqueness of complex
// attributes). Descriptions are Roster's own words and are not compared.
var characteristics = []struct {
	name string
	def  any
}{
	{"type", "string"},
	{"multiValued", false},
	{"required", false},
	{"caseExact", false},
	{"mutability", "readWrite"},
	{"returned", "default"},
	{"uniqueness", "none"},
	{"canonicalValues", []any{}},
	{"referenceTypes", []any{}},
}

// explicit are the characteristics Roster must state for every attribute
// rather than leave to the defaults (RFC 7643 §7 lists them for each).
var explicit = []string{"type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"}

// flatAttr is one attribute or sub-attribute with its characteristics
// rendered.
type flatAttr struct {
	path  string // "name.formatted"
	chars map[string]string
	raw   map[string]any
}

// flatten lists attrs and their sub-attributes depth-first, in order.
func flatten(attrs []any, prefix string) ([]flatAttr, error) {
	var out []flatAttr
	for _, x := range attrs {
		a, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%sattribute is %T, not an object", prefix, x)
		}
		name, _ := a["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("%sattribute without a name: %s", prefix, jsonString(a))
		}
		fa := flatAttr{path: prefix + name, chars: map[string]string{}, raw: a}
		for _, c := range characteristics {
			v, ok := a[c.name]
			if !ok {
				v = c.def
			}
			fa.chars[c.name] = render(v)
		}
		out = append(out, fa)
		if subs, ok := a["subAttributes"]; ok {
			list, ok := subs.([]any)
			if !ok {
				return nil, fmt.Errorf("%s.subAttributes is %T, not a list", fa.path, subs)
			}
			more, err := flatten(list, fa.path+".")
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
	}
	return out, nil
}

// render is a characteristic's value as the differences table writes it.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "[]"
	default:
		return jsonString(x)
	}
}

// compareSchema returns the differences between one RFC schema and
// Roster's, keyed by attribute path ("" for none: a difference of the
// schema itself). A sub-attribute of an attribute one side lacks is not
// reported again.
func compareSchema(schemaName string, rfcAttrs, rosterAttrs []flatAttr) map[string][]difference {
	out := map[string][]difference{}
	rosterBy := map[string]flatAttr{}
	for _, a := range rosterAttrs {
		rosterBy[a.path] = a
	}
	rfcBy := map[string]flatAttr{}
	for _, a := range rfcAttrs {
		rfcBy[a.path] = a
	}
	parentMissing := func(path string, in map[string]flatAttr) bool {
		for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
			if _, ok := in[path[:i]]; !ok {
				return true
			}
		}
		return false
	}
	for _, ra := range rfcAttrs {
		key := schemaName + ":" + ra.path
		oa, ok := rosterBy[ra.path]
		if !ok {
			if !parentMissing(ra.path, rosterBy) {
				out[ra.path] = append(out[ra.path], difference{path: key, characteristic: "(attribute)", rfc: "present", roster: "absent"})
			}
			continue
		}
		for _, c := range characteristics {
			if ra.chars[c.name] != oa.chars[c.name] {
				out[ra.path] = append(out[ra.path], difference{path: key, characteristic: c.name, rfc: ra.chars[c.name], roster: oa.chars[c.name]})
			}
		}
	}
	for _, oa := range rosterAttrs {
		if _, ok := rfcBy[oa.path]; !ok && !parentMissing(oa.path, rfcBy) {
			out[oa.path] = append(out[oa.path], difference{path: schemaName + ":" + oa.path, characteristic: "(attribute)", rfc: "absent", roster: "present"})
		}
	}
	return out
}

// declared returns the rfcDifferences rows for path (exact match).
func declared(path string) []difference {
	var out []difference
	for _, d := range rfcDifferences {
		if d.path == path {
			out = append(out, d)
		}
	}
	return out
}

// checkDifferences fails t unless found are exactly the declared rows for
// path (ignoring reasons).
func checkDifferences(t *testing.T, path string, found []difference) {
	t.Helper()
	want := declared(path)
	key := func(d difference) string { return d.characteristic + ": RFC " + d.rfc + ", Roster " + d.roster }
	wantSet := map[string]bool{}
	for _, d := range want {
		wantSet[key(d)] = true
	}
	gotSet := map[string]bool{}
	for _, d := range found {
		gotSet[key(d)] = true
		if !wantSet[key(d)] {
			t.Errorf("%s: undeclared difference from RFC 7643 §8.7.1: %s (fix schema.go, or add a row to rfcDifferences and docs)", path, key(d))
		}
	}
	for _, d := range want {
		if !gotSet[key(d)] {
			t.Errorf("%s: declared difference no longer exists: %s (remove its row from rfcDifferences and docs)", path, key(d))
		}
	}
}

type rfcSchema struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Attributes []any  `json:"attributes"`
}

func loadRFCSchemas(t testing.TB) []rfcSchema {
	t.Helper()
	b, err := os.ReadFile(rfcSchemasFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []rfcSchema
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", rfcSchemasFile, err)
	}
	// The transcription is whole: §8.7.1 has these schemas with these
	// numbers of attributes (sub-attributes included).
	want := []struct {
		id, name string
		attrs    int
	}{
		{"urn:ietf:params:scim:schemas:core:2.0:User", "User", 66},
		{"urn:ietf:params:scim:schemas:core:2.0:Group", "Group", 5},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "EnterpriseUser", 9},
	}
	if len(out) != len(want) {
		t.Fatalf("%s: %d schemas, want %d", rfcSchemasFile, len(out), len(want))
	}
	for i, w := range want {
		flat, err := flatten(out[i].Attributes, "")
		if err != nil {
			t.Fatalf("%s: %s: %v", rfcSchemasFile, w.name, err)
		}
		if out[i].ID != w.id || out[i].Name != w.name || len(flat) != w.attrs {
			t.Fatalf("%s: schema %d is %s %q with %d attributes, want %s %q with %d", rfcSchemasFile, i, out[i].ID, out[i].Name, len(flat), w.id, w.name, w.attrs)
		}
	}
	return out
}

// TestSchemasMatchRFC7643 compares GET /Schemas and /Schemas/{id} with RFC
// 7643 §8.7.1, attribute by attribute (sub-attributes included): every
// characteristic but the description must match, except the rows of
// rfcDifferences.
func TestSchemasMatchRFC7643(t *testing.T) {
	rfc := loadRFCSchemas(t)
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		r := e.Do(apitest.Request{Method: "GET", Path: "/scim/v2/Schemas"})
		mustStatus(t, r, http.StatusOK)
		var list struct {
			TotalResults int              `json:"totalResults"`
			Resources    []map[string]any `json:"Resources"`
		}
		r.JSON(t, &list)
		if list.TotalResults != len(list.Resources) {
			t.Errorf("totalResults %d, %d Resources", list.TotalResults, len(list.Resources))
		}
		served := map[string]map[string]any{}
		for _, s := range list.Resources {
			id, _ := s["id"].(string)
			if served[id] != nil {
				t.Errorf("schema %s listed twice", id)
			}
			served[id] = s
		}

		for _, rs := range rfc {
			t.Run(rs.Name, func(t *testing.T) {
				listed := served[rs.ID]
				if listed == nil {
					t.Fatalf("/Schemas does not list %s", rs.ID)
				}
				one := e.Do(apitest.Request{Method: "GET", Path: "/scim/v2/Schemas/" + url.PathEscape(rs.ID)})
				mustStatus(t, one, http.StatusOK)
				got := one.Map(t)
				if jsonString(got) != jsonString(listed) {
					t.Errorf("/Schemas/%s differs from its /Schemas entry:\n%s\n%s", rs.ID, jsonString(got), jsonString(listed))
				}
				if got["name"] != rs.Name {
					t.Errorf("name %v, want %q", got["name"], rs.Name)
				}
				if s, _ := got["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:schemas:core:2.0:Schema" {
					t.Errorf("schemas %v", got["schemas"])
				}
				ours, _ := got["attributes"].([]any)
				rosterFlat, err := flatten(ours, "")
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range rosterFlat {
					for _, c := range explicit {
						if _, ok := a.raw[c]; !ok {
							t.Errorf("%s: characteristic %s not stated", a.path, c)
						}
					}
				}
				rfcFlat, err := flatten(rs.Attributes, "")
				if err != nil {
					t.Fatal(err)
				}
				found := compareSchema(rs.Name, rfcFlat, rosterFlat)
				// One subtest per attribute path, RFC order first, then
				// Roster's additions, so a failure names the attribute.
				seen := map[string]bool{}
				var paths []string
				for _, a := range append(rfcFlat, rosterFlat...) {
					if !seen[a.path] {
						seen[a.path] = true
						paths = append(paths, a.path)
					}
				}
				for _, p := range paths {
					t.Run(p, func(t *testing.T) { checkDifferences(t, rs.Name+":"+p, found[p]) })
				}
				// A declared row naming an attribute neither side has.
				for _, d := range rfcDifferences {
					if p, ok := strings.CutPrefix(d.path, rs.Name+":"); ok && !seen[p] {
						t.Errorf("%s: declared, but neither RFC 7643 nor /Schemas has the attribute", d.path)
					}
				}
			})
		}

		// Schemas beyond §8.7.1 must be declared too.
		t.Run("extra-schemas", func(t *testing.T) {
			inRFC := map[string]bool{}
			for _, rs := range rfc {
				inRFC[rs.ID] = true
			}
			for id := range served {
				if !inRFC[id] {
					checkDifferences(t, id, []difference{{path: id, characteristic: "(schema)", rfc: "absent", roster: "present"}})
				}
			}
			for _, d := range rfcDifferences {
				if d.characteristic == "(schema)" && served[d.path] == nil {
					t.Errorf("%s: declared as an extra schema, but /Schemas does not list it", d.path)
				}
			}
		})
	})
}

// TestSchemasRFCComparison checks that the comparison sees a change of each
// characteristic, a missing attribute and an added one: without this a
// comparison that found nothing would pass every declared-free attribute.
func TestSchemasRFCComparison(t *testing.T) {
	rfc := loadRFCSchemas(t)
	base, err := flatten(rfc[0].Attributes, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := compareSchema("User", base, base); len(got) != 0 {
		t.Fatalf("the RFC differs from itself: %v", got)
	}
	mutate := func(f func(attrs []any) []any) []flatAttr {
		var copied []any
		if err := json.Unmarshal([]byte(jsonString(rfc[0].Attributes)), &copied); err != nil {
			t.Fatal(err)
		}
		flat, err := flatten(f(copied), "")
		if err != nil {
			t.Fatal(err)
		}
		return flat
	}
	sub := func(attrs []any, name, subName string) map[string]any {
		for _, a := range attrs {
			if m := a.(map[string]any); m["name"] == name {
				for _, s := range m["subAttributes"].([]any) {
					if sm := s.(map[string]any); sm["name"] == subName {
						return sm
					}
				}
			}
		}
		t.Fatalf("no %s.%s", name, subName)
		return nil
	}
	changes := map[string]any{
		"type": "reference", "multiValued": true, "required": true, "caseExact": true,
		"mutability": "immutable", "returned": "always", "uniqueness": "server",
		"canonicalValues": []any{"work"}, "referenceTypes": []any{"User"},
	}
	for _, c := range characteristics {
		t.Run(c.name, func(t *testing.T) {
			changed := mutate(func(attrs []any) []any {
				sub(attrs, "addresses", "locality")[c.name] = changes[c.name]
				return attrs
			})
			got := compareSchema("User", base, changed)
			if len(got) != 1 || len(got["addresses.locality"]) != 1 || got["addresses.locality"][0].characteristic != c.name {
				t.Errorf("changing addresses.locality %s: found %v", c.name, got)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		changed := mutate(func(attrs []any) []any { return attrs[1:] }) // no userName
		got := compareSchema("User", base, changed)
		if len(got) != 1 || got["userName"][0].roster != "absent" {
			t.Errorf("dropping userName: found %v", got)
		}
		// Its sub-attributes are not reported again.
		changed = mutate(func(attrs []any) []any { return append(attrs[:1:1], attrs[2:]...) }) // no name
		if got := compareSchema("User", base, changed); len(got) != 1 || got["name"][0].roster != "absent" {
			t.Errorf("dropping name: found %v", got)
		}
	})
	t.Run("added", func(t *testing.T) {
		changed := mutate(func(attrs []any) []any {
			return append(attrs, map[string]any{"name": "shoeSize", "type": "integer"})
		})
		got := compareSchema("User", base, changed)
		if len(got) != 1 || got["shoeSize"][0].rfc != "absent" {
			t.Errorf("adding shoeSize: found %v", got)
		}
	})
}

// TestSchemasRFCDifferencesDocumented checks that the docs carry
// rfcDifferences, row for row, under differencesHeading.
func TestSchemasRFCDifferencesDocumented(t *testing.T) {
	var checked int
	for _, path := range differencesDocs {
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows, ok := docTable(b, differencesHeading)
		if !ok {
			continue
		}
		checked++
		var want [][]string
		for _, d := range rfcDifferences {
			want = append(want, []string{d.path, d.characteristic, d.rfc, d.roster, d.reason})
		}
		if len(rows) != len(want) {
			t.Errorf("%s: %d rows under %q, want %d (the rows of rfcDifferences)", path, len(rows), differencesHeading, len(want))
		}
		for i := 0; i < len(rows) && i < len(want); i++ {
			if jsonString(rows[i]) != jsonString(want[i]) {
				t.Errorf("%s: row %d is\n  %q\nwant\n  %q", path, i+1, rows[i], want[i])
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no heading %q in %v", differencesHeading, differencesDocs)
	}
}

// docTable returns the body rows of the first Markdown table after the
// heading whose text is heading, cells trimmed and stripped of backticks.
func docTable(doc []byte, heading string) ([][]string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(doc))
	found, inTable := false, false
	var rows [][]string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !found {
			if strings.HasPrefix(line, "#") && strings.TrimSpace(strings.TrimLeft(line, "#")) == heading {
				found = true
			}
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if inTable || strings.HasPrefix(line, "#") {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i, c := range cells {
			cells[i] = strings.TrimSpace(strings.ReplaceAll(c, "`", ""))
		}
		rows = append(rows, cells)
	}
	if !found || len(rows) < 2 {
		return nil, found
	}
	return rows[2:], true // header and separator rows
}
