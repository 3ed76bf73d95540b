package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/webhook"
)

var _ webhook.Outbox = (*Store)(nil)

// webhookAAD binds a sealed signing secret to its subscription.
func webhookAAD(id string) []byte { return []byte("webhook/" + id) }

// enqueueWebhooks writes the event of ch, if it is one (a user create,
// update or delete), into the outbox for every subscription of its tenant
// to its type, inside tx: the change and its deliveries commit together
// or not at all. It is on every user write's path, so a tenant without a
// subscription costs one indexed SELECT that finds nothing, and the
// payload is encoded and inserted only when someone will receive it.
func (s *Store) enqueueWebhooks(ctx context.Context, tx *sql.Tx, ch *directory.Change) error {
	return s.enqueueWebhooksBatch(ctx, tx, []*directory.Change{ch})
}

// enqueueWebhooksBatch is enqueueWebhooks for changes of one tenant (a
// bulk import's batch): one look-up of the tenant's subscriptions for all
// of them, none when no change is an event. Rows go in the order of
// changes, so a user's seq follows it (for an import, the file's order).
func (s *Store) enqueueWebhooksBatch(ctx context.Context, tx *sql.Tx, changes []*directory.Change) error {
	var events []*directory.Change
	for _, ch := range changes {
		if ch != nil && webhook.EventTypeOf(ch.Audit.Action) != "" {
			events = append(events, ch)
		}
	}
	if len(events) == 0 {
		return nil
	}
	// The event types are matched here rather than in SQL: a tenant has
	// a handful of subscriptions, and the plainer statement is cheaper to
	// prepare (16-26 µs against 29-37 µs with a LIKE on the list,
	// measured on SQLite).
	//
	// On PostgreSQL the rows found are locked FOR KEY SHARE (a no-op when
	// there are none): a `roster webhook remove` of one of them that is
	// under way then waits for this transaction, or, if it is ahead,
	// makes this SELECT skip the row, rather than failing the user's
	// write with a foreign-key violation on the INSERT below. SQLite's one
	// writer already serialises the two.
	lock := ""
	if s.d.name == postgres.name {
		lock = " FOR KEY SHARE"
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM webhooks WHERE tenant_id = $1`+lock, events[0].Audit.TenantID)
	if err != nil {
		return fmt.Errorf("find webhooks: %w", s.d.classify(err))
	}
	type sub struct {
		id     string
		events []string
	}
	var subs []sub
	for rows.Next() {
		var id, evs string
		if err := rows.Scan(&id, &evs); err != nil {
			rows.Close()
			return fmt.Errorf("find webhooks: %w", err)
		}
		subs = append(subs, sub{id, strings.Split(evs, ",")})
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("find webhooks: %w", s.d.classify(err))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find webhooks: %w", s.d.classify(err))
	}
	if len(subs) == 0 {
		return nil
	}
	var out [][]any
	for _, ch := range events {
		typ := webhook.EventTypeOf(ch.Audit.Action)
		var body []byte
		for _, w := range subs {
			if !slices.Contains(w.events, typ) {
				continue
			}
			if body == nil {
				if body, err = webhook.EncodeEvent(ch); err != nil {
					return err
				}
			}
			a := &ch.Audit
			at := micros(a.At)
			out = append(out, []any{a.TenantID, w.id, a.ID, typ, a.TargetID, string(body), at, at})
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := insertRows(ctx, tx, `INSERT INTO webhook_outbox
		(tenant_id, webhook_id, event_id, event_type, user_id, payload, created_at, next_attempt_at)`, out); err != nil {
		return fmt.Errorf("insert webhook outbox: %w", s.d.classify(err))
	}
	return nil
}

// enqueueWebhooksSQL is enqueueWebhooks as one statement, for PostgreSQL's
// pipelined create (pgpipeline.go), which cannot read a result before it
// sends the next statement: it inserts one outbox row per subscription of
// the tenant that takes the event, none when there is none. The foreign
// key to webhooks locks each row it inserts for FOR KEY SHARE, as the
// SELECT of enqueueWebhooks does; a subscription removed under way fails
// the batch, and the create falls back to the transactional path. It
// returns "" when ch sends no event. The payload is encoded whether or not
// anyone subscribes: the price of one round trip.
func enqueueWebhooksSQL(ch *directory.Change) (string, []any, error) {
	typ := webhook.EventTypeOf(ch.Audit.Action)
	if typ == "" {
		return "", nil, nil
	}
	if ch.User == nil && typ != webhook.UserDeleted {
		// Nothing to put in a payload: let the transactional path
		// decide, which encodes only for a subscriber.
		return "", nil, errPipelineFallback
	}
	body, err := webhook.EncodeEvent(ch)
	if err != nil {
		return "", nil, err
	}
	a := &ch.Audit
	return `INSERT INTO webhook_outbox
		(tenant_id, webhook_id, event_id, event_type, user_id, payload, created_at, next_attempt_at)
		SELECT $1, id, $2, $3, $4, $5, $6, $6 FROM webhooks
		WHERE tenant_id = $1 AND $3 = ANY (string_to_array(events, ','))`,
		[]any{a.TenantID, a.ID, typ, a.TargetID, string(body), micros(a.At)}, nil
}

// CreateWebhook stores a subscription with its signing secret, sealed
// with the keyring (the dispatcher needs the secret itself to sign, so it
// cannot be hashed), and ch (its audit entry; nil: none) in the same
// transaction. The tenant must exist.
func (s *Store) CreateWebhook(ctx context.Context, w *webhook.Subscription, signingSecret string, ch *directory.Change) error {
	sealed := s.kr.Seal([]byte(signingSecret), webhookAAD(w.ID))
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO webhooks (id, tenant_id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			w.ID, w.TenantID, w.URL, strings.Join(w.Events, ","), sealed, micros(w.CreatedAt)); err != nil {
			return fmt.Errorf("create webhook: %w", s.d.classify(err))
		}
		return s.recordChange(ctx, tx, ch)
	})
}

// GetWebhook returns a subscription (without its secret), or
// ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, id string) (*webhook.Subscription, error) {
	var w webhook.Subscription
	var events string
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, tenant_id, url, events, created_at FROM webhooks WHERE id = $1`, id).
		Scan(&w.ID, &w.TenantID, &w.URL, &events, &created)
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", s.d.classify(err))
	}
	w.Events, w.CreatedAt = strings.Split(events, ","), fromMicros(created)
	return &w, nil
}

