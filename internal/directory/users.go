package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/secret"
)

// partnerCodeLen is the length of generated partner codes: 8 Crockford
// base32 characters, 40 bits, so collisions in one tenant are rare and are
// retried.
const partnerCodeLen = 8

// maxRetries bounds retries of a write that lost a race it can recover from
// (a partner-code collision, or a concurrent update between read and write).
const maxRetries = 8

// CreateUser validates in under r, assigns id, timestamps and partner code,
// and inserts it for p's tenant. It returns the stored user. A taken
// identifier is a *ConflictError naming the field and the existing user.
func (s *Service) CreateUser(ctx context.Context, p Principal, in *User, r Rules) (*User, error) {
	u := in.Clone()
	u.TenantID = p.TenantID
	if err := prepare(u, nil, r); err != nil {
		return nil, err
	}
	if id := replayOf(ctx, p); id != "" {
		return s.GetUser(ctx, p, id) // created already; its response was lost
	}
	u.ID = newID()
	u.Version = 1
	u.CreatedAt = s.Now()
	u.UpdatedAt = u.CreatedAt
	for attempt := 0; ; attempt++ {
		u.PartnerCode = newPartnerCode()
		ch := s.change(ctx, &p, p.TenantID, ActionUserCreate, TargetUser, u.ID, userFields(nil, u), u.CreatedAt)
		ch.User = u
		err := s.store.CreateUser(ctx, u, claims(u, p.Unique), ch)
		var cc *ClaimConflict
		if errors.As(err, &cc) && cc.Claim.Kind == ClaimPartnerCode && attempt < maxRetries {
			continue // a random code collided: draw another
		}
		if err != nil {
			return nil, fmt.Errorf("create user: %w", conflictFor(u, err))
		}
		committed(ctx, ch)
		return u, nil
	}
}

// CreateOrGetUser is CreateUser for Ownli's returnExistingUserIfExists: when
// a user of the tenant already has in's e-mail or phone, it returns that user
// unchanged with created=false.
//
// Under a policy that makes e-mail and phone unique the database decides,
// so racing requests yield one user. Under a policy that does not, it looks
// the user up first and creates one if none matched; racing requests can
// then create several users, which the policy allows.
func (s *Service) CreateOrGetUser(ctx context.Context, p Principal, in *User, r Rules) (u *User, created bool, err error) {
	if !p.Unique.Email || !p.Unique.Phone {
		// Validate first: an invalid request is a 400 whether or not a
		// user with its e-mail exists, as it is under the default policy.
		probe := in.Clone()
		probe.TenantID = p.TenantID
		if err := prepare(probe, nil, r); err != nil {
			return nil, false, err
		}
		existing, err := s.findByContact(ctx, p, probe)
		if err != nil || existing != nil {
			return existing, false, err
		}
	}
	u, err = s.CreateUser(ctx, p, in, r)
	var ce *ConflictError
	if errors.As(err, &ce) && (ce.Field == FieldEmail || ce.Field == FieldPhone) && ce.ExistingID != "" {
		existing, gerr := s.GetUser(ctx, p, ce.ExistingID)
		if gerr == nil {
			return existing, false, nil
		}
		if !errors.Is(gerr, ErrNotFound) {
			return nil, false, gerr
		}
		// Deleted between the conflict and the read: report the conflict.
	}
	return u, err == nil, err
}

