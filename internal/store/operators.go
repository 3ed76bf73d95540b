package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// This file stores the admin console's operators and sessions (issue 13)
// and its one write that is not a change: the audit entry of an SSN
// reveal. It is the console's own interface (console.Store), kept apart
// from directory.Store so the core's contract does not grow.

const operatorColumns = `id, email, email_norm, role, password_hash, created_at, locked_until, last_sign_in_at`

func scanOperator(sc interface{ Scan(...any) error }) (*directory.Operator, error) {
	var o directory.Operator
	var role string
	var created, locked, last int64
	if err := sc.Scan(&o.ID, &o.Email, &o.EmailNorm, &role, &o.PasswordHash, &created, &locked, &last); err != nil {
		return nil, err
	}
	o.Role = directory.Role(role)
	o.CreatedAt = fromMicros(created)
	if locked != 0 {
		o.LockedUntil = fromMicros(locked)
	}
	if last != 0 {
		o.LastSignIn = fromMicros(last)
	}
	return &o, nil
}

// CreateOperator inserts o. An e-mail another operator holds (compared
// lower-cased) is ErrConflict.
func (s *Store) CreateOperator(ctx context.Context, o *directory.Operator) error {
	if _, err := s.exec(ctx,
		`INSERT INTO operators (id, email, email_norm, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		o.ID, o.Email, o.EmailNorm, string(o.Role), o.PasswordHash, micros(o.CreatedAt)); err != nil {
		return fmt.Errorf("insert operator: %w", s.d.classify(err))
	}
	return nil
}

// GetOperatorByEmail returns the operator whose normalised e-mail is
// emailNorm, or ErrNotFound.
func (s *Store) GetOperatorByEmail(ctx context.Context, emailNorm string) (*directory.Operator, error) {
	o, err := scanOperator(s.r.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE email_norm = $1`, emailNorm))
	if err != nil {
		return nil, fmt.Errorf("get operator: %w", s.d.classify(err))
	}
	return o, nil
}

// GetOperator returns the operator with id, or ErrNotFound.
func (s *Store) GetOperator(ctx context.Context, id string) (*directory.Operator, error) {
	o, err := scanOperator(s.r.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get operator: %w", s.d.classify(err))
	}
	return o, nil
}

// RecordSignInFailure counts one failed sign-in of operator id at time
// at, in a window that restarts when its first failure is older than
// window; once the count reaches limit the operator is locked until
// at+lockFor and the count restarts. It returns the lock's end (zero when
// not locked). One statement does the counting, so concurrent failures
// on several instances are all counted.
func (s *Store) RecordSignInFailure(ctx context.Context, id string, at time.Time, window time.Duration, limit int, lockFor time.Duration) (time.Time, error) {
	now, start := micros(at), micros(at.Add(-window))
	var locked int64
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var count int64
		if err := tx.QueryRowContext(ctx,
			`UPDATE operators SET
				failed_count = CASE WHEN failed_since < $2 THEN 1 ELSE failed_count + 1 END,
				failed_since = CASE WHEN failed_since < $2 THEN $3 ELSE failed_since END
			WHERE id = $1 RETURNING failed_count`, id, start, now).Scan(&count); err != nil {
			return s.d.classify(err)
		}
		if count < int64(limit) {
			return nil
		}
		locked = micros(at.Add(lockFor))
		_, err := tx.ExecContext(ctx,
			`UPDATE operators SET locked_until = $2, failed_count = 0, failed_since = 0 WHERE id = $1`, id, locked)
		return s.d.classify(err)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("record sign-in failure: %w", err)
	}
	if locked == 0 {
		return time.Time{}, nil
	}
	return fromMicros(locked), nil
}

// RecordSignIn clears the failure count of operator id and records a
// successful sign-in at time at.
func (s *Store) RecordSignIn(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE operators SET failed_count = 0, failed_since = 0, last_sign_in_at = $2 WHERE id = $1`, id, micros(at))
	if err != nil {
		return fmt.Errorf("record sign-in: %w", s.d.classify(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("record sign-in: %w", directory.ErrNotFound)
	}
	return nil
}

// CreateOperatorSession stores a session (its hash).
func (s *Store) CreateOperatorSession(ctx context.Context, ss *directory.OperatorSession) error {
	if _, err := s.exec(ctx,
		`INSERT INTO operator_sessions (hash, operator_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		ss.Hash, ss.OperatorID, micros(ss.CreatedAt), micros(ss.LastSeenAt), micros(ss.ExpiresAt)); err != nil {
		return fmt.Errorf("insert operator session: %w", s.d.classify(err))
	}
	return nil
}

// GetOperatorSession returns the session with this hash, expired or
// not, or ErrNotFound.
func (s *Store) GetOperatorSession(ctx context.Context, hash []byte) (*directory.OperatorSession, error) {
	var ss directory.OperatorSession
	var created, seen, expires int64
	err := s.r.QueryRowContext(ctx,
		`SELECT hash, operator_id, created_at, last_seen_at, expires_at FROM operator_sessions WHERE hash = $1`, hash).
		Scan(&ss.Hash, &ss.OperatorID, &created, &seen, &expires)
	if err != nil {
		return nil, fmt.Errorf("get operator session: %w", s.d.classify(err))
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &ss, nil
}

// TouchOperatorSession records a use of the session at time at.
func (s *Store) TouchOperatorSession(ctx context.Context, hash []byte, at time.Time) error {
	if _, err := s.exec(ctx, `UPDATE operator_sessions SET last_seen_at = $2 WHERE hash = $1`, hash, micros(at)); err != nil {
		return fmt.Errorf("touch operator session: %w", s.d.classify(err))
	}
	return nil
}

// DeleteOperatorSession removes one session; no error if it is gone.
func (s *Store) DeleteOperatorSession(ctx context.Context, hash []byte) error {
	if _, err := s.exec(ctx, `DELETE FROM operator_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete operator session: %w", s.d.classify(err))
	}
	return nil
}

// DeleteExpiredOperatorSessions removes the sessions that expired before
// before, or were last used before idleBefore, and returns how many.
func (s *Store) DeleteExpiredOperatorSessions(ctx context.Context, before, idleBefore time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM operator_sessions WHERE expires_at < $1 OR last_seen_at < $2`, micros(before), micros(idleBefore))
	if err != nil {
		return 0, fmt.Errorf("delete expired operator sessions: %w", s.d.classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired operator sessions: %w", err)
	}
	return n, nil
}

// RecordAudit writes one audit entry on its own: for an event that
// changes nothing (an SSN revealed), so has no write to ride with. It
// returns after the entry is durably committed.
func (s *Store) RecordAudit(ctx context.Context, e *directory.AuditEntry) error {
	if e == nil {
		return errors.New("record audit: no entry")
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.recordChange(ctx, tx, &directory.Change{Audit: *e})
	})
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}
