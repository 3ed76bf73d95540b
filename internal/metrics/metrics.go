// Package metrics holds Roster's operational Prometheus collectors beside
// the HTTP ones of httpapi.Metrics: group commits, database pools, users
// per tenant, webhook deliveries and build info. Every family's labels
// come from closed sets (pool roles, outcome names, tenant ids); see
// docs/OPERATIONS.md#metrics for the list.
package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Options configure Register.
type Options struct {
	// Version and Revision label roster_build_info (the Go version is
	// the runtime's).
	Version, Revision string
	// Backend labels roster_build_info: "sqlite" or "postgres".
	Backend string
	// WebhookStats, when set, is read at every scrape: delivery counts by
	// outcome since the process started (a small fixed set of names the
	// dispatcher defines, such as delivered, retried, dead) and the
	// events waiting in the outbox.
	WebhookStats func(ctx context.Context) (byOutcome map[string]uint64, queueDepth int64, err error)
	// UserCountTTL is how long a users-per-tenant count is reused; 0:
	// DefaultUserCountTTL.
	UserCountTTL time.Duration
}

// DefaultUserCountTTL: scrapes come every 15 to 60 s; counting at most
// twice a minute keeps the cost of the count (one index scan of every
// user) negligible while the gauge is at most 30 s old.
const DefaultUserCountTTL = 30 * time.Second

// collectTimeout bounds a database read made during a scrape.
const collectTimeout = 5 * time.Second

// Store is what the store collectors read; *store.Store implements it.
type Store interface {
	// Pools returns the database/sql pools by role.
	Pools() map[string]*sql.DB
	// CountUsersByTenant returns the users of every tenant by tenant id.
	CountUsersByTenant(ctx context.Context) (map[string]int64, error)
}

// Ops is the set of collectors Register installed.
type Ops struct {
	reg           prometheus.Registerer
	userTTL       time.Duration
	batchSize     prometheus.Histogram
	commitLatency prometheus.Histogram
}

// CommitLatencyBuckets are the COMMIT latency histogram's bounds, in
// seconds: an fsync on an SSD takes 0.1 to a few milliseconds, on a
// network disk tens.
var CommitLatencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// BatchSizeBuckets are the writes-per-commit histogram's bounds: powers
// of two up to the group committer's cap of 64.
var BatchSizeBuckets = []float64{1, 2, 4, 8, 16, 32, 64}

// Register installs build info, the commit histograms and, when
// o.WebhookStats is set, the webhook collector on reg. The store's
// collectors come later (AddStore), once the store is open; the store
// itself takes ObserveCommit when it opens.
func Register(reg prometheus.Registerer, o Options) (*Ops, error) {
	if o.UserCountTTL <= 0 {
		o.UserCountTTL = DefaultUserCountTTL
	}
	ops := &Ops{
		reg:     reg,
		userTTL: o.UserCountTTL,
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roster_store_commit_writes",
			Help:    "Writes per committed transaction: the group-commit batch size on SQLite (1 to 64), always 1 on PostgreSQL.",
			Buckets: BatchSizeBuckets,
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roster_store_commit_duration_seconds",
			Help:    "Latency of COMMIT for committed write transactions (on SQLite the fsync a group commit shares).",
			Buckets: CommitLatencyBuckets,
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "roster_build_info",
		Help: "Always 1; the labels say which build runs: version, revision (commit), goversion, backend.",
		ConstLabels: prometheus.Labels{"version": orUnknown(o.Version), "revision": orUnknown(o.Revision),
			"goversion": goVersion(), "backend": orUnknown(o.Backend)},
	})
	build.Set(1)
	cs := []prometheus.Collector{build, ops.batchSize, ops.commitLatency}
	if o.WebhookStats != nil {
		cs = append(cs, newWebhookCollector(o.WebhookStats))
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done) // all or nothing
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return ops, nil
}

// ObserveCommit is a store.CommitObserver.
func (o *Ops) ObserveCommit(writes int, d time.Duration) {
	o.batchSize.Observe(float64(writes))
	o.commitLatency.Observe(d.Seconds())
}

// AddStore installs the collectors reading s: the sql.DBStats of every
// pool (the client library's go_sql_* families, labelled db_name=ROLE)
// and roster_users.
func (o *Ops) AddStore(s Store) error {
	for role, db := range s.Pools() {
		if err := o.reg.Register(collectors.NewDBStatsCollector(db, role)); err != nil {
			return fmt.Errorf("register pool metrics: %w", err)
		}
	}
	if err := o.reg.Register(newUserCollector(s.CountUsersByTenant, o.userTTL, time.Now)); err != nil {
		return fmt.Errorf("register user metrics: %w", err)
	}
	return nil
}

