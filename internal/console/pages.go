package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/roster-dev/roster/internal/directory"
)

// pageSize is how many users or audit entries one page shows.
const pageSize = 25

// maxPage bounds the page number a URL may ask for: offset paging past
// 400 pages of 25 is better served by a narrower search.
const maxPage = 400

// tenantOf returns the tenant named in the path, or a 404.
func (c *Console) tenantOf(r *http.Request) (*directory.Tenant, error) {
	name := r.PathValue("tenant")
	if !plainText(name, 64) {
		// No tenant has such a name, and PostgreSQL would refuse to
		// compare invalid UTF-8 or a NUL at all.
		return nil, &pageError{status: http.StatusNotFound, msg: "There is no such tenant."}
	}
	t, err := c.svc.TenantByName(r.Context(), name)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, &pageError{status: http.StatusNotFound, msg: "There is no such tenant."}
	}
	return t, err
}

// plainText reports whether s is valid UTF-8 of at most max bytes
// without NUL: text the database can compare.
func plainText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func principal(t *directory.Tenant) directory.Principal {
	return directory.Principal{TenantID: t.ID, TenantName: t.Name, Unique: t.Unique}
}

// uniqueLabel names a tenant's uniqueness policy as roster tenant create
// --unique takes it, spaced for reading.
func uniqueLabel(p directory.UniquePolicy) string {
	if names := p.Names(); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "none"
}

type tenantRow struct {
	*directory.Tenant
	UniqueLabel string
}

type tenantsView struct {
	base
	Tenants []tenantRow
	Name    string
	Unique  directory.UniquePolicy
}

func (c *Console) tenants(w http.ResponseWriter, r *http.Request) error {
	return c.renderTenants(w, r, http.StatusOK, "", directory.UniquePolicy{Email: true, Phone: true}, "", "")
}

func (c *Console) renderTenants(w http.ResponseWriter, r *http.Request, status int, name string, p directory.UniquePolicy, msg, notice string) error {
	ts, err := c.svc.ListTenants(r.Context())
	if err != nil {
		return err
	}
	v := tenantsView{base: c.base(r, "Tenants"), Name: name, Unique: p}
	v.Nav, v.Error, v.Notice = "tenants", msg, notice
	for _, t := range ts {
		v.Tenants = append(v.Tenants, tenantRow{Tenant: t, UniqueLabel: uniqueLabel(t.Unique)})
	}
	return c.render(w, r, status, "tenants", v)
}

func (c *Console) createTenant(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	p := directory.UniquePolicy{}
	for _, u := range r.PostForm["unique"] {
		switch u {
		case "email":
			p.Email = true
		case "phone":
			p.Phone = true
		case "external_id":
			p.ExternalID = true
		default:
			return &pageError{status: http.StatusBadRequest, msg: "Unknown uniqueness choice."}
		}
	}
	t, err := c.svc.CreateTenant(r.Context(), name, p)
	if err != nil {
		status, msg := errorStatus(err)
		if status >= 500 {
			return err
		}
		return c.renderTenants(w, r, status, name, p, msg, "")
	}
	return c.renderTenants(w, r, http.StatusCreated, "", directory.UniquePolicy{Email: true, Phone: true}, "",
		fmt.Sprintf("Created tenant %s.", t.Name))
}

type credentialsView struct {
	base
	Credentials []*directory.Credential
	NewClientID string
	NewSecret   string
}

func (c *Console) credentials(w http.ResponseWriter, r *http.Request) error {
	return c.renderCredentials(w, r, http.StatusOK, "", "", "")
}

func (c *Console) renderCredentials(w http.ResponseWriter, r *http.Request, status int, clientID, sec, notice string) error {
	t, err := c.tenantOf(r)
	if err != nil {
		return err
	}
	cs, err := c.svc.ListCredentials(r.Context(), t.Name)
	if err != nil {
		return err
	}
	slices.Reverse(cs) // newest first
	v := credentialsView{base: c.base(r, "Credentials of "+t.Name), Credentials: cs, NewClientID: clientID, NewSecret: sec}
	v.Nav, v.Notice = "credentials", notice
	return c.render(w, r, status, "credentials", v)
}

// createCredential shows the new secret in its own answer, this once:
// it is not stored, and no later page can show it.
func (c *Console) createCredential(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenantOf(r)
	if err != nil {
		return err
	}
	cr, sec, err := c.svc.CreateCredential(r.Context(), t.Name)
	if err != nil {
		return err
	}
	return c.renderCredentials(w, r, http.StatusCreated, cr.ClientID, sec, "")
}

func (c *Console) revokeCredential(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenantOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("client")
	cs, err := c.svc.ListCredentials(r.Context(), t.Name)
	if err != nil {
		return err
	}
	// The credential must be this tenant's: the URL names both.
	if !slices.ContainsFunc(cs, func(cr *directory.Credential) bool { return cr.ClientID == id }) {
		return &pageError{status: http.StatusNotFound, msg: "There is no such credential in this tenant."}
	}
	if err := c.svc.RevokeCredential(r.Context(), id); err != nil {
		return err
	}
	return c.renderCredentials(w, r, http.StatusOK, "", "", fmt.Sprintf("Revoked credential %s.", id))
}

