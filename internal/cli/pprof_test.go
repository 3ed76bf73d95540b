package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPprofFlagRefusesNonLoopback: serve and bench refuse a --pprof
// address that is not loopback as a usage error, before serve opens (and
// so creates) its database.
func TestPprofFlagRefusesNonLoopback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new.db")
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + db})
	for _, args := range [][]string{
		{"serve", "--listen", "127.0.0.1:0", "--pprof", "0.0.0.0:6060"},
		{"serve", "--listen", "127.0.0.1:0", "--pprof", ":6060"},
		{"bench", "--pprof", "10.1.2.3:6060"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "loopback") {
			t.Errorf("%v: exit %d, stderr %q; want %d naming loopback", args, code, stderr, exitUsage)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("serve with a refused --pprof created the database")
	}
}

// TestServePprof: serve --pprof serves the profiles on their own loopback
// listener, and the API listener does not serve them.
func TestServePprof(t *testing.T) {
	dir := tempDB(t)
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db"), "ROSTER_SHUTDOWN_GRACE": "2s"})
	srv := startServe(t, listenRE, "--pprof", "127.0.0.1:0")
	// serve logs the pprof listener before it opens the database, so
	// before the banner startServe waited for.
	m := regexp.MustCompile(`"msg":"pprof listening","addr":"([^"]+)"`).FindStringSubmatch(srv.stderr.String())
	if m == nil {
		t.Fatalf("serve --pprof did not log its pprof listener:\n%s", srv.stderr.String())
	}
	base, pp := srv.base, m[1]
	get := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("http://" + pp + "/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Errorf("pprof listener: goroutine profile %d, want 200", code)
	}
	if code := get(base + "/debug/pprof/"); code == http.StatusOK {
		t.Errorf("API listener serves /debug/pprof/ (%d)", code)
	}
	srv.stop(t)
}
