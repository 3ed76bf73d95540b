package config

import (
	"testing"
	"time"
)

// TestCredentialCacheTTL: ROSTER_CREDENTIAL_CACHE_TTL defaults to 5s, 0
// turns the cache off, and values outside 0..1m are refused (a longer
// TTL would stretch how long a revocation elsewhere goes unseen).
func TestCredentialCacheTTL(t *testing.T) {
	tests := []struct {
		env   string
		want  time.Duration
		valid bool
	}{
		{"", 5 * time.Second, true},
		{"0", 0, true},
		{"2s", 2 * time.Second, true},
		{"1m", time.Minute, true},
		{"-1s", 0, false},
		{"2m", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		c, err := FromEnv(func(k string) string {
			if k == "ROSTER_CREDENTIAL_CACHE_TTL" {
				return tt.env
			}
			return ""
		})
		if err == nil {
			err = c.Validate()
		}
		if (err == nil) != tt.valid {
			t.Errorf("%q: error %v, want valid=%v", tt.env, err, tt.valid)
			continue
		}
		if tt.valid && c.CredentialCacheTTL != tt.want {
			t.Errorf("%q: ttl %v, want %v", tt.env, c.CredentialCacheTTL, tt.want)
		}
	}
}
