package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

// CreateGroup inserts g and its members in one transaction. A member that
// is not a user of g's tenant fails the composite foreign key:
// ErrInvalidReference. A display name another group of the tenant holds
// (compared lower-cased) is a *directory.ConflictError naming that group.
//
// The unique index on (tenant_id, display_name_norm) decides, as
// user_claims does for users: ON CONFLICT DO NOTHING leaves the
// transaction usable on PostgreSQL (where a failed statement would abort
// it), so the holder is read in the same transaction. On PostgreSQL a
// concurrent, uncommitted insert of the same name makes ours wait for its
// transaction, and the read that follows sees its committed row.
func (s *Store) CreateGroup(ctx context.Context, g *directory.Group, ch *directory.Change) error {
	norm := strings.ToLower(g.DisplayName)
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO groups (tenant_id, id, display_name, display_name_norm, external_id, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (tenant_id, display_name_norm) DO NOTHING`,
			g.TenantID, g.ID, g.DisplayName, norm, g.ExternalID,
			g.Version, micros(g.CreatedAt), micros(g.UpdatedAt))
		if err != nil {
			return fmt.Errorf("insert group: %w", s.d.classify(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("insert group: %w", err)
		} else if n == 0 {
			return fmt.Errorf("insert group: %w", groupNameConflict(ctx, tx, g.TenantID, g.ID, norm))
		}
		if err := insertMembers(ctx, tx, g); err != nil {
			return fmt.Errorf("insert group: %w", s.d.classify(err))
		}
		return s.recordChange(ctx, tx, ch)
	})
}

func insertMembers(ctx context.Context, tx *sql.Tx, g *directory.Group) error {
	seen := make(map[string]bool, len(g.Members))
	rows := make([][]any, 0, len(g.Members))
	for _, m := range g.Members {
		if !seen[m.UserID] {
			seen[m.UserID] = true
			rows = append(rows, []any{g.TenantID, g.ID, m.UserID})
		}
	}
	return insertRows(ctx, tx, `INSERT INTO group_members (tenant_id, group_id, user_id)`, rows)
}

// groupNameConflict is the error of a group write whose display name
// (lower-cased: norm) another group of the tenant holds, naming that group
// as read in tx. self is the written group, which never conflicts with
// itself.
func groupNameConflict(ctx context.Context, tx *sql.Tx, tenantID, self, norm string) error {
	var holder string
	err := tx.QueryRowContext(ctx,
		`SELECT id FROM groups WHERE tenant_id = $1 AND display_name_norm = $2 AND id <> $3`,
		tenantID, norm, self).Scan(&holder)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // no rows: the holder vanished since
		return fmt.Errorf("read display name holder: %w", err)
	}
	return &directory.ConflictError{Field: directory.FieldDisplayName, Value: norm, ExistingID: holder}
}

// UpdateGroup replaces the group and its member set, provided the stored
// version equals expectVersion. ErrNotFound, ErrPrecondition or
// ErrInvalidReference otherwise, and a *directory.ConflictError as in
// CreateGroup when the new display name is taken.
//
// An UPDATE has no ON CONFLICT clause, so it runs inside a savepoint: a
// unique violation undoes the savepoint only, and the transaction stays
// usable on PostgreSQL to read the holder.
func (s *Store) UpdateGroup(ctx context.Context, g *directory.Group, expectVersion int64, ch *directory.Change) error {
	norm := strings.ToLower(g.DisplayName)
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT group_name`); err != nil {
			return fmt.Errorf("update group: %w", s.d.classify(err))
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE groups SET display_name = $3, display_name_norm = $4, external_id = $5, version = $6, updated_at = $7
			WHERE tenant_id = $1 AND id = $2 AND version = $8`,
			g.TenantID, g.ID, g.DisplayName, norm, g.ExternalID,
			g.Version, micros(g.UpdatedAt), expectVersion)
		if err != nil {
			if !s.d.isUnique(err) {
				return fmt.Errorf("update group: %w", s.d.classify(err))
			}
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT group_name`); rerr != nil {
				return fmt.Errorf("update group: %w", errors.Join(s.d.classify(err), rerr))
			}
			return fmt.Errorf("update group: %w", groupNameConflict(ctx, tx, g.TenantID, g.ID, norm))
		}
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT group_name`); err != nil {
			return fmt.Errorf("update group: %w", s.d.classify(err))
		}
		if err := s.checkVersioned(ctx, tx, res, "groups", g.TenantID, g.ID); err != nil {
			return fmt.Errorf("update group: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2`, g.TenantID, g.ID); err != nil {
			return fmt.Errorf("update group: %w", s.d.classify(err))
		}
		if err := insertMembers(ctx, tx, g); err != nil {
			return fmt.Errorf("update group: %w", s.d.classify(err))
		}
		return s.recordChange(ctx, tx, ch)
	})
}

// DeleteGroup removes the group and its memberships. Errors as
// DeleteUser.
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string, expectVersion int64, ch *directory.Change) error {
	return s.deleteVersioned(ctx, "groups", tenantID, id, expectVersion, ch)
}

