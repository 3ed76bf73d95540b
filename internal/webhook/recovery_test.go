package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
	"github.com/roster-dev/roster/internal/webhook"
)

// storeEnv is a tenant with a subscription on a database a test may
// reopen, written through the Service directly.
type storeEnv struct {
	url string
	svc *directory.Service
	p   directory.Principal
}

func newStoreEnv(t *testing.T, st *store.Store, url, receiverURL string) (*storeEnv, string) {
	t.Helper()
	ctx := t.Context()
	svc := directory.NewService(st, directory.Options{})
	tn, err := svc.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy)
	if err != nil {
		t.Fatal(err)
	}
	sec := webhook.NewSecret()
	sub := &webhook.Subscription{ID: directory.NewID(), TenantID: tn.ID, URL: receiverURL, Events: webhook.EventTypes, CreatedAt: time.Now()}
	if err := st.CreateWebhook(ctx, sub, sec, nil); err != nil {
		t.Fatal(err)
	}
	return &storeEnv{url: url, svc: svc, p: directory.Principal{TenantID: tn.ID, TenantName: tn.Name, Unique: tn.Unique}}, sec
}

// change creates n users and renames each once: 2n events, two per user.
func (e *storeEnv) change(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		u, err := e.svc.CreateUser(t.Context(), e.p, &directory.User{Username: fmt.Sprintf("u%d", i), FirstName: "A", LastName: "B"}, directory.Rules{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateUser(t.Context(), e.p, u.ID, directory.Rules{}, 0, func(u *directory.User) error {
			u.LastName = "C"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkOnceInOrder fails unless got holds every one of want events exactly
// once, each user's created before its updated.
func checkOnceInOrder(t *testing.T, got []received, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		seen[r.event.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct events delivered, want %d", len(seen), want)
	}
	for user, types := range typesByUser(got) {
		if strings.Join(types, ",") != "user.created,user.updated" {
			t.Errorf("user %s: events %v, want created then updated", user, types)
		}
	}
}

// TestCrashBetweenCommitAndDelivery: changes commit while no dispatcher
// runs, a dispatcher claims some of them and dies without sending, and
// the database is closed. A new process on the same database delivers
// every event once the dead claim's lease has ended, in order per user.
func TestCrashBetweenCommitAndDelivery(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		rcv := newReceiver(t, nil)
		url, kr := testdb.URL(t, backend), testdb.Keyring(t)
		first, err := store.Open(t.Context(), url, store.Options{Keyring: kr})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := first.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		e, _ := newStoreEnv(t, first, url, rcv.srv.URL)
		e.change(t, 3)
		claimed, err := first.ClaimDeliveries(t.Context(), time.Now(), time.Minute, 2)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %d deliveries (%v), want 2", len(claimed), err)
		}
		if err := first.Close(); err != nil { // the crash: nothing was sent
			t.Fatal(err)
		}
		if got := rcv.requests(); len(got) != 0 {
			t.Fatalf("%d requests before any dispatcher ran", len(got))
		}

		second := testdb.OpenURL(t, url, kr)
		later := func() time.Time { return time.Now().Add(2 * time.Minute) } // past the dead claim's lease
		run(t, second, webhook.Options{AllowPrivate: true, Now: later})
		rcv.waitFor("6 events", func(got []received) bool { return distinctEvents(got) >= 6 })
		waitDrained(t, second)
		checkOnceInOrder(t, rcv.requests(), 6)
	})
}

// TestTwoDispatchersOnePostgres: two instances' dispatchers share one
// outbox while changes are being committed; every event is delivered
// exactly once, in order per user.
func TestTwoDispatchersOnePostgres(t *testing.T) {
	rcv := newReceiver(t, nil)
	testTwoDispatchers(t, rcv, checkOnceInOrder)
}

// TestTwoDispatchersWithRetries: the same while the receiver fails the
// first attempt of every third event: each event is accepted exactly
// once, and no attempt at a user's update precedes the accepted create.
func TestTwoDispatchersWithRetries(t *testing.T) {
	var n atomic.Int64
	rcv := newReceiver(t, func(_ event, seen int) int {
		if seen == 1 && n.Add(1)%3 == 0 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	testTwoDispatchers(t, rcv, func(t *testing.T, got []received, want int) {
		accepted := map[string]int{}
		createdOK := map[string]bool{} // user -> its create was accepted
		retried := 0
		for _, r := range got {
			if r.status/100 == 2 {
				accepted[r.event.ID]++
				if r.event.Type == webhook.UserCreated {
					createdOK[r.event.UserID] = true
				}
			} else {
				retried++
			}
			if r.event.Type == webhook.UserUpdated && !createdOK[r.event.UserID] {
				t.Errorf("user %s: update attempted before its create was accepted", r.event.UserID)
			}
		}
		if len(accepted) != want || retried == 0 {
			t.Errorf("%d events accepted (want %d), %d failed attempts (want some)", len(accepted), want, retried)
		}
		for id, k := range accepted {
			if k != 1 {
				t.Errorf("event %s accepted %d times", id, k)
			}
		}
	})
}

func testTwoDispatchers(t *testing.T, rcv *receiver, check func(*testing.T, []received, int)) {
	url, kr := testdb.PostgresURL(t), testdb.Keyring(t)
	a, b := testdb.OpenURL(t, url, kr), testdb.OpenURL(t, url, kr)
	e, _ := newStoreEnv(t, a, url, rcv.srv.URL)
	run(t, a, webhook.Options{AllowPrivate: true})
	run(t, b, webhook.Options{AllowPrivate: true})
	const users = 25
	e.change(t, users)
	rcv.waitFor("every event", func(got []received) bool { return distinctEvents(got) >= 2*users })
	waitDrained(t, a)
	check(t, rcv.requests(), 2*users)
}

// TestDialTimeRefusal: a stored URL whose address the policy refuses
// (as when DNS answers differently after the subscription was added) is
// refused when dialled: the receiver gets nothing, and the delivery is
// dead with the reason.
func TestDialTimeRefusal(t *testing.T) {
	rcv := newReceiver(t, func(event, int) int { return http.StatusOK })
	st := testdb.SQLite(t)
	e, _ := newStoreEnv(t, st, "", rcv.srv.URL) // 127.0.0.1: stored as if it had resolved elsewhere
	e.change(t, 1)
	run(t, st, webhook.Options{MaxAttempts: 1}) // private destinations not allowed
	waitDrained(t, st)
	if got := rcv.requests(); len(got) != 0 {
		t.Errorf("receiver on loopback got %d requests, want none", len(got))
	}
	dead, err := st.ListDeliveries(t.Context(), store.DeliveryQuery{State: webhook.StateDead})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 || !strings.Contains(dead[0].LastError, "not allowed") || dead[0].LastStatus != 0 {
		t.Errorf("dead: %+v, want both events refused at dial", deref(dead))
	}
	for _, d := range dead {
		if strings.Contains(d.LastError, "token=") || strings.Contains(d.LastError, rcv.srv.URL) {
			t.Errorf("stored error repeats the URL: %q", d.LastError)
		}
	}
}

// TestRemoveWebhookDropsItsQueue: removing a subscription deletes its
// pending deliveries with it; another tenant's remove and a second remove
// are not found.
func TestRemoveWebhookDropsItsQueue(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		st := testdb.Open(t, backend)
		e, _ := newStoreEnv(t, st, "", "http://127.0.0.1:1/")
		e.change(t, 2)
		subs, err := st.ListWebhooks(t.Context(), e.p.TenantID)
		if err != nil || len(subs) != 1 {
			t.Fatalf("ListWebhooks: %d (%v)", len(subs), err)
		}
		if n, _ := st.PendingDeliveries(t.Context()); n != 4 {
			t.Fatalf("pending: %d, want 4", n)
		}
		if err := st.DeleteWebhook(t.Context(), directory.NewID(), subs[0].ID, nil); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("remove as another tenant: %v, want ErrNotFound", err)
		}
		if err := st.DeleteWebhook(t.Context(), e.p.TenantID, subs[0].ID, nil); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.PendingDeliveries(t.Context()); n != 0 {
			t.Errorf("pending after remove: %d, want 0", n)
		}
		if err := st.DeleteWebhook(context.Background(), e.p.TenantID, subs[0].ID, nil); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("second remove: %v, want ErrNotFound", err)
		}
	})
}

