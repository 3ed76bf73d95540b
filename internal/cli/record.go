package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/directory/userrecord"
	"github.com/roster-dev/roster/internal/secret"
)

// userRecord is the neutral, dialect-free form of a user that import reads
// and export writes: one JSON object per NDJSON line, every field of the
// user. CSV uses the same names as columns, with the address spread over
// address_* columns and aliases, attributes, extras and values as JSON
// cells; CSV is therefore as lossless as NDJSON. docs/OPERATIONS.md
// documents both shapes; change them only compatibly. The webhook event's
// user object (internal/webhook) has the same names but is its own type on
// purpose: it never carries the SSN and always sends the booleans, version
// and times. The structured parts are userrecord's, shared by both.
type userRecord struct {
	ID             string                        `json:"id,omitempty"`
	Username       string                        `json:"username,omitempty"`
	ExternalID     string                        `json:"external_id,omitempty"`
	ExternalSource string                        `json:"external_source,omitempty"`
	FirstName      string                        `json:"first_name,omitempty"`
	LastName       string                        `json:"last_name,omitempty"`
	Email          string                        `json:"email,omitempty"`
	EmailVerified  bool                          `json:"email_verified,omitempty"`
	Phone          string                        `json:"phone,omitempty"`
	PhoneVerified  bool                          `json:"phone_verified,omitempty"`
	Mobile         string                        `json:"mobile,omitempty"`
	Locale         string                        `json:"locale,omitempty"`
	State          string                        `json:"state,omitempty"`
	Locked         bool                          `json:"locked,omitempty"`
	SSN            string                        `json:"ssn,omitempty"`
	Address        *userrecord.Address           `json:"address,omitempty"`
	Values         map[string][]userrecord.Value `json:"values,omitempty"`
	Aliases        []userrecord.Alias            `json:"aliases,omitempty"`
	Attributes     []userrecord.Attribute        `json:"attributes,omitempty"`
	Extras         map[string]string             `json:"extras,omitempty"`
	PartnerCode    string                        `json:"partner_code,omitempty"`
	Version        int64                         `json:"version,omitempty"`
	CreatedAt      string                        `json:"created_at,omitempty"`
	UpdatedAt      string                        `json:"updated_at,omitempty"`
}

// toUser converts a record to the user ImportUser takes. Only the
// timestamps can fail here; everything else is the core's to check.
func (r *userRecord) toUser() (*directory.User, error) {
	u := &directory.User{
		ID: r.ID, Username: r.Username, ExternalID: r.ExternalID, ExternalSource: r.ExternalSource,
		FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, EmailVerified: r.EmailVerified,
		Phone: r.Phone, PhoneVerified: r.PhoneVerified, Mobile: r.Mobile, Locale: r.Locale,
		State: r.State, Locked: r.Locked, SSN: secret.Value(r.SSN), Extras: r.Extras,
		PartnerCode: r.PartnerCode, Version: r.Version,
	}
	var errs []error
	for _, t := range []struct {
		name string
		s    string
		dst  *time.Time
	}{{"created_at", r.CreatedAt, &u.CreatedAt}, {"updated_at", r.UpdatedAt, &u.UpdatedAt}} {
		if t.s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q is not an RFC 3339 time", t.name, t.s))
		}
		*t.dst = v
	}
	if len(errs) > 0 {
		return nil, &directory.ValidationError{Errors: fieldErrors(errs)}
	}
	u.Address = userrecord.ToAddress(r.Address)
	u.Values = userrecord.ToValues(r.Values)
	u.Aliases = userrecord.ToAliases(r.Aliases)
	u.Attributes = userrecord.ToAttributes(r.Attributes)
	return u, nil
}

func fieldErrors(errs []error) []directory.FieldError {
	out := make([]directory.FieldError, len(errs))
	for i, err := range errs {
		out[i] = directory.FieldError{Field: "time", Code: directory.CodeInvalid, Message: err.Error()}
	}
	return out
}

