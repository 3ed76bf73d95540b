package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Metrics counts requests and their latency per dialect and status, and
// writes them in the Prometheus text exposition format. It is small enough
// that a dependency on the Prometheus client library would cost more than
// it saves; the format is stable (version 0.0.4).
type Metrics struct {
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram // by dialect
	gauges   []gauge
}

type reqKey struct {
	dialect string
	method  string
	code    int
}

type gauge struct {
	name, help string
	read       func() float64
}

// latencyBuckets are the histogram's upper bounds in seconds.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}}
}

// Gauge registers a value read at scrape time (open connections, say).
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.mu.Lock()
	m.gauges = append(m.gauges, gauge{name, help, read})
	m.mu.Unlock()
}

// observe records one finished request.
func (m *Metrics) observe(dialect, method string, code int, d time.Duration) {
	if dialect == "" {
		dialect = "none"
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		method = "other" // bound label cardinality: methods come from clients
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{dialect, method, code}]++
	h := m.latency[dialect]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.latency[dialect] = h
	}
	s := d.Seconds()
	for i, b := range latencyBuckets {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += s
	h.count++
}

// ServeHTTP writes the exposition.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
}

func (m *Metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP roster_http_requests_total HTTP requests by dialect, method and status code.")
	fmt.Fprintln(w, "# TYPE roster_http_requests_total counter")
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.dialect != b.dialect {
			return a.dialect < b.dialect
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.code < b.code
	})
	for _, k := range keys {
		fmt.Fprintf(w, "roster_http_requests_total{dialect=%q,method=%q,code=\"%d\"} %d\n", k.dialect, k.method, k.code, m.requests[k])
	}
	fmt.Fprintln(w, "# HELP roster_http_request_duration_seconds HTTP request latency by dialect.")
	fmt.Fprintln(w, "# TYPE roster_http_request_duration_seconds histogram")
	dialects := make([]string, 0, len(m.latency))
	for d := range m.latency {
		dialects = append(dialects, d)
	}
	sort.Strings(dialects)
	for _, d := range dialects {
		h := m.latency[d]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "roster_http_request_duration_seconds_bucket{dialect=%q,le=%q} %d\n", d, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "roster_http_request_duration_seconds_bucket{dialect=%q,le=\"+Inf\"} %d\n", d, h.count)
		fmt.Fprintf(w, "roster_http_request_duration_seconds_sum{dialect=%q} %g\n", d, h.sum)
		fmt.Fprintf(w, "roster_http_request_duration_seconds_count{dialect=%q} %d\n", d, h.count)
	}
	for _, g := range m.gauges {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", g.name, g.help, g.name, g.name, g.read())
	}
}
