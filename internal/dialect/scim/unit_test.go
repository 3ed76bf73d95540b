package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// These tests need no store.

func TestMatch(t *testing.T) {
	obj := map[string]any{}
	if err := json.Unmarshal([]byte(`{"value":"Ann@Example.com","type":"work","primary":true,"n":3,
		"sub":[{"k":"a"},{"k":"b"}],"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}`), &obj); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`type eq "work"`, true},
		{`TYPE eq "WORK"`, true},
		{`type ne "work"`, false},
		{`value co "example"`, true},
		{`value sw "ann@"`, true},
		{`value ew ".COM"`, true},
		{`value gt "a"`, true},
		{`primary eq true`, true},
		{`primary eq "True"`, true},
		{`primary eq false`, false},
		{`n ge 3 and n lt 4`, true},
		{`n gt 3`, false},
		{`missing pr`, false},
		{`value pr`, true},
		{`missing eq null`, true},
		{`not (type eq "home")`, true},
		{`type eq "home" or primary eq true`, true},
		{`sub[k eq "b"]`, true},
		{`sub[k eq "c"]`, false},
		{`sub.k eq "a"`, true},
		{`id eq "0190A1B2C3D47E5F8A9B0C1D2E3F4A5B"`, true}, // a 32-hex id matches its dashed form
	}
	for _, tt := range tests {
		e, err := filter.Parse(tt.filter)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.filter, err)
		}
		got, err := match(e, obj)
		if err != nil {
			t.Errorf("%s: %v", tt.filter, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %v, want %v", tt.filter, got, tt.want)
		}
	}
	e, _ := filter.Parse(`primary gt true`)
	if _, err := match(e, obj); err == nil {
		t.Errorf("gt on a boolean: no error")
	}
}

func TestParseETags(t *testing.T) {
	tests := []struct {
		in   string
		want string
		any  bool
	}{
		{`W/"3"`, `[3]`, false},
		{`"3"`, `[3]`, false},
		{`w/"3", W/"4"`, `[3,4]`, false},
		{`*`, `null`, true},
		{`W/"x"`, `[-1]`, false},
		{`W/"0"`, `[-1]`, false},
		{``, `null`, false},
	}
	for _, tt := range tests {
		vs, any := parseETags(tt.in)
		b, _ := json.Marshal(vs)
		if string(b) != tt.want || any != tt.any {
			t.Errorf("parseETags(%q) = %s %v, want %s %v", tt.in, b, any, tt.want, tt.any)
		}
	}
}

func TestMarshalOrder(t *testing.T) {
	b, err := marshal(map[string]any{"meta": map[string]any{"version": "v", "resourceType": "User"}, "zzz": 1,
		"userName": "a<b>", "id": "1", "schemas": []any{URNUser}, URNRosterUser: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"a<b>","urn:ietf:params:scim:schemas:extension:roster:2.0:User":{},"zzz":1,"meta":{"resourceType":"User","version":"v"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestProject(t *testing.T) {
	res := func() map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(`{"schemas":["`+URNUser+`","`+URNEnterpriseUser+`"],"id":"1","userName":"u","name":{"givenName":"g","familyName":"f"},
			"emails":[{"value":"a","type":"work"}],"`+URNEnterpriseUser+`":{"department":"d","division":"v"},"meta":{"version":"W/\"1\""}}`), &m)
		return m
	}
	tests := []struct {
		attrs, excluded []string
		want            string
	}{
		{[]string{"userName"}, nil, `{"id":"1","schemas":["` + URNUser + `"],"userName":"u"}`},
		{[]string{"name.familyName", "emails.type"}, nil, `{"emails":[{"type":"work"}],"id":"1","name":{"familyName":"f"},"schemas":["` + URNUser + `"]}`},
		{[]string{URNEnterpriseUser + ":department"}, nil, `{"id":"1","schemas":["` + URNUser + `","` + URNEnterpriseUser + `"],"` + URNEnterpriseUser + `":{"department":"d"}}`},
		{[]string{"unknown", "meta"}, nil, `{"id":"1","meta":{"version":"W/\"1\""},"schemas":["` + URNUser + `"]}`},
		{nil, []string{"emails", "name.givenName", URNEnterpriseUser, "id", "meta"}, `{"id":"1","name":{"familyName":"f"},"schemas":["` + URNUser + `"],"userName":"u"}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(project(userType, res(), tt.attrs, tt.excluded))
		if string(got) != tt.want {
			t.Errorf("project(%v, %v)\n got  %s\n want %s", tt.attrs, tt.excluded, got, tt.want)
		}
	}
}

func TestDescribeEveryError(t *testing.T) {
	r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	tests := []struct {
		err      error
		status   int
		scimType string
	}{
		{directory.ErrNotFound, 404, ""},
		{fmt.Errorf("get user: %w", directory.ErrNotFound), 404, ""},
		{&directory.ConflictError{Field: directory.FieldUsername, Value: "a"}, 409, "uniqueness"},
		{directory.ErrConflict, 409, "uniqueness"},
		{directory.ErrUnauthenticated, 401, ""},
		{directory.ErrForbidden, 403, ""},
		{directory.ErrPrecondition, 412, ""},
		{directory.ErrRateLimited, 429, ""},
		{directory.ErrUnavailable, 503, ""},
		{directory.ErrInvalidReference, 400, "invalidValue"},
		{fmt.Errorf("list: %w", directory.ErrInvalidFilter), 400, "invalidFilter"},
		{directory.Invalid(directory.FieldEmail, directory.CodeInvalid, "email is not a valid e-mail address"), 400, "invalidValue"},
		{&filter.Error{Msg: "x", Pos: 1}, 400, "invalidFilter"},
		{&httpapi.DecodeError{Status: 400, Msg: "malformed JSON"}, 400, "invalidSyntax"},
		{&httpapi.DecodeError{Status: 413, Msg: "too large"}, 413, ""},
		{&httpapi.DecodeError{Status: 415, Msg: "not JSON"}, 415, ""},
		{methodNotAllowed("GET"), 405, ""},
		{httpapi.ErrPanic, 500, ""},
		{errors.New("pq: secret internal detail"), 500, ""},
	}
	for _, tt := range tests {
		status, body := describe(r, tt.err)
		if status != tt.status || body.ScimType != tt.scimType || body.Status != strconv.Itoa(tt.status) || body.Detail == "" {
			t.Errorf("%v: %d %+v, want %d %q", tt.err, status, body, tt.status, tt.scimType)
		}
		if status == 500 && strings.Contains(body.Detail, "secret") {
			t.Errorf("500 leaks the cause: %q", body.Detail)
		}
	}
	_, body := describe(r, directory.Invalid(directory.FieldEmail, directory.CodeInvalid, "email is not a valid e-mail address"))
	if body.Detail != "emails is not a valid e-mail address." {
		t.Errorf("validation detail %q", body.Detail)
	}
}
