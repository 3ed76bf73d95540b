package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValueRedacts(t *testing.T) {
	v := Value("123456789")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "ssn", v, "any", slog.AnyValue(v))
	js, _ := json.Marshal(struct{ SSN Value }{v})
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", v),
		"%s":   fmt.Sprintf("%s", v),
		"%#v":  fmt.Sprintf("%#v", v),
		"%+v":  fmt.Sprintf("%+v", struct{ S Value }{v}),
		"json": strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(js)),
		"slog": logs.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "123456789") {
			t.Errorf("%s leaks the value: %s", name, out)
		}
		if !strings.Contains(out, "<redacted>") {
			t.Errorf("%s = %q, want the redaction marker", name, out)
		}
	}
	if v.Reveal() != "123456789" {
		t.Errorf("Reveal = %q", v.Reveal())
	}
}

func TestSecretEmbedsClientID(t *testing.T) {
	id := NewClientID()
	if len(id) != 32 {
		t.Fatalf("client id %q: want 32 hex", id)
	}
	s := NewSecret(id)
	got, ok := ClientIDOf(s)
	if !ok || got != id {
		t.Fatalf("ClientIDOf(%q) = %q, %v; want %q", s, got, ok, id)
	}
	if NewSecret(id) == s {
		t.Fatal("two secrets are equal")
	}
	for _, bad := range []string{"", "rsk_", "rsk_" + id, "rsk_" + id + "_", "xx_" + id + "_abc", "rsk_" + strings.ToUpper(id) + "_abc", "rsk_zz_abc"} {
		if _, ok := ClientIDOf(bad); ok {
			t.Errorf("ClientIDOf(%q) ok, want not", bad)
		}
	}
}

func TestHashEqual(t *testing.T) {
	a, b := Hash("one"), Hash("two")
	if !Equal(a, Hash("one")) || Equal(a, b) || Equal(a, a[:31]) {
		t.Fatal("Equal disagrees with byte equality")
	}
}

func TestNewCode(t *testing.T) {
	c := NewCode(8)
	if len(c) != 8 || strings.ContainsAny(c, "ILOU") {
		t.Fatalf("code %q: want 8 Crockford base32 characters", c)
	}
}

func TestKeyringRotation(t *testing.T) {
	oldSpec := "old:" + NewKeySpec()
	oldRing, err := ParseKeyring(oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	sealed := oldRing.Seal([]byte("123456789"), []byte("t/u"))
	newRing, err := ParseKeyring("new:" + NewKeySpec() + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	if newRing.CurrentKeyID() != "new" {
		t.Fatalf("current = %q, want new", newRing.CurrentKeyID())
	}
	plain, err := newRing.Open(sealed, []byte("t/u"))
	if err != nil || string(plain) != "123456789" {
		t.Fatalf("rotated ring cannot open old ciphertext: %v", err)
	}
	if bytes.Contains(sealed, []byte("123456789")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if _, err := newRing.Open(sealed, []byte("t/other")); err == nil {
		t.Fatal("opened with other additional data: ciphertext is not bound to its row")
	}
	other, _ := ParseKeyring(NewKeySpec())
	if _, err := other.Open(sealed, []byte("t/u")); err == nil {
		t.Fatal("opened with a keyring lacking the key")
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := newRing.Open(tampered, []byte("t/u")); err == nil {
		t.Fatal("opened a tampered ciphertext")
	}
	for _, bad := range [][]byte{nil, {5}, {3, 'o', 'l', 'd', 1, 2}} {
		if _, err := newRing.Open(bad, nil); err == nil {
			t.Errorf("Open(%v) succeeded", bad)
		}
	}
}

func TestParseKeyringErrors(t *testing.T) {
	for _, spec := range []string{"", "not-base64!", "a:" + "AAAA", "a:" + NewKeySpec() + ",a:" + NewKeySpec()} {
		if _, err := ParseKeyring(spec); err == nil {
			t.Errorf("ParseKeyring(%q) succeeded", spec)
		}
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	_, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("accepted a world-readable key file")
	}
}
