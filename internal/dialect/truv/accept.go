package truv

import (
	"errors"
	"mime"
	"strconv"
	"strings"
)

// errNotAcceptable is a request whose Accept header admits no JSON: DRF's
// 406 {"detail": "Could not satisfy the request Accept header."}, which
// Truv's errors page lists ("406 – bad Accept header").
var errNotAcceptable = errors.New("not acceptable")

// acceptsJSON reports whether the Accept header values admit
// application/json, as DRF's content negotiation decides it with only the
// JSON renderer: no header (or an empty one) admits anything; otherwise
// some media range must be application/json, application/* or */*, with
// a q-value above 0. Unparsable ranges are skipped.
func acceptsJSON(values []string) bool {
	seen := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*", "application/json":
				return true
			}
		}
	}
	return !seen
}
