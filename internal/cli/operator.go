package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/config"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/directory"
)

// operatorCreate adds an admin console operator (issue 13). The password
// is prompted for twice on a terminal, without echo, or read from the
// first line of standard input with --password-stdin (for scripts; a
// password never goes on the command line, where ps would show it).
func operatorCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("operator create")
	role := s.fs.String("role", "", "`ROLE`: admin (may change things and reveal SSNs) or viewer (reads only); required")
	fromStdin := s.fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	var password string
	pos, o, err := s.open(ctx, args, 1, "one operator EMAIL", func([]string) error {
		if r := directory.Role(*role); !r.Valid() {
			return fmt.Errorf("%w: --role must be admin or viewer", errUsage)
		}
		var err error
		password, err = readPassword(*fromStdin, stderr)
		return err
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	op, err := console.CreateOperator(ctx, o.store, pos[0], directory.Role(*role), password, o.svc.Now())
	if err != nil {
		var ce *directory.ConflictError
		if errors.As(err, &ce) {
			return fmt.Errorf("an operator with e-mail %q already exists", ce.Value)
		}
		return describe(err)
	}
	fmt.Fprintf(stdout, "created operator %s (%s, id %s); sign in at /console/\n", op.Email, op.Role, op.ID)
	return nil
}

// readPassword reads the new operator's password: from standard input's
// first line, or prompted for twice on the terminal.
func readPassword(fromStdin bool, stderr io.Writer) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, console.MaxPasswordLen+3)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return "", fmt.Errorf("%w: standard input is not a terminal: pass the password with --password-stdin", errUsage)
	}
	p1, err := promptHidden(f, stderr, "Password: ")
	if err != nil {
		return "", err
	}
	p2, err := promptHidden(f, stderr, "Repeat it: ")
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", errors.New("the passwords differ")
	}
	return p1, nil
}

// newConsole builds the admin console roster serve mounts at /console/.
// Its cookies are Secure over TLS, and also on plain HTTP when the public
// URL is https (a TLS proxy in front).
func newConsole(o *opened, c *config.Config, logger *slog.Logger) *console.Console {
	return console.New(o.svc, o.store, console.Options{Logger: logger,
		SecureCookies: strings.HasPrefix(c.PublicURL, "https://")})
}

// purgeConsoleSessions deletes expired and idle console sessions every
// tokenPurgeInterval; like the token purge, several instances doing it
// only repeat each other's work.
func purgeConsoleSessions(ctx context.Context, con *console.Console, logger *slog.Logger) {
	t := time.NewTicker(tokenPurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := con.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("purge console sessions", "error", err.Error())
			} else if n > 0 {
				logger.Debug("purged console sessions", "count", n)
			}
		}
	}
}
