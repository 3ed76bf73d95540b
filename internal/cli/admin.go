package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// ParseUnique parses --unique: a comma-separated subset of email, phone,
// external_id, or "none".
func ParseUnique(s string) (directory.UniquePolicy, error) {
	var p directory.UniquePolicy
	s = strings.TrimSpace(s)
	if s == "none" {
		return p, nil
	}
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "email":
			p.Email = true
		case "phone":
			p.Phone = true
		case "external_id":
			p.ExternalID = true
		default:
			return p, fmt.Errorf("%w: --unique %q: want a list of email, phone, external_id, or none", errUsage, s)
		}
	}
	return p, nil
}

// UniqueString is the inverse of ParseUnique.
func UniqueString(p directory.UniquePolicy) string {
	if names := p.Names(); len(names) > 0 {
		return strings.Join(names, ",")
	}
	return "none"
}

type tenantJSON struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Unique    []string `json:"unique"`
	CreatedAt string   `json:"created_at"`
}

func toTenantJSON(t *directory.Tenant) tenantJSON {
	return tenantJSON{ID: t.ID, Name: t.Name, Unique: t.Unique.Names(), CreatedAt: t.CreatedAt.Format(time.RFC3339)}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func tenantCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("tenant create")
	unique := s.fs.String("unique", "email,phone", "unique identifiers: a `LIST` of email, phone, external_id, or none")
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	var policy directory.UniquePolicy
	pos, o, err := s.open(ctx, args, 1, "one tenant NAME", func([]string) (err error) {
		policy, err = ParseUnique(*unique)
		return err
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	t, err := o.svc.CreateTenant(ctx, pos[0], policy)
	if err != nil {
		return describe(err)
	}
	if *asJSON {
		return printJSON(stdout, toTenantJSON(t))
	}
	fmt.Fprintf(stdout, "created tenant %s (id %s, unique: %s)\n", t.Name, t.ID, UniqueString(t.Unique))
	return nil
}

func tenantList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("tenant list")
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	_, o, err := s.open(ctx, args, 0, "no arguments", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	ts, err := o.svc.ListTenants(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]tenantJSON, len(ts))
		for i, t := range ts {
			out[i] = toTenantJSON(t)
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tUNIQUE\tCREATED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.ID, UniqueString(t.Unique), t.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// credentialJSON is the contract of `credential create --json`
// (DESIGN.md): scripts read these four keys.
type credentialJSON struct {
	TenantID string `json:"tenant_id"`
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret"`
}

func credentialCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("credential create").withTenant()
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	var limit *int // nil: the server's ROSTER_RATE_LIMIT
	s.fs.Func("rate-limit", "the credential's own limit, `N` requests a minute (0: unlimited; default: ROSTER_RATE_LIMIT)", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a number of requests a minute, 0 for unlimited")
		}
		limit = &n
		return nil
	})
	_, o, err := s.open(ctx, args, 0, "no arguments besides --tenant", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	tenant := s.tenant
	cred, sec, err := o.svc.CreateCredentialWith(ctx, *tenant, directory.CredentialOptions{RateLimit: limit})
	if err != nil {
		return describe(tenantError(*tenant, err))
	}
	if *asJSON {
		return printJSON(stdout, credentialJSON{TenantID: cred.TenantID, Tenant: *tenant, ClientID: cred.ClientID, Secret: sec})
	}
	fmt.Fprintf(stdout, "tenant:    %s\nclient_id: %s\nsecret:    %s\n\nThe secret is shown only now; Roster stores only its hash.\n", *tenant, cred.ClientID, sec)
	return nil
}

type credentialListJSON struct {
	ClientID   string  `json:"client_id"`
	CreatedAt  string  `json:"created_at"`
	RevokedAt  *string `json:"revoked_at"`
	LastUsedAt *string `json:"last_used_at"`
	// RateLimit is the credential's own limit a minute (0: unlimited);
	// null follows ROSTER_RATE_LIMIT.
	RateLimit *int `json:"rate_limit"`
}

func fmtTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func credentialList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("credential list").withTenant()
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	_, o, err := s.open(ctx, args, 0, "no arguments besides --tenant", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	cs, err := o.svc.ListCredentials(ctx, *s.tenant)
	if err != nil {
		return describe(tenantError(*s.tenant, err))
	}
	out := make([]credentialListJSON, len(cs))
	for i, cr := range cs {
		out[i] = credentialListJSON{ClientID: cr.ClientID, CreatedAt: cr.CreatedAt.UTC().Format(time.RFC3339),
			RevokedAt: fmtTime(cr.RevokedAt), LastUsedAt: fmtTime(cr.LastUsedAt), RateLimit: cr.RateLimit}
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT_ID\tCREATED\tREVOKED\tLAST_USED")
	for _, cr := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cr.ClientID, cr.CreatedAt, orDash(cr.RevokedAt), orDash(cr.LastUsedAt))
	}
	return tw.Flush()
}

func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func credentialRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, o, err := newSetup("credential revoke").open(ctx, args, 1, "one CLIENT_ID", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	if err := o.svc.RevokeCredential(ctx, pos[0]); err != nil {
		if errors.Is(err, directory.ErrNotFound) {
			return fmt.Errorf("credential %q not found", pos[0])
		}
		return describe(err)
	}
	fmt.Fprintf(stdout, "revoked %s and its session tokens\n", pos[0])
	return nil
}

// describe turns domain errors into operator-readable messages.
func describe(err error) error {
	var ve *directory.ValidationError
	var ce *directory.ConflictError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.As(err, &ce) && ce.Field == directory.FieldTenantName:
		return fmt.Errorf("tenant %q already exists", ce.Value)
	}
	return err
}
