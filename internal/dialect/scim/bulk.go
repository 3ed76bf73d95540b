package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// bulkOp is one operation of a BulkRequest.
type bulkOp struct {
	Method  string
	Path    string
	BulkID  string
	Version string
	Data    any
	refs    []string // bulkIds referenced in Path and Data
	bad     error    // a structural error found while parsing
}

// bulkResult is one operation of a BulkResponse.
type bulkResult struct {
	Location string     `json:"location,omitempty"`
	Method   string     `json:"method"`
	BulkID   string     `json:"bulkId,omitempty"`
	Version  string     `json:"version,omitempty"`
	Status   string     `json:"status"`
	Response *errorBody `json:"response,omitempty"`
}

type bulkResponse struct {
	Schemas    []string     `json:"schemas"`
	Operations []bulkResult `json:"Operations"`
}

const bulkRefPrefix = "bulkId:"

// RFC 7644 §3.7: "The SCIM bulk operation is an optional server feature
// that enables clients to send a potentially large collection of resource
// operations in a single request ... The service provider MUST continue
// performing as many changes as possible and disregard partial failures
// [unless] failOnErrors ... A client MAY reference a bulkId of a newly
// created resource in a subsequent operation as "bulkId:<id>"; the service
// provider MUST try to resolve it." Operations run in request order, except
// that one referring to a later operation's bulkId waits until that one has
// run. §3.7.4: a request over maxOperations or maxPayloadSize is 413.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request) error {
	var m map[string]any
	err := httpapi.DecodeJSON(w, r, &m, httpapi.DecodeOptions{MaxBytes: MaxBulkPayload, RequireJSONType: true})
	var de *httpapi.DecodeError
	if errors.As(err, &de) && de.Status == http.StatusRequestEntityTooLarge {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The size of the bulk operation exceeds the maxPayloadSize (%d).", MaxBulkPayload)}
	}
	if err != nil {
		return err
	}
	if m == nil {
		return badRequest(typeInvalidSyntax, "the request body must be a JSON object")
	}
	if err := checkSchemas(canonicalKeys(m), URNBulkRequest); err != nil {
		return err
	}
	failOn := 0 // 0: no limit
	if v, ok := lookupKey(m, "failOnErrors"); ok && v != nil {
		n, ok := intOf(v)
		if !ok || n < 0 {
			return badRequest(typeInvalidValue, "failOnErrors must be a non-negative integer")
		}
		failOn = n
	}
	opsV, _ := lookupKey(m, "Operations")
	list, ok := opsV.([]any)
	if !ok {
		return badRequest(typeInvalidSyntax, "Operations must be an array")
	}
	if len(list) > MaxBulkOperations {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The number of operations (%d) exceeds the maxOperations (%d).", len(list), MaxBulkOperations)}
	}
	ops := make([]*bulkOp, len(list))
	defined := map[string]int{} // bulkId -> op index
	for i, e := range list {
		ops[i] = parseBulkOp(e)
		if id := ops[i].BulkID; id != "" && ops[i].bad == nil {
			if _, dup := defined[id]; dup {
				ops[i].bad = badRequest(typeUniqueness, "bulkId %q is used by more than one operation", clip(id))
				continue
			}
			defined[id] = i
		}
	}

	p := principal(r)
	base := h.baseURL(r)
	resolved := map[string]string{} // bulkId -> created id; "" when that operation failed
	results := make([]*bulkResult, len(ops))
	done := make([]bool, len(ops))
	errCount := 0
	for remaining := len(ops); remaining > 0; {
		progress := false
		for i, op := range ops {
			if done[i] {
				continue
			}
			if waitsFor(op, defined, resolved, i) {
				continue
			}
			res := h.runBulkOp(r, p, base, op, defined, resolved)
			if op.BulkID != "" && op.bad == nil {
				if strings.HasPrefix(res.Status, "2") && op.Method == http.MethodPost {
					resolved[op.BulkID] = lastSegment(res.Location)
				} else if _, ok := resolved[op.BulkID]; !ok {
					resolved[op.BulkID] = ""
				}
			}
			results[i], done[i] = res, true
			remaining--
			progress = true
			if res.Response != nil {
				errCount++
				if failOn > 0 && errCount >= failOn {
					return writeSCIM(w, http.StatusOK, bulkResponseOf(results))
				}
			}
		}
		if !progress { // only operations waiting on each other remain
			for i, op := range ops {
				if !done[i] {
					results[i] = h.bulkError(r, op, badRequest(typeInvalidValue, "circular bulkId reference"))
					done[i] = true
					remaining--
				}
			}
		}
	}
	return writeSCIM(w, http.StatusOK, bulkResponseOf(results))
}

