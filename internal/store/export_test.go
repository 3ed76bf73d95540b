package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
)

// ExecForTest runs a statement on the writer, for tests that must reach
// under the API (a future schema version, a WAL checkpoint).
func ExecForTest(ctx context.Context, s *Store, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, query, args...)
	return err
}

// MigrateToForTest applies the migrations up to and including version to.
func MigrateToForTest(ctx context.Context, s *Store, to int) (int, error) {
	return s.migrateTo(ctx, to)
}

// QueryStringsForTest runs a query on the read pool and returns its rows,
// each column scanned as text.
func QueryStringsForTest(ctx context.Context, s *Store, query string, args ...any) ([][]string, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// PragmaForTest reads a SQLite pragma on the writer or on the read pool.
func PragmaForTest(ctx context.Context, s *Store, name string, readPool bool) (string, error) {
	db := s.w
	if readPool {
		db = s.r
	}
	var v string
	if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		return "", fmt.Errorf("pragma %s: %w", name, err)
	}
	return v, nil
}

// WriteTxForTest runs fn through the store's writeTx.
func WriteTxForTest(ctx context.Context, s *Store, fn func(context.Context, *sql.Tx) error) error {
	return s.writeTx(ctx, fn)
}

// GroupCommitStatsForTest returns the SQLite group committer's successful
// COMMITs and the writes they contained.
func GroupCommitStatsForTest(s *Store) (commits, writes int64) {
	return s.gc.commits.Load(), s.gc.committed.Load()
}

// QueuedWritesForTest returns how many writes wait for the SQLite group
// committer.
func QueuedWritesForTest(s *Store) int {
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	return len(s.gc.queue)
}

// MaxBatchForTest is the most writes one group commit takes.
const MaxBatchForTest = maxBatch

// ErrPipelineFallbackForTest is what a pipelined create returns when it
// wrote nothing and the transactional path must decide.
var ErrPipelineFallbackForTest = errPipelineFallback

// CreateUserPipelinedForTest runs only the pipelined (PostgreSQL) create.
func CreateUserPipelinedForTest(ctx context.Context, s *Store, u *directory.User, claims []directory.Claim, ch *directory.Change) error {
	args, err := s.userArgs(u)
	if err != nil {
		return err
	}
	values, err := valueRows(u)
	if err != nil {
		return err
	}
	return s.createUserPipelined(ctx, u, args, values, claims, ch)
}
