package userrecord

import "github.com/roster-dev/roster/internal/directory"

// Address is directory.Address.
type Address struct {
	Line1   string `json:"line1,omitempty"`
	Line2   string `json:"line2,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Country string `json:"country,omitempty"`
	Zip     string `json:"zip,omitempty"`
}

// Value is one value of a multi-valued attribute (directory.Value).
// Addresses leave Value empty and use the parts.
type Value struct {
	Value         string `json:"value,omitempty"`
	Display       string `json:"display,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// Alias is directory.Alias.
type Alias struct {
	ID    string `json:"id,omitempty"`
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

// Attribute is directory.Attribute.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// FromAddress is a's record, or nil when a is zero (the field is then
// omitted).
func FromAddress(a directory.Address) *Address {
	if a.IsZero() {
		return nil
	}
	r := Address(a)
	return &r
}

// ToAddress is the directory.Address of a; nil is the zero address.
func ToAddress(a *Address) directory.Address {
	if a == nil {
		return directory.Address{}
	}
	return directory.Address(*a)
}

// FromValues is the record of every kind that has values, keyed by the
// kind's name; nil when there is none.
func FromValues(vals map[directory.ValueKind][]directory.Value) map[string][]Value {
	var out map[string][]Value
	for kind, vs := range vals {
		if len(vs) == 0 {
			continue
		}
		if out == nil {
			out = make(map[string][]Value, len(vals))
		}
		rs := make([]Value, len(vs))
		for i, v := range vs {
			rs[i] = Value{Value: v.Value, Display: v.Display, Type: v.Type, Primary: v.Primary,
				Formatted: v.Formatted, StreetAddress: v.Street, Locality: v.Locality, Region: v.Region,
				PostalCode: v.PostalCode, Country: v.Country}
		}
		out[string(kind)] = rs
	}
	return out
}

// ToValues is the directory form of vals: every kind given, an empty list
// included (the core decides what it means); nil when vals is empty.
func ToValues(vals map[string][]Value) map[directory.ValueKind][]directory.Value {
	if len(vals) == 0 {
		return nil
	}
	out := make(map[directory.ValueKind][]directory.Value, len(vals))
	for kind, rs := range vals {
		vs := make([]directory.Value, len(rs))
		for i, v := range rs {
			vs[i] = directory.Value{Value: v.Value, Display: v.Display, Type: v.Type, Primary: v.Primary,
				Formatted: v.Formatted, Street: v.StreetAddress, Locality: v.Locality, Region: v.Region,
				PostalCode: v.PostalCode, Country: v.Country}
		}
		out[directory.ValueKind(kind)] = vs
	}
	return out
}

// FromAliases is the record of as; nil when there is none.
func FromAliases(as []directory.Alias) []Alias {
	var out []Alias
	for _, a := range as {
		out = append(out, Alias(a))
	}
	return out
}

// ToAliases is the directory form of as; nil when there is none.
func ToAliases(as []Alias) []directory.Alias {
	var out []directory.Alias
	for _, a := range as {
		out = append(out, directory.Alias(a))
	}
	return out
}

// FromAttributes is the record of as; nil when there is none.
func FromAttributes(as []directory.Attribute) []Attribute {
	var out []Attribute
	for _, a := range as {
		out = append(out, Attribute(a))
	}
	return out
}

// ToAttributes is the directory form of as; nil when there is none.
func ToAttributes(as []Attribute) []directory.Attribute {
	var out []directory.Attribute
	for _, a := range as {
		out = append(out, directory.Attribute(a))
	}
	return out
}
