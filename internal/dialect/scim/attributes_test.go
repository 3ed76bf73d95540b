package scim_test

// Issue 8: every attribute of RFC 7643 §4.1 and the enterprise extension
// (§4.3) is stored, returned as sent, filterable with every operator of
// RFC 7644 §3.4.2.2 its type allows, sortable when singular, and PATCHable
// through value paths; multi-valued attributes keep every value with at
// most one primary.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
)

const coreUser = "urn:ietf:params:scim:schemas:core:2.0:User"

// Certificates for x509Certificates.value (binary, base64 per RFC 7643
// §2.3.6). Not real certificates: the server must keep them as sent.
var (
	certA = base64.StdEncoding.EncodeToString([]byte("roster test certificate A: not a real DER certificate, just bytes"))
	certB = base64.StdEncoding.EncodeToString([]byte("roster test certificate B"))
)

// fullUser is a User with every attribute of RFC 7643 §4.1 and the
// enterprise extension, multi-valued ones with several values.
func fullUser() string {
	return `{
	"schemas": ["` + coreUser + `", "` + ent + `"],
	"externalId": "bjensen-ext-701984",
	"userName": "bjensen@example.com",
	"name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara", "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
	"displayName": "Babs Jensen",
	"nickName": "Babs",
	"profileUrl": "https://login.example.com/bjensen",
	"title": "Tour Guide",
	"userType": "Employee",
	"preferredLanguage": "en-US",
	"locale": "en-US",
	"timezone": "America/Los_Angeles",
	"active": true,
	"password": "t1meMa$heen",
	"emails": [
		{"value": "bjensen@example.com", "type": "work", "primary": true, "display": "Babs at work"},
		{"value": "babs@jensen.org", "type": "home", "display": "Babs at home"},
		{"value": "barbara.jensen@other.example.net", "type": "other"}
	],
	"phoneNumbers": [
		{"value": "+1 555 555 5555", "type": "work", "primary": true, "display": "desk"},
		{"value": "+1 555 555 4444", "type": "mobile"},
		{"value": "+1 555 555 3333", "type": "fax"}
	],
	"addresses": [
		{"type": "work", "primary": true, "formatted": "100 Universal City Plaza\nSuite 400\nHollywood, CA 91608 US", "streetAddress": "100 Universal City Plaza\nSuite 400", "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US"},
		{"type": "home", "formatted": "456 Hollywood Blvd\nApt 7\nHollywood, CA 91608 US", "streetAddress": "456 Hollywood Blvd\nApt 7", "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US"}
	],
	"ims": [
		{"value": "someaimhandle", "type": "aim", "primary": true},
		{"value": "babs@xmpp.example.org", "type": "xmpp", "display": "Babs on XMPP"}
	],
	"photos": [
		{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo", "primary": true},
		{"value": "https://photos.example.com/profilephoto/72930000000Ccne/T", "type": "thumbnail", "display": "thumbnail"}
	],
	"entitlements": [
		{"value": "ent-admin", "display": "Administrator", "type": "app", "primary": true},
		{"value": "ent-reader", "type": "app"}
	],
	"roles": [
		{"value": "tour-guide", "display": "Tour Guide", "type": "job", "primary": true},
		{"value": "trainer", "type": "job"}
	],
	"x509Certificates": [
		{"value": "` + certA + `", "display": "Signing certificate", "type": "signing", "primary": true}
	],
	"` + ent + `": {
		"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
		"division": "Theme Park", "department": "Tour Operations",
		"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
	}
}`
}

// roundTripAllowed is what a server may add to a value it returns: a
// "primary": false, the manager's $ref and displayName (RFC 7643 §4.3:
// $ref is the manager's URI, displayName readOnly), the user's groups.
func roundTripAllowed(path string, v any) bool {
	switch {
	case serverSetFalse(path, v):
		return true
	case path == "user."+ent+".manager.$ref", path == "user."+ent+".manager.displayName":
		return true
	case path == "user.id", path == "user.meta", path == "user.groups", path == "user.schemas":
		return true
	}
	return false
}

// TestUserAttributesRoundTrip: a user with every attribute comes back
// exactly as sent from POST, GET, a filtered list and after a PUT of the
// same body; the password is accepted and never returned.
func TestUserAttributesRoundTrip(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		sent := mustObj(t, fullUser())
		password := sent["password"].(string)
		delete(sent, "password")
		delete(sent, "schemas")

		check := func(t *testing.T, r *apitest.Response, status int) map[string]any {
			t.Helper()
			mustStatus(t, r, status)
			if strings.Contains(string(r.Body), password) || strings.Contains(strings.ToLower(string(r.Body)), `"password"`) {
				t.Errorf("the response returns the password: %s", r.Body)
			}
			var got map[string]any
			if status == http.StatusOK && r.Map(t)["Resources"] != nil {
				got, _ = at(r.Map(t), "Resources.0").(map[string]any)
			} else {
				got = r.Map(t)
			}
			diffSent(t, "user", sent, got, roundTripAllowed)
			schemas := jsonString(got["schemas"])
			if !strings.Contains(schemas, `"`+coreUser+`"`) || !strings.Contains(schemas, `"`+ent+`"`) {
				t.Errorf("schemas %s, want the core User and enterprise URNs", schemas)
			}
			return got
		}

		var id string
		t.Run("POST returns every attribute as sent", func(t *testing.T) {
			got := check(t, e.call("POST", "/Users", fullUser()), http.StatusCreated)
			id, _ = got["id"].(string)
		})
		if id == "" {
			t.Fatal("no user created")
		}
		t.Run("GET returns every attribute as sent", func(t *testing.T) {
			check(t, e.call("GET", "/Users/"+id, ""), http.StatusOK)
		})
		t.Run("GET with attributes=password returns no password", func(t *testing.T) {
			r := e.call("GET", "/Users/"+id+"?attributes=password,userName", "")
			mustStatus(t, r, http.StatusOK)
			if m := r.Map(t); m["password"] != nil || strings.Contains(string(r.Body), password) {
				t.Errorf("password returned: %s", r.Body)
			}
		})
		t.Run("filtered list returns every attribute as sent", func(t *testing.T) {
			check(t, e.call("GET", "/Users?filter="+url.QueryEscape(`userName eq "bjensen@example.com"`), ""), http.StatusOK)
		})
		t.Run("PUT of the same body returns and keeps every attribute", func(t *testing.T) {
			check(t, e.call("PUT", "/Users/"+id, fullUser()), http.StatusOK)
			check(t, e.call("GET", "/Users/"+id, ""), http.StatusOK)
		})
		t.Run("the password is not stored", func(t *testing.T) {
			u, err := e.Svc.GetUser(t.Context(), e.Creds.Principal(), id)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprintf("%+v", *u); strings.Contains(s, password) {
				t.Errorf("stored user holds the password: %s", s)
			}
		})
		t.Run("name.formatted is derived only when absent", func(t *testing.T) {
			u := e.createUser(`{"userName":"derived","name":{"givenName":"Ann","familyName":"Lee"}}`)
			if got := at(u, "name.formatted"); got != "Ann Lee" {
				t.Errorf("name.formatted without one sent = %v, want \"Ann Lee\" (derived)", got)
			}
			u = e.createUser(`{"userName":"sent","name":{"givenName":"Ann","familyName":"Lee","formatted":"Dr. Ann B. Lee"}}`)
			if got := at(u, "name.formatted"); got != "Dr. Ann B. Lee" {
				t.Errorf("name.formatted sent = %v, want \"Dr. Ann B. Lee\" as sent", got)
			}
		})
	})
}

// The filter fixture: four users. alice, bob and carol have every
// singular string attribute, with values ascending in that order (byte
// order and case-insensitive order agree); dave has only a userName and
// active. They are created in the order carol, alice, dave, bob so that
// creation order differs from every sort order asserted.
const (
	uA, uB, uC, uD = "alice", "bob", "carol", "dave"
)

var fixtureOrder = []string{uC, uA, uD, uB}

// strAttr is a singular string (or reference) attribute of the fixture.
type strAttr struct {
	path       string    // as in a filter and sortBy
	set        string    // where in the body (at's syntax)
	vals       [3]string // alice, bob, carol
	caseExact  bool
	reference  bool // RFC 7643 §2.3.7: eq ne co sw ew pr (no ordering)
	co, sw, ew opCase
}

type opCase struct {
	v    string
	want []string
}

