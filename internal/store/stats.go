package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CommitObserver is told of every committed write transaction: how many
// writes it held and how long its COMMIT took. On SQLite a transaction is
// one group commit (1 to maxBatch writes; the COMMIT is the fsync they
// share); on PostgreSQL every write is its own transaction, so writes is
// 1. It runs on the committing goroutine, after COMMIT and before the
// callers are answered, so it must be quick (a histogram observation).
type CommitObserver func(writes int, commit time.Duration)

// MaxBatch is the most writes one SQLite group commit holds, for the
// buckets of a batch-size histogram.
const MaxBatch = maxBatch

// Pools returns the store's connection pools by role, for a metrics
// collector reading their sql.DBStats: "writer" and "reader" on SQLite
// (the single writer connection and the read-only pool), "pool" on
// PostgreSQL (one pool serves both). The pools belong to the store:
// callers read their Stats and nothing else.
func (s *Store) Pools() map[string]*sql.DB {
	if s.r == s.w {
		return map[string]*sql.DB{"pool": s.w}
	}
	return map[string]*sql.DB{"writer": s.w, "reader": s.r}
}

// CountUsersByTenant returns the number of users of every tenant, by
// tenant id, tenants without users included (0). It is one grouped scan
// of the users primary key (tenant_id, id), an index-only count on both
// backends; see internal/metrics for how often it runs.
func (s *Store) CountUsersByTenant(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT t.id, COALESCE(c.n, 0)
		FROM tenants t
		LEFT JOIN (SELECT tenant_id, count(*) AS n FROM users GROUP BY tenant_id) c ON c.tenant_id = t.id`)
	if err != nil {
		return nil, fmt.Errorf("count users by tenant: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count users by tenant: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count users by tenant: %w", err)
	}
	return out, nil
}
