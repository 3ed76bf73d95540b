package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
)

// recordChange writes ch inside tx, after the write it describes and in
// the same transaction (on SQLite inside that write's group-commit
// savepoint, so a failed write undoes its audit row and key mark too). A
// nil ch writes nothing.
func (s *Store) recordChange(ctx context.Context, tx *sql.Tx, ch *directory.Change) error {
	if ch == nil {
		return nil
	}
	if m := ch.Idempotency; m != nil {
		// Fencing: only the request that holds the key may commit a
		// write under it. A request whose lease ran out and was taken
		// over by a retry fails here, and its write rolls back.
		res, err := tx.ExecContext(ctx,
			`UPDATE idempotency_keys SET state = $7, resource_id = $8
			WHERE tenant_id = $1 AND client_id = $2 AND method = $3 AND route = $4 AND idem_key = $5
			AND owner = $6 AND state IN ('pending', 'committed')`,
			m.Key.TenantID, m.Key.ClientID, m.Key.Method, m.Key.Route, m.Key.Key, m.Owner,
			directory.IdemCommitted, m.ResourceID)
		if err != nil {
			return fmt.Errorf("mark idempotency key: %w", s.d.classify(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("mark idempotency key: %w", err)
		} else if n == 0 {
			return fmt.Errorf("mark idempotency key: %w", directory.ErrIdempotencyInFlight)
		}
	}
	args, err := auditArgs(ch.Audit)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertAuditSQL, args...); err != nil {
		return fmt.Errorf("insert audit entry: %w", s.d.classify(err))
	}
	return s.enqueueWebhooks(ctx, tx, ch) // webhooks.go: the outbox, in this same transaction
}

const insertAuditSQL = `INSERT INTO audit_log (tenant_id, id, at, actor, action, target_type, target_id, fields, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// auditArgs returns the parameters of insertAuditSQL for a.
func auditArgs(a directory.AuditEntry) ([]any, error) {
	fields := a.Fields
	if fields == nil {
		fields = []string{}
	}
	fj, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encode audit fields: %w", err)
	}
	return []any{a.TenantID, a.ID, micros(a.At), a.Actor, a.Action, a.TargetType, a.TargetID, string(fj), a.RequestID}, nil
}

// ListAudit returns a tenant's audit entries matching q, oldest first.
func (s *Store) ListAudit(ctx context.Context, tenantID string, q directory.AuditQuery) ([]*directory.AuditEntry, error) {
	query := `SELECT tenant_id, id, at, actor, action, target_type, target_id, fields, request_id
		FROM audit_log WHERE tenant_id = $1 AND at >= $2`
	args := []any{tenantID, micros(q.Since)}
	if q.Since.IsZero() {
		args[1] = int64(0)
	}
	if q.TargetID != "" {
		query += ` AND target_id = $3`
		args = append(args, q.TargetID)
	}
	query += fmt.Sprintf(` ORDER BY at, id LIMIT %d`, max(q.Limit, 1))
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", s.d.classify(err))
	}
	defer rows.Close()
	var out []*directory.AuditEntry
	for rows.Next() {
		var e directory.AuditEntry
		var at int64
		var fields string
		if err := rows.Scan(&e.TenantID, &e.ID, &at, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &fields, &e.RequestID); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = fromMicros(at)
		if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
			return nil, fmt.Errorf("list audit: fields of %s: %w", e.ID, err)
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit: %w", s.d.classify(err))
	}
	return out, nil
}
