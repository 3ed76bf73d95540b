package config

import (
	"strings"
	"testing"
)

// TestFromEnvAuthSettings: ROSTER_TRUSTED_PROXIES takes addresses and
// prefixes; ROSTER_AUTH_THROTTLE takes on or off; anything else is named
// in the error.
func TestFromEnvAuthSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		proxies string
		off     bool
		wantErr string
	}{
		{"defaults", nil, "", false, ""},
		{"proxies", map[string]string{"ROSTER_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1,::ffff:198.51.100.7 ,2001:db8::/32"},
			"10.0.0.0/8|192.0.2.1/32|198.51.100.7/32|2001:db8::/32", false, ""},
		{"bad proxy", map[string]string{"ROSTER_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"}, "", false, "ROSTER_TRUSTED_PROXIES"},
		{"throttle off", map[string]string{"ROSTER_AUTH_THROTTLE": "off"}, "", true, ""},
		{"throttle on", map[string]string{"ROSTER_AUTH_THROTTLE": "on"}, "", false, ""},
		{"bad throttle", map[string]string{"ROSTER_AUTH_THROTTLE": "maybe"}, "", false, "ROSTER_AUTH_THROTTLE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range c.TrustedProxies {
				got = append(got, p.String())
			}
			if strings.Join(got, "|") != tc.proxies || c.AuthThrottleOff != tc.off {
				t.Fatalf("proxies %q off %v, want %q %v", got, c.AuthThrottleOff, tc.proxies, tc.off)
			}
		})
	}
}
