package console_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h := console.HashPassword(testPassword)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want an argon2id PHC string with OWASP's parameters", h)
	}
	if h2 := console.HashPassword(testPassword); h2 == h {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	for _, c := range []struct {
		name, hash, pw string
		want           bool
		wantErr        bool
	}{
		{"right", h, testPassword, true, false},
		{"wrong", h, testPassword + "x", false, false},
		{"empty", h, "", false, false},
		{"not phc", "plaintext", testPassword, false, true},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", testPassword, false, true},
		{"huge memory", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$aGFzaA", testPassword, false, true},
		{"bad base64", "$argon2id$v=19$m=19456,t=2,p=1$!!$!!", testPassword, false, true},
	} {
		got, err := console.VerifyPassword(c.hash, c.pw)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("%s: got %v, %v; want %v, error %v", c.name, got, err, c.want, c.wantErr)
		}
	}
}

func TestCreateOperatorValidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.operator("Ann@Example.com", directory.RoleAdmin)
	for _, c := range []struct {
		name, email  string
		role         directory.Role
		pw           string
		wantConflict bool
	}{
		{"bad email", "not-an-email", directory.RoleAdmin, testPassword, false},
		{"bad role", "bob@example.com", "root", testPassword, false},
		{"short password", "bob@example.com", directory.RoleViewer, "short", false},
		{"long password", "bob@example.com", directory.RoleViewer, strings.Repeat("x", console.MaxPasswordLen+1), false},
		{"taken email, other case", "ann@EXAMPLE.com", directory.RoleViewer, testPassword, true},
	} {
		_, err := console.CreateOperator(t.Context(), e.st, c.email, c.role, c.pw, e.clock.Now())
		var ve *directory.ValidationError
		var ce *directory.ConflictError
		switch {
		case c.wantConflict && !errors.As(err, &ce):
			t.Errorf("%s: got %v, want a *ConflictError", c.name, err)
		case !c.wantConflict && !errors.As(err, &ve):
			t.Errorf("%s: got %v, want a *ValidationError", c.name, err)
		}
	}
}

// TestSession: sign-in sets a session cookie with the right attributes,
// stored only as a hash; the session works, then sign-out ends it in the
// database (the old cookie no longer signs in).
func TestSession(t *testing.T) {
	t.Parallel()
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.operator("ann@example.com", directory.RoleAdmin)
		b := e.browser()

		if a := b.get("/console/tenants"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/sign-in" {
			t.Fatalf("signed out GET /console/tenants: got %d %q, want 303 to sign-in", a.status, a.header.Get("Location"))
		}
		a := b.signIn("ANN@example.com ", testPassword)
		if a.status != http.StatusSeeOther {
			t.Fatalf("sign in: got %d, want 303; body %s", a.status, a.body)
		}
		var tok string
		for _, sc := range a.header.Values("Set-Cookie") {
			if !strings.HasPrefix(sc, "roster_console=") {
				continue
			}
			tok = strings.TrimPrefix(strings.SplitN(sc, ";", 2)[0], "roster_console=")
			for _, want := range []string{"Path=/console/", "HttpOnly", "SameSite=Strict"} {
				if !strings.Contains(sc, want) {
					t.Errorf("session cookie %q lacks %s", sc, want)
				}
			}
			if strings.Contains(sc, "Secure") {
				t.Errorf("session cookie %q is Secure on plain HTTP (a browser would drop it)", sc)
			}
		}
		if len(tok) < 43 {
			t.Fatalf("no session cookie of 256 bits in %q", a.header.Values("Set-Cookie"))
		}
		if _, err := e.st.GetOperatorSession(t.Context(), secret.Hash(tok)); err != nil {
			t.Errorf("session by hash of its token: %v", err)
		}
		if _, err := e.st.GetOperatorSession(t.Context(), []byte(tok)); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("session by its plain token: got %v, want ErrNotFound (only the hash is stored)", err)
		}

		page := b.get("/console/tenants")
		if page.status != http.StatusOK || !strings.Contains(page.body, "ann@example.com") {
			t.Fatalf("GET /console/tenants signed in: got %d, want 200 naming the operator; body %s", page.status, page.body)
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
			if got := page.header.Get(h); got != want {
				t.Errorf("%s: got %q, want %q", h, got, want)
			}
		}
		if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("Content-Security-Policy %q: want scripts from the console only", csp)
		}

		if a := b.postWithCSRF("/console/tenants", "/console/sign-out", nil); a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/sign-in" {
			t.Fatalf("sign out: got %d %q, want 303 to sign-in", a.status, a.header.Get("Location"))
		}
		if _, err := e.st.GetOperatorSession(t.Context(), secret.Hash(tok)); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("session after sign-out: got %v, want ErrNotFound", err)
		}
		// A copy of the old cookie is worth nothing now.
		stale := e.browser()
		u, _ := url.Parse(e.srv.URL + "/console/")
		stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: "roster_console", Value: tok, Path: "/console/"}})
		if a := stale.get("/console/tenants"); a.status != http.StatusSeeOther {
			t.Errorf("old cookie after sign-out: got %d, want 303 to sign-in", a.status)
		}
	})
}

