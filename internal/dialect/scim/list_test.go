package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

func TestListUsers(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		// 12 users: u00..u11; even ones inactive; e-mails at two domains.
		ids := make([]string, 12)
		for i := range ids {
			domain := "alpha.example"
			if i%3 == 0 {
				domain = "beta.example"
			}
			u := e.createUser(fmt.Sprintf(`{"userName":"u%02d","externalId":"x%02d","name":{"givenName":"G%02d","familyName":"F%02d"},"emails":[{"value":"u%02d@%s","type":"work"}],"active":%v}`,
				i, i, 11-i, i, i, domain, i%2 == 1))
			ids[i] = u["id"].(string)
		}
		list := func(query string) map[string]any {
			t.Helper()
			r := e.call("GET", "/Users?"+query, "")
			mustStatus(t, r, http.StatusOK)
			return r.Map(t)
		}
		names := func(m map[string]any) string {
			out := []any{}
			for _, r := range m["Resources"].([]any) {
				out = append(out, at(r, "userName"))
			}
			return jsonString(out)
		}
		q := func(kv ...string) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v.Encode()
		}

		tests := []struct {
			name  string
			query string
			total int
			names string
			start int
		}{
			{"all, default order (creation)", "", 12, `["u00","u01","u02","u03","u04","u05","u06","u07","u08","u09","u10","u11"]`, 1},
			{"userName eq (Okta, Entra), case-insensitive", q("filter", `userName eq "U03"`), 1, `["u03"]`, 1},
			{"Okta lookup with paging", q("filter", `userName eq "u04"`, "startIndex", "1", "count", "100"), 1, `["u04"]`, 1},
			{"no match", q("filter", `userName eq "non-existent user"`), 0, `[]`, 1},
			{"externalId eq", q("filter", `externalId eq "x07"`), 1, `["u07"]`, 1},
			{"co on emails", q("filter", `emails co "beta"`, "count", "2"), 4, `["u00","u03"]`, 1},
			{"emails[type eq work and value ew]", q("filter", `emails[type eq "work" and value ew "alpha.example"] and active eq true`), 4, `["u01","u05","u07","u11"]`, 1},
			{"sw and or", q("filter", `userName sw "u1" or userName eq "u02"`), 3, `["u02","u10","u11"]`, 1},
			{"not", q("filter", `not (active eq true) and userName lt "u05"`), 3, `["u00","u02","u04"]`, 1},
			{"sortBy name.givenName", q("sortBy", "name.givenName", "count", "3"), 12, `["u11","u10","u09"]`, 1},
			{"sortBy descending", q("sortBy", "userName", "sortOrder", "descending", "count", "2"), 12, `["u11","u10"]`, 1},
			{"paging: startIndex 11", q("startIndex", "11", "count", "5"), 12, `["u10","u11"]`, 11},
			{"paging beyond the end", q("startIndex", "50"), 12, `[]`, 50},
			{"startIndex 0 means 1", q("startIndex", "0", "count", "1"), 12, `["u00"]`, 1},
			{"negative count means 0", q("count", "-4"), 12, `[]`, 1},
			{"count=0: totalResults only", q("count", "0", "filter", "active eq false"), 6, `[]`, 1},
			{"parameter names are case-insensitive", q("FILTER", `username eq "u01"`), 1, `["u01"]`, 1},
			{"meta.created gt", q("filter", `meta.created gt "2026-01-02T03:04:05.000Z" and userName eq "u01"`), 1, `["u01"]`, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := list(tt.query)
				if got := names(m); got != tt.names {
					t.Errorf("users %s, want %s", got, tt.names)
				}
				if got := at(m, "totalResults"); got != float64(tt.total) {
					t.Errorf("totalResults %v, want %d", got, tt.total)
				}
				if got := at(m, "startIndex"); got != float64(tt.start) {
					t.Errorf("startIndex %v, want %d", got, tt.start)
				}
				if got, want := at(m, "itemsPerPage"), float64(len(m["Resources"].([]any))); got != want {
					t.Errorf("itemsPerPage %v, want %v", got, want)
				}
			})
		}

		r := e.call("GET", "/Users?"+q("filter", `userName eq "u01"`), "")
		apitest.Golden(t, "users/list-filter", r)
		r = e.call("GET", "/Users?"+q("filter", `userName eq "nobody"`, "startIndex", "1", "count", "100"), "")
		apitest.Golden(t, "users/list-empty", r)

		// A count above maxResults is reduced to it.
		m := list(q("count", "5000"))
		if len(m["Resources"].([]any)) != 12 {
			t.Errorf("count=5000: %v resources", len(m["Resources"].([]any)))
		}

		// attributes and excludedAttributes.
		m = list(q("filter", `userName eq "u01"`, "attributes", "userName,name.givenName,emails.value"))
		res := at(m, "Resources.0")
		if got := jsonString(res); got != fmt.Sprintf(`{"emails":[{"value":"u01@alpha.example"}],"id":"%s","name":{"givenName":"G10"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u01"}`, ids[1]) {
			t.Errorf("attributes projection: %s", got)
		}
		m = list(q("filter", `userName eq "u01"`, "excludedAttributes", "emails,name.familyName,meta,id"))
		res = at(m, "Resources.0")
		if at(res, "emails") != nil || at(res, "name.familyName") != nil || at(res, "meta") != nil || at(res, "name.givenName") != "G10" || at(res, "id") != ids[1] {
			t.Errorf("excludedAttributes projection: %s", jsonString(res))
		}
		r = e.call("GET", "/Users/"+ids[2]+"?attributes=active", "")
		if got := jsonString(r.Map(t)); got != fmt.Sprintf(`{"active":false,"id":"%s","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`, ids[2]) {
			t.Errorf("GET with attributes: %s", got)
		}

		// POST /Users/.search.
		r = e.call("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"u0\"","sortBy":"userName","sortOrder":"descending","startIndex":2,"count":"3","attributes":["userName"]}`)
		mustStatus(t, r, http.StatusOK)
		if got := names(r.Map(t)); got != `["u08","u07","u06"]` {
			t.Errorf(".search: %s", got)
		}

		// Errors.
		errs := []struct {
			name, method, path, body, scimType string
		}{
			{"syntax error", "GET", "/Users?" + q("filter", `userName eq`), "", "invalidFilter"},
			{"unknown attribute", "GET", "/Users?" + q("filter", `shoeSize eq 4`), "", "invalidFilter"},
			{"bad operator", "GET", "/Users?" + q("filter", `userName like "x"`), "", "invalidFilter"},
			{"unquoted value", "GET", "/Users?" + q("filter", `userName eq u01`), "", "invalidFilter"},
			{"count not a number", "GET", "/Users?count=ten", "", "invalidValue"},
			{"startIndex not a number", "GET", "/Users?startIndex=1.5", "", "invalidValue"},
			{"bad sortOrder", "GET", "/Users?sortBy=userName&sortOrder=up", "", "invalidValue"},
			{"unsortable sortBy", "GET", "/Users?sortBy=shoeSize", "", "invalidValue"},
			{"search wrong schemas", "POST", "/Users/.search", `{"schemas":["urn:x"],"filter":"userName pr"}`, "invalidSyntax"},
			{"search bad filter", "POST", "/Users/.search", `{"filter":"(("}`, "invalidFilter"},
			{"search count not a number", "POST", "/Users/.search", `{"count":"x"}`, "invalidValue"},
			{"search malformed", "POST", "/Users/.search", `{"filter":`, "invalidSyntax"},
		}
		for _, tt := range errs {
			t.Run(tt.name, func(t *testing.T) {
				scimErr(t, e.call(tt.method, tt.path, tt.body), http.StatusBadRequest, tt.scimType)
			})
		}
		r = e.call("GET", "/Users?"+q("filter", `userName eq`), "")
		apitest.Golden(t, "users/list-invalid-filter", r)

		// Another tenant sees none of these users.
		other := e.NewTenant("other", e.Creds.Tenant.Unique)
		r = e.callAs(other.Secret, "GET", "/Users", "")
		mustStatus(t, r, http.StatusOK)
		if got := at(r.Map(t), "totalResults"); got != float64(0) {
			t.Errorf("other tenant sees %v users", got)
		}
		for _, m := range []string{"GET", "DELETE"} {
			scimErr(t, e.callAs(other.Secret, m, "/Users/"+ids[0], ""), http.StatusNotFound, "")
		}
		scimErr(t, e.callAs(other.Secret, "PUT", "/Users/"+ids[0], `{"userName":"steal"}`), http.StatusNotFound, "")
		scimErr(t, e.callAs(other.Secret, "PATCH", "/Users/"+ids[0], ops(`[{"op":"replace","path":"active","value":false}]`)), http.StatusNotFound, "")
	})
}
