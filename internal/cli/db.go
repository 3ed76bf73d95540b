package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/roster-dev/roster/internal/config"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// loadConfig reads the configuration (see loadConfigSources) and lets
// --db (and --listen, when the command has it) override it.
func loadConfig(fs *flag.FlagSet, withListen bool) (*config.Config, func() error) {
	c, _, check := loadConfigSources(fs, withListen)
	return c, check
}

// setup is what every database command does first: parse its flags, check
// its positional arguments and the configuration, then open the database.
type setup struct {
	fs     *flag.FlagSet
	cfg    *config.Config
	check  func() error
	tenant *string // set by withTenant
}

func newSetup(name string) *setup {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c, check := loadConfig(fs, false)
	return &setup{fs: fs, cfg: c, check: check}
}

// withTenant adds the required --tenant flag.
func (s *setup) withTenant() *setup {
	s.tenant = s.fs.String("tenant", "", "the tenant, by `NAME` (required)")
	return s
}

// open parses args, requires exactly nPos positional arguments (described
// by what), runs validate on them (flag values, files; may be nil) and opens
// the database.
// Everything is checked before the database is touched, so a usage error
// never creates a database file.
func (s *setup) open(ctx context.Context, args []string, nPos int, what string, validate func(pos []string) error, stderr io.Writer) ([]string, *opened, error) {
	pos, err := parse(s.fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := exactly(pos, nPos, what); err != nil {
		return nil, nil, err
	}
	if s.tenant != nil && *s.tenant == "" {
		return nil, nil, fmt.Errorf("%w: --tenant is required", errUsage)
	}
	if validate != nil {
		if err := validate(pos); err != nil {
			return nil, nil, err
		}
	}
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	// Only serve and migrate create a database: a mistyped path here
	// must not leave an empty one (and a key file) behind.
	if err := requireDatabase(s.cfg); err != nil {
		return nil, nil, err
	}
	o, err := open(ctx, s.cfg, stderr)
	return pos, o, err
}

// opened is a migrated store and the service over it.
type opened struct {
	store *store.Store
	svc   *directory.Service
}

// open opens the database, applies pending migrations and refuses a schema
// newer than this binary. keyNote receives a line when a key file is
// created.
func open(ctx context.Context, c *config.Config, keyNote io.Writer) (*opened, error) {
	return openObserved(ctx, c, keyNote, nil)
}

// openObserved is open with a store.CommitObserver (serve's metrics).
func openObserved(ctx context.Context, c *config.Config, keyNote io.Writer, commits store.CommitObserver) (*opened, error) {
	if err := requireDirectories(c); err != nil {
		return nil, err
	}
	if err := requireKeyFile(c); err != nil {
		return nil, err
	}
	kr, keyFile, created, err := c.Keyring()
	if err != nil {
		return nil, err
	}
	if created && keyNote != nil {
		fmt.Fprintf(keyNote, "Created SSN encryption key file %s (mode 0600). Back it up: without it, stored SSNs cannot be read.\n", keyFile)
	}
	st, err := store.Open(ctx, c.DB, store.Options{Keyring: kr, CommitObserver: commits, ReadURL: c.DBRead})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return &opened{store: st, svc: directory.NewService(st, directory.Options{RateLimit: c.RateLimit,
		TrustedProxies: c.TrustedProxies, Throttle: directory.ThrottleOptions{Off: c.AuthThrottleOff},
		CredentialCacheTTL: c.CredentialCacheTTL})}, nil
}

func (o *opened) Close() error { return o.store.Close() }

// requireKeyFile refuses to go on when an SQLite database exists but its
// key file does not (and no key is configured): creating a fresh key there
// would leave every stored SSN unreadable and seal new ones under a key
// the backup does not have. The key file is created only with its
// database.
func requireKeyFile(c *config.Config) error {
	if !config.IsSQLite(c.DB) || c.EncryptionKey != "" {
		return nil
	}
	if _, err := os.Stat(config.SQLitePath(c.DB)); err != nil {
		return nil // a new database: its key file is created with it, first
	}
	if _, err := os.Stat(c.KeyFilePath()); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the SSN key file %s of database %s is missing: restore it from the backup taken with the database (or set ROSTER_KEY_FILE or ROSTER_ENCRYPTION_KEY); a new key could not read the SSNs already stored", c.KeyFilePath(), c.DB)
	}
	return nil
}

// requireDatabase refuses an SQLite database file that does not exist.
func requireDatabase(c *config.Config) error {
	if !config.IsSQLite(c.DB) {
		return nil
	}
	path := config.SQLitePath(c.DB)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("database %s does not exist (check --db or ROSTER_DB; \"roster migrate\" or \"roster serve\" creates it)", c.DB)
		}
		return fmt.Errorf("database %s: %w", c.DB, err)
	}
	return nil
}

// requireDirectories refuses to create the directory of an SQLite
// database or of its key file: a missing directory is a mistyped path far
// more often than a wish for a new tree.
func requireDirectories(c *config.Config) error {
	if !config.IsSQLite(c.DB) {
		return nil
	}
	paths := []string{config.SQLitePath(c.DB)}
	if c.EncryptionKey == "" && c.KeyFile != "" {
		paths = append(paths, c.KeyFile)
	}
	for _, p := range paths {
		dir := filepath.Dir(p)
		st, err := os.Stat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("directory %s of %s does not exist; create it first (roster does not create directories)", dir, p)
		case err != nil:
			return fmt.Errorf("directory of %s: %w", p, err)
		case !st.IsDir():
			return fmt.Errorf("%s is not a directory", dir)
		}
	}
	return nil
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	c, check := loadConfig(fs, false)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := exactly(pos, 0, "no arguments"); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	if err := requireDirectories(c); err != nil {
		return err
	}
	if err := requireKeyFile(c); err != nil {
		return err
	}
	kr, _, _, err := c.Keyring()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, c.DB, store.Options{Keyring: kr, ReadURL: c.DBRead})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); schema is up to date\n", n)
	return nil
}
