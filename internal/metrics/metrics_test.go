package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestUserCollectorCaches: within the TTL a scrape reuses the count;
// after it, the next scrape counts again; a failed count serves the
// previous one and reports the error.
func TestUserCollectorCaches(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	calls := 0
	var fail error
	counts := map[string]int64{"t1": 3}
	count := func(context.Context) (map[string]int64, error) {
		calls++
		if fail != nil {
			return nil, fail
		}
		out := map[string]int64{}
		for k, v := range counts {
			out[k] = v
		}
		return out, nil
	}
	c := newUserCollector(count, 30*time.Second, clock.now)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	gather := func() (string, error) {
		var b strings.Builder
		fams, err := reg.Gather()
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				fmt.Fprintf(&b, "%s=%g ", m.GetLabel()[0].GetValue(), m.GetGauge().GetValue())
			}
		}
		return strings.TrimSpace(b.String()), err
	}

	steps := []struct {
		name      string
		do        func()
		want      string
		wantCalls int
		wantErr   bool
	}{
		{"first scrape counts", func() {}, "t1=3", 1, false},
		{"within the TTL: reused", func() { counts["t1"] = 4; clock.advance(29 * time.Second) }, "t1=3", 1, false},
		{"after the TTL: counted", func() { clock.advance(time.Second) }, "t1=4", 2, false},
		{"new tenant", func() { counts["t2"] = 0; clock.advance(31 * time.Second) }, "t1=4 t2=0", 3, false},
		{"failure: previous served, error reported", func() { fail = errors.New("db down"); clock.advance(31 * time.Second) }, "t1=4 t2=0", 4, true},
		{"failure: retried at the next scrape", func() {}, "t1=4 t2=0", 5, true},
		{"recovered", func() { fail = nil }, "t1=4 t2=0", 6, false},
	}
	for _, s := range steps {
		s.do()
		got, err := gather()
		if (err != nil) != s.wantErr {
			t.Errorf("%s: error %v, want error %v", s.name, err, s.wantErr)
		}
		if got != s.want || calls != s.wantCalls {
			t.Errorf("%s: got %q after %d counts, want %q after %d", s.name, got, calls, s.want, s.wantCalls)
		}
	}
}

// TestWebhookCollectorBoundsOutcomes: outcome names that are no label
// value, and any beyond the cap, are dropped; an error is reported, not
// served as zeros.
func TestWebhookCollectorBoundsOutcomes(t *testing.T) {
	by := map[string]uint64{"delivered": 7, "dead": 1, "user@example.com": 3, "Upper": 2, "": 1}
	for i := range 40 {
		by["x"+strings.Repeat("y", i%30)+string(rune('a'+i%26))] = 1
	}
	c := newWebhookCollector(func(context.Context) (map[string]uint64, int64, error) { return by, 12, nil })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if n := testutil.CollectAndCount(c, "roster_webhook_deliveries_total"); n != maxOutcomes {
		t.Errorf("%d outcome series, want the cap %d", n, maxOutcomes)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP roster_webhook_queue_depth Webhook events waiting in the outbox for delivery.
# TYPE roster_webhook_queue_depth gauge
roster_webhook_queue_depth 12
`), "roster_webhook_queue_depth"); err != nil {
		t.Error(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !outcomeName.MatchString(l.GetValue()) {
					t.Errorf("outcome %q exported", l.GetValue())
				}
			}
		}
	}

	failing := newWebhookCollector(func(context.Context) (map[string]uint64, int64, error) {
		return nil, 0, errors.New("outbox unreachable")
	})
	reg2 := prometheus.NewRegistry()
	reg2.MustRegister(failing)
	if _, err := reg2.Gather(); err == nil || !strings.Contains(err.Error(), "outbox unreachable") {
		t.Errorf("failing stats: %v, want the error", err)
	}
}

// TestRegister: build info carries its labels; the commit observer fills
// both histograms; registering twice on one registry is an error, not a
// panic.
func TestRegister(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	ops, err := Register(reg, Options{Version: "v1.2.3", Revision: "abc123", Backend: "sqlite"})
	if err != nil {
		t.Fatal(err)
	}
	ops.ObserveCommit(5, 2*time.Millisecond)
	ops.ObserveCommit(64, 30*time.Millisecond)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP roster_store_commit_writes Writes per committed transaction: the group-commit batch size on SQLite (1 to 64), always 1 on PostgreSQL.
# TYPE roster_store_commit_writes histogram
roster_store_commit_writes_bucket{le="1"} 0
roster_store_commit_writes_bucket{le="2"} 0
roster_store_commit_writes_bucket{le="4"} 0
roster_store_commit_writes_bucket{le="8"} 1
roster_store_commit_writes_bucket{le="16"} 1
roster_store_commit_writes_bucket{le="32"} 1
roster_store_commit_writes_bucket{le="64"} 2
roster_store_commit_writes_bucket{le="+Inf"} 2
roster_store_commit_writes_sum 69
roster_store_commit_writes_count 2
`), "roster_store_commit_writes"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(ops.commitLatency); n != 1 {
		t.Errorf("commit latency series: %d", n)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var build string
	for _, f := range fams {
		if f.GetName() == "roster_build_info" {
			build = f.GetMetric()[0].String()
		}
	}
	for _, want := range []string{`"v1.2.3"`, `"abc123"`, `"sqlite"`, `"go1.`} {
		if !strings.Contains(build, want) {
			t.Errorf("build info %s lacks %s", build, want)
		}
	}
	if _, err := Register(reg, Options{}); err == nil {
		t.Error("second Register on one registry: no error")
	}
	if n, err := testutil.GatherAndCount(reg, "roster_build_info"); err != nil || n != 1 {
		t.Errorf("after a failed Register: %d build_info series (%v), want the first only", n, err)
	}
	stats := func(context.Context) (map[string]uint64, int64, error) {
		return map[string]uint64{"delivered": 2}, 0, nil
	}
	if err := ops.AddWebhookStats(stats); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "roster_webhook_deliveries_total", "roster_webhook_queue_depth"); err != nil || n != 2 {
		t.Errorf("after AddWebhookStats: %d series, %v", n, err)
	}
	if err := ops.AddWebhookStats(stats); err == nil {
		t.Error("second AddWebhookStats: no error")
	}
}