func bulkResponseOf(results []*bulkResult) bulkResponse {
	out := bulkResponse{Schemas: []string{URNBulkResponse}, Operations: []bulkResult{}}
	for _, r := range results {
		if r != nil {
			out.Operations = append(out.Operations, *r)
		}
	}
	return out
}

// waitsFor reports whether op refers to the bulkId of an operation that
// has not run yet (other than itself).
func waitsFor(op *bulkOp, defined map[string]int, resolved map[string]string, self int) bool {
	for _, ref := range op.refs {
		if _, ok := resolved[ref]; ok {
			continue
		}
		if j, ok := defined[ref]; ok && j != self {
			return true
		}
	}
	return false
}

func parseBulkOp(e any) *bulkOp {
	op := &bulkOp{}
	o, ok := e.(map[string]any)
	if !ok {
		op.bad = badRequest(typeInvalidSyntax, "each operation must be an object")
		return op
	}
	str := func(key string) string {
		v, _ := lookupKey(o, key)
		s, ok := v.(string)
		if !ok && v != nil && op.bad == nil {
			op.bad = badRequest(typeInvalidSyntax, "%s must be a string", key)
		}
		return s
	}
	op.Method = strings.ToUpper(strings.TrimSpace(str("method")))
	op.Path = strings.TrimSpace(str("path"))
	op.BulkID = str("bulkId")
	op.Version = str("version")
	op.Data, _ = lookupKey(o, "data")
	if op.bad != nil {
		return op
	}
	switch op.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		op.bad = badRequest(typeInvalidSyntax, "method must be POST, PUT, PATCH or DELETE")
		return op
	}
	if op.Path == "" {
		op.bad = badRequest(typeInvalidPath, "path is required")
		return op
	}
	collectRefs(op.Path, &op.refs)
	collectRefs(op.Data, &op.refs)
	return op
}

// collectRefs appends the bulkIds referenced ("bulkId:x") in v.
func collectRefs(v any, refs *[]string) {
	switch x := v.(type) {
	case string:
		for _, seg := range strings.Split(x, "/") {
			if id, ok := strings.CutPrefix(seg, bulkRefPrefix); ok && id != "" {
				*refs = append(*refs, id)
			}
		}
	case []any:
		for _, e := range x {
			collectRefs(e, refs)
		}
	case map[string]any:
		for _, e := range x {
			collectRefs(e, refs)
		}
	}
}

// substitute replaces "bulkId:x" references in v with resolved ids.
func substitute(v any, resolved map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, bulkRefPrefix) {
			return x, nil
		}
		segs := strings.Split(x, "/")
		for i, seg := range segs {
			if id, ok := strings.CutPrefix(seg, bulkRefPrefix); ok {
				got, ok := resolved[id]
				if !ok {
					return nil, &Error{Status: http.StatusConflict, ScimType: typeInvalidValue,
						Detail: fmt.Sprintf("bulkId %q is not defined in this request", clip(id))}
				}
				if got == "" {
					return nil, &Error{Status: http.StatusConflict, ScimType: typeInvalidValue,
						Detail: fmt.Sprintf("bulkId %q refers to an operation that failed", clip(id))}
				}
				segs[i] = got
			}
		}
		return strings.Join(segs, "/"), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			s, err := substitute(e, resolved)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			s, err := substitute(e, resolved)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	}
	return v, nil
}

func (h *Handler) bulkError(r *http.Request, op *bulkOp, err error) *bulkResult {
	status, body := describe(r, err)
	return &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(status), Response: &body}
}

