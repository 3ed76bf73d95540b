package directory

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// OnConflict says what ImportUser does with a row whose key (see
// ImportUser) is already held by a user of the tenant.
type OnConflict int

const (
	// ConflictFail rejects the row with a *ConflictError (the default).
	ConflictFail OnConflict = iota
	// ConflictSkip leaves the existing user as it is.
	ConflictSkip
	// ConflictUpdate replaces the existing user's data with the row's.
	ConflictUpdate
)

// ImportOutcome is what ImportUser did with one row.
type ImportOutcome int

const (
	// Imported: a new user was created.
	Imported ImportOutcome = iota
	// Updated: an existing user was rewritten (ConflictUpdate).
	Updated
	// Unchanged: ConflictUpdate found the existing user equal to the row.
	Unchanged
	// Skipped: an existing user was left alone (ConflictSkip).
	Skipped
)

// ImportUser writes one row of a bulk import (a user as `roster user
// export` wrote it) for p's tenant. Unlike CreateUser it keeps what the row
// carries of the record's identity: its id (a UUID; a new UUID v7 when
// empty), partner code, alias ids, version and timestamps, so that an
// export imported into an empty database exports byte-identically. The row
// is prepared and validated under r exactly as CreateUser does, and its
// identifiers are claimed in the same transaction; the id itself is the
// users table's primary key, so two rows cannot take one id.
//
// A row must carry at least one identifying field (id, username, external
// id, alias, e-mail, phone or mobile). Its key is its id when it has one,
// else its username, else its external id. When the key is already held in
// the tenant, onConflict decides: fail (a *ConflictError), skip (the
// existing user is returned with Skipped) or update (the existing user
// takes every field of the row; its id and created_at stay, its version
// goes up by one and updated_at becomes now, or nothing is written and the
// outcome is Unchanged when the row equals it). A conflict on any other
// identifier (an e-mail another user holds, say) always fails the row.
//
// A row keyed by an external id that the tenant's policy does not make
// unique is matched by a lookup before the write: two imports running at
// once may then both create it, which the policy allows.
func (s *Service) ImportUser(ctx context.Context, p Principal, in *User, r Rules, onConflict OnConflict) (*User, ImportOutcome, error) {
	u := in.Clone()
	u.TenantID = p.TenantID
	explicitCode := u.PartnerCode != ""
	if err := prepareImport(u, s.Now()); err != nil {
		return nil, 0, err
	}
	if err := prepare(u, nil, r); err != nil {
		return nil, 0, err
	}
	if u.ID == "" && u.Username == "" && u.ExternalID != "" && !p.Unique.ExternalID {
		// No claim holds the key: look it up (see the doc comment).
		existing, err := s.findByExternalID(ctx, p, u.ExternalID)
		if err != nil {
			return nil, 0, err
		}
		if existing != nil {
			return s.importExisting(ctx, p, in, existing, FieldExternalID, r, onConflict)
		}
	}
	if u.ID == "" {
		u.ID = newID()
	}
	for attempt := 0; ; attempt++ {
		if !explicitCode {
			u.PartnerCode = newPartnerCode()
		}
		ch := s.change(ctx, &p, p.TenantID, ActionUserCreate, TargetUser, u.ID, userFields(nil, u), u.UpdatedAt)
		ch.User = u
		err := s.store.CreateUser(ctx, u, claims(u, p.Unique), ch)
		var cc *ClaimConflict
		if errors.As(err, &cc) && cc.Claim.Kind == ClaimPartnerCode && !explicitCode && attempt < maxRetries {
			continue // a random code collided: draw another
		}
		if err == nil {
			committed(ctx, ch)
			return u, Imported, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, 0, fmt.Errorf("import user: %w", err)
		}
		existing, key, kerr := s.importKeyHolder(ctx, p, in, u, cc)
		if kerr != nil {
			return nil, 0, kerr
		}
		if existing == nil {
			if cc == nil {
				// Not a claim, and no user holds the id: a unique
				// index the row broke otherwise. Report the id.
				return nil, 0, fmt.Errorf("import user: %w", &ConflictError{Field: FieldID, Value: u.ID})
			}
			return nil, 0, fmt.Errorf("import user: %w", conflictFor(u, err))
		}
		return s.importExisting(ctx, p, in, existing, key, r, onConflict)
	}
}

