package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeyFileFollowsRotation: a keyring loaded from a key file opens what
// another process sealed with a key added to the file since (at once), and
// seals with that key within ReloadInterval.
func TestKeyFileFollowsRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db.key")
	server, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	oldID := server.CurrentKeyID()
	oldSealed := server.Seal([]byte("123456789"), []byte("t/u"))

	newID, err := AddKeyToFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if newID == oldID {
		t.Fatal("new key has the old id")
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file after rotation: %v %v, want mode 0600", info.Mode(), err)
	}
	admin, _, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := admin.KeyIDs(); len(got) != 2 || got[0] != newID || got[1] != oldID {
		t.Fatalf("keys after rotation %v, want [%s %s]", got, newID, oldID)
	}
	newSealed := admin.Seal([]byte("987654321"), []byte("t/v"))
	// The server has not looked at the file yet, but a ciphertext under a
	// key it lacks makes it look now.
	if plain, err := server.Open(newSealed, []byte("t/v")); err != nil || string(plain) != "987654321" {
		t.Fatalf("server opens the new key's ciphertext: %q %v", plain, err)
	}
	if plain, err := server.Open(oldSealed, []byte("t/u")); err != nil || string(plain) != "123456789" {
		t.Fatalf("old ciphertext after rotation: %q %v", plain, err)
	}
	if server.CurrentKeyID() != newID {
		t.Fatalf("server seals with %s, want %s", server.CurrentKeyID(), newID)
	}
	// Without the prompt of a foreign ciphertext, the periodic look finds
	// a second rotation within ReloadInterval.
	third, err := AddKeyToFile(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ReloadInterval + time.Second)
	for server.CurrentKeyID() != third {
		if time.Now().After(deadline) {
			t.Fatalf("server still seals with %s after %v", server.CurrentKeyID(), ReloadInterval)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A broken file (an edit in progress) leaves the loaded keys in use.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := server.Reload(); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("Reload of a broken file: %v, want an error", err)
	}
	if server.CurrentKeyID() != third || !server.Has(oldID) {
		t.Fatal("a failed reload dropped the loaded keys")
	}
	if id, err := KeyIDOf(newSealed); err != nil || id != newID {
		t.Fatalf("KeyIDOf = %q, %v", id, err)
	}
	if _, err := KeyIDOf([]byte{9, 'a'}); err == nil {
		t.Fatal("KeyIDOf of a truncated ciphertext succeeded")
	}
}
