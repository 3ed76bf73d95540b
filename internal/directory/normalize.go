package directory

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Length limits, in characters. They bound what one user can store; wire
// dialects may document tighter ones.
const (
	maxName      = 256  // usernames, names, aliases, ids, locale, city...
	maxEmail     = 254  // RFC 5321 path limit
	maxPhone     = 32   // as sent, with spaces and punctuation
	maxExtra     = 2048 // one vendor extra or attribute value
	maxListItems = 100  // aliases, attributes, extras
)

// NormalizeEmail returns the form e-mail uniqueness and search compare:
// trimmed and lower-cased. (Local parts are case-sensitive in theory, but
// no production mail system treats them so, and users expect
// Ann@Example.com and ann@example.com to be one address.)
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a bare addr-spec (no display name, no
// angle brackets) with a dotted or localhost-free domain.
func ValidEmail(s string) bool {
	if len(s) > maxEmail || s == "" {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// NormalizePhone returns the E.164 form of s when it parses as a possible
// number, and ok=true; otherwise its digits (with a leading "+" kept) and
// ok=false. Numbers without a "+" are read as North American, the region
// every vendor Roster speaks defaults to.
func NormalizePhone(s string) (norm string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if n, err := phonenumbers.Parse(s, "US"); err == nil && phonenumbers.IsPossibleNumber(n) {
		return phonenumbers.Format(n, phonenumbers.E164), true
	}
	var b strings.Builder
	for i, r := range s {
		if r == '+' && i == 0 || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String(), false
}

// ValidE164 reports whether s is written in E.164 ("+", then 8 to 15
// digits, no separators) and is a possible number per libphonenumber. A
// possible number need not be assigned: vendors' own examples use 555
// numbers.
func ValidE164(s string) bool {
	if !ValidE164Format(s) {
		return false
	}
	n, err := phonenumbers.Parse(s, "")
	return err == nil && phonenumbers.IsPossibleNumber(n)
}

// ValidE164Format reports whether s is written in E.164 form ("+", a
// non-zero digit, 8 to 15 digits in all) without asking whether the number
// is possible: for vendors whose own examples are not (CL2C documents
// "+1234567890").
func ValidE164Format(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SSNDigits returns the nine digits of s ("123-45-6789" or "123456789")
// and whether it has that shape.
func SSNDigits(s string) (string, bool) {
	s = strings.TrimSpace(s)
	digits := s
	if len(s) == 11 && s[3] == '-' && s[6] == '-' {
		digits = s[:3] + s[4:6] + s[7:]
	}
	if len(digits) != 9 {
		return "", false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return digits, true
}

// ValidSSNStructure reports whether nine digits are a structurally valid
// SSN: area not 000, 666 or 9xx, group not 00, serial not 0000.
func ValidSSNStructure(digits string) bool {
	area, group, serial := digits[:3], digits[3:5], digits[5:]
	return !(area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000")
}

// NormalizeSSN returns the nine digits of s and whether it is a
// structurally valid SSN (SSNDigits and ValidSSNStructure).
func NormalizeSSN(s string) (string, bool) {
	digits, ok := SSNDigits(s)
	if !ok || !ValidSSNStructure(digits) {
		return "", false
	}
	return digits, true
}

// usStates holds the USPS codes of the states, DC and the territories
// (freely associated states included); the military "states" AA/AE/AP are
// not places and are left out.
var usStates = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD
		MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
		DC AS GU MP PR VI UM FM MH PW`) {
		m[c] = true
	}
	return m
}()

// ValidUSState reports whether s is a USPS two-letter code of a state, DC or
// a territory, in either case.
func ValidUSState(s string) bool { return usStates[strings.ToUpper(s)] }

// cleanText trims s and reports whether it is acceptable stored text: valid
// UTF-8 without control characters (tab excepted) and at most max runes.
func cleanText(s string, max int) (string, string) { return cleanTextLines(s, max, false) }

// cleanTextLines is cleanText that, with lines, also allows line breaks
// (multi-line values: a street address, a formatted address).
func cleanTextLines(s string, max int, lines bool) (string, string) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return s, "is not valid UTF-8"
	}
	if utf8.RuneCountInString(s) > max {
		return s, "is too long"
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && !(lines && (r == '\n' || r == '\r')) {
			return s, "contains a control character"
		}
	}
	return s, ""
}