// AddReplica installs the read replica's counters (ROSTER_DB_READ): the
// user lists and searches it served, and those the primary served because
// it was behind or failing; reads reports both since start.
func (o *Ops) AddReplica(reads func() (served, fellBack int64)) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_db_replica_reads_total",
			Help: "User lists and searches served by the read replica since start."},
			func() float64 { served, _ := reads(); return float64(served) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_db_replica_fallback_reads_total",
			Help: "User lists and searches served by the primary since start because the read replica was behind or failing."},
			func() float64 { _, fellBack := reads(); return float64(fellBack) }),
	} {
		if err := o.reg.Register(c); err != nil {
			return fmt.Errorf("register replica metrics: %w", err)
		}
	}
	return nil
}

// AddWebhookStats installs the webhook collector reading stats, for a
// dispatcher that starts after Register (it needs the open store); the
// same as Options.WebhookStats. Install it once.
func (o *Ops) AddWebhookStats(stats func(ctx context.Context) (byOutcome map[string]uint64, queueDepth int64, err error)) error {
	if err := o.reg.Register(newWebhookCollector(stats)); err != nil {
		return fmt.Errorf("register webhook metrics: %w", err)
	}
	return nil
}

// userCollector serves roster_users{tenant_id} from a count at most ttl
// old, counted at scrape time, not in the background: a server nobody
// scrapes never counts.
//
// Why this is cheap enough at 1M users: the count is one grouped scan of
// the users primary key (tenant_id, id), index-only, about 0.1 s for a
// million rows on SQLite and less on PostgreSQL (docs/OPERATIONS.md has
// the measurement), at most once per ttl per instance: well under 1% of
// one core. It runs on the read pool (SQLite WAL readers never wait for
// the writer), and concurrent scrapes share one count.
type userCollector struct {
	count func(context.Context) (map[string]int64, error)
	ttl   time.Duration
	now   func() time.Time
	desc  *prometheus.Desc

	mu     sync.Mutex // held while counting: one count at a time
	at     time.Time
	counts map[string]int64
}

func newUserCollector(count func(context.Context) (map[string]int64, error), ttl time.Duration, now func() time.Time) *userCollector {
	return &userCollector{count: count, ttl: ttl, now: now,
		desc: prometheus.NewDesc("roster_users", "Users per tenant, by tenant id (counted at most every 30 s).", []string{"tenant_id"}, nil)}
}

func (c *userCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *userCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || c.now().Sub(c.at) >= c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
		counts, err := c.count(ctx)
		cancel()
		if err != nil {
			// The previous count, if any, is still served below; the
			// error reaches promhttp_metric_handler_errors_total.
			ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("count users: %w", err))
		} else {
			c.counts, c.at = counts, c.now()
		}
	}
	for id, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), id)
	}
}

// webhookCollector serves the dispatcher's counts.
type webhookCollector struct {
	stats      func(context.Context) (map[string]uint64, int64, error)
	deliveries *prometheus.Desc
	depth      *prometheus.Desc
}

func newWebhookCollector(stats func(context.Context) (map[string]uint64, int64, error)) *webhookCollector {
	return &webhookCollector{stats: stats,
		deliveries: prometheus.NewDesc("roster_webhook_deliveries_total", "Webhook deliveries by outcome, as the dispatcher counts them.", []string{"outcome"}, nil),
		depth:      prometheus.NewDesc("roster_webhook_queue_depth", "Webhook events waiting in the outbox for delivery.", nil, nil),
	}
}

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.deliveries
	ch <- c.depth
}

// outcomeName is what an outcome label value may be: the dispatcher's
// own constants. Anything else is dropped rather than exported, so a bug
// there cannot flood the label set.
var outcomeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// maxOutcomes bounds the outcome label set the same way.
const maxOutcomes = 16

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	byOutcome, depth, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.deliveries, fmt.Errorf("webhook stats: %w", err))
		return
	}
	outcomes := slices.Sorted(maps.Keys(byOutcome))
	n := 0
	for _, outcome := range outcomes {
		if !outcomeName.MatchString(outcome) || n == maxOutcomes {
			continue
		}
		n++
		ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.CounterValue, float64(byOutcome[outcome]), outcome)
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
