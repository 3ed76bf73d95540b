package httpapi

import "net/http"

// HSTSValue is the Strict-Transport-Security sent on TLS connections: one
// year, without includeSubDomains or preload, because Roster cannot know
// that every other host under its domain speaks HTTPS.
const HSTSValue = "max-age=31536000"

// securityHeaders are set on every response before any handler runs (a
// handler may still override one, as Truv's token route does with the
// same value). Roster is a JSON API, not a web site, so the browser
// protections are the strictest there are:
//
//   - X-Content-Type-Options: nosniff: a JSON body is never run as a
//     script or rendered as HTML, whatever a browser guesses.
//   - Cache-Control: no-store: every API answer may carry personal data
//     or a token; no shared or private cache may keep it.
//   - Referrer-Policy: no-referrer: no URL (user ids, filters) leaks to
//     another site.
//   - X-Frame-Options: DENY and Content-Security-Policy with
//     frame-ancestors 'none': no page may frame a response (the first
//     for old browsers, the second for current ones); default-src 'none'
//     because a response never needs to load anything.
var securityHeaders = [][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"Cache-Control", "no-store"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
}

// setSecurityHeaders writes securityHeaders, and HSTS when the request
// came over TLS (a browser ignores HSTS on plain HTTP anyway, and sending
// it there would claim a property the connection lacks).
func setSecurityHeaders(h http.Header, r *http.Request) {
	for _, kv := range securityHeaders {
		h.Set(kv[0], kv[1])
	}
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", HSTSValue)
	}
}
