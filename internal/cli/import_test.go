package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// freshDB points the commands at a new, migrated database of backend
// (with its own SSN key) and returns a directory for the test's files.
func freshDB(t *testing.T, backend string) string {
	t.Helper()
	vars := map[string]string{"ROSTER_DB": testdb.URL(t, backend)}
	if backend == "postgres" {
		vars["ROSTER_ENCRYPTION_KEY"] = "k1:" + secret.NewKeySpec()
	}
	withEnv(t, vars)
	if code, _, stderr := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	return t.TempDir()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("roster %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// everything is a user holding every kind of value the model has: each
// multi-valued list (all address parts among them), aliases, attributes,
// extras, an SSN, a partner code; and a second user with a given id,
// version and timestamps.
const everything = `{"username":"ann","external_id":"ext-1","external_source":"hr","first_name":"Ann","last_name":"Lee",` +
	`"email_verified":true,"phone_verified":true,"locale":"en-US","state":"INACTIVE","locked":true,"ssn":"222-23-3333",` +
	`"values":{"email":[{"value":"ann@example.com","type":"work","primary":true},{"value":"ann@home.example","type":"home","display":"Home"}],` +
	`"phone":[{"value":"+14155550100","type":"work","primary":true},{"value":"+14155550101","type":"mobile","display":"cell"}],` +
	`"address":[{"type":"work","primary":true,"street_address":"1 Main St\nSuite 2","locality":"Springfield","region":"IL","postal_code":"62701","country":"US","formatted":"1 Main St, Suite 2, Springfield IL 62701"},` +
	`{"type":"home","street_address":"2 Elm St","locality":"Shelbyville","region":"IL","postal_code":"62565","country":"US"}],` +
	`"im":[{"value":"ann@xmpp.example","type":"xmpp"}],"photo":[{"value":"https://example.com/ann.jpg","type":"photo"}],` +
	`"entitlement":[{"value":"beta"}],"role":[{"value":"admin","primary":true}],"x509_certificate":[{"value":"MIIBszCCAVmgAwIBAgIU","display":"cert"}]},` +
	`"aliases":[{"type":"CUSTOM","value":"annie"},{"id":"0190a5c4-1111-7000-8000-000000000001","type":"USERID","value":"a.lee"}],` +
	`"attributes":[{"name":"dept","value":"R&D"},{"name":"floor","value":"3"}],"extras":{"tosAnswer":"Accepted","title":"Dr <b>"},"partner_code":"ANN00001"}
{"id":"0190a5c4-2222-7000-8000-000000000002","email":"bob@example.com","version":3,"created_at":"2020-01-02T03:04:05.123456Z","updated_at":"2021-01-02T03:04:05Z"}
`

// TestImportRoundTrip: export, import into an empty database, export
// again gives the same bytes, in both formats, SSNs included.
func TestImportRoundTrip(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "acme")
			mustRun(t, "user", "import", "--tenant", "acme", "--quiet", writeFile(t, dir, "in.ndjson", everything))
			first := mustRun(t, "user", "export", "--tenant", "acme", "--with-ssn")
			firstCSV := mustRun(t, "user", "export", "--tenant", "acme", "--with-ssn", "--format", "csv")
			for _, want := range []string{`"ssn":"222233333"`, `"x509_certificate":[`, `"im":[`, `"photo":[`, `"entitlement":[`,
				`"role":[`, `"street_address":"1 Main St\nSuite 2"`, `"formatted":"1 Main St, Suite 2, Springfield IL 62701"`,
				`"partner_code":"ANN00001"`, `"id":"0190a5c4-1111-7000-8000-000000000001"`, `"tosAnswer":"Accepted"`,
				`"id":"0190a5c4-2222-7000-8000-000000000002"`, `"version":3`, `"created_at":"2020-01-02T03:04:05.123456Z"`,
				`"updated_at":"2021-01-02T03:04:05Z"`, `"title":"Dr <b>"`} {
				if !strings.Contains(first, want) {
					t.Errorf("export lacks %s:\n%s", want, first)
				}
			}
			// Every user has its partner code and every alias its id.
			for _, line := range strings.Split(strings.TrimSpace(first), "\n") {
				var r userRecord
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatal(err)
				}
				if r.PartnerCode == "" || r.ID == "" || r.CreatedAt == "" || r.Version == 0 {
					t.Errorf("exported record lacks identity: %s", line)
				}
				for _, a := range r.Aliases {
					if a.ID == "" {
						t.Errorf("alias without id: %s", line)
					}
				}
			}

			for _, tc := range []struct{ format, data string }{{"ndjson", first}, {"csv", firstCSV}} {
				// A new database with a new SSN key: what rotating the
				// key by export and re-import does.
				dir := freshDB(t, backend)
				mustRun(t, "tenant", "create", "acme")
				out := mustRun(t, "user", "import", "--tenant", "acme", "--quiet", writeFile(t, dir, "export."+tc.format, tc.data))
				if !strings.Contains(out, "2 imported") {
					t.Errorf("%s import: %s", tc.format, out)
				}
				again := mustRun(t, "user", "export", "--tenant", "acme", "--with-ssn", "--format", tc.format)
				if again != tc.data {
					t.Errorf("%s round trip differs:\nfirst:  %s\nsecond: %s", tc.format, tc.data, again)
				}
			}
		})
	}
}

