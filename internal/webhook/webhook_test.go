package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/webhook"
)

// received is one request the test receiver got.
type received struct {
	header http.Header
	body   []byte
	event  event
	status int // what the receiver answered
}

// event is the payload as a receiver decodes it.
type event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	OccurredAt string          `json:"occurred_at"`
	TenantID   string          `json:"tenant_id"`
	UserID     string          `json:"user_id"`
	Fields     []string        `json:"fields"`
	User       json.RawMessage `json:"user"`
}

// receiver is a real HTTP server standing for a partner's endpoint. answer
// chooses each request's status from the request and how many times its
// event id has been seen (1 for the first).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(ev event, seen int) int

	mu     sync.Mutex
	got    []received // every request, in arrival order
	seen   map[string]int
	notify chan struct{}
}

func newReceiver(t *testing.T, answer func(ev event, seen int) int) *receiver {
	r := &receiver{t: t, answer: answer, seen: map[string]int{}, notify: make(chan struct{}, 1)}
	if r.answer == nil {
		r.answer = func(event, int) int { return http.StatusNoContent }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("receiver: body is not an event: %v: %s", err, body)
		}
		r.mu.Lock()
		r.seen[ev.ID]++
		status := r.answer(ev, r.seen[ev.ID])
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, event: ev, status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// requests returns a copy of what arrived so far.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor waits until cond holds over the requests, failing the test
// after a generous bound (a hang, not a speed check).
func (r *receiver) waitFor(what string, cond func([]received) bool) []received {
	r.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		got := r.requests()
		if cond(got) {
			return got
		}
		select {
		case <-r.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("receiver: %s did not happen; got %d requests", what, len(got))
		}
	}
}

// harness is a server speaking every dialect over a real store, with a
// subscription of tenant acme to every event pointing at a receiver.
type harness struct {
	env    *apitest.Env
	store  *store.Store
	sp     *apitest.Speaker
	rcv    *receiver
	sub    *webhook.Subscription
	secret string
}

func newHarness(t *testing.T, backend string, answer func(ev event, seen int) int) *harness {
	t.Helper()
	env := apitest.New(t, backend, func(mux *http.ServeMux, svc *directory.Service) {
		server.Mount(mux, svc, server.Options{})
	})
	h := &harness{env: env, store: env.Store.(*store.Store), sp: apitest.NewSpeaker(env, env.Creds)}
	h.rcv = newReceiver(t, answer)
	h.sub, h.secret = h.subscribe(t, env.Creds.Tenant.ID, h.rcv.srv.URL+"/hooks?token=abc", webhook.EventTypes)
	return h
}

func (h *harness) subscribe(t *testing.T, tenantID, url string, events []string) (*webhook.Subscription, string) {
	t.Helper()
	u, err := webhook.CheckURL(t.Context(), url, true, nil)
	if err != nil {
		t.Fatalf("CheckURL: %v", err)
	}
	sub := &webhook.Subscription{ID: directory.NewID(), TenantID: tenantID, URL: u, Events: events, CreatedAt: time.Now().UTC()}
	sec := webhook.NewSecret()
	if err := h.store.CreateWebhook(t.Context(), sub, sec, nil); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return sub, sec
}

// run starts a dispatcher on out until the test ends. Tests set
// AllowPrivate: their receivers listen on loopback.
func run(t *testing.T, out webhook.Outbox, o webhook.Options) *webhook.Dispatcher {
	t.Helper()
	if o.PollInterval == 0 {
		o.PollInterval = 10 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return 0 } // retries at once: no sleeps in tests
	}
	d := webhook.New(out, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dispatcher Run: %v", err)
		}
	})
	return d
}

func (h *harness) do(t *testing.T, dialect, method, path, body string) map[string]any {
	t.Helper()
	r := h.sp.Do(dialect, method, path, []byte(body), nil)
	if r.Status/100 != 2 {
		t.Fatalf("%s %s %s: %d %s", dialect, method, path, r.Status, r.Body)
	}
	var m map[string]any
	if len(r.Body) > 0 {
		r.JSON(t, &m)
	}
	return m
}

// truvCreate creates a user through Truv and returns its dashed id.
func (h *harness) truvCreate(t *testing.T, ext, email string) string {
	t.Helper()
	m := h.do(t, "truv", "POST", "/v1/users/",
		`{"external_user_id":"`+ext+`","first_name":"Ann","last_name":"Lee","email":"`+email+`","ssn":"987-65-4321"}`)
	id, ok := directory.ParseID(m["id"].(string))
	if !ok {
		t.Fatalf("truv create: id %v", m["id"])
	}
	return id
}

func (h *harness) scimPatch(t *testing.T, id, family string) {
	t.Helper()
	h.do(t, "scim", "PATCH", "/scim/v2/Users/"+id,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.familyName","value":"`+family+`"}]}`)
}

func (h *harness) scimDelete(t *testing.T, id string) {
	t.Helper()
	h.do(t, "scim", "DELETE", "/scim/v2/Users/"+id, "")
}

// byUser groups the event types received per user, in arrival order,
// counting every request (retries included) once per event id.
func typesByUser(got []received) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.event.ID] {
			continue
		}
		seen[r.event.ID] = true
		out[r.event.UserID] = append(out[r.event.UserID], r.event.Type)
	}
	return out
}

