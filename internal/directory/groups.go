package directory

import (
	"context"
	"errors"
	"fmt"
)

// maxMembers bounds one group's member list in one write.
const maxMembers = 10000

// prepareGroup trims and checks g.
func prepareGroup(g *Group) error {
	ve := &ValidationError{}
	var problem string
	g.DisplayName, problem = cleanText(g.DisplayName, maxName)
	if problem != "" {
		ve.add(FieldDisplayName, CodeInvalid, "displayName "+problem)
	} else if g.DisplayName == "" {
		ve.add(FieldDisplayName, CodeRequired, "displayName is required")
	}
	g.ExternalID, problem = cleanText(g.ExternalID, maxName)
	if problem != "" {
		ve.add(FieldExternalID, CodeInvalid, "externalId "+problem)
	}
	if len(g.Members) > maxMembers {
		ve.add("members", CodeTooLong, fmt.Sprintf("at most %d members", maxMembers))
	}
	seen := make(map[string]bool, len(g.Members))
	members := g.Members[:0]
	for _, m := range g.Members {
		id, ok := ParseID(m.UserID)
		if !ok {
			ve.add("members", CodeInvalid, fmt.Sprintf("member %q is not a user id", m.UserID))
			continue
		}
		if !seen[id] {
			seen[id] = true
			members = append(members, Member{UserID: id})
		}
	}
	g.Members = members
	return ve.orNil()
}

// referenceError turns the store's ErrInvalidReference into a validation
// error on members.
func referenceError(err error) error {
	if errors.Is(err, ErrInvalidReference) {
		return Invalid("members", CodeInvalid, "every member must be a user of this tenant")
	}
	return err
}

// CreateGroup creates a group in p's tenant. Display names are unique in
// a tenant, compared case-insensitively (lower-cased), and the database
// decides: a taken one is a *ConflictError with Field FieldDisplayName
// and the holder's id. UpdateGroup reports a rename onto a taken name the
// same way.
func (s *Service) CreateGroup(ctx context.Context, p Principal, in *Group) (*Group, error) {
	g := *in
	g.Members = append([]Member(nil), in.Members...)
	g.TenantID = p.TenantID
	if err := prepareGroup(&g); err != nil {
		return nil, err
	}
	if id := replayOf(ctx, p); id != "" {
		return s.GetGroup(ctx, p, id) // created already; its response was lost
	}
	g.ID = newID()
	g.Version = 1
	g.CreatedAt = s.Now()
	g.UpdatedAt = g.CreatedAt
	ch := s.change(ctx, &p, p.TenantID, ActionGroupCreate, TargetGroup, g.ID, groupFields(nil, &g), g.CreatedAt)
	if err := s.store.CreateGroup(ctx, &g, ch); err != nil {
		return nil, fmt.Errorf("create group: %w", referenceError(err))
	}
	committed(ctx, ch)
	return s.GetGroup(ctx, p, g.ID) // read back for member display names
}

// GetGroup returns a group of p's tenant.
func (s *Service) GetGroup(ctx context.Context, p Principal, id string) (*Group, error) {
	canon, ok := ParseID(id)
	if !ok {
		return nil, ErrNotFound
	}
	g, err := s.store.GetGroup(ctx, p.TenantID, canon)
	if err != nil {
		return nil, fmt.Errorf("get group: %w", err)
	}
	return g, nil
}

// UpdateGroup applies mutate to the stored group and writes it, with the
// same version semantics as UpdateUser.
func (s *Service) UpdateGroup(ctx context.Context, p Principal, id string, ifVersion int64, mutate func(*Group) error) (*Group, error) {
	if rid := replayOf(ctx, p); rid != "" {
		return s.GetGroup(ctx, p, rid) // updated already; its response was lost
	}
	for attempt := 0; ; attempt++ {
		old, err := s.GetGroup(ctx, p, id)
		if err != nil {
			return nil, err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return nil, ErrPrecondition
		}
		g := *old
		g.Members = append([]Member(nil), old.Members...)
		if err := mutate(&g); err != nil {
			return nil, err
		}
		g.ID, g.TenantID, g.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		if err := prepareGroup(&g); err != nil {
			return nil, err
		}
		if sameGroup(old, &g) {
			// Nothing changed (Entra re-adds members it already added):
			// no write, and the version, hence the ETag, stays.
			return old, nil
		}
		g.Version = old.Version + 1
		g.UpdatedAt = s.Now()
		if !g.UpdatedAt.After(old.UpdatedAt) {
			g.UpdatedAt = old.UpdatedAt.Add(1e3)
		}
		ch := s.change(ctx, &p, p.TenantID, ActionGroupUpdate, TargetGroup, g.ID, groupFields(old, &g), g.UpdatedAt)
		err = s.store.UpdateGroup(ctx, &g, old.Version, ch)
		if errors.Is(err, ErrPrecondition) && ifVersion == 0 && attempt < maxRetries {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("update group: %w", referenceError(err))
		}
		committed(ctx, ch)
		return s.GetGroup(ctx, p, g.ID)
	}
}

// sameGroup reports whether a and b have the same name, external id and
// member set (in any order).
func sameGroup(a, b *Group) bool {
	if a.DisplayName != b.DisplayName || a.ExternalID != b.ExternalID || len(a.Members) != len(b.Members) {
		return false
	}
	ids := make(map[string]bool, len(a.Members))
	for _, m := range a.Members {
		ids[m.UserID] = true
	}
	for _, m := range b.Members {
		if !ids[m.UserID] {
			return false
		}
	}
	return true
}

// DeleteGroup deletes a group of p's tenant.
func (s *Service) DeleteGroup(ctx context.Context, p Principal, id string, ifVersion int64) error {
	canon, ok := ParseID(id)
	if !ok {
		return ErrNotFound
	}
	ch := s.change(ctx, &p, p.TenantID, ActionGroupDelete, TargetGroup, canon, nil, s.Now())
	if err := s.store.DeleteGroup(ctx, p.TenantID, canon, ifVersion, ch); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	return nil
}

// ListGroups returns a page of p's groups.
func (s *Service) ListGroups(ctx context.Context, p Principal, q GroupQuery) (*GroupPage, error) {
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = MaxPageSize
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	page, err := s.store.ListGroups(ctx, p.TenantID, q)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return page, nil
}

// GroupsOfUsers returns the groups each user is a member of.
func (s *Service) GroupsOfUsers(ctx context.Context, p Principal, userIDs []string) (map[string][]GroupRef, error) {
	m, err := s.store.GroupsOfUsers(ctx, p.TenantID, userIDs)
	if err != nil {
		return nil, fmt.Errorf("groups of users: %w", err)
	}
	return m, nil
}
