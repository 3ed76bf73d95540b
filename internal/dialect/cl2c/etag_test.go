package cl2c_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/httpapi"
)

// wantPrecondition fails unless r is CL2C's ErrorResult with status 412.
func wantPrecondition(t *testing.T, r *apitest.Response, source string) {
	t.Helper()
	if r.Status != http.StatusPreconditionFailed {
		t.Fatalf("got %d %s, want 412", r.Status, r.Body)
	}
	m := r.Map(t)
	want := "The user has changed since the version in If-Match. Read it again and retry."
	msgs, _ := m["messages"].([]any)
	if len(msgs) != 1 || msgs[0] != want || m["exception"] != want || m["statusCode"] != float64(412) ||
		m["source"] != source || m["errorId"] == "" || m["supportMessage"] == "" {
		t.Fatalf("412 body: got %s", r.Body)
	}
	if got := keysOf(t, r.Body); strings.Join(got, ",") != "messages,source,exception,errorId,supportMessage,statusCode" {
		t.Fatalf("412 body keys: got %v, want the ErrorResult's", got)
	}
	if r.Header.Get("ETag") != "" {
		t.Fatalf("a 412 carries ETag %q", r.Header.Get("ETag"))
	}
}

// TestETags: create, get and update carry W/"<version>"; If-Match on the
// update (the user named by the body's id) and on DELETE is honoured (412
// ErrorResult, nothing written, when it names another version or is
// malformed); If-None-Match on GET answers 304.
func TestETags(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		c := e.Creds
		r := call(e, c, "POST", "/v1/cl2c/user", seedExample)
		id, _ := r.Map(t)["id"].(string)
		v := e.StoredVersion(t, id)
		apitest.WantETag(t, "create", r, v)
		path := "/v1/cl2c/users/" + id
		apitest.WantETag(t, "get", call(e, c, "GET", path, ""), v)

		tag := httpapi.ETag
		for _, tc := range []struct {
			name    string
			ifMatch func(cur int64) string
			want    int
		}{
			{"current weak", func(c int64) string { return tag(c) }, http.StatusOK},
			{"current strong", func(c int64) string { return strings.TrimPrefix(tag(c), "W/") }, http.StatusOK},
			{"list holding current", func(c int64) string { return tag(c-1) + ", " + tag(c) }, http.StatusOK},
			{"star", func(int64) string { return "*" }, http.StatusOK},
			{"stale", func(c int64) string { return tag(c - 1) }, http.StatusPreconditionFailed},
			{"list without current", func(c int64) string { return tag(c-1) + ", " + tag(c+1) }, http.StatusPreconditionFailed},
			{"malformed", func(int64) string { return "v1" }, http.StatusPreconditionFailed},
		} {
			t.Run("PUT "+tc.name, func(t *testing.T) {
				cur := e.StoredVersion(t, id)
				r := call(e, c, "PUT", "/v1/cl2c/user", fmt.Sprintf(`{"id":%q,"firstName":%q}`, id, tc.name), "If-Match", tc.ifMatch(cur))
				after := e.StoredVersion(t, id)
				if tc.want != http.StatusOK {
					wantPrecondition(t, r, "PUT /v1/cl2c/user")
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

		cur := e.StoredVersion(t, id)
		r = call(e, c, "GET", path, "", "If-None-Match", tag(cur))
		if r.Status != http.StatusNotModified || len(r.Body) != 0 {
			t.Fatalf("GET with the current If-None-Match: got %d %q, want 304 and no body", r.Status, r.Body)
		}
		apitest.WantETag(t, "304", r, cur)
		r = call(e, c, "GET", path, "", "If-None-Match", tag(cur-1))
		if r.Status != http.StatusOK {
			t.Fatalf("GET with a stale If-None-Match: got %d, want 200", r.Status)
		}

		// DELETE with a stale tag: 412 and the user is still there.
		wantPrecondition(t, call(e, c, "DELETE", path, "", "If-Match", tag(cur-1)), "DELETE /v1/cl2c/users/{id}")
		if got := e.StoredVersion(t, id); got != cur {
			t.Fatalf("after a refused delete: version %d, want %d", got, cur)
		}
		wantPrecondition(t, call(e, c, "DELETE", path, "", "If-Match", tag(cur-1)+", "+tag(cur+1)), "DELETE /v1/cl2c/users/{id}")
		if r := call(e, c, "DELETE", path, "", "If-Match", tag(cur-2)+", "+tag(cur)); r.Status != http.StatusOK {
			t.Fatalf("delete with a list holding the current tag: got %d %s, want 200", r.Status, r.Body)
		}
		// "*" when the user is gone: CL2C's 404, as without If-Match.
		if r := call(e, c, "DELETE", path, "", "If-Match", "*"); r.Status != http.StatusNotFound {
			t.Fatalf("delete of a deleted user with If-Match *: got %d %s, want 404", r.Status, r.Body)
		}
	})
}
