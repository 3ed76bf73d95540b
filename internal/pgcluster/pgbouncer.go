package pgcluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Bouncer is a PgBouncer process in transaction pooling mode.
type Bouncer struct {
	Port int
	dir  string
}

// PgBouncerBin returns the path of the pgbouncer binary.
func PgBouncerBin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"pgbouncer", "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	missing(t, "pgbouncer not found (apt-get install pgbouncer)")
	return ""
}

// StartPgBouncer starts PgBouncer on a free port of 127.0.0.1 in front of
// the PostgreSQL server at addr ("host:port"), serving every database of
// that server under its own name, with pool_mode=transaction: a server
// connection belongs to a client only for one transaction (or one
// statement outside a transaction), so no session state (prepared
// statements, session advisory locks, SET) survives from one to the next.
// Authentication is trust, for user postgres. It is stopped when the test
// ends.
func StartPgBouncer(t testing.TB, addr string) *Bouncer {
	t.Helper()
	bin := PgBouncerBin(t)
	own := serverOwner(t)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("pgbouncer target %q: %v", addr, err)
	}
	b := &Bouncer{Port: FreePort(t), dir: own.tempDir(t, "roster-pgbouncer-")}
	ini := strings.Join([]string{
		"[databases]",
		fmt.Sprintf("* = host=%s port=%s", host, port),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		fmt.Sprintf("listen_port = %d", b.Port),
		"unix_socket_dir =",
		"auth_type = trust",
		"auth_file = " + filepath.Join(b.dir, "userlist.txt"),
		"pool_mode = transaction",
		// Fewer server connections than Roster's pool of 16 per store:
		// clients then share and queue on server connections, as they do
		// in production, which is what breaks session state.
		"default_pool_size = 8",
		"max_client_conn = 1000",
		"max_db_connections = 0",
		"logfile = " + filepath.Join(b.dir, "pgbouncer.log"),
		"pidfile = " + filepath.Join(b.dir, "pgbouncer.pid"),
		"admin_users = postgres",
		"ignore_startup_parameters = extra_float_digits",
		"server_login_retry = 1",
		"",
	}, "\n")
	for name, body := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": `"postgres" ""` + "\n"} {
		p := filepath.Join(b.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if own.cred != nil {
			if err := os.Chown(p, int(own.cred.Uid), int(own.cred.Gid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := own.command(context.Background(), bin, filepath.Join(b.dir, "pgbouncer.ini"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("pgbouncer log:\n%s", tail(b.Log(), 8<<10))
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.Dial("tcp", b.Addr())
		if err == nil {
			c.Close()
			return b
		}
		select {
		case <-exited:
			t.Fatalf("pgbouncer exited at start:\n%s", b.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer not listening within 30 s:\n%s", b.Log())
		}
	}
}

// Addr is "127.0.0.1:PORT".
func (b *Bouncer) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.Port) }

// Log returns PgBouncer's log so far.
func (b *Bouncer) Log() string {
	out, _ := os.ReadFile(filepath.Join(b.dir, "pgbouncer.log"))
	return string(out)
}

// Through rewrites a PostgreSQL URL of the server behind b to go through b
// instead, with the pgx setting Roster documents for transaction pooling
// (default_query_exec_mode=exec: no named prepared statements).
func (b *Bouncer) Through(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	u.Host = b.Addr()
	q := u.Query()
	q.Set("default_query_exec_mode", "exec")
	u.RawQuery = q.Encode()
	return u.String()
}
