package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Delivery is one outbox row a dispatcher has claimed: an event for one
// subscription, with what sending it needs.
type Delivery struct {
	Seq       int64 // the outbox row; orders one user's events
	TenantID  string
	WebhookID string
	EventID   string
	EventType string
	UserID    string
	Payload   []byte // the exact body to send and sign
	URL       string
	// Secret is the subscription's signing key; nil, with SecretErr,
	// when it cannot be opened (a key removed from the keyring).
	Secret    []byte
	SecretErr error
	Attempts  int // attempts made before this one
	CreatedAt time.Time
	// Token is the claim's lease token: only its holder may record the
	// outcome (Outbox.RecordDelivery).
	Token string
}

// Result is the outcome of one attempt.
type Result struct {
	State       string    // StateDelivered, StatePending (retry at NextAttempt) or StateDead
	NextAttempt time.Time // StatePending only
	Status      int       // the HTTP status, 0 when none arrived
	Error       string    // why it failed; "" when delivered
	At          time.Time
}

// ErrLeaseLost is RecordDelivery's answer when the delivery's lease ran
// out and another dispatcher claimed it: that one records the outcome.
var ErrLeaseLost = errors.New("webhook delivery lease lost")

// Outbox is the store side of the dispatcher; *store.Store implements it
// on SQLite and PostgreSQL.
type Outbox interface {
	// ClaimDeliveries leases up to limit due deliveries until now+lease
	// and returns them, oldest first. A delivery is due when it is
	// pending, its next attempt is not after now, no lease on it runs,
	// and no earlier event of the same user for the same subscription
	// is still pending (per-user order). On PostgreSQL concurrent
	// callers skip each other's rows (FOR UPDATE SKIP LOCKED), so each
	// row goes to one of them.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)
	// RecordDelivery stores the outcome of d's attempt and ends its
	// lease; ErrLeaseLost if d.Token no longer holds it.
	RecordDelivery(ctx context.Context, d *Delivery, r Result) error
	// PendingDeliveries counts the deliveries not yet delivered or dead,
	// in flight included.
	PendingDeliveries(ctx context.Context) (int64, error)
	// PurgeDeliveries deletes delivered rows finished before
	// deliveredBefore and dead rows finished before deadBefore.
	PurgeDeliveries(ctx context.Context, deliveredBefore, deadBefore time.Time) (int64, error)
}

// Defaults of Options.
const (
	DefaultConcurrency  = 4
	DefaultTimeout      = 10 * time.Second
	DefaultPollInterval = time.Second
	DefaultMaxAttempts  = 8
	// DefaultKeepDelivered and DefaultKeepDead are how long finished
	// rows stay visible in `roster webhook deliveries`.
	DefaultKeepDelivered = 7 * 24 * time.Hour
	DefaultKeepDead      = 30 * 24 * time.Hour
	purgeEvery           = 10 * time.Minute
	// maxErrorLen bounds the error text stored with a failed attempt.
	maxErrorLen = 300
	// maxDrain is how much of a response body is read (and thrown away)
	// so the connection can be reused.
	maxDrain = 64 << 10
)

// Options configure a Dispatcher. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	// Concurrency bounds the requests in flight (default 4).
	Concurrency int
	// Timeout bounds one request, connection and TLS handshake included
	// (default 10s).
	Timeout time.Duration
	// PollInterval is how often an idle dispatcher looks for due
	// deliveries (default 1s).
	PollInterval time.Duration
	// MaxAttempts is the attempts before a delivery is dead (default 8).
	MaxAttempts int
	// Backoff is the wait after the n-th failed attempt (n >= 1); default
	// DefaultBackoff.
	Backoff func(n int) time.Duration
	// Lease is how long a claim holds a delivery before another
	// dispatcher may take it over (default Timeout + 1m): longer than any
	// attempt, so in the normal case no two dispatchers send one row.
	Lease time.Duration
	// AllowPrivate lets deliveries reach loopback, private, link-local
	// and metadata addresses (--allow-private-webhooks).
	AllowPrivate bool
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// KeepDelivered, KeepDead: see DefaultKeepDelivered.
	KeepDelivered, KeepDead time.Duration
}