// userRow is one line of the users list.
type userRow struct {
	*directory.User
	Name string
}

func displayName(u *directory.User) string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	if u.Username != "" {
		return u.Username
	}
	return "(no name)"
}

type usersView struct {
	base
	Query      string
	Users      []userRow
	Page       int
	PrevURL    string
	NextURL    string
	ResultsURL string
}

// maxQuery bounds the search text (store.MaxSearchQuery).
const maxQuery = 256

// searchUsers runs the page's search: by prefix (SearchUsers) when there
// is a query, else every user in id (creation) order.
func (c *Console) searchUsers(r *http.Request) (*usersView, error) {
	t, err := c.tenantOf(r)
	if err != nil {
		return nil, err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxQuery || !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		return nil, &pageError{status: http.StatusBadRequest, msg: "Search for up to 256 characters of text."}
	}
	page := 1
	if s := r.URL.Query().Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			return nil, &pageError{status: http.StatusBadRequest, msg: fmt.Sprintf("The page must be a number from 1 to %d.", maxPage)}
		}
		page = n
	}
	offset := (page - 1) * pageSize
	var users []*directory.User
	var more bool
	if q != "" {
		users, more, err = c.st.SearchUsers(r.Context(), t.ID, q, offset, pageSize)
	} else {
		var p *directory.UserPage
		p, err = c.svc.ListUsers(r.Context(), principal(t), directory.UserQuery{Offset: offset, Limit: pageSize})
		if p != nil {
			users, more = p.Users, p.HasMore
		}
	}
	if err != nil {
		return nil, err
	}
	v := &usersView{base: c.base(r, "Users of "+t.Name), Query: q, Page: page}
	v.Nav = "users"
	for _, u := range users {
		v.Users = append(v.Users, userRow{User: u, Name: displayName(u)})
	}
	link := func(p int) string {
		vals := url.Values{}
		if q != "" {
			vals.Set("q", q)
		}
		if p > 1 {
			vals.Set("page", strconv.Itoa(p))
		}
		if len(vals) == 0 {
			return "?"
		}
		return "?" + vals.Encode()
	}
	if page > 1 {
		v.PrevURL = link(page - 1)
	}
	if more && page < maxPage {
		v.NextURL = link(page + 1)
	}
	v.ResultsURL = "/console/tenants/" + url.PathEscape(t.Name) + "/users/results"
	return v, nil
}

func (c *Console) users(w http.ResponseWriter, r *http.Request) error {
	v, err := c.searchUsers(r)
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "users", v)
}

// userResults is the instant search's answer: the results fragment
// alone, which the page's script puts in place.
func (c *Console) userResults(w http.ResponseWriter, r *http.Request) error {
	v, err := c.searchUsers(r)
	if err != nil {
		return err
	}
	return c.fragment(w, "users", "results", v)
}

type kv struct{ K, V string }

type userView struct {
	base
	User       *directory.User
	Name       string
	SSN        string // masked, or revealed
	Revealed   bool
	HasSSN     bool
	Values     []kv
	Extras     []kv
	Groups     []directory.GroupRef
	Audit      []*directory.AuditEntry
	AddressStr string
}

// maskSSN shows only the last four digits, as ***-**-6789.
func maskSSN(ssn string) string {
	if len(ssn) < 4 {
		return "***-**-****"
	}
	return "***-**-" + ssn[len(ssn)-4:]
}

func formatSSN(ssn string) string {
	if len(ssn) != 9 {
		return ssn
	}
	return ssn[:3] + "-" + ssn[3:5] + "-" + ssn[5:]
}

func (c *Console) loadUser(r *http.Request) (*userView, error) {
	t, err := c.tenantOf(r)
	if err != nil {
		return nil, err
	}
	p := principal(t)
	u, err := c.svc.GetUser(r.Context(), p, r.PathValue("id"))
	if errors.Is(err, directory.ErrNotFound) {
		return nil, &pageError{status: http.StatusNotFound, msg: "There is no such user in this tenant."}
	}
	if err != nil {
		return nil, err
	}
	groups, err := c.svc.GroupsOfUsers(r.Context(), p, []string{u.ID})
	if err != nil {
		return nil, err
	}
	audit, _, err := c.st.SearchAudit(r.Context(), t.ID, directory.AuditSearch{TargetID: u.ID, Limit: 100})
	if err != nil {
		return nil, err
	}
	v := &userView{base: c.base(r, displayName(u)), User: u, Name: displayName(u), Groups: groups[u.ID], Audit: audit}
	v.Nav = "users"
	if !u.SSN.IsZero() {
		v.HasSSN, v.SSN = true, maskSSN(u.SSN.Reveal())
	}
	for _, k := range directory.ValueKinds {
		for _, val := range u.Values[k] {
			s := val.Value
			if k == directory.KindAddress {
				s = strings.Join(slices.DeleteFunc([]string{val.Street, val.Locality, val.Region, val.PostalCode, val.Country},
					func(s string) bool { return s == "" }), ", ")
			}
			label := string(k)
			if val.Type != "" {
				label += " (" + val.Type + ")"
			}
			if val.Primary {
				label += ", primary"
			}
			v.Values = append(v.Values, kv{label, s})
		}
	}
	for _, k := range slices.Sorted(mapsKeys(u.Extras)) {
		v.Extras = append(v.Extras, kv{k, u.Extras[k]})
	}
	a := u.Address
	v.AddressStr = strings.Join(slices.DeleteFunc([]string{a.Line1, a.Line2, a.City, a.State, a.Zip, a.Country},
		func(s string) bool { return s == "" }), ", ")
	return v, nil
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (c *Console) user(w http.ResponseWriter, r *http.Request) error {
	v, err := c.loadUser(r)
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "user", v)
}