// importKeyHolder returns the user holding the row's key after a create
// conflicted, and which field the key is; nil when the conflict was on an
// identifier that is not the key. in is the row as given (its id is empty
// when the row had none).
func (s *Service) importKeyHolder(ctx context.Context, p Principal, in, u *User, cc *ClaimConflict) (*User, Field, error) {
	if strings.TrimSpace(in.ID) != "" {
		// The primary key is checked before any claim, so an id held
		// by another user is what failed; read it to be sure.
		existing, err := s.store.GetUser(ctx, p.TenantID, u.ID)
		if errors.Is(err, ErrNotFound) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("import user: %w", err)
		}
		return existing, FieldID, nil
	}
	if cc == nil || cc.ExistingID == "" {
		return nil, "", nil
	}
	var key Field
	switch {
	case u.UsernameNorm != "":
		if cc.Claim.Kind != ClaimLogin || cc.Claim.Value != u.UsernameNorm {
			return nil, "", nil
		}
		key = FieldUsername
	case u.ExternalID != "":
		if cc.Claim.Kind != ClaimExternalID {
			return nil, "", nil
		}
		key = FieldExternalID
	default:
		return nil, "", nil
	}
	existing, err := s.store.GetUser(ctx, p.TenantID, cc.ExistingID)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil // deleted since: the conflict stands
	}
	if err != nil {
		return nil, "", fmt.Errorf("import user: %w", err)
	}
	if key == FieldUsername && existing.UsernameNorm != u.UsernameNorm {
		return nil, "", nil // the username is another user's alias
	}
	return existing, key, nil
}

