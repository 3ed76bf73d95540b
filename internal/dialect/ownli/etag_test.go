package ownli_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/httpapi"
)

// wantPrecondition fails unless r is Ownli's 412 error body.
func wantPrecondition(t *testing.T, r *apitest.Response) {
	t.Helper()
	if r.Status != http.StatusPreconditionFailed {
		t.Fatalf("got %d %s, want 412", r.Status, r.Body)
	}
	var b struct {
		Code    string `json:"error_code"`
		Message string `json:"error_message"`
	}
	r.JSON(t, &b)
	if b.Code != "ERROR_PRECONDITION_FAILED" || !strings.Contains(b.Message, "If-Match") {
		t.Fatalf("412 body: got %s, want error_code ERROR_PRECONDITION_FAILED", r.Body)
	}
	if r.Header.Get("ETag") != "" {
		t.Fatalf("a 412 carries ETag %q", r.Header.Get("ETag"))
	}
}

// TestETags: create, get and update carry W/"<version>"; If-Match on PUT
// and DELETE is honoured (412 ERROR_PRECONDITION_FAILED, nothing written,
// when it names another version or is malformed); If-None-Match on GET
// answers 304.
func TestETags(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := withHeader(legacy(env.Creds), "Content-Type", "application/json")
		r := do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser})
		id := decodeUser(t, r).ID
		v := env.StoredVersion(t, id)
		apitest.WantETag(t, "create", r, v)
		path := "/api/users/" + id

		// returnExistingUserIfExists answers the stored user with its tag.
		r = do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true", Header: h, Body: seedUser})
		apitest.WantETag(t, "create returning the existing user", r, v)

		r = do(t, env, 200, apitest.Request{Method: "GET", Path: path, Header: h})
		apitest.WantETag(t, "get", r, v)

		tag := httpapi.ETag
		for _, tc := range []struct {
			name    string
			ifMatch func(cur int64) string
			want    int
		}{
			{"current weak", func(c int64) string { return tag(c) }, http.StatusOK},
			{"current strong", func(c int64) string { return strings.TrimPrefix(tag(c), "W/") }, http.StatusOK},
			{"list holding current", func(c int64) string { return tag(c+3) + "," + tag(c) }, http.StatusOK},
			{"star", func(int64) string { return "*" }, http.StatusOK},
			{"stale", func(c int64) string { return tag(c - 1) }, http.StatusPreconditionFailed},
			{"list without current", func(c int64) string { return tag(c-1) + ", " + tag(c+1) }, http.StatusPreconditionFailed},
			{"malformed", func(int64) string { return `W/"x"` }, http.StatusPreconditionFailed},
		} {
			t.Run("PUT "+tc.name, func(t *testing.T) {
				cur := env.StoredVersion(t, id)
				r := env.Do(apitest.Request{Method: "PUT", Path: path, Header: withHeader(h, "If-Match", tc.ifMatch(cur)),
					Body: `{"firstName":"` + strings.ReplaceAll(tc.name, " ", "") + `"}`})
				after := env.StoredVersion(t, id)
				if tc.want != http.StatusOK {
					wantPrecondition(t, r)
					if after != cur {
						t.Fatalf("a 412 wrote: version %d, want %d", after, cur)
					}
					return
				}
				if r.Status != http.StatusOK || after != cur+1 {
					t.Fatalf("got %d %s, version %d; want 200 and version %d", r.Status, r.Body, after, cur+1)
				}
				apitest.WantETag(t, "put", r, after)
			})
		}

		cur := env.StoredVersion(t, id)
		r = do(t, env, http.StatusNotModified, apitest.Request{Method: "GET", Path: path, Header: withHeader(h, "If-None-Match", tag(cur))})
		apitest.WantETag(t, "304", r, cur)
		if len(r.Body) != 0 {
			t.Fatalf("304 with a body: %s", r.Body)
		}
		r = do(t, env, http.StatusOK, apitest.Request{Method: "GET", Path: path, Header: withHeader(h, "If-None-Match", tag(cur-1))})
		apitest.WantETag(t, "GET with a stale If-None-Match", r, cur)

		// DELETE with a stale tag: 412, and the user is still there.
		wantPrecondition(t, env.Do(apitest.Request{Method: "DELETE", Path: path, Header: withHeader(h, "If-Match", tag(cur-1))}))
		do(t, env, 200, apitest.Request{Method: "GET", Path: path, Header: h})
		do(t, env, 204, apitest.Request{Method: "DELETE", Path: path, Header: withHeader(h, "If-Match", tag(cur))})
		// "*" when the user is gone: Ownli's 404, as without If-Match.
		do(t, env, 404, apitest.Request{Method: "PUT", Path: path, Header: withHeader(h, "If-Match", "*"), Body: `{}`})
	})
}
