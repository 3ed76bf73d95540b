package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = ""

// env is the environment the commands read; tests replace it.
var env = os.Getenv

const usage = `roster: a multi-tenant user directory speaking Truv, Entrust, CL2C, Ownli and SCIM 2.0

Usage:
  roster serve   [--listen 127.0.0.1:8080] [--db URL]
  roster tenant create NAME [--unique LIST] [--json]   LIST: email,phone,external_id | none (default email,phone)
  roster tenant list [--json]
  roster credential create --tenant NAME [--json]     prints the secret once
  roster credential list --tenant NAME [--json]
  roster credential revoke CLIENT_ID
  roster user import --tenant NAME FILE               NDJSON or CSV
  roster user export --tenant NAME [--format ndjson|csv]
  roster audit --tenant NAME [--since DURATION|TIME] [--user ID] [--json]
  roster migrate [--db URL]
  roster version

Every command takes --db (env ROSTER_DB: sqlite:PATH, default sqlite:roster.db, or a postgres:// URL).
See README.md for the other ROSTER_* settings.
`

// exitUsage is the exit code for a command line that does not parse.
const exitUsage = 2

// errUsage marks errors that should print the usage text.
var errUsage = errors.New("usage")

// Run executes the command in args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "roster: %v\n\n%s", err, usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "roster: %v\n", err)
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout)
	case "tenant":
		return sub(ctx, "tenant", rest, stdout, stderr, map[string]command{"create": tenantCreate, "list": tenantList})
	case "credential":
		return sub(ctx, "credential", rest, stdout, stderr, map[string]command{
			"create": credentialCreate, "list": credentialList, "revoke": credentialRevoke})
	case "user":
		return sub(ctx, "user", rest, stdout, stderr, map[string]command{"import": userImport, "export": userExport})
	case "audit":
		return auditCmd(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "roster", version())
		return nil
	case "help", "--help", "-h":
		return flag.ErrHelp
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

func sub(ctx context.Context, name string, args []string, stdout, stderr io.Writer, cmds map[string]command) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s needs a subcommand", errUsage, name)
	}
	c, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown command %q %q", errUsage, name, args[0])
	}
	return c(ctx, args[1:], stdout, stderr)
}

// parse parses flags that may stand before, between or after positional
// arguments ("tenant create acme --json" and "tenant create --json acme"),
// and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// version returns the build's version: -ldflags, else the module version.
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// exactly checks the number of positional arguments.
func exactly(pos []string, n int, what string) error {
	if len(pos) != n {
		return fmt.Errorf("%w: want %s, got %q", errUsage, what, strings.Join(pos, " "))
	}
	return nil
}
