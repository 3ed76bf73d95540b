package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

// Conditional-request headers (RFC 9110 §13).
const (
	ETagHeader        = "ETag"
	IfMatchHeader     = "If-Match"
	IfNoneMatchHeader = "If-None-Match"
)

// ErrPreconditionFailed is a request whose If-Match named no tag of the
// stored resource: every dialect answers it 412 Precondition Failed in its
// own error body. It always comes wrapped together with
// directory.ErrPrecondition (see Precondition), and a dialect's renderer
// must test for it first: the core's bare ErrPrecondition, on a write
// that sent no If-Match, means the write lost every retry to concurrent
// writers, which the vendor dialects answer 409 ("retry").
var ErrPreconditionFailed = errors.New("if-match precondition failed")

// ETag returns the weak entity tag of a stored version: W/"7". It is weak
// because a version names the resource's state, not the bytes of one
// representation (the same user reads differently in each dialect).
func ETag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// SetETag sets the response's ETag to the version's tag. Call it before
// writing the status.
func SetETag(w http.ResponseWriter, version int64) {
	w.Header().Set(ETagHeader, ETag(version))
}

// HeaderList returns every field line of a list-valued header joined with
// ", ", which RFC 9110 §5.3 makes equivalent to one line.
func HeaderList(r *http.Request, name string) string {
	return strings.Join(r.Header.Values(name), ", ")
}

// ParseETags parses an If-Match or If-None-Match value: "*" or a
// comma-separated list of entity tags, weak (W/"3") or strong ("3"),
// compared by version alone. (RFC 9110 §13.1.1 asks If-Match for the
// strong comparison, under which a weak tag never matches; Roster's tags
// are weak, as SCIM's are in RFC 7644 §3.14, and a client echoes the tag
// it was given, so both forms name the version.) wildcard is true for
// "*". A tag that is not one of Roster's versions (not a quoted positive
// decimal, or garbage) is returned as -1, which matches nothing: a
// malformed If-Match is therefore a failed precondition (412), never
// ignored.
func ParseETags(v string) (versions []int64, wildcard bool) {
	for _, part := range strings.Split(v, ",") {
		t := strings.TrimSpace(part)
		if t == "" {
			continue
		}
		if t == "*" {
			return nil, true
		}
		t = strings.TrimPrefix(strings.TrimPrefix(t, "W/"), "w/")
		t = strings.Trim(t, `"`)
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n <= 0 {
			n = -1
		}
		versions = append(versions, n)
	}
	return versions, false
}

// IfMatch returns the version to pass as the core's ifVersion for an
// If-Match value: 0 (no condition) when the value is empty or "*"; the one
// tag's version when it names one; -1 (matches no stored version, so the
// core answers ErrPrecondition) when it is present but holds no tag; and,
// with several tags, the stored version if one of them names it, which
// current reads. When none does, the error wraps ErrPreconditionFailed.
//
// "*" on a user that does not exist is left to the core's ErrNotFound
// (404), not 412: the vendors' clients know a missing user as a 404.
func IfMatch(header string, current func() (int64, error)) (int64, error) {
	if strings.TrimSpace(header) == "" {
		return 0, nil
	}
	vs, wildcard := ParseETags(header)
	if wildcard {
		return 0, nil
	}
	switch len(vs) {
	case 0:
		return -1, nil
	case 1:
		return vs[0], nil
	}
	cur, err := current()
	if err != nil {
		return 0, err
	}
	for _, v := range vs {
		if v == cur {
			return cur, nil
		}
	}
	return 0, fmt.Errorf("if-match %q, stored version %d: %w", header, cur, preconditionFailed)
}

// IfMatchUser is IfMatch for a request on user id of p's tenant: it
// reads every If-Match field line of r, and the user's stored version
// only when the header lists several tags. Pass the result to the core's
// UpdateUser or DeleteUser as ifVersion, and the core's error through
// Precondition.
func IfMatchUser(r *http.Request, svc *directory.Service, p directory.Principal, id string) (int64, error) {
	return IfMatch(HeaderList(r, IfMatchHeader), StoredVersion(r.Context(), svc, p, id))
}

// StoredVersion returns a reader of user id's stored version, for IfMatch.
func StoredVersion(ctx context.Context, svc *directory.Service, p directory.Principal, id string) func() (int64, error) {
	return func() (int64, error) {
		u, err := svc.GetUser(ctx, p, id)
		if err != nil {
			return 0, err
		}
		return u.Version, nil
	}
}

// preconditionFailed matches both ErrPreconditionFailed and the core's
// directory.ErrPrecondition.
var preconditionFailed = fmt.Errorf("%w: %w", ErrPreconditionFailed, directory.ErrPrecondition)

// Precondition marks err as ErrPreconditionFailed when the request sent a
// condition (ifVersion != 0) and err is the core's ErrPrecondition; other
// errors, and a lost race on an unconditional write, pass unchanged.
func Precondition(err error, ifVersion int64) error {
	if err == nil || ifVersion == 0 || !errors.Is(err, directory.ErrPrecondition) || errors.Is(err, ErrPreconditionFailed) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrPreconditionFailed, err)
}

// NoneMatch reports whether an If-None-Match value matches version ("*"
// matches any existing resource).
func NoneMatch(header string, version int64) bool {
	if strings.TrimSpace(header) == "" {
		return false
	}
	vs, wildcard := ParseETags(header)
	if wildcard {
		return true
	}
	for _, v := range vs {
		if v == version {
			return true
		}
	}
	return false
}

// NotModified answers 304 Not Modified with the ETag, and reports true,
// when the request's If-None-Match matches version; the caller then
// writes nothing more. A 304 has no body (RFC 9110 §15.4.5).
func NotModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	if !NoneMatch(HeaderList(r, IfNoneMatchHeader), version) {
		return false
	}
	SetETag(w, version)
	w.WriteHeader(http.StatusNotModified)
	return true
}
