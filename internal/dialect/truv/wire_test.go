package truv

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/secret"
)

func TestToWire(t *testing.T) {
	at := time.Date(2022, 5, 4, 11, 30, 0, 123456000, time.FixedZone("x", 3600))
	u := &directory.User{ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", FirstName: "John", CreatedAt: at, UpdatedAt: at,
		SSN: secret.Value("222233333")}
	b, err := json.Marshal(toWire(u))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"0190a1b2c3d47e5f8a9b0c1d2e3f4a5b","external_user_id":null,"created_at":"2022-05-04T10:30:00.123Z",` +
		`"updated_at":"2022-05-04T10:30:00.123Z","first_name":"John","last_name":"","email":null,"phone":null,"ssn":"222233333"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestParseListQuery(t *testing.T) {
	day := time.Date(2022, 5, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		query      string
		page, size int
		filter     directory.Expr
		err        string // Error() of the expected error, "" for none
	}{
		{query: "", page: 1, size: 100},
		{query: "page=2&page_size=10", page: 2, size: 10},
		{query: "page=&page_size=", page: 1, size: 100},
		{query: "page_size=1001", page: 1, size: 1000},
		{query: "page_size=99999999999999999999999", page: 1, size: 1000},
		{query: "page=1073741825", err: "invalid page"},
		{query: "page=99999999999999999999999", err: "invalid page"},
		{query: "page=x", err: "query parameter page: A valid integer is required."},
		{query: "page=0", err: "query parameter page: Ensure this value is greater than or equal to 1."},
		{query: "page=-99999999999999999999999", err: "query parameter page: Ensure this value is greater than or equal to 1."},
		{query: "page_size=0", err: "query parameter page_size: Ensure this value is greater than or equal to 1."},
		{query: "page_size=%201", err: "query parameter page_size: A valid integer is required."},
		{query: "external_user_id=a", page: 1, size: 100,
			filter: directory.Cmp{Field: directory.FieldExternalID, Op: directory.OpEq, Value: "a"}},
		{query: "external_user_id=a%00", err: "query parameter external_user_id: Enter a valid value."},
		{query: "created_at__gte=2022-05-04", page: 1, size: 100,
			filter: directory.Cmp{Field: directory.FieldCreatedAt, Op: directory.OpGe, Value: day}},
		{query: "created_at__lte=2022-05-04", page: 1, size: 100,
			filter: directory.Cmp{Field: directory.FieldCreatedAt, Op: directory.OpLe, Value: day.Add(999 * time.Microsecond)}},
		{query: "created_at__lte=2022-05-04T00:00:00.000001Z", page: 1, size: 100,
			filter: directory.Cmp{Field: directory.FieldCreatedAt, Op: directory.OpLe, Value: day.Add(time.Microsecond)}},
		{query: "created_at__gte=2022-05-04T02:00:00+02:00", page: 1, size: 100,
			filter: directory.Cmp{Field: directory.FieldCreatedAt, Op: directory.OpGe, Value: day}},
		{query: "created_at__gte=2022-05-04T02:00:00%2B02:00&created_at__lte=2022-05-04", page: 1, size: 100,
			filter: directory.And{
				L: directory.Cmp{Field: directory.FieldCreatedAt, Op: directory.OpGe, Value: day},
				R: directory.Cmp{Field: directory.FieldCreatedAt, Op: directory.OpLe, Value: day.Add(999 * time.Microsecond)}}},
		{query: "created_at__gte=2022-05-04T25:00:00Z", err: "query parameter created_at__gte: Enter a valid date/time."},
		{query: "created_at__lte=now", err: "query parameter created_at__lte: Enter a valid date/time."},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, perr := url.ParseQuery(tc.query)
			if perr != nil {
				t.Fatal(perr)
			}
			lq, err := parseListQuery(q)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if lq.page != tc.page || lq.size != tc.size || fmt.Sprint(lq.filter) != fmt.Sprint(tc.filter) {
				t.Errorf("got page %d size %d filter %v, want %d %d %v", lq.page, lq.size, lq.filter, tc.page, tc.size, tc.filter)
			}
		})
	}
}

