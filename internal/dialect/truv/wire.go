package truv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/secret"
)

// rules are the checks Truv documents for a user write: external_user_id,
// first_name and last_name are required ("required" in users_create) and
// email is "string<email>". phone is "string", with no format: Truv's
// example is E.164, but "(415) 555-4193" is as valid, so the core keeps it
// as sent and normalises a copy for search and uniqueness where it parses.
var rules = directory.Rules{
	Required: []directory.Field{directory.FieldExternalID, directory.FieldFirstName, directory.FieldLastName},
	Checks:   directory.CheckEmail,
}

// maxBody bounds a create or update body. A Truv user is six short strings;
// 64 KiB leaves room for clients that send a lot of unknown fields.
const maxBody = 64 << 10

// timeLayout is Truv's timestamp: "2022-05-04T11:30:00.000Z" (UTC,
// milliseconds, Z).
const timeLayout = "2006-01-02T15:04:05.000Z"

// userJSON is Truv's user object. The struct fixes the key order to
// Truv's: id, external_user_id, created_at, updated_at, first_name,
// last_name, email, phone, ssn.
type userJSON struct {
	ID             string  `json:"id"`
	ExternalUserID *string `json:"external_user_id"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	FirstName      string  `json:"first_name"`
	LastName       string  `json:"last_name"`
	Email          *string `json:"email"`
	Phone          *string `json:"phone"`
	SSN            *string `json:"ssn"`
}

// toWire renders a core user as Truv's user object. Optional values absent
// in the core are null, as Truv types them ("string | null"); first_name
// and last_name, typed as plain strings, are "" when a user written through
// another dialect has none. The SSN is sent as the nine digits: Truv
// returns it in its user object.
func toWire(u *directory.User) userJSON {
	return userJSON{
		ID:             directory.HexID(u.ID),
		ExternalUserID: httpapi.NullIfEmpty(u.ExternalID),
		CreatedAt:      formatTime(u.CreatedAt),
		UpdatedAt:      formatTime(u.UpdatedAt),
		FirstName:      u.FirstName,
		LastName:       u.LastName,
		Email:          httpapi.NullIfEmpty(u.Email),
		Phone:          httpapi.NullIfEmpty(u.Phone),
		SSN:            httpapi.NullIfEmpty(u.SSN.Reveal()),
	}
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// listJSON is DRF's PageNumberPagination envelope, as Truv's list returns it.
type listJSON struct {
	Count    int        `json:"count"`
	Next     *string    `json:"next"`
	Previous *string    `json:"previous"`
	Results  []userJSON `json:"results"`
}

// userBody is the body of a create (POST) and a partial update (PATCH).
// Opt keeps "absent", "null" and a value apart: PATCH leaves absent fields
// alone, and error messages say "required", "may not be null" or "may not be
// blank" as DRF does. Unknown keys (and Truv's read-only id, created_at,
// updated_at) are ignored, as DRF ignores them.
type userBody struct {
	ExternalUserID httpapi.Opt[text] `json:"external_user_id"`
	FirstName      httpapi.Opt[text] `json:"first_name"`
	LastName       httpapi.Opt[text] `json:"last_name"`
	Email          httpapi.Opt[text] `json:"email"`
	Phone          httpapi.Opt[text] `json:"phone"`
	SSN            httpapi.Opt[text] `json:"ssn"`
}

// text is a string field as DRF's CharField reads it: a JSON string, or a
// number converted to its Python text ({"external_user_id": 12345} is
// "12345"), since CharField.to_internal_value accepts int and float and
// calls str() on them. Booleans, objects and arrays are refused ("Not a
// valid string.").
type text string

// UnmarshalJSON implements the conversion.
func (t *text) UnmarshalJSON(b []byte) error {
	s, err := drfText(b)
	if err != nil {
		return err
	}
	*t = text(s)
	return nil
}

// drfText returns the text of a JSON string or number as CharField would,
// and a *json.UnmarshalTypeError for any other value (encoding/json adds
// the field name).
func drfText(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') && json.Valid(raw) {
		return pythonNumber(string(raw)), nil
	}
	return "", &json.UnmarshalTypeError{Value: jsonKindOf(raw), Type: reflect.TypeFor[string]()}
}

// pythonNumber is str() of the value Python's json module reads from a JSON
// number: an integer literal is an int, printed in full ("-0" is "0");
// anything with a fraction or exponent is a float, printed as repr does
// (shortest round-trip digits; positional from 1e-4 up to 1e16, else
// scientific with a two-digit exponent; "1000.0", "1e+16", "inf").
func pythonNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		var n big.Int
		if _, ok := n.SetString(lit, 10); ok {
			return n.String()
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return lit
	}
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sign := ""
	if math.Signbit(f) {
		sign, f = "-", -f
	}
	// Shortest digits and decimal exponent: d.ddde±X.
	mant, expStr, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if f == 0 {
		return sign + "0.0"
	}
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

// optString turns an Opt[text] into an Opt[string].
func optString(o httpapi.Opt[text]) httpapi.Opt[string] {
	return httpapi.Opt[string]{Set: o.Set, Null: o.Null, Value: string(o.Value)}
}

// wireField maps one of Truv's body keys to the core.
type wireField struct {
	name  string // Truv's key
	field directory.Field
	get   func(*userBody) httpapi.Opt[string]
	set   func(*directory.User, string)
}

// wireFields lists Truv's writable fields in Truv's order, which is also
// the order of invalid-params entries.
var wireFields = []wireField{
	{"external_user_id", directory.FieldExternalID,
		func(b *userBody) httpapi.Opt[string] { return optString(b.ExternalUserID) },
		func(u *directory.User, v string) { u.ExternalID = v }},
	{"first_name", directory.FieldFirstName,
		func(b *userBody) httpapi.Opt[string] { return optString(b.FirstName) },
		func(u *directory.User, v string) { u.FirstName = v }},
	{"last_name", directory.FieldLastName,
		func(b *userBody) httpapi.Opt[string] { return optString(b.LastName) },
		func(u *directory.User, v string) { u.LastName = v }},
	{"email", directory.FieldEmail,
		func(b *userBody) httpapi.Opt[string] { return optString(b.Email) },
		func(u *directory.User, v string) { u.Email = v }},
	{"phone", directory.FieldPhone,
		func(b *userBody) httpapi.Opt[string] { return optString(b.Phone) },
		func(u *directory.User, v string) { u.Phone = v }},
	{"ssn", directory.FieldSSN,
		func(b *userBody) httpapi.Opt[string] { return optString(b.SSN) },
		func(u *directory.User, v string) { u.SSN = secret.Value(v) }},
}

// apply copies the keys present in b onto u; null and "" clear a field.
// On create u is empty; on update it is the stored user, and the core's
// required check refuses clearing external_user_id, first_name or
// last_name.
func (b *userBody) apply(u *directory.User) {
	for _, f := range wireFields {
		if o := f.get(b); o.Set {
			f.set(u, o.Value) // Opt zeroes Value on null
		}
	}
}

// sentAs is how a body carried one field, for DRF's wording of a
// "required" error.
type sentAs int

const (
	sentAbsent sentAs = iota
	sentNull
	sentBlank // "" or only white space: the core trims, as DRF does
	sentValue
)

// sent reports how b carried each of Truv's fields.
func (b *userBody) sent() map[directory.Field]sentAs {
	m := make(map[directory.Field]sentAs, len(wireFields))
	for _, f := range wireFields {
		o := f.get(b)
		switch {
		case !o.Set:
			m[f.field] = sentAbsent
		case o.Null:
			m[f.field] = sentNull
		case strings.TrimSpace(o.Value) == "":
			m[f.field] = sentBlank
		default:
			m[f.field] = sentValue
		}
	}
	return m
}

// bodyError carries a core error together with how the body sent each
// field, so the renderer can word a missing, null or blank field as DRF
// does. It unwraps to the core error.
type bodyError struct {
	err  error
	sent map[directory.Field]sentAs
}

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// explain attaches b's field presence to err.
func (b *userBody) explain(err error) error {
	return &bodyError{err: err, sent: b.sent()}
}

// wireName returns Truv's name for a core field.
func wireName(f directory.Field) string {
	for _, wf := range wireFields {
		if wf.field == f {
			return wf.name
		}
	}
	return string(f)
}

// wireOrder returns the position of a Truv field name in Truv's order, and
// len(wireFields) for names outside it.
func wireOrder(name string) int {
	for i, wf := range wireFields {
		if wf.name == name {
			return i
		}
	}
	return len(wireFields)
}

// errNullBody is a body that is the JSON literal null.
var errNullBody = errors.New("request body is null")

// decodeBody reads a create, update or bridge token body into dst. It
// follows DRF: a non-JSON Content-Type is 415 (a missing one is accepted),
// an empty body is an empty object (so a POST without a body lists every
// required field), and anything else must be one JSON object of at most
// maxBody bytes.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	if !httpapi.IsJSONContentType(r.Header.Get("Content-Type")) {
		return &httpapi.DecodeError{Status: http.StatusUnsupportedMediaType, Msg: "Content-Type must be application/json"}
	}
	raw, err := httpapi.ReadBody(w, r, maxBody)
	if err != nil {
		return err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if string(raw) == "null" {
		return &httpapi.DecodeError{Status: http.StatusBadRequest, Msg: "request body must be a JSON object", Err: errNullBody}
	}
	return httpapi.Unmarshal(raw, dst, false)
}

// List query parameters.
const (
	paramPage       = "page"
	paramPageSize   = "page_size"
	paramExternalID = "external_user_id"
	paramCreatedGTE = "created_at__gte"
	paramCreatedLTE = "created_at__lte"

	defaultPageSize = 100
	maxPageSize     = directory.MaxPageSize // 1000
	// maxPage bounds the page number; any page beyond it is past the end
	// of any tenant, and bounding it keeps the offset far from overflow.
	maxPage = 1 << 30
)

// paramError is a rejected query parameter: 400 incorrect_parameters naming
// it.
type paramError struct {
	Param   string
	Message string
}

func (e *paramError) Error() string { return fmt.Sprintf("query parameter %s: %s", e.Param, e.Message) }

// errInvalidPage is a page number past the last page: DRF's 404
// {"detail": "Invalid page."}.
var errInvalidPage = errors.New("invalid page")

// listQuery is a parsed list request.
type listQuery struct {
	page, size int
	filter     directory.Expr
}

// parseListQuery reads Truv's list parameters. Empty values count as
// absent (django-filter skips empty filters); unknown parameters, Truv's
// product_type and list_links among them, are ignored.
func parseListQuery(q url.Values) (listQuery, error) {
	lq := listQuery{page: 1, size: defaultPageSize}
	if s := q.Get(paramPage); s != "" {
		n, err := parsePositive(paramPage, s)
		if err != nil {
			return lq, err
		}
		if n > maxPage {
			return lq, errInvalidPage
		}
		lq.page = n
	}
	if s := q.Get(paramPageSize); s != "" {
		n, err := parsePositive(paramPageSize, s)
		if err != nil {
			return lq, err
		}
		lq.size = min(n, maxPageSize) // DRF caps at max_page_size silently
	}
	var filters []directory.Expr
	if s := q.Get(paramExternalID); s != "" {
		if !plainText(s) {
			return lq, &paramError{paramExternalID, "Enter a valid value."}
		}
		filters = append(filters, directory.Cmp{Field: directory.FieldExternalID, Op: directory.OpEq, Value: s})
	}
	for _, p := range []struct {
		name string
		op   directory.Op
	}{{paramCreatedGTE, directory.OpGe}, {paramCreatedLTE, directory.OpLe}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, ok := parseFilterTime(s)
		if !ok {
			return lq, &paramError{p.name, "Enter a valid date/time."}
		}
		if p.op == directory.OpLe && t.Equal(t.Truncate(time.Millisecond)) {
			// Truv shows times to the millisecond; a bound copied from a
			// created_at covers that whole millisecond of stored time.
			t = t.Add(time.Millisecond - time.Microsecond)
		}
		filters = append(filters, directory.Cmp{Field: directory.FieldCreatedAt, Op: p.op, Value: t})
	}
	lq.filter = directory.AllOf(filters...)
	return lq, nil
}

// parsePositive parses a page or page_size value: an integer of at least 1.
// A positive integer too large for int is returned as math.MaxInt (past
// every last page, above every page size cap).
func parsePositive(param, s string) (int, error) {
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange):
		if strings.HasPrefix(s, "-") {
			return 0, &paramError{param, "Ensure this value is greater than or equal to 1."}
		}
		return math.MaxInt, nil
	case err != nil:
		return 0, &paramError{param, "A valid integer is required."}
	case n < 1:
		return 0, &paramError{param, "Ensure this value is greater than or equal to 1."}
	}
	return n, nil
}

// filterTimeLayouts are the ISO-8601 forms accepted for created_at filters
// besides RFC 3339: local forms without a zone are read as UTC, and a bare
// date is its midnight, as Django's DateTimeField reads them.
var filterTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseFilterTime parses an ISO-8601 date or date-time.
func parseFilterTime(s string) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	if t, err := directory.ParseTimeValue(s); err == nil {
		return t, true
	}
	// An unencoded "+02:00" offset arrives as " 02:00".
	if i := strings.LastIndexByte(s, ' '); i > 0 && strings.Contains(s, "T") {
		if t, err := directory.ParseTimeValue(s[:i] + "+" + s[i+1:]); err == nil {
			return t, true
		}
	}
	for _, layout := range filterTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// plainText reports whether s could be a stored value: valid UTF-8 without
// control characters (the core stores no others, and PostgreSQL refuses NUL).
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' {
			return false
		}
	}
	return true
}

// pageURL is the absolute URL of another page of the same listing, as DRF
// builds next and previous: origin (see httpapi.Origin) plus the request's
// path and query with page replaced, and removed for page 1; other
// parameters are kept.
func pageURL(r *http.Request, origin string, page int) *string {
	q := r.URL.Query()
	if page <= 1 {
		q.Del(paramPage)
	} else {
		q.Set(paramPage, strconv.Itoa(page))
	}
	u := url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
	s := origin + u.String()
	return &s
}
