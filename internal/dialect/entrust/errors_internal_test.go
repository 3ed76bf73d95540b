package entrust

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// TestDescribe: every domain error has an answer, and nothing unknown
// leaks its text.
func TestDescribe(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("get user: %w", err) }
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"not found", wrap(directory.ErrNotFound), 404, codeUserNotFound},
		{"unauthenticated", directory.ErrUnauthenticated, 401, codeUnauthorized},
		{"forbidden", directory.ErrForbidden, 403, codeForbidden},
		{"precondition", wrap(directory.ErrPrecondition), 409, codeConcurrentUpdate},
		{"rate limited", directory.ErrRateLimited, 429, codeTooManyRequests},
		{"database unavailable", directory.ErrUnavailable, 503, codeUnavailable},
		{"invalid filter", wrap(directory.ErrInvalidFilter), 400, codeInvalidSearch},
		{"validation", directory.Invalid(directory.FieldFirstName, directory.CodeRequired, "first_name is required"), 400, codeValidation},
		{"conflict username", wrap(&directory.ConflictError{Field: directory.FieldUsername}), 409, codeDuplicateUserID},
		{"conflict alias", &directory.ConflictError{Field: directory.FieldAlias}, 409, codeDuplicateAlias},
		{"conflict email", &directory.ConflictError{Field: directory.FieldEmail}, 409, codeDuplicateEmail},
		{"conflict phone", &directory.ConflictError{Field: directory.FieldPhone}, 409, codeDuplicatePhone},
		{"conflict external id", &directory.ConflictError{Field: directory.FieldExternalID}, 409, codeDuplicateExternal},
		{"conflict partner code", &directory.ConflictError{Field: directory.FieldPartnerCode}, 409, codeConflict},
		{"decode 400", &httpapi.DecodeError{Status: 400, Msg: "malformed JSON"}, 400, codeInvalidBody},
		{"decode 413", &httpapi.DecodeError{Status: 413, Msg: "too large"}, 413, codeTooLarge},
		{"decode 415", &httpapi.DecodeError{Status: 415, Msg: "not JSON"}, 415, codeUnsupportedMedia},
		{"method", httpapi.MethodNotAllowed, 405, codeMethodNotAllowed},
		{"own error", errUserNotFound, 404, codeUserNotFound},
		{"http error 429", httpapi.Errorf(429, "slow down"), 429, codeTooManyRequests},
		{"http error 500", &httpapi.HTTPError{Status: 500, Public: "x", Cause: errors.New("secret-stuff")}, 500, codeInternal},
		{"panic", fmt.Errorf("%w: boom secret-stuff", httpapi.ErrPanic), 500, codeInternal},
		{"unknown", errors.New("pq: password secret-stuff"), 500, codeInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			renderError(rec, httptest.NewRequest("GET", "/", nil), tc.err)
			body := rec.Body.String()
			if rec.Code != tc.status || !strings.Contains(body, `"errorCode":"`+tc.code+`"`) {
				t.Errorf("got %d %s, want %d %s", rec.Code, body, tc.status, tc.code)
			}
			if strings.Contains(body, "secret-stuff") || strings.Contains(body, "first_name") {
				t.Errorf("internal text in body: %s", body)
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestWireField(t *testing.T) {
	for f, want := range map[directory.Field]string{
		directory.FieldUsername:                                "userId",
		directory.FieldAliases:                                 "userAliases",
		"extras." + extraUPN:                                   "userPrincipalName",
		"extras." + extraPrefix + extraAttrPrefix + "n":        "userExtraAttributes[n]",
		"extras." + extraPrefix + otpContactPrefix + "OTP_SMS": "preferredOtpDeliveryContactAttributes.OTP_SMS",
		directory.FieldAddressCity:                             "address.city",
	} {
		if got := wireField(f); got != want {
			t.Errorf("wireField(%s) = %s, want %s", f, got, want)
		}
	}
}