// ListWebhooks returns a tenant's subscriptions, oldest first (without
// their secrets).
func (s *Store) ListWebhooks(ctx context.Context, tenantID string) ([]*webhook.Subscription, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT id, tenant_id, url, events, created_at FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", s.d.classify(err))
	}
	defer rows.Close()
	var out []*webhook.Subscription
	for rows.Next() {
		var w webhook.Subscription
		var events string
		var created int64
		if err := rows.Scan(&w.ID, &w.TenantID, &w.URL, &events, &created); err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		w.Events = strings.Split(events, ",")
		w.CreatedAt = fromMicros(created)
		out = append(out, &w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", s.d.classify(err))
	}
	return out, nil
}

// DeleteWebhook removes a subscription of the tenant and its outbox rows,
// delivered or not, with ch (nil: none) in the same transaction.
// ErrNotFound if the tenant has none with that id.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string, ch *directory.Change) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return fmt.Errorf("delete webhook: %w", s.d.classify(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		} else if n == 0 {
			return directory.ErrNotFound
		}
		return s.recordChange(ctx, tx, ch)
	})
}

// dueWhere selects the claimable rows (alias o) at $1: pending, due, not
// leased, and with no earlier pending event of the same user for the same
// subscription. A row being sent is still pending, so a user's next event
// waits until the one before it is delivered or dead.
const dueWhere = `o.state = 'pending' AND o.next_attempt_at <= $1 AND o.lease_until <= $1
	AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
		WHERE p.webhook_id = o.webhook_id AND p.user_id = o.user_id AND p.state = 'pending' AND p.seq < o.seq)`

