package userrecord

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

// TestRoundTrip checks that every structured part survives directory →
// record → JSON → record → directory, and that empty parts are nil (so
// that both user objects omit them).
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		u    directory.User
	}{
		{"empty", directory.User{}},
		{"every part", directory.User{
			Address: directory.Address{Line1: "1 Main St", Line2: "Apt 2", City: "Springfield", State: "IL", Country: "US", Zip: "62701"},
			Values: map[directory.ValueKind][]directory.Value{
				directory.KindEmail:   {{Value: "ann@example.com", Display: "Ann", Type: "work", Primary: true}},
				directory.KindAddress: {{Formatted: "1 Main St", Street: "1 Main St\nApt 2", Locality: "Springfield", Region: "IL", PostalCode: "62701", Country: "US", Type: "home"}},
			},
			Aliases:    []directory.Alias{{ID: "a1", Type: "CUSTOM", Value: "annie"}},
			Attributes: []directory.Attribute{{Name: "team", Value: "blue"}},
		}},
	}
	type parts struct {
		Address    *Address           `json:"address,omitempty"`
		Values     map[string][]Value `json:"values,omitempty"`
		Aliases    []Alias            `json:"aliases,omitempty"`
		Attributes []Attribute        `json:"attributes,omitempty"`
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(parts{FromAddress(tt.u.Address), FromValues(tt.u.Values), FromAliases(tt.u.Aliases), FromAttributes(tt.u.Attributes)})
			if err != nil {
				t.Fatal(err)
			}
			var p parts
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			got := directory.User{Address: ToAddress(p.Address), Values: ToValues(p.Values), Aliases: ToAliases(p.Aliases), Attributes: ToAttributes(p.Attributes)}
			if !reflect.DeepEqual(got, tt.u) {
				t.Errorf("round trip through %s:\ngot  %+v\nwant %+v", b, got, tt.u)
			}
		})
	}
}

// TestFieldNames pins the JSON names docs/OPERATIONS.md and
// docs/WEBHOOKS.md document.
func TestFieldNames(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"address", FromAddress(directory.Address{Line1: "l1", Line2: "l2", City: "c", State: "s", Country: "co", Zip: "z"}),
			`{"line1":"l1","line2":"l2","city":"c","state":"s","country":"co","zip":"z"}`},
		{"value", Value{Value: "v", Display: "d", Type: "t", Primary: true, Formatted: "f", StreetAddress: "sa", Locality: "l", Region: "r", PostalCode: "p", Country: "c"},
			`{"value":"v","display":"d","type":"t","primary":true,"formatted":"f","street_address":"sa","locality":"l","region":"r","postal_code":"p","country":"c"}`},
		{"empty value", Value{}, `{}`},
		{"alias", Alias{Value: "v"}, `{"value":"v"}`},
		{"attribute", Attribute{}, `{"name":"","value":""}`},
		{"no values", FromValues(map[directory.ValueKind][]directory.Value{directory.KindEmail: nil}), `null`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: got %s (%v), want %s", tt.name, b, err, tt.want)
		}
	}
}
