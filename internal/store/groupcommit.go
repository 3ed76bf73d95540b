package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by a write made after Close.
var ErrClosed = errors.New("store: closed")

// maxBatch bounds the writes in one group commit, and so the time one
// transaction holds SQLite's write lock (readers never wait for it: WAL).
// A batch is whatever queued during the previous commit, so with N
// concurrent writers it settles near N; 256 lets it follow up to 256
// writers rather than splitting their writes over several commits (at
// about 0.1 ms of writer time per create, a full batch holds the lock
// for some 25 ms).
const maxBatch = 256

// groupCommitter runs SQLite's writes. SQLite has one writer, and each
// transaction pays one fsync at COMMIT (synchronous=FULL), so one
// transaction per write caps throughput at one write per fsync. Instead one
// goroutine takes every write queued while it was busy, runs them in one
// transaction, each inside its own SAVEPOINT so that a failing write undoes
// only itself, COMMITs once, and only then answers the callers: Invariant 1
// ("concurrent writes may share one commit; none is acknowledged before its
// commit"). There is no timer: a lone write starts at once, and writes
// batch only while a commit is in progress.
type groupCommitter struct {
	db *sql.DB

	mu     sync.Mutex
	queue  []*writeReq
	closed bool // set by close; no write is queued after it

	wake    chan struct{} // capacity 1: the queue may be non-empty
	quit    chan struct{} // closed by close
	stopped chan struct{} // closed when run returns

	// commits and committed count successful COMMITs and the writes they
	// contained (for tests).
	commits, committed atomic.Int64
	// observe, when set, is told of each COMMIT (Options.CommitObserver).
	observe CommitObserver
}

// writeReq is one caller's write. state makes "the committer starts it" and
// "its caller gives up on it" mutually exclusive.
type writeReq struct {
	ctx   context.Context
	fn    func(context.Context, *sql.Tx) error
	state atomic.Int32
	done  chan error // capacity 1; receives the outcome exactly once
	err   error      // fn's own outcome, kept by the committer until the batch ends
}

const (
	reqQueued int32 = iota
	reqStarted
	reqAbandoned
)

func newGroupCommitter(db *sql.DB) *groupCommitter {
	g := &groupCommitter{
		db:      db,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go g.run()
	return g
}

// do queues fn and waits for its outcome: nil once the transaction holding
// it has committed. If ctx ends before fn starts, fn never runs and do
// returns ctx.Err(); once fn has started, do waits for its outcome.
func (g *groupCommitter) do(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	g.queue = append(g.queue, r)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		return <-r.done // started: only its outcome tells whether it committed
	}
}

// close stops accepting writes, waits for the queued ones to finish, and
// stops the committer. It may be called more than once.
func (g *groupCommitter) close() {
	g.mu.Lock()
	already := g.closed
	g.closed = true
	g.mu.Unlock()
	if !already {
		close(g.quit)
	}
	<-g.stopped
}

func (g *groupCommitter) run() {
	defer close(g.stopped)
	for {
		select {
		case <-g.wake:
		case <-g.quit:
		}
		// Drain: after close no write joins the queue, so this ends, and
		// every write accepted before close gets its outcome.
		for {
			g.mu.Lock()
			n := min(len(g.queue), maxBatch)
			batch := g.queue[:n:n]
			g.queue = g.queue[n:]
			g.mu.Unlock()
			if n == 0 {
				break
			}
			g.commit(batch)
		}
		select {
		case <-g.quit:
			return
		default:
		}
	}
}

// commit runs batch in one transaction and answers every write in it.
// Writes that ran are answered only after the transaction ends, failed or
// not: a write may fail against another's uncommitted change (a claim it
// took, a version it bumped), and that answer holds only once the change
// has committed.
func (g *groupCommitter) commit(batch []*writeReq) {
	// The committer's own context: one caller's cancellation must not end
	// the transaction the others share.
	ctx := context.Background()
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		failUnstarted(batch, fmt.Errorf("begin: %w", sqlite.classify(err)))
		return
	}
	var ran []*writeReq // with their own outcome in err
	var ok int          // how many of them succeeded
	for i, r := range batch {
		if !r.state.CompareAndSwap(reqQueued, reqStarted) {
			continue // its caller has gone
		}
		if err := r.ctx.Err(); err != nil {
			r.done <- err // it did not run, and saw nothing
			continue
		}
		var txErr error
		r.err, txErr = runWrite(ctx, tx, r)
		if txErr != nil {
			// SQLite rolled the whole transaction back (an I/O error, an
			// interrupted statement), taking the writes before this one
			// with it; the statements that follow would run outside any
			// transaction. Roll back and fail the whole batch: nothing of
			// it is committed.
			_ = tx.Rollback() // the transaction is gone already
			if r.err == nil {
				r.err = txErr
			}
			r.done <- r.err
			aborted := fmt.Errorf("group commit aborted: %w", txErr)
			answer(ran, aborted)
			failUnstarted(batch[i+1:], aborted)
			return
		}
		ran = append(ran, r)
		if r.err == nil {
			ok++
		}
	}
	if ok == 0 {
		// Nothing to commit, and the failed writes saw no one's change
		// but committed ones: their savepoints are undone.
		_ = tx.Rollback() // an error here changes nothing
		answer(ran, nil)
		return
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		answer(ran, fmt.Errorf("commit: %w", sqlite.classify(err)))
		return
	}
	if g.observe != nil {
		g.observe(ok, time.Since(start))
	}
	g.commits.Add(1)
	g.committed.Add(int64(ok))
	answer(ran, nil)
}

// answer sends each write its own outcome, or batchErr to all of them
// when the batch did not commit.
func answer(ran []*writeReq, batchErr error) {
	for _, r := range ran {
		if batchErr != nil {
			r.done <- batchErr
		} else {
			r.done <- r.err
		}
	}
}

// failUnstarted fails the writes of batch that have not started, unless
// their callers have gone.
func failUnstarted(batch []*writeReq, err error) {
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqStarted) {
			r.done <- err
		}
	}
}

// runWrite runs r.fn inside a savepoint of tx. werr is the write's own
// error, after which its savepoint has been rolled back; txErr means tx
// can no longer be used.
func runWrite(ctx context.Context, tx *sql.Tx, r *writeReq) (werr, txErr error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT roster_write`); err != nil {
		return nil, fmt.Errorf("savepoint: %w", err)
	}
	werr = callWrite(tx, r)
	if werr == nil && r.ctx.Err() != nil {
		// Cancelled while running: undo it, as a transaction of its own
		// would have been rolled back.
		werr = r.ctx.Err()
	}
	if werr != nil {
		// This fails with "no such savepoint" if SQLite has rolled back
		// the whole transaction.
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO roster_write`); err != nil {
			return werr, fmt.Errorf("rollback to savepoint: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE roster_write`); err != nil {
		return werr, fmt.Errorf("release savepoint: %w", err)
	}
	return werr, nil
}

// callWrite calls r.fn, turning a panic into an error of that write so
// that the committer, and the writes batched with it, carry on.
//
// fn gets r.ctx without its cancellation: modernc interrupts a statement
// whose context ends, and SQLite answers an interrupted INSERT, UPDATE or
// DELETE by rolling back the whole transaction, which here is the batch's.
// A cancellation is seen after fn instead (runWrite).
func callWrite(tx *sql.Tx, r *writeReq) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return r.fn(context.WithoutCancel(r.ctx), tx)
}