var countsRE = regexp.MustCompile(`(\d+) imported, (\d+) updated, (\d+) unchanged, (\d+) skipped, (\d+) failed \((\d+) invalid, (\d+) conflict\)`)

// counts parses the summary line of an import.
func counts(t *testing.T, out string) string {
	t.Helper()
	m := countsRE.FindString(out)
	if m == "" {
		t.Fatalf("no import summary in %q", out)
	}
	return m
}

func exportLines(t *testing.T, tenant string) []userRecord {
	t.Helper()
	var recs []userRecord
	sc := bufio.NewScanner(strings.NewReader(mustRun(t, "user", "export", "--tenant", tenant)))
	for sc.Scan() {
		var r userRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestImportOnConflict re-runs imports on a tenant that makes nothing but
// usernames unique, keyed by id, by username and by external id.
func TestImportOnConflict(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "loose", "--unique", "none")
			// No usernames, no ids: only the export's ids can tell
			// these rows apart on a re-run.
			in := writeFile(t, dir, "in.ndjson", `{"email":"a@example.com","first_name":"A"}
{"email":"b@example.com","first_name":"B"}
{"email":"c@example.com","first_name":"C"}
`)
			if got := counts(t, mustRun(t, "user", "import", "--tenant", "loose", "--quiet", in)); got != "3 imported, 0 updated, 0 unchanged, 0 skipped, 0 failed (0 invalid, 0 conflict)" {
				t.Fatalf("first import: %s", got)
			}
			export := writeFile(t, dir, "export.ndjson", mustRun(t, "user", "export", "--tenant", "loose"))

			if got := counts(t, mustRun(t, "user", "import", "--tenant", "loose", "--on-conflict", "skip", export)); got != "0 imported, 0 updated, 0 unchanged, 3 skipped, 0 failed (0 invalid, 0 conflict)" {
				t.Errorf("re-run with skip: %s", got)
			}
			code, out, stderr := runCLI(t, "user", "import", "--tenant", "loose", export)
			if code != 1 || counts(t, out) != "0 imported, 0 updated, 0 unchanged, 0 skipped, 3 failed (0 invalid, 3 conflict)" || !strings.Contains(stderr, "conflict: id") {
				t.Errorf("re-run with fail: exit %d\n%s\n%s", code, out, stderr)
			}
			if n := len(exportLines(t, "loose")); n != 3 {
				t.Fatalf("after re-runs the tenant has %d users, want 3", n)
			}

			// update: one row changed, two as exported.
			recs := exportLines(t, "loose")
			recs[1].FirstName = "Bea"
			var b strings.Builder
			for _, r := range recs {
				line, _ := json.Marshal(r)
				b.Write(append(line, '\n'))
			}
			if got := counts(t, mustRun(t, "user", "import", "--tenant", "loose", "--on-conflict", "update", writeFile(t, dir, "edit.ndjson", b.String()))); got != "0 imported, 1 updated, 2 unchanged, 0 skipped, 0 failed (0 invalid, 0 conflict)" {
				t.Errorf("update: %s", got)
			}
			after := exportLines(t, "loose")
			if len(after) != 3 || after[1].FirstName != "Bea" || after[1].Version != 2 || after[1].ID != recs[1].ID ||
				after[1].CreatedAt != recs[1].CreatedAt || after[1].PartnerCode != recs[1].PartnerCode || after[1].UpdatedAt == recs[1].UpdatedAt {
				t.Errorf("after update: %+v", after[1])
			}
			if !reflect.DeepEqual(after[0], recs[0]) {
				t.Errorf("an unchanged row was rewritten: %+v", after[0])
			}

			// Keyed by username, then by external id (not unique under
			// this policy, so matched by lookup).
			for _, row := range []string{`{"username":"zed","first_name":"Z"}`, `{"external_id":"hr-7","first_name":"E"}`} {
				f := writeFile(t, dir, "one.ndjson", row+"\n")
				mustRun(t, "user", "import", "--tenant", "loose", f)
				if got := counts(t, mustRun(t, "user", "import", "--tenant", "loose", "--on-conflict", "skip", f)); got != "0 imported, 0 updated, 0 unchanged, 1 skipped, 0 failed (0 invalid, 0 conflict)" {
					t.Errorf("re-run of %s with skip: %s", row, got)
				}
				if code, _, stderr := runCLI(t, "user", "import", "--tenant", "loose", f); code != 1 || !strings.Contains(stderr, "conflict") {
					t.Errorf("re-run of %s with fail: exit %d %s", row, code, stderr)
				}
			}
			if n := len(exportLines(t, "loose")); n != 5 {
				t.Errorf("tenant has %d users, want 5", n)
			}

			// A row whose id is new but whose username another user
			// holds is a conflict whatever the mode.
			clash := writeFile(t, dir, "clash.ndjson", `{"id":"0190a5c4-3333-7000-8000-000000000003","username":"zed"}`+"\n")
			if code, out, stderr := runCLI(t, "user", "import", "--tenant", "loose", "--on-conflict", "skip", clash); code != 1 || !strings.Contains(stderr, "conflict: username") {
				t.Errorf("username clash under skip: exit %d %s %s", code, out, stderr)
			}
			if code, _, _ := runCLI(t, "user", "import", "--tenant", "loose", "--on-conflict", "sometimes", clash); code != exitUsage {
				t.Errorf("--on-conflict sometimes: exit %d, want %d", code, exitUsage)
			}
		})
	}
}

