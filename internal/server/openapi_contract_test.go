package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/openapi"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// The contract test: a real server (server.New over a real SQLite store),
// and for every operation of every OpenAPI document a sequence of real
// requests, each validated as a request and its answer validated as a
// response against the document with kin-openapi's openapi3filter. A
// request the document says is invalid (a missing credential, a missing
// required field) is sent anyway, and the validator must reject it: that
// shows the document states the rule, and its answer must still be one
// the document lists. The test fails when an operation of a document has
// no step, or no success or no error answer among its steps.

func init() {
	// /docs is HTML; the validator needs a decoder to read it as a string.
	openapi3filter.RegisterBodyDecoder("text/html", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

// step is one request of a contract scenario.
type step struct {
	name   string
	method string
	path   string // "{name}" is replaced from the scenario's variables
	header map[string]string
	body   string
	noAuth bool // send no credential (the dialect's auth headers are added otherwise)
	// broken sends the request to a second server whose database is
	// closed: every store call fails, so the answer is the dialect's 500.
	broken bool
	want   int
	// invalid: the document must reject this request (it is sent anyway).
	invalid bool
	// anyRequest: the request's validity is not checked (derived steps
	// that replace a valid body with padding).
	anyRequest bool
	// auth, when set, replaces the dialect's credential.
	auth func(h http.Header)
	// save reads values (ids, tokens) from the answer for later steps.
	save func(t *testing.T, body map[string]any, vars map[string]string)
}

// contract runs scenarios against one document.
type contract struct {
	t      *testing.T
	url    string
	broken string // the URL of the server over a closed store
	doc    *openapi3.T
	router routers.Router
	name   string              // the document's
	auth   func(h http.Header) // the dialect's credential
	// The dialect's other credentials, for derived steps: a wrong one
	// (401), one over its rate limit (429), one of the broken server (500).
	wrongAuth, limitedAuth, brokenAuth func(h http.Header)
	vars                               map[string]string
	// ok is, per operation, a step that succeeded with the dialect's own
	// credential: derive varies it into the generic error answers.
	ok map[string]step
	// seen counts, per operation ("GET /v1/users/"), the statuses
	// answered.
	seen map[string]map[int]int
}

var varRef = regexp.MustCompile(`\{[a-zA-Z0-9_]+\}`)

func (c *contract) expand(s string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := c.vars[m[1:len(m)-1]]
		if !ok {
			c.t.Fatalf("no variable %s", m)
		}
		return v
	})
}

func (c *contract) request(ctx context.Context, s step) *http.Request {
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(c.expand(s.body))
	}
	base := c.url
	if s.broken {
		base = c.broken
	}
	r, err := http.NewRequestWithContext(ctx, s.method, base+c.expand(s.path), body)
	if err != nil {
		c.t.Fatalf("%s: new request: %v", s.name, err)
	}
	if s.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	switch {
	case s.auth != nil:
		s.auth(r.Header)
	case !s.noAuth && c.auth != nil:
		c.auth(r.Header)
	}
	for k, v := range s.header {
		r.Header.Set(k, c.expand(v))
	}
	return r
}

// authenticate is the validator's check of a security requirement: the
// scheme's header (or bearer Authorization) is present. Whether the
// credential is right is the server's business; the document says what
// must be sent.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s, h := in.SecurityScheme, in.RequestValidationInput.Request.Header
	switch {
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("header %s missing", s.Name)
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if _, err := in.RequestValidationInput.Request.Cookie(s.Name); err != nil {
			return fmt.Errorf("cookie %s missing", s.Name)
		}
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if a := h.Get("Authorization"); len(a) < 7 || !strings.EqualFold(a[:7], "bearer ") {
			return errors.New("bearer Authorization missing")
		}
	default:
		return fmt.Errorf("unknown security scheme %s/%s", s.Type, s.In)
	}
	return nil
}

func (c *contract) run(steps []step) {
	for _, s := range steps {
		c.t.Run(s.name, func(t *testing.T) { c.one(t, s) })
	}
}

