package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// replicaMaxWait bounds how long a list waits for the read replica to
// replay the primary's WAL up to the position the read needs before it
// reads from the primary instead. Streaming replicas on a healthy network
// are milliseconds behind; a replica further behind than this is lagging
// and the primary answers.
const replicaMaxWait = 50 * time.Millisecond

// replica is the optional read replica of a PostgreSQL store
// (Options.ReadURL, ROSTER_DB_READ).
type replica struct {
	db *sql.DB
	// Reads served by the replica, and by the primary because the
	// replica was behind or failed.
	served, fellBack atomic.Int64
}

// ReplicaReads returns how many list reads the read replica served and
// how many went to the primary instead (the replica behind, or failing);
// both are 0 without a replica.
func (s *Store) ReplicaReads() (served, fellBack int64) {
	if s.rep == nil {
		return 0, 0
	}
	return s.rep.served.Load(), s.rep.fellBack.Load()
}

// openReplica opens the read replica's pool. Its connection failures are
// classified as the primary's are, but never reach a caller: a list falls
// back to the primary.
func openReplica(url string) (*replica, error) {
	conn, err := newPGConnector(url)
	if err != nil {
		return nil, fmt.Errorf("read replica: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &replica{db: db}, nil
}

// listTx begins the read-only snapshot transaction of a list or search.
// With a read replica it runs there when the replica has replayed the
// primary's WAL at least up to the primary's current WAL position taken
// at the start of this read, which lies past the commit record of every
// write acknowledged before the read began, by any client through any
// instance: the read then sees all of them (read-your-writes, and more).
// The position is compared before the snapshot is taken, so the snapshot
// includes everything up to it. Otherwise (the replica behind for longer
// than replicaMaxWait, unreachable, or not a standby) the primary serves
// the read.
func (s *Store) listTx(ctx context.Context) (*sql.Tx, error) {
	if s.rep == nil {
		return s.readTx(ctx)
	}
	tx, err := s.replicaTx(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		s.rep.fellBack.Add(1)
		return s.readTx(ctx)
	}
	s.rep.served.Add(1)
	return tx, nil
}

// errReplicaBehind: the replica did not catch up within replicaMaxWait.
var errReplicaBehind = errors.New("read replica is behind the primary")

func (s *Store) replicaTx(ctx context.Context) (*sql.Tx, error) {
	var want string
	// pg_current_wal_lsn is the primary's WAL write position: past the
	// commit record of every transaction that has been acknowledged.
	if err := s.w.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&want); err != nil {
		return nil, fmt.Errorf("primary WAL position: %w", s.d.classify(err))
	}
	deadline := time.Now().Add(replicaMaxWait)
	for {
		var caughtUp bool
		// NULL on a server that is not a standby: never caught up.
		if err := s.rep.db.QueryRowContext(ctx,
			`SELECT COALESCE(pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn), false)`, want).Scan(&caughtUp); err != nil {
			return nil, fmt.Errorf("replica replay position: %w", err)
		}
		if caughtUp {
			break
		}
		if time.Now().After(deadline) {
			return nil, errReplicaBehind
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	tx, err := s.rep.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.d.snapshot})
	if err != nil {
		return nil, fmt.Errorf("begin on replica: %w", err)
	}
	return tx, nil
}
