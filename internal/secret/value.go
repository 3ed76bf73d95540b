package secret

import "log/slog"

// Value is a sensitive string (an SSN). It prints, logs and marshals as
// "<redacted>", so a stray fmt or slog call cannot leak it; code that must
// send the plaintext calls Reveal.
type Value string

const redacted = "<redacted>"

// Reveal returns the plaintext.
func (v Value) Reveal() string { return string(v) }

// IsZero reports whether the value is empty.
func (v Value) IsZero() bool { return v == "" }

// String implements fmt.Stringer.
func (v Value) String() string { return redacted }

// GoString implements fmt.GoStringer, for %#v.
func (v Value) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (v Value) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON writes the redaction marker, never the value: wire formats
// that must carry the plaintext build it with Reveal explicitly.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText is used by encoders other than encoding/json.
func (v Value) MarshalText() ([]byte, error) { return []byte(redacted), nil }
