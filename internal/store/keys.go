package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// KeyUsage is how many stored ciphertexts name one key id.
type KeyUsage struct {
	KeyID string `json:"key_id"`
	// SSNs sealed under the key.
	SSNs int64 `json:"ssns"`
	// Responses: stored Idempotency-Key responses sealed under the key
	// (they are pruned after 24 hours, and re-encrypted like SSNs).
	Responses int64 `json:"responses"`
	// Webhooks: webhook signing secrets sealed under the key.
	Webhooks int64 `json:"webhooks"`
}

// KeyUsage counts the sealed SSNs, idempotent responses and webhook
// signing secrets per key id, ordered by key id. It reads only the key-id
// prefix of each ciphertext and decrypts nothing, so it needs no key.
func (s *Store) KeyUsage(ctx context.Context) ([]KeyUsage, error) {
	by := map[string]*KeyUsage{}
	count := func(query string, field func(*KeyUsage) *int64) error {
		rows, err := s.r.QueryContext(ctx, query, secret.MaxKeyIDPrefix)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var prefix []byte
			if err := rows.Scan(&prefix); err != nil {
				return err
			}
			id, err := secret.KeyIDOf(prefix)
			if err != nil {
				id = "(malformed)"
			}
			u := by[id]
			if u == nil {
				u = &KeyUsage{KeyID: id}
				by[id] = u
			}
			*field(u)++
		}
		return rows.Err()
	}
	if err := count(`SELECT substr(ssn_sealed, 1, $1) FROM users WHERE ssn_sealed IS NOT NULL`,
		func(u *KeyUsage) *int64 { return &u.SSNs }); err != nil {
		return nil, fmt.Errorf("count ssn keys: %w", err)
	}
	if err := count(`SELECT substr(body_sealed, 1, $1) FROM idempotency_keys WHERE body_sealed IS NOT NULL`,
		func(u *KeyUsage) *int64 { return &u.Responses }); err != nil {
		return nil, fmt.Errorf("count response keys: %w", err)
	}
	if err := count(`SELECT substr(secret_sealed, 1, $1) FROM webhooks`,
		func(u *KeyUsage) *int64 { return &u.Webhooks }); err != nil {
		return nil, fmt.Errorf("count webhook keys: %w", err)
	}
	out := make([]KeyUsage, 0, len(by))
	for _, u := range by {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID < out[j].KeyID })
	return out, nil
}

// ReencryptStats is what one Reencrypt pass did.
type ReencryptStats struct {
	Scanned     int64 // sealed values looked at
	Reencrypted int64 // re-sealed under the current key
	// Skipped: values a concurrent write replaced between the read and the
	// re-encryption; that write sealed them itself.
	Skipped int64
	Batches int64
}

// Reencrypt seals again, under the keyring's current key, every SSN,
// stored idempotent response and webhook signing secret sealed under
// another key. It walks the rows in keyset order, batch rows at a time
// (default 500): each batch is read outside any transaction, re-sealed in
// memory, and written in one
// transaction whose every UPDATE applies only where the column still holds
// the ciphertext that was read, so a user updated meanwhile keeps its
// update (and its SSN, sealed by that write). A pass is idempotent and may
// be interrupted and run again; rows it skipped or that a process still
// on the old key wrote are taken by the next pass. progress, when not nil,
// is called after each batch.
func (s *Store) Reencrypt(ctx context.Context, batch int, progress func(ReencryptStats)) (ReencryptStats, error) {
	if batch <= 0 {
		batch = 500
	}
	var st ReencryptStats
	if err := s.reencryptUsers(ctx, batch, &st, progress); err != nil {
		return st, err
	}
	if err := s.reencryptResponses(ctx, batch, &st, progress); err != nil {
		return st, err
	}
	if err := s.reencryptWebhooks(ctx, &st, progress); err != nil { // webhooks.go
		return st, err
	}
	return st, nil
}

// resealed is one ciphertext to replace: where, what was read, what to write.
type resealed struct {
	where    []any
	old, new []byte
}