func (c *contract) one(t *testing.T, s step) {
	ctx := t.Context()
	vr := c.request(ctx, s)
	route, params, err := c.router.FindRoute(vr)
	if err != nil {
		t.Fatalf("%s %s: no operation in the document: %v", s.method, vr.URL.Path, err)
	}
	key := route.Method + " " + route.Path
	opts := &openapi3filter.Options{AuthenticationFunc: authenticate, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case s.anyRequest:
	case s.invalid && reqErr == nil:
		t.Errorf("the document accepts this request; the step says it must not")
	case !s.invalid && reqErr != nil:
		t.Errorf("request does not match the document: %v", reqErr)
	}

	resp, err := http.DefaultClient.Do(c.request(ctx, s))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != s.want {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, s.want, body)
	}
	if c.seen[key] == nil {
		c.seen[key] = map[int]int{}
	}
	c.seen[key][resp.StatusCode]++
	public := route.Operation.Security != nil && len(*route.Operation.Security) == 0
	if resp.StatusCode < 400 && !s.broken && (public || !s.noAuth && s.auth == nil && !hasAuthHeader(s.header)) {
		if _, have := c.ok[key]; !have {
			c.ok[key] = s
		}
	}
	// The request as sent, for the response validator (it reads the
	// operation from Route and the body's media type from the answer).
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("response %d does not match the document: %v\nbody: %s", resp.StatusCode, err, clip(body))
	}
	if s.save != nil {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("save: body is not a JSON object: %v", err)
		}
		s.save(t, m, c.vars)
	}
}

// hasAuthHeader reports whether h sets a credential of some dialect.
func hasAuthHeader(h map[string]string) bool {
	for k := range h {
		switch strings.ToLower(k) {
		case "authorization", "cookie", "x-access-client-id", "x-access-secret", "tenant", "x-api-key", "partnerid", "clientid", "clientsecret":
			return true
		}
	}
	return false
}

// derive sends, for every operation, the answers every route of a dialect
// gives whatever the operation is, when the document lists them and no
// step reached them: it repeats the operation's successful step with a
// wrong credential (401), one over its budget (429), against the broken
// server (500), with an Accept that admits no JSON (406), a text/plain
// body (415) and a body over every limit (413).
func (c *contract) derive() {
	pad := `{"pad":"` + strings.Repeat("x", 1<<20+1) + `"}`
	var keys []string
	for k := range c.ok {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		base := c.ok[key]
		method, path, _ := strings.Cut(key, " ")
		op := c.doc.Paths.Find(path).GetOperation(method)
		for _, status := range []int{401, 406, 413, 415, 429, 500} {
			if op.Responses.Status(status) == nil || c.seen[key][status] > 0 {
				continue
			}
			s := base
			s.name = fmt.Sprintf("derived %s %d", key, status)
			s.want, s.save, s.invalid, s.anyRequest = status, nil, false, false
			s.header = map[string]string{}
			for k, v := range base.header {
				// Not the step's Idempotency-Key: the same key and body
				// would replay its recorded answer.
				if !strings.EqualFold(k, "Idempotency-Key") {
					s.header[k] = v
				}
			}
			switch status {
			case 401:
				s.auth = c.wrongAuth
			case 429:
				s.auth = c.limitedAuth
			case 500:
				s.auth, s.broken = c.brokenAuth, true
			case 406:
				s.header["Accept"] = "application/xml"
			case 413:
				s.body, s.anyRequest = pad, true
			case 415:
				s.header["Content-Type"], s.invalid = "text/plain", true
			}
			if status == 401 || status == 429 || status == 500 {
				if s.noAuth || s.auth == nil {
					// A public operation (its credentials are in the
					// body), or a dialect with no such credential: the
					// scenario has explicit steps.
					continue
				}
			}
			c.t.Run(s.name, func(t *testing.T) { c.one(t, s) })
		}
	}
}

