package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"
)

// route is one request shape for the cross-dialect hostile-input tests.
type route struct{ dialect, method, path string }

// writeRoutes are every route family that takes a JSON body, {id} the
// target user in the dialect's spelling.
var writeRoutes = []route{
	{"truv", "POST", "/v1/users/"},
	{"truv", "PATCH", "/v1/users/{id}/"},
	{"truv", "POST", "/v1/users/{id}/tokens/"},
	{"entrust", "POST", "/api/web/v1/adminapi/authenticate"},
	{"entrust", "POST", "/api/web/v3/users"},
	{"entrust", "PUT", "/api/web/v3/users/{id}"},
	{"entrust", "POST", "/api/web/v3/users/userid"},
	{"entrust", "POST", "/api/web/v4/userspaged"},
	{"entrust", "PUT", "/api/web/v3/users/multiple"},
	{"entrust", "PUT", "/api/web/v1/users/{id}/state"},
	{"cl2c", "POST", "/v1/cl2c/user"},
	{"cl2c", "PUT", "/v1/cl2c/user"},
	{"ownli", "POST", "/api/auth/token"},
	{"ownli", "POST", "/api/users"},
	{"ownli", "PUT", "/api/users/{id}"},
	{"scim", "POST", "/scim/v2/Users"},
	{"scim", "PUT", "/scim/v2/Users/{id}"},
	{"scim", "PATCH", "/scim/v2/Users/{id}"},
	{"scim", "POST", "/scim/v2/Users/.search"},
	{"scim", "POST", "/scim/v2/Groups"},
}

func (rt route) at(id string) string {
	if rt.dialect == "truv" {
		id = strings.ReplaceAll(id, "-", "")
	}
	return strings.ReplaceAll(rt.path, "{id}", id)
}

// seedUser creates one complete user through SCIM and returns its id.
func seedUser(t *testing.T, s *apitest.Speaker, userName string) string {
	t.Helper()
	r := s.Do("scim", "POST", "/scim/v2/Users", []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+userName+
		`","name":{"givenName":"Plain","familyName":"User"},"emails":[{"value":"`+userName+`@example.com"}],"externalId":"`+userName+`"}`), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("seed %s: %d %s", userName, r.Status, r.Body)
	}
	return r.Map(t)["id"].(string)
}

// TestDeepNestingEveryRouteFamily: issue 15's one nesting rule (400 naming
// the depth) holds on updates, searches, bulk and token routes too, not
// only on creates, and writes nothing.
func TestDeepNestingEveryRouteFamily(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		s := apitest.NewSpeaker(env, env.Creds)
		id := seedUser(t, s, "plain")
		deep := []byte(`{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`)
		for _, rt := range writeRoutes {
			before := s.UserIDs()
			r := s.Do(rt.dialect, rt.method, rt.at(id), deep, nil)
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "deeper than") {
				t.Errorf("%s %s: %d %.200s, want 400 naming the nesting", rt.method, rt.path, r.Status, r.Body)
			}
			s.CheckWrite(rt.dialect, before, r)
		}
	})
}

