package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ExecForTest runs a statement on the writer, for tests that must reach
// under the API (a future schema version, a WAL checkpoint).
func ExecForTest(ctx context.Context, s *Store, query string) error {
	_, err := s.w.ExecContext(ctx, query)
	return err
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
