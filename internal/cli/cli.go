package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = ""

// env is the environment the commands read; tests replace it.
var env = os.Getenv

// command is one entry of the command table: the words that select it,
// its synopsis, a one-line summary and the function that runs it. run
// builds its own FlagSet and parses it with parse, so `--help` after the
// command prints that FlagSet's flags under the synopsis.
type command struct {
	name    string // "user import"; a first word shared by several entries is a group
	args    string // synopsis after the name: "--tenant NAME [flags] FILE|-"
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the command table, in the order help lists it. A new
// command is one entry here (and its function beside the others).
var commands = []command{
	{"serve", "[--listen ADDR] [--db URL] [--tls-cert FILE --tls-key FILE]", "run the HTTP service (creates and migrates the database)", serve},
	{"migrate", "[--db URL]", "create the database if needed and apply pending migrations", func(ctx context.Context, args []string, stdout, _ io.Writer) error {
		return migrate(ctx, args, stdout)
	}},
	{"tenant create", "NAME [--unique LIST] [--json]", "create a tenant; LIST: email,phone,external_id or none (default email,phone)", tenantCreate},
	{"tenant list", "[--json]", "list tenants", tenantList},
	{"credential create", "--tenant NAME [--rate-limit N] [--json]", "create an API credential; prints the secret once", credentialCreate},
	{"credential list", "--tenant NAME [--json]", "list a tenant's credentials", credentialList},
	{"credential revoke", "CLIENT_ID", "revoke a credential and end its session tokens", credentialRevoke},
	{"user import", "--tenant NAME [--on-conflict fail|skip|update] [--rejects FILE] [--lenient] [--quiet] FILE|-", "import users from NDJSON or CSV (- reads standard input)", userImport},
	{"user export", "--tenant NAME [--format ndjson|csv] [--with-ssn]", "export a tenant's users to standard output", userExport},
	{"audit", "--tenant NAME [--since DURATION|TIME] [--user ID] [--json]", "read a tenant's audit log, oldest first", auditCmd},
	{"webhook add", "--tenant NAME --url URL [--events LIST] [--allow-private-webhooks] [--json]", "subscribe a URL to a tenant's user events; prints the signing secret once", webhookAdd},
	{"webhook list", "--tenant NAME [--json]", "list a tenant's webhooks", webhookList},
	{"webhook remove", "ID", "remove a webhook and its queued deliveries", webhookRemove},
	{"webhook deliveries", "[--tenant NAME] [--state pending|delivered|dead] [--limit N] [--json]", "show webhook deliveries, newest last", webhookDeliveries},
	{"key rotate", "[--reencrypt] [--batch N]", "add a new SSN encryption key and re-encrypt under it, online", keyRotate},
	{"key status", "[--json]", "count the SSNs sealed under each encryption key", keyStatus},
	{"bench", "[--workload create|get|list|search|mixed] [--dialect D] [--conns N] [--duration D] [--users N] [--db URL | --url URL] [--json]", "load-test Roster beside its floor (same HTTP stack, no store), interleaved", benchCmd},
	{"operator create", "EMAIL --role admin|viewer [--password-stdin]", "add an admin console operator (prompts for the password)", operatorCreate},
	{"version", "", "print the version, commit and Go version", versionCmd},
	{"config print", "[--config FILE] [--db URL] [--listen ADDR] [--tls-cert FILE --tls-key FILE]", "print the effective configuration as TOML, secrets redacted", configPrint},
}

// groups describes the first words that stand for several commands.
var groups = map[string]string{
	"tenant":     "manage tenants",
	"credential": "manage API credentials",
	"user":       "import and export users",
	"key":        "rotate the SSN encryption key",
	"config":     "show the configuration",
	"webhook":    "manage webhooks and see their deliveries",
	"operator":   "manage admin console operators",
}

const globalNote = `Every command that opens the database takes --db (env ROSTER_DB): sqlite:PATH
(default sqlite:roster.db) or a postgres:// URL. Only serve and migrate create
an SQLite database, and neither creates a missing directory. See README.md for
the other ROSTER_* settings, and "roster COMMAND --help" for a command's flags.
Every such command also takes --config FILE (env ROSTER_CONFIG), a TOML file of
the same settings; flags override the environment, which overrides the file.
`

// exitUsage is the exit code for a command line that does not parse.
const exitUsage = 2

// errUsage marks errors that should print the usage text.
var errUsage = errors.New("usage")

// helpError is a request for a command's help, with the flags it has.
type helpError struct{ fs *flag.FlagSet }

func (*helpError) Error() string        { return "help requested" }
func (*helpError) Is(target error) bool { return target == flag.ErrHelp }

// Run executes the command in args (without the program name) and returns
// the process exit code: 0, 1 for a failed command, exitUsage for a
// command line that does not parse.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, group, err := dispatch(ctx, args, stdout, stderr)
	var he *helpError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		errors.As(err, &he)
		printHelp(stdout, cmd, group, he)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "roster: %s\n\n", strings.TrimPrefix(err.Error(), "usage: "))
		printShortUsage(stderr, cmd, group)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "roster: %v\n", err)
		return 1
	}
}

