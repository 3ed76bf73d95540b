package entrust_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
)

// FuzzRoutes fuzzes every Entrust route family — authenticate (the
// token endpoint), create, update, get, the userid/externalid lookups,
// the paged search, the bulk routes and state changes — with arbitrary
// query strings, one arbitrary header (Authorization among them) and
// arbitrary bodies. The invariant is apitest.RunRoutes': a 2xx or an
// ErrorInfo body, never a 5xx, never a partial row.
func FuzzRoutes(f *testing.F) {
	env := apitest.NewFuzzEnv(f, "sqlite", mountEverything)
	apitest.RunRoutes(f, env, "entrust", []apitest.FuzzRoute{
		{Method: "POST", Path: "/api/web/v1/adminapi/authenticate", Seed: `{"applicationId":"x","sharedSecret":"y"}`},
		{Method: "POST", Path: "/api/web/v3/users", Seed: `{"userId":"jsmith","firstName":"john","lastName":"smith","email":"johnsmith@organization.com","userAliases":[{"value":"js","type":"USERID"}],"userAttributeValues":[{"userAttributeId":"k","value":"v"}]}`},
		{Method: "PUT", Path: "/api/web/v3/users/{id}", Seed: `{"firstName":"j","locale":"en","state":"ACTIVE"}`},
		{Method: "GET", Path: "/api/web/v3/users/{id}"},
		{Method: "POST", Path: "/api/web/v3/users/userid", Seed: `{"userId":"fuzz.fixture"}`},
		{Method: "POST", Path: "/api/web/v3/users/externalid", Seed: `{"externalId":"fx-1"}`},
		{Method: "POST", Path: "/api/web/v4/userspaged", Seed: `{"limit":10,"searchByAttributes":[{"name":"userId","operator":"EQUALS","value":"fuzz.fixture"}],"orderByAttribute":"userId","attributes":["userAliases"]}`},
		{Method: "POST", Path: "/api/web/v3/users/multiple", Seed: `[{"userId":"bulk1","firstName":"a","lastName":"b","email":"bulk1@example.com"}]`},
		{Method: "PUT", Path: "/api/web/v3/users/multiple", Seed: `[{"id":"{id}","firstName":"c"}]`},
		{Method: "PUT", Path: "/api/web/v1/users/{id}/state", Seed: `{"state":"INACTIVE"}`},
	})
}

// mountEverything mounts every dialect, so a user a fuzz input creates can
// be read back through all of them (apitest.Speaker.ReadBack).
func mountEverything(mux *http.ServeMux, svc *directory.Service) {
	server.Mount(mux, svc, server.Options{})
}