// probeMethods sends, for every documented path, each method the document
// does not list there, and requires the 405 every dialect documents (in
// its description) with an Allow header naming exactly the documented
// methods (and HEAD where GET is). A method a dialect serves but the
// document lacks fails here.
func (c *contract) probeMethods() {
	paths := map[string]step{} // path template -> a successful step on it
	for key, s := range c.ok {
		_, path, _ := strings.Cut(key, " ")
		if _, ok := paths[path]; !ok {
			paths[path] = s
		}
	}
	var keys []string
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, path := range keys {
		item := c.doc.Paths.Find(path)
		var documented []string
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
			if item.GetOperation(m) != nil || m == "HEAD" && item.Get != nil {
				documented = append(documented, m)
			}
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(documented, m) {
				continue
			}
			base := paths[path]
			c.t.Run("method "+m+" "+path, func(t *testing.T) {
				r, err := http.NewRequestWithContext(t.Context(), m, c.url+c.expand(base.path), nil)
				if err != nil {
					t.Fatal(err)
				}
				if c.auth != nil {
					c.auth(r.Header)
				}
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNotFound && catchAll404[c.name+" "+path] {
					return
				}
				if resp.StatusCode != http.StatusMethodNotAllowed {
					t.Fatalf("%s %s: status %d, want 405 (the document has no such operation)", m, path, resp.StatusCode)
				}
				var allow []string
				for _, a := range strings.Split(resp.Header.Get("Allow"), ",") {
					if a = strings.TrimSpace(a); a != "" && a != "OPTIONS" {
						allow = append(allow, a)
					}
				}
				if !slices.Contains(allow, "HEAD") && slices.Contains(allow, "GET") {
					allow = append(allow, "HEAD")
				}
				slices.Sort(allow)
				want := slices.Clone(documented)
				slices.Sort(want)
				if !slices.Equal(allow, want) {
					t.Errorf("%s %s: Allow %q, the document has %v", m, path, resp.Header.Get("Allow"), want)
				}
			})
		}
	}
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// checkCoverage fails for every operation of the document without a
// success and an error answer among the steps, and logs the count.
func (c *contract) checkCoverage(name string) {
	t := c.t
	var ops []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(ops)
	answers := 0
	for _, op := range ops {
		st := c.seen[op]
		ok, bad := false, false
		for code, n := range st {
			answers += n
			ok = ok || code < 400
			bad = bad || code >= 400
		}
		switch {
		case len(st) == 0:
			t.Errorf("%s: operation %s was not exercised", name, op)
		case !ok && !successless[name+" "+op]:
			t.Errorf("%s: operation %s: no success answer exercised (got %v)", name, op, st)
		case !bad && !errorless[name+" "+op]:
			t.Errorf("%s: operation %s: no error answer exercised (got %v)", name, op, st)
		}
	}
	// Every documented status of every operation must be reached, but
	// for the few in unreachable.
	documented, reached := 0, 0
	var missed []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				documented++
				var n int
				fmt.Sscan(code, &n)
				if c.seen[method+" "+path][n] > 0 {
					reached++
				} else {
					missed = append(missed, method+" "+path+" "+code)
				}
			}
		}
	}
	sort.Strings(missed)
	for _, m := range missed {
		if !unreachable[name+" "+m] {
			t.Errorf("%s: documented answer %s was not reached by any step", name, m)
		}
	}
	t.Logf("%s: %d operations, %d answers validated; %d of %d documented statuses reached", name, len(ops), answers, reached, documented)
}

// errorless are the operations with no error answer to provoke: they take
// no input and need no credential.
var errorless = map[string]bool{
	"admin GET /healthz":                      true,
	"admin GET /metrics":                      true,
	"admin GET /openapi/":                     true,
	"admin GET /docs":                         true,
	"scim GET /scim/v2/ServiceProviderConfig": true,
	"scim GET /scim/v2/ResourceTypes":         true,
	"scim GET /scim/v2/Schemas":               true,
}

// unreachable are documented answers no sequential step can provoke:
// these routes' only 409s are an update that lost eight retries in a row
// to concurrent writers, and (state) an Idempotency-Key whose first
// request is still running.
var unreachable = map[string]bool{
	"entrust PUT /api/web/v1/users/{id}/state 409":  true,
	"entrust PUT /api/web/v1/users/{id}/unlock 409": true,
}

// catchAll404 are the paths where another method falls to the server's
// catch-all 404 instead of a 405 (the admin document says so).
var catchAll404 = map[string]bool{
	"admin /healthz": true,
	"admin /readyz":  true,
	"admin /metrics": true,
}

