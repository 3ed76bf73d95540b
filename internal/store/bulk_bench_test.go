package store_test

import (
	"fmt"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

// BenchmarkImportRows measures the bulk import path below the CLI: rows
// prepared by the Service (validation, claims, SSN sealing) and written
// by Store.InsertUsers in batches of 4096, on a store that grows by every
// batch. b.N is rows.
func BenchmarkImportRows(b *testing.B) {
	for _, backend := range testdb.Backends {
		b.Run(backend, func(b *testing.B) {
			s := testdb.Open(b, backend)
			svc := d.NewService(s, d.Options{})
			t, err := svc.CreateTenant(b.Context(), "bench", d.DefaultUniquePolicy)
			if err != nil {
				b.Fatal(err)
			}
			p := d.Principal{TenantID: t.ID, TenantName: t.Name, Unique: t.Unique, ClientID: d.ActorAdmin}
			rules := d.Rules{Checks: d.CheckEmail | d.CheckPhoneFormat | d.CheckSSNStructure}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(4096, b.N-done)
				rows := make([]*d.ImportRow, n)
				for i := range rows {
					k := done + i
					u := &d.User{Username: fmt.Sprintf("user%07d", k), Email: fmt.Sprintf("user%07d@example.com", k),
						Phone: fmt.Sprintf("+1415%03d%04d", 200+k/10000, k%10000), FirstName: "Ann", LastName: "Lee",
						ExternalID: fmt.Sprintf("hr-%07d", k), SSN: "222233333"}
					if rows[i], err = svc.PrepareImport(b.Context(), p, u, rules); err != nil {
						b.Fatal(err)
					}
				}
				if err := svc.ImportRows(b.Context(), p, rows, d.ConflictFail); err != nil {
					b.Fatal(err)
				}
				for _, r := range rows {
					if r.Err != nil || r.Outcome != d.Imported {
						b.Fatalf("row: %v %v", r.Outcome, r.Err)
					}
				}
				done += n
			}
		})
	}
}
