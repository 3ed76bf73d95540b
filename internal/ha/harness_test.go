package ha

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/roster-dev/roster/internal/proctest"
)

func TestMain(m *testing.M) { os.Exit(proctest.Main(m)) }

// request is one HTTP request in some dialect's wire format: a type of
// this package, so that the tests' tables can list requests as unkeyed
// literals.
type request proctest.Request

// response is what came back; Err is set when no answer arrived.
type response = proctest.Response

// do sends r to base with client c.
func do(ctx context.Context, c *http.Client, base string, r request) response {
	return proctest.Do(ctx, c, base, proctest.Request(r))
}

// unavailableShape checks that r is the 503 dialect d answers when the
// database is unavailable: Retry-After set, and the body in that
// dialect's own error format.
func unavailableShape(d string, r response) error {
	if r.Status != http.StatusServiceUnavailable {
		return fmt.Errorf("status %d, want 503", r.Status)
	}
	if r.Header.Get("Retry-After") == "" {
		return fmt.Errorf("503 without Retry-After")
	}
	m := r.JSONMap()
	if m == nil {
		return fmt.Errorf("503 body is not a JSON object: %q", r.Body)
	}
	ok := false
	switch d {
	case "truv":
		e, _ := m["error"].(map[string]any)
		ok = e != nil && e["code"] == "service_unavailable"
	case "cl2c":
		ok = m["statusCode"] == float64(503) && m["errorId"] != nil
	case "ownli":
		ok = m["error_code"] == "ERROR_SERVICE_UNAVAILABLE"
	case "scim":
		s, _ := m["schemas"].([]any)
		ok = m["status"] == "503" && len(s) == 1 && s[0] == "urn:ietf:params:scim:api:messages:2.0:Error"
	case "entrust":
		ok = m["errorCode"] == "service_unavailable"
	}
	if !ok {
		return fmt.Errorf("503 body not in %s's error format: %s", d, r.Body)
	}
	return nil
}