// TestSessionExpiry: a session idle for 30 minutes, or 12 hours old,
// ends.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.operator("ann@example.com", directory.RoleViewer)
	b := e.browser()
	b.mustSignIn("ann@example.com")
	e.clock.Advance(29 * time.Minute)
	if a := b.get("/console/tenants"); a.status != http.StatusOK {
		t.Fatalf("after 29 idle minutes: got %d, want 200", a.status)
	}
	e.clock.Advance(31 * time.Minute)
	if a := b.get("/console/tenants"); a.status != http.StatusSeeOther {
		t.Fatalf("after 31 idle minutes: got %d, want 303 to sign-in", a.status)
	}

	b.mustSignIn("ann@example.com")
	for range 12 * 3 { // active every 20 minutes for 12 hours
		e.clock.Advance(20 * time.Minute)
		b.get("/console/tenants")
	}
	if a := b.get("/console/tenants"); a.status != http.StatusSeeOther {
		t.Fatalf("12 hours after sign-in: got %d, want 303 to sign-in", a.status)
	}
	if n, err := e.con.PurgeSessions(t.Context()); err != nil || n != 0 {
		t.Errorf("purge: got %d, %v; want 0 left to purge (expired sessions are deleted when seen)", n, err)
	}
}

// TestCSRF: every form needs the token of its own session.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.operator("ann@example.com", directory.RoleAdmin)
	e.operator("bob@example.com", directory.RoleAdmin)
	ann, bob := e.browser(), e.browser()
	ann.mustSignIn("ann@example.com")
	bob.mustSignIn("bob@example.com")
	bobs := bob.csrf("/console/tenants")
	for _, c := range []struct {
		name string
		csrf string
	}{
		{"no token", ""},
		{"wrong token", "AAAA"},
		{"another session's token", bobs},
	} {
		form := url.Values{"name": {"t1"}, "unique": {"email"}}
		if c.csrf != "" {
			form.Set("csrf", c.csrf)
		}
		if a := ann.post("/console/tenants", form); a.status != http.StatusForbidden {
			t.Errorf("%s: got %d, want 403", c.name, a.status)
		}
	}
	if _, err := e.svc.TenantByName(t.Context(), "t1"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("tenant t1 after refused forms: got %v, want ErrNotFound", err)
	}
	if a := ann.postWithCSRF("/console/tenants", "/console/tenants", url.Values{"name": {"t1"}, "unique": {"email"}}); a.status != http.StatusCreated {
		t.Errorf("with the right token: got %d, want 201; body %s", a.status, a.body)
	}
	// Sign-out is a form too: without the token it does nothing.
	if a := ann.post("/console/sign-out", url.Values{}); a.status != http.StatusForbidden {
		t.Errorf("sign-out without token: got %d, want 403", a.status)
	}
	// The sign-in form's token is tied to the browser's pre-session cookie.
	fresh := e.browser()
	tok := fresh.csrf("/console/sign-in")
	other := e.browser()
	if a := other.post("/console/sign-in", url.Values{"csrf": {tok}, "email": {"ann@example.com"}, "password": {testPassword}}); a.status != http.StatusForbidden {
		t.Errorf("sign-in with another browser's token: got %d, want 403", a.status)
	}
}

