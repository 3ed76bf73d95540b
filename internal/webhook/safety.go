package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a destination the policy refuses: every address
// that is not public unicast, unless private destinations are allowed.
var ErrForbiddenAddress = errors.New("webhook destination address not allowed")

// maxURLLen bounds a subscription URL.
const maxURLLen = 2048

// metadata are cloud instance-metadata endpoints that are not covered by
// the ranges refused below for another reason (169.254.169.254 is
// link-local, fd00:ec2::254 unique-local): named so the policy's intent
// is explicit and a future relaxation of a range cannot let them through.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack IMDS
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud metadata
}

// refused are the non-public ranges the default policy refuses besides
// what netip's predicates cover (loopback, link-local, multicast,
// unspecified, and private: RFC 1918 and fc00::/7, which holds AWS's
// fd00:ec2::254).
var refused = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (Alibaba's metadata is here)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds an IPv4 address not checked here
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: likewise
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// CheckAddr returns nil when ip is a public unicast address, else an
// error wrapping ErrForbiddenAddress that says what it is. An IPv4
// address written as IPv6 (::ffff:a.b.c.d, or NAT64 64:ff9b::a.b.c.d) is
// judged as the IPv4 address it reaches.
func CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	kind := ""
	switch {
	case !ip.IsValid():
		kind = "invalid"
	case slicesContains(metadata, ip):
		kind = "a cloud metadata endpoint"
	case ip.IsLoopback():
		kind = "loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		kind = "link-local"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		kind = "multicast"
	case ip.IsUnspecified():
		kind = "unspecified"
	case ip.IsPrivate():
		kind = "private"
	}
	if kind == "" {
		for _, p := range refused {
			if p.Contains(ip) {
				kind = "reserved (" + p.String() + ")"
				break
			}
		}
	}
	if kind != "" {
		return fmt.Errorf("%w: %s is %s (allow with --allow-private-webhooks)", ErrForbiddenAddress, ip, kind)
	}
	return nil
}

func slicesContains(list []netip.Addr, ip netip.Addr) bool {
	for _, a := range list {
		if a == ip {
			return true
		}
	}
	return false
}

// Resolver looks a host name up; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL validates a subscription URL when it is added: http or https,
// a host, no user name or password (a credential in the URL would be
// stored and listed in clear; receivers verify the signature instead), no
// fragment, at most 2048 bytes. Unless allowPrivate, the host must resolve
// (through r; nil: net.DefaultResolver) and every address it resolves to
// must pass CheckAddr. The dispatcher checks the address again at every
// dial, since DNS may answer differently later (rebinding). It returns
// the URL as it will be stored.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, r Resolver) (string, error) {
	if len(raw) > maxURLLen {
		return "", fmt.Errorf("webhook URL longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("webhook URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("webhook URL %q: scheme must be http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("webhook URL %q: no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("webhook URL: must not hold a user name or password (receivers verify the %s header instead)", SignatureHeader)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("webhook URL %q: must not hold a fragment", raw)
	case u.Opaque != "":
		return "", fmt.Errorf("webhook URL %q: want scheme://host/path", raw)
	}
	if allowPrivate {
		return u.String(), nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := CheckAddr(ip); err != nil {
			return "", fmt.Errorf("webhook URL %q: %w", raw, err)
		}
		return u.String(), nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return "", fmt.Errorf("webhook URL %q: resolve %s: %w", raw, host, err)
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("webhook URL %q: %s resolves to no address", raw, host)
	}
	for _, ip := range ips {
		if err := CheckAddr(ip); err != nil {
			return "", fmt.Errorf("webhook URL %q: %s: %w", raw, host, err)
		}
	}
	return u.String(), nil
}

// dialControl is net.Dialer.Control for deliveries: it sees the address
// actually dialled, after DNS, so a name that resolved to a public address
// when it was added and to a metadata address now is still refused.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot parse %q", ErrForbiddenAddress, address)
		}
		return CheckAddr(ap.Addr())
	}
}