// ClaimDeliveries implements webhook.Outbox. A read on the read pool
// answers the common case, nothing due, without taking SQLite's writer.
// The lease is then taken with one UPDATE; on PostgreSQL its row lock is
// taken FOR UPDATE SKIP LOCKED, so concurrent dispatchers claim disjoint
// rows, and a row another one leased a moment ago fails the re-checked
// lease condition. On SQLite one process has one writer, which
// serialises claims by itself.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*webhook.Delivery, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM webhook_outbox o WHERE `+dueWhere+` LIMIT 1`, micros(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", s.d.classify(err))
	}
	lock := ""
	if s.d.name == postgres.name {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	token := secret.NewToken("")
	var out []*webhook.Delivery
	err = s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = nil
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE webhook_outbox SET lease_until = $2, lease_token = $3
			WHERE seq IN (SELECT o.seq FROM webhook_outbox o WHERE %s ORDER BY o.seq LIMIT %d%s)`, dueWhere, max(limit, 1), lock),
			micros(now), micros(now.Add(lease)), token)
		if err != nil {
			return fmt.Errorf("lease: %w", s.d.classify(err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT o.seq, o.tenant_id, o.webhook_id, o.event_id, o.event_type, o.user_id,
			o.payload, o.attempts, o.created_at, w.url, w.secret_sealed
			FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id
			WHERE o.lease_token = $1 ORDER BY o.seq`, token)
		if err != nil {
			return fmt.Errorf("read leased: %w", s.d.classify(err))
		}
		defer rows.Close()
		for rows.Next() {
			d := &webhook.Delivery{Token: token}
			var payload string
			var attempts, created int64
			var sealed []byte
			if err := rows.Scan(&d.Seq, &d.TenantID, &d.WebhookID, &d.EventID, &d.EventType, &d.UserID,
				&payload, &attempts, &created, &d.URL, &sealed); err != nil {
				return fmt.Errorf("read leased: %w", err)
			}
			d.Payload, d.Attempts, d.CreatedAt = []byte(payload), int(attempts), fromMicros(created)
			d.Secret, d.SecretErr = s.kr.Open(sealed, webhookAAD(d.WebhookID))
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return out, nil
}

// RecordDelivery implements webhook.Outbox.
func (s *Store) RecordDelivery(ctx context.Context, d *webhook.Delivery, r webhook.Result) error {
	// A pending row gets its retry time; a finished one records its
	// last attempt's time there and in done_at.
	var done int64
	next := micros(r.At)
	if r.State == webhook.StatePending {
		next = micros(r.NextAttempt)
	} else {
		done = micros(r.At)
	}
	res, err := s.exec(ctx, `UPDATE webhook_outbox SET state = $3, attempts = attempts + 1, next_attempt_at = $4,
		last_status = $5, last_error = $6, done_at = $7, lease_until = 0, lease_token = ''
		WHERE seq = $1 AND lease_token = $2 AND state = 'pending'`,
		d.Seq, d.Token, r.State, next, int64(r.Status), r.Error, done)
	if err != nil {
		return fmt.Errorf("record webhook delivery: %w", s.d.classify(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("record webhook delivery: %w", err)
	} else if n == 0 {
		return webhook.ErrLeaseLost
	}
	return nil
}

// PendingDeliveries implements webhook.Outbox.
func (s *Store) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM webhook_outbox WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count webhook deliveries: %w", s.d.classify(err))
	}
	return n, nil
}

