package store

import (
	"context"

	"github.com/roster-dev/roster/internal/directory"
)

// EnqueueWebhooksReadOnlyForTest runs ch's outbox step n times in one
// read-only transaction on the read pool: for a tenant without a
// subscription that is all a user write pays for webhooks (one SELECT),
// measured without the transaction and commit around it.
func EnqueueWebhooksReadOnlyForTest(ctx context.Context, s *Store, ch *directory.Change, n int) error {
	tx, err := s.readTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	for range n {
		if err := s.enqueueWebhooks(ctx, tx, ch); err != nil {
			return err
		}
	}
	return nil
}

// QueryLoopForTest runs query n times in one read-only transaction, each
// result read to its end: the floor EnqueueWebhooksReadOnlyForTest is
// measured against.
func QueryLoopForTest(ctx context.Context, s *Store, n int, query string, args ...any) error {
	tx, err := s.readTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	for range n {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}