// findByContact returns a user of p's tenant with u's e-mail or phone, or
// nil. u has been through prepare, so its normalised forms are set.
func (s *Service) findByContact(ctx context.Context, p Principal, u *User) (*User, error) {
	var f Expr
	if u.EmailNorm != "" {
		f = Cmp{Field: FieldEmail, Op: OpEq, Value: u.EmailNorm, Fold: true}
	}
	if u.PhoneNorm != "" {
		pf := Cmp{Field: FieldPhone, Op: OpEq, Value: u.PhoneNorm}
		if f == nil {
			f = pf
		} else {
			f = Or{f, pf}
		}
	}
	if f == nil {
		return nil, nil
	}
	page, err := s.store.ListUsers(ctx, p.TenantID, UserQuery{Filter: f, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("find user by contact: %w", err)
	}
	if len(page.Users) == 0 {
		return nil, nil
	}
	return page.Users[0], nil
}

// GetUser returns a user of p's tenant. id may be dashed or 32-hex.
func (s *Service) GetUser(ctx context.Context, p Principal, id string) (*User, error) {
	canon, ok := ParseID(id)
	if !ok {
		return nil, ErrNotFound
	}
	u, err := s.store.GetUser(ctx, p.TenantID, canon)
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// FindUserByLogin returns the user whose username or alias is login
// (case-insensitive), or ErrNotFound.
func (s *Service) FindUserByLogin(ctx context.Context, p Principal, login string) (*User, error) {
	if strings.ContainsRune(login, 0) {
		return nil, ErrNotFound // no login holds a NUL (prepare refuses control characters)
	}
	u, err := s.store.FindUserByClaim(ctx, p.TenantID, Claim{ClaimLogin, strings.ToLower(strings.TrimSpace(login))})
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// UpdateUser applies mutate to the stored user and writes the result under
// r. ifVersion, when non-zero, is the version the caller last saw (SCIM
// If-Match): a different stored version is ErrPrecondition. Without it, a
// concurrent update between read and write makes UpdateUser read again and
// re-apply mutate, so partial updates never overwrite each other.
//
// mutate may not change the id, tenant, version, timestamps or partner
// code; those are restored after it runs.
func (s *Service) UpdateUser(ctx context.Context, p Principal, id string, r Rules, ifVersion int64, mutate func(*User) error) (*User, error) {
	if rid := replayOf(ctx, p); rid != "" {
		return s.GetUser(ctx, p, rid) // updated already; its response was lost
	}
	for attempt := 0; ; attempt++ {
		old, err := s.GetUser(ctx, p, id)
		if err != nil {
			return nil, err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return nil, ErrPrecondition
		}
		u := old.Clone()
		if err := mutate(u); err != nil {
			return nil, err
		}
		u.ID, u.TenantID, u.CreatedAt, u.PartnerCode = old.ID, old.TenantID, old.CreatedAt, old.PartnerCode
		if err := prepare(u, old, r); err != nil {
			return nil, err
		}
		u.Version = old.Version + 1
		u.UpdatedAt = s.Now()
		if !u.UpdatedAt.After(old.UpdatedAt) {
			u.UpdatedAt = old.UpdatedAt.Add(1e3) // keep updated_at strictly increasing
		}
		ch := s.change(ctx, &p, p.TenantID, ActionUserUpdate, TargetUser, u.ID, userFields(old, u), u.UpdatedAt)
		ch.User = u
		err = s.store.UpdateUser(ctx, u, claims(u, p.Unique), old.Version, ch)
		if errors.Is(err, ErrPrecondition) && ifVersion == 0 && attempt < maxRetries {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("update user: %w", conflictFor(u, err))
		}
		committed(ctx, ch)
		return u, nil
	}
}

// DeleteUser deletes a user of p's tenant. ifVersion as in UpdateUser.
func (s *Service) DeleteUser(ctx context.Context, p Principal, id string, ifVersion int64) error {
	canon, ok := ParseID(id)
	if !ok {
		return ErrNotFound
	}
	ch := s.change(ctx, &p, p.TenantID, ActionUserDelete, TargetUser, canon, nil, s.Now())
	if err := s.store.DeleteUser(ctx, p.TenantID, canon, ifVersion, ch); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// ListUsers returns a page of p's users. Limit is capped at MaxPageSize.
func (s *Service) ListUsers(ctx context.Context, p Principal, q UserQuery) (*UserPage, error) {
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = MaxPageSize
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	if filterHasNUL(q.Filter) {
		// Stored text holds no NUL (prepare refuses control characters),
		// and PostgreSQL text cannot carry one as a parameter: answer
		// the client, don't fail in the database.
		return nil, Invalid("filter", CodeInvalid, "a filter value may not contain a NUL character")
	}
	page, err := s.store.ListUsers(ctx, p.TenantID, q)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return page, nil
}

// filterHasNUL reports whether a string value of e holds a NUL.
func filterHasNUL(e Expr) bool {
	switch x := e.(type) {
	case And:
		return filterHasNUL(x.L) || filterHasNUL(x.R)
	case Or:
		return filterHasNUL(x.L) || filterHasNUL(x.R)
	case Not:
		return filterHasNUL(x.X)
	case Any:
		return filterHasNUL(x.X)
	case Cmp:
		s, ok := x.Value.(string)
		return ok && strings.ContainsRune(s, 0) || strings.ContainsRune(string(x.Field), 0)
	}
	return false
}

// conflictFor turns a store *ClaimConflict into a *ConflictError naming the
// user field; other errors pass through.
func conflictFor(u *User, err error) error {
	var cc *ClaimConflict
	if errors.As(err, &cc) {
		return &ConflictError{Field: conflictField(u, cc.Claim), Value: cc.Claim.Value, ExistingID: cc.ExistingID}
	}
	return err
}

func newPartnerCode() string { return secret.NewCode(partnerCodeLen) }
