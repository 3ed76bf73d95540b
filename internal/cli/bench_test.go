package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchCommand runs `roster bench` end to end: --json is one JSON
// object with both targets' figures, the text form says the rate limit is
// off, no progress line is drawn when standard error is not a terminal,
// and a remote --url or a bad workload is refused.
func TestBenchCommand(t *testing.T) {
	withEnv(t, map[string]string{})
	code, out, stderr := runCLI(t, "bench", "--duration", "300ms", "--conns", "2", "--warmup", "0", "--json")
	if code != 0 {
		t.Fatalf("bench --json: exit %d: %s", code, stderr)
	}
	var rep map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil || dec.More() {
		t.Fatalf("bench --json: want one JSON object, got %v: %s", err, out)
	}
	for _, k := range []string{"roster", "floor", "ratio", "rate_limit_off"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("bench --json lacks %q", k)
		}
	}
	if r, _ := rep["roster"].(map[string]any); r["requests"].(float64) <= 0 || r["errors"].(float64) != 0 {
		t.Errorf("roster figures %v: want requests and no errors", r)
	}
	if strings.Contains(stderr, "\r") || !strings.Contains(stderr, "rate limit: off") {
		t.Errorf("stderr %q: want the rate-limit note and no progress line", stderr)
	}

	code, out, _ = runCLI(t, "bench", "--duration", "200ms", "--conns", "1", "--warmup", "0")
	if code != 0 || !strings.Contains(out, "ratio roster/floor") || !strings.Contains(out, "rate limit: off") {
		t.Errorf("bench text: exit %d:\n%s", code, out)
	}

	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "--url", "http://10.0.0.1:8080", "--tenant", "t", "--client-id", "c", "--secret", "s"}, 1, "not a loopback"},
		{[]string{"bench", "--db", "postgres://postgres@10.0.0.1/roster_bench"}, 1, "not a loopback"},
		{[]string{"bench", "--workload", "bogus"}, exitUsage, "--workload"},
		{[]string{"bench", "--dialect", "bogus"}, exitUsage, "--dialect"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
