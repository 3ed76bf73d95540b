package cl2c_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
)

// FuzzRoutes fuzzes every CL2C route family — create, update (PUT with
// the id in the body), get, and list with its paging parameters — with
// arbitrary query strings, one arbitrary header (tenant and X-API-Key
// among them) and arbitrary bodies. The invariant is apitest.RunRoutes': a
// 2xx or a CL2C problem/ErrorResult, never a 5xx, never a partial row.
func FuzzRoutes(f *testing.F) {
	env := apitest.NewFuzzEnv(f, "sqlite", mountEverything)
	apitest.RunRoutes(f, env, "cl2c", []apitest.FuzzRoute{
		{Method: "POST", Path: "/v1/cl2c/user", Seed: `{"firstName":"Jane","lastName":"Roe","email":"jane@example.com","userName":"janeroe","phoneNumber":"+15556667777"}`},
		{Method: "PUT", Path: "/v1/cl2c/user", Seed: `{"id":"{id}","firstName":"J","phoneNumber":"+15556667778","pushToken":"t"}`},
		{Method: "GET", Path: "/v1/cl2c/users/{id}"},
		{Method: "GET", Path: "/v1/cl2c/users", Query: "pageNumber=1&pageSize=10"},
	})
}

// mountEverything mounts every dialect, so a user a fuzz input creates can
// be read back through all of them (apitest.Speaker.ReadBack).
func mountEverything(mux *http.ServeMux, svc *directory.Service) {
	server.Mount(mux, svc, server.Options{})
}
