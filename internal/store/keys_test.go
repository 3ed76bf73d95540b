package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

func mustRing(t *testing.T, spec string) *secret.Keyring {
	t.Helper()
	kr, err := secret.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestKeyRotation, on both backends: users created under key A read back
// after re-encryption to B and the removal of A; updates made during the
// re-encryption, by an instance still sealing with A, lose nothing; a
// re-encryption write overtaken by an update does not undo it.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			url := testdb.URL(t, backend)
			specA, specB := "a:"+secret.NewKeySpec(), "b:"+secret.NewKeySpec()
			stA := testdb.OpenURL(t, url, mustRing(t, specA))            // an instance not yet rotated
			stAB := testdb.OpenURL(t, url, mustRing(t, specB+","+specA)) // rotated: B first, A still readable

			tn := &directory.Tenant{ID: directory.NewID(), Name: "acme", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
			if err := stA.CreateTenant(ctx, tn, nil); err != nil {
				t.Fatal(err)
			}
			const n = 240
			users := make([]*directory.User, n)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range users {
				now := time.Now().UTC().Truncate(time.Microsecond)
				u := &directory.User{ID: directory.NewID(), TenantID: tn.ID, FirstName: fmt.Sprint("user", i),
					Version: 1, CreatedAt: now, UpdatedAt: now}
				if i%10 != 0 { // every tenth user has no SSN
					u.SSN = secret.Value(fmt.Sprintf("%09d", 100000000+i))
				}
				users[i] = u
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- stA.CreateUser(ctx, u, nil, nil)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}

			// An update overtakes a re-encryption write: the write applies
			// only where the ciphertext it read is still stored.
			victim := users[1]
			old, err := store.SSNCiphertextForTest(ctx, stAB, tn.ID, victim.ID)
			if err != nil {
				t.Fatal(err)
			}
			update(t, stA, victim, "Overtaken", "999999999")
			st, err := store.ResealForTest(ctx, stAB, tn.ID, victim.ID, old)
			if err != nil || st.Skipped != 1 || st.Reencrypted != 0 {
				t.Fatalf("overtaken reseal: %+v, %v; want 1 skipped", st, err)
			}
			if got := get(t, stAB, victim); got.SSN.Reveal() != "999999999" || got.FirstName != "Overtaken" {
				t.Fatalf("overtaken update lost: %q %q", got.FirstName, got.SSN.Reveal())
			}

			// Updates race a whole pass.
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 2; ; i = (i + 7) % n {
					select {
					case <-stop:
						return
					default:
					}
					if users[i].SSN.IsZero() || i == 1 {
						continue
					}
					update(t, stA, users[i], fmt.Sprint("updated", users[i].Version), fmt.Sprintf("%09d", 200000000+int(users[i].Version)*1000+i))
				}
			}()
			var batches int
			first, err := stAB.Reencrypt(ctx, 50, func(store.ReencryptStats) { batches++ })
			close(stop)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if first.Batches < 5 || batches < 5 {
				t.Fatalf("first pass: %+v in %d progress calls, want batches of 50", first, batches)
			}
			// The old-key instance kept writing under A: a second pass takes
			// what it wrote; a third finds nothing.
			if _, err := stAB.Reencrypt(ctx, 50, nil); err != nil {
				t.Fatal(err)
			}
			third, err := stAB.Reencrypt(ctx, 50, nil)
			if err != nil || third.Reencrypted != 0 || third.Skipped != 0 {
				t.Fatalf("third pass: %+v, %v; want nothing left", third, err)
			}
			usage, err := stAB.KeyUsage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(usage) != 1 || usage[0].KeyID != "b" || usage[0].SSNs != n-n/10 {
				t.Fatalf("key usage %+v, want only b with %d SSNs", usage, n-n/10)
			}

			// A removed: an instance with B alone reads every user as last
			// written.
			stB := testdb.OpenURL(t, url, mustRing(t, specB))
			for _, want := range users {
				got := get(t, stB, want)
				if got.SSN.Reveal() != want.SSN.Reveal() || got.FirstName != want.FirstName || got.Version != want.Version {
					t.Fatalf("user %s: got %q %q v%d, want %q %q v%d", want.ID, got.FirstName, got.SSN.Reveal(), got.Version,
						want.FirstName, want.SSN.Reveal(), want.Version)
				}
			}
			// Without B nothing opens, and the error says so.
			if _, err := testdb.OpenURL(t, url, mustRing(t, specA)).GetUser(ctx, tn.ID, users[2].ID); !errors.Is(err, secret.ErrNoKey) {
				t.Fatalf("read with A only: %v, want ErrNoKey", err)
			}
			if c, _ := store.SSNCiphertextForTest(ctx, stB, tn.ID, users[2].ID); bytes.Contains(c, []byte(users[2].SSN.Reveal())) {
				t.Fatal("ciphertext holds the SSN")
			}
		})
	}
}

// update replaces u's name and SSN through s, as the Service would.
func update(t *testing.T, s *store.Store, u *directory.User, name, ssn string) {
	t.Helper()
	next := *u
	next.FirstName, next.SSN = name, secret.Value(ssn)
	next.Version = u.Version + 1
	next.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	if err := s.UpdateUser(t.Context(), &next, nil, u.Version, nil); err != nil {
		t.Errorf("update %s: %v", u.ID, err)
		return
	}
	*u = next
}

func get(t *testing.T, s *store.Store, u *directory.User) *directory.User {
	t.Helper()
	got, err := s.GetUser(t.Context(), u.TenantID, u.ID)
	if err != nil {
		t.Fatalf("get %s: %v", u.ID, err)
	}
	return got
}
