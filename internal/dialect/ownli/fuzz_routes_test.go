package ownli_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
)

// FuzzRoutes fuzzes every Ownli route family — the token endpoint,
// create (with returnExistingUserIfExists), update, get, and list with its
// e-mail and phone search — with arbitrary query strings, one arbitrary
// header (partnerId, clientId, clientSecret, Authorization among them) and
// arbitrary bodies. The invariant is apitest.RunRoutes': a 2xx or an Ownli
// error body, never a 5xx, never a partial row.
func FuzzRoutes(f *testing.F) {
	env := apitest.NewFuzzEnv(f, "sqlite", mountEverything)
	apitest.RunRoutes(f, env, "ownli", []apitest.FuzzRoute{
		{Method: "POST", Path: "/api/auth/token", Seed: `{"clientId":"x","clientSecret":"y","partnerId":"acme"}`},
		{Method: "POST", Path: "/api/users", Query: "returnExistingUserIfExists=true", Seed: `{"firstName":"Ann","lastName":"Lee","phone":"+15556667778","email":"ann@example.com","address":{"state":"CA","zip":"94105"}}`},
		{Method: "PUT", Path: "/api/users/{id}", Seed: `{"firstName":"A","address":{"line1":"1 Main St"}}`},
		{Method: "GET", Path: "/api/users/{id}"},
		{Method: "GET", Path: "/api/users", Query: "email=fixture@example.com&phone=%2B14155550100&page=1&pageSize=10"},
	})
}

// mountEverything mounts every dialect, so a user a fuzz input creates can
// be read back through all of them (apitest.Speaker.ReadBack).
func mountEverything(mux *http.ServeMux, svc *directory.Service) {
	server.Mount(mux, svc, server.Options{})
}