// dispatch finds the command args name and runs it. It returns the command
// (nil when none matched) or the group named, for the help and usage
// texts.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) (*command, string, error) {
	if len(args) == 0 {
		return nil, "", fmt.Errorf("%w: no command", errUsage)
	}
	switch args[0] {
	case "help", "--help", "-help", "-h":
		if len(args) > 1 && args[0] == "help" {
			// "roster help user import" is "roster user import --help".
			return dispatch(ctx, append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
		}
		return nil, "", flag.ErrHelp
	case "--version", "-version", "-v":
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) > 1 {
		if c := lookup(args[0] + " " + args[1]); c != nil {
			return c, "", c.run(ctx, args[2:], stdout, stderr)
		}
	}
	if c := lookup(args[0]); c != nil {
		return c, "", c.run(ctx, args[1:], stdout, stderr)
	}
	if _, ok := groups[args[0]]; ok {
		g := args[0]
		switch {
		case len(args) == 1:
			return nil, g, fmt.Errorf("%w: %s needs a subcommand", errUsage, g)
		case isHelpFlag(args[1]):
			return nil, g, flag.ErrHelp
		}
		return nil, g, fmt.Errorf("%w: unknown command %q", errUsage, g+" "+args[1])
	}
	return nil, "", fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "--help" || s == "-help" || s == "help"
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// printHelp prints the help asked for: a command's (with its flags), a
// group's (its subcommands), or the global one.
func printHelp(w io.Writer, cmd *command, group string, he *helpError) {
	switch {
	case cmd != nil:
		fmt.Fprintf(w, "Usage: roster %s %s\n\n%s.\n", cmd.name, cmd.args, upperFirst(cmd.summary))
		if he != nil {
			printFlags(w, he.fs)
		}
	case group != "":
		fmt.Fprintf(w, "Usage: roster %s COMMAND\n\n%s.\n\nCommands:\n", group, upperFirst(groups[group]))
		listCommands(w, group+" ")
		fmt.Fprintf(w, "\nRun \"roster %s COMMAND --help\" for a command's flags.\n", group)
	default:
		fmt.Fprint(w, "roster: a multi-tenant user directory speaking Truv, Entrust, CL2C, Ownli and SCIM 2.0\n\nUsage: roster COMMAND [flags]\n\nCommands:\n")
		listCommands(w, "")
		fmt.Fprintf(w, "\n%s", globalNote)
	}
}

// printShortUsage follows a usage error: the synopsis of what was meant.
func printShortUsage(w io.Writer, cmd *command, group string) {
	switch {
	case cmd != nil:
		fmt.Fprintf(w, "Usage: roster %s %s\nRun \"roster %s --help\" for its flags.\n", cmd.name, cmd.args, cmd.name)
	case group != "":
		fmt.Fprintf(w, "Usage: roster %s COMMAND\n\nCommands:\n", group)
		listCommands(w, group+" ")
	default:
		fmt.Fprint(w, "Usage: roster COMMAND [flags]\n\nCommands:\n")
		listCommands(w, "")
		fmt.Fprint(w, "\nRun \"roster --help\" for more.\n")
	}
}

func listCommands(w io.Writer, prefix string) {
	width := 0
	for _, c := range commands {
		if strings.HasPrefix(c.name, prefix) {
			width = max(width, len(c.name))
		}
	}
	for _, c := range commands {
		if strings.HasPrefix(c.name, prefix) {
			fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
		}
	}
}

// printFlags lists a FlagSet's flags with their descriptions, written
// with the two dashes the documentation uses.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var lines [][2]string
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		width = max(width, len(left))
		lines = append(lines, [2]string{left, usage})
	})
	if len(lines) == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parse parses flags that may stand before, between or after positional
// arguments ("tenant create acme --json" and "tenant create --json acme"),
// and returns the positional ones. -h and --help are a *helpError
// carrying fs, so the caller's help lists fs's flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpError{fs: fs}
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

func versionCmd(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := exactly(pos, 0, "no arguments"); err != nil {
		return err
	}
	commit, when, modified := buildVCS()
	fmt.Fprintf(stdout, "roster %s\n", version())
	switch {
	case commit == "":
		fmt.Fprintln(stdout, "commit unknown (built without version control information)")
	default:
		line := "commit " + commit
		if when != "" {
			line += " (" + when + ")"
		}
		if modified {
			line += ", with uncommitted changes"
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "%s %s/%s\n", goVersion(), runtime.GOOS, runtime.GOARCH)
	return nil
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

// buildVCS returns the commit the binary was built from, its time and
// whether the tree had uncommitted changes, from the build info the go
// command records (-buildvcs, on by default in a git checkout).
func buildVCS() (commit, when string, modified bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", "", false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return commit, when, modified
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.GoVersion != "" {
		return bi.GoVersion
	}
	return runtime.Version()
}

// exactly checks the number of positional arguments.
func exactly(pos []string, n int, what string) error {
	if len(pos) != n {
		return fmt.Errorf("%w: want %s, got %q", errUsage, what, strings.Join(pos, " "))
	}
	return nil
}
