package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"
)

// authCall is how one dialect presents a client id and secret.
type authCall struct {
	dialect string
	build   func(base, clientID, sec string) *http.Request
	marker  string // in the dialect's 429 body
}

var authCalls = []authCall{
	{"truv", func(base, id, sec string) *http.Request {
		r, _ := http.NewRequest("GET", base+"/v1/users/", nil)
		r.Header.Set("X-Access-Client-Id", id)
		r.Header.Set("X-Access-Secret", sec)
		return r
	}, `"throttled"`},
	{"entrust", func(base, id, sec string) *http.Request {
		r, _ := http.NewRequest("POST", base+"/api/web/v1/adminapi/authenticate",
			strings.NewReader(`{"applicationId":"`+id+`","sharedSecret":"`+sec+`"}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}, `"too_many_requests"`},
	{"cl2c", func(base, id, sec string) *http.Request {
		r, _ := http.NewRequest("GET", base+"/v1/cl2c/users", nil)
		r.Header.Set("tenant", "acme")
		r.Header.Set("X-API-Key", sec)
		return r
	}, "Too many requests"},
	{"ownli", func(base, id, sec string) *http.Request {
		r, _ := http.NewRequest("GET", base+"/api/users", nil)
		r.Header.Set("partnerId", "acme")
		r.Header.Set("clientId", id)
		r.Header.Set("clientSecret", sec)
		return r
	}, `"ERROR_TOO_MANY_REQUESTS"`},
	{"scim", func(base, id, sec string) *http.Request {
		r, _ := http.NewRequest("GET", base+"/scim/v2/Users", nil)
		r.Header.Set("Authorization", "Bearer "+sec)
		return r
	}, `"429"`},
}

var errorID = regexp.MustCompile(`"errorId":"[^"]*"`)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func send(t *testing.T, r *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(r.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// The request id, and CL2C's errorId, differ per response by design;
	// nothing else may.
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		b = bytes.ReplaceAll(b, []byte(id), []byte("REQUEST-ID"))
	}
	b = errorID.ReplaceAll(b, []byte(`"errorId":"ERROR-ID"`))
	return answer{resp.StatusCode, resp.Header, b}
}

// TestAuthFailuresLookAlike: in every dialect an unknown client id and a
// wrong secret for a real one get byte-identical answers.
func TestAuthFailuresLookAlike(t *testing.T) {
	t.Parallel()
	svc := directory.NewService(testdb.SQLite(t), directory.Options{Throttle: directory.ThrottleOptions{Off: true}})
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	if _, err := svc.CreateTenant(t.Context(), "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.CreateCredential(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	unknown := secret.NewClientID()
	for _, d := range authCalls {
		t.Run(d.dialect, func(t *testing.T) {
			a := send(t, d.build(srv.URL, unknown, secret.NewSecret(unknown)))
			b := send(t, d.build(srv.URL, c.ClientID, secret.NewSecret(c.ClientID)))
			if a.status != http.StatusUnauthorized || b.status != a.status {
				t.Fatalf("statuses %d and %d, want 401 both", a.status, b.status)
			}
			if !bytes.Equal(a.body, b.body) {
				t.Fatalf("unknown client and wrong secret answered differently:\n%s\n%s", a.body, b.body)
			}
			for _, h := range []string{"Content-Type", "WWW-Authenticate"} {
				if a.header.Get(h) != b.header.Get(h) {
					t.Fatalf("%s differs: %q, %q", h, a.header.Get(h), b.header.Get(h))
				}
			}
		})
	}
}

// TestAuthFailureThrottleHTTP: after repeated failures for one client id
// from one address, every dialect answers 429 in its own format with a
// Retry-After, even to the right secret, while the same credential from
// another address (a trusted proxy's X-Forwarded-For) still gets in.
func TestAuthFailureThrottleHTTP(t *testing.T) {
	t.Parallel()
	svc := directory.NewService(testdb.SQLite(t), directory.Options{
		Throttle: directory.ThrottleOptions{PerAddress: 1000, PerClientAddress: 3, PerClient: 1000},
		// The test server's clients are on the loopback: a proxy.
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
	})
	via := func(r *http.Request, addr string) *http.Request {
		r.Header.Set("X-Forwarded-For", "6.6.6.6, "+addr) // the left entry is the client's own claim
		return r
	}
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	if _, err := svc.CreateTenant(t.Context(), "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	for _, d := range authCalls {
		t.Run(d.dialect, func(t *testing.T) {
			c, sec, err := svc.CreateCredential(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			wrong := secret.NewSecret(c.ClientID)
			for i := range 3 {
				if a := send(t, via(d.build(srv.URL, c.ClientID, wrong), "203.0.113.9")); a.status != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d %s, want 401", i+1, a.status, a.body)
				}
			}
			for _, s := range []string{wrong, sec} {
				a := send(t, via(d.build(srv.URL, c.ClientID, s), "203.0.113.9"))
				if a.status != http.StatusTooManyRequests || !bytes.Contains(a.body, []byte(d.marker)) {
					t.Fatalf("after 3 failures: %d %s, want 429 with %s", a.status, a.body, d.marker)
				}
				if n, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
					t.Fatalf("Retry-After %q, want 1..60 seconds", a.header.Get("Retry-After"))
				}
			}
			if a := send(t, via(d.build(srv.URL, c.ClientID, sec), "198.51.100.7")); a.status/100 != 2 {
				t.Fatalf("owner from its own address: %d %s, want 2xx", a.status, a.body)
			}
		})
	}
}

// TestRateLimitRetryAfter: a credential over its request budget gets a
// Retry-After in every dialect.
func TestRateLimitRetryAfter(t *testing.T) {
	t.Parallel()
	svc := directory.NewService(testdb.SQLite(t), directory.Options{RateLimit: 6}) // burst 10, then 1 per 10 s
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	if _, err := svc.CreateTenant(t.Context(), "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	for _, d := range authCalls {
		t.Run(d.dialect, func(t *testing.T) {
			c, sec, err := svc.CreateCredential(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			var last answer
			for range 11 {
				last = send(t, d.build(srv.URL, c.ClientID, sec))
			}
			if last.status != http.StatusTooManyRequests {
				t.Fatalf("11th request: %d %s, want 429", last.status, last.body)
			}
			if n, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || n < 1 || n > 10 {
				t.Fatalf("Retry-After %q, want 1..10 s (one request a 10 s)", last.header.Get("Retry-After"))
			}
		})
	}
}
