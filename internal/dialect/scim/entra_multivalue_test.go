package scim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

// TestEntraMultiValuedCycle replays a Microsoft Entra ID provisioning
// cycle for a user with several e-mails, phones and addresses, in the
// shapes Entra sends (learn.microsoft.com, "Tutorial: Develop and plan
// provisioning for a SCIM endpoint" and "Known issues and resolutions with
// SCIM 2.0 protocol compliance"): capitalised ops, Add on a value path
// that already has a value, addresses[type eq "work"].<sub> one op per
// sub-attribute, roles[primary eq "True"], the manager as a bare id string,
// active as the string "False". Every step checks that the values no
// operation names are kept.
func TestEntraMultiValuedCycle(t *testing.T) {
	const (
		userName  = "Test_User_mv_7f3a@contoso.com"
		managerID = "2819c223-7f76-453a-919d-413861904646"
	)
	filterUser := "/Users?filter=" + url.QueryEscape(`userName eq "`+userName+`"`)
	create := `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "9c0d8f7e-1b2a-4c3d-8e9f-0a1b2c3d4e5f",
		"userName": "` + userName + `",
		"active": true,
		"displayName": "Test User MV",
		"title": "Engineer",
		"preferredLanguage": "en-US",
		"emails": [
			{"primary": true, "type": "work", "value": "test.user.mv@contoso.com"},
			{"type": "home", "value": "test.user.mv@home.example.com"},
			{"type": "other", "value": "tumv@other.example.org"}
		],
		"phoneNumbers": [
			{"type": "work", "value": "+1 425 555 0101", "primary": true},
			{"type": "mobile", "value": "+1 425 555 0102"},
			{"type": "fax", "value": "+1 425 555 0103"}
		],
		"addresses": [
			{"type": "work", "primary": true, "formatted": "1 Microsoft Way\nRedmond, WA 98052 US", "streetAddress": "1 Microsoft Way", "locality": "Redmond", "region": "WA", "postalCode": "98052", "country": "US"},
			{"type": "home", "streetAddress": "12 Home St\nUnit 5", "locality": "Seattle", "region": "WA", "postalCode": "98101", "country": "US"}
		],
		"roles": [{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "Test User MV", "familyName": "MV", "givenName": "Test"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1234", "department": "Engineering"}
	}`
	update := ops(`[
		{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated.mv@contoso.com"},
		{"op": "Add", "path": "emails[type eq \"home\"].value", "value": "updated.mv@home.example.com"},
		{"op": "Replace", "path": "addresses[type eq \"work\"].formatted", "value": "2 Microsoft Way\nBuilding 92\nRedmond, WA 98053 US"},
		{"op": "Replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "2 Microsoft Way\nBuilding 92"},
		{"op": "Replace", "path": "addresses[type eq \"work\"].postalCode", "value": "98053"},
		{"op": "Add", "path": "addresses[type eq \"home\"].formatted", "value": "12 Home St\nUnit 5\nSeattle, WA 98101 US"},
		{"op": "Replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 425 555 0199"},
		{"op": "Add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "+1 425 555 0198"},
		{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Reader"},
		{"op": "Replace", "path": "title", "value": "Senior Engineer"},
		{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "` + managerID + `"}
	]`)

	// What the user holds after the update; the steps before it check the
	// created values, the steps after it that these stay.
	updated := map[string]any{
		"emails.0.value": "updated.mv@contoso.com", "emails.0.type": "work", "emails.0.primary": true,
		"emails.1.value": "updated.mv@home.example.com", "emails.1.type": "home",
		"emails.2.value": "tumv@other.example.org", "emails.2.type": "other", "emails.3": nil,
		"phoneNumbers.0.value": "+1 425 555 0101", "phoneNumbers.0.type": "work", "phoneNumbers.0.primary": true,
		"phoneNumbers.1.value": "+1 425 555 0199", "phoneNumbers.1.type": "mobile",
		"phoneNumbers.2.value": "+1 425 555 0198", "phoneNumbers.2.type": "fax", "phoneNumbers.3": nil,
		"addresses.0.type": "work", "addresses.0.primary": true,
		"addresses.0.formatted":     "2 Microsoft Way\nBuilding 92\nRedmond, WA 98053 US",
		"addresses.0.streetAddress": "2 Microsoft Way\nBuilding 92",
		"addresses.0.locality":      "Redmond", "addresses.0.region": "WA", "addresses.0.postalCode": "98053", "addresses.0.country": "US",
		"addresses.1.type": "home", "addresses.1.formatted": "12 Home St\nUnit 5\nSeattle, WA 98101 US",
		"addresses.1.streetAddress": "12 Home St\nUnit 5", "addresses.1.locality": "Seattle", "addresses.1.postalCode": "98101", "addresses.2": nil,
		"roles.0.value": "Reader", "roles.0.primary": true, "roles.0.display": "Admin", "roles.1": nil,
		"title":                 "Senior Engineer",
		ent + "|manager.value":  managerID,
		ent + "|department":     "Engineering",
		ent + "|employeeNumber": "1234",
		"name.givenName":        "Test",
		"externalId":            "9c0d8f7e-1b2a-4c3d-8e9f-0a1b2c3d4e5f",
		"displayName":           "Test User MV",
		"preferredLanguage":     "en-US",
	}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			k := kv[i].(string)
			for bk := range out {
				if strings.HasPrefix(bk, k+".") {
					delete(out, bk) // the whole attribute is set: its parts go
				}
			}
			out[k] = kv[i+1]
		}
		return out
	}
	created := map[string]any{
		"userName":       userName,
		"emails.0.value": "test.user.mv@contoso.com", "emails.0.type": "work", "emails.0.primary": true,
		"emails.1.value": "test.user.mv@home.example.com", "emails.1.type": "home",
		"emails.2.value": "tumv@other.example.org", "emails.2.type": "other",
		"phoneNumbers.0.value": "+1 425 555 0101", "phoneNumbers.1.value": "+1 425 555 0102", "phoneNumbers.2.value": "+1 425 555 0103", "phoneNumbers.2.type": "fax",
		"addresses.0.formatted": "1 Microsoft Way\nRedmond, WA 98052 US", "addresses.0.streetAddress": "1 Microsoft Way", "addresses.0.postalCode": "98052",
		"addresses.1.streetAddress": "12 Home St\nUnit 5", "addresses.1.locality": "Seattle", "addresses.1.formatted": nil,
		"roles.0.value": "Admin", "roles.0.primary": true, "title": "Engineer", ent + "|department": "Engineering",
		"name.formatted": "Test User MV", "active": true,
	}

	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		var id string
		steps := []struct {
			name   string
			method string
			path   func() string
			body   string
			status int
			want   map[string]any
		}{
			{"get user by query (zero results)", "GET", func() string { return filterUser }, "", 200, map[string]any{"totalResults": 0}},
			{"create user with several e-mails, phones and addresses", "POST", func() string { return "/Users" }, create, 201, created},
			{"get user by query", "GET", func() string { return filterUser }, "", 200, map[string]any{"totalResults": 1, "Resources.0.emails.2.value": "tumv@other.example.org", "Resources.0.addresses.1.locality": "Seattle"}},
			{"get user by secondary e-mail", "GET", func() string {
				return "/Users?filter=" + url.QueryEscape(`emails[type eq "other" and value eq "tumv@other.example.org"]`)
			}, "", 200, map[string]any{"totalResults": 1}},
			{"update multi-valued and extension attributes", "PATCH", func() string { return "/Users/" + id }, update, 200, updated},
			{"get user after the update", "GET", func() string { return "/Users/" + id }, "", 200, updated},
			{"get user by the new work e-mail", "GET", func() string {
				return "/Users?filter=" + url.QueryEscape(`emails[type eq "work" and value eq "updated.mv@contoso.com"]`)
			}, "", 200, map[string]any{"totalResults": 1}},
			{"the home e-mail is not a work e-mail", "GET", func() string {
				return "/Users?filter=" + url.QueryEscape(`emails[type eq "work" and value eq "updated.mv@home.example.com"]`)
			}, "", 200, map[string]any{"totalResults": 0}},
			{"get user by the work address", "GET", func() string {
				return "/Users?filter=" + url.QueryEscape(`addresses[type eq "work" and postalCode eq "98053"]`)
			}, "", 200, map[string]any{"totalResults": 1}},
			{"remove the manager", "PATCH", func() string { return "/Users/" + id },
				ops(`[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`), 200,
				with(updated, ent+"|manager", nil)},
			{"disable user with a string boolean", "PATCH", func() string { return "/Users/" + id },
				ops(`[{"op":"Replace","path":"active","value":"False"}]`), 200, with(updated, "active", false, ent+"|manager", nil)},
			{"get disabled user: every value kept", "GET", func() string { return "/Users/" + id }, "", 200, with(updated, "active", false, ent+"|manager", nil)},
			{"delete user", "DELETE", func() string { return "/Users/" + id }, "", 204, nil},
			{"deleted user is gone", "GET", func() string { return "/Users/" + id }, "", 404, nil},
			{"get user by query after delete", "GET", func() string { return filterUser }, "", 200, map[string]any{"totalResults": 0}},
		}
		for _, st := range steps {
			r := e.call(st.method, st.path(), st.body, "User-Agent", "Azure Active Directory SCIM Client")
			if r.Status != st.status {
				t.Fatalf("%s: status %d, want %d: %s", st.name, r.Status, st.status, r.Body)
			}
			if st.status == http.StatusNoContent || len(st.want) == 0 {
				continue
			}
			got := r.Map(t)
			if st.method == "POST" {
				id, _ = got["id"].(string)
			}
			var bad []string
			for path, want := range st.want {
				if n, ok := want.(int); ok {
					want = float64(n)
				}
				if v := at(got, path); jsonString(v) != jsonString(want) {
					bad = append(bad, path+" = "+jsonString(v)+", want "+jsonString(want))
				}
			}
			if len(bad) > 0 {
				t.Errorf("%s:\n\t%s\n%s", st.name, strings.Join(sortedStrings(bad), "\n\t"), r.Body)
			}
		}
	})
}

func sortedStrings(s []string) []string { return nameSet(s...) }
