package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/bench"
)

// benchCmd is `roster bench`: Roster beside its floor, in one run (see
// package bench).
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o bench.Options
	var asJSON bool
	fs.StringVar(&o.Workload, "workload", "create", "`NAME`: create, get (Truv, by id), list (Truv page), search (SCIM userName filter), mixed (90% gets, 10% creates)")
	fs.StringVar(&o.Dialect, "dialect", "truv", "create's `DIALECT`: truv, entrust, cl2c, ownli, scim")
	fs.IntVar(&o.Conns, "conns", 64, "keep-alive connections, `N` concurrent clients")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per target, split over 2 interleaved rounds")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load on each target first")
	fs.IntVar(&o.Users, "users", 0, "pre-populate `N` users first (read workloads: 1000 when 0)")
	fs.StringVar(&o.DB, "db", "", "in-process server's database `URL`: a temporary SQLite when empty, sqlite:PATH, or postgres://HOST/NAME (created if missing; bench writes into it)")
	fs.StringVar(&o.URL, "url", "", "bench a running server at `URL` instead of an in-process one")
	fs.StringVar(&o.Tenant, "tenant", "", "with --url: the credential's tenant `NAME`")
	fs.StringVar(&o.ClientID, "client-id", "", "with --url: the credential's client `ID`")
	fs.StringVar(&o.Secret, "secret", env("ROSTER_BENCH_SECRET"), "with --url: the credential's `SECRET` (env ROSTER_BENCH_SECRET)")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a --url or --db host that is not loopback")
	fs.StringVar(&o.Pprof, "pprof", "", "serve net/http/pprof for this process at loopback `ADDR` while it runs (e.g. 127.0.0.1:6060)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object with every figure")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := exactly(pos, 0, "no arguments besides flags"); err != nil {
		return err
	}
	if !slices.Contains(bench.Workloads, o.Workload) {
		return fmt.Errorf("%w: --workload %q: want one of %s", errUsage, o.Workload, strings.Join(bench.Workloads, ", "))
	}
	if !slices.Contains(bench.Dialects, o.Dialect) {
		return fmt.Errorf("%w: --dialect %q: want one of %s", errUsage, o.Dialect, strings.Join(bench.Dialects, ", "))
	}
	if err := checkPprofAddr(o.Pprof); err != nil {
		return err
	}
	o.Env = env
	o.Stderr = stderr
	o.Progress = isTerminal(stderr)
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	bench.WriteText(stdout, rep)
	return nil
}
