package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

const idemWhere = `tenant_id = $1 AND client_id = $2 AND method = $3 AND route = $4 AND idem_key = $5`

func idemArgs(k directory.IdempotencyKey, more ...any) []any {
	return append([]any{k.TenantID, k.ClientID, k.Method, k.Route, k.Key}, more...)
}

// idemAAD binds a sealed response body to its key: a body copied to
// another row does not open.
func idemAAD(k directory.IdempotencyKey) []byte {
	return []byte("idempotency\x00" + k.TenantID + "\x00" + k.ClientID + "\x00" + k.Method + "\x00" + k.Route + "\x00" + k.Key)
}

// AcquireIdempotencyKey inserts rec as a pending key, or returns the
// stored record of its key, in one transaction. The primary key decides
// between racing requests: on PostgreSQL an uncommitted insert of the same
// key makes ours wait for it and then do nothing; on SQLite writes are
// serial.
func (s *Store) AcquireIdempotencyKey(ctx context.Context, rec *directory.IdempotencyRecord, expiredBefore time.Time) (*directory.IdempotencyRecord, error) {
	var got *directory.IdempotencyRecord
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		got = nil
		insert := func() (bool, error) {
			res, err := tx.ExecContext(ctx,
				`INSERT INTO idempotency_keys (tenant_id, client_id, method, route, idem_key,
					request_hash, state, owner, lease_until, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
				idemArgs(rec.Key, rec.Hash, directory.IdemPending, rec.Owner, micros(rec.LeaseUntil), micros(rec.CreatedAt))...)
			if err != nil {
				return false, s.d.classify(err)
			}
			n, err := res.RowsAffected()
			return n == 1, err
		}
		ok, err := insert()
		if err != nil {
			return fmt.Errorf("insert idempotency key: %w", err)
		}
		if ok {
			got = rec
			return nil
		}
		cur, err := s.readIdempotency(ctx, tx, rec.Key)
		if err != nil {
			return err
		}
		if cur.CreatedAt.Before(expiredBefore) {
			// Expired but not yet pruned: forgotten, as if absent.
			if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE `+idemWhere, idemArgs(rec.Key)...); err != nil {
				return fmt.Errorf("delete expired idempotency key: %w", s.d.classify(err))
			}
			if ok, err := insert(); err != nil || !ok {
				return fmt.Errorf("insert idempotency key: %w", errors.Join(err, errors.New("row reappeared")))
			}
			got = rec
			return nil
		}
		if cur.State == directory.IdemPending && cur.LeaseUntil.Before(rec.CreatedAt) && string(cur.Hash) == string(rec.Hash) {
			// Its holder died (or is very slow): take it over. The old
			// holder's write, if it ever comes, fails its owner check.
			res, err := tx.ExecContext(ctx,
				`UPDATE idempotency_keys SET owner = $7, lease_until = $8 WHERE `+idemWhere+` AND owner = $6 AND state = 'pending'`,
				idemArgs(rec.Key, cur.Owner, rec.Owner, micros(rec.LeaseUntil))...)
			if err != nil {
				return fmt.Errorf("take over idempotency key: %w", s.d.classify(err))
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				cur.Owner, cur.LeaseUntil = rec.Owner, rec.LeaseUntil
			}
		}
		got = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

func (s *Store) readIdempotency(ctx context.Context, tx *sql.Tx, k directory.IdempotencyKey) (*directory.IdempotencyRecord, error) {
	r := &directory.IdempotencyRecord{Key: k}
	var lease, created, status int64
	var headers string
	var sealed []byte
	err := tx.QueryRowContext(ctx,
		`SELECT request_hash, state, owner, lease_until, resource_id, status, headers, body_sealed, created_at
		FROM idempotency_keys WHERE `+idemWhere, idemArgs(k)...).
		Scan(&r.Hash, &r.State, &r.Owner, &lease, &r.ResourceID, &status, &headers, &sealed, &created)
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", s.d.classify(err))
	}
	r.LeaseUntil, r.CreatedAt = fromMicros(lease), fromMicros(created)
	if r.State == directory.IdemDone {
		resp := &directory.IdempotentResponse{Status: int(status)}
		if headers != "" {
			if err := json.Unmarshal([]byte(headers), &resp.Header); err != nil {
				return nil, fmt.Errorf("read idempotency key: headers: %w", err)
			}
		}
		if sealed != nil {
			body, err := s.kr.Open(sealed, idemAAD(k))
			if err != nil {
				return nil, fmt.Errorf("read idempotency key: body: %w", err)
			}
			resp.Body = body
		}
		r.Response = resp
	}
	return r, nil
}

// CompleteIdempotencyKey records the response of a committed key. The
// first response recorded wins: a key already done is left alone.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, k directory.IdempotencyKey, resp *directory.IdempotentResponse) error {
	var headers string
	if len(resp.Header) > 0 {
		b, err := json.Marshal(resp.Header)
		if err != nil {
			return fmt.Errorf("complete idempotency key: %w", err)
		}
		headers = string(b)
	}
	sealed := s.kr.Seal(resp.Body, idemAAD(k))
	_, err := s.exec(ctx,
		`UPDATE idempotency_keys SET state = $6, status = $7, headers = $8, body_sealed = $9
		WHERE `+idemWhere+` AND state = 'committed'`,
		idemArgs(k, directory.IdemDone, int64(resp.Status), headers, sealed)...)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", s.d.classify(err))
	}
	return nil
}

// ReleaseIdempotencyKey deletes a pending key that owner holds.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, k directory.IdempotencyKey, owner string) error {
	_, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE `+idemWhere+` AND owner = $6 AND state = 'pending'`,
		idemArgs(k, owner)...)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", s.d.classify(err))
	}
	return nil
}

// DeleteExpiredIdempotencyKeys deletes keys created before t and returns
// how many.
func (s *Store) DeleteExpiredIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", s.d.classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return n, nil
}
