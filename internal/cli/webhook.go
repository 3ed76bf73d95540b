package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/roster-dev/roster/internal/config"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/webhook"
)

// envAllowPrivateWebhooks is the environment twin of
// --allow-private-webhooks (add and serve); config reads it.
const envAllowPrivateWebhooks = "ROSTER_ALLOW_PRIVATE_WEBHOOKS"

// allowPrivateFlag adds --allow-private-webhooks to fs, bound to the
// configuration's setting (flag > ROSTER_ALLOW_PRIVATE_WEBHOOKS > file).
func allowPrivateFlag(fs *flag.FlagSet, c *config.Config) {
	fs.BoolVar(&c.AllowPrivateWebhooks, "allow-private-webhooks", c.AllowPrivateWebhooks,
		"let webhooks reach loopback, private, link-local and cloud metadata addresses (env "+envAllowPrivateWebhooks+"; docs/WEBHOOKS.md)")
}

type webhookJSON struct {
	ID        string   `json:"id"`
	TenantID  string   `json:"tenant_id"`
	Tenant    string   `json:"tenant"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	CreatedAt string   `json:"created_at"`
	// Secret is set only by `webhook add`, the one time it is shown.
	Secret string `json:"secret,omitempty"`
}

func webhookAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("webhook add").withTenant()
	rawURL := s.fs.String("url", "", "deliver to `URL`, http or https (required)")
	events := s.fs.String("events", strings.Join(webhook.EventTypes, ","), "the event types to send, a comma-separated `LIST`")
	allowPrivateFlag(s.fs, s.cfg)
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	var evs []string
	var target string
	_, o, err := s.open(ctx, args, 0, "no arguments besides flags", func([]string) error {
		// The configuration's layers first: whether private addresses
		// are allowed may come from the environment or the file.
		if err := s.check(); err != nil {
			return err
		}
		if *rawURL == "" {
			return fmt.Errorf("%w: --url is required", errUsage)
		}
		var err error
		if evs, err = webhook.ParseEvents(*events); err != nil {
			return fmt.Errorf("%w: --events: %v", errUsage, err)
		}
		// Checked before the database is opened: a refused URL changes
		// nothing.
		target, err = webhook.CheckURL(ctx, *rawURL, s.cfg.AllowPrivateWebhooks, nil)
		return err
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	t, err := o.svc.TenantByName(ctx, *s.tenant)
	if err != nil {
		return tenantError(*s.tenant, err)
	}
	sub := &webhook.Subscription{ID: directory.NewID(), TenantID: t.ID, URL: target, Events: evs, CreatedAt: time.Now().UTC()}
	sec := webhook.NewSecret()
	if err := o.store.CreateWebhook(ctx, sub, sec, adminChange(t.ID, directory.ActionWebhookCreate, sub.ID, []string{"url", "events"})); err != nil {
		return err
	}
	if strings.HasPrefix(sub.URL, "http://") {
		fmt.Fprintln(stderr, "warning: the URL is plain http: events carry personal data; prefer https")
	}
	if *asJSON {
		j := toWebhookJSON(sub, t.Name)
		j.Secret = sec
		return printJSON(stdout, j)
	}
	fmt.Fprintf(stdout, "webhook: %s\ntenant:  %s\nurl:     %s\nevents:  %s\nsecret:  %s\n\n", sub.ID, t.Name, sub.URL, strings.Join(evs, ","), sec)
	fmt.Fprintf(stdout, "The signing secret is shown only now (Roster keeps it encrypted, to sign with it).\nVerify the %s header with it: docs/WEBHOOKS.md.\n", webhook.SignatureHeader)
	return nil
}

func toWebhookJSON(w *webhook.Subscription, tenant string) webhookJSON {
	return webhookJSON{ID: w.ID, TenantID: w.TenantID, Tenant: tenant, URL: w.URL, Events: w.Events,
		CreatedAt: w.CreatedAt.UTC().Format(time.RFC3339)}
}

func webhookList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("webhook list").withTenant()
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	_, o, err := s.open(ctx, args, 0, "no arguments besides --tenant", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	t, err := o.svc.TenantByName(ctx, *s.tenant)
	if err != nil {
		return tenantError(*s.tenant, err)
	}
	subs, err := o.store.ListWebhooks(ctx, t.ID)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(subs))
	for i, w := range subs {
		out[i] = toWebhookJSON(w, t.Name)
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tCREATED")
	for _, w := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.ID, w.URL, strings.Join(w.Events, ","), w.CreatedAt)
	}
	return tw.Flush()
}

func webhookRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, o, err := newSetup("webhook remove").open(ctx, args, 1, "one webhook ID", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	id, ok := directory.ParseID(pos[0])
	if !ok {
		return fmt.Errorf("webhook %q not found", pos[0])
	}
	w, err := o.store.GetWebhook(ctx, id)
	if err == nil {
		err = o.store.DeleteWebhook(ctx, w.TenantID, id, adminChange(w.TenantID, directory.ActionWebhookDelete, id, nil))
	}
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("webhook %q not found", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed webhook %s and its queued deliveries\n", id)
	return nil
}

type deliveryJSON struct {
	Seq         int64   `json:"seq"`
	TenantID    string  `json:"tenant_id"`
	WebhookID   string  `json:"webhook_id"`
	EventID     string  `json:"event_id"`
	EventType   string  `json:"event_type"`
	UserID      string  `json:"user_id"`
	State       string  `json:"state"`
	Attempts    int     `json:"attempts"`
	LastStatus  int     `json:"last_status"`
	LastError   string  `json:"last_error"`
	CreatedAt   string  `json:"created_at"`
	NextAttempt *string `json:"next_attempt_at"`
	DoneAt      *string `json:"done_at"`
}

func webhookDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("webhook deliveries")
	tenant := s.fs.String("tenant", "", "only this tenant's, by `NAME`")
	state := s.fs.String("state", "", "only deliveries in `STATE`: pending, delivered or dead")
	limit := s.fs.Int("limit", 100, "show the newest `N`")
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	_, o, err := s.open(ctx, args, 0, "no arguments besides flags", func([]string) error {
		switch *state {
		case "", webhook.StatePending, webhook.StateDelivered, webhook.StateDead:
		default:
			return fmt.Errorf("%w: --state %q: want pending, delivered or dead", errUsage, *state)
		}
		if *limit < 1 || *limit > 10000 {
			return fmt.Errorf("%w: --limit: want 1 to 10000", errUsage)
		}
		return nil
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	q := store.DeliveryQuery{State: *state, Limit: *limit}
	if *tenant != "" {
		t, err := o.svc.TenantByName(ctx, *tenant)
		if err != nil {
			return tenantError(*tenant, err)
		}
		q.TenantID = t.ID
	}
	ds, err := o.store.ListDeliveries(ctx, q)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON{Seq: d.Seq, TenantID: d.TenantID, WebhookID: d.WebhookID, EventID: d.EventID,
			EventType: d.EventType, UserID: d.UserID, State: d.State, Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt.Format(time.RFC3339),
			NextAttempt: fmtTime(d.NextAttempt), DoneAt: fmtTime(d.DoneAt)}
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tSTATE\tATTEMPTS\tEVENT\tUSER\tWEBHOOK\tCREATED\tNEXT/DONE\tLAST")
	for _, d := range out {
		when := orDash(d.NextAttempt)
		if d.DoneAt != nil {
			when = *d.DoneAt
		}
		last := "-"
		if d.LastStatus != 0 || d.LastError != "" {
			last = strings.TrimSpace(strconv.Itoa(d.LastStatus) + " " + d.LastError)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s %s\t%s\t%s\t%s\t%s\t%s\n", d.Seq, d.State, d.Attempts, d.EventType, d.EventID,
			d.UserID, d.WebhookID, d.CreatedAt, when, last)
	}
	return tw.Flush()
}

// adminChange is the audit entry of a webhook change made by the roster
// command: who added or removed which destination of a tenant's user data
// is worth a record.
func adminChange(tenantID, action, id string, fields []string) *directory.Change {
	return &directory.Change{Audit: directory.AuditEntry{ID: directory.NewID(), TenantID: tenantID, At: time.Now().UTC(),
		Actor: directory.ActorAdmin, Action: action, TargetType: directory.TargetWebhook, TargetID: id, Fields: fields}}
}

// startWebhooks runs the webhook dispatcher beside the server until ctx
// ends or stop is called; stop waits for the deliveries in flight to
// record their outcome, so call it before the store closes.
func startWebhooks(ctx context.Context, st *store.Store, logger *slog.Logger, allowPrivate bool) (d *webhook.Dispatcher, stop func()) {
	d = webhook.New(st, webhook.Options{Logger: logger, AllowPrivate: allowPrivate})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			logger.Error("webhook dispatcher", "error", err.Error())
		}
	}()
	return d, func() { cancel(); <-done }
}