// runBulkOp performs one operation with the same code as the single
// requests.
func (h *Handler) runBulkOp(r *http.Request, p directory.Principal, base string, op *bulkOp, defined map[string]int, resolved map[string]string) *bulkResult {
	if op.bad != nil {
		return h.bulkError(r, op, op.bad)
	}
	path, err := substitute(op.Path, resolved)
	if err != nil {
		return h.bulkError(r, op, err)
	}
	data, err := substitute(op.Data, resolved)
	if err != nil {
		return h.bulkError(r, op, err)
	}
	kind, id, ok := splitBulkPath(path.(string))
	if !ok || (op.Method == http.MethodPost) != (id == "") {
		return h.bulkError(r, op, badRequest(typeInvalidPath, "path must be /Users or /Groups for POST, /Users/{id} or /Groups/{id} otherwise"))
	}
	var obj map[string]any
	if op.Method != http.MethodDelete {
		if obj, ok = data.(map[string]any); !ok {
			return h.bulkError(r, op, badRequest(typeInvalidSyntax, "data must be an object"))
		}
	}
	ctx := r.Context()
	version := func() (int64, error) {
		return ifMatch(op.Version, func() (int64, error) {
			if kind == "Users" {
				return httpapi.StoredVersion(ctx, h.svc, p, id)()
			}
			return h.groupVersion(ctx, p, id)()
		})
	}
	res := &bulkResult{Method: op.Method, BulkID: op.BulkID}
	var v int64
	var rid string
	err = func() error {
		ifv, err := version()
		if err != nil {
			return err
		}
		switch kind {
		case "Users":
			u, err := h.bulkUser(ctx, p, op.Method, id, ifv, obj)
			if u != nil {
				v, rid = u.Version, u.ID
			}
			return userErr(err, id)
		default:
			g, err := h.bulkGroup(ctx, p, op.Method, id, ifv, obj)
			if g != nil {
				v, rid = g.Version, g.ID
			}
			return groupErr(err, id)
		}
	}()
	if err != nil {
		return h.bulkError(r, op, err)
	}
	switch op.Method {
	case http.MethodPost:
		res.Status = "201"
	case http.MethodDelete:
		res.Status = "204"
		rid = id
	default:
		res.Status = "200"
	}
	if rid != "" {
		res.Location = base + "/" + kind + "/" + rid
	}
	if v > 0 {
		res.Version = etag(v)
	}
	return res
}

func (h *Handler) bulkUser(ctx context.Context, p directory.Principal, method, id string, ifv int64, obj map[string]any) (*directory.User, error) {
	switch method {
	case http.MethodPost:
		return h.createUserOp(ctx, p, obj)
	case http.MethodPut:
		return h.replaceUserOp(ctx, p, id, ifv, obj)
	case http.MethodPatch:
		pr, err := patchFromMap(obj)
		if err != nil {
			return nil, err
		}
		return h.patchUserOp(ctx, p, id, ifv, pr)
	}
	return nil, h.svc.DeleteUser(ctx, p, id, ifv)
}

func (h *Handler) bulkGroup(ctx context.Context, p directory.Principal, method, id string, ifv int64, obj map[string]any) (*directory.Group, error) {
	switch method {
	case http.MethodPost:
		return h.createGroupOp(ctx, p, obj)
	case http.MethodPut:
		return h.replaceGroupOp(ctx, p, id, ifv, obj)
	case http.MethodPatch:
		pr, err := patchFromMap(obj)
		if err != nil {
			return nil, err
		}
		return h.patchGroupOp(ctx, p, id, ifv, pr)
	}
	return nil, h.svc.DeleteGroup(ctx, p, id, ifv)
}

// splitBulkPath splits "/Users/{id}" into ("Users", id). The resource
// name is case-insensitive.
func splitBulkPath(path string) (kind, id string, ok bool) {
	path = strings.TrimPrefix(path, basePath)
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", "", false
	}
	kind, id, _ = strings.Cut(rest, "/")
	switch {
	case strings.EqualFold(kind, "Users"):
		kind = "Users"
	case strings.EqualFold(kind, "Groups"):
		kind = "Groups"
	default:
		return "", "", false
	}
	if strings.Contains(id, "/") {
		return "", "", false
	}
	return kind, id, true
}

func lastSegment(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[i+1:]
	}
	return loc
}

func intOf(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}