// importExisting applies onConflict to a row whose key existing holds.
func (s *Service) importExisting(ctx context.Context, p Principal, in, existing *User, key Field, r Rules, onConflict OnConflict) (*User, ImportOutcome, error) {
	switch onConflict {
	case ConflictSkip:
		return existing, Skipped, nil
	case ConflictUpdate:
	default:
		return nil, 0, fmt.Errorf("import user: %w", &ConflictError{Field: key, Value: keyValue(existing, key), ExistingID: existing.ID})
	}
	for attempt := 0; ; attempt++ {
		u := in.Clone()
		u.ID, u.TenantID, u.CreatedAt = existing.ID, existing.TenantID, existing.CreatedAt
		if u.PartnerCode == "" {
			u.PartnerCode = existing.PartnerCode
		}
		// Alias ids: a kept value keeps its id, as the dialects do.
		ids := make(map[string]string, len(existing.Aliases))
		for _, a := range existing.Aliases {
			ids[strings.ToLower(a.Value)] = a.ID
		}
		for i := range u.Aliases {
			if u.Aliases[i].ID == "" {
				u.Aliases[i].ID = ids[strings.ToLower(strings.TrimSpace(u.Aliases[i].Value))]
			}
		}
		if err := checkImportIDs(u); err != nil {
			return nil, 0, err
		}
		if err := prepare(u, existing, r); err != nil {
			return nil, 0, err
		}
		if sameUserData(existing, u) {
			return existing, Unchanged, nil
		}
		u.Version = existing.Version + 1
		u.UpdatedAt = s.Now()
		if !u.UpdatedAt.After(existing.UpdatedAt) {
			u.UpdatedAt = existing.UpdatedAt.Add(time.Microsecond) // keep updated_at strictly increasing
		}
		ch := s.change(ctx, &p, p.TenantID, ActionUserUpdate, TargetUser, u.ID, userFields(existing, u), u.UpdatedAt)
		ch.User = u
		err := s.store.UpdateUser(ctx, u, claims(u, p.Unique), existing.Version, ch)
		if errors.Is(err, ErrPrecondition) && attempt < maxRetries {
			// Written concurrently: update over what is there now.
			if existing, err = s.store.GetUser(ctx, p.TenantID, existing.ID); err != nil {
				return nil, 0, fmt.Errorf("import user: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("import user: %w", conflictFor(u, err))
		}
		committed(ctx, ch)
		return u, Updated, nil
	}
}

// sameUserData reports whether an update to u would change nothing of
// existing but its version and updated_at.
func sameUserData(existing, u *User) bool {
	a, b := existing.Clone(), u.Clone()
	a.Version, b.Version = 0, 0
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	if len(a.Extras) == 0 {
		a.Extras = nil
	}
	if len(b.Extras) == 0 {
		b.Extras = nil
	}
	if len(a.Aliases) == 0 {
		a.Aliases = nil
	}
	if len(b.Aliases) == 0 {
		b.Aliases = nil
	}
	if len(a.Attributes) == 0 {
		a.Attributes = nil
	}
	if len(b.Attributes) == 0 {
		b.Attributes = nil
	}
	if len(a.Values) == 0 {
		a.Values = nil
	}
	if len(b.Values) == 0 {
		b.Values = nil
	}
	return a.CreatedAt.Equal(b.CreatedAt) && reflect.DeepEqual(withoutTimes(a), withoutTimes(b))
}

func withoutTimes(u *User) *User {
	u.CreatedAt = time.Time{}
	return u
}

func keyValue(u *User, key Field) string {
	switch key {
	case FieldUsername:
		return u.Username
	case FieldExternalID:
		return u.ExternalID
	}
	return u.ID
}

// findByExternalID returns the one user of p's tenant with external id
// ext, nil when there is none, and a *ConflictError when several have it:
// the row cannot say which it stands for.
func (s *Service) findByExternalID(ctx context.Context, p Principal, ext string) (*User, error) {
	page, err := s.store.ListUsers(ctx, p.TenantID, UserQuery{Filter: Cmp{Field: FieldExternalID, Op: OpEq, Value: ext}, Limit: 2})
	if err != nil {
		return nil, fmt.Errorf("import user: find by external id: %w", err)
	}
	switch len(page.Users) {
	case 0:
		return nil, nil
	case 1:
		return page.Users[0], nil
	}
	return nil, fmt.Errorf("import user: several users have this external id: %w",
		&ConflictError{Field: FieldExternalID, Value: ext, ExistingID: page.Users[0].ID})
}

// prepareImport checks and completes what an import keeps of a record's
// identity: id, alias ids, partner code, version and timestamps. now
// fills timestamps the row does not carry.
func prepareImport(u *User, now time.Time) error {
	u.ID = strings.TrimSpace(u.ID)
	u.PartnerCode = strings.TrimSpace(u.PartnerCode)
	ve := &ValidationError{}
	if !hasIdentifier(u) {
		ve.add(FieldID, CodeRequired, "a row needs an identifying field: id, username, external_id, aliases, email, phone or mobile")
	}
	if err := checkImportIDs(u); err != nil {
		var idErr *ValidationError
		if errors.As(err, &idErr) {
			ve.Errors = append(ve.Errors, idErr.Errors...)
		}
	}
	if u.PartnerCode != "" {
		if _, problem := cleanText(u.PartnerCode, 32); problem != "" || strings.ContainsAny(u.PartnerCode, " \t") {
			ve.add(FieldPartnerCode, CodeInvalid, "partner_code must be 1 to 32 characters without spaces")
		}
	}
	if u.Version < 0 {
		ve.add(FieldVersion, CodeInvalid, "version must be 1 or more")
	}
	if u.Version == 0 {
		u.Version = 1
	}
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
	u.UpdatedAt = u.UpdatedAt.UTC().Truncate(time.Microsecond)
	switch {
	case u.CreatedAt.IsZero() && u.UpdatedAt.IsZero():
		u.CreatedAt, u.UpdatedAt = now, now
	case u.CreatedAt.IsZero():
		u.CreatedAt = u.UpdatedAt
	case u.UpdatedAt.IsZero():
		u.UpdatedAt = u.CreatedAt
	}
	if u.UpdatedAt.Before(u.CreatedAt) {
		ve.add(FieldUpdatedAt, CodeInvalid, "updated_at is before created_at")
	}
	// Both stores keep microseconds since 1970 in a signed 64-bit column.
	for _, t := range []struct {
		f Field
		v time.Time
	}{{FieldCreatedAt, u.CreatedAt}, {FieldUpdatedAt, u.UpdatedAt}} {
		if t.v.Year() < 1970 || t.v.Year() > 9999 {
			ve.add(t.f, CodeInvalid, fmt.Sprintf("%s must lie between 1970 and 9999", t.f))
		}
	}
	return ve.orNil()
}

// checkImportIDs canonicalises the user's id and alias ids, which must be
// UUIDs when given.
func checkImportIDs(u *User) error {
	ve := &ValidationError{}
	if u.ID != "" {
		if id, ok := ParseID(u.ID); ok {
			u.ID = id
		} else {
			ve.add(FieldID, CodeInvalid, "id must be a UUID")
		}
	}
	for i := range u.Aliases {
		a := &u.Aliases[i]
		if a.ID = strings.TrimSpace(a.ID); a.ID == "" {
			continue
		}
		if id, ok := ParseID(a.ID); ok {
			a.ID = id
		} else {
			ve.add(FieldAliases, CodeInvalid, fmt.Sprintf("alias id %q is not a UUID", a.ID))
		}
	}
	return ve.orNil()
}

// hasIdentifier reports whether u carries a field that can identify a
// user: a row with none would create an anonymous, unfindable user.
func hasIdentifier(u *User) bool {
	for _, s := range []string{u.ID, u.Username, u.ExternalID, u.Email, u.Phone, u.Mobile} {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	for _, a := range u.Aliases {
		if strings.TrimSpace(a.Value) != "" {
			return true
		}
	}
	for _, k := range []ValueKind{KindEmail, KindPhone} {
		for _, v := range u.Values[k] {
			if strings.TrimSpace(v.Value) != "" {
				return true
			}
		}
	}
	return false
}
