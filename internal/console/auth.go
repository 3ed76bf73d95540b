package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// Cookie names. Both are HttpOnly, SameSite=Strict, Path=/console/, and
// Secure over TLS. (A __Host- prefix would need Path=/.)
const (
	sessionCookie = "roster_console"
	// preCookie ties the sign-in form's CSRF token to the browser that
	// loaded it, before there is a session (login CSRF).
	preCookie = "roster_console_pre"
)

// csrfField is the form field every POST carries.
const csrfField = "csrf"

// maxForm bounds a console form body; the largest is a few hundred
// bytes.
const maxForm = 16 << 10

// signInFailed is the one message for every failed sign-in: unknown
// e-mail, wrong password and locked account read the same, so the page
// tells an attacker nothing about which accounts exist or are locked.
const signInFailed = "Sign-in failed. Check the e-mail address and password. After repeated failures an account is locked for a while."

// session is the signed-in operator of a request.
type session struct {
	op   *directory.Operator
	hash []byte // of the session token
	csrf string // the token forms must carry
}

type ctxKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(ctxKey{}).(*session)
	return s
}

// newToken returns 256 random bits, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken derives a form token from a cookie's token: HMAC-SHA256
// keyed by the token, over the purpose. It is the synchronizer token of
// the session: only a page served to the session's browser shows it,
// another site can neither read nor compute it, and the server keeps no
// plain copy (it stores only the session token's hash, and derives this
// from the cookie each request).
func csrfToken(token, purpose string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("roster-console-csrf:" + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue(csrfField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

var errForbidden = &pageError{status: http.StatusForbidden, msg: "Viewers cannot change anything or reveal SSNs; ask an admin."}

var errCSRF = &pageError{status: http.StatusForbidden,
	msg: "This form has expired or did not come from this console. Reload the page and try again."}

func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil || c.o.SecureCookies, SameSite: http.SameSiteStrictMode}
}

// parseForm reads a bounded urlencoded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &pageError{status: http.StatusRequestEntityTooLarge, msg: "That form is too large."}
		}
		return &pageError{status: http.StatusBadRequest, msg: "That form could not be read."}
	}
	return nil
}

// authed wraps a page that needs a signed-in operator: without a valid
// session a GET is sent to the sign-in page, anything else answered 401.
// Every POST must carry the session's CSRF token; with adminOnly, a
// viewer is answered 403.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request) error, adminOnly bool) http.Handler {
	return c.page(func(w http.ResponseWriter, r *http.Request) error {
		s, err := c.resume(w, r)
		if err != nil {
			return err
		}
		if s == nil {
			if r.Method == http.MethodGet && r.Header.Get("X-Console-Fetch") == "" {
				http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
				return nil
			}
			return &pageError{status: http.StatusUnauthorized, msg: "Your session has ended. Sign in again."}
		}
		if r.Method == http.MethodPost {
			if err := parseForm(w, r); err != nil {
				return err
			}
			if !validCSRF(r, s.csrf) {
				return errCSRF
			}
		}
		// Changes made through the console are audited as the operator.
		r = r.WithContext(directory.WithActor(context.WithValue(r.Context(), ctxKey{}, s), actor(s.op)))
		err = errForbidden
		if !adminOnly || s.op.Role == directory.RoleAdmin {
			err = h(w, r)
		}
		if err != nil {
			c.fail(w, r, err) // with the session: the error page keeps the navigation
		}
		return nil
	})
}

// actor is an operator's name in the audit log.
func actor(o *directory.Operator) string { return "operator:" + o.Email }

// resume returns the request's session, or nil when it has none that is
// valid (absent, unknown, expired, idle too long, or its operator gone).
func (c *Console) resume(w http.ResponseWriter, r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil, nil
	}
	hash := secret.Hash(ck.Value)
	ss, err := c.st.GetOperatorSession(r.Context(), hash)
	if errors.Is(err, directory.ErrNotFound) {
		http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resume session: %w", err)
	}
	now := c.o.Now()
	if !now.Before(ss.ExpiresAt) || now.Sub(ss.LastSeenAt) >= c.o.SessionIdle {
		_ = c.st.DeleteOperatorSession(r.Context(), hash)
		http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
		return nil, nil
	}
	op, err := c.st.GetOperator(r.Context(), ss.OperatorID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resume session: %w", err)
	}
	// The idle clock is written at most once a minute, not per request.
	if now.Sub(ss.LastSeenAt) >= time.Minute {
		if err := c.st.TouchOperatorSession(r.Context(), hash, now); err != nil {
			return nil, fmt.Errorf("resume session: %w", err)
		}
	}
	return &session{op: op, hash: hash, csrf: csrfToken(ck.Value, "session")}, nil
}

