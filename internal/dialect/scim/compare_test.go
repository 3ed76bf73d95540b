package scim

import "testing"

// TestCompare covers every operator on strings and numbers, and what an
// operator that does not apply to a type answers.
func TestCompare(t *testing.T) {
	tests := []struct {
		have    any
		op      string
		want    any
		match   bool
		wantErr bool
	}{
		{"Ann", "eq", "ann", true, false},
		{"ann", "ne", "bob", true, false},
		{"annie", "co", "NI", true, false},
		{"annie", "sw", "an", true, false},
		{"annie", "ew", "ie", true, false},
		{"b", "gt", "a", true, false},
		{"a", "gt", "b", false, false},
		{"a", "ge", "a", true, false},
		{"a", "lt", "b", true, false},
		{"b", "le", "a", false, false},
		{"a", "pr", "a", false, false}, // no such comparison on strings: no match
		{2.0, "eq", 2.0, true, false},
		{2.0, "ne", 2.0, false, false},
		{3.0, "gt", 2.0, true, false},
		{2.0, "ge", 3.0, false, false},
		{2.0, "lt", 3.0, true, false},
		{3.0, "le", 3.0, true, false},
		{2.0, "co", 2.0, false, true},
		{true, "eq", true, true, false},
		{true, "gt", true, false, true},
	}
	for _, tt := range tests {
		got, err := compare(tt.have, tt.op, tt.want)
		if got != tt.match || (err != nil) != tt.wantErr {
			t.Errorf("compare(%v %s %v) = %v, %v; want %v, error %v", tt.have, tt.op, tt.want, got, err, tt.match, tt.wantErr)
		}
	}
}