// TestLockout: five failures within 15 minutes lock the operator out
// for 15 minutes, the right password included; every failure reads the
// same as an unknown e-mail.
func TestLockout(t *testing.T) {
	t.Parallel()
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.operator("ann@example.com", directory.RoleAdmin)
		b := e.browser()
		for _, email := range []string{"\xff@example.com", "a\x00@example.com", strings.Repeat("a", 300)} {
			if a := b.signIn(email, testPassword); a.status != http.StatusUnauthorized {
				t.Errorf("sign-in as %q: got %d, want 401", email, a.status)
			}
		}
		unknown := b.signIn("nobody@example.com", testPassword)
		if unknown.status != http.StatusUnauthorized {
			t.Fatalf("unknown e-mail: got %d, want 401", unknown.status)
		}
		msg := "Sign-in failed. Check the e-mail address and password."
		if !strings.Contains(unknown.body, msg) {
			t.Fatalf("unknown e-mail: body lacks the generic message: %s", unknown.body)
		}
		// Four failures, a pause longer than the window, four more: the
		// window restarted, so not locked.
		for range 4 {
			b.signIn("ann@example.com", "wrong password 1")
		}
		e.clock.Advance(16 * time.Minute)
		for range 4 {
			if a := b.signIn("ann@example.com", "wrong password 2"); a.status != http.StatusUnauthorized || !strings.Contains(a.body, msg) {
				t.Fatalf("wrong password: got %d, want 401 with the generic message", a.status)
			}
		}
		e.browser().mustSignIn("ann@example.com") // and a success clears the count
		for range 4 {
			b.signIn("ann@example.com", "wrong password 3")
		}
		e.browser().mustSignIn("ann@example.com")

		for range 5 {
			b.signIn("ann@example.com", "wrong password 4")
		}
		locked := b.signIn("ann@example.com", testPassword)
		if locked.status != http.StatusUnauthorized || !strings.Contains(locked.body, msg) {
			t.Fatalf("right password while locked: got %d, want 401 with the generic message", locked.status)
		}
		e.clock.Advance(14 * time.Minute)
		if a := b.signIn("ann@example.com", testPassword); a.status != http.StatusUnauthorized {
			t.Fatalf("right password 14 minutes into the lock-out: got %d, want 401", a.status)
		}
		e.clock.Advance(2 * time.Minute)
		b.mustSignIn("ann@example.com")
	})
}

// seedUser creates a user in tenant through the Service.
func (e *env) seedUser(tenant string, u *directory.User) *directory.User {
	e.t.Helper()
	tn, err := e.svc.TenantByName(e.t.Context(), tenant)
	if err != nil {
		e.t.Fatalf("tenant: %v", err)
	}
	p := directory.Principal{TenantID: tn.ID, TenantName: tn.Name, Unique: tn.Unique}
	got, err := e.svc.CreateUser(e.t.Context(), p, u, directory.Rules{})
	if err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	return got
}