// TestNULBytes: a NUL byte, raw in a body (invalid JSON), escaped as
// \u0000 in a string, or in a query parameter, is a 4xx in the dialect's
// format or a success that stores it and reads back; never a 5xx (which
// is what PostgreSQL's "invalid byte sequence" would become) and never a
// partial row.
func TestNULBytes(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		s := apitest.NewSpeaker(env, env.Creds)
		id := seedUser(t, s, "plain")
		bodies := map[string]string{
			"truv":    `{"external_user_id":"n\u0000ul","first_name":"a\u0000b","last_name":"L","email":"n\u0000@example.com"}`,
			"entrust": `{"userId":"n\u0000ul","firstName":"a\u0000b","lastName":"L","email":"nul@example.com","applicationId":"\u0000","sharedSecret":"\u0000"}`,
			"cl2c":    `{"id":"` + id + `","userName":"n\u0000ul","firstName":"a\u0000b","lastName":"L","email":"nul@example.com","phoneNumber":"+1555\u0000"}`,
			"ownli":   `{"firstName":"a\u0000b","lastName":"L","email":"nul@example.com","phone":"+1415555\u00000100","clientId":"\u0000","partnerId":"\u0000"}`,
			"scim":    `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"n\u0000ul","name":{"givenName":"a\u0000b"},"displayName":"\u0000","filter":"userName eq \"\u0000\""}`,
		}
		for _, rt := range writeRoutes {
			for name, body := range map[string]string{"escaped": bodies[rt.dialect], "raw": strings.ReplaceAll(bodies[rt.dialect], `\u0000`, "\x00")} {
				before := s.UserIDs()
				r := s.Do(rt.dialect, rt.method, rt.at(id), []byte(body), nil)
				if r.Status >= 500 {
					t.Errorf("%s %s (%s NUL): %d %.300s", rt.method, rt.path, name, r.Status, r.Body)
					continue
				}
				s.CheckWrite(rt.dialect, before, r)
			}
		}
		for _, p := range []route{
			{"truv", "GET", "/v1/users/?external_user_id=%00"},
			{"ownli", "GET", "/api/users?email=a%00%40example.com"},
			{"scim", "GET", "/scim/v2/Users?filter=" + url.QueryEscape("userName eq \"\x00\"")},
			{"cl2c", "GET", "/v1/cl2c/users?pageSize=1%00"},
			{"truv", "GET", "/v1/users/%00/"},
			{"scim", "GET", "/scim/v2/Users/%00"},
		} {
			r := s.Do(p.dialect, p.method, p.path, nil, nil)
			apitest.CheckAnswer(t, p.dialect, r)
		}
		s.ReadBack(id)
	})
}

