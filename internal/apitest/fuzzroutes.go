package apitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/testdb"
)

// FuzzRoute is one route a route fuzz target may send to. Path may hold
// "{id}", replaced by the fixture user's id in the dialect's spelling.
type FuzzRoute struct {
	Method string
	Path   string
	// Seed is a body the vendor documents as valid (or empty), and Query a
	// typical query string, added to the seed corpus.
	Seed, Query string
}

// fixtureBody creates the fixture every route fuzz target updates and
// reads: a complete user, made through SCIM so it has the attributes all
// dialects show.
const fixtureBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fuzz.fixture",` +
	`"externalId":"fx-1","name":{"givenName":"Fix","familyName":"Ture"},"emails":[{"value":"fixture@example.com","primary":true}],` +
	`"phoneNumbers":[{"value":"+14155550100","type":"work"}],"active":true}`

// NewFuzzEnv is New for fuzz targets: the same server, with the throttling
// of failed authentications off. Fuzzed auth headers fail by the
// thousand, and past the throttle's bounds every input would wait out its
// 1 s failure delay or get the same 429, so the fuzzer would learn
// nothing; the throttle has its own tests, and its 429 is in each
// dialect's format like any other 4xx.
func NewFuzzEnv(t testing.TB, backend string, register Register) *Env {
	t.Helper()
	st := testdb.Open(t, backend)
	clock := NewClock()
	svc := directory.NewService(st, directory.Options{Now: clock.Now, Throttle: directory.ThrottleOptions{Off: true}})
	logs := &Buffer{}
	mux := http.NewServeMux()
	register(mux, svc)
	srv := httptest.NewServer(httpapi.Middleware(mux, slog.New(slog.NewJSONHandler(logs, nil)), httpapi.DefaultMaxBody))
	t.Cleanup(srv.Close)
	e := &Env{T: t, Store: st, Svc: svc, Server: srv, Clock: clock, Logs: logs}
	e.Creds = e.NewTenant("acme", directory.DefaultUniquePolicy)
	return e
}

// RunRoutes is the body of each dialect's FuzzRoutes target. The fuzzer
// chooses a route (route modulo len(routes)), a query string, one extra
// header (which may replace an auth header: the auth adapters are fuzzed
// too) and a body. On e, which must mount every dialect (server.Mount),
// each input must get a success or a 4xx in the dialect's error format,
// never a 5xx or a panic, and leave no partial row: see
// Speaker.CheckWrite. The fixture user the update routes aim at must
// survive every non-2xx answer and always read back through every dialect.
func RunRoutes(f *testing.F, e *Env, dialect string, routes []FuzzRoute) {
	f.Helper()
	s := NewSpeaker(e, e.Creds)
	fixture := createFixture(f, s)
	for i, rt := range routes {
		f.Add(uint8(i), rt.Query, "", "", []byte(rt.Seed))
		f.Add(uint8(i), rt.Query+"&x=%00' OR 1=1 --", "Idempotency-Key", "k-"+fmt.Sprint(i), []byte(rt.Seed))
		f.Add(uint8(i), "", "Content-Type", "text/plain", []byte(rt.Seed+"}"))
	}
	f.Add(uint8(0), strings.Repeat("a=1&", 200), "Authorization", "Bearer \x00", []byte(`{"a":`+strings.Repeat("[", 40)))
	f.Add(uint8(1), "count=-1&startIndex=99999999999999999999&limit=1e9", "X-Access-Secret", "'; DROP TABLE users; --", []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, route uint8, query, hname, hval string, body []byte) {
		s := s.With(t)
		rt := routes[int(route)%len(routes)]
		path := strings.ReplaceAll(rt.Path, "{id}", dialectID(dialect, fixture))
		if query != "" {
			path += "?" + escapeQuery(query)
		}
		var extra map[string]string
		if validHeaderName(hname) && validHeaderValue(hval) {
			extra = map[string]string{hname: hval}
		}
		before := s.UserIDs()
		was := snapshot(t, s, fixture)
		r := s.Do(dialect, rt.Method, path, body, extra)
		s.CheckWrite(dialect, before, r)
		if r.Status >= 400 {
			// Success bodies are user data, which may hold any word (a
			// partner code "N8MBPGXJ" holds "pgx"); error bodies must not
			// name internals beyond what the client sent.
			CheckNoLeak(t, dialect+" "+rt.Method+" "+rt.Path, r, path, hname, hval, string(body))
		}

		// The fixture: a refused request must not have touched it; a
		// write that succeeded must have left it whole.
		_, err := s.E.Svc.GetUser(t.Context(), s.C.Principal(), fixture)
		ok := r.Status >= 200 && r.Status < 300
		switch {
		case errors.Is(err, directory.ErrNotFound) && r.Status >= 200 && r.Status < 300:
			fixture = createFixture(t, s) // a bulk delete, say: allowed
		case err != nil:
			t.Fatalf("fixture after a %d from %s %s: %v", r.Status, rt.Method, rt.Path, err)
		case rt.Method != "GET" && ok:
			s.ReadBack(fixture)
		case !ok:
			if now := snapshot(t, s, fixture); now != was {
				t.Fatalf("a %d from %s %s changed the fixture:\nwas %s\nnow %s", r.Status, rt.Method, rt.Path, was, now)
			}
		}
	})
}

// snapshot is the stored form of user id, for comparing before and after.
func snapshot(t testing.TB, s *Speaker, id string) string {
	t.Helper()
	u, err := s.E.Svc.GetUser(t.Context(), s.C.Principal(), id)
	if err != nil {
		t.Fatalf("fixture %s: %v", id, err)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatalf("marshal fixture: %v", err)
	}
	return string(b)
}

// createFixture creates (or re-creates) the fixture user and returns its id.
func createFixture(t testing.TB, s *Speaker) string {
	t.Helper()
	s = s.With(t)
	r := s.Do("scim", "POST", "/scim/v2/Users", []byte(fixtureBody), nil)
	if r.Status == http.StatusConflict {
		// An update gave another user the fixture's userName: make a
		// fresh one under a new name.
		r = s.Do("scim", "POST", "/scim/v2/Users", []byte(strings.Replace(fixtureBody, "fuzz.fixture", "fuzz.fixture."+fmt.Sprint(len(s.UserIDs())), 1)), nil)
	}
	var out struct {
		ID string `json:"id"`
	}
	r.JSON(t, &out)
	if r.Status != http.StatusCreated || out.ID == "" {
		t.Fatalf("create fixture: %d %s", r.Status, r.Body)
	}
	return out.ID
}

func dialectID(dialect, id string) string {
	if dialect == "truv" {
		return strings.ReplaceAll(id, "-", "")
	}
	return id
}

// escapeQuery keeps what a query string may hold literally (including
// '%', so broken escapes reach the server) and percent-encodes the rest,
// so every fuzz input is a request the client can send.
func escapeQuery(q string) string {
	const keep = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%[]"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// validHeaderName reports whether n is an RFC 9110 token the client sends.
func validHeaderName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	// Framing headers would make the client refuse or mis-send the
	// request rather than test the server.
	switch http.CanonicalHeaderKey(n) {
	case "Content-Length", "Transfer-Encoding", "Host", "Connection", "Trailer", "Te", "Upgrade", "Expect":
		return false
	}
	return true
}

// validHeaderValue reports whether v is a value net/http's client sends:
// no CR, LF or NUL... (the client rejects control bytes other than tab).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return len(v) <= 4096
}