var stringAttrs = []strAttr{
	{path: "externalId", set: "externalId", vals: [3]string{"ext-a", "ext-b", "ext-c"}, caseExact: true,
		co: opCase{"t-b", []string{uB}}, sw: opCase{"ext-", []string{uA, uB, uC}}, ew: opCase{"-c", []string{uC}}},
	{path: "name.formatted", set: "name.formatted", vals: [3]string{"Alice A Anders", "Bob B Brown", "Carol C Clark"},
		co: opCase{"b b", []string{uB}}, sw: opCase{"car", []string{uC}}, ew: opCase{"anders", []string{uA}}},
	{path: "name.familyName", set: "name.familyName", vals: [3]string{"Anders", "Brown", "Clark"},
		co: opCase{"row", []string{uB}}, sw: opCase{"cl", []string{uC}}, ew: opCase{"ers", []string{uA}}},
	{path: "name.givenName", set: "name.givenName", vals: [3]string{"Alice", "Bob", "Carol"},
		co: opCase{"li", []string{uA}}, sw: opCase{"b", []string{uB}}, ew: opCase{"ol", []string{uC}}},
	{path: "name.middleName", set: "name.middleName", vals: [3]string{"Amy", "Beth", "Cleo"},
		co: opCase{"et", []string{uB}}, sw: opCase{"cl", []string{uC}}, ew: opCase{"my", []string{uA}}},
	{path: "name.honorificPrefix", set: "name.honorificPrefix", vals: [3]string{"Dr.", "Mr.", "Ms."},
		co: opCase{"r", []string{uA, uB}}, sw: opCase{"m", []string{uB, uC}}, ew: opCase{"s.", []string{uC}}},
	{path: "name.honorificSuffix", set: "name.honorificSuffix", vals: [3]string{"II", "III", "Jr."},
		co: opCase{"ii", []string{uA, uB}}, sw: opCase{"j", []string{uC}}, ew: opCase{"iii", []string{uB}}},
	{path: "displayName", set: "displayName", vals: [3]string{"Alice Anders", "Bob Brown", "Carol Clark"},
		co: opCase{"b b", []string{uB}}, sw: opCase{"carol ", []string{uC}}, ew: opCase{"anders", []string{uA}}},
	{path: "nickName", set: "nickName", vals: [3]string{"Ace", "Bee", "Cee"},
		co: opCase{"e", []string{uA, uB, uC}}, sw: opCase{"b", []string{uB}}, ew: opCase{"ee", []string{uB, uC}}},
	{path: "profileUrl", set: "profileUrl", vals: [3]string{"https://a.example.com/alice", "https://b.example.com/bob", "https://c.example.org/carol"}, reference: true,
		co: opCase{"example.com", []string{uA, uB}}, sw: opCase{"https://c.", []string{uC}}, ew: opCase{"/bob", []string{uB}}},
	{path: "title", set: "title", vals: [3]string{"Analyst", "Builder", "Chemist"},
		co: opCase{"il", []string{uB}}, sw: opCase{"ch", []string{uC}}, ew: opCase{"st", []string{uA, uC}}},
	{path: "userType", set: "userType", vals: [3]string{"Contractor", "Employee", "Intern"},
		co: opCase{"o", []string{uA, uB}}, sw: opCase{"e", []string{uB}}, ew: opCase{"rn", []string{uC}}},
	{path: "preferredLanguage", set: "preferredLanguage", vals: [3]string{"de-DE", "en-US", "fr-FR"},
		co: opCase{"-us", []string{uB}}, sw: opCase{"fr", []string{uC}}, ew: opCase{"de", []string{uA}}},
	{path: "locale", set: "locale", vals: [3]string{"de-DE", "en-US", "fr-FR"},
		co: opCase{"-us", []string{uB}}, sw: opCase{"fr", []string{uC}}, ew: opCase{"de", []string{uA}}},
	{path: "timezone", set: "timezone", vals: [3]string{"America/Chicago", "Europe/Berlin", "Pacific/Auckland"},
		co: opCase{"/ber", []string{uB}}, sw: opCase{"pac", []string{uC}}, ew: opCase{"chicago", []string{uA}}},
	{path: ent + ":employeeNumber", set: ent + "|employeeNumber", vals: [3]string{"1001", "1002", "1003"},
		co: opCase{"002", []string{uB}}, sw: opCase{"100", []string{uA, uB, uC}}, ew: opCase{"3", []string{uC}}},
	{path: ent + ":costCenter", set: ent + "|costCenter", vals: [3]string{"CC-100", "CC-200", "CC-300"},
		co: opCase{"-2", []string{uB}}, sw: opCase{"cc-3", []string{uC}}, ew: opCase{"100", []string{uA}}},
	{path: ent + ":organization", set: ent + "|organization", vals: [3]string{"Acme", "Beta Corp", "Cyan Ltd"},
		co: opCase{"corp", []string{uB}}, sw: opCase{"cy", []string{uC}}, ew: opCase{"me", []string{uA}}},
	{path: ent + ":division", set: ent + "|division", vals: [3]string{"Alpha", "Bravo", "Charlie"},
		co: opCase{"av", []string{uB}}, sw: opCase{"ch", []string{uC}}, ew: opCase{"ha", []string{uA}}},
	{path: ent + ":department", set: ent + "|department", vals: [3]string{"Accounting", "Billing", "Compliance"},
		co: opCase{"ill", []string{uB}}, sw: opCase{"com", []string{uC}}, ew: opCase{"ing", []string{uA, uB}}},
	{path: ent + ":manager.value", set: ent + "|manager.value", vals: [3]string{"aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002", "cccccccc-0000-4000-8000-000000000003"},
		co: opCase{"bbbb", []string{uB}}, sw: opCase{"cccc", []string{uC}}, ew: opCase{"0001", []string{uA}}},
}

// multiValued holds the fixture's multi-valued attributes (dave has none).
// Values not primary say "primary": false explicitly, so eq/ne on primary
// have one reading.
var multiValued = map[string]string{
	uA: `{
		"emails": [{"value": "alice@a.example.com", "type": "work", "primary": true, "display": "Alice Work"}, {"value": "alice@home.example.org", "type": "home", "primary": false}],
		"phoneNumbers": [{"value": "+15550100101", "type": "work", "primary": true}, {"value": "+15550100102", "type": "mobile", "primary": false}, {"value": "+15550100103", "type": "fax", "primary": false}],
		"ims": [{"value": "alice_aim", "type": "aim", "primary": true}, {"value": "alice@xmpp.example", "type": "xmpp", "primary": false}],
		"photos": [{"value": "https://photos.example.com/alice.jpg", "type": "photo", "primary": true}, {"value": "https://photos.example.com/alice-thumb.jpg", "type": "thumbnail", "primary": false}],
		"addresses": [{"type": "work", "primary": true, "formatted": "100 Alpha St\nSuite 1\nAustin, TX 73301 US", "streetAddress": "100 Alpha St\nSuite 1", "locality": "Austin", "region": "TX", "postalCode": "73301", "country": "US"},
			{"type": "home", "primary": false, "streetAddress": "1 Home Rd", "locality": "Boston", "region": "MA", "postalCode": "02108", "country": "US"}],
		"entitlements": [{"value": "ent-admin", "display": "Admin", "type": "app", "primary": true}, {"value": "ent-read", "type": "app", "primary": false}],
		"roles": [{"value": "role-dev", "display": "Developer", "type": "eng", "primary": true}, {"value": "role-ops", "type": "eng", "primary": false}],
		"x509Certificates": [{"value": "` + certA + `", "display": "Alice cert", "type": "signing", "primary": true}]
	}`,
	uB: `{
		"emails": [{"value": "bob@b.example.com", "type": "work", "primary": true}, {"value": "bob.other@b.example.net", "type": "other", "primary": false, "display": "Bob Other"}],
		"phoneNumbers": [{"value": "+15550200101", "type": "work", "primary": false, "display": "Bob desk"}, {"value": "+15550200102", "type": "mobile", "primary": true}],
		"ims": [{"value": "bobskype", "type": "skype", "display": "Bob on Skype", "primary": true}],
		"photos": [{"value": "https://cdn.example.net/bob.png", "type": "photo", "primary": true, "display": "Bob"}],
		"addresses": [{"type": "work", "primary": true, "formatted": "200 Bravo Ave, Berlin", "streetAddress": "200 Bravo Ave", "locality": "Berlin", "region": "BE", "postalCode": "10115", "country": "DE"}],
		"entitlements": [{"value": "ent-write", "type": "db", "primary": true}],
		"roles": [{"value": "role-mgr", "type": "biz", "primary": false}, {"value": "role-lead", "type": "biz", "primary": true}],
		"x509Certificates": [{"value": "` + certB + `", "primary": true}]
	}`,
	uC: `{
		"emails": [{"value": "carol@home.example.org", "type": "home", "primary": true}],
		"phoneNumbers": [{"value": "+15550300102", "type": "mobile", "primary": true}],
		"addresses": [{"type": "home", "primary": true, "streetAddress": "300 Charlie Blvd", "locality": "Chicago", "region": "IL", "postalCode": "60601", "country": "US"}],
		"roles": [{"value": "role-dev", "type": "eng", "primary": false}]
	}`,
	uD: `{}`,
}

// fixtureBody builds the create body of one fixture user.
func fixtureBody(t testing.TB, name string) string {
	t.Helper()
	body := mustObj(t, multiValued[name])
	body["schemas"] = []any{coreUser, ent}
	body["userName"] = name
	body["active"] = name != uB
	idx := map[string]int{uA: 0, uB: 1, uC: 2}
	if i, ok := idx[name]; ok {
		for _, a := range stringAttrs {
			setAt(body, a.set, a.vals[i])
		}
	}
	return jsonString(body)
}

// filterCase is one filter with the exact set of userNames it selects.
type filterCase struct {
	name   string
	filter string
	want   []string
}

