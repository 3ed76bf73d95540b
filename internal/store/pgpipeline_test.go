package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestPostgresPipelinedCreate: a PostgreSQL create sent as one pipelined
// batch stores the user with its SSN, aliases, values and audit entry; a
// batch whose claim is taken writes nothing at all (one implicit
// transaction), and the transactional path then names the holder. It
// runs in pgx's default exec mode and in the two PgBouncer's transaction
// pooling needs (no named statements across transactions).
func TestPostgresPipelinedCreate(t *testing.T) {
	for _, mode := range []string{"", "exec", "simple_protocol"} {
		t.Run("mode="+mode, func(t *testing.T) {
			url := testdb.PostgresURL(t)
			if mode != "" {
				sep := "?"
				if strings.Contains(url, "?") {
					sep = "&"
				}
				url += sep + "default_query_exec_mode=" + mode
			}
			s := testdb.OpenURL(t, url, testdb.Keyring(t))
			ctx := t.Context()
			tn := gcTenant(t, s)
			ann, annClaims := gcUser(tn.ID, "ann")
			ann.SSN = secret.Value("222233333")
			ann.Aliases = []directory.Alias{{ID: directory.NewID(), Type: "CUSTOM", Value: "Ann-A"}}
			ann.Values = map[directory.ValueKind][]directory.Value{
				directory.KindEmail: {{Value: ann.Email, Type: "work", Primary: true}, {Value: "ann@home.example"}},
			}
			ch := &directory.Change{User: ann, Audit: directory.AuditEntry{ID: directory.NewID(), TenantID: tn.ID,
				At: time.Now().UTC().Truncate(time.Microsecond), Actor: "test", Action: directory.ActionUserCreate,
				TargetType: directory.TargetUser, TargetID: ann.ID, Fields: []string{"email", "username"}}}
			if err := store.CreateUserPipelinedForTest(ctx, s, ann, annClaims, ch); err != nil {
				t.Fatalf("pipelined create: %v", err)
			}
			got, err := s.GetUser(ctx, tn.ID, ann.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.SSN.Reveal() != "222233333" || len(got.Aliases) != 1 || got.Aliases[0].Value != "Ann-A" ||
				len(got.Values[directory.KindEmail]) != 2 || got.Username != "ann" {
				t.Fatalf("stored user %+v", got)
			}
			audit, err := s.ListAudit(ctx, tn.ID, directory.AuditQuery{TargetID: ann.ID})
			if err != nil || len(audit) != 1 || audit[0].Action != directory.ActionUserCreate {
				t.Fatalf("audit of the pipelined create: %v %+v", err, audit)
			}

			// bob claims ann's e-mail: the user row, queued before the
			// claims, must not survive the failed batch.
			bob, bobClaims := gcUser(tn.ID, "bob")
			bobClaims = append(bobClaims, directory.Claim{Kind: directory.ClaimEmail, Value: ann.EmailNorm})
			if err := store.CreateUserPipelinedForTest(ctx, s, bob, bobClaims, nil); !errors.Is(err, store.ErrPipelineFallbackForTest) {
				t.Fatalf("pipelined create of a taken claim: %v, want the fallback", err)
			}
			if _, err := s.GetUser(ctx, tn.ID, bob.ID); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("user of a failed batch: %v, want not found (nothing written)", err)
			}
			if _, err := s.FindUserByClaim(ctx, tn.ID, directory.Claim{Kind: directory.ClaimLogin, Value: "bob"}); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("claim of a failed batch: %v, want not found", err)
			}
			var cc *directory.ClaimConflict
			if err := s.CreateUser(ctx, bob, bobClaims, nil); !errors.As(err, &cc) || cc.ExistingID != ann.ID || cc.Claim.Kind != directory.ClaimEmail {
				t.Fatalf("CreateUser of a taken claim: %v, want a ClaimConflict naming %s", err, ann.ID)
			}
			// The pool's connection is usable after the failed batch.
			bob2, bob2Claims := gcUser(tn.ID, "bob")
			if err := s.CreateUser(ctx, bob2, bob2Claims, nil); err != nil {
				t.Fatalf("create after a failed batch: %v", err)
			}
		})
	}
}
