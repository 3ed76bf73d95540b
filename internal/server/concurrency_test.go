package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// send is a goroutine-safe request: it reports failures as an error
// instead of failing the test from another goroutine.
func (c *client) send(dialect, method, path, body string, extra map[string]string) (int, string, error) {
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.env.Server.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	for k, v := range c.Headers(dialect) {
		req.Header[k] = []string{v}
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := c.env.Server.Client().Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// race runs fns together, released at once, and returns their errors.
func race(fns []func() error) []error {
	errs := make([]error, len(fns))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, fn := range fns {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn()
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// concurrencyUser creates the user the tests race on and returns its id.
func concurrencyUser(t *testing.T, c *client) string {
	t.Helper()
	status, m := c.do("ownli", "POST", "/api/users",
		`{"firstName":"Race","lastName":"Condition","email":"race@example.com","phone":"+14155550123","address":{"state":"CA"}}`)
	if status != http.StatusOK {
		t.Fatalf("create: %d %v", status, m)
	}
	return m["id"].(string)
}

// TestNoLostUpdate proves that a lost update is impossible without
// If-Match: in each round, 8 clients PATCH (Truv) or PUT (Ownli) one user
// at the same moment, each changing a different field and nothing else;
// every request must answer 200 and, after the round, the user must hold
// all 8 changes and a version exactly 8 higher. The core writes
// conditioned on the version it read and, when another write got in
// between, reads again and re-applies the request's change.
func TestNoLostUpdate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		c := newClient(t, env, env.Creds)
		id := concurrencyUser(t, c)
		hex := directory.HexID(id)
		p := env.Creds.Principal()

		// Each writer's field, through one dialect, and how to read it back.
		type writer struct {
			dialect, method, path, body, want string
			got                               func(u *directory.User) string
		}
		writers := func(round int) []writer {
			v := func(s string) string { return fmt.Sprintf("%s-%d", s, round) }
			truv := func(field string, get func(*directory.User) string) writer {
				return writer{"truv", "PATCH", "/v1/users/" + hex + "/", fmt.Sprintf(`{%q:%q}`, field, v(field)), v(field), get}
			}
			ownli := func(field string) writer {
				return writer{"ownli", "PUT", "/api/users/" + id, fmt.Sprintf(`{%q:%q}`, field, v(field)), v(field),
					func(u *directory.User) string { return u.Extras[field] }} // Ownli keeps custom fields under their wire names
			}
			return []writer{
				truv("first_name", func(u *directory.User) string { return u.FirstName }),
				truv("last_name", func(u *directory.User) string { return u.LastName }),
				truv("external_user_id", func(u *directory.User) string { return u.ExternalID }),
				ownli("customField1"),
				ownli("customField2"),
				ownli("customField3"),
				ownli("customField4"),
				ownli("customField5"),
			}
		}

		const rounds = 6
		for round := 1; round <= rounds; round++ {
			before, err := env.Svc.GetUser(t.Context(), p, id)
			if err != nil {
				t.Fatal(err)
			}
			ws := writers(round)
			fns := make([]func() error, len(ws))
			for i, w := range ws {
				fns[i] = func() error {
					status, body, err := c.send(w.dialect, w.method, w.path, w.body, nil)
					if err == nil && status != http.StatusOK {
						err = fmt.Errorf("%s %s %s: got %d %s, want 200", w.dialect, w.method, w.body, status, body)
					}
					return err
				}
			}
			for _, err := range race(fns) {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			after, err := env.Svc.GetUser(t.Context(), p, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				if got := w.got(after); got != w.want {
					t.Errorf("round %d: %s %s lost: got %q, want %q", round, w.dialect, w.body, got, w.want)
				}
			}
			if after.Version != before.Version+int64(len(ws)) {
				t.Errorf("round %d: version %d, want %d (one per write)", round, after.Version, before.Version+int64(len(ws)))
			}
		}
	})
}

// TestIfMatchRace: requests that carry the same If-Match, the user's
// current tag, sent at the same moment: exactly one 2xx, every other a 412
// in its dialect's body, and the version moves by one. Pairs within one
// dialect and across dialects, then eight at once.
func TestIfMatchRace(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		c := newClient(t, env, env.Creds)
		id := concurrencyUser(t, c)
		p := env.Creds.Principal()

		// update is one conditional update per dialect, and the mark of
		// that dialect's 412 body.
		update := map[string]struct{ method, path, body, mark string }{
			"truv":    {"PATCH", "/v1/users/" + directory.HexID(id) + "/", `{"first_name":"Truv"}`, `"code":"precondition_failed"`},
			"ownli":   {"PUT", "/api/users/" + id, `{"firstName":"Ownli"}`, `"error_code":"ERROR_PRECONDITION_FAILED"`},
			"cl2c":    {"PUT", "/v1/cl2c/user", `{"id":"` + id + `","firstName":"Cl2c"}`, `"statusCode":412`},
			"entrust": {"PUT", "/api/web/v3/users/" + id, `{"firstName":"Entrust"}`, `"errorCode":"precondition_failed"`},
		}
		rounds := [][]string{
			{"truv", "truv"}, {"ownli", "ownli"}, {"cl2c", "cl2c"}, {"entrust", "entrust"},
			{"truv", "ownli"}, {"cl2c", "entrust"}, {"ownli", "cl2c"}, {"entrust", "truv"},
			{"truv", "ownli", "cl2c", "entrust", "truv", "ownli", "cl2c", "entrust"},
		}
		for _, dialects := range rounds {
			before, err := env.Svc.GetUser(t.Context(), p, id)
			if err != nil {
				t.Fatal(err)
			}
			tag := map[string]string{"If-Match": httpapi.ETag(before.Version)}
			statuses := make([]int, len(dialects))
			fns := make([]func() error, len(dialects))
			for i, d := range dialects {
				u := update[d]
				fns[i] = func() error {
					status, body, err := c.send(d, u.method, u.path, u.body, tag)
					statuses[i] = status
					if err == nil && status == http.StatusPreconditionFailed && !strings.Contains(body, u.mark) {
						err = fmt.Errorf("%s 412 body %s: want %s", d, body, u.mark)
					}
					return err
				}
			}
			for _, err := range race(fns) {
				if err != nil {
					t.Fatalf("%v: %v", dialects, err)
				}
			}
			ok, failed := 0, 0
			for _, s := range statuses {
				switch {
				case s >= 200 && s < 300:
					ok++
				case s == http.StatusPreconditionFailed:
					failed++
				}
			}
			if ok != 1 || failed != len(dialects)-1 {
				t.Fatalf("%v with If-Match %s: statuses %v, want exactly one 2xx and the rest 412", dialects, tag["If-Match"], statuses)
			}
			after, err := env.Svc.GetUser(t.Context(), p, id)
			if err != nil {
				t.Fatal(err)
			}
			if after.Version != before.Version+1 {
				t.Fatalf("%v: version %d, want %d", dialects, after.Version, before.Version+1)
			}
		}
	})
}
