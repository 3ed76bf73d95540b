package directory

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"
)

// AuditEntry is one row of the audit log: who (the credential's client id,
// or ActorAdmin), what (an Action on a target, and the NAMES of the fields
// it set or changed, never their values), when, and the request id that
// ties it to the access log. It is written in the same transaction as the
// change it describes.
type AuditEntry struct {
	ID         string // UUID v7: sorts by time
	TenantID   string
	At         time.Time
	Actor      string
	Action     string // ActionUserCreate, ...
	TargetType string // TargetUser, ...
	TargetID   string
	Fields     []string // changed field names, sorted; empty for deletes
	RequestID  string   // "" outside an HTTP request
}

// AuditQuery selects audit entries of one tenant, oldest first.
type AuditQuery struct {
	Since    time.Time // zero: from the start
	TargetID string    // "": every target
	Limit    int       // <= 0: MaxAuditPage
}

// MaxAuditPage bounds one ListAudit answer.
const MaxAuditPage = 10000

// ListAudit returns the named tenant's audit entries matching q, oldest
// first. A target id may be given dashed or as 32 hex characters.
func (s *Service) ListAudit(ctx context.Context, tenant string, q AuditQuery) ([]*AuditEntry, error) {
	t, err := s.store.GetTenantByName(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("list audit: tenant %q: %w", tenant, err)
	}
	if id, ok := ParseID(q.TargetID); ok {
		q.TargetID = id
	}
	if q.Limit <= 0 || q.Limit > MaxAuditPage {
		q.Limit = MaxAuditPage
	}
	es, err := s.store.ListAudit(ctx, t.ID, q)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return es, nil
}

// userFields returns the names of the fields that differ between old and
// u (old nil: every field u sets). Multi-valued attributes are named by
// kind ("values.email"), extras by key ("extras.tosAnswer"). Only names are
// compared out: no value, and no SSN, ever reaches the audit log.
func userFields(old, u *User) []string {
	if old == nil {
		old = &User{}
	}
	var out []string
	add := func(f Field, changed bool) {
		if changed {
			out = append(out, string(f))
		}
	}
	add(FieldUsername, old.Username != u.Username)
	add(FieldExternalID, old.ExternalID != u.ExternalID)
	add(FieldExternalSource, old.ExternalSource != u.ExternalSource)
	add(FieldFirstName, old.FirstName != u.FirstName)
	add(FieldLastName, old.LastName != u.LastName)
	add(FieldEmail, old.Email != u.Email)
	add(FieldEmailVerified, old.EmailVerified != u.EmailVerified)
	add(FieldPhone, old.Phone != u.Phone)
	add(FieldPhoneVerified, old.PhoneVerified != u.PhoneVerified)
	add(FieldMobile, old.Mobile != u.Mobile)
	add(FieldLocale, old.Locale != u.Locale)
	add(FieldState, old.State != u.State)
	add(FieldLocked, old.Locked != u.Locked)
	add(FieldSSN, old.SSN.Reveal() != u.SSN.Reveal())
	add(FieldAddress, old.Address != u.Address)
	add(FieldAliases, !sameAliases(old.Aliases, u.Aliases))
	add(FieldAttributes, !slices.Equal(old.Attributes, u.Attributes))
	add(FieldPartnerCode, old.PartnerCode != u.PartnerCode)
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(old.Values, u.Values))) {
		add("values."+Field(k), !reflect.DeepEqual(old.Values[k], u.Values[k]) && (len(old.Values[k]) > 0 || len(u.Values[k]) > 0))
	}
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(old.Extras, u.Extras))) {
		ov, ook := old.Extras[k]
		nv, nok := u.Extras[k]
		add(FieldExtras+"."+Field(k), ov != nv || ook != nok)
	}
	slices.Sort(out)
	return out
}

// sameAliases compares aliases by type and value: their ids are the
// core's own.
func sameAliases(a, b []Alias) bool {
	return slices.EqualFunc(a, b, func(x, y Alias) bool { return x.Type == y.Type && x.Value == y.Value })
}

func mergeKeys[K comparable, V any](a, b map[K]V) map[K]bool {
	m := make(map[K]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// groupFields is userFields for groups.
func groupFields(old, g *Group) []string {
	if old == nil {
		old = &Group{}
	}
	var out []string
	if old.DisplayName != g.DisplayName {
		out = append(out, string(FieldDisplayName))
	}
	if old.ExternalID != g.ExternalID {
		out = append(out, string(FieldExternalID))
	}
	if !sameMembers(old.Members, g.Members) {
		out = append(out, "members")
	}
	slices.Sort(out)
	return out
}

func sameMembers(a, b []Member) bool {
	if len(a) != len(b) {
		return false
	}
	ids := make(map[string]bool, len(a))
	for _, m := range a {
		ids[m.UserID] = true
	}
	for _, m := range b {
		if !ids[m.UserID] {
			return false
		}
	}
	return true
}