// successless are the operations that only ever fail: /Me is answered
// 501 (RFC 7644 §3.11) on every method.
var successless = map[string]bool{
	"scim GET /scim/v2/Me": true,
}

// TestOpenAPIContract runs every document's scenario.
func TestOpenAPIContract(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	svc := directory.NewService(st, directory.Options{})
	ready := true
	srv := httptest.NewServer(server.New(svc, server.Options{Ready: func(context.Context) error {
		if !ready {
			return errors.New("database down (test)")
		}
		return nil
	}}))
	t.Cleanup(srv.Close)
	ctx := t.Context()
	policy := directory.UniquePolicy{Email: true, Phone: true}
	if _, err := svc.CreateTenant(ctx, "acme", policy); err != nil {
		t.Fatal(err)
	}
	cred, secret, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// A credential over its budget: every dialect answers it 429. The
	// bucket holds 10 requests (the burst) and refills one a minute.
	limit := 1
	lim, limSecret, err := svc.CreateCredentialWith(ctx, "acme", directory.CredentialOptions{RateLimit: &limit})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := svc.Authenticate(ctx, lim.ClientID, limSecret); err != nil {
			t.Fatalf("spend the budget: %v", err)
		}
	}
	if _, err := svc.Authenticate(ctx, lim.ClientID, limSecret); !errors.Is(err, directory.ErrRateLimited) {
		t.Fatalf("11th request: got %v, want ErrRateLimited", err)
	}
	broken, bClient, bSecret := brokenServer(t)
	// The documents under test are the ones the server serves, read
	// through its index, not the package's copy.
	docs := servedDocuments(t, srv.URL)
	if len(docs) != len(openapi.Names) {
		t.Fatalf("the index lists %d documents, want %d", len(docs), len(openapi.Names))
	}
	total := 0
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			router, err := legacyrouter.NewRouter(d.doc)
			if err != nil {
				t.Fatalf("router: %v", err)
			}
			c := &contract{t: t, name: d.name, url: srv.URL, broken: broken, doc: d.doc, router: router, seen: map[string]map[int]int{}, ok: map[string]step{},
				vars: map[string]string{"tenant": "acme", "client": cred.ClientID, "secret": secret,
					"limclient": lim.ClientID, "limsecret": limSecret, "bclient": bClient, "bsecret": bSecret}}
			sc := scenarios[d.name]
			if sc == nil {
				t.Fatalf("no scenario for document %s", d.name)
			}
			sc(c, func(down bool) { ready = !down })
			c.derive()
			c.probeMethods()
			c.checkCoverage(d.name)
			total += len(c.seen)
		})
	}
	t.Logf("%d operations exercised across %d documents", total, len(docs))
}

type servedDoc struct {
	name string
	doc  *openapi3.T
}

// servedDocuments reads GET /openapi/ and loads every document it lists
// from its URL, as a client (a code generator) would.
func servedDocuments(t *testing.T, base string) []servedDoc {
	t.Helper()
	get := func(path string) []byte {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}
	var index openapi.Index
	if err := json.Unmarshal(get("/openapi/"), &index); err != nil {
		t.Fatalf("index: %v", err)
	}
	var out []servedDoc
	for _, e := range index.Documents {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(get(e.URL))
		if err != nil {
			t.Fatalf("load %s: %v", e.URL, err)
		}
		if err := doc.Validate(t.Context()); err != nil {
			t.Fatalf("validate %s: %v", e.URL, err)
		}
		out = append(out, servedDoc{name: e.Name, doc: doc})
	}
	return out
}

// brokenServer starts a server over a store that is then closed, with
// tenant "acme" and a credential created before: requests reach the
// dialects, and every store call fails.
func brokenServer(t *testing.T) (url, clientID, secret string) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, testdb.URL(t, "sqlite"), store.Options{Keyring: testdb.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := directory.NewService(st, directory.Options{})
	if _, err := svc.CreateTenant(ctx, "acme", directory.UniquePolicy{}); err != nil {
		t.Fatal(err)
	}
	cred, secret, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	return srv.URL, cred.ClientID, secret
}

