package store

import "github.com/roster-dev/roster/internal/directory"

// userValueNorm is valueNorm for a value of u: the phone or mobile the
// Service has already normalised into u.PhoneNorm or u.MobileNorm (with
// NormalizePhone, as valueNorm would) is not parsed a second time, which
// was 3% of a create's CPU.
func userValueNorm(u *directory.User, k directory.ValueKind, value string) string {
	if k == directory.KindPhone && value != "" {
		switch {
		case value == u.Phone && u.PhoneNorm != "":
			return u.PhoneNorm
		case value == u.Mobile && u.MobileNorm != "":
			return u.MobileNorm
		}
	}
	return valueNorm(k, value)
}
