package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Keyring encrypts small values (SSNs) with AES-256-GCM. It holds one
// current key, used to seal, and any number of older keys, kept to open
// what they sealed, so keys can rotate without re-encrypting at once.
//
// A sealed value is: 1 byte key-id length, the key id, a 12-byte random
// nonce, then the GCM ciphertext and tag. The caller passes additional data
// (the tenant and user id) that binds the ciphertext to its row, so it
// cannot be copied to another user.
//
// A Keyring loaded from a key file (LoadOrCreateKeyFile) follows the file:
// at most every reloadEvery, and at once when a ciphertext names a key it
// lacks, it checks whether the file changed and reloads it. That is how a
// running `roster serve` learns the key `roster key rotate` added, without
// a restart (docs/SECURITY.md). A Keyring is safe for concurrent use.
type Keyring struct {
	ring atomic.Pointer[ring]

	// Set for a key file only.
	path    string
	checked atomic.Int64 // UnixNano of the last look at the file
	mu      sync.Mutex   // serialises reloads
	info    os.FileInfo  // the file as last loaded; guarded by mu
}

// ring is one immutable generation of keys.
type ring struct {
	current string
	ids     []string // in specification order; ids[0] == current
	keys    map[string]cipher.AEAD
}

// ReloadInterval bounds how stale a key-file keyring may be: a key added
// to the file seals new values in every process within this long.
const ReloadInterval = 2 * time.Second

const reloadEvery = ReloadInterval

// ErrNoKey: a ciphertext names a key id the keyring does not hold.
var ErrNoKey = errors.New("encryption key not found")

// ParseKeyring parses a key specification: one or more comma-separated
// entries, each "ID:BASE64" or just "BASE64" (the id is then the first 8 hex
// characters of the key's SHA-256). Each key is 32 bytes, base64 (standard or
// URL alphabet, padded or not). The first entry is the current key.
func ParseKeyring(spec string) (*Keyring, error) {
	r, err := parseRing(spec)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{}
	kr.ring.Store(r)
	return kr, nil
}

func parseRing(spec string) (*ring, error) {
	kr := &ring{keys: map[string]cipher.AEAD{}}
	for i, entry := range strings.Split(strings.TrimSpace(spec), ",") {
		entry = strings.TrimSpace(entry)
		id, b64, ok := strings.Cut(entry, ":")
		if !ok {
			id, b64 = "", entry
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		if id == "" {
			sum := sha256.Sum256(key)
			id = hex.EncodeToString(sum[:4])
		}
		if len(id) > 64 {
			return nil, fmt.Errorf("encryption key %d: id longer than 64 characters", i+1)
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		if _, dup := kr.keys[id]; dup {
			return nil, fmt.Errorf("encryption key %d: duplicate id %q", i+1, id)
		}
		kr.keys[id] = aead
		kr.ids = append(kr.ids, id)
		if i == 0 {
			kr.current = id
		}
	}
	return kr, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	key, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("got %d bytes, want 32", len(key))
	}
	return key, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// NewKeySpec returns a fresh random key in the form ParseKeyring reads.
func NewKeySpec() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// LoadOrCreateKeyFile reads a key specification from path, creating the
// file with a new random key and mode 0600 if it does not exist. It refuses
// a file that others can read. The keyring follows later changes of the
// file (see Keyring).
func LoadOrCreateKeyFile(path string) (kr *Keyring, created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, werr := f.WriteString(NewKeySpec() + "\n")
		if serr := f.Sync(); werr == nil {
			werr = serr
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, false, fmt.Errorf("write key file: %w", werr)
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, false, err
		}
		created = true
	} else if !errors.Is(err, os.ErrExist) {
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	r, info, err := readKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	kr = &Keyring{path: path, info: info}
	kr.ring.Store(r)
	kr.checked.Store(time.Now().UnixNano())
	return kr, created, nil
}

// readKeyFile parses the key file at path, refusing one others can read.
func readKeyFile(path string) (*ring, os.FileInfo, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("stat key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, nil, fmt.Errorf("key file %s has mode %v: want 0600", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read key file: %w", err)
	}
	r, err := parseRing(string(b))
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return r, info, nil
}

// AddKeyToFile puts a new random key first in the key file at path, keeping
// the others after it (they still open what they sealed), and returns the
// new key's id. The file is replaced atomically (a new file renamed over
// it, mode 0600, synced), so a process reading it sees the old or the new
// list, never half of one.
func AddKeyToFile(path string) (string, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	if _, err := parseRing(string(old)); err != nil {
		return "", fmt.Errorf("key file %s: %w", path, err)
	}
	spec := NewKeySpec()
	nr, err := parseRing(spec + "," + strings.TrimSpace(string(old)))
	if err != nil {
		return "", fmt.Errorf("add key: %w", err) // a duplicate id: 2^-32, retry
	}
	if err := writeFileAtomic(path, []byte(spec+","+strings.TrimSpace(string(old))+"\n")); err != nil {
		return "", err
	}
	return nr.current, nil
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed over path, and the directory synced.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	_, werr := f.Write(data)
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write key file: %w", werr)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key directory: %w", err)
	}
	return nil
}