// TestImportValidation: what the API refuses, import refuses, and input
// that is not a user file stops before any row.
func TestImportValidation(t *testing.T) {
	binary := make([]byte, 2048)
	for i := range binary {
		binary[i] = byte(i*7 + i/256)
	}
	tests := []struct {
		name    string
		data    string
		flags   []string
		want    string // in stderr
		summary string // in stdout; "" when the import stops before any row
		code    int
	}{
		{"bad phone", `{"username":"a","phone":"call me maybe"}`, nil, "phone must be in E.164", "1 failed (1 invalid", 1},
		{"empty object", `{}`, nil, "identifying field", "1 failed (1 invalid", 1},
		{"null line", "{\"username\":\"ok\"}\nnull", nil, "line 2: not a JSON object", "1 imported", 1},
		{"bad e-mail", `{"username":"a","email":"not-an-email"}`, nil, "not a valid e-mail", "1 failed", 1},
		{"bad SSN structure", `{"username":"a","ssn":"000-12-3456"}`, nil, "structurally valid", "1 failed", 1},
		{"bad SSN structure, lenient", `{"username":"a","ssn":"000-12-3456"}`, []string{"--lenient"}, "", "1 imported", 0},
		{"bad id", `{"id":"nope","username":"a"}`, nil, "id must be a UUID", "1 failed", 1},
		{"bad time", `{"username":"a","created_at":"yesterday"}`, nil, "RFC 3339", "1 failed", 1},
		{"unknown field", `{"username":"a","emial":"a@example.com"}`, nil, "unknown field", "1 failed", 1},
		{"trailing garbage", `{"username":"a"} ]`, nil, "exactly one JSON value", "1 failed", 1},
		{"bad CSV header", "username,emial\nann,ann@example.com\n", nil, `"emial" is not a user field`, "", 1},
		{"repeated CSV column", "username,username\nann,ann\n", nil, "appears twice", "", 1},
		{"short CSV row", "username,email\nann\nbob,bob@example.com\n", nil, "line 2: row has 1 fields, the header has 2", "1 imported", 1},
		{"long CSV row", "username,email\nann,ann@example.com,x\n", nil, "line 2: row has 3 fields, the header has 2", "1 failed", 1},
		{"bad CSV cell", "username,locked\nann,perhaps\n", nil, "column locked", "1 failed", 1},
		{"binary file", string(binary), nil, "neither NDJSON nor CSV", "", 1},
		{"JSON array", `[{"username":"a"}]`, nil, "JSON array", "", 1},
		{"empty file", "", nil, "", "0 imported", 0},
	}
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "acme")
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tenant := "v" + strings.Repeat("x", i) // one tenant each: no row meets another
					mustRun(t, "tenant", "create", tenant)
					f := writeFile(t, dir, tt.name+".in", tt.data)
					args := append([]string{"user", "import", "--tenant", tenant, "--quiet"}, tt.flags...)
					code, out, stderr := runCLI(t, append(args, f)...)
					if code != tt.code || !strings.Contains(stderr, tt.want) {
						t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
					}
					if tt.summary == "" && out != "" || !strings.Contains(out, tt.summary) {
						t.Errorf("stdout %q, want %q", out, tt.summary)
					}
					if tt.summary == "" && len(exportLines(t, tenant)) != 0 {
						t.Error("a refused file imported users")
					}
				})
			}
		})
	}
}

