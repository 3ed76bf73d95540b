package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// userRecord is the neutral, dialect-free form of a user that import reads
// and export writes (one JSON object per NDJSON line; CSV uses the same
// names as columns, with aliases/attributes/extras as JSON cells).
type userRecord struct {
	ID             string            `json:"id,omitempty"`
	Username       string            `json:"username,omitempty"`
	ExternalID     string            `json:"external_id,omitempty"`
	ExternalSource string            `json:"external_source,omitempty"`
	FirstName      string            `json:"first_name,omitempty"`
	LastName       string            `json:"last_name,omitempty"`
	Email          string            `json:"email,omitempty"`
	EmailVerified  bool              `json:"email_verified,omitempty"`
	Phone          string            `json:"phone,omitempty"`
	PhoneVerified  bool              `json:"phone_verified,omitempty"`
	Mobile         string            `json:"mobile,omitempty"`
	Locale         string            `json:"locale,omitempty"`
	State          string            `json:"state,omitempty"`
	Locked         bool              `json:"locked,omitempty"`
	SSN            string            `json:"ssn,omitempty"`
	Address        *addressRecord    `json:"address,omitempty"`
	Aliases        []aliasRecord     `json:"aliases,omitempty"`
	Attributes     []attrRecord      `json:"attributes,omitempty"`
	Extras         map[string]string `json:"extras,omitempty"`
	PartnerCode    string            `json:"partner_code,omitempty"`
	CreatedAt      string            `json:"created_at,omitempty"`
	UpdatedAt      string            `json:"updated_at,omitempty"`
}

