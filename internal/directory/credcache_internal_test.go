package directory

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// TestCredCacheForgetWinsRace: an authentication that read its credential
// before a revocation here, and verifies after the revocation's forget,
// must not cache it.
func TestCredCacheForgetWinsRace(t *testing.T) {
	now := time.Now()
	c := newCredCache(time.Minute, func() time.Time { return now })
	ci := &CredentialInfo{Credential: Credential{ClientID: "c1"}}
	h := secret.Hash("s")
	gen := c.generation() // before the read
	c.forget("c1")        // the revocation commits and forgets
	c.put(ci, h, gen)     // the read's verification ends
	if got := c.get("c1", h); got != nil {
		t.Fatal("a credential read before a forget was cached after it")
	}
	c.put(ci, h, c.generation())
	if got := c.get("c1", h); got != ci {
		t.Fatal("a credential read after the forget was not cached")
	}
	if got := c.get("c1", secret.Hash("other")); got != nil {
		t.Fatal("another secret's hash found the entry")
	}
	revoked := &CredentialInfo{Credential: Credential{ClientID: "c2", RevokedAt: &now}}
	c.put(revoked, h, c.generation())
	if got := c.get("c2", h); got != nil {
		t.Fatal("a revoked credential was cached")
	}
}