type signInView struct {
	base
	Email string
}

// signInPage shows the sign-in form, with a fresh pre-session cookie
// whose derived token the form carries.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) error {
	if s, err := c.resume(w, r); err == nil && s != nil {
		http.Redirect(w, r, "/console/tenants", http.StatusSeeOther)
		return nil
	}
	return c.renderSignIn(w, r, http.StatusOK, "", "")
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, email, msg string) error {
	pre := newToken()
	http.SetCookie(w, c.cookie(r, preCookie, pre, 3600))
	b := c.base(r, "Sign in")
	b.CSRF, b.Error = csrfToken(pre, "sign-in"), msg
	return c.render(w, r, status, "sign-in", signInView{base: b, Email: email})
}

// signIn checks the e-mail and password. Every failure, whatever its
// cause, costs one argon2id verification and answers signInFailed.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	pre, err := r.Cookie(preCookie)
	if err != nil || !validCSRF(r, csrfToken(pre.Value, "sign-in")) {
		return c.renderSignIn(w, r, http.StatusForbidden, "", errCSRF.msg)
	}
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	if !plainText(email, 254) || len(password) > MaxPasswordLen {
		_, _ = VerifyPassword(dummyHash(), "")
		return c.renderSignIn(w, r, http.StatusUnauthorized, "", signInFailed)
	}
	now := c.o.Now()
	op, err := c.st.GetOperatorByEmail(r.Context(), NormalizeEmail(email))
	if errors.Is(err, directory.ErrNotFound) {
		_, _ = VerifyPassword(dummyHash(), password)
		return c.renderSignIn(w, r, http.StatusUnauthorized, email, signInFailed)
	}
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if now.Before(op.LockedUntil) {
		// Locked: the password is not even checked, so guessing on
		// during the lock-out learns nothing.
		_, _ = VerifyPassword(dummyHash(), password)
		return c.renderSignIn(w, r, http.StatusUnauthorized, email, signInFailed)
	}
	if ok, _ := VerifyPassword(op.PasswordHash, password); !ok {
		until, err := c.st.RecordSignInFailure(r.Context(), op.ID, now, c.o.Lockout.Window, c.o.Lockout.Limit, c.o.Lockout.Duration)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		if !until.IsZero() {
			c.o.Logger.Warn("console operator locked out", "operator", op.ID, "until", until.Format(time.RFC3339))
		}
		return c.renderSignIn(w, r, http.StatusUnauthorized, email, signInFailed)
	}
	if err := c.st.RecordSignIn(r.Context(), op.ID, now); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	// A new token on every sign-in: a session id planted before it
	// (session fixation) never becomes signed in.
	tok := newToken()
	ss := &directory.OperatorSession{Hash: secret.Hash(tok), OperatorID: op.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(c.o.SessionTTL)}
	if err := c.st.CreateOperatorSession(r.Context(), ss); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		_ = c.st.DeleteOperatorSession(r.Context(), secret.Hash(old.Value))
	}
	http.SetCookie(w, c.cookie(r, preCookie, "", -1))
	http.SetCookie(w, c.cookie(r, sessionCookie, tok, int(c.o.SessionTTL/time.Second)))
	http.Redirect(w, r, "/console/tenants", http.StatusSeeOther)
	return nil
}

// signOut ends the session in the database, not only in the browser.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	s := sessionFrom(r.Context())
	if err := c.st.DeleteOperatorSession(r.Context(), s.hash); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
	return nil
}

// PurgeSessions deletes expired and idle sessions; roster serve runs it
// with its other purges.
func (c *Console) PurgeSessions(ctx context.Context) (int64, error) {
	now := c.o.Now()
	return c.st.DeleteExpiredOperatorSessions(ctx, now, now.Add(-c.o.SessionIdle))
}