func distinctEvents(got []received) int {
	ids := map[string]bool{}
	for _, r := range got {
		ids[r.event.ID] = true
	}
	return len(ids)
}

// TestDeliversChangesFromTwoDialects: a user created through Truv,
// patched and deleted through SCIM, and a second user, reach the receiver
// once each, in order per user, signed, with the documented headers and
// payload, and without the SSN (the body received is the stored payload,
// byte for byte: the signature covers it).
func TestDeliversChangesFromTwoDialects(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		h := newHarness(t, backend, nil)
		other := h.env.NewTenant("other", directory.DefaultUniquePolicy) // no subscription
		deletes := newReceiver(t, nil)
		h.subscribe(t, h.env.Creds.Tenant.ID, deletes.srv.URL, []string{webhook.UserDeleted})

		a := h.truvCreate(t, "a-1", "ann@example.com")
		h.scimPatch(t, a, "Ng")
		b := h.truvCreate(t, "b-1", "bob@example.com")
		h.scimDelete(t, a)
		// A write that fails (a taken e-mail: 409) rolls back its event.
		if r := h.sp.Do("truv", "POST", "/v1/users/", []byte(`{"external_user_id":"c-1","first_name":"C","last_name":"D","email":"bob@example.com"}`), nil); r.Status != 409 {
			t.Fatalf("duplicate create: %d %s", r.Status, r.Body)
		}
		// Another tenant's changes go to nobody.
		osp := apitest.NewSpeaker(h.env, other)
		if r := osp.Do("truv", "POST", "/v1/users/", []byte(`{"external_user_id":"o-1","first_name":"O","last_name":"P"}`), nil); r.Status != 201 {
			t.Fatalf("other tenant create: %d %s", r.Status, r.Body)
		}
		if n, err := h.store.PendingDeliveries(t.Context()); err != nil || n != 5 {
			t.Fatalf("outbox before any dispatcher: %d pending (%v), want 4 + 1 delete", n, err)
		}
		infos, err := h.store.ListDeliveries(t.Context(), store.DeliveryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range infos {
			if d.TenantID != h.env.Creds.Tenant.ID {
				t.Errorf("delivery of tenant %s, want only %s", d.TenantID, h.env.Creds.Tenant.ID)
			}
		}

		d := run(t, h.store, webhook.Options{AllowPrivate: true})
		got := h.rcv.waitFor("4 events", func(got []received) bool { return len(got) >= 4 })
		if len(got) != 4 {
			t.Errorf("got %d requests, want 4 (one per event)", len(got))
		}
		if want := map[string][]string{
			a: {webhook.UserCreated, webhook.UserUpdated, webhook.UserDeleted},
			b: {webhook.UserCreated},
		}; !equalMap(typesByUser(got), want) {
			t.Errorf("events per user: got %v, want %v", typesByUser(got), want)
		}
		for _, r := range got {
			if err := webhook.Verify([]byte(h.secret), r.header.Get(webhook.SignatureHeader), r.body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("%s: signature: %v", r.event.Type, err)
			}
			if err := webhook.Verify([]byte("whsec_wrong"), r.header.Get(webhook.SignatureHeader), r.body, time.Now(), 5*time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
				t.Errorf("%s: wrong secret verified: %v", r.event.Type, err)
			}
			for k, want := range map[string]string{
				"Roster-Event-Id": r.event.ID, "Roster-Event-Type": r.event.Type, "Roster-Webhook-Id": h.sub.ID,
				"Roster-Delivery-Attempt": "1", "Content-Type": "application/json",
			} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s: header %s = %q, want %q", r.event.Type, k, got, want)
				}
			}
			if r.event.TenantID != h.env.Creds.Tenant.ID {
				t.Errorf("%s: tenant_id %q", r.event.Type, r.event.TenantID)
			}
			if _, err := time.Parse(time.RFC3339Nano, r.event.OccurredAt); err != nil {
				t.Errorf("%s: occurred_at %q: %v", r.event.Type, r.event.OccurredAt, err)
			}
			for _, ssn := range []string{"987-65-4321", "987654321"} {
				if strings.Contains(string(r.body), ssn) {
					t.Errorf("%s: SSN in payload %s", r.event.Type, r.body)
				}
			}
			switch r.event.Type {
			case webhook.UserCreated:
				var u map[string]any
				if err := json.Unmarshal(r.event.User, &u); err != nil {
					t.Fatalf("user.created user: %v", err)
				}
				if u["id"] != r.event.UserID || u["first_name"] != "Ann" || u["external_id"] == nil {
					t.Errorf("user.created user = %v", u)
				}
				if _, ok := u["ssn"]; ok {
					t.Errorf("user.created carries an ssn key: %v", u)
				}
				if !slices.Contains(r.event.Fields, "ssn") || !slices.Contains(r.event.Fields, "first_name") {
					t.Errorf("user.created fields %v: want the names set, ssn among them", r.event.Fields)
				}
			case webhook.UserUpdated:
				var u map[string]any
				if err := json.Unmarshal(r.event.User, &u); err != nil {
					t.Fatalf("user.updated user: %v", err)
				}
				if u["last_name"] != "Ng" || u["version"] != float64(2) {
					t.Errorf("user.updated user: last_name %v version %v, want Ng 2", u["last_name"], u["version"])
				}
				if !slices.Contains(r.event.Fields, "last_name") || slices.Contains(r.event.Fields, "first_name") {
					t.Errorf("user.updated fields %v: want last_name only among names", r.event.Fields)
				}
			case webhook.UserDeleted:
				if len(r.event.User) != 0 {
					t.Errorf("user.deleted carries a user: %s", r.event.User)
				}
			}
		}
		waitDrained(t, h.store)
		if got := deletes.requests(); len(got) != 1 || got[0].event.Type != webhook.UserDeleted || got[0].event.UserID != a {
			t.Errorf("user.deleted-only subscription got %d requests, want the one delete", len(got))
		}
		byOutcome, depth, err := d.Stats(t.Context())
		if err != nil || byOutcome["delivered"] != 5 || depth != 0 {
			t.Errorf("Stats: %v, depth %d, %v; want 5 delivered, depth 0", byOutcome, depth, err)
		}
	})
}

