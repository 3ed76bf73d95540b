package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roster-dev/roster/internal/directory"
)

// Metrics is Roster's Prometheus registry, its own rather than the
// client library's global one (so nothing a dependency registers leaks
// in, and every test server has a registry of its own), with the families
// the HTTP middleware observes: requests, latency, authentication
// failures and throttling. Other packages add theirs through Registry
// (internal/metrics: group commits, database pools, users, webhooks,
// build info). ServeHTTP serves GET /metrics.
//
// Every label value comes from a closed set the code defines: the
// dialect tag, the ServeMux pattern that matched (never the raw path), a
// status class, a reason constant of package directory. Nothing a client
// sends becomes a label value, so no request can add a series.
type Metrics struct {
	reg          *prometheus.Registry
	handler      http.Handler
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	throttled    *prometheus.CounterVec
}

// LatencyBuckets are the request-latency histogram's upper bounds, in
// seconds: from a cached read (well under a millisecond) to the write
// timeout's order of magnitude, about 2.5x apart.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Route label values for requests no mux pattern matched.
const (
	routeUnmatched = "unmatched" // 404 or 405 from the mux itself, or a redirect
	routePreflight = "preflight" // a CORS preflight, answered before routing
)

// ReasonRejected is the auth-failure reason of a 401 the core did not
// explain: the dialect refused the request's credentials itself (missing
// or malformed headers, a CL2C key of another tenant).
const ReasonRejected = "rejected"

// NewMetrics returns a registry with the HTTP families and the Go runtime
// and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total",
			Help: "HTTP requests served, by dialect, route (the ServeMux pattern) and status class (2xx, 3xx, 4xx, 5xx; a client gone before the answer counts as 4xx).",
		}, []string{"dialect", "route", "status_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "HTTP request latency from the first byte read to the handler's return, by dialect and route.",
			Buckets: LatencyBuckets,
		}, []string{"dialect", "route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_auth_failures_total",
			Help: "Failed authentications, by dialect and reason (bad_credentials, revoked, bad_token, expired_token, rejected).",
		}, []string{"dialect", "reason"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_auth_throttled_total",
			Help: "Requests refused or held by throttling, by dialect and reason: address and client_address (429 after repeated failures), client_delay (a failure's answer held), rate_limit (429, credential over its budget).",
		}, []string{"dialect", "reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.authFailures, m.throttled,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A collector that fails (the database unreachable for the user
		// counts) costs its own families, not the whole scrape; the
		// failure is counted in promhttp_metric_handler_errors_total.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	})
	return m
}

// Registry is where other packages register their collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ServeHTTP writes the exposition (text format, or what the scraper
// negotiates).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}

// observe records one finished request. route is the mux pattern that
// served it ("" for none), note what the core noted about its
// authentication, err the error its handler returned.
func (m *Metrics) observe(dialect, route string, status int, d time.Duration, note *directory.AuthNote, err error) {
	if dialect == "" {
		dialect = "none"
	}
	if route == "" {
		route = routeUnmatched
	}
	m.requests.WithLabelValues(dialect, route, statusClass(status)).Inc()
	m.duration.WithLabelValues(dialect, route).Observe(d.Seconds())
	switch {
	case note != nil && note.Failure != "":
		m.authFailures.WithLabelValues(dialect, note.Failure).Inc()
	case errors.Is(err, directory.ErrUnauthenticated):
		m.authFailures.WithLabelValues(dialect, ReasonRejected).Inc()
	}
	if note != nil && note.Throttle != "" {
		m.throttled.WithLabelValues(dialect, note.Throttle).Inc()
	}
}

// statusClass returns "2xx" for 200..299 and so on; anything outside
// 100..599 is "other".
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}
