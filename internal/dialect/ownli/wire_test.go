package ownli

// Unit tests of the mapping code; they need no store.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// TestClassify proves every domain error has an answer in Ownli's format,
// and that no internal text reaches a 500 body.
func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"not found", fmt.Errorf("get user: %w", directory.ErrNotFound), 404, codeUserNotFound},
		{"conflict sentinel", directory.ErrConflict, 409, codeUserExists},
		{"conflict email", fmt.Errorf("create user: %w", &directory.ConflictError{Field: directory.FieldEmail}), 409, codeUserExists},
		{"conflict phone", &directory.ConflictError{Field: directory.FieldPhone}, 409, codeUserExists},
		{"unauthenticated", directory.ErrUnauthenticated, 401, codeUnauthorized},
		{"forbidden", directory.ErrForbidden, 403, codeForbidden},
		{"precondition", directory.ErrPrecondition, 409, codeConcurrentUpdate},
		{"rate limited", directory.ErrRateLimited, 429, codeTooManyRequests},
		{"database unavailable", directory.ErrUnavailable, 503, codeUnavailable},
		{"invalid reference", directory.ErrInvalidReference, 400, codeInvalidParameters},
		{"invalid filter", fmt.Errorf("x: %w", directory.ErrInvalidFilter), 400, codeInvalidParameters},
		{"validation", directory.Invalid(directory.FieldFirstName, directory.CodeRequired, "x"), 400, codeInvalidParameters},
		{"state code", directory.Invalid(directory.FieldAddressState, directory.CodeInvalid, "x"), 400, codeInvalidStateCode},
		{"state missing", directory.Invalid(directory.FieldAddressState, directory.CodeRequired, "x"), 400, codeInvalidParameters},
		{"decode 400", &httpapi.DecodeError{Status: 400, Msg: "malformed JSON"}, 400, codeInvalidParameters},
		{"decode 413", &httpapi.DecodeError{Status: 413, Msg: "big"}, 413, codePayloadTooLarge},
		{"decode 415", &httpapi.DecodeError{Status: 415, Msg: "type"}, 415, codeUnsupportedMedia},
		{"http 405", httpapi.MethodNotAllowed, 405, codeMethodNotAllowed},
		{"api error", invalidParam("x"), 400, codeInvalidParameters},
		{"panic", fmt.Errorf("%w: boom secret", httpapi.ErrPanic), 500, codeInternal},
		{"unknown", errors.New("dial tcp: secret detail"), 500, codeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			render(w, httptest.NewRequest("GET", "/api/users", nil), tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", w.Code, tt.wantStatus)
			}
			var b errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if b.ErrorCode != tt.wantCode || b.ErrorMessage == "" {
				t.Errorf("body: got %+v, want code %s and a message", b, tt.wantCode)
			}
			if strings.Contains(w.Body.String(), "secret") {
				t.Errorf("body leaks the internal error: %s", w.Body)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("content type: got %q", got)
			}
			if tt.wantStatus == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestValidationMessage(t *testing.T) {
	ve := &directory.ValidationError{Errors: []directory.FieldError{
		{Field: directory.FieldFirstName, Code: directory.CodeRequired},
		{Field: directory.FieldAddressLine1, Code: directory.CodeTooLong},
		{Field: directory.FieldPhone, Code: directory.CodeInvalid},
		{Field: directory.FieldAddressState, Code: directory.CodeInvalid},
		{Field: "extras.customField2", Code: directory.CodeInvalid},
	}}
	got := validationBody(ve)
	want := errorBody{codeInvalidStateCode, "firstName is required; address.addressLine1 is too long; " +
		"phone must be in E.164 format, e.g. +15556667777; address.state must be a 2 letter US state code, e.g. CA; " +
		"customField2 is invalid"}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestBoolParam(t *testing.T) {
	tests := []struct {
		query   string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"returnExistingUserIfExists=true", true, false},
		{"returnExistingUserIfExists=TRUE", true, false},
		{"returnExistingUserIfExists=True", true, false},
		{"returnExistingUserIfExists=1", true, false},
		{"returnExistingUserIfExists=false", false, false},
		{"returnExistingUserIfExists=FALSE", false, false},
		{"returnExistingUserIfExists=0", false, false},
		{"returnExistingUserIfExists=", false, true},
		{"returnExistingUserIfExists", false, true},
		{"returnExistingUserIfExists=yes", false, true},
		{"returnExistingUserIfExists=2", false, true},
		{"returnExistingUserIfExists=true&returnExistingUserIfExists=true", false, true},
		{"other=1", false, false},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := boolParam(q, "returnExistingUserIfExists")
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%q: got %v, %v; want %v, error %v", tt.query, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestIntParam(t *testing.T) {
	tests := []struct {
		query   string
		want    int
		wantErr bool
	}{
		{"", 7, false},
		{"n=1", 1, false},
		{"n=200", 200, false},
		{"n=0", 0, true},
		{"n=201", 0, true},
		{"n=-1", 0, true},
		{"n=1.5", 0, true},
		{"n=abc", 0, true},
		{"n=", 0, true},
		{"n=99999999999999999999999", 0, true},
		{"n=1&n=2", 0, true},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		got, err := intParam(q, "n", 7, 1, 200)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%q: got %d, %v; want %d, error %v", tt.query, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCreateBodyUser(t *testing.T) {
	b := createBody{
		FirstName: "Jane", LastName: "Doe", Phone: "+15556667777",
		Address:      &addressBody{AddressLine1: "1 Main St", State: "CO", Country: "US"},
		CustomField1: "a", CustomField5: "  ", AdminNote: "vip", Fraud: true, TosAnswer: "Accepted",
		IsEmailVerified: true,
	}
	u, err := b.user()
	if err != nil {
		t.Fatal(err)
	}
	wantExtras := map[string]string{"customField1": "a", "adminNote": "vip", "fraud": "true", "tosAnswer": "Accepted"}
	if fmt.Sprint(u.Extras) != fmt.Sprint(wantExtras) {
		t.Errorf("extras: got %v, want %v", u.Extras, wantExtras)
	}
	if u.Address.Line1 != "1 Main St" || u.Address.State != "CO" || !u.EmailVerified || u.PhoneVerified {
		t.Errorf("user: got %+v", u)
	}
	b.TosAnswer = "accepted"
	if _, err := b.user(); err == nil {
		t.Error("tosAnswer accepted: got no error, want one (the enum is case-sensitive)")
	}
}

func TestUpdateBodyApply(t *testing.T) {
	old := &directory.User{
		FirstName: "Jane", LastName: "Doe", Email: "j@example.com", Phone: "+15556667777",
		Address: directory.Address{Line1: "1 Main St", State: "CO"},
		Extras:  map[string]string{"customField1": "a", "tosAnswer": "Accepted", "fraud": "true"},
	}
	var b updateBody
	if err := httpapi.Unmarshal([]byte(`{"lastName":"Roe","email":null,"customField1":"","customField2":"b",
		"tosAnswer":null,"fraud":false,"isPhoneVerified":true,"address":{"city":"Austin","state":"TX"}}`), &b, false); err != nil {
		t.Fatal(err)
	}
	if err := b.check(); err != nil {
		t.Fatal(err)
	}
	u := old.Clone()
	if err := b.apply(u); err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "Jane" || u.LastName != "Roe" || u.Email != "" || !u.PhoneVerified {
		t.Errorf("user: got %+v", u)
	}
	if u.Address != (directory.Address{City: "Austin", State: "TX"}) {
		t.Errorf("address: got %+v, want it replaced whole", u.Address)
	}
	if fmt.Sprint(u.Extras) != fmt.Sprint(map[string]string{"customField2": "b"}) {
		t.Errorf("extras: got %v", u.Extras)
	}

	for _, body := range []string{`{"address":{"city":"Austin"}}`, `{"address":{"state":"  "}}`, `{"tosAnswer":"Maybe"}`} {
		var b updateBody
		if err := httpapi.Unmarshal([]byte(body), &b, false); err != nil {
			t.Fatal(err)
		}
		if b.check() == nil {
			t.Errorf("%s: check passed, want an error", body)
		}
	}
}

func TestToWire(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	u := &directory.User{ID: "0190a0b0-0000-7000-8000-000000000001", FirstName: "Jane", CreatedAt: at, UpdatedAt: at}
	b, err := json.Marshal(toWire(u))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"0190a0b0-0000-7000-8000-000000000001","firstName":"Jane","lastName":"","email":null,"phone":"",` +
		`"address":{"addressLine1":null,"addressLine2":null,"city":null,"state":null,"country":null,"zip":null},"tosAnswer":"None","partnerCode":null,"dateRegistered":"2026-01-02T03:04:05.123Z",` +
		`"updated":"2026-01-02T03:04:05.123Z","emailVerified":false,"phoneVerified":false,"customField1":null,` +
		`"customField2":null,"customField3":null,"customField4":null,"customField5":null,"adminNote":null,"fraud":false}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// TestToWireMobile: a user with a mobile and no phone (an Entrust user, a
// SCIM user with only a "mobile" number) shows the mobile as Ownli's cell
// phone; a phone, when set, wins.
func TestToWireMobile(t *testing.T) {
	if got := toWire(&directory.User{Mobile: "+16138561234"}).Phone; got != "+16138561234" {
		t.Errorf("mobile only: phone %q", got)
	}
	if got := toWire(&directory.User{Phone: "+15556667777", Mobile: "+16138561234"}).Phone; got != "+15556667777" {
		t.Errorf("both: phone %q, want the phone", got)
	}
}

// TestRoutesWithoutStore checks the answers that never reach the store:
// 405s, unknown paths, missing credentials and bad token requests.
func TestRoutesWithoutStore(t *testing.T) {
	mux := http.NewServeMux()
	New(directory.NewService(nil, directory.Options{})).Register(mux)
	tests := []struct {
		method, path, body string
		header             map[string]string
		wantStatus         int
		wantCode           string
		wantAllow          string
	}{
		{"DELETE", "/api/users", "", nil, 405, codeMethodNotAllowed, "GET, HEAD, POST"},
		{"PATCH", "/api/users/0190a0b0-0000-7000-8000-000000000001", "", nil, 405, codeMethodNotAllowed, "DELETE, GET, HEAD, PUT"},
		{"GET", "/api/auth/token", "", nil, 405, codeMethodNotAllowed, "POST"},
		{"GET", "/api/users/", "", nil, 404, codeNotFound, ""},
		{"GET", "/api/users/a/b", "", nil, 404, codeNotFound, ""},
		{"POST", "/api/users", "{}", nil, 401, codeUnauthorized, ""},
		{"GET", "/api/users", "", map[string]string{"partnerId": "acme", "clientId": "x"}, 401, codeUnauthorized, ""},
		{"GET", "/api/users", "", map[string]string{"Authorization": "Basic abc"}, 401, codeUnauthorized, ""},
		{"GET", "/api/users", "", map[string]string{"Authorization": "Bearer"}, 401, codeUnauthorized, ""},
		{"POST", "/api/auth/token", `{"clientId":"a","clientSecret":"b"}`, nil, 400, codeInvalidParameters, ""},
		{"POST", "/api/auth/token", `{"clientId":"a","clientSecret":"b","partnerId":"c","scope":"root"}`, nil, 400, codeInvalidParameters, ""},
		{"POST", "/api/auth/token", `{"clientId":1}`, nil, 400, codeInvalidParameters, ""},
		{"POST", "/api/auth/token", `{`, nil, 400, codeInvalidParameters, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			var b errorBody
			_ = json.Unmarshal(w.Body.Bytes(), &b)
			if w.Code != tt.wantStatus || b.ErrorCode != tt.wantCode {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tt.wantStatus, tt.wantCode)
			}
			if got := w.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow: got %q, want %q", got, tt.wantAllow)
			}
		})
	}
}
