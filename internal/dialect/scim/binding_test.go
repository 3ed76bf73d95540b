package scim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// TestEveryAttributeIsBound: each attribute the User schemas publish is
// bound to the core (a complex singular one through its parts), and each
// binding names a published attribute, so /Schemas and what the server
// stores cannot drift apart.
func TestEveryAttributeIsBound(t *testing.T) {
	published := map[string]bool{}
	var walk func(attrs []*attr, prefix string)
	walk = func(attrs []*attr, prefix string) {
		for _, a := range attrs {
			path := prefix + a.Name
			if a.Type == "complex" && !a.MultiValued {
				walk(a.SubAttributes, path+".")
				continue
			}
			published[strings.ToLower(path)] = true
			if bindingFor(path) == nil {
				t.Errorf("%s is published in /Schemas but has no binding", path)
			}
		}
	}
	walk(userType.Core.Attributes, "")
	for _, ext := range userType.Extensions {
		walk(ext.Attributes, ext.ID+":")
	}
	for key := range userBindings {
		if !published[key] {
			t.Errorf("binding %s names no published attribute", key)
		}
	}
	for _, k := range directory.ValueKinds {
		if kindAttr[k] == "" {
			t.Errorf("value kind %s has no SCIM attribute", k)
		}
	}
}

// TestUserRoundTrip: core user → SCIM → core user is the identity, for a
// user with every kind of value, so nothing a client stored is lost on the
// way out and back (the path every PATCH takes).
func TestUserRoundTrip(t *testing.T) {
	u := &directory.User{
		ID: "0190b3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e", Username: "ann", ExternalID: "e-1",
		FirstName: "Ann", LastName: "Lee", Locale: "en-US", State: directory.StateInactive,
		Email: "ann@example.com", Phone: "+15550000001", Mobile: "+15550000002",
		Address: directory.Address{Line1: "1 Main St", Line2: "Floor 2", City: "Springfield", State: "IL", Zip: "62701", Country: "US"},
		Extras: map[string]string{
			"displayName": "Ann L.", "nickName": "annie", "title": "Engineer", "userType": "Employee", "profileUrl": "https://x/ann",
			"preferredLanguage": "en", "timezone": "America/Chicago", "middleName": "Q", "honorificPrefix": "Dr.", "honorificSuffix": "III",
			"formatted": "Dr. Ann Q. Lee III", "employeeNumber": "42", "costCenter": "4130", "organization": "Org", "division": "Div",
			"department": "Dept", "manager": "0190b3e4-5f6a-7b8c-9d0e-000000000009", "tosAnswer": "yes",
		},
		Aliases:    []directory.Alias{{ID: "a1", Type: "CUSTOM", Value: "ann2"}},
		Attributes: []directory.Attribute{{Name: "color", Value: "blue"}},
		Values: map[directory.ValueKind][]directory.Value{
			directory.KindEmail: {{Value: "ann@example.com", Type: "work", Primary: true, Display: "Ann"}, {Value: "ann@home.org", Type: "home"}, {Value: "a@x.net", Type: "other"}},
			directory.KindPhone: {{Value: "+15550000001", Type: "work", Primary: true}, {Value: "+15550000002", Type: "mobile"}, {Value: "+15550000003", Type: "fax"}},
			directory.KindAddress: {
				{Type: "work", Primary: true, Formatted: "1 Main St\nFloor 2\nSpringfield IL", Street: "1 Main St\nFloor 2", Locality: "Springfield", Region: "IL", PostalCode: "62701", Country: "US"},
				{Type: "home", Street: "9 Elm", Locality: "Shelbyville"},
			},
			directory.KindIM:          {{Value: "ann@xmpp", Type: "xmpp"}, {Value: "annq", Type: "skype", Primary: true}},
			directory.KindPhoto:       {{Value: "https://x/p.jpg", Type: "photo"}},
			directory.KindEntitlement: {{Value: "e1", Display: "Entitlement 1"}},
			directory.KindRole:        {{Value: "admin", Primary: true}, {Value: "dev", Type: "t"}},
			directory.KindCertificate: {{Value: "MIIB"}},
		},
		Version: 3, CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC(),
	}
	rep := patchBase(u)
	got := &directory.User{ID: u.ID, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	got.Username, got.ExternalID = "stale", "stale" // overwritten: PUT semantics
	if err := applyUser(rep, got, true); err != nil {
		t.Fatal(err)
	}
	// What applyUser does not own: the single-valued view (the core
	// derives it from the lists) and alias ids (kept by value).
	got.Email, got.Phone, got.Mobile, got.Address = u.Email, u.Phone, u.Mobile, u.Address
	got.Aliases[0].ID = u.Aliases[0].ID
	if !reflect.DeepEqual(got, u) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, u)
	}
	if rep["active"] != false {
		t.Errorf("active = %v, want false", rep["active"])
	}
}