// TestKeyRotationReencryptsSecrets: `roster key rotate --reencrypt`
// (Store.Reencrypt) moves webhook signing secrets to the new key, so the
// old key can be dropped and deliveries still sign with the same secret.
func TestKeyRotationReencryptsSecrets(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		rcv := newReceiver(t, nil)
		url := testdb.URL(t, backend)
		oldKey, newKey := secret.NewKeySpec(), secret.NewKeySpec()
		ring := func(spec string) *secret.Keyring {
			kr, err := secret.ParseKeyring(spec)
			if err != nil {
				t.Fatal(err)
			}
			return kr
		}
		first := testdb.OpenURL(t, url, ring("old:"+oldKey))
		e, sec := newStoreEnv(t, first, url, rcv.srv.URL)
		e.change(t, 1)

		both := testdb.OpenURL(t, url, ring("new:"+newKey+",old:"+oldKey))
		if _, err := both.Reencrypt(t.Context(), 0, nil); err != nil {
			t.Fatal(err)
		}
		usage, err := both.KeyUsage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(usage) != 1 || usage[0].KeyID != "new" || usage[0].Webhooks != 1 {
			t.Fatalf("key usage after reencrypt: %+v, want the webhook secret under new only", usage)
		}

		onlyNew := testdb.OpenURL(t, url, ring("new:"+newKey))
		run(t, onlyNew, webhook.Options{AllowPrivate: true})
		got := rcv.waitFor("2 events", func(got []received) bool { return distinctEvents(got) >= 2 })
		for _, r := range got {
			if err := webhook.Verify([]byte(sec), r.header.Get(webhook.SignatureHeader), r.body, time.Now(), time.Minute); err != nil {
				t.Errorf("after rotation: %v", err)
			}
		}
	})
}