func equalMap(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// waitDrained waits until no delivery is pending: outcomes are recorded
// just after the receiver answers.
func waitDrained(t *testing.T, s *store.Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := s.PendingDeliveries(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRetriesKeepUserOrder: the receiver fails a user's first event twice
// with 500; it is retried until it succeeds, and the user's second event,
// committed meanwhile, arrives only after it.
func TestRetriesKeepUserOrder(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		h := newHarness(t, backend, func(ev event, seen int) int {
			if ev.Type == webhook.UserCreated && seen <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		a := h.truvCreate(t, "a-1", "ann@example.com")
		h.scimPatch(t, a, "Ng")
		run(t, h.store, webhook.Options{AllowPrivate: true})
		got := h.rcv.waitFor("create thrice, then update", func(got []received) bool { return len(got) >= 4 })
		var seq []string
		for _, r := range got {
			seq = append(seq, r.event.Type+"#"+r.header.Get("Roster-Delivery-Attempt"))
		}
		want := []string{"user.created#1", "user.created#2", "user.created#3", "user.updated#1"}
		if !slices.Equal(seq, want) {
			t.Errorf("arrivals: got %v, want %v", seq, want)
		}
		waitDrained(t, h.store)
		infos, err := h.store.ListDeliveries(t.Context(), store.DeliveryQuery{TenantID: h.env.Creds.Tenant.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 2 || infos[0].State != webhook.StateDelivered || infos[0].Attempts != 3 || infos[0].LastStatus != 200 {
			t.Errorf("deliveries: %+v, want the create delivered after 3 attempts", deref(infos))
		}
	})
}

func deref(ds []*store.DeliveryInfo) []store.DeliveryInfo {
	out := make([]store.DeliveryInfo, len(ds))
	for i, d := range ds {
		out[i] = *d
	}
	return out
}

// TestDeadLetter: an event the receiver always refuses is attempted
// MaxAttempts times, then is dead (visible as such), and the user's next
// event is delivered after it.
func TestDeadLetter(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		h := newHarness(t, backend, func(ev event, seen int) int {
			if ev.Type == webhook.UserCreated {
				return http.StatusServiceUnavailable
			}
			return http.StatusAccepted
		})
		a := h.truvCreate(t, "a-1", "ann@example.com")
		h.scimPatch(t, a, "Ng")
		d := run(t, h.store, webhook.Options{AllowPrivate: true, MaxAttempts: 3})
		got := h.rcv.waitFor("3 attempts, then the update", func(got []received) bool { return len(got) >= 4 })
		if got[3].event.Type != webhook.UserUpdated {
			t.Errorf("4th request: %s, want the update after the dead create", got[3].event.Type)
		}
		waitDrained(t, h.store)
		dead, err := h.store.ListDeliveries(t.Context(), store.DeliveryQuery{State: webhook.StateDead})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].EventType != webhook.UserCreated || dead[0].Attempts != 3 || dead[0].LastStatus != 503 ||
			!strings.Contains(dead[0].LastError, "503") || dead[0].DoneAt == nil {
			t.Errorf("dead deliveries: %+v, want the create after 3 attempts, last 503", deref(dead))
		}
		byOutcome, _, err := d.Stats(t.Context())
		if err != nil || byOutcome["failed"] != 2 || byOutcome["dead"] != 1 || byOutcome["delivered"] != 1 {
			t.Errorf("Stats: %v (%v), want failed 2, dead 1, delivered 1", byOutcome, err)
		}
	})
}