// fromUser is the record export writes for u: every field it has.
func fromUser(u *directory.User, withSSN bool) userRecord {
	r := userRecord{
		ID: u.ID, Username: u.Username, ExternalID: u.ExternalID, ExternalSource: u.ExternalSource,
		FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified, Mobile: u.Mobile, Locale: u.Locale,
		State: u.State, Locked: u.Locked, Extras: u.Extras, PartnerCode: u.PartnerCode, Version: u.Version,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: u.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	if withSSN {
		r.SSN = u.SSN.Reveal()
	}
	r.Address = userrecord.FromAddress(u.Address)
	r.Values = userrecord.FromValues(u.Values)
	r.Aliases = userrecord.FromAliases(u.Aliases)
	r.Attributes = userrecord.FromAttributes(u.Attributes)
	return r
}

// csvColumns are the CSV header export writes, in order. Import accepts
// any subset of them, in any order.
var csvColumns = []string{"id", "username", "external_id", "external_source", "first_name", "last_name",
	"email", "email_verified", "phone", "phone_verified", "mobile", "locale", "state", "locked", "ssn",
	"address_line1", "address_line2", "address_city", "address_state", "address_country", "address_zip",
	"values", "aliases", "attributes", "extras", "partner_code", "version", "created_at", "updated_at"}

func (r *userRecord) csvRow() []string {
	a := userrecord.Address{}
	if r.Address != nil {
		a = *r.Address
	}
	js := func(v any) string {
		b, _ := json.Marshal(v) // maps and slices of strings cannot fail
		if s := string(b); s != "null" {
			return s
		}
		return ""
	}
	version := ""
	if r.Version != 0 {
		version = strconv.FormatInt(r.Version, 10)
	}
	return []string{r.ID, r.Username, r.ExternalID, r.ExternalSource, r.FirstName, r.LastName,
		r.Email, strconv.FormatBool(r.EmailVerified), r.Phone, strconv.FormatBool(r.PhoneVerified), r.Mobile,
		r.Locale, r.State, strconv.FormatBool(r.Locked), r.SSN,
		a.Line1, a.Line2, a.City, a.State, a.Country, a.Zip,
		js(r.Values), js(r.Aliases), js(r.Attributes), js(r.Extras), r.PartnerCode, version, r.CreatedAt, r.UpdatedAt}
}

// csvText maps the plain text columns to their field.
var csvText = map[string]func(*userRecord, *userrecord.Address) *string{
	"id":              func(r *userRecord, _ *userrecord.Address) *string { return &r.ID },
	"username":        func(r *userRecord, _ *userrecord.Address) *string { return &r.Username },
	"external_id":     func(r *userRecord, _ *userrecord.Address) *string { return &r.ExternalID },
	"external_source": func(r *userRecord, _ *userrecord.Address) *string { return &r.ExternalSource },
	"first_name":      func(r *userRecord, _ *userrecord.Address) *string { return &r.FirstName },
	"last_name":       func(r *userRecord, _ *userrecord.Address) *string { return &r.LastName },
	"email":           func(r *userRecord, _ *userrecord.Address) *string { return &r.Email },
	"phone":           func(r *userRecord, _ *userrecord.Address) *string { return &r.Phone },
	"mobile":          func(r *userRecord, _ *userrecord.Address) *string { return &r.Mobile },
	"locale":          func(r *userRecord, _ *userrecord.Address) *string { return &r.Locale },
	"state":           func(r *userRecord, _ *userrecord.Address) *string { return &r.State },
	"ssn":             func(r *userRecord, _ *userrecord.Address) *string { return &r.SSN },
	"address_line1":   func(_ *userRecord, a *userrecord.Address) *string { return &a.Line1 },
	"address_line2":   func(_ *userRecord, a *userrecord.Address) *string { return &a.Line2 },
	"address_city":    func(_ *userRecord, a *userrecord.Address) *string { return &a.City },
	"address_state":   func(_ *userRecord, a *userrecord.Address) *string { return &a.State },
	"address_country": func(_ *userRecord, a *userrecord.Address) *string { return &a.Country },
	"address_zip":     func(_ *userRecord, a *userrecord.Address) *string { return &a.Zip },
	"partner_code":    func(r *userRecord, _ *userrecord.Address) *string { return &r.PartnerCode },
	"created_at":      func(r *userRecord, _ *userrecord.Address) *string { return &r.CreatedAt },
	"updated_at":      func(r *userRecord, _ *userrecord.Address) *string { return &r.UpdatedAt },
}

// checkCSVHeader rejects a header with an unknown, empty or repeated
// column: a typo (emial) would otherwise drop a column's data from every
// row.
func checkCSVHeader(header []string) error {
	seen := map[string]bool{}
	for i, col := range header {
		if !slices.Contains(csvColumns, col) {
			return fmt.Errorf("CSV header: column %d %q is not a user field (known: %s)", i+1, col, joinColumns())
		}
		if seen[col] {
			return fmt.Errorf("CSV header: column %q appears twice", col)
		}
		seen[col] = true
	}
	return nil
}

func joinColumns() string {
	var b bytes.Buffer
	for i, c := range csvColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
	}
	return b.String()
}

// recordFromCSV reads one row by header names (checked by
// checkCSVHeader); the row has as many fields as the header.
func recordFromCSV(header, row []string) (*userRecord, error) {
	r := &userRecord{}
	addr := userrecord.Address{}
	for i, col := range header {
		v := row[i]
		if get, ok := csvText[col]; ok {
			*get(r, &addr) = v
			continue
		}
		var err error
		switch col {
		case "email_verified":
			r.EmailVerified, err = parseBoolCell(v)
		case "phone_verified":
			r.PhoneVerified, err = parseBoolCell(v)
		case "locked":
			r.Locked, err = parseBoolCell(v)
		case "version":
			if v != "" {
				r.Version, err = strconv.ParseInt(v, 10, 64)
			}
		case "values":
			err = jsonCell(v, &r.Values)
		case "aliases":
			err = jsonCell(v, &r.Aliases)
		case "attributes":
			err = jsonCell(v, &r.Attributes)
		case "extras":
			err = jsonCell(v, &r.Extras)
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", col, err)
		}
	}
	if addr != (userrecord.Address{}) {
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

// jsonCell decodes a JSON cell strictly: unknown keys are an error, as
// they are on an NDJSON line.
func jsonCell(s string, dst any) error {
	if s == "" {
		return nil
	}
	return decodeStrict([]byte(s), dst)
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	// dec.More misses trailing garbage such as "} ]"; a second Decode
	// that must reach EOF does not.
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		return errors.New("want exactly one JSON value")
	}
	return nil
}
