package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/testdb"
)

// genRows writes n valid NDJSON rows, numbered from 0, each with a
// username, e-mail, phone, external id and (every other) SSN: more rows
// than one import batch, so every test below crosses batch boundaries.
func genRows(n int, row func(i int) string) string {
	var b strings.Builder
	for i := range n {
		if row != nil {
			if s := row(i); s != "" {
				b.WriteString(s + "\n")
				continue
			}
		}
		ssn := ""
		if i%2 == 0 {
			ssn = fmt.Sprintf(`,"ssn":"%03d%02d%04d"`, 1+i%600, 1+i%90, 1+i%9000)
		}
		fmt.Fprintf(&b, `{"username":"user%05d","external_id":"hr-%05d","first_name":"F%d","email":"user%05d@example.com","phone":"+1415%07d"%s}`+"\n",
			i, i, i, i, 2000000+i, ssn)
	}
	return b.String()
}

const bulkRows = 2*importBatchRows + 300

// TestImportResume: an import stopped part-way (here: a prefix of the
// file imported first) is finished by importing the whole file again with
// --on-conflict skip: the rows already stored are skipped and counted,
// the rest imported, and nothing is stored twice.
func TestImportResume(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "acme", "--unique", "email,phone")
			whole := genRows(bulkRows, nil)
			lines := strings.SplitAfter(whole, "\n")
			prefix := importBatchRows + 123 // not on a batch boundary
			first := writeFile(t, dir, "prefix.ndjson", strings.Join(lines[:prefix], ""))
			if got := counts(t, mustRun(t, "user", "import", "--tenant", "acme", "--quiet", first)); got !=
				fmt.Sprintf("%d imported, 0 updated, 0 unchanged, 0 skipped, 0 failed (0 invalid, 0 conflict)", prefix) {
				t.Fatalf("prefix: %s", got)
			}
			all := writeFile(t, dir, "all.ndjson", whole)
			if got := counts(t, mustRun(t, "user", "import", "--tenant", "acme", "--quiet", "--on-conflict", "skip", all)); got !=
				fmt.Sprintf("%d imported, 0 updated, 0 unchanged, %d skipped, 0 failed (0 invalid, 0 conflict)", bulkRows-prefix, prefix) {
				t.Fatalf("resume: %s", got)
			}
			// Once more: everything is there.
			if got := counts(t, mustRun(t, "user", "import", "--tenant", "acme", "--quiet", "--on-conflict", "skip", all)); got !=
				fmt.Sprintf("0 imported, 0 updated, 0 unchanged, %d skipped, 0 failed (0 invalid, 0 conflict)", bulkRows) {
				t.Fatalf("second resume: %s", got)
			}
			recs := exportLines(t, "acme")
			if len(recs) != bulkRows {
				t.Fatalf("tenant has %d users, want %d", len(recs), bulkRows)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				if seen[r.Username] || seen[r.ID] {
					t.Fatalf("stored twice: %s %s", r.Username, r.ID)
				}
				seen[r.Username], seen[r.ID] = true, true
			}
			for i := range bulkRows {
				if !seen[fmt.Sprintf("user%05d", i)] {
					t.Fatalf("user%05d missing", i)
				}
			}

			// Rows keyed by external id alone are resumable too.
			mustRun(t, "tenant", "create", "hr", "--unique", "none")
			ext := genRows(importBatchRows+10, func(i int) string { return fmt.Sprintf(`{"external_id":"e-%05d"}`, i) })
			extLines := strings.SplitAfter(ext, "\n")
			mustRun(t, "user", "import", "--tenant", "hr", "--quiet", writeFile(t, dir, "ext1.ndjson", strings.Join(extLines[:100], "")))
			if got := counts(t, mustRun(t, "user", "import", "--tenant", "hr", "--quiet", "--on-conflict", "skip", writeFile(t, dir, "ext.ndjson", ext))); got !=
				fmt.Sprintf("%d imported, 0 updated, 0 unchanged, 100 skipped, 0 failed (0 invalid, 0 conflict)", importBatchRows+10-100) {
				t.Fatalf("external ids: %s", got)
			}
			if n := len(exportLines(t, "hr")); n != importBatchRows+10 {
				t.Fatalf("tenant hr has %d users, want %d", n, importBatchRows+10)
			}
		})
	}
}