// TestViewerAndAdmin: a viewer reads every page but changes nothing and
// never sees an SSN; an admin reveals one, and the reveal is audited.
func TestViewerAndAdmin(t *testing.T) {
	t.Parallel()
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.operator("viv@example.com", directory.RoleViewer)
		e.operator("ann@example.com", directory.RoleAdmin)
		if _, err := e.svc.CreateTenant(t.Context(), "acme", directory.UniquePolicy{}); err != nil {
			t.Fatal(err)
		}
		cr, sec, err := e.svc.CreateCredential(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(t.Context(), cr.ClientID, sec); err != nil {
			t.Fatal(err)
		}
		u := e.seedUser("acme", &directory.User{FirstName: "Maria", LastName: "Garcia", Email: "maria@example.com", SSN: secret.Value("222336789"),
			Aliases: []directory.Alias{{Type: "CUSTOM", Value: "maria-alias"}}, Extras: map[string]string{"tosAnswer": "yes"}})
		p := directory.Principal{TenantID: u.TenantID, TenantName: "acme"}
		if _, err := e.svc.CreateGroup(t.Context(), p, &directory.Group{DisplayName: "Payroll", Members: []directory.Member{{UserID: u.ID}}}); err != nil {
			t.Fatal(err)
		}
		userPage := "/console/tenants/acme/users/" + u.ID
		viewer := e.browser()
		viewer.mustSignIn("viv@example.com")
		for _, p := range []string{"/console/tenants", "/console/tenants/acme/users", "/console/tenants/acme/credentials", userPage, "/console/tenants/acme/audit"} {
			a := viewer.get(p)
			if a.status != http.StatusOK {
				t.Errorf("viewer GET %s: got %d, want 200", p, a.status)
			}
			if strings.Contains(a.body, "222336789") || strings.Contains(a.body, "222-33-6789") {
				t.Errorf("viewer GET %s shows the SSN", p)
			}
			for _, form := range []string{`action="/console/tenants"`, "reveal-ssn", "/revoke", `action="/console/tenants/acme/credentials"`} {
				if strings.Contains(a.body, form) {
					t.Errorf("viewer GET %s offers the admin form %s", p, form)
				}
			}
		}
		if a := viewer.get("/console/tenants/acme/credentials"); !regexpMust(`<td><code>` + cr.ClientID + `</code></td><td>2026-[^<]+</td><td>2026-[^<]+ UTC</td>`).MatchString(a.body) {
			t.Errorf("credentials page: no last-used time for the credential just used")
		}
		page := viewer.get(userPage)
		if !strings.Contains(page.body, "***-**-6789") {
			t.Errorf("viewer's user page: no masked SSN ***-**-6789")
		}
		for _, want := range []string{"maria@example.com", "maria-alias", "Payroll", "tosAnswer", directory.ActionUserCreate} {
			if !strings.Contains(page.body, want) {
				t.Errorf("user page lacks %q (fields, aliases, groups, extras, audit history)", want)
			}
		}
		for _, c := range []struct{ path string }{
			{"/console/tenants"},
			{"/console/tenants/acme/credentials"},
			{"/console/tenants/acme/credentials/" + cr.ClientID + "/revoke"},
			{userPage + "/reveal-ssn"},
		} {
			a := viewer.postWithCSRF("/console/tenants", c.path, url.Values{"name": {"viewer-made"}})
			if a.status != http.StatusForbidden {
				t.Errorf("viewer POST %s: got %d, want 403", c.path, a.status)
			}
			if strings.Contains(a.body, "6789") && strings.Contains(a.body, "222") {
				t.Errorf("viewer POST %s: the answer shows the SSN", c.path)
			}
		}
		if _, err := e.svc.TenantByName(t.Context(), "viewer-made"); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("viewer's tenant: got %v, want none", err)
		}
		cs, _ := e.svc.ListCredentials(t.Context(), "acme")
		if len(cs) != 1 || cs[0].RevokedAt != nil {
			t.Errorf("credentials after viewer's posts: %d, revoked %v; want the one, active", len(cs), cs[0].RevokedAt)
		}
		reveals := func() []*directory.AuditEntry {
			es, _, err := e.st.SearchAudit(t.Context(), u.TenantID, directory.AuditSearch{Action: directory.ActionUserSSNRevealed})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		if n := len(reveals()); n != 0 {
			t.Fatalf("reveal entries after the viewer: %d, want 0", n)
		}

		admin := e.browser()
		admin.mustSignIn("ann@example.com")
		if a := admin.get(userPage); !strings.Contains(a.body, "***-**-6789") || strings.Contains(a.body, "222-33-6789") || !strings.Contains(a.body, "reveal-ssn") {
			t.Errorf("admin's user page: want the SSN masked with a reveal button")
		}
		a := admin.postWithCSRF(userPage, userPage+"/reveal-ssn", nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "222-33-6789") {
			t.Fatalf("admin reveal: got %d, want 200 showing 222-33-6789", a.status)
		}
		es := reveals()
		if len(es) != 1 {
			t.Fatalf("reveal entries: %d, want 1", len(es))
		}
		if got := es[0]; got.Actor != "operator:ann@example.com" || got.TargetID != u.ID || got.TargetType != directory.TargetUser || got.RequestID == "" {
			t.Errorf("reveal entry: %+v; want actor operator:ann@example.com, target the user, a request id", got)
		}
		// The reveal is on the user's audit history, for the viewer too.
		if a := viewer.get(userPage); !strings.Contains(a.body, directory.ActionUserSSNRevealed) {
			t.Errorf("user page audit history lacks the reveal")
		}

		// Admin writes are audited as the operator.
		if a := admin.postWithCSRF("/console/tenants", "/console/tenants/acme/credentials/"+cr.ClientID+"/revoke", nil); a.status != http.StatusOK {
			t.Errorf("admin revoke: got %d, want 200", a.status)
		}
		rev, _, _ := e.st.SearchAudit(t.Context(), u.TenantID, directory.AuditSearch{Action: directory.ActionCredentialRevoke})
		if len(rev) != 1 || rev[0].Actor != "operator:ann@example.com" {
			t.Errorf("revoke audit: %+v, want one entry by operator:ann@example.com", rev)
		}
		a = admin.postWithCSRF("/console/tenants/acme/credentials", "/console/tenants/acme/credentials", nil)
		if a.status != http.StatusCreated || !strings.Contains(a.body, "rsk_") {
			t.Errorf("admin create credential: got %d, want 201 showing the secret", a.status)
		}
		if b := admin.get("/console/tenants/acme/credentials"); strings.Contains(b.body, "rsk_") {
			t.Errorf("credentials page shows a secret after its creation answer")
		}
	})
}

