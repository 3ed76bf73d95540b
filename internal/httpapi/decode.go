package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// DecodeOptions bound and shape one dialect's JSON decoding.
type DecodeOptions struct {
	// MaxBytes caps the body; 0 means DefaultMaxBody. The server-wide
	// limit (MiddlewareOptions.MaxBody) applies as well.
	MaxBytes int64
	// RejectUnknown fails on fields the target does not declare. Follow
	// what the vendor does: most of the stacks Roster imitates ignore them.
	RejectUnknown bool
	// RequireJSONType answers 415 when a Content-Type is sent and is not
	// JSON (application/json or any application/*+json). A missing
	// Content-Type is accepted: many simple clients omit it.
	RequireJSONType bool
}

// DefaultMaxBody is the request body limit when none is configured: 1 MiB.
const DefaultMaxBody = 1 << 20

// DecodeJSON reads exactly one JSON value from the body into dst. Every
// failure is a *DecodeError: too large → 413, wrong media type → 415, empty,
// null, invalid UTF-8, unpaired surrogate escapes, syntax, type errors and
// trailing data → 400.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, o DecodeOptions) error {
	if o.RequireJSONType && !IsJSONContentType(r.Header.Get("Content-Type")) {
		return &DecodeError{Status: http.StatusUnsupportedMediaType, Msg: "Content-Type must be application/json"}
	}
	raw, err := ReadBody(w, r, o.MaxBytes)
	if err != nil {
		return err
	}
	return Unmarshal(raw, dst, o.RejectUnknown)
}

// ReadBody reads the whole request body, at most max bytes (0 means
// DefaultMaxBody; the server-wide limit applies as well, whichever is
// smaller). Every dialect reads bodies through it, so a body over the limit
// always fails the same way: a *DecodeError with status 413 whose Msg is
// "request body is larger than N bytes" and which wraps the
// *http.MaxBytesError (its Limit is the limit that was hit). Any other read
// failure is a 400 *DecodeError.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBody
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) && tooDeep(raw) {
			// One answer for one malformation, whatever the route's size
			// limit: a body nested too deep is refused as such.
			return nil, errTooDeep()
		}
		if errors.As(err, &mbe) {
			return nil, &DecodeError{Status: http.StatusRequestEntityTooLarge,
				Msg: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit), Err: err}
		}
		return nil, &DecodeError{Status: http.StatusBadRequest, Msg: "could not read the request body", Err: err}
	}
	return raw, nil
}

// Unmarshal decodes exactly one JSON value from raw into dst with the same
// rules and errors as DecodeJSON (used for bulk items and tests).
func Unmarshal(raw []byte, dst any, rejectUnknown bool) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return &DecodeError{Status: http.StatusBadRequest, Msg: "request body is empty"}
	}
	// encoding/json decodes a top-level null into a struct as "nothing":
	// an update would then succeed without a body. No route takes null.
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return &DecodeError{Status: http.StatusBadRequest, Msg: "request body is null; send a JSON object"}
	}
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; a
	// directory must not store a name other than the one sent.
	if !utf8.Valid(raw) {
		return &DecodeError{Status: http.StatusBadRequest, Msg: "request body is not valid UTF-8"}
	}
	if tooDeep(raw) {
		return errTooDeep()
	}
	// encoding/json turns an unpaired \ud800-\udfff escape into U+FFFD
	// too: two different names would be stored as one.
	if loneSurrogate(raw) {
		return &DecodeError{Status: http.StatusBadRequest, Msg: "request body holds an unpaired UTF-16 surrogate escape (\\ud800 to \\udfff)"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if rejectUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return describeJSONError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return &DecodeError{Status: http.StatusBadRequest, Msg: "request body must hold exactly one JSON value", Err: err}
	}
	return nil
}

// MaxDepth is how deeply objects and arrays may nest in a request body. No
// dialect's documents go beyond five levels; encoding/json's own limit is
// 10,000, reached only after parsing megabytes.
const MaxDepth = 32

func errTooDeep() *DecodeError {
	return &DecodeError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("request body nests objects and arrays deeper than %d levels", MaxDepth)}
}

// tooDeep reports whether (a prefix of) a JSON text opens more than
// MaxDepth objects or arrays at once, outside strings. It reads a body cut
// at the size limit as well, so a deep body gets one answer on every
// route.
func tooDeep(raw []byte) bool {
	depth, inString := 0, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > MaxDepth {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// loneSurrogate reports whether a JSON text holds a \u escape of a UTF-16
// surrogate that is not a high surrogate directly followed by an escaped
// low one. It only looks inside strings and skips other escapes, so "\\u"
// (an escaped backslash, then "u") is not an escape.
func loneSurrogate(raw []byte) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(raw) {
				return false // malformed; the decoder reports it
			}
			if raw[i+1] != 'u' {
				i++ // skip the escaped character
				continue
			}
			r, ok := hex4(raw, i+2)
			if !ok {
				return false // malformed; the decoder reports it
			}
			i += 5
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return true // a low surrogate with no high one before it
			case r >= 0xD800 && r <= 0xDBFF:
				if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
					return true
				}
				lo, ok := hex4(raw, i+3)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return true
				}
				i += 6
			}
		}
	}
	return false
}

// hex4 reads four hex digits at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func describeJSONError(err error) *DecodeError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &DecodeError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("malformed JSON at byte %d", se.Offset), Err: err}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return &DecodeError{Status: http.StatusBadRequest, Msg: "request body must be a JSON " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(te.Type.Kind().String()), "an "), "a "), Err: err}
		}
		return &DecodeError{Status: http.StatusBadRequest, Field: field,
			Msg: fmt.Sprintf("%s must be %s, not %s", field, jsonKind(te.Type.Kind().String()), te.Value), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &DecodeError{Status: http.StatusBadRequest, Msg: "malformed JSON: unexpected end of input", Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &DecodeError{Status: http.StatusBadRequest, Field: name, Msg: fmt.Sprintf("unknown field %q", name), Err: err}
	}
	return &DecodeError{Status: http.StatusBadRequest, Msg: "malformed JSON", Err: err}
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "another type"
}

// IsJSONContentType reports whether a Content-Type header value names JSON
// (application/json or application/*+json), or is empty.
func IsJSONContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// Opt is a JSON field that distinguishes absent, null and a value, for
// partial updates: absent leaves a field alone, null (and for most
// vendors "") clears it. Use it as a struct field of value type; the zero
// value is "absent".
type Opt[T any] struct {
	Set   bool // the key was present
	Null  bool // its value was null
	Value T
}

// UnmarshalJSON records presence; encoding/json calls it only when the key
// is present.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		var zero T
		o.Value = zero
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Get returns the value and whether the key was present with a non-null
// value.
func (o Opt[T]) Get() (T, bool) { return o.Value, o.Set && !o.Null }
