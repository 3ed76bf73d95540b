package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
)

// WriteJSON writes v as JSON with the given status and content type
// "application/json".
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	return WriteJSONAs(w, status, "application/json", v)
}

// WriteJSONAs writes v as JSON with a given media type (application/
// problem+json, application/scim+json, ...). HTML escaping is off: these are
// API bodies, and clients compare values byte for byte.
func WriteJSONAs(w http.ResponseWriter, status int, contentType string, v any) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// NoContent writes an empty response with status (204, or 200 for vendors
// that answer so).
func NoContent(w http.ResponseWriter, status int) error {
	w.WriteHeader(status)
	return nil
}

// NullIfEmpty returns nil for "" and a pointer to s otherwise: the core keeps
// absent strings as "", and the vendors' JSON shows them as null.
func NullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Origin is the scheme and host (and any path prefix) clients reach the
// service at, for absolute URLs in bodies (Truv's next/previous, SCIM's
// meta.location): the configured public URL when set, else taken from the
// request, https when it came over TLS or through a proxy that says so in
// X-Forwarded-Proto. Trusting that header is harmless here: it only shapes
// links in the response to the very client that sent it.
func Origin(r *http.Request, public string) string {
	if public != "" {
		return strings.TrimRight(public, "/")
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