// TestErrorResponse proves every domain error has an answer in Truv's
// format, and that only unknown errors are 500.
func TestErrorResponse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"validation", &bodyError{
			err: &directory.ValidationError{Errors: []directory.FieldError{
				{Field: directory.FieldSSN, Code: directory.CodeInvalid},
				{Field: directory.FieldFirstName, Code: directory.CodeRequired},
				{Field: directory.FieldExternalID, Code: directory.CodeRequired},
				{Field: directory.FieldLastName, Code: directory.CodeTooLong},
				{Field: directory.FieldLastName, Code: directory.CodeRequired},
			}},
			sent: map[directory.Field]sentAs{directory.FieldFirstName: sentNull, directory.FieldLastName: sentBlank},
		}, 400, `{"error":{"code":"incorrect_parameters","message":"Incorrect request parameters","extra":{"invalid-params":[` +
			`{"field":"external_user_id","message":"This field is required."},` +
			`{"field":"first_name","message":"This field may not be null."},` +
			`{"field":"last_name","message":"Ensure this field is not longer than the allowed length."},` +
			`{"field":"last_name","message":"This field may not be blank."},` +
			`{"field":"ssn","message":"Enter a valid SSN: 9 digits, dashes allowed."}]}}}`},
		{"validation without body", directory.Invalid(directory.FieldMobile, directory.CodeInvalid, "x"), 400,
			`{"error":{"code":"incorrect_parameters","message":"Incorrect request parameters","extra":{"invalid-params":[{"field":"mobile","message":"This field contains invalid characters."}]}}}`},
		{"param", &paramError{"page", "A valid integer is required."}, 400,
			`{"error":{"code":"incorrect_parameters","message":"Incorrect request parameters","extra":{"invalid-params":[{"field":"page","message":"A valid integer is required."}]}}}`},
		{"decode field", &httpapi.DecodeError{Status: 400, Field: "phone"}, 400,
			`{"error":{"code":"incorrect_parameters","message":"Incorrect request parameters","extra":{"invalid-params":[{"field":"phone","message":"Not a valid string."}]}}}`},
		{"decode syntax", &httpapi.DecodeError{Status: 400, Msg: "malformed JSON at byte 3"}, 400,
			`{"error":{"code":"incorrect_parameters","message":"Incorrect request parameters","extra":{"invalid-params":[{"field":"non_field_errors","message":"JSON parse error - malformed JSON at byte 3."}]}}}`},
		{"decode too large", &httpapi.DecodeError{Status: 413}, 413,
			`{"error":{"code":"payload_too_large","message":"Request body is larger than 65536 bytes."}}`},
		{"decode media type", &httpapi.DecodeError{Status: 415}, 415, `{"detail":"Unsupported media type \"text/plain\" in request."}`},
		{"method", &methodError{allowItem}, 405, `{"detail":"Method \"PUT\" not allowed."}`},
		{"no credentials", errNoCredentials, 401,
			`{"error":{"code":"authentication_failed","message":"Authentication credentials were not provided."}}`},
		{"unauthenticated", fmt.Errorf("x: %w", directory.ErrUnauthenticated), 401,
			`{"error":{"code":"authentication_failed","message":"Incorrect authentication credentials."}}`},
		{"forbidden", directory.ErrForbidden, 403,
			`{"error":{"code":"not_authenticated","message":"You do not have permission to perform this action."}}`},
		{"not found", fmt.Errorf("get user: %w", directory.ErrNotFound), 404, `{"detail":"Not Found."}`},
		{"invalid page", errInvalidPage, 404, `{"detail":"Invalid page."}`},
		{"conflict", &bodyError{err: fmt.Errorf("create user: %w", &directory.ConflictError{
			Field: directory.FieldExternalID, Value: "1", ExistingID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"})}, 409,
			`{"error":{"code":"conflict","message":"A user with this external_user_id already exists.","extra":{"field":"external_user_id","existing_user_id":"0190a1b2c3d47e5f8a9b0c1d2e3f4a5b"}}}`},
		{"bare conflict", directory.ErrConflict, 409,
			`{"error":{"code":"conflict","message":"The request conflicts with the current state of the user; retry it."}}`},
		{"precondition", directory.ErrPrecondition, 409,
			`{"error":{"code":"conflict","message":"The request conflicts with the current state of the user; retry it."}}`},
		{"rate limited", directory.ErrRateLimited, 429, `{"error":{"code":"throttled","message":"Request was throttled."}}`},
		{"database unavailable", directory.ErrUnavailable, 503, `{"error":{"code":"service_unavailable","message":"Service temporarily unavailable, try again later."}}`},
		{"invalid reference", directory.ErrInvalidReference, 400,
			`{"error":{"code":"incorrect_parameters","message":"Incorrect request parameters","extra":{"invalid-params":[{"field":"non_field_errors","message":"The request refers to a record that does not exist."}]}}}`},
		{"invalid filter", directory.ErrInvalidFilter, 500, `{"error":{"code":"internal_error","message":"Internal server error"}}`},
		{"http error", httpapi.MethodNotAllowed, 405, `{"detail":"Method not allowed."}`},
		{"panic", fmt.Errorf("%w: boom", httpapi.ErrPanic), 500, `{"error":{"code":"internal_error","message":"Internal server error"}}`},
		{"unknown", errors.New("database is on fire"), 500, `{"error":{"code":"internal_error","message":"Internal server error"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/v1/users/", nil)
			r.Header.Set("Content-Type", "text/plain")
			w := httptest.NewRecorder()
			writeError(w, r, tc.err)
			if got := w.Body.String(); w.Code != tc.status || got != tc.body+"\n" {
				t.Errorf("got %d %s\nwant %d %s", w.Code, got, tc.status, tc.body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestPageURL(t *testing.T) {
	tests := []struct {
		name, url, public string
		header            map[string]string
		page              int
		want              string
	}{
		{"next", "http://api.example.com/v1/users/?page=2&b=1&a=x%20y", "", nil, 3, "http://api.example.com/v1/users/?a=x+y&b=1&page=3"},
		{"previous drops page 1", "http://api.example.com/v1/users/?page=2&b=1&a=x%20y", "", nil, 1, "http://api.example.com/v1/users/?a=x+y&b=1"},
		{"tls", "https://api.example.com/v1/users?page=2", "", nil, 1, "https://api.example.com/v1/users"},
		{"proxy says https", "http://api.example.com/v1/users?page=2", "", map[string]string{"X-Forwarded-Proto": "https"}, 3, "https://api.example.com/v1/users?page=3"},
		{"public url wins", "http://10.0.0.5:8080/v1/users/?page=2", "https://roster.example.com/", nil, 3, "https://roster.example.com/v1/users/?page=3"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		if got := *pageURL(r, httpapi.Origin(r, tt.public), tt.page); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
