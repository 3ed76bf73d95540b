package directory

import (
	"errors"
	"reflect"
	"testing"
)

func TestSyncValues(t *testing.T) {
	three := []Value{
		{Value: "a@example.com", Type: "work", Primary: true},
		{Value: "b@example.org", Type: "home"},
		{Value: "c@example.net", Type: "other"},
	}
	tests := []struct {
		name      string
		old       *User // nil: a create
		mutate    func(*User)
		wantEmail string
		wantList  []Value
	}{
		{
			name:      "create from a list takes the primary",
			mutate:    func(u *User) { u.Values = map[ValueKind][]Value{KindEmail: {three[1], three[0], three[2]}} },
			wantEmail: "a@example.com",
			wantList:  []Value{three[1], three[0], three[2]},
		},
		{
			name:      "create from a list without primary takes the first",
			mutate:    func(u *User) { u.Values = map[ValueKind][]Value{KindEmail: {three[1], three[2]}} },
			wantEmail: "b@example.org",
			wantList:  []Value{three[1], three[2]},
		},
		{
			name:      "create from the single field makes a primary work value",
			mutate:    func(u *User) { u.Email = "x@example.com" },
			wantEmail: "x@example.com",
			wantList:  []Value{{Value: "x@example.com", Type: TypeWork, Primary: true}},
		},
		{
			name:      "a single-field write replaces the primary and keeps the others",
			old:       &User{Email: "a@example.com", Values: map[ValueKind][]Value{KindEmail: three}},
			mutate:    func(u *User) { u.Email = "new@example.com" },
			wantEmail: "new@example.com",
			wantList:  []Value{{Value: "new@example.com", Type: "work", Primary: true}, three[1], three[2]},
		},
		{
			name:      "an unrelated write keeps every value",
			old:       &User{Email: "a@example.com", Values: map[ValueKind][]Value{KindEmail: three}},
			mutate:    func(u *User) { u.FirstName = "Ann" },
			wantEmail: "a@example.com",
			wantList:  three,
		},
		{
			name:      "clearing the single field removes its value; the next shows",
			old:       &User{Email: "a@example.com", Values: map[ValueKind][]Value{KindEmail: three}},
			mutate:    func(u *User) { u.Email = "" },
			wantEmail: "b@example.org",
			wantList:  []Value{three[1], three[2]},
		},
		{
			name:      "a list write wins over the single field",
			old:       &User{Email: "a@example.com", Values: map[ValueKind][]Value{KindEmail: three}},
			mutate:    func(u *User) { u.Values[KindEmail] = []Value{three[2]} },
			wantEmail: "c@example.net",
			wantList:  []Value{three[2]},
		},
		{
			name:      "emptying the list clears the single field",
			old:       &User{Email: "a@example.com", Values: map[ValueKind][]Value{KindEmail: three}},
			mutate:    func(u *User) { delete(u.Values, KindEmail) },
			wantEmail: "",
			wantList:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &User{}
			if tt.old != nil {
				u = tt.old.Clone()
			}
			tt.mutate(u)
			if err := prepare(u, tt.old, Rules{Checks: CheckEmail}); err != nil {
				t.Fatalf("prepare: %v", err)
			}
			if u.Email != tt.wantEmail {
				t.Errorf("Email = %q, want %q", u.Email, tt.wantEmail)
			}
			if got := u.Values[KindEmail]; !reflect.DeepEqual(got, tt.wantList) {
				t.Errorf("emails = %+v, want %+v", got, tt.wantList)
			}
			if tt.old != nil && !reflect.DeepEqual(tt.old.Values[KindEmail], three) {
				t.Errorf("prepare changed the old user's list: %+v", tt.old.Values[KindEmail])
			}
		})
	}
}

func TestSyncPhonesAndAddress(t *testing.T) {
	phones := []Value{
		{Value: "+15550000001", Type: "work", Primary: true},
		{Value: "+15550000002", Type: "mobile"},
		{Value: "+15550000003", Type: "home"},
	}
	old := &User{Phone: "+15550000001", Mobile: "+15550000002", Values: map[ValueKind][]Value{
		KindPhone:   phones,
		KindAddress: {{Type: "home", Formatted: "1 Main St\nSpringfield", Street: "1 Main St", Locality: "Springfield"}, {Type: "work", Primary: true, Street: "2 Side St\nFloor 3", Locality: "Shelbyville", Region: "IL"}},
	}}
	old.Address = AddressOf(old.Values[KindAddress][1])

	t.Run("mobile write replaces the mobile only", func(t *testing.T) {
		u := old.Clone()
		u.Mobile = "+15559999999"
		if err := prepare(u, old, Rules{}); err != nil {
			t.Fatal(err)
		}
		want := []Value{phones[0], {Value: "+15559999999", Type: "mobile"}, phones[2]}
		if !reflect.DeepEqual(u.Values[KindPhone], want) || u.Phone != phones[0].Value {
			t.Errorf("phones = %+v, phone %q", u.Values[KindPhone], u.Phone)
		}
	})
	t.Run("list write derives phone and mobile", func(t *testing.T) {
		u := old.Clone()
		u.Values[KindPhone] = []Value{{Value: "+15551112222", Type: "mobile", Primary: true}, {Value: "+15553334444", Type: "fax"}}
		if err := prepare(u, old, Rules{}); err != nil {
			t.Fatal(err)
		}
		if u.Phone != "+15553334444" || u.Mobile != "+15551112222" {
			t.Errorf("phone %q mobile %q", u.Phone, u.Mobile)
		}
	})
	t.Run("address view is the primary; a single write keeps the other", func(t *testing.T) {
		if old.Address.Line1 != "2 Side St" || old.Address.Line2 != "Floor 3" || old.Address.City != "Shelbyville" {
			t.Fatalf("AddressOf = %+v", old.Address)
		}
		u := old.Clone()
		u.Address.City = "Capital City"
		if err := prepare(u, old, Rules{}); err != nil {
			t.Fatal(err)
		}
		got := u.Values[KindAddress]
		if len(got) != 2 || got[0] != old.Values[KindAddress][0] || got[1].Locality != "Capital City" || got[1].Street != "2 Side St\nFloor 3" || !got[1].Primary {
			t.Errorf("addresses = %+v", got)
		}
	})
}

func TestPrepareValuesRejects(t *testing.T) {
	tests := []struct {
		name   string
		values map[ValueKind][]Value
	}{
		{"two primaries", map[ValueKind][]Value{KindRole: {{Value: "a", Primary: true}, {Value: "b", Primary: true}}}},
		{"value missing", map[ValueKind][]Value{KindRole: {{Display: "no value"}}}},
		{"unknown kind", map[ValueKind][]Value{"shoe_size": {{Value: "9"}}}},
		{"invalid e-mail in the list", map[ValueKind][]Value{KindEmail: {{Value: "a@example.com"}, {Value: "not an address"}}}},
		{"control character", map[ValueKind][]Value{KindIM: {{Value: "a\x00b"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &User{Values: tt.values}
			var ve *ValidationError
			if err := prepare(u, nil, Rules{Checks: CheckEmail}); !errors.As(err, &ve) {
				t.Fatalf("prepare = %v, want a *ValidationError", err)
			}
		})
	}
	t.Run("a type alone is dropped, not an error", func(t *testing.T) {
		u := &User{Values: map[ValueKind][]Value{KindPhoto: {{Type: "photo"}}}}
		if err := prepare(u, nil, Rules{}); err != nil {
			t.Fatal(err)
		}
		if _, ok := u.Values[KindPhoto]; ok {
			t.Errorf("photos = %+v, want none", u.Values[KindPhoto])
		}
	})
}
