package store_test

import (
	"fmt"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSearchUsersPaging: users matching by different identifiers (first
// name, e-mail, username, external id, and several at once) page
// through SearchUsers exactly once each, in a stable order, whatever the
// page size; other tenants' users never appear.
func TestSearchUsersPaging(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := testdb.Open(t, backend)
			svc := directory.NewService(s, directory.Options{})
			want := map[string]bool{}
			for _, name := range []string{"acme", "other"} {
				tn, err := svc.CreateTenant(t.Context(), name, directory.UniquePolicy{})
				if err != nil {
					t.Fatal(err)
				}
				p := directory.Principal{TenantID: tn.ID, TenantName: tn.Name}
				for i := range 40 {
					u := &directory.User{FirstName: "Zoe", LastName: fmt.Sprintf("L%02d", i)}
					switch i % 4 {
					case 0:
						u.FirstName = fmt.Sprintf("Mark%02d", i)
					case 1:
						u.Email = fmt.Sprintf("mark%02d@example.com", i)
					case 2:
						u.Username = fmt.Sprintf("MARK%02d", i)
						u.FirstName = "Marka" // matches twice
					case 3:
						u.ExternalID = fmt.Sprintf("mark-%02d", i)
					}
					got, err := svc.CreateUser(t.Context(), p, u, directory.Rules{})
					if err != nil {
						t.Fatal(err)
					}
					if name == "acme" {
						want[got.ID] = true
					}
				}
				if name == "acme" {
					defer func(tenantID string) {
						for _, size := range []int{1, 7, 40, 100} {
							seen := map[string]bool{}
							for off := 0; ; off += size {
								us, more, err := s.SearchUsers(t.Context(), tenantID, "mark", off, size)
								if err != nil {
									t.Fatal(err)
								}
								for _, u := range us {
									if seen[u.ID] || !want[u.ID] {
										t.Fatalf("page size %d, offset %d: %s repeated or not acme's", size, off, u.ID)
									}
									seen[u.ID] = true
								}
								if !more {
									break
								}
							}
							if len(seen) != len(want) {
								t.Errorf("page size %d: %d users seen, want %d", size, len(seen), len(want))
							}
						}
					}(tn.ID)
				}
			}
		})
	}
}