// TestImportRejectFile: every rejected row lands in the reject file with
// its line number; the first few are listed; the count is exact.
func TestImportRejectFile(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			mustRun(t, "tenant", "create", "acme")
			var b strings.Builder
			var badLines []int
			for line := 1; line <= 14; line++ {
				switch {
				case line == 3:
					b.WriteString("\n") // a blank line still counts
				case line%2 == 0:
					b.WriteString(`{"first_name":"nobody"}` + "\n")
					badLines = append(badLines, line)
				default:
					b.WriteString(`{"username":"u` + string(rune('a'+line)) + `"}` + "\n")
				}
			}
			in := writeFile(t, dir, "in.ndjson", b.String())
			code, out, stderr := runCLI(t, "user", "import", "--tenant", "acme", in)
			rejects := in + ".rejects.ndjson"
			if code != 1 || counts(t, out) != "6 imported, 0 updated, 0 unchanged, 0 skipped, 7 failed (7 invalid, 0 conflict)" {
				t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
			}
			for i, l := range badLines {
				listed := strings.Contains(stderr, "line "+strconv.Itoa(l)+": ")
				if listed != (i < shownFailures) {
					t.Errorf("line %d listed: %v, want %v:\n%s", l, listed, i < shownFailures, stderr)
				}
			}
			if !strings.Contains(stderr, "(2 more rejected rows are in "+rejects+")") || !strings.Contains(stderr, rejects) {
				t.Errorf("stderr does not point at the reject file:\n%s", stderr)
			}
			entries := readRejects(t, rejects)
			if len(entries) != len(badLines) {
				t.Fatalf("reject file has %d entries, want %d", len(entries), len(badLines))
			}
			for i, e := range entries {
				if e.Line != badLines[i] || !strings.Contains(e.Error, "identifying field") || e.Input != `{"first_name":"nobody"}` {
					t.Errorf("reject %d = %+v, want line %d", i, e, badLines[i])
				}
			}
			if st, err := os.Stat(rejects); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("reject file mode: %v %v", st, err)
			}

			// Exactly shownFailures failures: all listed, no "more" line;
			// a CSV from standard input, rejects in the working directory.
			t.Chdir(dir)
			var c strings.Builder
			c.WriteString("username,first_name\n")
			for i := 0; i < shownFailures; i++ {
				c.WriteString(",nobody\n")
			}
			old := stdin
			stdin = strings.NewReader(c.String())
			defer func() { stdin = old }()
			code, _, stderr = runCLI(t, "user", "import", "--tenant", "acme", "-")
			if code != 1 || strings.Contains(stderr, "more rejected") || strings.Count(stderr, "identifying field") != shownFailures {
				t.Errorf("five failures: exit %d\n%s", code, stderr)
			}
			entries = readRejects(t, filepath.Join(dir, defaultRejectsName))
			if len(entries) != shownFailures || entries[0].Line != 2 || entries[4].Line != 6 || len(entries[0].Fields) != 2 {
				t.Errorf("stdin rejects: %+v", entries)
			}

			// --rejects names the file; an import without failures
			// writes none.
			custom := filepath.Join(dir, "custom.rejects")
			ok := writeFile(t, dir, "ok.ndjson", `{"username":"fine"}`+"\n")
			mustRun(t, "user", "import", "--tenant", "acme", "--rejects", custom, ok)
			if _, err := os.Stat(custom); !os.IsNotExist(err) {
				t.Errorf("a clean import wrote a reject file: %v", err)
			}
			if code, _, _ := runCLI(t, "user", "import", "--tenant", "acme", "--rejects", ok, ok); code != exitUsage {
				t.Errorf("--rejects naming the input: exit %d, want %d", code, exitUsage)
			}
		})
	}
}

