package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Store is the storage the console needs beside the directory.Service:
// operators, their sessions, the audit entry of an SSN reveal, and the
// two reads the core's listings cannot do fast (user search by prefix,
// the audit log newest first). *store.Store implements it
// (internal/store/operators.go, search.go).
type Store interface {
	OperatorStore
	// GetOperatorByEmail returns the operator with this normalised
	// e-mail, or ErrNotFound.
	GetOperatorByEmail(ctx context.Context, emailNorm string) (*directory.Operator, error)
	// GetOperator returns the operator with id, or ErrNotFound.
	GetOperator(ctx context.Context, id string) (*directory.Operator, error)
	// RecordSignInFailure counts a failed sign-in and returns the end of
	// the lock-out it caused (zero: none).
	RecordSignInFailure(ctx context.Context, id string, at time.Time, window time.Duration, limit int, lockFor time.Duration) (time.Time, error)
	// RecordSignIn clears the failures and notes a sign-in.
	RecordSignIn(ctx context.Context, id string, at time.Time) error
	CreateOperatorSession(ctx context.Context, s *directory.OperatorSession) error
	// GetOperatorSession returns the session with this hash, or
	// ErrNotFound.
	GetOperatorSession(ctx context.Context, hash []byte) (*directory.OperatorSession, error)
	TouchOperatorSession(ctx context.Context, hash []byte, at time.Time) error
	DeleteOperatorSession(ctx context.Context, hash []byte) error
	DeleteExpiredOperatorSessions(ctx context.Context, before, idleBefore time.Time) (int64, error)
	// RecordAudit writes one audit entry, durably, on its own.
	RecordAudit(ctx context.Context, e *directory.AuditEntry) error
	// SearchUsers returns a page of a tenant's users matching q by
	// prefix, and whether more match.
	SearchUsers(ctx context.Context, tenantID, q string, offset, limit int) ([]*directory.User, bool, error)
	// SearchAudit returns a page of a tenant's audit log, newest first,
	// and whether older entries match.
	SearchAudit(ctx context.Context, tenantID string, q directory.AuditSearch) ([]*directory.AuditEntry, bool, error)
}

// Lockout bounds failed sign-ins per operator: Limit failures within
// Window lock the operator out for Duration, whatever password is sent.
type Lockout struct {
	Limit    int
	Window   time.Duration
	Duration time.Duration
}

// DefaultLockout: 5 failures within 15 minutes lock an operator out for
// 15 minutes (docs/CONSOLE.md#lock-out).
var DefaultLockout = Lockout{Limit: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}

// Session lifetimes: a session ends 12 hours after sign-in, or after 30
// minutes without a request, whichever is first.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultSessionIdle = 30 * time.Minute
)

// Options configure the console.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now     func() time.Time
	Lockout Lockout // zero: DefaultLockout
	// SessionTTL and SessionIdle bound a session (0: the defaults).
	SessionTTL, SessionIdle time.Duration
	// SecureCookies marks cookies Secure on plain HTTP too: for a
	// console behind a proxy that ends TLS. Over TLS they always are.
	SecureCookies bool
}

// Console serves the admin console. It is safe for concurrent use.
type Console struct {
	svc   *directory.Service
	st    Store
	o     Options
	pages map[string]*template.Template
	mux   *http.ServeMux
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the console over svc and st.
func New(svc *directory.Service, st Store, o Options) *Console {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lockout.Limit <= 0 {
		o.Lockout = DefaultLockout
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	c := &Console{svc: svc, st: st, o: o, pages: parsePages()}
	c.routes()
	return c
}

// pageNames are the templates/NAME.html files that are whole pages; each
// is parsed with the layout and the fragments.
var pageNames = []string{"sign-in", "tenants", "credentials", "users", "user", "audit", "error"}

func parsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/fragments.html", "templates/"+name+".html"))
	}
	return pages
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"timep": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join": strings.Join,
	"dflt": func(s, alt string) string {
		if s == "" {
			return alt
		}
		return s
	},
}

