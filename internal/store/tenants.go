package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// CreateTenant inserts t. A taken name is a *directory.ConflictError with
// Field FieldTenantName.
func (s *Store) CreateTenant(ctx context.Context, t *directory.Tenant, ch *directory.Change) error {
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO tenants (id, name, unique_email, unique_phone, unique_external_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, t.Name, b2i(t.Unique.Email), b2i(t.Unique.Phone), b2i(t.Unique.ExternalID), micros(t.CreatedAt)); err != nil {
			return s.d.classify(err)
		}
		return s.recordChange(ctx, tx, ch)
	})
	if err != nil {
		if errors.Is(err, directory.ErrConflict) {
			return fmt.Errorf("insert tenant: %w", &directory.ConflictError{Field: directory.FieldTenantName, Value: t.Name})
		}
		return fmt.Errorf("insert tenant: %w", err)
	}
	return nil
}

const tenantColumns = `t.id, t.name, t.unique_email, t.unique_phone, t.unique_external_id, t.created_at`

func scanTenant(sc interface{ Scan(...any) error }, extra ...any) (*directory.Tenant, error) {
	var t directory.Tenant
	var email, phone, ext, created int64
	dst := append([]any{&t.ID, &t.Name, &email, &phone, &ext, &created}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	t.Unique = directory.UniquePolicy{Email: email != 0, Phone: phone != 0, ExternalID: ext != 0}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// GetTenantByName returns the tenant named name, or ErrNotFound.
func (s *Store) GetTenantByName(ctx context.Context, name string) (*directory.Tenant, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants t WHERE t.name = $1`, name)
	t, err := scanTenant(row)
	if err != nil {
		return nil, fmt.Errorf("get tenant: %w", s.d.classify(err))
	}
	return t, nil
}

// ListTenants returns every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]*directory.Tenant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants t ORDER BY t.created_at, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	ts := []*directory.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// CreateCredential inserts c. An unknown tenant is ErrInvalidReference, a
// taken client id ErrConflict.
func (s *Store) CreateCredential(ctx context.Context, c *directory.Credential, ch *directory.Change) error {
	err := s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO credentials (client_id, tenant_id, secret_hash, created_at, revoked_at, last_used_at, rate_limit)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.ClientID, c.TenantID, c.SecretHash, micros(c.CreatedAt), nullMicros(c.RevokedAt), nullMicros(c.LastUsedAt), nullInt(c.RateLimit)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, ch)
	})
	if err != nil {
		return fmt.Errorf("insert credential: %w", s.d.classify(err))
	}
	return nil
}

const credentialColumns = `c.client_id, c.tenant_id, c.secret_hash, c.created_at, c.revoked_at, c.last_used_at, c.rate_limit`

func scanCredential(sc interface{ Scan(...any) error }, extra ...any) (*directory.Credential, error) {
	var c directory.Credential
	var created int64
	var revoked, used, limit sql.NullInt64
	dst := append([]any{&c.ClientID, &c.TenantID, &c.SecretHash, &created, &revoked, &used, &limit}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	c.RevokedAt = fromNullMicros(revoked)
	c.LastUsedAt = fromNullMicros(used)
	if limit.Valid {
		n := int(limit.Int64)
		c.RateLimit = &n
	}
	return &c, nil
}

// GetCredential returns the credential with its tenant, revoked or not, or
// ErrNotFound.
func (s *Store) GetCredential(ctx context.Context, clientID string) (*directory.CredentialInfo, error) {
	row := s.r.QueryRowContext(ctx,
		`SELECT `+credentialColumns+`, `+tenantColumns+`
		FROM credentials c JOIN tenants t ON t.id = c.tenant_id
		WHERE c.client_id = $1`, clientID)
	var t directory.Tenant
	var email, phone, ext, created int64
	c, err := scanCredential(row, &t.ID, &t.Name, &email, &phone, &ext, &created)
	if err != nil {
		return nil, fmt.Errorf("get credential: %w", s.d.classify(err))
	}
	t.Unique = directory.UniquePolicy{Email: email != 0, Phone: phone != 0, ExternalID: ext != 0}
	t.CreatedAt = fromMicros(created)
	return &directory.CredentialInfo{Credential: *c, Tenant: t}, nil
}

// ListCredentials returns a tenant's credentials, oldest first.
func (s *Store) ListCredentials(ctx context.Context, tenantID string) ([]*directory.Credential, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+credentialColumns+` FROM credentials c WHERE c.tenant_id = $1 ORDER BY c.created_at, c.client_id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	cs := []*directory.Credential{}
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, fmt.Errorf("list credentials: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return cs, nil
}

// RevokeCredential sets RevokedAt unless it is set already, and deletes
// the credential's tokens, in one transaction. ErrNotFound if unknown.
func (s *Store) RevokeCredential(ctx context.Context, clientID string, at time.Time, ch *directory.Change) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE credentials SET revoked_at = COALESCE(revoked_at, $2) WHERE client_id = $1`,
			clientID, micros(at))
		if err != nil {
			return fmt.Errorf("revoke credential: %w", s.d.classify(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("revoke credential: %w", err)
		} else if n == 0 {
			return fmt.Errorf("revoke credential: %w", directory.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE client_id = $1`, clientID); err != nil {
			return fmt.Errorf("revoke credential: delete tokens: %w", s.d.classify(err))
		}
		return s.recordChange(ctx, tx, ch)
	})
}

// TouchCredential records a use at time at. ErrNotFound if unknown.
func (s *Store) TouchCredential(ctx context.Context, clientID string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE credentials SET last_used_at = $2 WHERE client_id = $1`, clientID, micros(at))
	if err != nil {
		return fmt.Errorf("touch credential: %w", s.d.classify(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("touch credential: %w", err)
	} else if n == 0 {
		return fmt.Errorf("touch credential: %w", directory.ErrNotFound)
	}
	return nil
}

// CreateToken stores a session token. An unknown credential is
// ErrInvalidReference.
func (s *Store) CreateToken(ctx context.Context, t *directory.Token) error {
	_, err := s.exec(ctx,
		`INSERT INTO tokens (hash, client_id, tenant_id, kind, scope, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, t.ClientID, t.TenantID, t.Kind, t.Scope, micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", s.d.classify(err))
	}
	return nil
}

// GetToken returns the token with this hash, expired or not, or
// ErrNotFound.
func (s *Store) GetToken(ctx context.Context, hash []byte) (*directory.Token, error) {
	var t directory.Token
	var created, expires int64
	err := s.r.QueryRowContext(ctx,
		`SELECT hash, client_id, tenant_id, kind, scope, created_at, expires_at FROM tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.ClientID, &t.TenantID, &t.Kind, &t.Scope, &created, &expires)
	if err != nil {
		return nil, fmt.Errorf("get token: %w", s.d.classify(err))
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &t, nil
}

// DeleteToken removes one token; no error if it is already gone.
func (s *Store) DeleteToken(ctx context.Context, hash []byte) error {
	if _, err := s.exec(ctx, `DELETE FROM tokens WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete token: %w", s.d.classify(err))
	}
	return nil
}

// DeleteExpiredTokens removes tokens that expired before t and returns how
// many it removed.
func (s *Store) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM tokens WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired tokens: %w", s.d.classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired tokens: %w", err)
	}
	return n, nil
}