// TestTenantsPage: create with a uniqueness policy; taken and invalid
// names are 4xx pages.
func TestTenantsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.operator("ann@example.com", directory.RoleAdmin)
	b := e.browser()
	b.mustSignIn("ann@example.com")
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"created", url.Values{"name": {"acme"}, "unique": {"email", "external_id"}}, http.StatusCreated},
		{"taken", url.Values{"name": {"acme"}}, http.StatusConflict},
		{"bad name", url.Values{"name": {"no spaces"}}, http.StatusBadRequest},
		{"empty name", url.Values{"name": {""}}, http.StatusBadRequest},
		{"unknown unique", url.Values{"name": {"x"}, "unique": {"ssn"}}, http.StatusBadRequest},
	} {
		if a := b.postWithCSRF("/console/tenants", "/console/tenants", c.form); a.status != c.status {
			t.Errorf("%s: got %d, want %d; body %s", c.name, a.status, c.status, a.body)
		}
	}
	tn, err := e.svc.TenantByName(t.Context(), "acme")
	if err != nil || tn.Unique != (directory.UniquePolicy{Email: true, ExternalID: true}) {
		t.Errorf("tenant acme: %+v, %v; want unique email and external_id", tn, err)
	}
	if a := b.get("/console/tenants"); !strings.Contains(a.body, "email, external_id") {
		t.Errorf("tenants page does not show acme's policy")
	}
}

