package httpapi

import "net/http"

// WriteCurrent answers a read of one versioned resource, as Truv, CL2C
// and Ownli read a user: 304 with the ETag when If-None-Match names
// version (RFC 9110 §13.1.2), else 200 with the ETag and v as JSON.
func WriteCurrent(w http.ResponseWriter, r *http.Request, version int64, v any) error {
	if NotModified(w, r, version) {
		return nil
	}
	SetETag(w, version)
	return WriteJSON(w, http.StatusOK, v)
}
