// Package pgcluster starts real PostgreSQL servers and PgBouncer for tests:
// a primary, streaming standbys (synchronous or not) built with
// pg_basebackup, promotion, stops, and a PgBouncer in transaction pooling
// mode in front of any server. Everything runs from the distribution's
// binaries in temporary directories on free loopback ports, and is
// stopped and removed when the test ends.
//
// initdb, postgres and pgbouncer refuse to run as root; when the test runs
// as root, the servers run as the "postgres" user (the owner Debian's
// package creates), with directories owned by it.
//
// Without the binaries a test is skipped, or fails under CI (the
// environment variable CI set), so that a missing package is never a
// silent pass there.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// binDirs are where Debian (and most Linux distributions) put the server
// binaries, newest first; pg_config --bindir is asked first.
var binDirs = []string{
	"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
	"/usr/lib/postgresql/14/bin", "/usr/lib/postgresql/13/bin",
}

// missing skips the test, or fails it under CI.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (required under CI: install the postgresql and pgbouncer packages)", msg)
	}
	t.Skip(msg)
}

// BinDir returns the directory holding initdb, pg_ctl and pg_basebackup.
func BinDir(t testing.TB) string {
	t.Helper()
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	for _, d := range append(dirs, binDirs...) {
		ok := true
		for _, b := range []string{"initdb", "pg_ctl", "pg_basebackup", "postgres"} {
			if _, err := os.Stat(filepath.Join(d, b)); err != nil {
				ok = false
				break
			}
		}
		if ok {
			return d
		}
	}
	missing(t, "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found")
	return ""
}

// owner is the account the servers run as: postgres when we are root,
// else ourselves (nil).
type owner struct {
	cred *syscall.Credential
}

