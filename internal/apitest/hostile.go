package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

// This file holds the invariant checks of the hostile-input tests and fuzz
// targets (issue 9): whatever a client sends, the answer is a success or a
// 4xx in the dialect's own error format, never a 5xx or a panic, and never
// a partial row: after each request either it succeeded and every new user
// is complete and reads back through every dialect, or nothing new exists.
// The route paths and auth headers here are the dialects' wire contracts,
// written out so that apitest need not import the dialect packages (their
// internal tests import apitest).

// Dialects names the five wire dialects.
var Dialects = []string{"truv", "entrust", "cl2c", "ownli", "scim"}

// Speaker calls every dialect of a server that mounts them all (see
// server.Mount) with one credential.
type Speaker struct {
	E     *Env
	C     Creds
	token string // Entrust admin-API token
}

// NewSpeaker authenticates c on Entrust (the one dialect that needs a token
// first) and returns a Speaker for it.
func NewSpeaker(e *Env, c Creds) *Speaker {
	e.T.Helper()
	r := e.Do(Request{Method: "POST", Path: "/api/web/v1/adminapi/authenticate",
		Header: map[string]string{"Content-Type": "application/json"},
		Body:   fmt.Sprintf(`{"applicationId":%q,"sharedSecret":%q}`, c.ClientID, c.Secret)})
	if r.Status != http.StatusOK {
		e.T.Fatalf("entrust authenticate: %d %s", r.Status, r.Body)
	}
	var out struct {
		AuthToken string `json:"authToken"`
	}
	r.JSON(e.T, &out)
	return &Speaker{E: e, C: c, token: out.AuthToken}
}

// With returns a copy of s that reports to t (for a fuzz target's inner t).
func (s *Speaker) With(t testing.TB) *Speaker {
	c := *s
	c.E = s.E.With(t)
	return &c
}

// EntrustToken is the Entrust token NewSpeaker obtained.
func (s *Speaker) EntrustToken() string { return s.token }

// Headers returns the authentication headers of dialect, plus a JSON
// content type in that dialect's spelling.
func (s *Speaker) Headers(dialect string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	switch dialect {
	case "truv":
		h["X-Access-Client-Id"], h["X-Access-Secret"] = s.C.ClientID, s.C.Secret
	case "entrust":
		h["Authorization"] = "Bearer " + s.token
	case "cl2c":
		h["tenant"], h["X-API-Key"] = s.C.Tenant.Name, s.C.Secret
	case "ownli":
		h["partnerId"], h["clientId"], h["clientSecret"] = s.C.Tenant.Name, s.C.ClientID, s.C.Secret
	case "scim":
		h["Authorization"] = "Bearer " + s.C.Secret
		h["Content-Type"] = "application/scim+json"
	default:
		s.E.T.Fatalf("unknown dialect %q", dialect)
	}
	return h
}

// Do sends one request in dialect with its auth headers; extra headers
// are added (and replace an auth header of the same name).
func (s *Speaker) Do(dialect, method, path string, body []byte, extra map[string]string) *Response {
	s.E.T.Helper()
	h := s.Headers(dialect)
	for k, v := range extra {
		h[k] = v
	}
	return s.E.Do(Request{Method: method, Path: path, Header: h, RawBody: body})
}

// UserPath is the URL path of user id in dialect (Truv spells ids as 32
// hex digits, the others as a dashed UUID).
func UserPath(dialect, id string) string {
	switch dialect {
	case "truv":
		return "/v1/users/" + strings.ReplaceAll(id, "-", "") + "/"
	case "entrust":
		return "/api/web/v3/users/" + id
	case "cl2c":
		return "/v1/cl2c/users/" + id
	case "ownli":
		return "/api/users/" + id
	case "scim":
		return "/scim/v2/Users/" + id
	}
	panic("unknown dialect " + dialect)
}

// ReadBack reads user id through every dialect and fails the test unless
// each answers 200 with a JSON object: a user a write left half-made (a
// missing alias row, an undecryptable SSN, extras that do not parse)
// shows up here as a 5xx or a 404 in some dialect.
func (s *Speaker) ReadBack(id string) {
	t := s.E.T
	t.Helper()
	for _, d := range Dialects {
		r := s.Do(d, "GET", UserPath(d, id), nil, nil)
		var m map[string]any
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &m) != nil {
			t.Fatalf("user %s read through %s: %d %.300s", id, d, r.Status, r.Body)
		}
	}
}

// UserIDs returns the ids of every user of the Speaker's tenant, read
// through the Service (so through the store, not a dialect). It is meant
// for the small tenants of fuzz targets: at most MaxPageSize users.
func (s *Speaker) UserIDs() map[string]bool {
	t := s.E.T
	t.Helper()
	page, err := s.E.Svc.ListUsers(t.Context(), s.C.Principal(), directory.UserQuery{Limit: directory.MaxPageSize})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	if page.HasMore {
		t.Fatalf("UserIDs: more than %d users; delete fuzz-created users as you go", directory.MaxPageSize)
	}
	ids := make(map[string]bool, len(page.Users))
	for _, u := range page.Users {
		ids[u.ID] = true
	}
	return ids
}

