package webhook_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/webhook"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		ip string
		ok bool
	}{
		{"93.184.216.34", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"8.8.8.8", true},
		{"169.254.169.254", false}, // metadata
		{"169.254.1.1", false},     // link-local
		{"fe80::1", false},
		{"fd00:ec2::254", false}, // AWS IPv6 metadata
		{"100.100.100.200", false},
		{"127.0.0.1", false},
		{"::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"::ffff:169.254.169.254", false}, // IPv4-mapped
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", true},    // NAT64 of 8.8.8.8
		{"2002:a9fe:a9fe::1", false},  // 6to4
	} {
		err := webhook.CheckAddr(netip.MustParseAddr(tc.ip))
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddr(%s): %v, want ok=%v", tc.ip, err, tc.ok)
		}
		if err != nil && !errors.Is(err, webhook.ErrForbiddenAddress) {
			t.Errorf("CheckAddr(%s): %v does not wrap ErrForbiddenAddress", tc.ip, err)
		}
	}
}

// fakeResolver answers from a table; a missing name is an error.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	out := make([]netip.Addr, len(ips))
	for i, s := range ips {
		out[i] = netip.MustParseAddr(s)
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	r := fakeResolver{
		"hooks.example":    {"93.184.216.34"},
		"meta.example":     {"169.254.169.254"},
		"mixed.example":    {"93.184.216.34", "10.0.0.1"},
		"localhost":        {"127.0.0.1", "::1"},
		"v6meta.example":   {"fd00:ec2::254"},
		"internal.example": {"192.168.10.5"},
	}
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		wantErr      string // "" = accepted
	}{
		{"https://hooks.example/roster", false, ""},
		{"http://hooks.example:8080/x?y=1", false, ""},
		{"https://8.8.8.8/hook", false, ""},
		{"https://meta.example/", false, "metadata"},
		{"https://mixed.example/", false, "private"},
		{"http://localhost:9000/", false, "loopback"},
		{"http://localhost:9000/", true, ""},
		{"http://127.0.0.1:9000/", false, "loopback"},
		{"http://127.0.0.1:9000/", true, ""},
		{"https://internal.example/", false, "private"},
		{"https://internal.example/", true, ""},
		{"https://v6meta.example/", false, "metadata"},
		{"http://169.254.169.254/latest/meta-data/", false, "metadata"},
		{"http://[fd00:ec2::254]/", false, "metadata"},
		{"http://[::ffff:169.254.169.254]/", false, "metadata"},
		{"http://[fe80::1%25eth0]/", false, "link-local"},
		{"https://unknown.example/", false, "resolve"},
		{"ftp://hooks.example/", false, "scheme"},
		{"hooks.example/x", false, "scheme"},
		{"https:///path", false, "no host"},
		{"https://user:pw@hooks.example/", false, "user name"},
		{"https://hooks.example/#frag", false, "fragment"},
		{"https://hooks.example/" + strings.Repeat("a", 2100), false, "longer"},
		{"https://hooks.example/\x00", false, "webhook URL"},
	} {
		got, err := webhook.CheckURL(t.Context(), tc.url, tc.allowPrivate, r)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckURL(%q, %v): %v, want accepted", tc.url, tc.allowPrivate, err)
		case tc.wantErr != "" && err == nil:
			t.Errorf("CheckURL(%q, %v) = %q, want an error about %q", tc.url, tc.allowPrivate, got, tc.wantErr)
		case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
			t.Errorf("CheckURL(%q, %v): %v, want an error about %q", tc.url, tc.allowPrivate, err, tc.wantErr)
		}
	}
}

func TestSignVerify(t *testing.T) {
	key := []byte(webhook.NewSecret())
	body := []byte(`{"id":"e1","type":"user.created"}`)
	now := time.Unix(1_800_000_000, 0)
	good := webhook.Sign(key, now, body)
	if !strings.HasPrefix(good, "t=1800000000,v1=") || len(good) != len("t=1800000000,v1=")+64 {
		t.Fatalf("Sign = %q, want t=<unix>,v1=<64 hex>", good)
	}
	other := webhook.Sign([]byte("whsec_other"), now, body)
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"valid", good, body, now, nil},
		{"valid within tolerance", good, body, now.Add(4 * time.Minute), nil},
		{"tampered body", good, []byte(`{"id":"e2","type":"user.created"}`), now, webhook.ErrBadSignature},
		{"other secret", other, body, now, webhook.ErrBadSignature},
		{"replayed later", good, body, now.Add(6 * time.Minute), webhook.ErrStaleSignature},
		{"from the future", good, body, now.Add(-6 * time.Minute), webhook.ErrStaleSignature},
		{"t changed", strings.Replace(good, "t=1800000000", "t=1800000001", 1), body, now, webhook.ErrBadSignature},
		{"second v1 matches", other + ",v1=" + strings.SplitN(good, "v1=", 2)[1], body, now, nil},
		{"empty", "", body, now, webhook.ErrNoSignature},
		{"no v1", "t=1800000000", body, now, webhook.ErrNoSignature},
		{"bad hex", "t=1800000000,v1=zz", body, now, webhook.ErrNoSignature},
		{"no t", "v1=" + strings.SplitN(good, "v1=", 2)[1], body, now, webhook.ErrNoSignature},
	} {
		if err := webhook.Verify(key, tc.header, tc.body, tc.at, 5*time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	total := time.Duration(0)
	for n := 1; n < webhook.DefaultMaxAttempts; n++ {
		base := 30 * time.Second << (n - 1)
		for range 50 {
			d := webhook.DefaultBackoff(n)
			if d < base*8/10 || d > base*12/10 {
				t.Fatalf("DefaultBackoff(%d) = %v, want within ±20%% of %v", n, d, base)
			}
		}
		total += base
	}
	if total < 60*time.Minute || total > 65*time.Minute {
		t.Errorf("schedule spans %v, documented as about 63 minutes", total)
	}
	if d := webhook.DefaultBackoff(20); d > 72*time.Minute {
		t.Errorf("DefaultBackoff(20) = %v, want at most 1h+20%%", d)
	}
}

func TestParseEvents(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"", "user.created,user.deleted,user.updated", false},
		{"user.deleted", "user.deleted", false},
		{" user.updated , user.created,user.updated", "user.created,user.updated", false},
		{"user.create", "", true},
		{"user.created,", "", true},
	} {
		got, err := webhook.ParseEvents(tc.in)
		if (err != nil) != tc.err || strings.Join(got, ",") != tc.want {
			t.Errorf("ParseEvents(%q) = %v, %v; want %q, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