func (s *Store) reencryptUsers(ctx context.Context, batch int, st *ReencryptStats, progress func(ReencryptStats)) error {
	current := s.kr.CurrentKeyID()
	lastTenant, lastID := "", ""
	for {
		rows, err := s.r.QueryContext(ctx,
			`SELECT tenant_id, id, ssn_sealed FROM users
			WHERE ssn_sealed IS NOT NULL AND (tenant_id > $1 OR (tenant_id = $1 AND id > $2))
			ORDER BY tenant_id, id LIMIT $3`, lastTenant, lastID, batch)
		if err != nil {
			return fmt.Errorf("reencrypt ssns: %w", err)
		}
		var todo []resealed
		n := 0
		for rows.Next() {
			var tenantID, id string
			var sealed []byte
			if err := rows.Scan(&tenantID, &id, &sealed); err != nil {
				rows.Close()
				return fmt.Errorf("reencrypt ssns: %w", err)
			}
			n++
			lastTenant, lastID = tenantID, id
			if kid, _ := secret.KeyIDOf(sealed); kid == current {
				continue
			}
			plain, err := s.kr.Open(sealed, ssnAAD(tenantID, id))
			if err != nil {
				rows.Close()
				return fmt.Errorf("reencrypt ssn of user %s: %w", id, err)
			}
			todo = append(todo, resealed{where: []any{tenantID, id}, old: sealed, new: s.kr.Seal(plain, ssnAAD(tenantID, id))})
			clear(plain)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("reencrypt ssns: %w", err)
		}
		rows.Close()
		if n == 0 {
			return nil
		}
		if err := s.writeResealed(ctx, todo, st,
			`UPDATE users SET ssn_sealed = $3 WHERE tenant_id = $1 AND id = $2 AND ssn_sealed = $4`); err != nil {
			return fmt.Errorf("reencrypt ssns: %w", err)
		}
		st.Scanned += int64(n)
		if progress != nil {
			progress(*st)
		}
		if n < batch {
			return nil
		}
	}
}

func (s *Store) reencryptResponses(ctx context.Context, batch int, st *ReencryptStats, progress func(ReencryptStats)) error {
	current := s.kr.CurrentKeyID()
	var last directory.IdempotencyKey
	for {
		rows, err := s.r.QueryContext(ctx,
			`SELECT tenant_id, client_id, method, route, idem_key, body_sealed FROM idempotency_keys
			WHERE body_sealed IS NOT NULL AND (tenant_id, client_id, method, route, idem_key) > ($1, $2, $3, $4, $5)
			ORDER BY tenant_id, client_id, method, route, idem_key LIMIT $6`,
			last.TenantID, last.ClientID, last.Method, last.Route, last.Key, batch)
		if err != nil {
			return fmt.Errorf("reencrypt responses: %w", err)
		}
		var todo []resealed
		n := 0
		for rows.Next() {
			var k directory.IdempotencyKey
			var sealed []byte
			if err := rows.Scan(&k.TenantID, &k.ClientID, &k.Method, &k.Route, &k.Key, &sealed); err != nil {
				rows.Close()
				return fmt.Errorf("reencrypt responses: %w", err)
			}
			n++
			last = k
			if kid, _ := secret.KeyIDOf(sealed); kid == current {
				continue
			}
			plain, err := s.kr.Open(sealed, idemAAD(k))
			if err != nil {
				rows.Close()
				return fmt.Errorf("reencrypt response: %w", err)
			}
			todo = append(todo, resealed{where: idemArgs(k), old: sealed, new: s.kr.Seal(plain, idemAAD(k))})
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("reencrypt responses: %w", err)
		}
		rows.Close()
		if n == 0 {
			return nil
		}
		if err := s.writeResealed(ctx, todo, st,
			`UPDATE idempotency_keys SET body_sealed = $6 WHERE `+idemWhere+` AND body_sealed = $7`); err != nil {
			return fmt.Errorf("reencrypt responses: %w", err)
		}
		st.Scanned += int64(n)
		if progress != nil {
			progress(*st)
		}
		if n < batch {
			return nil
		}
	}
}

// writeResealed applies one batch in one transaction. update takes the
// where values, then the new ciphertext, then the old one.
func (s *Store) writeResealed(ctx context.Context, todo []resealed, st *ReencryptStats, update string) error {
	st.Batches++
	if len(todo) == 0 {
		return nil
	}
	var done int64
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		done = 0 // writeTx may run fn again
		for _, r := range todo {
			args := append(append(append([]any{}, r.where...), r.new), r.old)
			res, err := tx.ExecContext(ctx, update, args...)
			if err != nil {
				return s.d.classify(err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			done += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.Reencrypted += done
	st.Skipped += int64(len(todo)) - done
	return nil
}

// Keyring returns the keyring the store seals and opens with.
func (s *Store) Keyring() *secret.Keyring { return s.kr }
