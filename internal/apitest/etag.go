package apitest

import (
	"testing"

	"github.com/roster-dev/roster/internal/httpapi"
)

// StoredVersion reads user id's version through the core, for tests of
// ETag and If-Match.
func (e *Env) StoredVersion(t testing.TB, id string) int64 {
	t.Helper()
	u, err := e.Svc.GetUser(t.Context(), e.Creds.Principal(), id)
	if err != nil {
		t.Fatalf("get user %s: %v", id, err)
	}
	return u.Version
}

// WantETag fails unless r carries the weak ETag of version.
func WantETag(t testing.TB, what string, r *Response, version int64) {
	t.Helper()
	if got, want := r.Header.Get("ETag"), httpapi.ETag(version); got != want {
		t.Fatalf("%s: got ETag %q, want %q (status %d, body %s)", what, got, want, r.Status, r.Body)
	}
}