func serverOwner(t testing.TB) owner {
	t.Helper()
	if os.Geteuid() != 0 {
		return owner{}
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		missing(t, "running as root and there is no postgres user to run the servers as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return owner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

// command builds a command run as the owner.
func (o owner) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	if o.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	return cmd
}

// run runs a command as the owner to completion, failing the test with
// its output on error.
func (o owner) run(t testing.TB, timeout time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := o.command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
	}
}

// tempDir makes a directory the owner can write (t.TempDir's parents are
// private to us), removed when the test ends.
func (o owner) tempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if o.cred != nil {
		if err := os.Chown(dir, int(o.cred.Uid), int(o.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Node is one PostgreSQL server.
type Node struct {
	Name string
	Port int
	dir  string // holds data/, the log and the socket
	bin  string
	own  owner
	t    testing.TB
}

// Data is the server's data directory.
func (n *Node) Data() string { return filepath.Join(n.dir, "data") }

// Addr is "127.0.0.1:PORT".
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// URL is the URL of database db on this server as user postgres.
func (n *Node) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", n.Addr(), db)
}

// Log returns the server's log so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "postgres.log"))
	return string(b)
}

// Options shape a primary.
type Options struct {
	// SyncStandby names the standby (its application_name) whose flush
	// every commit waits for: synchronous_standby_names with
	// synchronous_commit=on. "": asynchronous replication only.
	SyncStandby string
}

// NewPrimary initialises and starts a primary on a free port, ready to
// stream WAL to standbys. It is stopped when the test ends.
func NewPrimary(t testing.TB, name string, o Options) *Node {
	t.Helper()
	n := &Node{Name: name, bin: BinDir(t), own: serverOwner(t), t: t}
	n.dir = n.own.tempDir(t, "roster-pg-"+name+"-")
	n.own.run(t, 2*time.Minute, filepath.Join(n.bin, "initdb"), "-D", n.Data(), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	conf := []string{
		"wal_level = replica",
		"max_wal_senders = 8",
		"max_replication_slots = 8",
		"wal_keep_size = '128MB'",
		"hot_standby = on",
		"synchronous_commit = on",
		"max_connections = 200",
		"shared_buffers = '32MB'",
		// Standbys report their replay position often, so that the
		// replica tests see lag end quickly.
		"wal_receiver_status_interval = '1s'",
	}
	if o.SyncStandby != "" {
		conf = append(conf, fmt.Sprintf("synchronous_standby_names = '%s'", o.SyncStandby))
	}
	appendFile(t, filepath.Join(n.Data(), "postgresql.conf"), conf...)
	n.start(t)
	return n
}

// NewStandby clones primary with pg_basebackup and starts it as a
// streaming standby whose application_name is name (the name the
// primary's synchronous_standby_names refers to).
func (p *Node) NewStandby(t testing.TB, name string) *Node {
	t.Helper()
	n := &Node{Name: name, bin: p.bin, own: p.own, t: t}
	n.dir = n.own.tempDir(t, "roster-pg-"+name+"-")
	n.own.run(t, 2*time.Minute, filepath.Join(n.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port),
		"-U", "postgres", "-D", n.Data(), "-R", "-X", "stream", "-c", "fast", "--no-sync")
	// Later lines of postgresql.auto.conf win over pg_basebackup's. The
	// clone inherits the primary's synchronous_standby_names, which
	// would make it, once promoted, wait forever for a standby that is
	// now itself: a promoted standby runs without a synchronous standby
	// (as a failover manager such as Patroni leaves it when no other
	// replica is left) until a new standby joins.
	appendFile(t, filepath.Join(n.Data(), "postgresql.auto.conf"),
		fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=%s'", p.Port, name),
		"synchronous_standby_names = ''")
	n.start(t)
	return n
}

// start starts the server on a fresh port and waits until it accepts
// connections; it registers the stop at the test's end.
func (n *Node) start(t testing.TB) {
	t.Helper()
	n.Port = FreePort(t)
	appendFile(t, filepath.Join(n.Data(), "postgresql.auto.conf"),
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", n.Port),
		fmt.Sprintf("unix_socket_directories = '%s'", n.dir),
	)
	n.own.run(t, 2*time.Minute, filepath.Join(n.bin, "pg_ctl"), "start", "-D", n.Data(), "-w", "-t", "60",
		"-l", filepath.Join(n.dir, "postgres.log"))
	t.Cleanup(func() {
		// Immediate: the data is thrown away with the directory.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = n.own.command(ctx, filepath.Join(n.bin, "pg_ctl"), "stop", "-D", n.Data(), "-m", "immediate", "-w").Run()
		if t.Failed() {
			t.Logf("%s log:\n%s", n.Name, tail(n.Log(), 8<<10))
		}
	})
}

// Stop stops the server: mode "immediate" is a crash (no shutdown
// checkpoint; connections are cut), "fast" a clean shutdown that ends
// sessions first.
func (n *Node) Stop(t testing.TB, mode string) {
	t.Helper()
	n.own.run(t, time.Minute, filepath.Join(n.bin, "pg_ctl"), "stop", "-D", n.Data(), "-m", mode, "-w")
}

// Promote turns a standby into a primary and waits until it accepts
// writes.
func (n *Node) Promote(t testing.TB) {
	t.Helper()
	n.own.run(t, time.Minute, filepath.Join(n.bin, "pg_ctl"), "promote", "-D", n.Data(), "-w", "-t", "60")
}

// DB opens database db on this server directly, closed when the test
// ends.
func (n *Node) DB(t testing.TB, db string) *sql.DB {
	t.Helper()
	h, err := sql.Open("pgx", n.URL(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Exec runs statements on database db of this server.
func (n *Node) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	h := n.DB(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range stmts {
		if _, err := h.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %s: %v", n.Name, s, err)
		}
	}
}

// WaitStreaming waits until standby name is streaming from n (and, with
// synchronous_standby_names, is the synchronous one).
func (n *Node) WaitStreaming(t testing.TB, name string, wantSync bool) {
	t.Helper()
	h := n.DB(t, "postgres")
	deadline := time.Now().Add(time.Minute)
	for {
		var state, syncState string
		err := h.QueryRow(`SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1`, name).Scan(&state, &syncState)
		if err == nil && state == "streaming" && (!wantSync || syncState == "sync") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby %s not streaming from %s within a minute: state %q sync_state %q err %v", name, n.Name, state, syncState, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitReplayed waits until standby n has replayed everything primary had
// written when it was called: after a CREATE DATABASE, say, whose replay
// (the new database's files) can take a loaded machine seconds.
func (n *Node) WaitReplayed(t testing.TB, primary *Node) {
	t.Helper()
	var target string
	if err := primary.DB(t, "postgres").QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		t.Fatalf("%s: current WAL position: %v", primary.Name, err)
	}
	h := n.DB(t, "postgres")
	deadline := time.Now().Add(time.Minute)
	for {
		var behind bool
		err := h.QueryRow(`SELECT pg_last_wal_replay_lsn() < $1::pg_lsn`, target).Scan(&behind)
		if err == nil && !behind {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby %s has not replayed %s's WAL up to %s within a minute (err %v)", n.Name, primary.Name, target, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// appendFile appends lines to a configuration file the owner owns.
func appendFile(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// PauseReplay pauses WAL replay on a standby and waits until it has taken
// effect (pg_wal_replay_pause only requests it): from then on the standby
// falls behind every new write, a lag the test controls.
func (n *Node) PauseReplay(t testing.TB) {
	t.Helper()
	h := n.DB(t, "postgres")
	if _, err := h.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatalf("%s: pause replay: %v", n.Name, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var state string
		if err := h.QueryRow(`SELECT pg_get_wal_replay_pause_state()`).Scan(&state); err != nil {
			t.Fatalf("%s: replay pause state: %v", n.Name, err)
		}
		if state == "paused" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: replay not paused within 30 s (state %q)", n.Name, state)
		}
	}
}

// ResumeReplay resumes WAL replay on a standby.
func (n *Node) ResumeReplay(t testing.TB) {
	t.Helper()
	n.Exec(t, "postgres", "SELECT pg_wal_replay_resume()")
}