func readRejects(t *testing.T, path string) []rejectEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rejectEntry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e rejectEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("reject line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// TestImportProgressNotTerminal: with standard error a file, progress is
// plain lines, never a carriage return or an escape code.
func TestImportProgressNotTerminal(t *testing.T) {
	dir := freshDB(t, "sqlite")
	mustRun(t, "tenant", "create", "acme")
	old := plainEvery
	plainEvery = 0 // a line per row
	defer func() { plainEvery = old }()
	in := writeFile(t, dir, "in.ndjson", `{"username":"a"}`+"\n"+`{"first_name":"bad"}`+"\n"+`{"username":"b"}`+"\n")
	errFile, err := os.Create(filepath.Join(dir, "stderr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	code := Run(t.Context(), []string{"user", "import", "--tenant", "acme", in}, &out, errFile)
	errFile.Close()
	got, _ := os.ReadFile(errFile.Name())
	if code != 1 || !strings.Contains(string(got), "import: line 3") || strings.ContainsAny(string(got), "\r\x1b") {
		t.Fatalf("exit %d, stderr %q", code, got)
	}
	// --quiet: the rejected row and the error, no progress.
	errFile, _ = os.Create(filepath.Join(dir, "stderr2.txt"))
	code = Run(t.Context(), []string{"user", "import", "--tenant", "acme", "--quiet", "--on-conflict", "skip", in}, &out, errFile)
	errFile.Close()
	got, _ = os.ReadFile(errFile.Name())
	if code != 1 || strings.Contains(string(got), "import: line") || !strings.Contains(string(got), "line 2:") {
		t.Fatalf("--quiet: exit %d, stderr %q", code, got)
	}
	if isTerminal(errFile) {
		t.Error("a regular file is a terminal")
	}
}

// TestHelp: every command and group prints its own usage and flags, and
// asking for help touches no database.
func TestHelp(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + db})
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			args := append(strings.Fields(c.name), "--help")
			code, out, stderr := runCLI(t, args...)
			if code != 0 || !strings.HasPrefix(out, "Usage: roster "+c.name) || !strings.Contains(out, upperFirst(c.summary)) {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
			if c.name != "version" && !strings.Contains(out, "--db URL") {
				t.Errorf("help lacks --db:\n%s", out)
			}
			_, viaHelp, _ := runCLI(t, append([]string{"help"}, strings.Fields(c.name)...)...)
			if viaHelp != out {
				t.Errorf("roster help %s differs from --help", c.name)
			}
		})
	}
	_, out, _ := runCLI(t, "user", "import", "-h")
	for _, want := range []string{"--on-conflict MODE", "--rejects FILE", "--quiet", "--lenient", "--tenant NAME", "FILE|-", "standard input"} {
		if !strings.Contains(out, want) {
			t.Errorf("user import help lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = runCLI(t, "user", "export", "--help")
	if !strings.Contains(out, "--with-ssn") || !strings.Contains(out, "--format") {
		t.Errorf("user export help:\n%s", out)
	}
	for _, g := range []string{"tenant", "credential", "user"} {
		code, out, _ := runCLI(t, g, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: roster "+g+" COMMAND") {
			t.Errorf("%s --help: exit %d\n%s", g, code, out)
		}
		for _, c := range commands {
			if strings.HasPrefix(c.name, g+" ") && !strings.Contains(out, c.name) {
				t.Errorf("%s --help does not list %s", g, c.name)
			}
		}
		if code, _, stderr := runCLI(t, g); code != exitUsage || !strings.Contains(stderr, "needs a subcommand") || !strings.Contains(stderr, g+" ") {
			t.Errorf("bare %s: exit %d %s", g, code, stderr)
		}
	}
	code, out, _ := runCLI(t, "--help")
	if code != 0 {
		t.Fatal(code)
	}
	for _, c := range commands {
		if !strings.Contains(out, c.name) {
			t.Errorf("roster --help does not list %s", c.name)
		}
	}
	code, out, _ = runCLI(t, "version")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "roster ") || !strings.HasPrefix(lines[1], "commit ") || !strings.HasPrefix(lines[2], "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("help created the database: %v", err)
	}
}

// TestUnknownTenant: the tenant is named once, in plain words.
func TestUnknownTenant(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := freshDB(t, backend)
			f := writeFile(t, dir, "in.ndjson", `{"username":"a"}`+"\n")
			for _, args := range [][]string{
				{"user", "import", "--tenant", "acme", f},
				{"user", "export", "--tenant", "acme"},
				{"credential", "create", "--tenant", "acme"},
				{"credential", "list", "--tenant", "acme"},
				{"audit", "--tenant", "acme"},
			} {
				code, _, stderr := runCLI(t, args...)
				if code != 1 || stderr != "roster: tenant \"acme\" not found\n" {
					t.Errorf("%v: exit %d %q", args, code, stderr)
				}
			}
			code, _, stderr := runCLI(t, "credential", "revoke", "0123456789abcdef0123456789abcdef")
			if code != 1 || stderr != "roster: credential \"0123456789abcdef0123456789abcdef\" not found\n" {
				t.Errorf("revoke unknown: exit %d %q", code, stderr)
			}
		})
	}
}

