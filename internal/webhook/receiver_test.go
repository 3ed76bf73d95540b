package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/webhook"
)

// verifyRoster is the receiver's verification from docs/WEBHOOKS.md,
// copied here verbatim (standard library only) so the documented code is
// proven against what the dispatcher sends.
func verifyRoster(secret, header string, body []byte, now time.Time) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(sec, 0)); age > 5*time.Minute || age < -5*time.Minute {
		return false // too old (a replay) or from the future
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func TestDocumentedVerifier(t *testing.T) {
	sec := webhook.NewSecret()
	body := []byte(`{"id":"e","type":"user.updated","user":{"first_name":"Zoë"}}`)
	now := time.Now()
	h := webhook.Sign([]byte(sec), now, body)
	if !verifyRoster(sec, h, body, now) {
		t.Fatal("documented verifier refuses a valid signature")
	}
	if verifyRoster(sec, h, append(body, ' '), now) || verifyRoster("whsec_x", h, body, now) || verifyRoster(sec, h, body, now.Add(time.Hour)) {
		t.Fatal("documented verifier accepts a tampered body, a wrong secret or a replay")
	}
}