// CheckAnswer fails the test when r is a 5xx, or a 4xx that is not in
// dialect's error format.
func CheckAnswer(t testing.TB, dialect string, r *Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("%s: status %d: %.500s", dialect, r.Status, r.Body)
	}
	if r.Status >= 400 {
		if err := ErrorFormat(dialect, r); err != nil {
			t.Fatalf("%s: %d is not in the dialect's error format: %v: %.500s", dialect, r.Status, err, r.Body)
		}
	}
}

// CheckWrite is CheckAnswer plus the no-partial-row invariant for a
// request that may create users: before is UserIDs taken just before it.
// A 2xx may have created users, each of which must read back through
// every dialect; any other answer must have created none. Users created
// here are then deleted, so the tenant stays small and a fuzzer's next
// input does not collide with this one's e-mail. It returns how many users
// the request created.
func (s *Speaker) CheckWrite(dialect string, before map[string]bool, r *Response) int {
	t := s.E.T
	t.Helper()
	CheckAnswer(t, dialect, r)
	var created []string
	for id := range s.UserIDs() {
		if !before[id] {
			created = append(created, id)
		}
	}
	slices.Sort(created)
	if len(created) > 0 && (r.Status < 200 || r.Status > 299) {
		t.Fatalf("%s: a %d created users %v: %.300s", dialect, r.Status, created, r.Body)
	}
	for _, id := range created {
		s.ReadBack(id)
		if err := s.E.Svc.DeleteUser(t.Context(), s.C.Principal(), id, 0); err != nil {
			t.Fatalf("delete fuzz-created user %s: %v", id, err)
		}
	}
	return len(created)
}

// ErrorFormat reports whether r's body is an error in dialect's format:
//
//	truv:    {"error":{"code":"…","message":"…"}}, or DRF's {"detail":"…"}
//	entrust: ErrorInfo {"errorCode":"…","errorMessage":"…"}
//	cl2c:    RFC 7807 problem (400 with "errors" and "traceId") or an
//	         ErrorResult ({"messages":[…],"statusCode":N,"errorId":"…"})
//	ownli:   {"error_code":"ERROR_…","error_message":"…"}
//	scim:    RFC 7644 §3.12 {"schemas":[…Error],"status":"N","detail":"…"}
func ErrorFormat(dialect string, r *Response) error {
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return fmt.Errorf("body is not a JSON object: %w", err)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	switch dialect {
	case "truv":
		if d, ok := m["detail"].(string); ok && d != "" && len(m) == 1 {
			return nil // DRF's own body, which Truv sends for 404, 405, 406, 415
		}
		e, _ := m["error"].(map[string]any)
		if code, _ := e["code"].(string); code == "" {
			return fmt.Errorf("no error.code")
		}
		if msg, _ := e["message"].(string); msg == "" {
			return fmt.Errorf("no error.message")
		}
	case "entrust":
		if str("errorCode") == "" || str("errorMessage") == "" {
			return fmt.Errorf("no errorCode/errorMessage")
		}
	case "cl2c":
		problem := r.Status == http.StatusBadRequest && m["errors"] != nil && str("traceId") != ""
		result := m["statusCode"] == float64(r.Status) && str("errorId") != "" && m["messages"] != nil
		if !problem && !result {
			return fmt.Errorf("neither a problem nor an ErrorResult")
		}
	case "ownli":
		if !strings.HasPrefix(str("error_code"), "ERROR_") || str("error_message") == "" {
			return fmt.Errorf("no error_code ERROR_…/error_message")
		}
	case "scim":
		schemas, _ := m["schemas"].([]any)
		if !slices.Contains(schemas, any("urn:ietf:params:scim:api:messages:2.0:Error")) {
			return fmt.Errorf("schemas lacks the SCIM Error URN")
		}
		if str("status") != fmt.Sprint(r.Status) {
			return fmt.Errorf("status %q, want %q", str("status"), fmt.Sprint(r.Status))
		}
	default:
		return fmt.Errorf("unknown dialect %q", dialect)
	}
	return nil
}

// LeakWords are what no response body may contain: driver and database
// names, panic and stack-trace text, source paths. A 5xx body is a fixed
// phrase plus the request id.
var LeakWords = []string{"sql", "sqlite", "pq:", "pgx", "postgres", "panic", "goroutine", "runtime.", ".go:", "/internal/", "/work/", "database is closed", "SQLSTATE"}

// CheckNoLeak fails the test when r's body holds one of LeakWords
// (compared case-insensitively), other than those in sent: an error may
// quote what the client sent, and a user's data may hold any word.
func CheckNoLeak(t testing.TB, what string, r *Response, sent ...string) {
	t.Helper()
	low := strings.ToLower(string(r.Body))
	in := strings.ToLower(strings.Join(sent, "\x00"))
	for _, w := range LeakWords {
		if lw := strings.ToLower(w); strings.Contains(low, lw) && !strings.Contains(in, lw) {
			t.Errorf("%s: %d body leaks %q: %.500s", what, r.Status, w, r.Body)
		}
	}
}