// TestSQLitePathNotCreated: a mistyped path creates nothing; only serve
// and migrate create a database, and never a directory.
func TestSQLitePathNotCreated(t *testing.T) {
	base := t.TempDir()
	missingDir := filepath.Join(base, "nonexistent", "dir")
	f := writeFile(t, base, "in.ndjson", `{"username":"a"}`+"\n")
	withEnv(t, map[string]string{"ROSTER_SHUTDOWN_GRACE": "1s"})
	for _, db := range []string{filepath.Join(missingDir, "x.db"), filepath.Join(base, "x.db")} {
		url := "sqlite:" + db
		for _, args := range [][]string{
			{"tenant", "list"}, {"tenant", "create", "acme"}, {"credential", "create", "--tenant", "acme"},
			{"credential", "list", "--tenant", "acme"}, {"credential", "revoke", "0123456789abcdef0123456789abcdef"},
			{"user", "export", "--tenant", "acme"}, {"user", "import", "--tenant", "acme", f},
		} {
			code, _, stderr := runCLI(t, append(args, "--db", url)...)
			if code != 1 || !strings.Contains(stderr, "does not exist") {
				t.Errorf("%v on %s: exit %d %q", args, db, code, stderr)
			}
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("%s was created: %v", db, err)
		}
		if _, err := os.Stat(db + ".key"); !os.IsNotExist(err) {
			t.Errorf("%s.key was created: %v", db, err)
		}
	}
	url := "sqlite:" + filepath.Join(missingDir, "x.db")
	for _, args := range [][]string{{"migrate", "--db", url}, {"serve", "--listen", "127.0.0.1:0", "--db", url}} {
		code, _, stderr := runCLI(t, args...)
		if code != 1 || !strings.Contains(stderr, "does not exist; create it first") {
			t.Errorf("%v: exit %d %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "nonexistent")); !os.IsNotExist(err) {
		t.Errorf("a directory was created: %v", err)
	}
	// In an existing directory, migrate creates the database.
	url = "sqlite:" + filepath.Join(base, "x.db")
	if code, _, stderr := runCLI(t, "migrate", "--db", url); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	if code, _, stderr := runCLI(t, "tenant", "list", "--db", url); code != 0 {
		t.Fatalf("tenant list after migrate: %s", stderr)
	}
}

// TestMissingKeyFileRefused: an existing SQLite database whose key file
// is gone is refused by every command, serve included, instead of getting
// a fresh key that cannot read its SSNs.
func TestMissingKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + db, "ROSTER_ENCRYPTION_KEY": "", "ROSTER_KEY_FILE": ""})
	if code, _, stderr := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d %s", code, stderr)
	}
	if err := os.Remove(db + ".key"); err != nil {
		t.Fatalf("remove key file: %v", err)
	}
	for _, args := range [][]string{{"migrate"}, {"tenant", "list"}, {"serve", "--listen", "127.0.0.1:0"}} {
		code, _, stderr := runCLI(t, args...)
		if code == 0 || !strings.Contains(stderr, "key file") || !strings.Contains(stderr, "missing") {
			t.Errorf("%v: exit %d %q, want a refusal naming the missing key file", args, code, stderr)
		}
	}
	if _, err := os.Stat(db + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was created: %v", err)
	}
}