// KeyFile returns the path of the key file the keyring follows, or "" for
// a keyring from a specification (ROSTER_ENCRYPTION_KEY).
func (k *Keyring) KeyFile() string { return k.path }

// Reload re-reads the key file now if it changed since it was loaded. It
// is a no-op for a keyring from a specification. On an error (a file being
// edited by hand, say) the keys already loaded stay in use.
func (k *Keyring) Reload() error {
	if k.path == "" {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.checked.Store(time.Now().UnixNano())
	info, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("stat key file: %w", err)
	}
	if k.info != nil && os.SameFile(k.info, info) && info.ModTime().Equal(k.info.ModTime()) && info.Size() == k.info.Size() {
		return nil
	}
	r, info, err := readKeyFile(k.path)
	if err != nil {
		return err
	}
	k.ring.Store(r)
	k.info = info
	return nil
}

// load returns the current keys, first reloading a key file that has not
// been looked at for reloadEvery.
func (k *Keyring) load() *ring {
	if k.path != "" && time.Since(time.Unix(0, k.checked.Load())) >= reloadEvery {
		_ = k.Reload() // on failure the loaded keys stay, as Reload says
	}
	return k.ring.Load()
}

// CurrentKeyID returns the id of the key Seal uses.
func (k *Keyring) CurrentKeyID() string { return k.load().current }

// KeyIDs returns the ids of every key of the ring, the current one first.
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.load().ids...) }

// Has reports whether the ring holds the key id.
func (k *Keyring) Has(id string) bool {
	_, ok := k.load().keys[id]
	return ok
}

// KeyIDOf returns the id of the key a ciphertext made by Seal names,
// without decrypting it.
func KeyIDOf(sealed []byte) (string, error) {
	if len(sealed) < 1 {
		return "", errors.New("empty ciphertext")
	}
	n := int(sealed[0])
	if len(sealed) < 1+n {
		return "", errors.New("truncated ciphertext")
	}
	return string(sealed[1 : 1+n]), nil
}

// MaxKeyIDPrefix is how many leading bytes of a ciphertext always hold its
// key id (one length byte and at most 64 bytes of id): a store can count
// ciphertexts by key reading only that much of each.
const MaxKeyIDPrefix = 1 + 64

// Seal encrypts plaintext under the current key, bound to additional data.
func (k *Keyring) Seal(plaintext, additional []byte) []byte {
	r := k.load()
	aead := r.keys[r.current]
	out := make([]byte, 0, 1+len(r.current)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, byte(len(r.current)))
	out = append(out, r.current...)
	nonce := randomBytes(aead.NonceSize())
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, additional)
}

// Open decrypts what Seal returned, with any key of the ring.
func (k *Keyring) Open(sealed, additional []byte) ([]byte, error) {
	id, err := KeyIDOf(sealed)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	r := k.load()
	aead, ok := r.keys[id]
	if !ok && k.path != "" {
		// Another process (roster key rotate) may have added the key and
		// sealed with it since this ring was loaded: look at the file now.
		_ = k.Reload()
		r = k.ring.Load()
		aead, ok = r.keys[id]
	}
	if !ok {
		return nil, fmt.Errorf("open: key %q: %w", id, ErrNoKey)
	}
	rest := sealed[1+len(id):]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("open: truncated ciphertext")
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], additional)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return plain, nil
}
