package store

import (
	"context"
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