const groupSelect = `SELECT g.tenant_id, g.id, g.display_name, g.external_id, g.version, g.created_at, g.updated_at FROM groups g `

func (s *Store) queryGroups(ctx context.Context, q querier, tenantID string, members bool, query string, args ...any) ([]*directory.Group, error) {
	rows, err := q.QueryContext(ctx, groupSelect+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	groups := []*directory.Group{}
	for rows.Next() {
		var g directory.Group
		var created, updated int64
		if err := rows.Scan(&g.TenantID, &g.ID, &g.DisplayName, &g.ExternalID, &g.Version, &created, &updated); err != nil {
			return nil, err
		}
		g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
		groups = append(groups, &g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if members {
		if err := loadMembers(ctx, q, tenantID, groups); err != nil {
			return nil, err
		}
	}
	return groups, nil
}

// loadMembers fills in the members of groups, ordered by user id, with
// their display names: "first last" trimmed, else the username.
func loadMembers(ctx context.Context, q querier, tenantID string, groups []*directory.Group) error {
	const chunk = 500
	byID := make(map[string]*directory.Group, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
		g.Members = []directory.Member{}
	}
	for start := 0; start < len(groups); start += chunk {
		part := groups[start:min(start+chunk, len(groups))]
		args := []any{tenantID}
		for _, g := range part {
			args = append(args, g.ID)
		}
		rows, err := q.QueryContext(ctx,
			`SELECT m.group_id, m.user_id, u.first_name, u.last_name, u.username
			FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
			WHERE m.tenant_id = $1 AND m.group_id IN (`+placeholders(2, len(part))+`)
			ORDER BY m.group_id, m.user_id`, args...)
		if err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		for rows.Next() {
			var groupID, first, last, username string
			var m directory.Member
			if err := rows.Scan(&groupID, &m.UserID, &first, &last, &username); err != nil {
				rows.Close()
				return fmt.Errorf("load members: %w", err)
			}
			m.Display = strings.TrimSpace(first + " " + last)
			if m.Display == "" {
				m.Display = username
			}
			if g := byID[groupID]; g != nil {
				g.Members = append(g.Members, m)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("load members: %w", err)
		}
	}
	return nil
}

// GetGroup returns the group with its members, or ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, tenantID, id string) (*directory.Group, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("get group: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	gs, err := s.queryGroups(ctx, tx, tenantID, true, `WHERE g.tenant_id = $1 AND g.id = $2`, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("get group: %w", err)
	}
	if len(gs) == 0 {
		return nil, fmt.Errorf("get group: %w", directory.ErrNotFound)
	}
	return gs[0], nil
}

// ListGroups returns one page of the tenant's groups (offset paging).
func (s *Store) ListGroups(ctx context.Context, tenantID string, q directory.GroupQuery) (*directory.GroupPage, error) {
	b := &sqlBuilder{d: s.d}
	cond := "g.tenant_id = " + b.arg(tenantID)
	if q.Filter != nil {
		w, err := b.where(q.Filter, terms{cmp: b.groupCmp})
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		cond += " AND " + w
	}
	keys, err := sortCols(q.Sort, mapColumns(groupSortColumns), groupSortColumns[directory.FieldID])
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	countArgs := slices.Clone(b.args)
	query := "WHERE " + cond + " ORDER BY " + orderBy(keys, false) + " LIMIT " + b.arg(int64(pageLimit(q.Limit)))
	if q.Offset > 0 {
		query += " OFFSET " + b.arg(int64(q.Offset))
	}
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	page := &directory.GroupPage{Total: -1}
	if q.Total {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM groups g WHERE "+cond, countArgs...).Scan(&page.Total); err != nil {
			return nil, fmt.Errorf("list groups: count: %w", err)
		}
	}
	page.Groups, err = s.queryGroups(ctx, tx, tenantID, !q.NoMembers, query, b.args...)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return page, nil
}

// GroupsOfUsers returns, for each given user id that is a member of any
// group, its groups ordered by display name (then id). Users in no group
// are absent from the map.
func (s *Store) GroupsOfUsers(ctx context.Context, tenantID string, userIDs []string) (map[string][]directory.GroupRef, error) {
	const chunk = 500
	out := make(map[string][]directory.GroupRef)
	for start := 0; start < len(userIDs); start += chunk {
		part := userIDs[start:min(start+chunk, len(userIDs))]
		args := []any{tenantID}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx,
			`SELECT m.user_id, g.id, g.display_name
			FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
			WHERE m.tenant_id = $1 AND m.user_id IN (`+placeholders(2, len(part))+`)
			ORDER BY m.user_id, g.display_name_norm, g.display_name, g.id`, args...)
		if err != nil {
			return nil, fmt.Errorf("groups of users: %w", err)
		}
		for rows.Next() {
			var userID string
			var ref directory.GroupRef
			if err := rows.Scan(&userID, &ref.ID, &ref.DisplayName); err != nil {
				rows.Close()
				return nil, fmt.Errorf("groups of users: %w", err)
			}
			out[userID] = append(out[userID], ref)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("groups of users: %w", err)
		}
	}
	return out, nil
}
