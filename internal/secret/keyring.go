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
)

// Keyring encrypts small values (SSNs) with AES-256-GCM. It holds one
// current key, used to seal, and any number of older keys, kept to open
// what they sealed, so keys can rotate without re-encrypting at once.
//
// A sealed value is: 1 byte key-id length, the key id, a 12-byte random
// nonce, then the GCM ciphertext and tag. The caller passes additional data
// (the tenant and user id) that binds the ciphertext to its row, so it
// cannot be copied to another user.
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD
}

// ErrNoKey: a ciphertext names a key id the keyring does not hold.
var ErrNoKey = errors.New("encryption key not found")

// ParseKeyring parses a key specification: one or more comma-separated
// entries, each "ID:BASE64" or just "BASE64" (the id is then the first 8 hex
// characters of the key's SHA-256). Each key is 32 bytes, base64 (standard or
// URL alphabet, padded or not). The first entry is the current key.
func ParseKeyring(spec string) (*Keyring, error) {
	kr := &Keyring{keys: map[string]cipher.AEAD{}}
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
// a file that others can read.
func LoadOrCreateKeyFile(path string) (kr *Keyring, created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, werr := f.WriteString(NewKeySpec() + "\n")
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
	info, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("stat key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("key file %s has mode %v: want 0600", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	kr, err = ParseKeyring(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	return kr, created, nil
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

// CurrentKeyID returns the id of the key Seal uses.
func (k *Keyring) CurrentKeyID() string { return k.current }

// Seal encrypts plaintext under the current key, bound to additional data.
func (k *Keyring) Seal(plaintext, additional []byte) []byte {
	aead := k.keys[k.current]
	out := make([]byte, 0, 1+len(k.current)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, byte(len(k.current)))
	out = append(out, k.current...)
	nonce := randomBytes(aead.NonceSize())
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, additional)
}

// Open decrypts what Seal returned, with any key of the ring.
func (k *Keyring) Open(sealed, additional []byte) ([]byte, error) {
	if len(sealed) < 1 {
		return nil, errors.New("open: empty ciphertext")
	}
	n := int(sealed[0])
	if len(sealed) < 1+n {
		return nil, errors.New("open: truncated ciphertext")
	}
	id := string(sealed[1 : 1+n])
	aead, ok := k.keys[id]
	if !ok {
		return nil, fmt.Errorf("open: key %q: %w", id, ErrNoKey)
	}
	rest := sealed[1+n:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("open: truncated ciphertext")
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], additional)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return plain, nil
}