// revealSSN shows an admin the user's SSN in full, once, in this answer
// (never cached: every console answer is no-store), after writing the
// reveal to the audit log: no reveal goes unrecorded.
func (c *Console) revealSSN(w http.ResponseWriter, r *http.Request) error {
	v, err := c.loadUser(r)
	if err != nil {
		return err
	}
	if !v.HasSSN {
		return &pageError{status: http.StatusNotFound, msg: "This user has no SSN."}
	}
	s := sessionFrom(r.Context())
	e := &directory.AuditEntry{ID: newAuditID(), TenantID: v.User.TenantID, At: c.svc.Now(), Actor: actor(s.op),
		Action: directory.ActionUserSSNRevealed, TargetType: directory.TargetUser, TargetID: v.User.ID,
		Fields: []string{string(directory.FieldSSN)}, RequestID: directory.RequestIDFrom(r.Context())}
	if err := c.st.RecordAudit(r.Context(), e); err != nil {
		return fmt.Errorf("reveal ssn: %w", err)
	}
	v.Audit = append([]*directory.AuditEntry{e}, v.Audit...)
	v.SSN, v.Revealed = formatSSN(v.User.SSN.Reveal()), true
	return c.render(w, r, http.StatusOK, "user", v)
}

type auditView struct {
	base
	Entries  []*directory.AuditEntry
	Action   string
	Actor    string
	Target   string
	Since    string
	Actions  []string
	OlderURL string
}

// auditActions are the actions the filter offers.
var auditActions = []string{
	directory.ActionUserCreate, directory.ActionUserUpdate, directory.ActionUserDelete,
	directory.ActionUserSSNRevealed,
	directory.ActionGroupCreate, directory.ActionGroupUpdate, directory.ActionGroupDelete,
	directory.ActionTenantCreate, directory.ActionCredentialCreate, directory.ActionCredentialRevoke,
}

// audit shows a tenant's audit log newest first, filtered by action,
// actor, target id and a start date.
func (c *Console) audit(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenantOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := auditView{base: c.base(r, "Audit log of "+t.Name), Actions: auditActions,
		Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor")),
		Target: strings.TrimSpace(q.Get("target")), Since: strings.TrimSpace(q.Get("since"))}
	v.Nav = "audit"
	for _, s := range []string{v.Action, v.Actor, v.Target, v.Since, q.Get("before")} {
		if len(s) > 256 || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return &pageError{status: http.StatusBadRequest, msg: "A filter is too long or not text."}
		}
	}
	as := directory.AuditSearch{Action: v.Action, Actor: v.Actor, TargetID: v.Target, Limit: 50}
	if id, ok := directory.ParseID(v.Target); ok {
		as.TargetID = id
	}
	if v.Since != "" {
		d, err := time.Parse("2006-01-02", v.Since)
		if err != nil {
			return &pageError{status: http.StatusBadRequest, msg: "The start date must be a date (YYYY-MM-DD)."}
		}
		as.Since = d
	}
	if b := q.Get("before"); b != "" {
		at, id, ok := strings.Cut(b, "_")
		n, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || id == "" {
			return &pageError{status: http.StatusBadRequest, msg: "That page of the audit log does not exist."}
		}
		as.Before = &directory.AuditCursor{At: time.UnixMicro(n).UTC(), ID: id}
	}
	es, more, err := c.st.SearchAudit(r.Context(), t.ID, as)
	if err != nil {
		return err
	}
	v.Entries = es
	if more && len(es) > 0 {
		last := es[len(es)-1]
		vals := url.Values{}
		for k, s := range map[string]string{"action": v.Action, "actor": v.Actor, "target": v.Target, "since": v.Since} {
			if s != "" {
				vals.Set(k, s)
			}
		}
		vals.Set("before", fmt.Sprintf("%d_%s", last.At.UnixMicro(), last.ID))
		v.OlderURL = "?" + vals.Encode()
	}
	return c.render(w, r, http.StatusOK, "audit", v)
}

// newAuditID is a UUID v7, as the core's audit ids: they sort by time.
func newAuditID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}