// scenarios hold each document's steps; setDown makes /readyz fail.
var scenarios = map[string]func(c *contract, setDown func(bool)){
	"admin":   adminScenario,
	"truv":    truvScenario,
	"entrust": entrustScenario,
	"cl2c":    cl2cScenario,
	"ownli":   ownliScenario,
	"scim":    scimScenario,
}

func adminScenario(c *contract, setDown func(bool)) {
	c.run([]step{
		{name: "healthz", method: "GET", path: "/healthz", want: 200},
		{name: "readyz", method: "GET", path: "/readyz", want: 200},
		{name: "metrics", method: "GET", path: "/metrics", want: 200},
		{name: "index", method: "GET", path: "/openapi/", want: 200},
		{name: "document", method: "GET", path: "/openapi/scim.json", want: 200},
		{name: "document unknown", method: "GET", path: "/openapi/nope.json", want: 404},
		{name: "document without .json", method: "GET", path: "/openapi/truv", want: 404},
		{name: "docs", method: "GET", path: "/docs", want: 200},
	})
	setDown(true)
	c.run([]step{{name: "readyz down", method: "GET", path: "/readyz", want: 503}})
	setDown(false)
}

func truvScenario(c *contract, _ func(bool)) {
	pair := func(client, secret string) func(http.Header) {
		return func(h http.Header) {
			h.Set("X-Access-Client-Id", c.vars[client])
			h.Set("X-Access-Secret", c.vars[secret])
		}
	}
	c.auth, c.limitedAuth, c.brokenAuth = pair("client", "secret"), pair("limclient", "limsecret"), pair("bclient", "bsecret")
	c.wrongAuth = func(h http.Header) {
		h.Set("X-Access-Client-Id", c.vars["client"])
		h.Set("X-Access-Secret", "rsk_wrong")
	}
	saveID := func(key string) func(*testing.T, map[string]any, map[string]string) {
		return func(t *testing.T, m map[string]any, v map[string]string) { v[key], _ = m["id"].(string) }
	}
	c.run([]step{
		{name: "create", method: "POST", path: "/v1/users/", want: 201, save: saveID("user"),
			body: `{"external_user_id":"12345","first_name":"John","last_name":"Doe","email":"john.doe@example.com","phone":"+14155554193","ssn":"222233333"}`},
		{name: "create number as text", method: "POST", path: "/v1/users/", want: 201, save: saveID("user2"),
			body: `{"external_user_id":67890,"first_name":"Jane","last_name":"Roe"}`},
		{name: "create missing fields", method: "POST", path: "/v1/users/", body: `{"email":"x@example.com"}`, want: 400, invalid: true},
		{name: "create wrong type", method: "POST", path: "/v1/users/", body: `{"external_user_id":true,"first_name":"a","last_name":"b"}`, want: 400, invalid: true},
		{name: "create bad email", method: "POST", path: "/v1/users/", body: `{"external_user_id":"1","first_name":"a","last_name":"b","email":"nope"}`, want: 400},
		{name: "create malformed", method: "POST", path: "/v1/users/", body: `{"external_user_id":`, want: 400, invalid: true},
		{name: "create duplicate email", method: "POST", path: "/v1/users/", want: 409,
			body: `{"external_user_id":"9","first_name":"J","last_name":"D","email":"john.doe@example.com"}`},
		{name: "create text/plain", method: "POST", path: "/v1/users/", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, want: 415, invalid: true},
		{name: "create too large", method: "POST", path: "/v1/users/", want: 413,
			body: `{"external_user_id":"1","first_name":"a","last_name":"b","pad":"` + strings.Repeat("x", 70<<10) + `"}`},
		{name: "create no credential", method: "POST", path: "/v1/users/", body: `{}`, noAuth: true, want: 401, invalid: true},
		{name: "create wrong secret", method: "POST", path: "/v1/users/", body: `{"external_user_id":"1","first_name":"a","last_name":"b"}`, header: map[string]string{"X-Access-Secret": "rsk_wrong"}, want: 401},
		{name: "create not acceptable", method: "POST", path: "/v1/users/", body: `{"external_user_id":"1","first_name":"a","last_name":"b"}`, header: map[string]string{"Accept": "application/xml"}, want: 406},
		{name: "create idempotent", method: "POST", path: "/v1/users/", header: map[string]string{"Idempotency-Key": "k1"}, want: 201,
			body: `{"external_user_id":"k1","first_name":"K","last_name":"One"}`},
		{name: "create idempotent other body", method: "POST", path: "/v1/users/", header: map[string]string{"Idempotency-Key": "k1"}, want: 422,
			body: `{"external_user_id":"k2","first_name":"K","last_name":"Two"}`},
		{name: "list", method: "GET", path: "/v1/users/?page_size=2", want: 200},
		{name: "list filtered", method: "GET", path: "/v1/users/?external_user_id=12345&created_at__gte=2020-01-01T00:00:00Z", want: 200},
		{name: "list bad date", method: "GET", path: "/v1/users/?created_at__gte=yesterday", want: 400},
		{name: "list page past the end", method: "GET", path: "/v1/users/?page=99", want: 404},
		{name: "list wrong credential", method: "GET", path: "/v1/users/", header: map[string]string{"X-Access-Client-Id": "00000000000000000000000000000000"}, want: 401},
		{name: "get", method: "GET", path: "/v1/users/{user}/", want: 200},
		{name: "get not modified", method: "GET", path: "/v1/users/{user}/", header: map[string]string{"If-None-Match": "*"}, want: 304},
		{name: "get unknown", method: "GET", path: "/v1/users/0190a1b2c3d47e5f8a9b0c1d2e3f4a5b/", want: 404},
		{name: "get not acceptable", method: "GET", path: "/v1/users/{user}/", header: map[string]string{"Accept": "text/html"}, want: 406},
		{name: "update", method: "PATCH", path: "/v1/users/{user}/", body: `{"email":"jane@example.com","phone":null}`, want: 200},
		{name: "update clear required", method: "PATCH", path: "/v1/users/{user}/", body: `{"first_name":""}`, want: 400},
		{name: "update wrong type", method: "PATCH", path: "/v1/users/{user}/", body: `{"first_name":[]}`, want: 400, invalid: true},
		{name: "update stale If-Match", method: "PATCH", path: "/v1/users/{user}/", body: `{}`, header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "update unknown", method: "PATCH", path: "/v1/users/0190a1b2c3d47e5f8a9b0c1d2e3f4a5b/", body: `{}`, want: 404},
		{name: "update taken email", method: "PATCH", path: "/v1/users/{user2}/", body: `{"email":"jane@example.com"}`, want: 409},
		{name: "update idempotent", method: "PATCH", path: "/v1/users/{user2}/", header: map[string]string{"Idempotency-Key": "p1"}, body: `{"phone":"+14155550000"}`, want: 200},
		{name: "update idempotent other body", method: "PATCH", path: "/v1/users/{user2}/", header: map[string]string{"Idempotency-Key": "p1"}, body: `{"phone":"+14155550001"}`, want: 422},
		{name: "token", method: "POST", path: "/v1/users/{user}/tokens/", body: `{"product_type":"income","tracking_info":"1338-0111-A"}`, want: 200},
		{name: "token bad product", method: "POST", path: "/v1/users/{user}/tokens/", body: `{"product_type":"payroll"}`, want: 400, invalid: true},
		{name: "token unknown user", method: "POST", path: "/v1/users/0190a1b2c3d47e5f8a9b0c1d2e3f4a5b/tokens/", body: `{"product_type":"income"}`, want: 404},
		{name: "delete stale If-Match", method: "DELETE", path: "/v1/users/{user}/", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete", method: "DELETE", path: "/v1/users/{user}/", want: 204},
		{name: "delete again", method: "DELETE", path: "/v1/users/{user}/", want: 404},
		{name: "rate limited", method: "GET", path: "/v1/users/", want: 429,
			header: map[string]string{"X-Access-Client-Id": "{limclient}", "X-Access-Secret": "{limsecret}"}},
		{name: "server fault", method: "GET", path: "/v1/users/", broken: true, want: 500,
			header: map[string]string{"X-Access-Client-Id": "{bclient}", "X-Access-Secret": "{bsecret}"}},
	})
}
