package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/roster-dev/roster/internal/directory"
)

// chromiumPath is Debian's chromium (apt-get install chromium; .ci/run
// installs it). ROSTER_CHROMIUM names another binary.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("ROSTER_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not found at %s: the browser tests must run in CI (.ci/run installs it)", p)
		}
		t.Skipf("chromium not found at %s: skipping the browser tests", p)
	}
	return p
}

// screenshotDir is where the test saves a screenshot of each page:
// $ROSTER_CONSOLE_SCREENSHOTS when set (docs/console to refresh the
// documentation's, or CI's artefact directory), else a temporary one.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("ROSTER_CONSOLE_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// newBrowser starts a headless Chromium with a fresh profile that makes
// no connection but to the test server.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do starts the browser and must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a bound, so a page that never shows what is
// waited for fails the test instead of hanging it.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60s: %v", js, err)
	}
	return v
}

// waitFor waits until the JavaScript predicate js holds.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("waiting for %.80s: %v", js, err)
	}
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// checkPage asserts what every page must hold: every visible input
// labelled, landmarks, no horizontal scrolling at 200% zoom (a
// 512-pixel-wide viewport is the 1024-pixel window zoomed to 200%),
// then saves a screenshot as dir/name.png.
func checkPage(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if unlabelled := eval[int](t, ctx, `[...document.querySelectorAll("input:not([type=hidden]), select")].filter(e => e.labels.length === 0).length`); unlabelled != 0 {
		t.Errorf("%s: %d inputs without a label", name, unlabelled)
	}
	if !eval[bool](t, ctx, `!!document.querySelector("main") && !!document.querySelector("header") && document.documentElement.lang === "en"`) {
		t.Errorf("%s: missing main or header landmark, or the page language", name)
	}
	step(t, ctx, name+" at 200%", chromedp.EmulateViewport(512, 768))
	if over := eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
		t.Errorf("%s at 200%% zoom: %d pixels wider than the window (horizontal scrolling)", name, over)
	}
	step(t, ctx, name+" at 100%", chromedp.EmulateViewport(1024, 768))
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// truvCreate creates a user through the Truv API over real HTTP.
func truvCreate(t *testing.T, e *env, clientID, sec string, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/users/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Access-Client-Id", clientID)
	req.Header.Set("X-Access-Secret", sec)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("truv create: %d, %v", resp.StatusCode, err)
	}
	return out.ID
}

