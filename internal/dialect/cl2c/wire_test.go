package cl2c

// Unit tests of the wire mapping and the error renderer: no store, no
// server.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

func TestRenderEveryError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCType  string
		wantMsg    string // messages[0] of an ErrorResult, or a key of errors of a problem
	}{
		{"validation", directory.Invalid(directory.FieldFirstName, directory.CodeRequired, "first_name is required"), 400, problemCType, "firstName"},
		{"decode syntax", &httpapi.DecodeError{Status: 400, Msg: "malformed JSON at byte 3"}, 400, problemCType, "$"},
		{"decode type", &httpapi.DecodeError{Status: 400, Field: "email", Msg: "email must be a string, not number"}, 400, problemCType, "$.email"},
		{"decode too large", &httpapi.DecodeError{Status: 413, Msg: "request body is larger than 65536 bytes"}, 413, "application/json", "request body is larger than 65536 bytes"},
		{"decode media type", &httpapi.DecodeError{Status: 415, Msg: "Content-Type must be application/json"}, 415, "application/json", "Content-Type must be application/json"},
		{"conflict username", fmt.Errorf("create user: %w", &directory.ConflictError{Field: directory.FieldUsername, Value: "ann"}), 409, "application/json", "Username ann is already taken."},
		{"conflict email", &directory.ConflictError{Field: directory.FieldEmail, Value: "a@b.co"}, 409, "application/json", "Email a@b.co is already registered."},
		{"conflict phone", &directory.ConflictError{Field: directory.FieldPhone, Value: "+15556667777"}, 409, "application/json", "Phone number +15556667777 is already registered."},
		{"conflict external id", &directory.ConflictError{Field: directory.FieldExternalID, Value: "x1"}, 409, "application/json", "External Id x1 is already in use."},
		{"not found", fmt.Errorf("get user: %w", directory.ErrNotFound), 404, "application/json", msgNotFound},
		{"unauthenticated", directory.ErrUnauthenticated, 401, "application/json", msgAuthFailed},
		{"forbidden", directory.ErrForbidden, 403, "application/json", msgForbidden},
		{"precondition", directory.ErrPrecondition, 409, "application/json", msgPrecondition},
		{"bare conflict", directory.ErrConflict, 409, "application/json", msgPrecondition},
		{"rate limited", directory.ErrRateLimited, 429, "application/json", msgRateLimited},
		{"database unavailable", fmt.Errorf("get credential: %w", directory.ErrUnavailable), 503, "application/json", msgUnavailable},
		{"invalid reference", directory.ErrInvalidReference, 400, problemCType, "$"},
		{"method not allowed", httpapi.MethodNotAllowed, 405, "application/json", "Method not allowed."},
		{"http 404", &httpapi.HTTPError{Status: 404, Public: msgRouteNotFound}, 404, "application/json", msgRouteNotFound},
		{"http 400", &httpapi.HTTPError{Status: 400, Public: "bad"}, 400, problemCType, "$"},
		{"panic", fmt.Errorf("%w: boom", httpapi.ErrPanic), 500, "application/json", msgInternal},
		{"store failure", errors.New("pq: connection refused to 10.0.0.1"), 500, "application/json", msgInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/v1/cl2c/user", nil)
			render(rec, req, tt.err)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.wantCType {
				t.Fatalf("content type: got %q, want %q", ct, tt.wantCType)
			}
			// Both bodies are application/json, as the vendor documents
			// them; the 400s are problems.
			if tt.wantStatus == http.StatusBadRequest {
				var p problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
					t.Fatal(err)
				}
				if p.Status != 400 || p.Type != problemType || p.Title != problemTitle || p.Instance != "/v1/cl2c/user" {
					t.Fatalf("problem: got %+v", p)
				}
				if len(p.Errors[tt.wantMsg]) == 0 {
					t.Fatalf("errors: got %v, want key %q", p.Errors, tt.wantMsg)
				}
				return
			}
			var e errorResult
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if len(e.Messages) != 1 || e.Messages[0] != tt.wantMsg || e.Exception != tt.wantMsg {
				t.Fatalf("messages: got %q / exception %q, want %q", e.Messages, e.Exception, tt.wantMsg)
			}
			if e.StatusCode != tt.wantStatus || e.SupportMessage != supportMessage || len(e.ErrorID) != 36 {
				t.Fatalf("error result: got %+v", e)
			}
			if strings.Contains(rec.Body.String(), "10.0.0.1") || strings.Contains(rec.Body.String(), "boom") {
				t.Fatalf("internal error text leaked: %s", rec.Body)
			}
		})
	}
}