type addressRecord struct {
	Line1   string `json:"line1,omitempty"`
	Line2   string `json:"line2,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Country string `json:"country,omitempty"`
	Zip     string `json:"zip,omitempty"`
}

type aliasRecord struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

type attrRecord struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (r *userRecord) toUser() *directory.User {
	u := &directory.User{
		Username: r.Username, ExternalID: r.ExternalID, ExternalSource: r.ExternalSource,
		FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, EmailVerified: r.EmailVerified,
		Phone: r.Phone, PhoneVerified: r.PhoneVerified, Mobile: r.Mobile, Locale: r.Locale,
		State: r.State, Locked: r.Locked, SSN: secret.Value(r.SSN), Extras: r.Extras,
	}
	if r.Address != nil {
		u.Address = directory.Address(*r.Address)
	}
	for _, a := range r.Aliases {
		u.Aliases = append(u.Aliases, directory.Alias{Type: a.Type, Value: a.Value})
	}
	for _, a := range r.Attributes {
		u.Attributes = append(u.Attributes, directory.Attribute{Name: a.Name, Value: a.Value})
	}
	return u
}

func fromUser(u *directory.User, withSSN bool) userRecord {
	r := userRecord{
		ID: u.ID, Username: u.Username, ExternalID: u.ExternalID, ExternalSource: u.ExternalSource,
		FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified, Mobile: u.Mobile, Locale: u.Locale,
		State: u.State, Locked: u.Locked, Extras: u.Extras, PartnerCode: u.PartnerCode,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: u.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	if withSSN {
		r.SSN = u.SSN.Reveal()
	}
	if !u.Address.IsZero() {
		a := addressRecord(u.Address)
		r.Address = &a
	}
	for _, a := range u.Aliases {
		r.Aliases = append(r.Aliases, aliasRecord{Type: a.Type, Value: a.Value})
	}
	for _, a := range u.Attributes {
		r.Attributes = append(r.Attributes, attrRecord{Name: a.Name, Value: a.Value})
	}
	return r
}

// csvColumns are the CSV header, in order.
var csvColumns = []string{"id", "username", "external_id", "external_source", "first_name", "last_name",
	"email", "email_verified", "phone", "phone_verified", "mobile", "locale", "state", "locked", "ssn",
	"address_line1", "address_line2", "address_city", "address_state", "address_country", "address_zip",
	"aliases", "attributes", "extras", "partner_code", "created_at", "updated_at"}

func (r *userRecord) csvRow() []string {
	a := addressRecord{}
	if r.Address != nil {
		a = *r.Address
	}
	js := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		if string(b) == "null" {
			return ""
		}
		return string(b)
	}
	return []string{r.ID, r.Username, r.ExternalID, r.ExternalSource, r.FirstName, r.LastName,
		r.Email, strconv.FormatBool(r.EmailVerified), r.Phone, strconv.FormatBool(r.PhoneVerified), r.Mobile,
		r.Locale, r.State, strconv.FormatBool(r.Locked), r.SSN,
		a.Line1, a.Line2, a.City, a.State, a.Country, a.Zip,
		js(r.Aliases), js(r.Attributes), js(r.Extras), r.PartnerCode, r.CreatedAt, r.UpdatedAt}
}

// csvText maps the plain text columns to their field.
var csvText = map[string]func(*userRecord, *addressRecord) *string{
	"username":        func(r *userRecord, _ *addressRecord) *string { return &r.Username },
	"external_id":     func(r *userRecord, _ *addressRecord) *string { return &r.ExternalID },
	"external_source": func(r *userRecord, _ *addressRecord) *string { return &r.ExternalSource },
	"first_name":      func(r *userRecord, _ *addressRecord) *string { return &r.FirstName },
	"last_name":       func(r *userRecord, _ *addressRecord) *string { return &r.LastName },
	"email":           func(r *userRecord, _ *addressRecord) *string { return &r.Email },
	"phone":           func(r *userRecord, _ *addressRecord) *string { return &r.Phone },
	"mobile":          func(r *userRecord, _ *addressRecord) *string { return &r.Mobile },
	"locale":          func(r *userRecord, _ *addressRecord) *string { return &r.Locale },
	"state":           func(r *userRecord, _ *addressRecord) *string { return &r.State },
	"ssn":             func(r *userRecord, _ *addressRecord) *string { return &r.SSN },
	"address_line1":   func(_ *userRecord, a *addressRecord) *string { return &a.Line1 },
	"address_line2":   func(_ *userRecord, a *addressRecord) *string { return &a.Line2 },
	"address_city":    func(_ *userRecord, a *addressRecord) *string { return &a.City },
	"address_state":   func(_ *userRecord, a *addressRecord) *string { return &a.State },
	"address_country": func(_ *userRecord, a *addressRecord) *string { return &a.Country },
	"address_zip":     func(_ *userRecord, a *addressRecord) *string { return &a.Zip },
}

// recordFromCSV reads one row by header names; unknown columns are an error
// so a typo does not silently drop data.
func recordFromCSV(header, row []string) (*userRecord, error) {
	r := &userRecord{}
	addr := addressRecord{}
	for i, col := range header {
		if i >= len(row) {
			break
		}
		v := row[i]
		if get, ok := csvText[col]; ok {
			*get(r, &addr) = v
			continue
		}
		var err error
		switch col {
		case "id", "partner_code", "created_at", "updated_at":
			// Assigned by Roster on import.
		case "email_verified":
			r.EmailVerified, err = parseBoolCell(v)
		case "phone_verified":
			r.PhoneVerified, err = parseBoolCell(v)
		case "locked":
			r.Locked, err = parseBoolCell(v)
		case "aliases":
			err = jsonCell(v, &r.Aliases)
		case "attributes":
			err = jsonCell(v, &r.Attributes)
		case "extras":
			err = jsonCell(v, &r.Extras)
		default:
			return nil, fmt.Errorf("unknown column %q", col)
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", col, err)
		}
	}
	if addr != (addressRecord{}) {
		r.Address = &addr
	}
	return r, nil
}

func parseBoolCell(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	return strconv.ParseBool(s)
}

func jsonCell(s string, dst any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), dst)
}

// tenantPrincipal is an operator acting on a tenant from the command line.
func tenantPrincipal(ctx context.Context, svc *directory.Service, name string) (directory.Principal, error) {
	t, err := svc.TenantByName(ctx, name)
	if err != nil {
		return directory.Principal{}, describe(err)
	}
	return directory.Principal{TenantID: t.ID, TenantName: t.Name, Unique: t.Unique, ClientID: "cli"}, nil
}

// importRules: an import is an operator's bulk load, so only the always-on
// checks and e-mail syntax apply; vendor-specific rules are for the wire.
var importRules = directory.Rules{Checks: directory.CheckEmail | directory.CheckSSNStructure}

func userImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("user import").withTenant()
	quiet := s.fs.Bool("quiet", false, "no progress bar")
	var in io.Reader = os.Stdin
	var size int64
	_, o, err := s.open(ctx, args, 1, "one FILE (NDJSON or CSV; - for standard input)", func(pos []string) error {
		if pos[0] == "-" {
			return nil
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
		return nil
	}, stderr)
	if f, ok := in.(*os.File); ok && f != os.Stdin {
		defer f.Close()
	}
	if err != nil {
		return err
	}
	defer o.Close()
	p, err := tenantPrincipal(ctx, o.svc, *s.tenant)
	if err != nil {
		return err
	}
	counted := &countingReader{r: in}
	bar := newProgress(stdout, size, *quiet)
	br := bufio.NewReaderSize(counted, 1<<16)
	next, err := recordReader(br)
	if err != nil {
		return err
	}
	var ok, failed int
	for n := 1; ; n++ {
		rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			_, err = o.svc.CreateUser(ctx, p, rec.toUser(), importRules)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			bar.note(fmt.Sprintf("record %d: %v", n, err))
		} else {
			ok++
		}
		bar.update(counted.n, ok, failed)
	}
	bar.done(ok, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d records failed", failed, ok+failed)
	}
	return nil
}

// recordReader detects NDJSON (first non-space byte '{') or CSV (a header
// row) and returns an iterator over records.
func recordReader(br *bufio.Reader) (func() (*userRecord, error), error) {
	first, err := br.Peek(1)
	for err == nil && (first[0] == ' ' || first[0] == '\n' || first[0] == '\r' || first[0] == '\t') {
		_, _ = br.ReadByte()
		first, err = br.Peek(1)
	}
	if errors.Is(err, io.EOF) {
		return func() (*userRecord, error) { return nil, io.EOF }, nil
	}
	if err != nil {
		return nil, err
	}
	if first[0] == '{' {
		sc := bufio.NewScanner(br)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		return func() (*userRecord, error) {
			for sc.Scan() {
				line := bytes.TrimSpace(sc.Bytes())
				if len(line) == 0 {
					continue
				}
				var r userRecord
				dec := json.NewDecoder(bytes.NewReader(line))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&r); err != nil {
					return nil, fmt.Errorf("bad JSON: %w", err)
				}
				return &r, nil
			}
			if err := sc.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}, nil
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	return func() (*userRecord, error) {
		row, err := cr.Read()
		if err != nil {
			return nil, err
		}
		return recordFromCSV(header, row)
	}, nil
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
