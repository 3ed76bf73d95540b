package server_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/metrics"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// metricsEnv is a real server wired as roster serve wires it: the store
// reporting its commits, the operational collectors on the server's own
// registry.
type metricsEnv struct {
	url      string
	svc      *directory.Service
	webhooks *fakeDispatcher
}

// fakeDispatcher stands in for the webhook dispatcher (another package):
// only its WebhookStats signature matters here.
type fakeDispatcher struct{}

func (fakeDispatcher) stats(context.Context) (map[string]uint64, int64, error) {
	return map[string]uint64{"delivered": 5, "dead": 1, "Not A Label!": 9}, 3, nil
}

func newMetricsEnv(t *testing.T, backend string) *metricsEnv {
	t.Helper()
	ctx := t.Context()
	m := httpapi.NewMetrics()
	var wh fakeDispatcher
	ops, err := metrics.Register(m.Registry(), metrics.Options{Version: "v9.9.9", Revision: "abc", Backend: backend,
		WebhookStats: wh.stats, UserCountTTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, testdb.URL(t, backend), store.Options{Keyring: testdb.Keyring(t), CommitObserver: ops.ObserveCommit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ops.AddStore(st); err != nil {
		t.Fatal(err)
	}
	svc := directory.NewService(st, directory.Options{Throttle: directory.ThrottleOptions{
		PerAddress: 1000, PerClientAddress: 3, PerClient: 4, FailureDelay: time.Millisecond}})
	srv := httptest.NewServer(server.New(svc, server.Options{Metrics: m, Ready: st.Ping}))
	t.Cleanup(srv.Close)
	return &metricsEnv{url: srv.URL, svc: svc, webhooks: &wh}
}

func (e *metricsEnv) do(t *testing.T, method, path string, header map[string]string, body string) int {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape fetches /metrics and parses it with the Prometheus text parser.
func (e *metricsEnv) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want, and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range want {
			if label(m, k) != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// series lists every series of the roster_* families as name{labels}.
func series(fams map[string]*dto.MetricFamily) []string {
	var out []string
	for name, f := range fams {
		if !strings.HasPrefix(name, "roster_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out = append(out, name+"{"+strings.Join(ls, ",")+"}")
		}
	}
	slices.Sort(out)
	return out
}

// TestMetricsScrape, on both backends: real requests through several
// dialects, then /metrics parsed with the Prometheus text parser has each
// family with the values those requests imply; and requests to random
// paths, with random methods, ids and credentials, add no series
// (the label set is bounded).
func TestMetricsScrape(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			e := newMetricsEnv(t, backend)
			ctx := t.Context()
			acme, err := e.svc.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy)
			if err != nil {
				t.Fatal(err)
			}
			other, err := e.svc.CreateTenant(ctx, "other", directory.DefaultUniquePolicy)
			if err != nil {
				t.Fatal(err)
			}
			c, sec, err := e.svc.CreateCredential(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			truv := map[string]string{"X-Access-Client-Id": c.ClientID, "X-Access-Secret": sec}
			for i := range 3 {
				body := fmt.Sprintf(`{"external_user_id":"%d","first_name":"A","last_name":"B","email":"a%d@example.com"}`, i, i)
				if s := e.do(t, "POST", "/v1/users/", truv, body); s != 201 {
					t.Fatalf("truv create: %d", s)
				}
			}
			if s := e.do(t, "GET", "/v1/users/", truv, ""); s != 200 {
				t.Fatalf("truv list: %d", s)
			}
			if s := e.do(t, "GET", "/scim/v2/Users", map[string]string{"Authorization": "Bearer " + sec}, ""); s != 200 {
				t.Fatalf("scim list: %d", s)
			}
			// Auth failures of each kind.
			wrong := map[string]string{"X-Access-Client-Id": c.ClientID, "X-Access-Secret": secret.NewSecret(c.ClientID)}
			for range 3 { // the third reaches PerClientAddress
				if s := e.do(t, "GET", "/v1/users/", wrong, ""); s != 401 {
					t.Fatalf("wrong secret: %d", s)
				}
			}
			if s := e.do(t, "GET", "/v1/users/", wrong, ""); s != 429 {
				t.Fatalf("after 3 failures: %d, want 429", s)
			}
			if s := e.do(t, "GET", "/v1/users/", nil, ""); s != 401 {
				t.Fatalf("no credentials: %d", s)
			}
			if s := e.do(t, "GET", "/scim/v2/Users", map[string]string{"Authorization": "Bearer nonsense"}, ""); s != 401 {
				t.Fatalf("scim bad bearer: %d", s)
			}
			if s := e.do(t, "GET", "/api/web/v3/users/someone", map[string]string{"Authorization": "not-a-token"}, ""); s != 401 {
				t.Fatalf("entrust bad token: %d", s)
			}
			if s := e.do(t, "GET", "/no/such/path", nil, ""); s != 404 {
				t.Fatalf("unknown path: %d", s)
			}

			fams := e.scrape(t)
			checks := []struct {
				name   string
				labels map[string]string
				want   float64 // -1: any value > 0
			}{
				{"roster_http_requests_total", map[string]string{"dialect": "truv", "route": "POST /v1/users/{$}", "status_class": "2xx"}, 3},
				{"roster_http_requests_total", map[string]string{"dialect": "truv", "route": "GET /v1/users/{$}", "status_class": "4xx"}, 5},
				{"roster_http_requests_total", map[string]string{"dialect": "none", "route": "/", "status_class": "4xx"}, 1},
				{"roster_http_request_duration_seconds", map[string]string{"dialect": "truv", "route": "GET /v1/users/{$}"}, 6},
				{"roster_http_request_duration_seconds", map[string]string{"dialect": "scim"}, -1},
				{"roster_auth_failures_total", map[string]string{"dialect": "truv", "reason": directory.AuthBadCredentials}, 3},
				{"roster_auth_failures_total", map[string]string{"dialect": "truv", "reason": httpapi.ReasonRejected}, 1},
				{"roster_auth_failures_total", map[string]string{"dialect": "scim", "reason": directory.AuthBadCredentials}, 1},
				{"roster_auth_failures_total", map[string]string{"dialect": "entrust", "reason": directory.AuthBadToken}, 1},
				{"roster_auth_throttled_total", map[string]string{"dialect": "truv", "reason": directory.ThrottleClientAddress}, 1},
				{"roster_store_commit_writes", nil, -1},
				{"roster_store_commit_duration_seconds", nil, -1},
				{"roster_users", map[string]string{"tenant_id": acme.ID}, 3},
				{"roster_users", map[string]string{"tenant_id": other.ID}, 0},
				{"roster_webhook_deliveries_total", map[string]string{"outcome": "delivered"}, 5},
				{"roster_webhook_deliveries_total", map[string]string{"outcome": "dead"}, 1},
				{"roster_webhook_queue_depth", nil, 3},
				{"roster_build_info", map[string]string{"version": "v9.9.9", "revision": "abc", "backend": backend}, 1},
				{"go_sql_max_open_connections", nil, -1},
				{"go_goroutines", nil, -1},
			}
			for _, c := range checks {
				got, ok := value(fams, c.name, c.labels)
				switch {
				case !ok:
					t.Errorf("%s%v: no such series", c.name, c.labels)
				case c.want < 0 && got <= 0, c.want >= 0 && got != c.want:
					t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
				}
			}
			// Every histogram bucket layout is the documented one.
			if f := fams["roster_http_request_duration_seconds"]; f != nil {
				var bounds []float64
				for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
					if !math.IsInf(b.GetUpperBound(), 1) {
						bounds = append(bounds, b.GetUpperBound())
					}
				}
				if !slices.Equal(bounds, httpapi.LatencyBuckets) {
					t.Errorf("latency buckets %v, want %v", bounds, httpapi.LatencyBuckets)
				}
			}
			// The outcome that is no label value is dropped; no tenant
			// name or user data appears anywhere.
			for _, s := range series(fams) {
				for _, bad := range []string{"Not A Label", "acme", "a0@example.com", sec, c.ClientID} {
					if strings.Contains(s, bad) {
						t.Errorf("series %s contains %q", s, bad)
					}
				}
			}
			if n := len(fams["roster_store_commit_writes"].GetMetric()); backend == "sqlite" && n != 1 {
				t.Errorf("commit histograms: %d series", n)
			}

			// Cardinality: hostile traffic adds no series. Everything
			// below hits routes and reasons seen above, or the catch-alls.
			before := series(e.scrape(t))
			rng := rand.New(rand.NewPCG(1, 2))
			word := func() string { return fmt.Sprintf("%x", rng.Uint64()) }
			for range 40 {
				w := word()
				for _, req := range []struct {
					method, path string
					header       map[string]string
				}{
					{"GET", "/" + w + "/" + word(), nil},
					{"GET", "/no/such/" + w, nil},
					{"GET", "/v1/users/" + w + "/", truv},
					{"GET", "/v1/users/" + w + "/", wrong},
					{"GET", "/scim/v2/Users?filter=" + w, map[string]string{"Authorization": "Bearer " + w}},
					{"GET", "/api/web/v3/users/" + w, map[string]string{"Authorization": w}},
					{"POST", "/no/such/" + w, nil},
				} {
					e.do(t, req.method, req.path, req.header, "")
				}
			}
			after := series(e.scrape(t))
			// The first scrape's own request, and the user's 404 route,
			// are the only new series allowed.
			var added []string
			for _, s := range after {
				if !slices.Contains(before, s) {
					added = append(added, s)
				}
			}
			for _, s := range added {
				if !strings.Contains(s, "route=GET /metrics") && !strings.Contains(s, "route=GET /v1/users/{id}/{$}") {
					t.Errorf("new series after random requests: %s", s)
				}
			}
			if len(added) > 6 {
				t.Errorf("random requests added %d series: %v", len(added), added)
			}
		})
	}
}
