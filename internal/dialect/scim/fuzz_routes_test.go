package scim_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
)

// FuzzRoutes fuzzes the SCIM route families the older targets leave out
// or reach only one way — create, replace (PUT), PATCH, get, list with
// filter/sortBy/startIndex/count/attributes, POST .search, Bulk and Groups
// — with arbitrary query strings, one arbitrary header (Authorization,
// If-Match among them) and arbitrary bodies. The invariant is
// apitest.RunRoutes': a 2xx or a SCIM Error, never a 5xx, never a partial
// row.
func FuzzRoutes(f *testing.F) {
	env := apitest.NewFuzzEnv(f, "sqlite", mountEverything)
	apitest.RunRoutes(f, env, "scim", []apitest.FuzzRoute{
		{Method: "POST", Path: "/scim/v2/Users", Seed: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"value":"ann@example.com","primary":true}]}`},
		{Method: "PUT", Path: "/scim/v2/Users/{id}", Seed: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fuzz.fixture","name":{"givenName":"F"},"active":false}`},
		{Method: "PATCH", Path: "/scim/v2/Users/{id}", Seed: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.givenName","value":"G"}]}`},
		{Method: "GET", Path: "/scim/v2/Users/{id}", Query: "attributes=userName,emails"},
		{Method: "GET", Path: "/scim/v2/Users", Query: `filter=userName%20eq%20%22fuzz.fixture%22&sortBy=name.familyName&sortOrder=descending&startIndex=1&count=10`},
		{Method: "POST", Path: "/scim/v2/Users/.search", Seed: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails co \"example\"","count":5}`},
		{Method: "POST", Path: "/scim/v2/Bulk", Seed: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"userName":"bulk1"}}]}`},
		{Method: "POST", Path: "/scim/v2/Groups", Seed: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng","members":[{"value":"{id}"}]}`},
		{Method: "GET", Path: "/scim/v2/Groups", Query: `filter=displayName%20eq%20%22eng%22`},
	})
}

// mountEverything mounts every dialect, so a user a fuzz input creates can
// be read back through all of them (apitest.Speaker.ReadBack).
func mountEverything(mux *http.ServeMux, svc *directory.Service) {
	server.Mount(mux, svc, server.Options{})
}