// TestSearch: every identifier finds its user by prefix, instant results
// come as a fragment, and bad input is a 400.
func TestSearch(t *testing.T) {
	t.Parallel()
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.operator("viv@example.com", directory.RoleViewer)
		if _, err := e.svc.CreateTenant(t.Context(), "acme", directory.UniquePolicy{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateTenant(t.Context(), "other", directory.UniquePolicy{}); err != nil {
			t.Fatal(err)
		}
		e.seedUser("acme", &directory.User{FirstName: "Maria", LastName: "Garcia", Email: "Maria.Garcia@example.com",
			Phone: "+14155554193", Username: "mgarcia", ExternalID: "EXT-67890"})
		e.seedUser("acme", &directory.User{FirstName: "Mario", LastName: "Rossi", Email: "mario@example.org"})
		e.seedUser("other", &directory.User{FirstName: "Maria", LastName: "Other", Email: "maria@other.example"})
		for i := range 30 {
			e.seedUser("acme", &directory.User{FirstName: fmt.Sprintf("Zed%02d", i), LastName: "Page"})
		}
		b := e.browser()
		b.mustSignIn("viv@example.com")
		for _, c := range []struct {
			q       string
			want    []string
			notWant []string
		}{
			{"maria", []string{"Maria Garcia"}, []string{"Mario", "Other"}},
			{"MAR", []string{"Maria Garcia", "Mario Rossi"}, []string{"Other"}},
			{"maria.garcia@", []string{"Maria Garcia"}, nil},
			{"+1415555", []string{"Maria Garcia"}, nil},
			{"(415) 555-4193", []string{"Maria Garcia"}, nil},
			{"mgar", []string{"Maria Garcia"}, nil},
			{"EXT-678", []string{"Maria Garcia"}, nil},
			{"ext-678", nil, []string{"Maria Garcia"}}, // external ids compare as stored
			{"Maria Gar", []string{"Maria Garcia"}, []string{"Mario"}},
			{"garcia", []string{"Maria Garcia"}, nil},
			{"nobody", nil, []string{"Maria", "Mario"}},
			{"<script>", nil, []string{"<script>"}},
		} {
			a := b.get("/console/tenants/acme/users/results?q=" + url.QueryEscape(c.q))
			if a.status != http.StatusOK {
				t.Errorf("q=%q: got %d, want 200", c.q, a.status)
				continue
			}
			if !strings.HasPrefix(a.body, `<div id="results"`) || strings.Contains(a.body, "<html") {
				t.Errorf("q=%q: want the results fragment alone, got %.80s", c.q, a.body)
			}
			for _, w := range c.want {
				if !strings.Contains(a.body, w) {
					t.Errorf("q=%q: results lack %q", c.q, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(a.body, w) {
					t.Errorf("q=%q: results show %q", c.q, w)
				}
			}
		}
		// Paging: 30 Zed users are two pages of 25.
		p1 := b.get("/console/tenants/acme/users?q=zed")
		p2 := b.get("/console/tenants/acme/users?q=zed&page=2")
		if n := strings.Count(p1.body, "Zed"); n != 25 || !strings.Contains(p1.body, "Next page") {
			t.Errorf("page 1: %d Zed rows, want 25 and a next link", n)
		}
		if n := strings.Count(p2.body, "Zed"); n != 5 || strings.Contains(p2.body, "Next page") || !strings.Contains(p2.body, "Previous page") {
			t.Errorf("page 2: %d Zed rows, want 5, a previous link and no next", n)
		}
		if all := b.get("/console/tenants/acme/users"); strings.Count(all.body, "/console/tenants/acme/users/0") != 25 {
			t.Errorf("no query: want the first 25 users listed")
		}
		for _, c := range []struct {
			path   string
			status int
		}{
			{"/console/tenants/acme/users?q=" + strings.Repeat("a", 257), http.StatusBadRequest},
			{"/console/tenants/acme/users?q=%ff%fe", http.StatusBadRequest},
			{"/console/tenants/acme/users?q=a%00b", http.StatusBadRequest},
			{"/console/tenants/acme/users?page=0", http.StatusBadRequest},
			{"/console/tenants/acme/users?page=x", http.StatusBadRequest},
			{"/console/tenants/acme/users?page=99999999999999999999", http.StatusBadRequest},
			{"/console/tenants/nope/users", http.StatusNotFound},
			{"/console/tenants/acme/users/not-an-id", http.StatusNotFound},
			{"/console/tenants/acme/users/00000000-0000-7000-8000-000000000000", http.StatusNotFound},
			{"/console/tenants/acme/audit?since=yesterday", http.StatusBadRequest},
			{"/console/tenants/acme/audit?before=x", http.StatusBadRequest},
			{"/console/tenants/acme/audit?actor=%ff", http.StatusBadRequest},
			{"/console/no-such-page", http.StatusNotFound},
			{"/console/tenants/%ff/users", http.StatusNotFound},
			{"/console/tenants/a%00b/audit", http.StatusNotFound},
			{"/console/tenants/acme/users/%ff%00", http.StatusNotFound},
			{"/console/tenants/acme/audit?target=%ff", http.StatusBadRequest},
		} {
			if a := b.get(c.path); a.status != c.status {
				t.Errorf("GET %.80s: got %d, want %d", c.path, a.status, c.status)
			}
		}
		// Another tenant's user is not found through this tenant.
		others, _, err := e.st.SearchUsers(t.Context(), mustTenant(t, e, "other").ID, "maria", 0, 10)
		if err != nil || len(others) != 1 {
			t.Fatalf("search other: %v, %d", err, len(others))
		}
		if a := b.get("/console/tenants/acme/users/" + others[0].ID); a.status != http.StatusNotFound {
			t.Errorf("other tenant's user through acme: got %d, want 404", a.status)
		}
		// Signed out, the fragment is a 401 (the script then goes to sign-in).
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/console/tenants/acme/users/results?q=m", nil)
		req.Header.Set("X-Console-Fetch", "1")
		if a := e.browser().do(req); a.status != http.StatusUnauthorized {
			t.Errorf("signed-out fragment: got %d, want 401", a.status)
		}
	})
}

func mustTenant(t *testing.T, e *env, name string) *directory.Tenant {
	t.Helper()
	tn, err := e.svc.TenantByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// TestAuditPage: filters by action and actor, newest first, with paging.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.operator("ann@example.com", directory.RoleAdmin)
	if _, err := e.svc.CreateTenant(t.Context(), "acme", directory.UniquePolicy{}); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		e.clock.Advance(time.Second)
		e.seedUser("acme", &directory.User{Username: fmt.Sprintf("u%02d", i)})
	}
	b := e.browser()
	b.mustSignIn("ann@example.com")
	a := b.get("/console/tenants/acme/audit?action=user.create")
	if n := strings.Count(a.body, "<td>user.create</td>"); n != 50 || !strings.Contains(a.body, "Older entries") {
		t.Fatalf("first page: %d user.create rows, want 50 and an older link", n)
	}
	older := regexpFind(t, `href="(\?[^"]*before=[^"]+)"`, a.body)
	a2 := b.get("/console/tenants/acme/audit" + strings.ReplaceAll(older, "&amp;", "&"))
	if n := strings.Count(a2.body, "<td>user.create</td>"); n != 10 || strings.Contains(a2.body, "Older entries") {
		t.Errorf("second page: %d rows, want 10 and no older link", n)
	}
	if a := b.get("/console/tenants/acme/audit?action=tenant.create"); strings.Count(a.body, "<td>tenant.create</td>") != 1 || strings.Contains(a.body, "<td>user.create</td>") {
		t.Errorf("action filter tenant.create: want exactly the one tenant entry")
	}
	if a := b.get("/console/tenants/acme/audit?actor=nobody"); strings.Contains(a.body, "<td>user.create</td>") {
		t.Errorf("actor filter nobody: want no entries")
	}
}

func regexpFind(t *testing.T, re, s string) string {
	t.Helper()
	m := regexpMust(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no match of %s", re)
	}
	return m[1]
}

// TestSecureCookieOverTLS: over TLS both cookies are Secure, and the
// session works.
func TestSecureCookieOverTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	tlsSrv := httptest.NewTLSServer(e.srv.Config.Handler)
	t.Cleanup(tlsSrv.Close)
	e.srv = tlsSrv
	e.operator("ann@example.com", directory.RoleAdmin)
	b := e.browser()
	b.c.Transport = tlsSrv.Client().Transport
	pre := b.get("/console/sign-in")
	a := b.signIn("ann@example.com", testPassword)
	if a.status != http.StatusSeeOther {
		t.Fatalf("sign in over TLS: got %d, want 303", a.status)
	}
	for _, sc := range append(pre.header.Values("Set-Cookie"), a.header.Values("Set-Cookie")...) {
		if !strings.Contains(sc, "; Secure") {
			t.Errorf("cookie over TLS without Secure: %q", sc)
		}
	}
	if a := b.get("/console/tenants"); a.status != http.StatusOK {
		t.Errorf("signed in over TLS: got %d, want 200", a.status)
	}
}
