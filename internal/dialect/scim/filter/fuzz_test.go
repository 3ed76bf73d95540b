package filter

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary text to both entry points: neither may panic,
// and every error must be an *Error with a position inside the input. (The
// SCIM dialect's FuzzTranslate takes what parses on to translation.)
func FuzzParse(f *testing.F) {
	for _, tc := range rfcExamples {
		f.Add(tc.in)
	}
	for _, tc := range invalidFilters {
		f.Add(tc.in)
	}
	for _, tc := range invalidPaths {
		f.Add(tc.in)
	}
	for _, s := range []string{
		`emails[type eq "work" and value co "@x.com"]`,
		`phoneNumbers[type eq "mobile" and value eq "+15551234567"]`,
		`addresses[type eq "work"].locality`,
		`members[value eq "2819c223"]`,
		`not (active eq false) or meta.created gt "2024-01-02T03:04:05Z"`,
		`name[givenName eq "a"] and groups eq "0190b3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e"`,
		`x eq "\ud83d\ude00\u00e9\n"`,
	} {
		f.Add(s)
	}
	check := func(t *testing.T, in, what string, err error) {
		t.Helper()
		if err == nil {
			return
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("%s(%q): error %T %v, want *Error", what, in, err, err)
		}
		if fe.Pos < 0 || fe.Pos > len(in) {
			t.Fatalf("%s(%q): position %d outside the input", what, in, fe.Pos)
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, err := ParsePath(in)
		check(t, in, "ParsePath", err)
		e, err := Parse(in)
		check(t, in, "Parse", err)
		if err != nil {
			return
		}
		if e == nil {
			t.Fatalf("Parse(%q) = nil, nil", in)
		}
	})
}
