package httpapi

import (
	"fmt"
	"net/http"
	"strings"
)

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

// MaxQueryParams is the most query parameters a request may carry. No
// route of any dialect takes more than a dozen; thousands are an attempt
// to make the server parse and allocate (net/url itself stops at 10,000
// and then silently drops them all, which would turn a filtered list into
// an unfiltered one).
const MaxQueryParams = 1000

// withQueryLimit answers a request with more than MaxQueryParams query
// parameters with a 400 in the dialect's format (a *DecodeError, which
// every dialect's renderer knows), before h parses anything.
func withQueryLimit(h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if q := r.URL.RawQuery; q != "" && strings.Count(q, "&")+1 > MaxQueryParams {
			return &DecodeError{Status: http.StatusBadRequest,
				Msg: fmt.Sprintf("too many query parameters: at most %d are accepted", MaxQueryParams)}
		}
		return h(w, r)
	}
}
