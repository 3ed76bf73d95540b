package store

import (
	"context"
)

// SSNCiphertextForTest returns a user's stored ssn_sealed.
func SSNCiphertextForTest(ctx context.Context, s *Store, tenantID, id string) ([]byte, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT ssn_sealed FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&b)
	return b, err
}

// ResealForTest runs the write half of one Reencrypt batch for one user
// whose ciphertext was read as old: the step a concurrent update may
// overtake.
func ResealForTest(ctx context.Context, s *Store, tenantID, id string, old []byte) (ReencryptStats, error) {
	var st ReencryptStats
	plain, err := s.kr.Open(old, ssnAAD(tenantID, id))
	if err != nil {
		return st, err
	}
	r := resealed{where: []any{tenantID, id}, old: old, new: s.kr.Seal(plain, ssnAAD(tenantID, id))}
	err = s.writeResealed(ctx, []resealed{r}, &st,
		`UPDATE users SET ssn_sealed = $3 WHERE tenant_id = $1 AND id = $2 AND ssn_sealed = $4`)
	return st, err
}