// sqlish are values that would change a query built by string pasting:
// quote-and-comment, LIKE wildcards, the escape character.
var sqlish = []string{`' OR 1=1 --`, `%`, `_`, `\`, `a%b_c\d'e"f;--`}

// TestSQLMetacharacters: SQL metacharacters in every field are stored
// verbatim, and in every filter and search parameter they match only the
// user that holds them literally: never everything, never an error.
func TestSQLMetacharacters(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		s := apitest.NewSpeaker(env, env.Creds)
		p := env.Creds.Principal()
		// Two ordinary users that a wildcard or an OR 1=1 would match.
		seedUser(t, s, "plain1")
		seedUser(t, s, "plain2")
		get := func(id string) *directory.User {
			t.Helper()
			u, err := env.Svc.GetUser(t.Context(), p, id)
			if err != nil {
				t.Fatalf("get %s: %v", id, err)
			}
			return u
		}
		for i, v := range sqlish {
			js, _ := json.Marshal(v)
			q := url.QueryEscape(v)
			n := string(rune('a' + i))
			// Each dialect creates a user carrying v in every name field
			// and, where the dialect has one, in its searchable identifier.
			type created struct{ dialect, id string }
			var made []created
			for _, c := range []struct {
				dialect, path, body string
			}{
				{"truv", "/v1/users/", `{"external_user_id":` + string(js) + `,"first_name":` + string(js) + `,"last_name":` + string(js) + `}`},
				{"entrust", "/api/web/v3/users", `{"userId":` + jsonStr("e"+n+v) + `,"firstName":` + string(js) + `,"lastName":` + string(js) + `,"email":"e` + n + `@example.com"}`},
				{"cl2c", "/v1/cl2c/user", `{"userName":` + jsonStr("c"+n+v) + `,"firstName":` + string(js) + `,"lastName":` + string(js) + `,"email":"c` + n + `@example.com","phoneNumber":"+1555666770` + string(rune('0'+i)) + `"}`},
				{"ownli", "/api/users", `{"firstName":` + string(js) + `,"lastName":` + string(js) + `,"email":"o` + n + `@example.com","phone":"+1415555020` + string(rune('0'+i)) + `","address":{"state":"CA"}}`},
				{"scim", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":` + jsonStr("s"+n+v) + `,"name":{"givenName":` + string(js) + `,"familyName":` + string(js) + `}}`},
			} {
				r := s.Do(c.dialect, "POST", c.path, []byte(c.body), nil)
				if r.Status != 200 && r.Status != 201 {
					t.Fatalf("%s create with %q: %d %s", c.dialect, v, r.Status, r.Body)
				}
				var out map[string]any
				r.JSON(t, &out)
				id, _ := out["id"].(string)
				if c.dialect == "truv" && len(id) == 32 {
					id = id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
				}
				if u, ok := out["user"].(map[string]any); id == "" && ok {
					id, _ = u["id"].(string)
				}
				if id == "" {
					t.Fatalf("%s create: no id in %s", c.dialect, r.Body)
				}
				u := get(id)
				if u.FirstName != v || u.LastName != v {
					t.Errorf("%s stored first %q last %q, want %q verbatim", c.dialect, u.FirstName, u.LastName, v)
				}
				s.ReadBack(id)
				made = append(made, created{c.dialect, id})
			}
			// Exact search on each dialect's search parameter finds
			// exactly the one user holding v.
			for _, sr := range []struct {
				dialect, method, path, body, key string
			}{
				{"truv", "GET", "/v1/users/?external_user_id=" + q, "", "results"},
				{"entrust", "POST", "/api/web/v4/userspaged", `{"searchByAttributes":[{"name":"userId","operator":"EQUALS","value":` + jsonStr("e"+n+v) + `}]}`, "results"},
				{"scim", "GET", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq `+scimStr("s"+n+v)), "", "Resources"},
				{"scim", "GET", "/scim/v2/Users?filter=" + url.QueryEscape(`name.givenName eq `+scimStr(v)), "", "Resources"},
				{"ownli", "GET", "/api/users?email=" + url.QueryEscape("o"+n+"@example.com"), "", "users"},
			} {
				r := s.Do(sr.dialect, sr.method, sr.path, []byte(sr.body), nil)
				if r.Status != 200 {
					t.Errorf("%s search for %q: %d %s", sr.dialect, v, r.Status, r.Body)
					continue
				}
				items, _ := r.Map(t)[sr.key].([]any)
				want := 1
				if strings.Contains(sr.path, "givenName") {
					want = len(made) // every dialect's user has v as first name
				}
				if len(items) != want {
					t.Errorf("%s exact search for %q: %d results, want %d: %.300s", sr.dialect, v, len(items), want, r.Body)
				}
			}
			// Searches for the bare metacharacters, which a pasted LIKE
			// or OR would turn into "everything", match nothing here.
			for _, sr := range []struct{ dialect, path, key string }{
				{"truv", "/v1/users/?external_user_id=" + url.QueryEscape("%"+v+"%"), "results"},
				{"scim", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "plain1' OR 1=1 --"`), "Resources"},
				{"scim", "/scim/v2/Users?filter=" + url.QueryEscape(`userName co "plain_"`), "Resources"},
				{"ownli", "/api/users?email=" + url.QueryEscape("%@example.com"), "users"},
			} {
				r := s.Do(sr.dialect, "GET", sr.path, nil, nil)
				if r.Status != 200 {
					t.Errorf("%s %s: %d %s", sr.dialect, sr.path, r.Status, r.Body)
					continue
				}
				if items, _ := r.Map(t)[sr.key].([]any); len(items) != 0 {
					t.Errorf("%s %s matched %d users, want none", sr.dialect, sr.path, len(items))
				}
			}
			// A SCIM "co" on the literal character finds exactly the
			// users holding it, not every user.
			r := s.Do("scim", "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName co `+scimStr("s"+n+v)), nil, nil)
			if items, _ := r.Map(t)["Resources"].([]any); len(items) != 1 {
				t.Errorf("scim co %q: %d results, want 1: %.300s", "s"+n+v, len(items), r.Body)
			}
			for _, m := range made {
				if err := env.Svc.DeleteUser(t.Context(), p, m.id, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func jsonStr(s string) string { b, _ := json.Marshal(s); return string(b) }

// scimStr is a SCIM filter string literal (JSON string syntax, RFC 7644
// §3.4.2.2).
func scimStr(s string) string { return jsonStr(s) }

// brokenStore fails or panics the way a broken database would, with
// driver-like text that must never reach a client.
type brokenStore struct {
	directory.Store
	panic bool
}

const driverText = `sqlite: database is closed; pq: SQLSTATE 08006 at /work/main/internal/store/users.go:42 goroutine 7 [running]`

func (b brokenStore) GetUser(ctx context.Context, tenantID, id string) (*directory.User, error) {
	if b.panic {
		panic(driverText)
	}
	return nil, errorString(driverText)
}

func (b brokenStore) ListUsers(ctx context.Context, tenantID string, q directory.UserQuery) (*directory.UserPage, error) {
	if b.panic {
		panic(driverText)
	}
	return nil, errorString(driverText)
}

type errorString string

func (e errorString) Error() string { return string(e) }

// readRoutes read users in every dialect.
func readRoutes(id string) []route {
	return []route{
		{"truv", "GET", "/v1/users/" + strings.ReplaceAll(id, "-", "") + "/"},
		{"truv", "GET", "/v1/users/"},
		{"entrust", "GET", "/api/web/v3/users/" + id},
		{"entrust", "POST", "/api/web/v4/userspaged"},
		{"cl2c", "GET", "/v1/cl2c/users/" + id},
		{"cl2c", "GET", "/v1/cl2c/users"},
		{"ownli", "GET", "/api/users/" + id},
		{"ownli", "GET", "/api/users"},
		{"scim", "GET", "/scim/v2/Users/" + id},
		{"scim", "GET", "/scim/v2/Users"},
	}
}

// TestInternalErrorsLeakNothing: when the database fails — really closed,
// or failing with driver text, or panicking — each dialect answers a 5xx
// whose body is its fixed phrase plus the request id: no SQL, no driver
// name, no panic or stack text, no file path.
func TestInternalErrorsLeakNothing(t *testing.T) {
	for _, mode := range []string{"closed database", "driver error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			apitest.ForEachBackend(t, func(t *testing.T, backend string) {
				st := testdb.Open(t, backend)
				var ds directory.Store = st
				switch mode {
				case "driver error":
					ds = brokenStore{Store: st}
				case "panic":
					ds = brokenStore{Store: st, panic: true}
				}
				svc := directory.NewService(ds, directory.Options{})
				logs := &apitest.Buffer{}
				srv := httptest.NewServer(server.New(svc, server.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))}))
				t.Cleanup(srv.Close)
				env := &apitest.Env{T: t, Store: ds, Svc: svc, Server: srv, Logs: logs}
				env.Creds = env.NewTenant("acme", directory.DefaultUniquePolicy)
				s := apitest.NewSpeaker(env, env.Creds)
				id := seedUser(t, s, "victim")
				if mode == "closed database" {
					if err := st.Close(); err != nil {
						t.Fatal(err)
					}
				}
				for _, rt := range readRoutes(id) {
					reqID := "leaktest-" + rt.dialect
					r := s.Do(rt.dialect, rt.method, rt.path, []byte(`{}`), map[string]string{"X-Request-Id": reqID})
					what := mode + ": " + rt.method + " " + rt.path
					// A closed database fails authentication first in some
					// dialects; that too must be a clean 5xx.
					if r.Status < 500 {
						t.Errorf("%s: got %d, want a 5xx: %.200s", what, r.Status, r.Body)
						continue
					}
					apitest.CheckNoLeak(t, what, r)
					if rt.dialect == "cl2c" {
						// fullstackhero's ErrorResult carries a fresh errorId,
						// which the access log line pairs with the request id.
						var er struct {
							ErrorID string `json:"errorId"`
						}
						if json.Unmarshal(r.Body, &er) != nil || er.ErrorID == "" || !strings.Contains(logs.String(), er.ErrorID) {
							t.Errorf("%s: errorId missing or not logged: %s", what, r.Body)
						}
					} else if !strings.Contains(string(r.Body), reqID) {
						t.Errorf("%s: body lacks the request id %q: %s", what, reqID, r.Body)
					}
					if len(r.Body) > 400 {
						t.Errorf("%s: a %d-byte 5xx body, want a fixed phrase: %s", what, len(r.Body), r.Body)
					}
				}
				// The cause is for the operator: it is in the log.
				if mode != "closed database" && !strings.Contains(logs.String(), "SQLSTATE 08006") {
					t.Errorf("the internal cause is not in the access log")
				}
			})
		})
	}
}
