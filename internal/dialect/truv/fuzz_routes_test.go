package truv_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
)

// FuzzRoutes fuzzes every Truv route family — create, update (PATCH),
// get, list with its search parameters, and the bridge-token route — with
// arbitrary query strings, one arbitrary header (the auth headers among
// them) and arbitrary bodies. The invariant is apitest.RunRoutes': a 2xx
// or a Truv error body, never a 5xx, never a partial row.
func FuzzRoutes(f *testing.F) {
	env := apitest.NewFuzzEnv(f, "sqlite", mountEverything)
	apitest.RunRoutes(f, env, "truv", []apitest.FuzzRoute{
		{Method: "POST", Path: "/v1/users/", Seed: `{"external_user_id":"12345","first_name":"John","last_name":"Doe","email":"john.doe@example.com","phone":"+14155554193","ssn":"222233333"}`},
		{Method: "PATCH", Path: "/v1/users/{id}/", Seed: `{"first_name":"Jane","email":"jane@example.com","ssn":"222-23-3333"}`},
		{Method: "GET", Path: "/v1/users/{id}/"},
		{Method: "GET", Path: "/v1/users/", Query: "external_user_id=fx-1&page=1&page_size=10&created_at__gte=2020-01-01"},
		{Method: "POST", Path: "/v1/users/{id}/tokens/", Seed: `{"product_type":"income","tracking_info":"x"}`},
	})
}

// mountEverything mounts every dialect, so a user a fuzz input creates can
// be read back through all of them (apitest.Speaker.ReadBack).
func mountEverything(mux *http.ServeMux, svc *directory.Service) {
	server.Mount(mux, svc, server.Options{})
}
