package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/testdb"
)

// Register mounts one or more dialects on mux.
type Register func(mux *http.ServeMux, svc *directory.Service)

// Env is a running server over a fresh database.
type Env struct {
	T      testing.TB
	Store  directory.Store
	Svc    *directory.Service
	Server *httptest.Server
	Clock  *Clock
	Logs   *Buffer
	// Creds is tenant "acme" (default uniqueness policy) and a credential.
	Creds Creds
}

// Creds is a tenant and one credential of it.
type Creds struct {
	Tenant   *directory.Tenant
	ClientID string
	Secret   string
}

// New starts a server on backend ("sqlite" or "postgres", see
// testdb.Backends) with the routes register mounts, creates tenant "acme"
// with a credential, and stops everything at cleanup.
func New(t testing.TB, backend string, register Register) *Env {
	t.Helper()
	st := testdb.Open(t, backend)
	clock := NewClock()
	svc := directory.NewService(st, directory.Options{Now: clock.Now})
	logs := &Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	register(mux, svc)
	srv := httptest.NewServer(httpapi.Middleware(mux, logger, httpapi.DefaultMaxBody))
	t.Cleanup(srv.Close)
	e := &Env{T: t, Store: st, Svc: svc, Server: srv, Clock: clock, Logs: logs}
	e.Creds = e.NewTenant("acme", directory.DefaultUniquePolicy)
	return e
}

// NewTenant creates a tenant with one credential.
func (e *Env) NewTenant(name string, policy directory.UniquePolicy) Creds {
	e.T.Helper()
	ctx := e.T.Context()
	tn, err := e.Svc.CreateTenant(ctx, name, policy)
	if err != nil {
		e.T.Fatalf("create tenant %q: %v", name, err)
	}
	c, sec, err := e.Svc.CreateCredential(ctx, name)
	if err != nil {
		e.T.Fatalf("create credential: %v", err)
	}
	return Creds{Tenant: tn, ClientID: c.ClientID, Secret: sec}
}

// With returns a copy of e that reports to t: a fuzz target's inner *testing.T
// must be used inside the target, not the outer *testing.F.
func (e *Env) With(t testing.TB) *Env {
	c := *e
	c.T = t
	return &c
}

// Principal returns the principal of creds, for calling the Service
// directly in a test.
func (c Creds) Principal() directory.Principal {
	return directory.Principal{TenantID: c.Tenant.ID, TenantName: c.Tenant.Name, ClientID: c.ClientID, Unique: c.Tenant.Unique}
}

// Request is one HTTP call. Header values are sent as given (several
// values for a name with http.Header semantics are not needed here).
type Request struct {
	Method string
	Path   string // with query string
	Header map[string]string
	Body   string // sent as is; empty means no body
	// RawBody, when set, is sent instead of Body (for invalid UTF-8 and
	// large bodies).
	RawBody []byte
}

// Response is what the server answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req and returns the response; transport errors fail the test.
func (e *Env) Do(req Request) *Response {
	e.T.Helper()
	var body io.Reader
	switch {
	case req.RawBody != nil:
		body = bytes.NewReader(req.RawBody)
	case req.Body != "":
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(e.T.Context(), req.Method, e.Server.URL+req.Path, body)
	if err != nil {
		e.T.Fatalf("new request: %v", err)
	}
	for k, v := range req.Header {
		hr.Header[k] = []string{v} // as given: exercise header-name case handling
	}
	resp, err := e.Server.Client().Do(hr)
	if err != nil {
		e.T.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatalf("read body: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response body is not JSON (%v): %s", err, r.Body)
	}
}

// Map decodes a JSON object body.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Clock is a deterministic clock: it starts at a fixed instant and each
// call to Now advances it by one millisecond, so timestamps are distinct,
// increasing and the same on every run.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Start is the first instant a Clock returns.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewClock returns a Clock at Start.
func NewClock() *Clock { return &Clock{t: Start} }

// Now returns the current instant and advances by 1 ms.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(time.Millisecond)
	return now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Buffer is a goroutine-safe bytes.Buffer for captured logs.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// ForEachBackend runs f as a subtest per store backend.
func ForEachBackend(t *testing.T, f func(t *testing.T, backend string)) {
	for _, b := range testdb.Backends {
		t.Run(b, func(t *testing.T) { f(t, b) })
	}
}
