package apitest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current responses")

var (
	uuidRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	hex32RE = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
)

// Normalize makes a response body stable across runs: each literal in
// replace (pairs: value, placeholder) is replaced first, then every UUID and
// 32-hex id is numbered by first appearance ("<id-1>"; the dashed and hex
// forms of one id get the same number), and JSON is indented keeping key
// order. Timestamps need no normalising: the test Clock is deterministic.
func Normalize(body []byte, replace ...string) []byte {
	s := string(body)
	for i := 0; i+1 < len(replace); i += 2 {
		if replace[i] != "" {
			s = strings.ReplaceAll(s, replace[i], replace[i+1])
		}
	}
	ids := map[string]int{}
	name := func(hex string) string {
		n, ok := ids[hex]
		if !ok {
			n = len(ids) + 1
			ids[hex] = n
		}
		return fmt.Sprintf("<id-%d>", n)
	}
	s = uuidRE.ReplaceAllStringFunc(s, func(m string) string { return name(strings.ReplaceAll(m, "-", "")) })
	s = hex32RE.ReplaceAllStringFunc(s, name)
	var out bytes.Buffer
	if json.Valid([]byte(s)) && json.Indent(&out, []byte(s), "", "  ") == nil {
		return append(out.Bytes(), '\n')
	}
	return []byte(s)
}

// Golden compares "STATUS CONTENT-TYPE\n" plus the normalised body with
// testdata/<name>.golden, or rewrites the file under -update. replace is as
// in Normalize.
func Golden(t testing.TB, name string, r *Response, replace ...string) {
	t.Helper()
	got := fmt.Appendf(nil, "%d %s\n", r.Status, r.Header.Get("Content-Type"))
	got = append(got, Normalize(r.Body, replace...)...)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: response differs from golden file\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
