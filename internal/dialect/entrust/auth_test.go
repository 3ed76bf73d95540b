package entrust_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
)

const authPath = "/api/web/v1/adminapi/authenticate"

func authBody(app, secret string, web bool) string {
	b := `{"applicationId":"` + app + `","sharedSecret":"` + secret + `"`
	if web {
		b += `,"enableWebSession":true`
	}
	return b + "}"
}

func TestAuthenticate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := &client{t: t, env: env}
		cr := env.Creds

		r := c.raw(apitest.Request{Method: "POST", Path: authPath, Body: authBody(cr.ClientID, cr.Secret, false)})
		mustStatus(t, r, 200)
		var res struct{ AuthToken, CreationTime, ExpirationTime string }
		r.JSON(t, &res)
		apitest.Golden(t, "authenticate", r, res.AuthToken, "<token>")
		created, _ := time.Parse(time.RFC3339, res.CreationTime)
		expires, _ := time.Parse(time.RFC3339, res.ExpirationTime)
		if expires.Sub(created) != 15*time.Minute {
			t.Errorf("token lifetime: %s to %s, want 15m", res.CreationTime, res.ExpirationTime)
		}
		if r.Header.Get("Set-Cookie") != "" {
			t.Errorf("cookie without enableWebSession: %q", r.Header.Get("Set-Cookie"))
		}
		if strings.Contains(env.Logs.String(), res.AuthToken) || strings.Contains(env.Logs.String(), cr.Secret) {
			t.Error("token or secret in the access log")
		}
		c.token = res.AuthToken
		id := c.createUser("ann")
		path := "/api/web/v3/users/" + id

		// The three Authorization forms, and the scheme in any case.
		for _, h := range []string{"Bearer " + res.AuthToken, "bearer " + res.AuthToken, res.AuthToken,
			cr.ClientID + "," + cr.Secret, " " + cr.ClientID + " , " + cr.Secret + " "} {
			r := c.raw(apitest.Request{Method: "GET", Path: path, Header: map[string]string{"Authorization": h}})
			if r.Status != 200 {
				t.Errorf("Authorization form %.12q...: %d %s", h, r.Status, r.Body)
			}
		}

		// Failures: all 401 ErrorInfo.
		fails := []struct{ name, header string }{
			{"none", ""},
			{"unknown token", "Bearer nope"},
			{"bare unknown token", "nope"},
			{"wrong secret", cr.ClientID + "," + cr.Secret + "x"},
			{"unknown application", "00000000000000000000000000000000," + cr.Secret},
			{"secret as token", "Bearer " + cr.Secret},
			{"empty bearer", "Bearer "},
			{"huge", "Bearer " + strings.Repeat("a", 10000)},
		}
		for _, f := range fails {
			hdr := map[string]string{}
			if f.header != "" {
				hdr["Authorization"] = f.header
			}
			r := c.raw(apitest.Request{Method: "GET", Path: path, Header: hdr})
			if r.Status != 401 || errorCode(t, r) != "unauthorized" {
				t.Errorf("%s: got %d %s, want 401 unauthorized", f.name, r.Status, r.Body)
			}
		}
		apitest.Golden(t, "unauthorized", c.raw(apitest.Request{Method: "GET", Path: path}))

		// Authenticate failures.
		for _, tc := range []struct {
			name, body string
			status     int
			golden     string
		}{
			{"wrong secret", authBody(cr.ClientID, "rsk_x", false), 401, "authenticate_wrong_secret"},
			{"missing fields", `{}`, 400, "authenticate_missing"},
			{"null id", `{"applicationId":null,"sharedSecret":"x"}`, 400, ""},
			{"id not a string", `{"applicationId":5,"sharedSecret":"x"}`, 400, ""},
			{"not JSON", `applicationId=x`, 400, ""},
		} {
			r := c.raw(apitest.Request{Method: "POST", Path: authPath, Body: tc.body})
			if r.Status != tc.status {
				t.Errorf("%s: got %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
			if tc.golden != "" {
				apitest.Golden(t, tc.golden, r)
			}
		}

		// A revoked credential's tokens stop working.
		other := env.NewTenant("globex", cr.Tenant.Unique)
		oc := login(t, env, other)
		mustStatus(t, oc.do("POST", "/api/web/v4/userspaged", `{}`), 200)
		if err := env.Svc.RevokeCredential(t.Context(), other.ClientID); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, oc.do("POST", "/api/web/v4/userspaged", `{}`), 401)
	})
}

func TestTokenExpiry(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		mustStatus(t, c.do("POST", "/api/web/v4/userspaged", `{}`), 200)
		env.Clock.Advance(14 * time.Minute)
		mustStatus(t, c.do("POST", "/api/web/v4/userspaged", `{}`), 200)
		env.Clock.Advance(time.Minute)
		r := c.do("POST", "/api/web/v4/userspaged", `{}`)
		mustStatus(t, r, 401)
		apitest.Golden(t, "token_expired", r)
		// A fresh authentication works again.
		c = login(t, env, env.Creds)
		mustStatus(t, c.do("POST", "/api/web/v4/userspaged", `{}`), 200)
	})
	t.Run("custom ttl", func(t *testing.T) {
		env := newEnv(t, "sqlite", entrust.Options{TokenTTL: time.Hour})
		c := login(t, env, env.Creds)
		env.Clock.Advance(59 * time.Minute)
		mustStatus(t, c.do("POST", "/api/web/v4/userspaged", `{}`), 200)
		env.Clock.Advance(time.Minute)
		mustStatus(t, c.do("POST", "/api/web/v4/userspaged", `{}`), 401)
	})
}

func TestSessionCookie(t *testing.T) {
	env := newEnv(t, "sqlite", entrust.Options{})
	c := &client{t: t, env: env}
	cr := env.Creds
	r := c.raw(apitest.Request{Method: "POST", Path: authPath, Body: authBody(cr.ClientID, cr.Secret, true)})
	mustStatus(t, r, 200)
	var res struct{ AuthToken string }
	r.JSON(t, &res)
	cookies := (&http.Response{Header: r.Header}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies: %v", r.Header["Set-Cookie"])
	}
	ck := cookies[0]
	if ck.Name != "INTELLITRUST_SESSION_ID" || !ck.HttpOnly || ck.Secure || ck.SameSite != http.SameSiteStrictMode ||
		ck.Path != "/" || ck.MaxAge != 900 || ck.Value == "" {
		t.Errorf("cookie: %+v (header %q)", ck, r.Header.Get("Set-Cookie"))
	}

	withCookie := func(v string) *apitest.Response {
		return c.raw(apitest.Request{Method: "POST", Path: "/api/web/v4/userspaged", Body: `{}`,
			Header: map[string]string{"Cookie": "INTELLITRUST_SESSION_ID=" + v}})
	}
	mustStatus(t, withCookie(ck.Value), 200)
	mustStatus(t, withCookie("forged"), 401)
	env.Clock.Advance(15 * time.Minute)
	mustStatus(t, withCookie(ck.Value), 401)
}
