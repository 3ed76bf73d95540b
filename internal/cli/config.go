package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/roster-dev/roster/internal/config"
)

// loadConfigSources adds --config, --db (and --listen, when withListen) to
// fs and returns the configuration they fill, where each setting came
// from, and the check to call once fs is parsed. The check loads the
// layers under the flags, defaults < file (--config, else ROSTER_CONFIG)
// < ROSTER_* environment, then applies again the configuration flags given
// on the command line, so that flag > env > file > default, and validates
// the result. Before the check the configuration holds the environment's
// values, which is what --help shows as defaults.
func loadConfigSources(fs *flag.FlagSet, withListen bool) (*config.Config, config.Sources, func() error) {
	// An error here is reported by the check, which reads the
	// environment again with the file under it.
	c, _ := config.FromEnv(env)
	src := config.Sources{}
	file := fs.String("config", env(config.EnvConfigFile), "read settings from the TOML `FILE` (env ROSTER_CONFIG); flags and ROSTER_* variables override it")
	fs.StringVar(&c.DB, "db", c.DB, "database `URL`: sqlite:PATH or postgres://... (env ROSTER_DB)")
	fs.StringVar(&c.DBRead, "db-read", c.DBRead, "PostgreSQL read replica `URL` serving lists and searches (env ROSTER_DB_READ)")
	if withListen {
		fs.StringVar(&c.Listen, "listen", c.Listen, "listen for HTTP on `ADDR`, host:port (env ROSTER_LISTEN)")
	}
	return &c, src, func() error {
		// The flags given, with their values, before the layers below
		// them overwrite the fields they are bound to.
		type set struct{ name, value, key string }
		var given []set
		fs.Visit(func(f *flag.Flag) {
			if k := config.KeyByFlag(f.Name); k != nil {
				given = append(given, set{f.Name, f.Value.String(), k.Name})
			}
		})
		loaded, loadedSrc, err := config.Load(*file, env)
		if err != nil {
			return err
		}
		c = loaded
		for k, s := range loadedSrc {
			src[k] = s
		}
		for _, g := range given {
			if err := fs.Set(g.name, g.value); err != nil {
				return fmt.Errorf("--%s: %w", g.name, err)
			}
			src[g.key] = config.SourceFlag
		}
		return c.Validate()
	}
}

// configPrint prints the effective configuration as TOML, secrets
// redacted, with each setting's source. It takes the flags serve takes,
// so that "roster config print FLAGS" shows what "roster serve FLAGS"
// would run with. An invalid configuration is printed too, then reported
// (exit 1).
func configPrint(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("config print", flag.ContinueOnError)
	c, src, check := loadConfigSources(fs, true)
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate chain `FILE`, PEM (env ROSTER_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key `FILE`, PEM (env ROSTER_TLS_KEY)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := exactly(pos, 0, "no arguments besides flags"); err != nil {
		return err
	}
	checkErr := check()
	if len(src) == 0 {
		return checkErr // not loaded at all: an unreadable file, say
	}
	fmt.Fprint(stdout, c.TOML(src))
	if checkErr != nil {
		return fmt.Errorf("invalid configuration: %w", checkErr)
	}
	return nil
}
