package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/roster-dev/roster/internal/directory"
)

// tenantPrincipal is an operator acting on a tenant from the command line.
func tenantPrincipal(ctx context.Context, svc *directory.Service, name string) (directory.Principal, error) {
	t, err := svc.TenantByName(ctx, name)
	if err != nil {
		return directory.Principal{}, tenantError(name, err)
	}
	return directory.Principal{TenantID: t.ID, TenantName: t.Name, Unique: t.Unique, ClientID: directory.ActorAdmin}, nil
}

// tenantError names a tenant that does not exist once, in plain words.
func tenantError(name string, err error) error {
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("tenant %q not found", name)
	}
	return err
}

// Import rule sets (docs/OPERATIONS.md, "Validation"). Both include the
// core's always-on checks (lengths, control characters, UTF-8, the SSN's
// nine digits, state values, aliases, multi-valued values).
var (
	// importRules is the default: e-mail syntax, phone and mobile in
	// E.164 form (+ and 8 to 15 digits, as CL2C checks; the number need
	// not be possible, as Entrust's examples are not), and SSN
	// structure, which every dialect but Truv checks.
	importRules = directory.Rules{Checks: directory.CheckEmail | directory.CheckPhoneFormat | directory.CheckSSNStructure}
	// lenientImportRules is what the most lenient dialect, Truv,
	// checks: e-mail syntax only. An export of users written through
	// dialects that keep a phone or an SSN as sent re-imports under it.
	lenientImportRules = directory.Rules{Checks: directory.CheckEmail}
)

// stdin is the input of `user import -`; tests replace it.
var stdin io.Reader = os.Stdin

// shownFailures is how many rejected rows an import lists on standard
// error; the reject file has them all.
const shownFailures = 5

// importCounts are an import's outcomes, counted per kind.
type importCounts struct {
	imported, updated, unchanged, skipped int
	invalid, conflict                     int // failed rows, by reason
}

func (c *importCounts) failed() int { return c.invalid + c.conflict }
func (c *importCounts) rows() int {
	return c.imported + c.updated + c.unchanged + c.skipped + c.failed()
}

func (c *importCounts) String() string {
	return fmt.Sprintf("%d imported, %d updated, %d unchanged, %d skipped, %d failed (%d invalid, %d conflict)",
		c.imported, c.updated, c.unchanged, c.skipped, c.failed(), c.invalid, c.conflict)
}

// parseOnConflict parses --on-conflict.
func parseOnConflict(s string) (directory.OnConflict, error) {
	switch s {
	case "fail":
		return directory.ConflictFail, nil
	case "skip":
		return directory.ConflictSkip, nil
	case "update":
		return directory.ConflictUpdate, nil
	}
	return 0, fmt.Errorf("%w: --on-conflict %q: want fail, skip or update", errUsage, s)
}

// defaultRejectsName is the reject file of an import from standard input,
// in the working directory.
const defaultRejectsName = "roster-import.rejects.ndjson"

func userImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("user import").withTenant()
	quiet := s.fs.Bool("quiet", false, "no progress output (rejected rows and the summary are still printed)")
	onConflict := s.fs.String("on-conflict", "fail", "when a row's key (its id, else username, else external_id) is taken: `MODE` fail, skip or update")
	rejectsFlag := s.fs.String("rejects", "", "write every rejected row to `FILE` (default FILE.rejects.ndjson beside the input, "+defaultRejectsName+" for -)")
	lenient := s.fs.Bool("lenient", false, "check only what Truv checks (e-mail syntax), not phone format or SSN structure")
	var (
		in       io.Reader
		inFile   *os.File
		size     int64
		mode     directory.OnConflict
		rejPath  string
		reader   rowReader
		counting = &countingReader{}
	)
	defer func() {
		if inFile != nil {
			inFile.Close()
		}
	}()
	_, o, err := s.open(ctx, args, 1, "one FILE (NDJSON or CSV; - for standard input)", func(pos []string) error {
		var err error
		if mode, err = parseOnConflict(*onConflict); err != nil {
			return err
		}
		rejPath = *rejectsFlag
		if pos[0] == "-" {
			in = stdin
			if rejPath == "" {
				rejPath = defaultRejectsName
			}
		} else {
			if inFile, err = os.Open(pos[0]); err != nil {
				return err
			}
			if st, err := inFile.Stat(); err == nil {
				size = st.Size()
			}
			in = inFile
			if rejPath == "" {
				rejPath = pos[0] + ".rejects.ndjson"
			}
			if a, err := os.Stat(rejPath); err == nil {
				if b, err := inFile.Stat(); err == nil && os.SameFile(a, b) {
					return fmt.Errorf("%w: --rejects %s is the input file", errUsage, rejPath)
				}
			}
		}
		// The format is known, or refused, before the database is
		// touched.
		counting.r = in
		reader, err = newRowReader(counting)
		return err
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	p, err := tenantPrincipal(ctx, o.svc, *s.tenant)
	if err != nil {
		return err
	}
	rules := importRules
	if *lenient {
		rules = lenientImportRules
	}

	var counts importCounts
	bar := newProgress(stderr, size, *quiet, &counts)
	rej := &rejectFile{path: rejPath}
	defer rej.close()
	defer limitMemory()()
	im := &importer{svc: o.svc, p: p, rules: rules, mode: mode, counts: &counts, bar: bar, rej: rej, workers: importWorkers()}
	if err := im.run(ctx, reader, counting); err != nil {
		bar.done()
		return err
	}
	bar.done()
	if err := rej.close(); err != nil {
		return err
	}
	if n := counts.failed() - shownFailures; n > 0 {
		fmt.Fprintf(stderr, "(%d more rejected rows are in %s)\n", n, rej.path)
	}
	fmt.Fprintf(stdout, "%s: %s, %d rows in %v (%.0f rows/s)\n", reader.format(), counts.String(), counts.rows(), bar.elapsed(), bar.rate())
	if counts.failed() > 0 {
		return fmt.Errorf("%d of %d rows failed; every rejected row, with its line number and reason, is in %s",
			counts.failed(), counts.rows(), rej.path)
	}
	return nil
}

// rowReason is the one-line reason a row was rejected.
func rowReason(err error) string {
	var ve *directory.ValidationError
	var ce *directory.ConflictError
	switch {
	case errors.As(err, &ve):
		return ve.Error()
	case errors.As(err, &ce):
		msg := fmt.Sprintf("conflict: %s %q is held by user %s", ce.Field, ce.Value, ce.ExistingID)
		if ce.ExistingID == "" {
			msg = fmt.Sprintf("conflict: %s %q is already in use", ce.Field, ce.Value)
		}
		return msg
	}
	return err.Error()
}

// rejectFile is the NDJSON file of rejected rows: one object per row with
// its line number, the reason and the row as read. It is created (mode
// 0600: rows may hold SSNs) on the first rejected row, so an import
// without failures leaves no file behind.
type rejectFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

// rejectEntry is one line of the reject file.
type rejectEntry struct {
	Line   int      `json:"line"`
	Error  string   `json:"error"`
	Input  string   `json:"input,omitempty"`  // NDJSON: the line
	Fields []string `json:"fields,omitempty"` // CSV: the row's fields
}

func (r *rejectFile) write(row *inputRow, reason string) error {
	if r.f == nil {
		if dir := filepath.Dir(r.path); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return fmt.Errorf("reject file: %w", err)
			}
		}
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("reject file: %w", err)
		}
		r.f, r.w = f, bufio.NewWriter(f)
	}
	b, err := json.Marshal(rejectEntry{Line: row.line, Error: reason, Input: row.input(), Fields: row.fields})
	if err != nil {
		return fmt.Errorf("reject file: %w", err)
	}
	if _, err := r.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("reject file: %w", err)
	}
	return nil
}

func (r *rejectFile) close() error {
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	if err := r.w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("reject file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("reject file: %w", err)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func userExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("user export").withTenant()
	format := s.fs.String("format", "ndjson", "ndjson or csv")
	withSSN := s.fs.Bool("with-ssn", false, "include decrypted SSNs (off by default: exports leave the encrypted store)")
	_, o, err := s.open(ctx, args, 0, "no arguments besides flags", func([]string) error {
		if *format != "ndjson" && *format != "csv" {
			return fmt.Errorf("%w: --format %q: want ndjson or csv", errUsage, *format)
		}
		return nil
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	tenant := s.tenant
	p, err := tenantPrincipal(ctx, o.svc, *tenant)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(stdout, 1<<16)
	var cw *csv.Writer
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if *format == "csv" {
		cw = csv.NewWriter(bw)
		if err := cw.Write(csvColumns); err != nil {
			return err
		}
	}
	// Keyset paging: a consistent walk even while users are written.
	var after *directory.Cursor
	for {
		page, err := o.svc.ListUsers(ctx, p, directory.UserQuery{After: after, Limit: directory.MaxPageSize})
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			rec := fromUser(u, *withSSN)
			if cw != nil {
				err = cw.Write(rec.csvRow())
			} else {
				err = enc.Encode(rec)
			}
			if err != nil {
				return err
			}
		}
		if !page.HasMore || len(page.Users) == 0 {
			break
		}
		cur := directory.CursorFor(page.Users[len(page.Users)-1], nil)
		after = &cur
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	return bw.Flush()
}