// filterFixture creates the four users and groups Engineering (alice, bob)
// and Sales (bob); it returns each user's representation by userName and
// the group ids.
func filterFixture(t *testing.T, e *env) (users map[string]map[string]any, eng, sales string) {
	t.Helper()
	// The string attributes must ascend alice < bob < carol in both byte
	// and case-insensitive order, or the generated cases are wrong.
	for _, a := range stringAttrs {
		for i := 0; i < 2; i++ {
			if !(a.vals[i] < a.vals[i+1]) || !(strings.ToLower(a.vals[i]) < strings.ToLower(a.vals[i+1])) {
				t.Fatalf("fixture %s: %q, %q not ascending", a.path, a.vals[i], a.vals[i+1])
			}
		}
	}
	ids := map[string]string{}
	for _, n := range fixtureOrder {
		ids[n] = e.createUser(fixtureBody(t, n))["id"].(string)
	}
	group := func(name string, members ...string) string {
		var ms []string
		for _, m := range members {
			ms = append(ms, `{"value":"`+ids[m]+`"}`)
		}
		r := e.call("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+`","members":[`+strings.Join(ms, ",")+`]}`)
		mustStatus(t, r, http.StatusCreated)
		return r.Map(t)["id"].(string)
	}
	eng = group("Engineering", uA, uB)
	sales = group("Sales", uB)
	// Read back after the group writes: meta.lastModified is what GET says.
	users = map[string]map[string]any{}
	for n, id := range ids {
		users[n] = e.getUser(id)
	}
	return users, eng, sales
}

// notDave keeps the fixture's sparse user out of a case: RFC 7644 does not
// say in so many words whether a resource without the attribute matches
// ne, lt or le, so the operator cases hold under either reading and
// TestUserFilterAbsentAttribute pins the one these tests take.
func notDave(f string) string { return "(" + f + `) and userName ne "dave"` }

// stringCases generates a case per operator for a singular string or
// reference attribute of the fixture.
func stringCases(a strAttr) []filterCase {
	eqv := a.vals[1]
	if !a.caseExact {
		eqv = swapCase(eqv)
	}
	q := func(s string) string { return jsonString(s) }
	cs := []filterCase{
		{a.path + " eq", a.path + " eq " + q(eqv), []string{uB}},
		{a.path + " ne", notDave(a.path + " ne " + q(a.vals[1])), []string{uA, uC}},
		{a.path + " co", a.path + " co " + q(a.co.v), a.co.want},
		{a.path + " sw", a.path + " sw " + q(a.sw.v), a.sw.want},
		{a.path + " ew", a.path + " ew " + q(a.ew.v), a.ew.want},
		{a.path + " pr", a.path + " pr", []string{uA, uB, uC}},
	}
	if a.caseExact {
		cs = append(cs, filterCase{a.path + " eq is case-exact", a.path + " eq " + q(strings.ToUpper(a.vals[1])), nil})
	}
	if !a.reference {
		cs = append(cs,
			filterCase{a.path + " gt", a.path + " gt " + q(a.vals[1]), []string{uC}},
			filterCase{a.path + " ge", a.path + " ge " + q(a.vals[1]), []string{uB, uC}},
			filterCase{a.path + " lt", notDave(a.path + " lt " + q(a.vals[1])), []string{uA}},
			filterCase{a.path + " le", notDave(a.path + " le " + q(a.vals[1])), []string{uA, uB}},
		)
	}
	return cs
}

func swapCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// where lists the fixture users for which keep holds, sorted.
func where(users map[string]map[string]any, keep func(name string, u map[string]any) bool) []string {
	var out []string
	for n, u := range users {
		if keep(n, u) {
			out = append(out, n)
		}
	}
	return nameSet(out...)
}

func mustParseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("dateTime %q: %v", s, err)
	}
	return tm
}

// TestUserFilterEveryAttribute runs a filter per attribute and operator
// (RFC 7644 §3.4.2.2) over the four-user fixture and checks the exact set
// of users and totalResults. Operators by type, as the RFC defines them:
//   - string: eq ne co sw ew gt ge lt le pr (caseExact false attributes
//     compare case-insensitively; id and externalId are caseExact);
//   - reference (profileUrl, photos.value): eq ne co sw ew pr;
//   - boolean (active, *.primary): eq ne pr; gt ge lt le are 400
//     invalidFilter;
//   - binary (x509Certificates.value): eq ne pr; gt ge lt le are 400
//     invalidFilter;
//   - dateTime (meta.created, meta.lastModified): eq ne gt ge lt le pr.
//
// On multi-valued attributes a filter matches when any value does; a
// value filter attr[...] needs one value to satisfy all of it.
func TestUserFilterEveryAttribute(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		users, eng, sales := filterFixture(t, e)
		all := []string{uA, uB, uC, uD}
		abc := []string{uA, uB, uC}
		A, B, C, D := []string{uA}, []string{uB}, []string{uC}, []string{uD}
		ab, ac, bc := []string{uA, uB}, []string{uA, uC}, []string{uB, uC}

		var cases []filterCase
		for _, a := range stringAttrs {
			cases = append(cases, stringCases(a)...)
		}
		add := func(name, filter string, want []string) {
			cases = append(cases, filterCase{name, filter, want})
		}
		// userName: every user has one.
		add("userName eq (case-insensitive)", `userName eq "BOB"`, B)
		add("userName ne", `userName ne "bob"`, []string{uA, uC, uD})
		add("userName co", `userName co "ar"`, C)
		add("userName sw", `userName sw "da"`, D)
		add("userName ew", `userName ew "ce"`, A)
		add("userName gt", `userName gt "bob"`, []string{uC, uD})
		add("userName ge", `userName ge "bob"`, []string{uB, uC, uD})
		add("userName lt", `userName lt "bob"`, A)
		add("userName le", `userName le "bob"`, ab)
		add("userName pr", `userName pr`, all)
		// active (boolean).
		add("active eq true", `active eq true`, []string{uA, uC, uD})
		add("active eq false", `active eq false`, B)
		add("active ne true", `active ne true`, B)
		add("active ne false", `active ne false`, []string{uA, uC, uD})
		add("active pr", `active pr`, all)
		// id (string, caseExact): expected sets from the ids.
		bid := users[uB]["id"].(string)
		add("id eq", `id eq "`+bid+`"`, B)
		add("id ne", `id ne "`+bid+`"`, []string{uA, uC, uD})
		add("id co", `id co "`+bid[len(bid)-16:len(bid)-4]+`"`, B)
		add("id sw", `id sw "`+bid[:len(bid)-4]+`"`, B)
		add("id ew", `id ew "`+bid[len(bid)-12:]+`"`, B)
		add("id pr", `id pr`, all)
		for _, op := range []struct {
			op   string
			keep func(a, b string) bool
		}{
			{"gt", func(a, b string) bool { return a > b }}, {"ge", func(a, b string) bool { return a >= b }},
			{"lt", func(a, b string) bool { return a < b }}, {"le", func(a, b string) bool { return a <= b }},
		} {
			add("id "+op.op, `id `+op.op+` "`+bid+`"`, where(users, func(_ string, u map[string]any) bool { return op.keep(u["id"].(string), bid) }))
		}
		// meta.created and meta.lastModified (dateTime): chronological.
		for _, attr := range []string{"meta.created", "meta.lastModified"} {
			ref := mustParseTime(t, at(users[uB], attr))
			refs := at(users[uB], attr).(string)
			tm := func(u map[string]any) time.Time { return mustParseTime(t, at(u, attr)) }
			add(attr+" eq", attr+` eq "`+refs+`"`, where(users, func(_ string, u map[string]any) bool { return tm(u).Equal(ref) }))
			add(attr+" ne", attr+` ne "`+refs+`"`, where(users, func(_ string, u map[string]any) bool { return !tm(u).Equal(ref) }))
			add(attr+" gt", attr+` gt "`+refs+`"`, where(users, func(_ string, u map[string]any) bool { return tm(u).After(ref) }))
			add(attr+" ge", attr+` ge "`+refs+`"`, where(users, func(_ string, u map[string]any) bool { return !tm(u).Before(ref) }))
			add(attr+" lt", attr+` lt "`+refs+`"`, where(users, func(_ string, u map[string]any) bool { return tm(u).Before(ref) }))
			add(attr+" le", attr+` le "`+refs+`"`, where(users, func(_ string, u map[string]any) bool { return !tm(u).After(ref) }))
			add(attr+" pr", attr+` pr`, all)
		}
		// emails.
		add("emails.value eq (a secondary value, case-insensitive)", `emails.value eq "ALICE@home.example.org"`, A)
		add("emails.value ne (any value differs)", notDave(`emails.value ne "alice@a.example.com"`), abc)
		add("emails.value co", `emails.value co "home.example"`, ac)
		add("emails.value sw", `emails.value sw "bob"`, B)
		add("emails.value ew", `emails.value ew ".net"`, B)
		add("emails.value gt", `emails.value gt "bob@b.example.com"`, C)
		add("emails.value ge", `emails.value ge "bob@b.example.com"`, bc)
		add("emails.value lt", notDave(`emails.value lt "alice@home.example.org"`), A)
		add("emails.value le", notDave(`emails.value le "alice@a.example.com"`), A)
		add("emails.value pr", `emails.value pr`, abc)
		add("emails co (no sub-attribute: value)", `emails co "b.example"`, B)
		add("emails.type eq", `emails.type eq "WORK"`, ab)
		add("emails.type ne", notDave(`emails.type ne "work"`), abc)
		add("emails.type co", `emails.type co "om"`, ac)
		add("emails.type sw", `emails.type sw "ot"`, B)
		add("emails.type ew", `emails.type ew "rk"`, ab)
		add("emails.type gt", `emails.type gt "other"`, ab)
		add("emails.type ge", `emails.type ge "other"`, ab)
		add("emails.type lt", notDave(`emails.type lt "other"`), ac)
		add("emails.type le", notDave(`emails.type le "home"`), ac)
		add("emails.type pr", `emails.type pr`, abc)
		add("emails.display eq", `emails.display eq "alice work"`, A)
		add("emails.display ne (values with a display)", `emails[display pr and display ne "Alice Work"]`, B)
		add("emails.display co", `emails.display co "other"`, B)
		add("emails.display sw", `emails.display sw "ali"`, A)
		add("emails.display ew", `emails.display ew "work"`, A)
		add("emails.display gt", `emails.display gt "Alice Work"`, B)
		add("emails.display ge", `emails.display ge "Alice Work"`, ab)
		add("emails.display lt (values with a display)", `emails[display pr and display lt "Bob Other"]`, A)
		add("emails.display le (values with a display)", `emails[display pr and display le "Bob Other"]`, ab)
		add("emails.display pr", `emails.display pr`, ab)
		add("emails.primary eq true", `emails.primary eq true`, abc)
		add("emails.primary eq false", `emails.primary eq false`, ab)
		add("emails.primary ne true", notDave(`emails.primary ne true`), ab)
		add("emails.primary ne false", notDave(`emails.primary ne false`), abc)
		add("emails.primary pr", `emails.primary pr`, abc)
		add("emails[type and value] needs one value to satisfy both", `emails[type eq "work" and value co "home.example"]`, nil)
		add("emails[type eq home and value co]", `emails[type eq "home" and value co "home.example"]`, ac)
		add("emails[type eq work and value co]", `emails[type eq "work" and value co "a.example"]`, A)
		add("emails[primary eq true and type eq home]", `emails[primary eq true and type eq "home"]`, C)
		add("emails[not (type eq work)]", `emails[not (type eq "work")]`, abc)
		add("two value filters on one attribute", `emails[type eq "work"] and emails[type eq "home"]`, A)
		// phoneNumbers.
		add("phoneNumbers.value eq (third value)", `phoneNumbers.value eq "+15550100103"`, A)
		add("phoneNumbers.value ne", notDave(`phoneNumbers.value ne "+15550300102"`), ab)
		add("phoneNumbers.value co", `phoneNumbers.value co "55502"`, B)
		add("phoneNumbers.value sw", `phoneNumbers.value sw "+1555030"`, C)
		add("phoneNumbers.value ew", `phoneNumbers.value ew "0103"`, A)
		add("phoneNumbers.value gt", `phoneNumbers.value gt "+15550200101"`, bc)
		add("phoneNumbers.value ge", `phoneNumbers.value ge "+15550200102"`, bc)
		add("phoneNumbers.value lt", notDave(`phoneNumbers.value lt "+15550100102"`), A)
		add("phoneNumbers.value le", notDave(`phoneNumbers.value le "+15550100102"`), A)
		add("phoneNumbers.value pr", `phoneNumbers.value pr`, abc)
		add("phoneNumbers.type eq fax", `phoneNumbers.type eq "FAX"`, A)
		add("phoneNumbers.type ne", notDave(`phoneNumbers.type ne "mobile"`), ab)
		add("phoneNumbers.type co", `phoneNumbers.type co "ob"`, abc)
		add("phoneNumbers.type sw", `phoneNumbers.type sw "w"`, ab)
		add("phoneNumbers.type ew", `phoneNumbers.type ew "ax"`, A)
		add("phoneNumbers.type gt", `phoneNumbers.type gt "mobile"`, ab)
		add("phoneNumbers.type ge", `phoneNumbers.type ge "mobile"`, abc)
		add("phoneNumbers.type lt", notDave(`phoneNumbers.type lt "mobile"`), A)
		add("phoneNumbers.type le", notDave(`phoneNumbers.type le "fax"`), A)
		add("phoneNumbers.type pr", `phoneNumbers.type pr`, abc)
		add("phoneNumbers.display eq", `phoneNumbers.display eq "bob DESK"`, B)
		add("phoneNumbers.display ne (values with a display)", `phoneNumbers[display pr and display ne "nobody"]`, B)
		add("phoneNumbers.display co", `phoneNumbers.display co "desk"`, B)
		add("phoneNumbers.display sw", `phoneNumbers.display sw "bob"`, B)
		add("phoneNumbers.display ew", `phoneNumbers.display ew "desk"`, B)
		add("phoneNumbers.display gt", `phoneNumbers.display gt "A"`, B)
		add("phoneNumbers.display ge", `phoneNumbers.display ge "Bob desk"`, B)
		add("phoneNumbers.display lt (values with a display)", `phoneNumbers[display pr and display lt "C"]`, B)
		add("phoneNumbers.display le (values with a display)", `phoneNumbers[display pr and display le "Bob desk"]`, B)
		add("phoneNumbers.display pr", `phoneNumbers.display pr`, B)
		add("phoneNumbers.primary eq true", `phoneNumbers.primary eq true`, abc)
		add("phoneNumbers.primary eq false", `phoneNumbers.primary eq false`, ab)
		add("phoneNumbers.primary ne true", notDave(`phoneNumbers.primary ne true`), ab)
		add("phoneNumbers.primary pr", `phoneNumbers.primary pr`, abc)
		add("phoneNumbers[type eq mobile and primary eq true]", `phoneNumbers[type eq "mobile" and primary eq true]`, bc)
		add("phoneNumbers[type eq fax and value pr]", `phoneNumbers[type eq "fax" and value pr]`, A)
		// ims.
		add("ims.value eq", `ims.value eq "ALICE_AIM"`, A)
		add("ims.value ne", notDave(`ims.value ne "bobskype"`), A)
		add("ims.value co", `ims.value co "skyp"`, B)
		add("ims.value sw", `ims.value sw "alice"`, A)
		add("ims.value ew", `ims.value ew ".example"`, A)
		add("ims.value gt", `ims.value gt "alice_aim"`, B)
		add("ims.value ge", `ims.value ge "alice_aim"`, ab)
		add("ims.value lt", notDave(`ims.value lt "alice_aim"`), A)
		add("ims.value le", notDave(`ims.value le "alice@xmpp.example"`), A)
		add("ims.value pr", `ims.value pr`, ab)
		add("ims.type eq", `ims.type eq "XMPP"`, A)
		add("ims.type ne", notDave(`ims.type ne "aim"`), ab)
		add("ims.type co", `ims.type co "yp"`, B)
		add("ims.type sw", `ims.type sw "a"`, A)
		add("ims.type ew", `ims.type ew "pp"`, A)
		add("ims.type gt", `ims.type gt "skype"`, A)
		add("ims.type ge", `ims.type ge "skype"`, ab)
		add("ims.type lt", notDave(`ims.type lt "skype"`), A)
		add("ims.type le", notDave(`ims.type le "aim"`), A)
		add("ims.type pr", `ims.type pr`, ab)
		add("ims.display eq", `ims.display eq "bob on skype"`, B)
		add("ims.display co", `ims.display co "on sk"`, B)
		add("ims.display pr", `ims.display pr`, B)
		add("ims.primary eq true", `ims.primary eq true`, ab)
		add("ims.primary eq false", `ims.primary eq false`, A)
		add("ims.primary pr", `ims.primary pr`, ab)
		// photos (value is a reference).
		add("photos.value eq", `photos.value eq "https://photos.example.com/alice-thumb.jpg"`, A)
		add("photos.value ne", notDave(`photos.value ne "https://cdn.example.net/bob.png"`), A)
		add("photos.value co", `photos.value co "cdn"`, B)
		add("photos.value sw", `photos.value sw "https://photos."`, A)
		add("photos.value ew", `photos.value ew ".png"`, B)
		add("photos.value pr", `photos.value pr`, ab)
		add("photos.type eq", `photos.type eq "thumbnail"`, A)
		add("photos.type ne", notDave(`photos.type ne "photo"`), A)
		add("photos.type co", `photos.type co "humb"`, A)
		add("photos.type sw", `photos.type sw "ph"`, ab)
		add("photos.type ew", `photos.type ew "to"`, ab)
		add("photos.type gt", `photos.type gt "photo"`, A)
		add("photos.type ge", `photos.type ge "photo"`, ab)
		add("photos.type lt", notDave(`photos.type lt "thumbnail"`), ab)
		add("photos.type le", notDave(`photos.type le "photo"`), ab)
		add("photos.type pr", `photos.type pr`, ab)
		add("photos.display eq", `photos.display eq "BOB"`, B)
		add("photos.display pr", `photos.display pr`, B)
		add("photos.primary eq true", `photos.primary eq true`, ab)
		add("photos.primary eq false", `photos.primary eq false`, A)
		// addresses.
		add("addresses.formatted eq", `addresses.formatted eq "200 BRAVO AVE, BERLIN"`, B)
		add("addresses.formatted eq with a line break", `addresses.formatted eq "100 Alpha St\nSuite 1\nAustin, TX 73301 US"`, A)
		add("addresses.formatted ne (values with formatted)", `addresses[formatted pr and formatted ne "200 Bravo Ave, Berlin"]`, A)
		add("addresses.formatted co", `addresses.formatted co "suite 1"`, A)
		add("addresses.formatted sw", `addresses.formatted sw "100"`, A)
		add("addresses.formatted ew", `addresses.formatted ew "berlin"`, B)
		add("addresses.formatted gt", `addresses.formatted gt "150"`, B)
		add("addresses.formatted ge", `addresses.formatted ge "200 Bravo Ave, Berlin"`, B)
		add("addresses.formatted lt (values with formatted)", `addresses[formatted pr and formatted lt "150"]`, A)
		add("addresses.formatted le (values with formatted)", `addresses[formatted pr and formatted le "200 Bravo Ave, Berlin"]`, ab)
		add("addresses.formatted pr", `addresses.formatted pr`, ab)
		add("addresses.streetAddress eq with a line break", `addresses.streetAddress eq "100 Alpha St\nSuite 1"`, A)
		add("addresses.streetAddress ne", notDave(`addresses.streetAddress ne "300 Charlie Blvd"`), ab)
		add("addresses.streetAddress co", `addresses.streetAddress co "bravo"`, B)
		add("addresses.streetAddress sw", `addresses.streetAddress sw "300"`, C)
		add("addresses.streetAddress ew (second address)", `addresses.streetAddress ew "rd"`, A)
		add("addresses.streetAddress gt", `addresses.streetAddress gt "2"`, bc)
		add("addresses.streetAddress ge", `addresses.streetAddress ge "200 Bravo Ave"`, bc)
		add("addresses.streetAddress lt", notDave(`addresses.streetAddress lt "2"`), A)
		add("addresses.streetAddress le", notDave(`addresses.streetAddress le "1 Home Rd"`), A)
		add("addresses.streetAddress pr", `addresses.streetAddress pr`, abc)
		add("addresses.locality eq (second address)", `addresses.locality eq "BOSTON"`, A)
		add("addresses.locality ne", notDave(`addresses.locality ne "Berlin"`), ac)
		add("addresses.locality co", `addresses.locality co "ic"`, C)
		add("addresses.locality sw", `addresses.locality sw "b"`, ab)
		add("addresses.locality ew", `addresses.locality ew "n"`, ab)
		add("addresses.locality gt", `addresses.locality gt "Boston"`, C)
		add("addresses.locality ge", `addresses.locality ge "Boston"`, ac)
		add("addresses.locality lt", notDave(`addresses.locality lt "Berlin"`), A)
		add("addresses.locality le", notDave(`addresses.locality le "Berlin"`), ab)
		add("addresses.locality pr", `addresses.locality pr`, abc)
		add("addresses.region eq", `addresses.region eq "tx"`, A)
		add("addresses.region ne", notDave(`addresses.region ne "IL"`), ab)
		add("addresses.region co", `addresses.region co "l"`, C)
		add("addresses.region sw", `addresses.region sw "m"`, A)
		add("addresses.region ew", `addresses.region ew "e"`, B)
		add("addresses.region gt", `addresses.region gt "IL"`, A)
		add("addresses.region ge", `addresses.region ge "IL"`, ac)
		add("addresses.region lt", notDave(`addresses.region lt "IL"`), B)
		add("addresses.region le", notDave(`addresses.region le "BE"`), B)
		add("addresses.region pr", `addresses.region pr`, abc)
		add("addresses.postalCode eq", `addresses.postalCode eq "10115"`, B)
		add("addresses.postalCode ne", notDave(`addresses.postalCode ne "10115"`), ac)
		add("addresses.postalCode co", `addresses.postalCode co "011"`, B)
		add("addresses.postalCode sw", `addresses.postalCode sw "6"`, C)
		add("addresses.postalCode ew", `addresses.postalCode ew "08"`, A)
		add("addresses.postalCode gt", `addresses.postalCode gt "60601"`, A)
		add("addresses.postalCode ge", `addresses.postalCode ge "60601"`, ac)
		add("addresses.postalCode lt", notDave(`addresses.postalCode lt "10115"`), A)
		add("addresses.postalCode le", notDave(`addresses.postalCode le "10115"`), ab)
		add("addresses.postalCode pr", `addresses.postalCode pr`, abc)
		add("addresses.country eq", `addresses.country eq "de"`, B)
		add("addresses.country ne", notDave(`addresses.country ne "US"`), B)
		add("addresses.country co", `addresses.country co "s"`, ac)
		add("addresses.country sw", `addresses.country sw "d"`, B)
		add("addresses.country ew", `addresses.country ew "e"`, B)
		add("addresses.country gt", `addresses.country gt "DE"`, ac)
		add("addresses.country ge", `addresses.country ge "DE"`, abc)
		add("addresses.country lt", notDave(`addresses.country lt "US"`), B)
		add("addresses.country le", notDave(`addresses.country le "DE"`), B)
		add("addresses.country pr", `addresses.country pr`, abc)
		add("addresses.type eq", `addresses.type eq "HOME"`, ac)
		add("addresses.type ne", notDave(`addresses.type ne "home"`), ab)
		add("addresses.type co", `addresses.type co "or"`, ab)
		add("addresses.type sw", `addresses.type sw "h"`, ac)
		add("addresses.type ew", `addresses.type ew "rk"`, ab)
		add("addresses.type gt", `addresses.type gt "home"`, ab)
		add("addresses.type ge", `addresses.type ge "home"`, abc)
		add("addresses.type lt", notDave(`addresses.type lt "work"`), ac)
		add("addresses.type le", notDave(`addresses.type le "home"`), ac)
		add("addresses.type pr", `addresses.type pr`, abc)
		add("addresses.primary eq true", `addresses.primary eq true`, abc)
		add("addresses.primary eq false", `addresses.primary eq false`, A)
		add("addresses[type eq work and locality] needs one value", `addresses[type eq "work" and locality eq "Boston"]`, nil)
		add("addresses[type eq home and locality]", `addresses[type eq "home" and locality eq "Boston"]`, A)
		add("addresses[type eq work and formatted pr]", `addresses[type eq "work" and formatted pr]`, ab)
		add("addresses[type eq home and formatted pr]", `addresses[type eq "home" and formatted pr]`, nil)
		// entitlements.
		add("entitlements.value eq", `entitlements.value eq "ENT-READ"`, A)
		add("entitlements.value ne", notDave(`entitlements.value ne "ent-write"`), A)
		add("entitlements.value co", `entitlements.value co "rit"`, B)
		add("entitlements.value sw", `entitlements.value sw "ent-"`, ab)
		add("entitlements.value ew", `entitlements.value ew "read"`, A)
		add("entitlements.value gt", `entitlements.value gt "ent-read"`, B)
		add("entitlements.value ge", `entitlements.value ge "ent-read"`, ab)
		add("entitlements.value lt", notDave(`entitlements.value lt "ent-b"`), A)
		add("entitlements.value le", notDave(`entitlements.value le "ent-admin"`), A)
		add("entitlements.value pr", `entitlements.value pr`, ab)
		add("entitlements.type eq", `entitlements.type eq "DB"`, B)
		add("entitlements.type ne", notDave(`entitlements.type ne "app"`), B)
		add("entitlements.type co", `entitlements.type co "p"`, A)
		add("entitlements.type sw", `entitlements.type sw "a"`, A)
		add("entitlements.type ew", `entitlements.type ew "b"`, B)
		add("entitlements.type gt", `entitlements.type gt "app"`, B)
		add("entitlements.type ge", `entitlements.type ge "app"`, ab)
		add("entitlements.type lt", notDave(`entitlements.type lt "db"`), A)
		add("entitlements.type le", notDave(`entitlements.type le "app"`), A)
		add("entitlements.type pr", `entitlements.type pr`, ab)
		add("entitlements.display eq", `entitlements.display eq "admin"`, A)
		add("entitlements.display co", `entitlements.display co "dmi"`, A)
		add("entitlements.display pr", `entitlements.display pr`, A)
		add("entitlements.primary eq true", `entitlements.primary eq true`, ab)
		add("entitlements.primary eq false", `entitlements.primary eq false`, A)
		// roles.
		add("roles.value eq", `roles.value eq "ROLE-DEV"`, ac)
		add("roles.value ne", notDave(`roles.value ne "role-dev"`), ab)
		add("roles.value co", `roles.value co "lea"`, B)
		add("roles.value sw", `roles.value sw "role-m"`, B)
		add("roles.value ew", `roles.value ew "ops"`, A)
		add("roles.value gt", `roles.value gt "role-lead"`, ab)
		add("roles.value ge", `roles.value ge "role-mgr"`, ab)
		add("roles.value lt", notDave(`roles.value lt "role-lead"`), ac)
		add("roles.value le", notDave(`roles.value le "role-dev"`), ac)
		add("roles.value pr", `roles.value pr`, abc)
		add("roles.type eq", `roles.type eq "BIZ"`, B)
		add("roles.type ne", notDave(`roles.type ne "eng"`), B)
		add("roles.type co", `roles.type co "n"`, ac)
		add("roles.type sw", `roles.type sw "b"`, B)
		add("roles.type ew", `roles.type ew "ng"`, ac)
		add("roles.type gt", `roles.type gt "biz"`, ac)
		add("roles.type ge", `roles.type ge "biz"`, abc)
		add("roles.type lt", notDave(`roles.type lt "eng"`), B)
		add("roles.type le", notDave(`roles.type le "biz"`), B)
		add("roles.type pr", `roles.type pr`, abc)
		add("roles.display eq", `roles.display eq "developer"`, A)
		add("roles.display pr", `roles.display pr`, A)
		add("roles.primary eq true", `roles.primary eq true`, ab)
		add("roles.primary eq false", `roles.primary eq false`, abc)
		add("roles.primary pr", `roles.primary pr`, abc)
		add("roles[primary eq true and value] needs one value", `roles[primary eq true and value eq "role-dev"]`, A)
		// x509Certificates (value is binary: eq ne pr).
		add("x509Certificates.value eq", `x509Certificates.value eq "`+certA+`"`, A)
		add("x509Certificates.value ne", notDave(`x509Certificates.value ne "`+certA+`"`), B)
		add("x509Certificates.value pr", `x509Certificates.value pr`, ab)
		add("x509Certificates.display eq", `x509Certificates.display eq "alice CERT"`, A)
		add("x509Certificates.display co", `x509Certificates.display co "cert"`, A)
		add("x509Certificates.display pr", `x509Certificates.display pr`, A)
		add("x509Certificates.type eq", `x509Certificates.type eq "signing"`, A)
		add("x509Certificates.type pr", `x509Certificates.type pr`, A)
		add("x509Certificates.primary eq true", `x509Certificates.primary eq true`, ab)
		// groups (readOnly, filterable).
		add("groups pr", `groups pr`, ab)
		add("groups eq (no sub-attribute: value)", `groups eq "`+sales+`"`, B)
		add("groups.value eq", `groups.value eq "`+eng+`"`, ab)
		add("groups.value pr", `groups.value pr`, ab)
		add("groups[value eq]", `groups[value eq "`+sales+`"]`, B)
		_ = D

		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, total := e.with(t).listQuery(e.Creds.Secret, "filter", tc.filter, "count", "100")
				want := nameSet(tc.want...)
				if jsonString(nameSet(got...)) != jsonString(want) || total != len(want) {
					t.Errorf("filter %s: got %v (totalResults %d), want %v (totalResults %d)", tc.filter, nameSet(got...), total, want, len(want))
				}
			})
		}

		// Ordering operators on boolean and binary attributes: 400
		// invalidFilter (RFC 7644 §3.4.2.2).
		for _, f := range []string{
			`active gt false`, `active ge true`, `active lt true`, `active le false`,
			`emails.primary gt false`, `roles.primary lt true`, `emails[primary ge true]`,
			`x509Certificates.value gt "` + certA + `"`, `x509Certificates.value ge "a"`, `x509Certificates.value lt "a"`, `x509Certificates.value le "a"`,
			// A user's groups are read-only references: eq and pr on
			// their value (an opaque id) only, and no filter on their
			// display name (filter /Groups by displayName instead);
			// docs/scim.md says so.
			`groups.value ne "x"`, `groups.value sw "x"`, `groups.value co "x"`, `groups.value ew "x"`,
			`groups.display eq "sales"`, `groups.display pr`, `groups.display co "ngin"`,
		} {
			t.Run("400 invalidFilter: "+f, func(t *testing.T) {
				scimErr(t, e.call("GET", "/Users?filter="+url.QueryEscape(f), ""), http.StatusBadRequest, "invalidFilter")
			})
		}
	})
}

// TestUserFilterAbsentAttribute pins what the fixture's sparse user (dave:
// no title, no middle name, no department, no e-mail) and values without a
// sub-attribute (e-mails without display, carol's address without
// formatted) match: RFC 7644
// §3.4.2.2 compares "the attribute value" with the operator value, so a
// resource without a value matches no comparison (as a multi-valued
// attribute without values matches none), and "not" inverts the result.
func TestUserFilterAbsentAttribute(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		filterFixture(t, e)
		for _, tc := range []filterCase{
			{"title ne", `title ne "Builder"`, []string{uA, uC}},
			{"title lt", `title lt "Builder"`, []string{uA}},
			{"title le", `title le "Builder"`, []string{uA, uB}},
			{"name.middleName ne", `name.middleName ne "Beth"`, []string{uA, uC}},
			{"externalId ne", `externalId ne "ext-b"`, []string{uA, uC}},
			{"enterprise department lt", ent + `:department lt "Billing"`, []string{uA}},
			{"emails.value ne", `emails.value ne "x@example.com"`, []string{uA, uB, uC}},
			{"emails.display ne: values without a display", `emails.display ne "Alice Work"`, []string{uB}},
			{"addresses.formatted lt: values without formatted", `addresses.formatted lt "150"`, []string{uA}},
			{"not (title eq)", `not (title eq "Builder")`, []string{uA, uC, uD}},
			{"not (emails.value co)", `not (emails.value co "example")`, []string{uD}},
			{"not (title pr)", `not (title pr)`, []string{uD}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total := e.with(t).listQuery(e.Creds.Secret, "filter", tc.filter, "count", "100")
				want := nameSet(tc.want...)
				if jsonString(nameSet(got...)) != jsonString(want) || total != len(want) {
					t.Errorf("filter %s: got %v (totalResults %d), want %v (totalResults %d)", tc.filter, nameSet(got...), total, want, len(want))
				}
			})
		}
	})
}

// TestUserFilterIssueExamples: the filters of issue 8, over four users
// whose matching e-mails are secondary values and who have no title.
func TestUserFilterIssueExamples(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		other := e.NewTenant("issue8", e.Creds.Tenant.Unique)
		for i, second := range []string{
			`{"value":"e1@example.com","type":"home"}`,
			`{"value":"e2@example.org","type":"other"}`,
			`{"value":"e3.private@mail.test","type":"home"},{"value":"e3@example.com","type":"other"}`,
			`{"value":"e4.private@mail.test","type":"home"},{"value":"e4.x@mail.test","type":"other"},{"value":"e4@sub.example.org","type":"other"}`,
		} {
			n := fmt.Sprintf("e%d", i+1)
			r := e.callAs(other.Secret, "POST", "/Users", `{"userName":"`+n+`","name":{"givenName":"Test","familyName":"Employee"},"emails":[{"value":"`+n+`@corp.test","type":"work","primary":true},`+second+`]}`)
			mustStatus(t, r, http.StatusCreated)
		}
		for _, tc := range []filterCase{
			{"familyName and secondary e-mails (4 of 4)", `name.familyName eq "Employee" and (emails.value co "example.com" or emails.value co "example.org")`, []string{"e1", "e2", "e3", "e4"}},
			{"title pr without titles", `title pr`, nil},
			{"displayName pr without display names", `displayName pr`, nil},
			{"enterprise department pr without one", ent + `:department pr`, nil},
			{"emails[type eq work and value co] needs one value", `emails[type eq "work" and value co "example"]`, nil},
			{"emails[type eq other and value co]", `emails[type eq "other" and value co "example"]`, []string{"e2", "e3", "e4"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total := e.with(t).listQuery(other.Secret, "filter", tc.filter)
				want := nameSet(tc.want...)
				if jsonString(nameSet(got...)) != jsonString(want) || total != len(want) {
					t.Errorf("filter %s: got %v (totalResults %d), want %v (totalResults %d)", tc.filter, nameSet(got...), total, want, len(want))
				}
			})
		}
	})
}

// TestUserSortEveryAttribute: sortBy accepts every singular attribute;
// ascending puts users without a value last and descending first (RFC 7644
// §3.4.2.3). The fixture was created in the order carol, alice, dave, bob.
func TestUserSortEveryAttribute(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		users, _, _ := filterFixture(t, e)
		asc := []string{uA, uB, uC, uD}
		desc := []string{uD, uC, uB, uA}
		type sortCase struct {
			by        string
			asc, desc []string
		}
		cases := []sortCase{{"userName", asc, desc}, {"emails.value", asc, desc}}
		for _, a := range stringAttrs {
			cases = append(cases, sortCase{a.path, asc, desc})
		}
		for _, attr := range []string{"meta.created", "meta.lastModified"} {
			byTime := []string{uA, uB, uC, uD}
			sort.SliceStable(byTime, func(i, j int) bool {
				return mustParseTime(t, at(users[byTime[i]], attr)).Before(mustParseTime(t, at(users[byTime[j]], attr)))
			})
			rev := append([]string{}, byTime...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			cases = append(cases, sortCase{attr, byTime, rev})
		}
		for _, tc := range cases {
			for _, order := range []string{"ascending", "descending", ""} {
				want := tc.asc
				if order == "descending" {
					want = tc.desc
				}
				name := tc.by + " " + order
				if order == "" {
					name = tc.by + " (default order: ascending)"
				}
				t.Run(name, func(t *testing.T) {
					kv := []string{"sortBy", tc.by, "count", "100"}
					if order != "" {
						kv = append(kv, "sortOrder", order)
					}
					got, total := e.with(t).listQuery(e.Creds.Secret, kv...)
					if jsonString(got) != jsonString(want) || total != 4 {
						t.Errorf("sortBy=%s sortOrder=%s: got %v (totalResults %d), want %v (4)", tc.by, order, got, total, want)
					}
				})
			}
		}
	})
}

// patchUser is the user every value-path PATCH case starts from; {i} is
// replaced by the case's index so e-mails and phones stay unique.
var patchUser = `{
	"schemas": ["` + coreUser + `", "` + ent + `"],
	"userName": "pv{i}",
	"name": {"givenName": "Pat", "familyName": "Doe", "formatted": "Ms. Pat Doe"},
	"title": "Clerk",
	"emails": [
		{"value": "pv{i}@work.example.com", "type": "work", "primary": true},
		{"value": "pv{i}@home.example.org", "type": "home"},
		{"value": "pv{i}@other.example.net", "type": "other"}],
	"phoneNumbers": [
		{"value": "+1555{i}0001", "type": "work", "primary": true},
		{"value": "+1555{i}0002", "type": "mobile"},
		{"value": "+1555{i}0003", "type": "fax"}],
	"addresses": [
		{"type": "work", "primary": true, "formatted": "1 Work St\nSpringfield, IL 62701 US", "streetAddress": "1 Work St", "locality": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"},
		{"type": "home", "streetAddress": "2 Home Ave\nApt 3", "locality": "Shelbyville", "region": "IL", "postalCode": "62565", "country": "US"}],
	"ims": [{"value": "pv{i}_aim", "type": "aim", "primary": true}, {"value": "pv{i}@xmpp.example", "type": "xmpp"}],
	"photos": [{"value": "https://photos.example.com/pv{i}.jpg", "type": "photo", "primary": true}, {"value": "https://photos.example.com/pv{i}-t.jpg", "type": "thumbnail"}],
	"entitlements": [{"value": "ent-a", "type": "app", "primary": true}, {"value": "ent-b", "type": "app"}],
	"roles": [{"value": "role-a", "type": "job", "primary": true}, {"value": "role-b", "type": "job"}],
	"x509Certificates": [{"value": "` + certB + `", "type": "signing", "primary": true}],
	"` + ent + `": {"department": "Sales", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
}`

// TestPatchValuePaths applies one PATCH per case to a fresh copy of
// patchUser and compares the whole user read back with the one created,
// edited as the case says: every attribute and value the PATCH does not
// name stays exactly as it was.
func TestPatchValuePaths(t *testing.T) {
	const newPassword = "n3w-Pa55word!"
	one := func(op, path string, value string) string {
		if value == "" {
			return ops(`[{"op":"` + op + `","path":` + jsonString(path) + `}]`)
		}
		return ops(`[{"op":"` + op + `","path":` + jsonString(path) + `,"value":` + value + `}]`)
	}
	tests := []struct {
		name  string
		body  string
		edit  func(u map[string]any) // the expected change, applied to the created user
		loose []string               // paths not compared (values the server derives)
	}{
		{"replace addresses[type eq work].formatted", one("replace", `addresses[type eq "work"].formatted`, `"1 Work St, Springfield"`),
			func(u map[string]any) { setAt(u, "addresses.0.formatted", "1 Work St, Springfield") }, nil},
		{"add addresses[type eq home].formatted (absent before)", one("add", `addresses[type eq "home"].formatted`, `"2 Home Ave\nApt 3\nShelbyville"`),
			func(u map[string]any) { setAt(u, "addresses.1.formatted", "2 Home Ave\nApt 3\nShelbyville") }, nil},
		{"add addresses[type eq work].formatted replaces it", one("add", `addresses[type eq "work"].formatted`, `"Work, Springfield"`),
			func(u map[string]any) { setAt(u, "addresses.0.formatted", "Work, Springfield") }, nil},
		{"remove addresses[type eq work].formatted", one("remove", `addresses[type eq "work"].formatted`, ""),
			func(u map[string]any) { setAt(u, "addresses.0.formatted", absent) }, nil},
		{"replace addresses[type eq work].streetAddress keeps formatted", one("replace", `addresses[type eq "work"].streetAddress`, `"9 New St\nFloor 2"`),
			func(u map[string]any) { setAt(u, "addresses.0.streetAddress", "9 New St\nFloor 2") }, nil},
		{"Entra: replace roles[primary eq \"True\"].value", one("Replace", `roles[primary eq "True"].value`, `"role-z"`),
			func(u map[string]any) { setAt(u, "roles.0.value", "role-z") }, nil},
		{"replace roles[primary eq true].value", one("replace", `roles[primary eq true].value`, `"role-y"`),
			func(u map[string]any) { setAt(u, "roles.0.value", "role-y") }, nil},
		{"remove roles[primary eq true]", one("remove", `roles[primary eq true]`, ""),
			func(u map[string]any) { u["roles"] = without(u["roles"], 0) }, nil},
		{"replace emails[type eq work].value", one("replace", `emails[type eq "work"].value`, `"changed@work.example.com"`),
			func(u map[string]any) { setAt(u, "emails.0.value", "changed@work.example.com") }, nil},
		{"Entra: Add emails[type eq work].value to an existing value replaces it", one("Add", `emails[type eq "work"].value`, `"added@work.example.com"`),
			func(u map[string]any) { setAt(u, "emails.0.value", "added@work.example.com") }, nil},
		{"replace emails[type eq home].value", one("replace", `emails[type eq "home"].value`, `"changed@home.example.org"`),
			func(u map[string]any) { setAt(u, "emails.1.value", "changed@home.example.org") }, nil},
		{"replace phoneNumbers[type eq mobile].value", one("replace", `phoneNumbers[type eq "mobile"].value`, `"+15559990002"`),
			func(u map[string]any) { setAt(u, "phoneNumbers.1.value", "+15559990002") }, nil},
		{"replace phoneNumbers[type eq fax].value", one("replace", `phoneNumbers[type eq "fax"].value`, `"+15559990003"`),
			func(u map[string]any) { setAt(u, "phoneNumbers.2.value", "+15559990003") }, nil},
		{"remove phoneNumbers[type eq fax] removes only that value", one("remove", `phoneNumbers[type eq "fax"]`, ""),
			func(u map[string]any) { u["phoneNumbers"] = without(u["phoneNumbers"], 2) }, nil},
		{"add a pager phone appends it", one("add", "phoneNumbers", `[{"value":"+15559990004","type":"pager"}]`),
			func(u map[string]any) {
				u["phoneNumbers"] = append(asSlice(u["phoneNumbers"]), map[string]any{"value": "+15559990004", "type": "pager"})
			}, nil},
		{"replace name.formatted stores it", one("replace", "name.formatted", `"Dr. Pat Q. Doe"`),
			func(u map[string]any) { setAt(u, "name.formatted", "Dr. Pat Q. Doe") }, nil},
		{"remove name.formatted derives it", one("remove", "name.formatted", ""),
			func(u map[string]any) { setAt(u, "name.formatted", "Pat Doe") }, nil},
		{"replace name.familyName keeps every other value", one("replace", "name.familyName", `"Roe"`),
			func(u map[string]any) { setAt(u, "name.familyName", "Roe") }, []string{"name.formatted"}},
		{"replace password: accepted, not returned", one("replace", "password", `"`+newPassword+`"`),
			func(map[string]any) {}, nil},
		{"add password: accepted, not returned", one("add", "password", `"`+newPassword+`"`),
			func(map[string]any) {}, nil},
		{"path-less replace with a password", ops(`[{"op":"replace","value":{"password":"` + newPassword + `","title":"Boss"}}]`),
			func(u map[string]any) { u["title"] = "Boss" }, nil},
		{"add an email with primary true clears primary on the others", one("add", "emails", `[{"value":"new@example.com","type":"work","primary":true}]`),
			func(u map[string]any) {
				setAt(u, "emails.0.primary", absent)
				u["emails"] = append(asSlice(u["emails"]), map[string]any{"value": "new@example.com", "type": "work", "primary": true})
			}, nil},
		{"replace emails[type eq home].primary true clears it on work", one("replace", `emails[type eq "home"].primary`, `true`),
			func(u map[string]any) { setAt(u, "emails.0.primary", absent); setAt(u, "emails.1.primary", true) }, nil},
		{"remove emails[type eq home] removes only that value", one("remove", `emails[type eq "home"]`, ""),
			func(u map[string]any) { u["emails"] = without(u["emails"], 1) }, nil},
		{"replace title keeps every multi-valued value", one("replace", "title", `"Manager"`),
			func(u map[string]any) { u["title"] = "Manager" }, nil},
		{"Okta path-less deactivation keeps every value", ops(`[{"op":"replace","value":{"active":false}}]`),
			func(u map[string]any) { u["active"] = false }, nil},
		{"replace enterprise department keeps every value", one("Replace", ent+":department", `"Legal"`),
			func(u map[string]any) { setAt(u, ent+"|department", "Legal") }, nil},
		{"replace entitlements[value eq ent-b].display", one("replace", `entitlements[value eq "ent-b"].display`, `"Reader"`),
			func(u map[string]any) { setAt(u, "entitlements.1.display", "Reader") }, nil},
		{"replace ims[type eq xmpp].value", one("replace", `ims[type eq "xmpp"].value`, `"new@xmpp.example"`),
			func(u map[string]any) { setAt(u, "ims.1.value", "new@xmpp.example") }, nil},
		{"replace photos[type eq thumbnail].value", one("replace", `photos[type eq "thumbnail"].value`, `"https://photos.example.com/new-t.jpg"`),
			func(u map[string]any) { setAt(u, "photos.1.value", "https://photos.example.com/new-t.jpg") }, nil},
		{"remove x509Certificates[type eq signing]", one("remove", `x509Certificates[type eq "signing"]`, ""),
			func(u map[string]any) { delete(u, "x509Certificates") }, nil},
	}
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := e.with(t)
				before := e.createUser(strings.ReplaceAll(patchUser, "{i}", pad(i)))
				id := before["id"].(string)
				r := e.call("PATCH", "/Users/"+id, tt.body)
				mustStatus(t, r, http.StatusOK)
				if strings.Contains(string(r.Body), newPassword) {
					t.Errorf("PATCH response returns the password: %s", r.Body)
				}
				after := e.getUser(id)
				want := deepCopy(before).(map[string]any)
				tt.edit(want)
				for _, m := range []map[string]any{want, after} {
					delete(m, "meta")
					for _, p := range tt.loose {
						setAt(m, p, absent)
					}
				}
				diffSent(t, "user", normalizeEmpty(want), normalizeEmpty(after), serverSetFalse)
				if t.Failed() {
					t.Logf("PATCH %s\nbefore: %s\nafter:  %s", tt.body, jsonString(before), jsonString(after))
				}
				for _, attr := range []string{"emails", "phoneNumbers", "addresses", "ims", "photos", "entitlements", "roles", "x509Certificates"} {
					if n := primaries(after[attr]); n > 1 {
						t.Errorf("%s has %d primary values, want at most 1: %s", attr, n, jsonString(after[attr]))
					}
				}
				stored, err := e.Svc.GetUser(t.Context(), e.Creds.Principal(), id)
				if err != nil {
					t.Fatal(err)
				}
				if s := fmt.Sprintf("%+v", *stored); strings.Contains(s, newPassword) {
					t.Errorf("the password is stored: %s", s)
				}
			})
		}

		// Two primaries through PATCH: 400 invalidValue, nothing applied.
		for i, body := range []string{
			ops(`[{"op":"replace","path":"emails","value":[{"value":"p1@example.com","primary":true},{"value":"p2@example.com","primary":true}]}]`),
			ops(`[{"op":"add","path":"roles","value":[{"value":"r1","primary":true},{"value":"r2","primary":true}]}]`),
		} {
			t.Run(fmt.Sprintf("PATCH with two primary values is 400 (%d)", i), func(t *testing.T) {
				e := e.with(t)
				u := e.createUser(strings.ReplaceAll(patchUser, "{i}", pad(500+i)))
				scimErr(t, e.call("PATCH", "/Users/"+u["id"].(string), body), http.StatusBadRequest, "invalidValue")
				if got := e.call("GET", "/Users/"+u["id"].(string), "").Header.Get("ETag"); got != `W/"1"` {
					t.Errorf("a failed PATCH changed the user: ETag %s", got)
				}
			})
		}
	})
}

// TestMultiValuedInputErrors: at most one primary value per attribute
// (RFC 7643 §2.4), and a multi-valued attribute must be a list (issue 15
// item 4): both 400 invalidValue on POST and PUT, nothing written.
func TestMultiValuedInputErrors(t *testing.T) {
	twoPrimaries := map[string]string{
		"emails":           `[{"value":"a1@example.com","type":"work","primary":true},{"value":"a2@example.com","type":"home","primary":true}]`,
		"phoneNumbers":     `[{"value":"+15551110001","type":"work","primary":true},{"value":"+15551110002","type":"mobile","primary":true}]`,
		"addresses":        `[{"type":"work","locality":"A","primary":true},{"type":"home","locality":"B","primary":true}]`,
		"ims":              `[{"value":"a","type":"aim","primary":true},{"value":"b","type":"xmpp","primary":true}]`,
		"photos":           `[{"value":"https://p.example.com/1","primary":true},{"value":"https://p.example.com/2","primary":true}]`,
		"entitlements":     `[{"value":"e1","primary":true},{"value":"e2","primary":true}]`,
		"roles":            `[{"value":"r1","primary":true},{"value":"r2","primary":true}]`,
		"x509Certificates": `[{"value":"` + certA + `","primary":true},{"value":"` + certB + `","primary":true}]`,
	}
	notAList := map[string]string{
		"emails":           `{"value":"a@b.c"}`,
		"phoneNumbers":     `{"value":"+15551110001"}`,
		"addresses":        `{"locality":"A"}`,
		"ims":              `{"value":"a"}`,
		"photos":           `{"value":"https://p.example.com/1"}`,
		"entitlements":     `{"value":"e1"}`,
		"roles":            `{"value":"r1"}`,
		"x509Certificates": `{"value":"` + certA + `"}`,
	}
	attrs := []string{"emails", "phoneNumbers", "addresses", "ims", "photos", "entitlements", "roles", "x509Certificates"}
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		target := e.createUser(userBody("target"))["id"].(string)
		for _, attr := range attrs {
			for _, c := range []struct{ what, value string }{{"two primary values", twoPrimaries[attr]}, {"an object, not a list", notAList[attr]}} {
				body := `{"schemas":["` + coreUser + `"],"userName":"bad-` + attr + `","` + attr + `":` + c.value + `}`
				t.Run("POST "+attr+": "+c.what, func(t *testing.T) {
					scimErr(t, e.call("POST", "/Users", body), http.StatusBadRequest, "invalidValue")
				})
				t.Run("PUT "+attr+": "+c.what, func(t *testing.T) {
					scimErr(t, e.call("PUT", "/Users/"+target, body), http.StatusBadRequest, "invalidValue")
				})
			}
		}
		if names, total := e.listQuery(e.Creds.Secret); total != 1 || e.call("GET", "/Users/"+target, "").Header.Get("ETag") != `W/"1"` {
			t.Errorf("rejected writes changed the tenant: users %v, target ETag %s", names, e.call("GET", "/Users/"+target, "").Header.Get("ETag"))
		}
	})
}

// TestResourcePaths: a trailing slash and resource type names in any case
// reach the same endpoints (as Microsoft's reference server accepts), and
// meta.location and Location keep the canonical form.
func TestResourcePaths(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		canonical := func(t *testing.T, r *apitest.Response, kind, id string) {
			t.Helper()
			want := origin + "/scim/v2/" + kind + "/" + id
			if got := at(r.Map(t), "meta.location"); got != want {
				t.Errorf("meta.location %v, want %s", got, want)
			}
			if r.Status == http.StatusCreated {
				if got := r.Header.Get("Location"); got != want {
					t.Errorf("Location %q, want %s", got, want)
				}
			}
		}
		var uid, gid string
		t.Run("POST /Users/ (trailing slash)", func(t *testing.T) {
			r := e.call("POST", "/Users/", userBody("slash"))
			mustStatus(t, r, http.StatusCreated)
			uid, _ = r.Map(t)["id"].(string)
			canonical(t, r, "Users", uid)
		})
		t.Run("GET /Users/ (trailing slash)", func(t *testing.T) {
			r := e.call("GET", "/Users/?filter="+url.QueryEscape(`userName eq "slash"`), "")
			mustStatus(t, r, http.StatusOK)
			if got := at(r.Map(t), "totalResults"); got != float64(1) {
				t.Errorf("totalResults %v, want 1", got)
			}
		})
		t.Run("POST /users (lower case)", func(t *testing.T) {
			r := e.call("POST", "/users", userBody("lower"))
			mustStatus(t, r, http.StatusCreated)
			id, _ := r.Map(t)["id"].(string)
			canonical(t, r, "Users", id)
			if uid == "" {
				uid = id
			}
		})
		for _, p := range []string{"/users", "/USERS", "/users/"} {
			t.Run("GET "+p, func(t *testing.T) {
				r := e.call("GET", p, "")
				mustStatus(t, r, http.StatusOK)
				if got := at(r.Map(t), "totalResults"); got != float64(2) {
					t.Errorf("totalResults %v, want 2", got)
				}
			})
		}
		if uid == "" {
			uid = e.createUser(userBody("fallback"))["id"].(string)
		}
		t.Run("GET /users/{id}", func(t *testing.T) {
			r := e.call("GET", "/users/"+uid, "")
			mustStatus(t, r, http.StatusOK)
			canonical(t, r, "Users", uid)
		})
		t.Run("PATCH /users/{id}", func(t *testing.T) {
			r := e.call("PATCH", "/users/"+uid, ops(`[{"op":"replace","path":"title","value":"Lower"}]`))
			mustStatus(t, r, http.StatusOK)
			canonical(t, r, "Users", uid)
		})
		t.Run("POST /groups (lower case)", func(t *testing.T) {
			r := e.call("POST", "/groups", `{"displayName":"Lower Group"}`)
			mustStatus(t, r, http.StatusCreated)
			gid, _ = r.Map(t)["id"].(string)
			canonical(t, r, "Groups", gid)
		})
		if gid == "" {
			r := e.call("POST", "/Groups", `{"displayName":"Fallback Group"}`)
			mustStatus(t, r, http.StatusCreated)
			gid = r.Map(t)["id"].(string)
		}
		t.Run("GET /groups/{id}", func(t *testing.T) {
			r := e.call("GET", "/groups/"+gid, "")
			mustStatus(t, r, http.StatusOK)
			canonical(t, r, "Groups", gid)
		})
		t.Run("GET /Groups/", func(t *testing.T) {
			mustStatus(t, e.call("GET", "/Groups/", ""), http.StatusOK)
		})
		t.Run("DELETE /users/{id}", func(t *testing.T) {
			mustStatus(t, e.call("DELETE", "/users/"+uid, ""), http.StatusNoContent)
			scimErr(t, e.call("GET", "/Users/"+uid, ""), http.StatusNotFound, "")
		})
	})
}

// TestGroupDisplayNameUnique: a group's displayName is unique in its
// tenant, compared case-insensitively; a collision on create, PUT or
// PATCH is 409 uniqueness and changes nothing; another tenant may use the
// name.
func TestGroupDisplayNameUnique(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		create := func(secret, name string) *apitest.Response {
			return e.callAs(secret, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":`+jsonString(name)+`}`)
		}
		r := create(e.Creds.Secret, "Admins")
		mustStatus(t, r, http.StatusCreated)
		admins := r.Map(t)["id"].(string)
		r = create(e.Creds.Secret, "Operators")
		mustStatus(t, r, http.StatusCreated)
		operators := r.Map(t)["id"].(string)

		tests := []struct {
			name, method, path, body string
		}{
			{"POST the same name", "POST", "/Groups", `{"displayName":"Admins"}`},
			{"POST the name in lower case", "POST", "/Groups", `{"displayName":"admins"}`},
			{"POST the name in upper case", "POST", "/Groups", `{"displayName":"ADMINS"}`},
			{"PUT renaming into a taken name", "PUT", "/Groups/" + operators, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"aDmInS"}`},
			{"PATCH replace displayName into a taken name", "PATCH", "/Groups/" + operators, ops(`[{"op":"replace","path":"displayName","value":"admins"}]`)},
			{"PATCH path-less replace into a taken name", "PATCH", "/Groups/" + operators, ops(`[{"op":"Replace","value":{"displayName":"Admins"}}]`)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				scimErr(t, e.call(tt.method, tt.path, tt.body), http.StatusConflict, "uniqueness")
			})
		}
		t.Run("failed renames changed nothing", func(t *testing.T) {
			r := e.call("GET", "/Groups/"+operators, "")
			mustStatus(t, r, http.StatusOK)
			if got := at(r.Map(t), "displayName"); got != "Operators" {
				t.Errorf("displayName %v, want Operators", got)
			}
			r = e.call("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "admins"`), "")
			mustStatus(t, r, http.StatusOK)
			if got := at(r.Map(t), "totalResults"); got != float64(1) {
				t.Errorf("groups named admins: %v, want 1", got)
			}
		})
		t.Run("renaming a group to its own name in another case", func(t *testing.T) {
			r := e.call("PATCH", "/Groups/"+admins, ops(`[{"op":"replace","path":"displayName","value":"ADMINS"}]`))
			if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Errorf("status %d, want 200 or 204: %s", r.Status, r.Body)
			}
		})
		t.Run("another tenant can use the name", func(t *testing.T) {
			other := e.NewTenant("other", directory.DefaultUniquePolicy)
			mustStatus(t, create(other.Secret, "Admins"), http.StatusCreated)
		})
		t.Run("a freed name can be taken", func(t *testing.T) {
			mustStatus(t, e.call("DELETE", "/Groups/"+admins, ""), http.StatusNoContent)
			mustStatus(t, create(e.Creds.Secret, "admins"), http.StatusCreated)
		})
	})
}
