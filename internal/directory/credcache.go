package directory

import (
	"sync"
	"time"
)

// credCache remembers, for a short TTL, credentials whose secret has just
// verified, so that a client's next requests skip the credential lookup
// (a database read per request, ~10% of a create's CPU on SQLite and a
// round trip on PostgreSQL). It is keyed by the client id and the hash of
// the secret presented, so only a request presenting that same secret
// finds an entry: a wrong secret never does, and goes the uncached way
// (lookup, one constant-time comparison, failure counted). Entries are
// added only after a successful verification of an unrevoked credential.
//
// Revocation: RevokeCredential on this Service forgets the client id at
// once; a revocation made elsewhere (another instance, the CLI) is seen
// when the entry expires, so a revoked credential is refused everywhere
// within TTL of its revocation (docs/SECURITY.md). Tokens are not cached:
// a token's request reads its credential every time.
type credCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[credKey]credEntry
	swept   time.Time
	// gen counts forgets: an Authenticate that read its credential before
	// a revocation here must not cache it after that revocation's forget.
	gen uint64
}

type credKey struct {
	clientID string
	hash     [32]byte // SHA-256 of the presented secret
}

type credEntry struct {
	ci      *CredentialInfo // shared, read only
	expires time.Time
}

// maxCredCacheEntries bounds the cache's memory; a credential that finds
// it full is simply not cached.
const maxCredCacheEntries = 1 << 14

// newCredCache returns a cache with ttl, or nil (no caching) when ttl is
// not positive.
func newCredCache(ttl time.Duration, now func() time.Time) *credCache {
	if ttl <= 0 {
		return nil
	}
	return &credCache{ttl: ttl, now: now, entries: map[credKey]credEntry{}}
}

// get returns the credential cached for clientID and the hash of the
// presented secret, if it has not expired.
func (c *credCache) get(clientID string, hash []byte) *CredentialInfo {
	if c == nil || len(hash) != 32 {
		return nil
	}
	k := credKey{clientID: clientID, hash: [32]byte(hash)}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil
	}
	if !now.Before(e.expires) {
		delete(c.entries, k)
		return nil
	}
	return e.ci
}

// generation is what put needs to know that no forget happened since
// the credential it caches was read: take it before the read.
func (c *credCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches ci, whose secret hash has just matched hash, unless a forget
// happened since generation returned gen.
func (c *credCache) put(ci *CredentialInfo, hash []byte, gen uint64) {
	if c == nil || len(hash) != 32 || ci.RevokedAt != nil {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	c.sweep(now)
	if len(c.entries) >= maxCredCacheEntries {
		return
	}
	c.entries[credKey{clientID: ci.ClientID, hash: [32]byte(hash)}] = credEntry{ci: ci, expires: now.Add(c.ttl)}
}

// forget drops every entry of clientID: it was revoked here.
func (c *credCache) forget(clientID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k := range c.entries {
		if k.clientID == clientID {
			delete(c.entries, k)
		}
	}
}

// sweep drops expired entries, at most once per TTL. c.mu is held.
func (c *credCache) sweep(now time.Time) {
	if now.Sub(c.swept) < c.ttl {
		return
	}
	c.swept = now
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
}