// TestConsoleInBrowser drives the console in headless Chromium: an admin
// signs in (by keyboard), creates a tenant and a credential, a partner
// creates users through the Truv API with that credential, the admin
// finds one with instant search and reveals its SSN (audited), signs
// out; a viewer sees the SSN masked and cannot reveal it even by posting
// the form by hand.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	e.operator("ann@example.com", directory.RoleAdmin)
	e.operator("viv@example.com", directory.RoleViewer)
	dir := screenshotDir(t)
	ctx := newBrowser(t)
	base := e.srv.URL

	// Sign in with the keyboard only: the skip link comes first, the
	// e-mail field has focus, Tab reaches the password, Enter submits.
	step(t, ctx, "open console", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	checkPage(t, ctx, dir, "sign-in")
	if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "email" {
		t.Errorf("sign-in: focus on %q, want the e-mail field", focused)
	}
	step(t, ctx, "sign in",
		chromedp.KeyEvent("ann@example.com"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(testPassword), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/console/tenants"]`)))
	step(t, ctx, "skip link", chromedp.Navigate(base+"/console/tenants"), chromedp.WaitVisible(chromedp.CSS("#name")), chromedp.KeyEvent(kb.Tab))
	if first := eval[string](t, ctx, `document.activeElement.className`); first != "skip" {
		t.Errorf("tenants: Tab first reaches %q, want the skip link", first)
	}
	step(t, ctx, "follow skip link", chromedp.KeyEvent(kb.Enter))
	if got := eval[string](t, ctx, `document.activeElement.id`); got != "main" {
		t.Errorf("skip link: focus on %q, want main", got)
	}

	// Create a tenant with unique e-mail.
	step(t, ctx, "create tenant",
		chromedp.SendKeys(chromedp.CSS("#name"), "acme"),
		chromedp.Click(chromedp.CSS(`form[action="/console/tenants"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text(t, ctx, ".notice"); got != "Created tenant acme." {
		t.Fatalf("create tenant: notice %q", got)
	}
	checkPage(t, ctx, dir, "tenants")

	// Create a credential: the secret is shown once.
	step(t, ctx, "credentials page", chromedp.Click(chromedp.CSS(`a[href="/console/tenants/acme/credentials"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/console/tenants/acme/credentials"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/console/tenants/acme/credentials"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#new-secret")))
	clientID, sec := text(t, ctx, "#new-client-id"), text(t, ctx, "#new-secret")
	if !strings.HasPrefix(sec, "rsk_"+clientID+"_") {
		t.Fatalf("new credential: client id %q, secret %q", clientID, sec)
	}
	checkPage(t, ctx, dir, "credentials")

	// A partner creates users with it through the Truv API.
	id := truvCreate(t, e, clientID, sec, map[string]any{"external_user_id": "67890", "first_name": "Maria", "last_name": "Garcia",
		"email": "maria.garcia@example.com", "phone": "+14155554193", "ssn": "222336789"})
	truvCreate(t, e, clientID, sec, map[string]any{"external_user_id": "12345", "first_name": "John", "last_name": "Doe",
		"email": "john.doe@example.com"})
	id, ok := directory.ParseID(id) // Truv shows 32 hex characters; the console the dashed form
	if !ok {
		t.Fatalf("truv create: id %q", id)
	}

	// Instant search: typing narrows the results without a submit.
	step(t, ctx, "users page", chromedp.Navigate(base+"/console/tenants/acme/users"), chromedp.WaitVisible(chromedp.CSS("#q")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#results tbody tr").length`); n != 2 {
		t.Errorf("users page: %d rows, want both users", n)
	}
	step(t, ctx, "type a search", chromedp.SendKeys(chromedp.CSS("#q"), "maria.gar"))
	// The script updates the address when it shows a query's results
	// (and drops answers to older queries), so this waits for the final
	// query's results however fast the keys came, and checks the
	// address is shareable.
	waitFor(t, ctx, `location.search === "?q=maria.gar" && document.querySelectorAll("#results tbody tr").length === 1 && document.querySelector("#results").textContent.includes("Maria Garcia")`)
	checkPage(t, ctx, dir, "users")

	// The user's page: SSN masked until the admin reveals it.
	step(t, ctx, "open user", chromedp.Click(chromedp.CSS(`#results a`)), chromedp.WaitVisible(chromedp.CSS("#ssn")))
	if got := text(t, ctx, "#ssn"); got != "***-**-6789" {
		t.Errorf("user page SSN %q, want ***-**-6789", got)
	}
	checkPage(t, ctx, dir, "user")
	step(t, ctx, "reveal", chromedp.Click(chromedp.CSS("#reveal-ssn")), chromedp.WaitVisible(chromedp.CSS("#ssn.revealed")))
	if got := text(t, ctx, "#ssn"); got != "222-33-6789" {
		t.Errorf("revealed SSN %q, want 222-33-6789", got)
	}
	checkPage(t, ctx, dir, "user-revealed")
	tn := mustTenant(t, e, "acme")
	es, _, err := e.st.SearchAudit(t.Context(), tn.ID, directory.AuditSearch{Action: directory.ActionUserSSNRevealed})
	if err != nil || len(es) != 1 || es[0].Actor != "operator:ann@example.com" || es[0].TargetID != id {
		t.Fatalf("reveal audit: %v %+v; want one entry by operator:ann@example.com on %s", err, es, id)
	}

	// The audit log, filtered to reveals.
	step(t, ctx, "audit page", chromedp.Navigate(base+"/console/tenants/acme/audit"), chromedp.WaitVisible(chromedp.CSS("#action")),
		chromedp.SetValue(chromedp.CSS("#action"), directory.ActionUserSSNRevealed),
		// Only the filtered page's server-rendered select has the
		// selected attribute (SetValue sets the property).
		chromedp.Click(chromedp.CSS(`form.filters button`)), chromedp.WaitReady(chromedp.CSS(`#action option[selected]`)))
	if n := eval[int](t, ctx, `document.querySelectorAll("table.audit tbody tr").length`); n != 1 {
		t.Errorf("audit filtered to reveals: %d rows, want 1", n)
	}
	checkPage(t, ctx, dir, "audit")

	// Sign out, then sign in as the viewer.
	step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	step(t, ctx, "viewer signs in",
		chromedp.SendKeys(chromedp.CSS("#email"), "viv@example.com"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("main table")))
	if eval[bool](t, ctx, `!!document.querySelector('form[action="/console/tenants"]')`) {
		t.Errorf("viewer: the create tenant form is offered")
	}
	step(t, ctx, "viewer opens user", chromedp.Navigate(base+"/console/tenants/acme/users/"+id), chromedp.WaitVisible(chromedp.CSS("#ssn")))
	if got := text(t, ctx, "#ssn"); got != "***-**-6789" {
		t.Errorf("viewer sees SSN %q, want ***-**-6789", got)
	}
	if eval[bool](t, ctx, `!!document.querySelector("#reveal-ssn")`) {
		t.Errorf("viewer: the reveal button is offered")
	}
	checkPage(t, ctx, dir, "user-viewer")
	// Posting the reveal form by hand, with the viewer's own valid CSRF
	// token, is refused.
	status := eval[int](t, ctx, `fetch(location.pathname + "/reveal-ssn", {method: "POST", credentials: "same-origin",
		body: new URLSearchParams({csrf: document.querySelector("form.signout input[name=csrf]").value})}).
		then(r => r.text().then(b => b.includes("6789") && b.includes("222") ? -r.status : r.status))`)
	if status != http.StatusForbidden {
		t.Errorf("viewer's hand-made reveal: got %d, want 403 (negative: the answer showed the SSN)", status)
	}
	es, _, _ = e.st.SearchAudit(t.Context(), tn.ID, directory.AuditSearch{Action: directory.ActionUserSSNRevealed})
	if len(es) != 1 {
		t.Errorf("reveal entries after the viewer: %d, want still 1", len(es))
	}
	step(t, ctx, "viewer signs out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	step(t, ctx, "signed out", chromedp.Navigate(base+"/console/tenants/acme/users"), chromedp.WaitVisible(chromedp.CSS("#email")))
}