func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler(http.FileServerFS(static))))
	m.HandleFunc("GET /console/{$}", c.home)
	m.Handle("GET /console/sign-in", c.page(c.signInPage))
	m.Handle("POST /console/sign-in", c.page(c.signIn))
	m.Handle("POST /console/sign-out", c.authed(c.signOut, false))
	m.Handle("GET /console/tenants", c.authed(c.tenants, false))
	m.Handle("POST /console/tenants", c.authed(c.createTenant, true))
	m.Handle("GET /console/tenants/{tenant}/credentials", c.authed(c.credentials, false))
	m.Handle("POST /console/tenants/{tenant}/credentials", c.authed(c.createCredential, true))
	m.Handle("POST /console/tenants/{tenant}/credentials/{client}/revoke", c.authed(c.revokeCredential, true))
	m.Handle("GET /console/tenants/{tenant}/users", c.authed(c.users, false))
	m.Handle("GET /console/tenants/{tenant}/users/results", c.authed(c.userResults, false))
	m.Handle("GET /console/tenants/{tenant}/users/{id}", c.authed(c.user, false))
	m.Handle("POST /console/tenants/{tenant}/users/{id}/reveal-ssn", c.authed(c.revealSSN, true))
	m.Handle("GET /console/tenants/{tenant}/audit", c.authed(c.audit, false))
	m.Handle("/console/", c.page(func(w http.ResponseWriter, r *http.Request) error {
		return &pageError{status: http.StatusNotFound, msg: "There is no such page."}
	}))
	c.mux = m
}

// ServeHTTP serves everything under Prefix. Every answer is HTML (or
// an embedded asset); none may be cached, framed, or load anything from
// elsewhere.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpapi.InfoFrom(r.Context()).Dialect = "console"
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	c.mux.ServeHTTP(w, r)
}

// staticHandler serves the embedded assets; they change only with the
// binary, so a browser may keep them for an hour.
func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/tenants", http.StatusSeeOther)
}

// pageError is an error with the status and the message an operator
// sees; any other error is a 500 with a fixed message.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

// errorStatus maps an error to the status and message shown.
func errorStatus(err error) (int, string) {
	var pe *pageError
	var ve *directory.ValidationError
	var ce *directory.ConflictError
	switch {
	case errors.As(err, &pe):
		return pe.status, pe.msg
	case errors.As(err, &ve):
		msgs := make([]string, len(ve.Errors))
		for i, fe := range ve.Errors {
			msgs[i] = fe.Message
		}
		return http.StatusBadRequest, strings.Join(msgs, "; ")
	case errors.As(err, &ce):
		return http.StatusConflict, fmt.Sprintf("That %s is already taken.", strings.ReplaceAll(string(ce.Field), "_", " "))
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, "Not found."
	case errors.Is(err, directory.ErrInvalidFilter):
		return http.StatusBadRequest, "That search cannot be run: use up to 256 characters of text."
	case errors.Is(err, context.Canceled):
		return 499, "The request was cancelled."
	}
	return http.StatusInternalServerError, "Something went wrong on the server."
}

// base is what every page's template reads.
type base struct {
	Title     string
	Operator  *directory.Operator // nil before sign-in
	CSRF      string
	Tenant    string // the tenant the page is about, "" for none
	Nav       string // the current navigation entry
	RequestID string
	Error     string
	Notice    string
}

// IsAdmin reports whether the signed-in operator is an admin.
func (b base) IsAdmin() bool { return b.Operator != nil && b.Operator.Role == directory.RoleAdmin }

func (c *Console) base(r *http.Request, title string) base {
	b := base{Title: title, RequestID: httpapi.RequestIDFrom(r.Context()), Tenant: r.PathValue("tenant")}
	if s := sessionFrom(r.Context()); s != nil {
		b.Operator, b.CSRF = s.op, s.csrf
	}
	return b
}

// render writes page name with data and status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("render: no page %q", name)
	}
	var sb strings.Builder
	if err := t.ExecuteTemplate(&sb, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, sb.String())
	return nil
}

// fragment writes one named template of page name alone (the instant
// search results).
func (c *Console) fragment(w http.ResponseWriter, page, name string, data any) error {
	var sb strings.Builder
	if err := c.pages[page].ExecuteTemplate(&sb, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, sb.String())
	return nil
}

// page adapts a handler that returns an error: the error becomes an
// error page with its status, and a 5xx's cause goes to the access log
// only.
func (c *Console) page(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			c.fail(w, r, err)
		}
	})
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := errorStatus(err)
	if status >= 500 {
		httpapi.InfoFrom(r.Context()).Err = err
	}
	if status == 499 {
		return
	}
	b := c.base(r, "Error")
	b.Error = msg
	if rerr := c.render(w, r, status, "error", struct{ base }{b}); rerr != nil {
		http.Error(w, msg, status)
	}
}
