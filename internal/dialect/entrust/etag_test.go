package entrust_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
	"github.com/roster-dev/roster/internal/httpapi"
)

// doIf sends a request with an extra header.
func (c *client) doIf(method, path, body, name, value string) *apitest.Response {
	c.t.Helper()
	return c.raw(apitest.Request{Method: method, Path: path, Body: body,
		Header: map[string]string{"Authorization": "Bearer " + c.token, "Content-Type": "application/json", name: value}})
}

// wantPrecondition fails unless r is a 412 ErrorInfo precondition_failed
// naming If-Match.
func wantPrecondition(t *testing.T, r *apitest.Response) {
	t.Helper()
	if r.Status != http.StatusPreconditionFailed {
		t.Fatalf("got %d %s, want 412", r.Status, r.Body)
	}
	var b struct {
		ErrorCode    string
		ErrorMessage string
		Parameters   []struct{ Name string }
	}
	r.JSON(t, &b)
	if b.ErrorCode != "precondition_failed" || !strings.Contains(b.ErrorMessage, "If-Match") ||
		len(b.Parameters) != 1 || b.Parameters[0].Name != "If-Match" {
		t.Fatalf("412 body: got %s", r.Body)
	}
	if r.Header.Get("ETag") != "" {
		t.Fatalf("a 412 carries ETag %q", r.Header.Get("ETag"))
	}
}

// TestETags: create, every single-user read (by UUID, userId, externalId)
// and every single-user write carry W/"<version>"; If-Match is honoured on
// PUT users/{id}, users/{id}/state, users/{id}/unlock and DELETE (412
// precondition_failed, nothing written, when it names another version or
// is malformed), and refused with 412 on the bulk routes; If-None-Match on
// GET answers 304.
func TestETags(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		r := c.do("POST", "/api/web/v3/users", `{"userId":"ann","firstName":"Ann","lastName":"Lee","email":"ann@example.com","externalId":"ext-ann"}`)
		mustStatus(t, r, 200)
		var u struct{ ID string }
		r.JSON(t, &u)
		v := env.StoredVersion(t, u.ID)
		apitest.WantETag(t, "create", r, v)
		path := "/api/web/v3/users/" + u.ID
		apitest.WantETag(t, "get", c.do("GET", path, ""), v)
		apitest.WantETag(t, "get by userId", c.do("POST", "/api/web/v3/users/userid", `{"userId":"ann"}`), v)
		apitest.WantETag(t, "get by externalId", c.do("POST", "/api/web/v3/users/externalid", `{"userId":"ext-ann"}`), v)

		tag := httpapi.ETag
		writes := []struct{ name, path, body string }{
			{"update", path, `{"firstName":"Annie"}`},
			{"state", "/api/web/v1/users/" + u.ID + "/state", `{"state":"INACTIVE"}`},
			{"unlock", "/api/web/v1/users/" + u.ID + "/unlock", ""},
		}
		for _, wr := range writes {
			for _, tc := range []struct {
				name    string
				ifMatch func(cur int64) string
				want    int
			}{
				{"current weak", func(c int64) string { return tag(c) }, http.StatusOK},
				{"current strong", func(c int64) string { return strings.TrimPrefix(tag(c), "W/") }, http.StatusOK},
				{"list holding current", func(c int64) string { return tag(c+1) + ", " + tag(c) }, http.StatusOK},
				{"star", func(int64) string { return "*" }, http.StatusOK},
				{"stale", func(c int64) string { return tag(c - 1) }, http.StatusPreconditionFailed},
				{"list without current", func(c int64) string { return tag(c-1) + ", " + tag(c+1) }, http.StatusPreconditionFailed},
				{"malformed", func(int64) string { return `W/""` }, http.StatusPreconditionFailed},
			} {
				t.Run(wr.name+" "+tc.name, func(t *testing.T) {
					cur := env.StoredVersion(t, u.ID)
					r := c.doIf("PUT", wr.path, wr.body, "If-Match", tc.ifMatch(cur))
					after := env.StoredVersion(t, u.ID)
					if tc.want != http.StatusOK {
						wantPrecondition(t, r)
						if after != cur {
							t.Fatalf("a 412 wrote: version %d, want %d", after, cur)
						}
						return
					}
					if r.Status != http.StatusOK || len(r.Body) != 0 || after != cur+1 {
						t.Fatalf("got %d %q, version %d; want 200, no body, version %d", r.Status, r.Body, after, cur+1)
					}
					apitest.WantETag(t, wr.name, r, after)
				})
			}
		}

		// A 304 is outside the vendor's spec (its clients send no
		// If-None-Match), so this request skips the spec check of raw.
		cur := env.StoredVersion(t, u.ID)
		r = env.Do(apitest.Request{Method: "GET", Path: path,
			Header: map[string]string{"Authorization": "Bearer " + c.token, "If-None-Match": tag(cur)}})
		if r.Status != http.StatusNotModified || len(r.Body) != 0 {
			t.Fatalf("GET with the current If-None-Match: got %d %q, want 304 and no body", r.Status, r.Body)
		}
		apitest.WantETag(t, "304", r, cur)
		mustStatus(t, c.doIf("GET", path, "", "If-None-Match", tag(cur-1)), 200)

		// Bulk routes refuse If-Match, even "*" and even the current tag,
		// and write nothing.
		for _, b := range []struct{ method, body string }{
			{"POST", `{"users":[{"userId":"bob","firstName":"Bob","lastName":"Roe","email":"bob@example.com"}]}`},
			{"PUT", `{"users":[{"id":"` + u.ID + `","parms":{"firstName":"Bulk"}}]}`},
			{"DELETE", `{"users":[{"id":"` + u.ID + `"}]}`},
		} {
			for _, h := range []string{"*", tag(cur)} {
				wantPrecondition(t, c.doIf(b.method, "/api/web/v3/users/multiple", b.body, "If-Match", h))
			}
		}
		if got := env.StoredVersion(t, u.ID); got != cur {
			t.Fatalf("a refused bulk request wrote: version %d, want %d", got, cur)
		}
		mustStatus(t, c.do("POST", "/api/web/v3/users/userid", `{"userId":"bob"}`), 404)

		// DELETE with a stale tag: 412, and the user is still there.
		wantPrecondition(t, c.doIf("DELETE", path, "", "If-Match", tag(cur-1)))
		mustStatus(t, c.do("GET", path, ""), 200)
		mustStatus(t, c.doIf("DELETE", path, "", "If-Match", tag(cur)), 200)
		// "*" when the user is gone: Entrust's 404, as without If-Match.
		mustStatus(t, c.doIf("PUT", path, `{}`, "If-Match", "*"), 404)
	})
}
