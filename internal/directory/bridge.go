package directory

import (
	"context"
	"fmt"
	"time"
)

// IssueUserToken issues a token of the given kind bound to one user of p's
// tenant: the user's id (dashed) is the token's Scope. It is what a
// dialect hands a front end that acts for that user, such as Truv's bridge
// token. Like every token it is returned once and stored only as a hash,
// with its expiry (ttl from now); the periodic purge removes it after
// that. userID may be dashed or 32 hex; a user that does not exist in the
// tenant is ErrNotFound and issues nothing. The user is returned too, so
// the caller can show its id in the vendor's form.
func (s *Service) IssueUserToken(ctx context.Context, p Principal, kind, userID string, ttl time.Duration) (string, *Token, *User, error) {
	u, err := s.GetUser(ctx, p, userID)
	if err != nil {
		return "", nil, nil, err
	}
	tok, t, err := s.IssueToken(ctx, p, kind, u.ID, ttl)
	if err != nil {
		return "", nil, nil, fmt.Errorf("issue user token: %w", err)
	}
	return tok, t, u, nil
}
