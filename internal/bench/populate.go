package bench

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/roster-dev/roster/internal/directory"
)

// populateBatch is how many users one bulk transaction stores, as
// `roster user import` does.
const populateBatch = 2048

// populateBulk stores n users in process through the bulk import path of
// `roster user import` (Service.PrepareImport on every core, then
// Service.ImportRows, one transaction per batch), so a million users take
// seconds, not the minutes of one create each.
func (t *target) populateBulk(ctx context.Context, n int, run string) error {
	t.usersVia = fmt.Sprintf("Service.ImportRows, batches of %d", populateBatch)
	rules := directory.Rules{Checks: directory.CheckEmail}
	for start := 0; start < n; start += populateBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := make([]*directory.ImportRow, min(populateBatch, n-start))
		errs := make([]error, len(rows))
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(rows); i += workers {
					name := fmt.Sprintf("pre-%s-%d", run, start+i)
					rows[i], errs[i] = t.svc.PrepareImport(ctx, t.principal, &directory.User{Username: name,
						FirstName: "Pre", LastName: "User", Email: name + "@pre.example.com"}, rules)
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				return fmt.Errorf("pre-populate user %d: %w", start+i, err)
			}
		}
		if err := t.svc.ImportRows(ctx, t.principal, rows, directory.ConflictFail); err != nil {
			return fmt.Errorf("pre-populate users %d to %d: %w", start, start+len(rows)-1, err)
		}
		for i, r := range rows {
			if r.Err != nil {
				return fmt.Errorf("pre-populate user %d: %w", start+i, r.Err)
			}
			t.truvIDs[start+i] = strings.ReplaceAll(r.User().ID, "-", "")
			t.usernames[start+i] = r.User().Username
		}
	}
	return nil
}