// TestImportRoundTripMany: import, export, import the export into a new
// database, export again: the two exports are identical, over several
// batches, SSNs included.
func TestImportRoundTripMany(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "acme")
			mustRun(t, "user", "import", "--tenant", "acme", "--quiet", writeFile(t, dir, "in.ndjson", genRows(bulkRows, nil)))
			first := mustRun(t, "user", "export", "--tenant", "acme", "--with-ssn")
			if n := strings.Count(first, "\n"); n != bulkRows {
				t.Fatalf("export has %d lines, want %d", n, bulkRows)
			}
			if !strings.Contains(first, `"ssn":"`) {
				t.Fatalf("export --with-ssn has no SSN")
			}

			dir = freshDB(t, backend) // a new database with a new key
			mustRun(t, "tenant", "create", "acme")
			out := mustRun(t, "user", "import", "--tenant", "acme", "--quiet", writeFile(t, dir, "export.ndjson", first))
			if got := counts(t, out); got != fmt.Sprintf("%d imported, 0 updated, 0 unchanged, 0 skipped, 0 failed (0 invalid, 0 conflict)", bulkRows) {
				t.Fatalf("re-import: %s", got)
			}
			if again := mustRun(t, "user", "export", "--tenant", "acme", "--with-ssn"); again != first {
				a, b := strings.Split(first, "\n"), strings.Split(again, "\n")
				for i := range min(len(a), len(b)) {
					if a[i] != b[i] {
						t.Fatalf("round trip differs at line %d:\nfirst:  %s\nsecond: %s", i+1, a[i], b[i])
					}
				}
				t.Fatalf("round trip differs in length: %d and %d lines", len(a), len(b))
			}
		})
	}
}

// TestImportRejectOrder: with invalid rows and conflicts spread over
// several chunks and batches, every rejected row is in the reject file
// once, in line order, with its reason, and the earlier of two rows
// wanting one e-mail is the one stored.
func TestImportRejectOrder(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "acme", "--unique", "email")
			type bad struct {
				line   int
				reason string
			}
			var want []bad
			in := genRows(bulkRows, func(i int) string {
				switch {
				case i%997 == 5:
					want = append(want, bad{i + 1, "email"})
					return fmt.Sprintf(`{"username":"x%05d","email":"not an address"}`, i)
				case i%1009 == 7:
					want = append(want, bad{i + 1, "bad JSON"})
					return `{"username":`
				case i%1013 == 500:
					// The e-mail of the row before: that row wins.
					want = append(want, bad{i + 1, fmt.Sprintf(`conflict: email "user%05d@example.com"`, i-1)})
					return fmt.Sprintf(`{"username":"dup%05d","email":"user%05d@example.com"}`, i, i-1)
				}
				return ""
			})
			path := writeFile(t, dir, "in.ndjson", in)
			code, out, _ := runCLI(t, "user", "import", "--tenant", "acme", "--quiet", path)
			if code != 1 || !strings.Contains(out, fmt.Sprintf("%d imported", bulkRows-len(want))) {
				t.Fatalf("exit %d: %s", code, out)
			}
			entries := readRejects(t, path+".rejects.ndjson")
			if len(entries) != len(want) {
				t.Fatalf("reject file has %d entries, want %d", len(entries), len(want))
			}
			for i, e := range entries {
				if e.Line != want[i].line || !strings.Contains(e.Error, want[i].reason) {
					t.Errorf("reject %d: line %d %q, want line %d with %q", i, e.Line, e.Error, want[i].line, want[i].reason)
				}
			}
			for _, r := range exportLines(t, "acme") {
				if strings.HasPrefix(r.Username, "dup") {
					t.Errorf("the later row of a shared e-mail was stored: %s", r.Username)
				}
			}
		})
	}
}

// cancelAfter is an input that cancels the import's context once it has
// delivered n bytes, and then goes on delivering.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// TestImportInterrupted: an import whose context ends part-way (Ctrl-C)
// stops without hanging, fails, and leaves only whole batches committed;
// a re-run with --on-conflict skip then finishes it.
func TestImportInterrupted(t *testing.T) {
	dir := freshDB(t, "sqlite")
	mustRun(t, "tenant", "create", "acme")
	rows := genRows(6*importBatchRows, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	old := stdin
	defer func() { stdin = old }()
	stdin = &cancelAfter{r: strings.NewReader(rows), n: len(rows) / 3, cancel: cancel}
	var out, errOut strings.Builder
	if code := Run(ctx, []string{"user", "import", "--tenant", "acme", "--quiet", "-"}, &out, &errOut); code != 1 {
		t.Fatalf("interrupted import: exit %d, want 1\n%s\n%s", code, out.String(), errOut.String())
	}
	n := len(exportLines(t, "acme"))
	if n%importBatchRows != 0 || n >= 6*importBatchRows {
		t.Fatalf("after the interruption the tenant has %d users, want whole batches of %d", n, importBatchRows)
	}
	stdin = strings.NewReader(rows)
	t.Chdir(dir)
	if got := counts(t, mustRun(t, "user", "import", "--tenant", "acme", "--quiet", "--on-conflict", "skip", "-")); got !=
		fmt.Sprintf("%d imported, 0 updated, 0 unchanged, %d skipped, 0 failed (0 invalid, 0 conflict)", 6*importBatchRows-n, n) {
		t.Fatalf("resume: %s", got)
	}
}
