package truv

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/httpapi"
)

// TestETags: every single-user read and write carries W/"<version>";
// If-Match on PATCH and DELETE is honoured (412 in Truv's error envelope
// when it names another version, and nothing is written); If-None-Match
// on GET answers 304.
func TestETags(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := headers(env.Creds)
		resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: h, Body: johnBody})
		var u struct{ ID string }
		resp.JSON(t, &u)
		v := env.StoredVersion(t, u.ID)
		apitest.WantETag(t, "create", resp, v)
		path := "/v1/users/" + u.ID + "/"

		resp = env.Do(apitest.Request{Method: "GET", Path: path, Header: h})
		apitest.WantETag(t, "get", resp, v)

		tag := func(n int64) string { return httpapi.ETag(n) }
		for _, tc := range []struct {
			name    string
			ifMatch func(cur int64) string
			want    int
		}{
			{"current weak", func(c int64) string { return tag(c) }, http.StatusOK},
			{"current strong", func(c int64) string { return `"` + tag(c)[3:] }, http.StatusOK},
			{"list holding current", func(c int64) string { return tag(c+7) + ", " + tag(c) }, http.StatusOK},
			{"star", func(int64) string { return "*" }, http.StatusOK},
			{"stale", func(c int64) string { return tag(c - 1) }, http.StatusPreconditionFailed},
			{"future", func(c int64) string { return tag(c + 1) }, http.StatusPreconditionFailed},
			{"list without current", func(c int64) string { return tag(c-1) + ", " + tag(c+1) }, http.StatusPreconditionFailed},
			{"malformed", func(int64) string { return "not-a-tag" }, http.StatusPreconditionFailed},
		} {
			t.Run("PATCH "+tc.name, func(t *testing.T) {
				cur := env.StoredVersion(t, u.ID)
				resp := env.Do(apitest.Request{Method: "PATCH", Path: path,
					Header: headers(env.Creds, "If-Match", tc.ifMatch(cur)), Body: `{"first_name":"` + tc.name + `"}`})
				if resp.Status != tc.want {
					t.Fatalf("got %d %s, want %d", resp.Status, resp.Body, tc.want)
				}
				after := env.StoredVersion(t, u.ID)
				if tc.want == http.StatusOK {
					if after != cur+1 {
						t.Fatalf("version: got %d, want %d", after, cur+1)
					}
					apitest.WantETag(t, "patch", resp, after)
					return
				}
				if after != cur {
					t.Fatalf("a 412 wrote: version %d, want %d", after, cur)
				}
				if resp.Header.Get("ETag") != "" {
					t.Fatalf("a 412 carries ETag %q", resp.Header.Get("ETag"))
				}
				apitest.Golden(t, "precondition_failed", resp)
			})
		}

		cur := env.StoredVersion(t, u.ID)
		for _, tc := range []struct {
			name        string
			ifNoneMatch string
			want        int
		}{
			{"current", tag(cur), http.StatusNotModified},
			{"stale", tag(cur - 1), http.StatusOK},
			{"star", "*", http.StatusNotModified},
		} {
			resp := env.Do(apitest.Request{Method: "GET", Path: path, Header: headers(env.Creds, "If-None-Match", tc.ifNoneMatch)})
			if resp.Status != tc.want {
				t.Fatalf("GET If-None-Match %s: got %d, want %d", tc.name, resp.Status, tc.want)
			}
			apitest.WantETag(t, "GET If-None-Match "+tc.name, resp, cur)
			if tc.want == http.StatusNotModified && len(resp.Body) != 0 {
				t.Fatalf("304 with a body: %s", resp.Body)
			}
		}

		// DELETE with a stale tag: 412 and the user is still there.
		resp = env.Do(apitest.Request{Method: "DELETE", Path: path, Header: headers(env.Creds, "If-Match", tag(cur-1))})
		apitest.Golden(t, "precondition_failed", resp)
		if got := env.StoredVersion(t, u.ID); got != cur {
			t.Fatalf("after a refused delete: version %d, want %d", got, cur)
		}
		resp = env.Do(apitest.Request{Method: "DELETE", Path: path, Header: headers(env.Creds, "If-Match", tag(cur))})
		if resp.Status != http.StatusNoContent {
			t.Fatalf("delete with the current tag: got %d %s, want 204", resp.Status, resp.Body)
		}
		// "*" on a user that is gone: Truv's 404, as without If-Match.
		resp = env.Do(apitest.Request{Method: "PATCH", Path: path, Header: headers(env.Creds, "If-Match", "*"), Body: `{}`})
		apitest.Golden(t, "not_found", resp)
	})
}