func TestFieldMessage(t *testing.T) {
	tests := []struct {
		fe   directory.FieldError
		want string
	}{
		{directory.FieldError{Field: directory.FieldFirstName, Code: directory.CodeRequired}, "'First Name' must not be empty."},
		{directory.FieldError{Field: directory.FieldUsername, Code: directory.CodeRequired}, "'User Name' must not be empty."},
		{directory.FieldError{Field: directory.FieldPhone, Code: directory.CodeInvalid, Message: "phone contains a control character"}, "'Phone Number' contains a control character."},
		{directory.FieldError{Field: directory.FieldID, Code: directory.CodeInvalid}, "'Id' must be a valid UUID."},
		{directory.FieldError{Field: directory.FieldLastName, Code: directory.CodeTooLong, Message: "last_name is too long"}, "The length of 'Last Name' must be 256 characters or fewer."},
		{directory.FieldError{Field: directory.FieldLastName, Code: directory.CodeInvalid, Message: "last_name contains a control character"}, "'Last Name' contains a control character."},
		{directory.FieldError{Field: "extras.pushToken", Code: directory.CodeInvalid, Message: "pushToken contains a control character"}, "'Push Token' contains a control character."},
		{directory.FieldError{Field: directory.FieldAddressLine1, Code: directory.CodeTooLong, Message: "address.line1 is too long"}, "'Address Line1' is too long."},
		{directory.FieldError{Field: "pageSize", Code: directory.CodeInvalid, Message: "pageSize must be a whole number between 1 and 1000"}, "'Page Size' must be a whole number between 1 and 1000."},
	}
	for _, tt := range tests {
		if got := fieldMessage(tt.fe); got != tt.want {
			t.Errorf("fieldMessage(%+v): got %q, want %q", tt.fe, got, tt.want)
		}
	}
	if got := wireFieldOf(directory.FieldAddressLine1).key; got != "addressLine1" {
		t.Errorf("wire key of address.line1: got %q", got)
	}
}

func TestUpdateBody(t *testing.T) {
	const id = "0190c2a8-3e1b-7a3c-9b2d-123456789abc"
	tests := []struct {
		name    string
		body    string
		wantErr []string
		check   func(t *testing.T, u *directory.User)
	}{
		{"absent leaves alone", `{"id":"` + id + `"}`, nil, func(t *testing.T, u *directory.User) {
			if u.FirstName != "Ann" || u.Phone != "+15556667777" || u.Extras[extraPushToken] != "tok" {
				t.Fatalf("got %+v", u)
			}
		}},
		{"set values", `{"id":"` + id + `","firstName":"Bea","phoneNumber":"+442071838750","pushToken":"new"}`, nil, func(t *testing.T, u *directory.User) {
			if u.FirstName != "Bea" || u.LastName != "Lee" || u.Phone != "+442071838750" || u.Extras[extraPushToken] != "new" {
				t.Fatalf("got %+v", u)
			}
		}},
		{"null clears phone and token", `{"id":"` + id + `","phoneNumber":null,"pushToken":""}`, nil, func(t *testing.T, u *directory.User) {
			if u.Phone != "" || u.Extras[extraPushToken] != "" {
				t.Fatalf("got %+v", u)
			}
		}},
		{"hex id", `{"id":"` + strings.ReplaceAll(id, "-", "") + `"}`, nil, nil},
		{"missing id", `{"firstName":"x"}`, []string{"id"}, nil},
		{"bad id", `{"id":"42"}`, []string{"id"}, nil},
		{"null names", `{"id":"` + id + `","firstName":null,"lastName":"  "}`, []string{"firstName", "lastName"}, nil},
		{"any phone", `{"id":"` + id + `","phoneNumber":"0207 183 8750"}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b updateBody
			if err := httpapi.Unmarshal([]byte(tt.body), &b, false); err != nil {
				t.Fatal(err)
			}
			gotID, err := b.check()
			var got []string
			var ve *directory.ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve.Errors {
					got = append(got, wireFieldOf(fe.Field).key)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantErr) {
				t.Fatalf("errors: got %v, want %v", got, tt.wantErr)
			}
			if err != nil {
				return
			}
			if gotID != id {
				t.Fatalf("id: got %q, want %q", gotID, id)
			}
			u := &directory.User{FirstName: "Ann", LastName: "Lee", Phone: "+15556667777", Extras: map[string]string{extraPushToken: "tok"}}
			b.apply(u)
			if tt.check != nil {
				tt.check(t, u)
			}
		})
	}
}

// TestUpdateBodyTypeError pins that a wrong type inside an Opt field still
// names the field, so the problem's errors key is "$.firstName".
func TestUpdateBodyTypeError(t *testing.T) {
	var b updateBody
	err := httpapi.Unmarshal([]byte(`{"id":"x","firstName":7}`), &b, false)
	var de *httpapi.DecodeError
	if !errors.As(err, &de) || de.Status != http.StatusBadRequest {
		t.Fatalf("got %v, want a 400 *DecodeError", err)
	}
	if de.Field != "firstName" {
		t.Errorf("field: got %q, want firstName", de.Field)
	}
}

func TestToUser(t *testing.T) {
	u := &directory.User{ID: "0190c2a8-3e1b-7a3c-9b2d-123456789abc", Username: "johndoe", Email: "j@example.com", EmailVerified: true,
		Extras: map[string]string{extraWalletAddress: "0x123456789ABCDEF", extraAuthLocation: "USA", extraPushToken: "secret-ish"}}
	b, _ := json.Marshal(toUser(u))
	want := `{"id":"0190c2a8-3e1b-7a3c-9b2d-123456789abc","userName":"johndoe","firstName":"","lastName":"","email":"j@example.com",` +
		`"emailConfirmed":true,"authenticated":false,"authValidUpto":null,"authLocation":"USA","phoneNumber":null,"walletAddress":"0x123456789ABCDEF"}`
	if string(b) != want {
		t.Errorf("toUser:\n got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(toListItem(u))
	if strings.Contains(string(b), "authValidUpto") || strings.Contains(string(b), "authLocation") || strings.Contains(string(b), "pushToken") {
		t.Errorf("list item shows fields the vendor's list omits: %s", b)
	}
}