// PurgeDeliveries implements webhook.Outbox.
func (s *Store) PurgeDeliveries(ctx context.Context, deliveredBefore, deadBefore time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM webhook_outbox
		WHERE (state = 'delivered' AND done_at < $1) OR (state = 'dead' AND done_at < $2)`, micros(deliveredBefore), micros(deadBefore))
	if err != nil {
		return 0, fmt.Errorf("purge webhook deliveries: %w", s.d.classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge webhook deliveries: %w", err)
	}
	return n, nil
}

// DeliveryInfo is one outbox row as `roster webhook deliveries` shows it.
type DeliveryInfo struct {
	Seq         int64
	TenantID    string
	WebhookID   string
	EventID     string
	EventType   string
	UserID      string
	State       string
	Attempts    int
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	NextAttempt *time.Time // pending only
	DoneAt      *time.Time // delivered and dead only
}

// DeliveryQuery selects outbox rows; empty fields match every row.
type DeliveryQuery struct {
	TenantID string
	State    string
	Limit    int // <= 0: 100
}

// ListDeliveries returns the newest rows matching q, oldest of them
// first.
func (s *Store) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]*DeliveryInfo, error) {
	query := `SELECT seq, tenant_id, webhook_id, event_id, event_type, user_id, state, attempts, last_status, last_error,
		created_at, next_attempt_at, done_at FROM webhook_outbox WHERE 1 = 1`
	var args []any
	if q.TenantID != "" {
		args = append(args, q.TenantID)
		query += fmt.Sprintf(` AND tenant_id = $%d`, len(args))
	}
	if q.State != "" {
		args = append(args, q.State)
		query += fmt.Sprintf(` AND state = $%d`, len(args))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query += fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", s.d.classify(err))
	}
	defer rows.Close()
	var out []*DeliveryInfo
	for rows.Next() {
		var d DeliveryInfo
		var attempts, status, created, next, done int64
		if err := rows.Scan(&d.Seq, &d.TenantID, &d.WebhookID, &d.EventID, &d.EventType, &d.UserID, &d.State,
			&attempts, &status, &d.LastError, &created, &next, &done); err != nil {
			return nil, fmt.Errorf("list webhook deliveries: %w", err)
		}
		d.Attempts, d.LastStatus, d.CreatedAt = int(attempts), int(status), fromMicros(created)
		if d.State == webhook.StatePending {
			t := fromMicros(next)
			d.NextAttempt = &t
		} else {
			t := fromMicros(done)
			d.DoneAt = &t
		}
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", s.d.classify(err))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// reencryptWebhooks seals every webhook signing secret sealed under
// another key again under the current one. Subscriptions are few, so one
// read and one write transaction cover them all; as for SSNs, an UPDATE
// applies only where the column still holds what was read.
func (s *Store) reencryptWebhooks(ctx context.Context, st *ReencryptStats, progress func(ReencryptStats)) error {
	current := s.kr.CurrentKeyID()
	rows, err := s.r.QueryContext(ctx, `SELECT id, secret_sealed FROM webhooks ORDER BY id`)
	if err != nil {
		return fmt.Errorf("reencrypt webhook secrets: %w", err)
	}
	var todo []resealed
	n := 0
	for rows.Next() {
		var id string
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			rows.Close()
			return fmt.Errorf("reencrypt webhook secrets: %w", err)
		}
		n++
		if kid, _ := secret.KeyIDOf(sealed); kid == current {
			continue
		}
		plain, err := s.kr.Open(sealed, webhookAAD(id))
		if err != nil {
			rows.Close()
			return fmt.Errorf("reencrypt secret of webhook %s: %w", id, err)
		}
		todo = append(todo, resealed{where: []any{id}, old: sealed, new: s.kr.Seal(plain, webhookAAD(id))})
		clear(plain)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("reencrypt webhook secrets: %w", err)
	}
	rows.Close()
	if n == 0 {
		return nil
	}
	if err := s.writeResealed(ctx, todo, st,
		`UPDATE webhooks SET secret_sealed = $2 WHERE id = $1 AND secret_sealed = $3`); err != nil {
		return fmt.Errorf("reencrypt webhook secrets: %w", err)
	}
	st.Scanned += int64(n)
	if progress != nil {
		progress(*st)
	}
	return nil
}
