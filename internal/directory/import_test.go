package directory_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestImportUserConcurrentSameID: rows racing for one id on a tenant
// where nothing else is unique yield one user; the database's primary key,
// not a read before the insert, decides. Under skip the losers are
// skipped, under fail they are conflicts naming the id.
func TestImportUserConcurrentSameID(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			svc := directory.NewService(testdb.Open(t, backend), directory.Options{})
			tn, err := svc.CreateTenant(t.Context(), "loose", directory.UniquePolicy{})
			if err != nil {
				t.Fatal(err)
			}
			p := directory.Principal{TenantID: tn.ID, TenantName: tn.Name, Unique: tn.Unique, ClientID: "cli"}
			for _, mode := range []directory.OnConflict{directory.ConflictSkip, directory.ConflictFail} {
				id := directory.NewID()
				const n = 8
				var wg sync.WaitGroup
				outcomes := make([]directory.ImportOutcome, n)
				errs := make([]error, n)
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						in := &directory.User{ID: id, Email: "same@example.com", CreatedAt: time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)}
						_, outcomes[i], errs[i] = svc.ImportUser(t.Context(), p, in, directory.Rules{}, mode)
					}()
				}
				wg.Wait()
				imported, others := 0, 0
				for i := range n {
					var ce *directory.ConflictError
					switch {
					case errs[i] == nil && outcomes[i] == directory.Imported:
						imported++
					case mode == directory.ConflictSkip && errs[i] == nil && outcomes[i] == directory.Skipped:
						others++
					case mode == directory.ConflictFail && errors.As(errs[i], &ce) && ce.Field == directory.FieldID && ce.ExistingID == id:
						others++
					default:
						t.Errorf("mode %d row %d: outcome %d, err %v", mode, i, outcomes[i], errs[i])
					}
				}
				if imported != 1 || others != n-1 {
					t.Errorf("mode %d: %d imported, %d others; want 1 and %d", mode, imported, others, n-1)
				}
				u, err := svc.GetUser(t.Context(), p, id)
				if err != nil || !u.CreatedAt.Equal(time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)) || u.UpdatedAt != u.CreatedAt || u.Version != 1 {
					t.Errorf("stored user %+v (%v): want the row's created_at as updated_at too, version 1", u, err)
				}
			}
		})
	}
}