// DefaultBackoff is 30s doubled per failed attempt, at most 1h, each
// drawn uniformly within ±20% so that deliveries failing together spread
// out: after attempts 1..7 about 30s, 1m, 2m, 4m, 8m, 16m and 32m, so the
// eighth and last attempt comes about 63 minutes after the first.
func DefaultBackoff(n int) time.Duration {
	d := time.Hour
	if n >= 1 && n <= 7 {
		d = 30 * time.Second << (n - 1)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Dispatcher sends the outbox's deliveries. Run it once per process; on
// PostgreSQL several processes may run one each.
type Dispatcher struct {
	out    Outbox
	o      Options
	client *http.Client
	log    *slog.Logger

	delivered, failed, dead atomic.Uint64
}

// New returns a Dispatcher over out.
func New(out Outbox, o Options) *Dispatcher {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Lease <= 0 {
		o.Lease = o.Timeout + time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeepDelivered <= 0 {
		o.KeepDelivered = DefaultKeepDelivered
	}
	if o.KeepDead <= 0 {
		o.KeepDead = DefaultKeepDead
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second, Control: dialControl(o.AllowPrivate)}
	transport := &http.Transport{
		// No proxy from the environment: the dial-time address check
		// must see the receiver's address, not a proxy's.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.Concurrency * 4,
		MaxIdleConnsPerHost:   o.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   o.Timeout,
		// Deliveries go only to the URL the operator configured: a
		// redirect is a failed attempt, not a new destination.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Dispatcher{out: out, o: o, client: client, log: log}
}

// Stats returns the attempts this process made by outcome ("delivered",
// "failed": will be retried, "dead": the last attempt failed), counted
// since it started, and the deliveries pending in the database (every
// instance's; in flight included).
func (d *Dispatcher) Stats(ctx context.Context) (byOutcome map[string]uint64, queueDepth int64, err error) {
	byOutcome = map[string]uint64{
		"delivered": d.delivered.Load(),
		"failed":    d.failed.Load(),
		"dead":      d.dead.Load(),
	}
	queueDepth, err = d.out.PendingDeliveries(ctx)
	if err != nil {
		return byOutcome, 0, fmt.Errorf("webhook stats: %w", err)
	}
	return byOutcome, queueDepth, nil
}

// Run delivers until ctx ends, then waits for the requests in flight
// (each bounded by Timeout) to finish and record their outcome, and
// returns. Nothing it leaves undone is lost: the rows stay pending, and a
// claim whose outcome was not recorded is taken over when its lease ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.o.Concurrency)
	finished := make(chan struct{}, d.o.Concurrency)
	poll := time.NewTimer(0)
	defer poll.Stop()
	var lastPurge time.Time
	for {
		// First, so that a backlog that keeps every slot busy does not
		// starve it.
		if now := d.o.Now(); now.Sub(lastPurge) >= purgeEvery && ctx.Err() == nil {
			lastPurge = now
			d.purge(ctx, now)
		}
		if free := cap(slots) - len(slots); free > 0 && ctx.Err() == nil {
			ds, err := d.out.ClaimDeliveries(ctx, d.o.Now(), d.o.Lease, free)
			if err != nil && ctx.Err() == nil {
				d.log.Warn("webhook claim", "error", err.Error())
			}
			for _, dl := range ds {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.deliver(ctx, dl)
					<-slots
					select {
					case finished <- struct{}{}:
					default: // a wake-up is pending already
					}
				}()
			}
			if len(ds) == free {
				continue // more may be due: claim again at once
			}
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(d.o.PollInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-finished: // a slot is free, and the user's next event may be due
		case <-poll.C:
		}
	}
}

func (d *Dispatcher) purge(ctx context.Context, now time.Time) {
	n, err := d.out.PurgeDeliveries(ctx, now.Add(-d.o.KeepDelivered), now.Add(-d.o.KeepDead))
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Warn("webhook purge", "error", err.Error())
	case n > 0:
		d.log.Debug("webhook purge", "deleted", n)
	}
}

// deliver makes one attempt at dl and records its outcome. The request
// and the record outlive ctx's end (bounded by Timeout), so a shutdown
// does not turn a delivered event into one sent twice.
func (d *Dispatcher) deliver(ctx context.Context, dl *Delivery) {
	ctx = context.WithoutCancel(ctx)
	status, err := d.send(ctx, dl)
	r := Result{At: d.o.Now(), Status: status}
	attempt := dl.Attempts + 1
	switch {
	case err == nil:
		r.State = StateDelivered
		d.delivered.Add(1)
	case attempt >= d.o.MaxAttempts:
		r.State, r.Error = StateDead, truncate(err.Error())
		d.dead.Add(1)
	default:
		r.State, r.Error = StatePending, truncate(err.Error())
		r.NextAttempt = r.At.Add(d.o.Backoff(attempt))
		d.failed.Add(1)
	}
	if err != nil {
		d.log.Warn("webhook delivery failed", "webhook", dl.WebhookID, "event", dl.EventID, "type", dl.EventType,
			"attempt", attempt, "status", status, "state", r.State, "error", r.Error)
	}
	rctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	if err := d.out.RecordDelivery(rctx, dl, r); err != nil {
		// The row stays leased; when the lease ends it is sent again
		// (at least once), or its new holder records it.
		d.log.Warn("webhook record delivery", "webhook", dl.WebhookID, "event", dl.EventID, "error", err.Error())
	}
}

// send POSTs dl once. It returns the status (0 when no response came) and
// nil for a 2xx, else why the attempt failed.
func (d *Dispatcher) send(ctx context.Context, dl *Delivery) (int, error) {
	if dl.SecretErr != nil {
		return 0, fmt.Errorf("open signing secret: %w", dl.SecretErr)
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Roster-Webhooks/1")
	h.Set("Roster-Event-Id", dl.EventID)
	h.Set("Roster-Event-Type", dl.EventType)
	h.Set("Roster-Webhook-Id", dl.WebhookID)
	h.Set("Roster-Delivery-Attempt", strconv.Itoa(dl.Attempts+1))
	h.Set(SignatureHeader, Sign(dl.Secret, d.o.Now(), dl.Payload))
	resp, err := d.client.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may carry a receiver's token
		// in its query: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func truncate(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorLen], "") + "…" // cut on a character boundary
}
