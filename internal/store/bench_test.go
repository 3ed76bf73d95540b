package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	d "github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

// BenchmarkCreateUserValues measures a store create of a user as Truv
// writes one (an e-mail and a phone, so two values), beside the same
// create without values: the difference is the cost of user_values on
// the create path.
func BenchmarkCreateUserValues(b *testing.B) {
	for _, backend := range testdb.Backends {
		for _, withValues := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/values=%v", backend, withValues), func(b *testing.B) {
				s := testdb.Open(b, backend)
				tn := &d.Tenant{ID: d.NewID(), Name: "bench", CreatedAt: time.Now()}
				if err := s.CreateTenant(b.Context(), tn, nil); err != nil {
					b.Fatal(err)
				}
				var n atomic.Int64
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						u := &d.User{ID: d.NewID(), TenantID: tn.ID, Email: fmt.Sprintf("u%d@example.com", i),
							Phone: fmt.Sprintf("+1415%07d", i), State: d.StateActive, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
						u.EmailNorm, u.PhoneNorm = u.Email, u.Phone
						if withValues {
							u.Values = map[d.ValueKind][]d.Value{
								d.KindEmail: {{Value: u.Email, Type: d.TypeWork, Primary: true}},
								d.KindPhone: {{Value: u.Phone, Type: d.TypeWork, Primary: true}},
							}
						}
						claims := []d.Claim{{Kind: d.ClaimEmail, Value: u.EmailNorm}, {Kind: d.ClaimPhone, Value: u.PhoneNorm}}
						if err := s.CreateUser(b.Context(), u, claims, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkFilterValue measures emails.value eq (folded, as SCIM sends
// it) in a tenant of 20,000 users with two e-mails each: the lookup the
// user_values_value index serves.
func BenchmarkFilterValue(b *testing.B) {
	const users = 20000
	for _, backend := range testdb.Backends {
		b.Run(backend, func(b *testing.B) {
			s := testdb.Open(b, backend)
			tn := &d.Tenant{ID: d.NewID(), Name: "bench", CreatedAt: time.Now()}
			if err := s.CreateTenant(b.Context(), tn, nil); err != nil {
				b.Fatal(err)
			}
			for i := range users {
				u := &d.User{ID: d.NewID(), TenantID: tn.ID, State: d.StateActive, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now(),
					Values: map[d.ValueKind][]d.Value{d.KindEmail: {
						{Value: fmt.Sprintf("U%d@Example.com", i), Type: "work", Primary: true},
						{Value: fmt.Sprintf("u%d@home.example", i), Type: "home"},
					}}}
				if err := s.CreateUser(b.Context(), u, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				probe := fmt.Sprintf("u%d@HOME.example", (i*7919)%users)
				page, err := s.ListUsers(b.Context(), tn.ID, d.UserQuery{
					Filter: d.Any{Kind: d.KindEmail, X: d.Cmp{Field: d.FieldValue, Op: d.OpEq, Value: probe, Fold: true}},
					Total:  true,
				})
				if err != nil || len(page.Users) != 1 {
					b.Fatalf("got %v, %v, want one user", page, err)
				}
			}
		})
	}
}
