package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/directory/storetest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) directory.Store {
				return testdb.Open(t, backend)
			})
		})
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"", "mysql://x", "roster.db", "sqlite:", "sqlite:a?b"} {
		s, err := store.Open(t.Context(), url, store.Options{Keyring: testdb.Keyring(t)})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q): got nil error, want one", url)
		}
	}
	if _, err := store.Open(t.Context(), testdb.SQLiteURL(t), store.Options{}); err == nil {
		t.Errorf("Open without a keyring: got nil error, want one")
	}
}

func TestOpenURLForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, url := range []string{"sqlite:" + dir + "/a.db", "sqlite://" + dir + "/b.db", "file:" + dir + "/c.db"} {
		s, err := store.Open(t.Context(), url, store.Options{Keyring: testdb.Keyring(t)})
		if err != nil {
			t.Errorf("Open(%q): %v", url, err)
			continue
		}
		if got := s.Backend(); got != "sqlite" {
			t.Errorf("Open(%q).Backend(): got %q, want sqlite", url, got)
		}
		s.Close()
	}
	for _, name := range []string{"a.db", "b.db", "c.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}
	if !store.IsPostgresURL("postgresql://h/db") || !store.IsPostgresURL("postgres://h/db") || store.IsPostgresURL("sqlite:x") {
		t.Errorf("IsPostgresURL misclassifies")
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, err := store.Open(ctx, testdb.URL(t, backend), store.Options{Keyring: testdb.Keyring(t)})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if got := s.Backend(); got != backend {
				t.Errorf("Backend: got %q, want %q", got, backend)
			}
			if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
				t.Errorf("CheckSchema before Migrate: got %v, want ErrSchemaBehind", err)
			}
			n, err := s.Migrate(ctx)
			if err != nil || n < 1 {
				t.Fatalf("Migrate: got %d, %v, want >= 1 applied", n, err)
			}
			if err := s.CheckSchema(ctx); err != nil {
				t.Errorf("CheckSchema after Migrate: %v", err)
			}
			if n, err := s.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("second Migrate: got %d, %v, want 0, nil", n, err)
			}
			// A newer binary migrated this database.
			if err := store.ExecForTest(ctx, s, `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`); err != nil {
				t.Fatalf("insert future version: %v", err)
			}
			if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaAhead) {
				t.Errorf("CheckSchema on a newer schema: got %v, want ErrSchemaAhead", err)
			}
		})
	}
}

func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			url := testdb.URL(t, backend)
			kr := testdb.Keyring(t)
			const n = 4
			stores := make([]*store.Store, n)
			for i := range stores {
				s, err := store.Open(t.Context(), url, store.Options{Keyring: kr})
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer s.Close()
				stores[i] = s
			}
			applied := make([]int, n)
			errs := make([]error, n)
			done := make(chan int)
			for i, s := range stores {
				go func() {
					applied[i], errs[i] = s.Migrate(t.Context())
					done <- i
				}()
			}
			for range n {
				<-done
			}
			total := 0
			for i := range n {
				if errs[i] != nil {
					t.Errorf("Migrate %d: %v", i, errs[i])
				}
				total += applied[i]
			}
			_, want, err := stores[0].SchemaVersion(t.Context())
			if err != nil {
				t.Fatalf("SchemaVersion: %v", err)
			}
			if total != want {
				t.Errorf("concurrent Migrate applied %d migrations in all, want %d (each once)", total, want)
			}
		})
	}
}

func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	s := testdb.SQLite(t)
	ctx := t.Context()
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		for _, readPool := range []bool{false, true} {
			if readPool && tc.pragma == "journal_mode" {
				continue // a property of the file, checked through the writer
			}
			if readPool && tc.pragma == "synchronous" {
				continue // readers never commit
			}
			got, err := store.PragmaForTest(ctx, s, tc.pragma, readPool)
			if err != nil {
				t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s (read pool %v): got %q, want %q", tc.pragma, readPool, got, tc.want)
			}
		}
	}
	if got, _ := store.PragmaForTest(ctx, s, "query_only", true); got != "1" {
		t.Errorf("PRAGMA query_only on the read pool: got %q, want 1", got)
	}
	if got, _ := store.PragmaForTest(ctx, s, "query_only", false); got != "0" {
		t.Errorf("PRAGMA query_only on the writer: got %q, want 0", got)
	}
}

func TestSSNEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testdb.SQLiteURL(t)
	path := strings.TrimPrefix(url, "sqlite:")
	kr := testdb.Keyring(t)
	s, err := store.Open(ctx, url, store.Options{Keyring: kr})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	tn := &directory.Tenant{ID: directory.NewID(), Name: "acme", CreatedAt: time.Now()}
	if err := s.CreateTenant(ctx, tn, nil); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &directory.User{ID: directory.NewID(), TenantID: tn.ID, Username: "ann", UsernameNorm: "ann",
		SSN: "123456789", Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u, nil, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	// Look at the files while the WAL still holds the write, then after a
	// checkpoint has moved it into the main file.
	for _, phase := range []string{"wal", "checkpointed"} {
		if phase == "checkpointed" {
			if err := store.ExecForTest(ctx, s, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				t.Fatalf("checkpoint: %v", err)
			}
		}
		found := 0
		for _, f := range []string{path, path + "-wal", path + "-journal"} {
			b, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			found++
			for _, plain := range []string{"123456789", "123-45-6789"} {
				if bytes.Contains(b, []byte(plain)) {
					t.Errorf("%s (%s): SSN %s stored in plaintext", filepath.Base(f), phase, plain)
				}
			}
			if !bytes.Contains(b, []byte("ann")) && phase == "checkpointed" && f == path {
				t.Errorf("%s: username not found either: is this the right file?", filepath.Base(f))
			}
		}
		if found == 0 {
			t.Fatalf("no database file found at %s", path)
		}
	}
	got, err := s.GetUser(ctx, tn.ID, u.ID)
	if err != nil || got.SSN.Reveal() != "123456789" {
		t.Fatalf("GetUser: got SSN %q, %v, want 123456789", got.SSN.Reveal(), err)
	}
	s.Close()

	// The same file under another key: the sealed SSN does not open.
	s2 := testdb.OpenURL(t, url, testdb.Keyring(t))
	if _, err := s2.GetUser(ctx, tn.ID, u.ID); !errors.Is(err, secret.ErrNoKey) {
		t.Errorf("GetUser with another keyring: got err %v, want ErrNoKey", err)
	}
	// A ring that holds the key under its id but different bytes fails
	// authentication rather than returning garbage.
	wrong, err := secret.ParseKeyring(kr.CurrentKeyID() + ":" + secret.NewKeySpec())
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	s3 := testdb.OpenURL(t, url, wrong)
	if _, err := s3.GetUser(ctx, tn.ID, u.ID); err == nil {
		t.Errorf("GetUser with a wrong key under the right id: got nil error, want one")
	}
}

func TestPostgresTwoInstances(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	kr := testdb.Keyring(t)
	a := testdb.OpenURL(t, url, kr)
	b := testdb.OpenURL(t, url, kr)
	ctx := t.Context()
	tn := &directory.Tenant{ID: directory.NewID(), Name: "acme", Unique: directory.DefaultUniquePolicy, CreatedAt: time.Now()}
	if err := a.CreateTenant(ctx, tn, nil); err != nil {
		t.Fatalf("CreateTenant on a: %v", err)
	}
	if _, err := b.GetTenantByName(ctx, "acme"); err != nil {
		t.Fatalf("GetTenantByName on b: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &directory.User{ID: directory.NewID(), TenantID: tn.ID, Username: "ann", UsernameNorm: "ann",
		Email: "ann@example.com", EmailNorm: "ann@example.com", SSN: "123456789", Version: 1, CreatedAt: now, UpdatedAt: now}
	claim := directory.Claim{Kind: directory.ClaimEmail, Value: "ann@example.com"}
	if err := a.CreateUser(ctx, u, []directory.Claim{claim}, nil); err != nil {
		t.Fatalf("CreateUser on a: %v", err)
	}
	got, err := b.GetUser(ctx, tn.ID, u.ID)
	if err != nil || got.SSN.Reveal() != "123456789" {
		t.Fatalf("GetUser on b: got %v, %v", got, err)
	}
	dup := *u
	dup.ID = directory.NewID()
	err = b.CreateUser(ctx, &dup, []directory.Claim{claim}, nil)
	var cc *directory.ClaimConflict
	if !errors.As(err, &cc) || cc.ExistingID != u.ID {
		t.Errorf("CreateUser of a duplicate on b: got %v, want a ClaimConflict held by %s", err, u.ID)
	}
	if err := b.DeleteUser(ctx, tn.ID, u.ID, 1, nil); err != nil {
		t.Fatalf("DeleteUser on b: %v", err)
	}
	if _, err := a.GetUser(ctx, tn.ID, u.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("GetUser on a after delete on b: got %v, want ErrNotFound", err)
	}
}

// TestSQLiteFileMode: a new database file, and the WAL beside it, are
// readable by their owner only: they hold personal data.
func TestSQLiteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	st := testdb.OpenURL(t, "sqlite:"+path, testdb.Keyring(t))
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), info.Mode().Perm())
		}
	}
}
