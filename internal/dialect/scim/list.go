package scim

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// maxFilterLen bounds a filter expression.
const maxFilterLen = 4096

// listParams are the query parameters of a list or .search request
// (RFC 7644 §3.4.2, §3.4.3).
type listParams struct {
	Filter     string
	SortBy     string
	Descending bool
	StartIndex int // 1-based
	Count      int // 0: totalResults only
	Attributes []string
	Excluded   []string
}

// parseListQuery reads list parameters from a query string. Parameter
// names are matched case-insensitively.
func parseListQuery(q url.Values) (listParams, error) {
	get := func(name string) (string, bool) {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0], true
			}
		}
		return "", false
	}
	p := listParams{StartIndex: 1, Count: MaxResults}
	p.Filter, _ = get("filter")
	p.SortBy, _ = get("sortBy")
	order, _ := get("sortOrder")
	var err error
	if p.Descending, err = parseSortOrder(order); err != nil {
		return p, err
	}
	if s, ok := get("startIndex"); ok {
		if p.StartIndex, err = parseInt("startIndex", s); err != nil {
			return p, err
		}
	}
	if s, ok := get("count"); ok {
		if p.Count, err = parseInt("count", s); err != nil {
			return p, err
		}
	}
	if s, ok := get("attributes"); ok {
		p.Attributes = splitList(s)
	}
	if s, ok := get("excludedAttributes"); ok {
		p.Excluded = splitList(s)
	}
	return p.normalise()
}

// searchBody is a POST .search request (RFC 7644 §3.4.3).
type searchBody struct {
	Schemas            []string  `json:"schemas"`
	Attributes         []string  `json:"attributes"`
	ExcludedAttributes []string  `json:"excludedAttributes"`
	Filter             string    `json:"filter"`
	SortBy             string    `json:"sortBy"`
	SortOrder          string    `json:"sortOrder"`
	StartIndex         *json1Int `json:"startIndex"`
	Count              *json1Int `json:"count"`
}

// json1Int is an integer parameter that clients send as a number or a
// numeric string.
type json1Int int

// UnmarshalJSON accepts 5 and "5".
func (n *json1Int) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.Atoi(s)
	if err != nil {
		return badRequest(typeInvalidValue, "startIndex and count must be integers")
	}
	*n = json1Int(v)
	return nil
}

func parseSearch(raw []byte) (listParams, error) {
	var b searchBody
	if err := httpapi.Unmarshal(raw, &b, false); err != nil {
		if se, ok := unwrapSCIM(err); ok {
			return listParams{}, se
		}
		return listParams{}, err
	}
	if b.Schemas != nil {
		found := false
		for _, s := range b.Schemas {
			found = found || strings.EqualFold(s, URNSearch)
		}
		if !found {
			return listParams{}, badRequest(typeInvalidSyntax, "schemas must include %s", URNSearch)
		}
	}
	desc, err := parseSortOrder(b.SortOrder)
	if err != nil {
		return listParams{}, err
	}
	p := listParams{Filter: b.Filter, SortBy: b.SortBy, Descending: desc, StartIndex: 1, Count: MaxResults,
		Attributes: b.Attributes, Excluded: b.ExcludedAttributes}
	if b.StartIndex != nil {
		p.StartIndex = int(*b.StartIndex)
	}
	if b.Count != nil {
		p.Count = int(*b.Count)
	}
	return p.normalise()
}

// unwrapSCIM finds a *Error raised inside json decoding.
func unwrapSCIM(err error) (*Error, bool) {
	for e := err; e != nil; {
		if se, ok := e.(*Error); ok {
			return se, true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return nil, false
		}
		e = u.Unwrap()
	}
	return nil, false
}

func parseSortOrder(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, badRequest(typeInvalidValue, "sortOrder must be ascending or descending")
}

func parseInt(name, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, badRequest(typeInvalidValue, "%s must be an integer", name)
	}
	return n, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// normalise applies RFC 7644 §3.4.2.4: startIndex below 1 means 1, a
// negative count means 0; and Roster's cap: count above MaxResults means
// MaxResults.
func (p listParams) normalise() (listParams, error) {
	if p.StartIndex < 1 {
		p.StartIndex = 1
	}
	if p.Count < 0 {
		p.Count = 0
	}
	if p.Count > MaxResults {
		p.Count = MaxResults
	}
	if len(p.Filter) > maxFilterLen {
		return p, badRequest(typeInvalidFilter, "the filter is longer than %d bytes", maxFilterLen)
	}
	return p, nil
}

// userQuery turns list parameters into the core's query.
func (p listParams) userQuery() (directory.UserQuery, error) {
	q := directory.UserQuery{Offset: p.StartIndex - 1, Limit: p.Count, Total: true}
	if p.Count == 0 {
		q.Limit = 1 // totalResults only; the row is not returned
	}
	if strings.TrimSpace(p.Filter) != "" {
		e, err := filter.Parse(p.Filter)
		if err != nil {
			return q, err
		}
		if q.Filter, err = userFilter(e); err != nil {
			return q, err
		}
	}
	if p.SortBy != "" {
		f, ok := userSortField(p.SortBy)
		if !ok {
			return q, badRequest(typeInvalidValue, "sortBy %q is not a sortable attribute", clip(p.SortBy))
		}
		// Users without the value sort last (first when descending).
		emptyLast := f != directory.FieldID && f != directory.FieldCreatedAt && f != directory.FieldUpdatedAt
		q.Sort = []directory.SortKey{{Field: f, Desc: p.Descending, EmptyLast: emptyLast}}
	}
	return q, nil
}

func (p listParams) groupQuery() (directory.GroupQuery, error) {
	q := directory.GroupQuery{Offset: p.StartIndex - 1, Limit: p.Count, Total: true}
	if p.Count == 0 {
		q.Limit = 1
	}
	if strings.TrimSpace(p.Filter) != "" {
		e, err := filter.Parse(p.Filter)
		if err != nil {
			return q, err
		}
		if q.Filter, err = groupFilter(e); err != nil {
			return q, err
		}
	}
	if p.SortBy != "" {
		f, ok := groupSortField(p.SortBy)
		if !ok {
			return q, badRequest(typeInvalidValue, "sortBy %q is not a sortable attribute", clip(p.SortBy))
		}
		q.Sort = []directory.SortKey{{Field: f, Desc: p.Descending}}
	}
	q.NoMembers = !wants(groupType, p.Attributes, p.Excluded, "members")
	return q, nil
}

// listResponse is a ListResponse message.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   int      `json:"startIndex"`
	Resources    []any    `json:"Resources"`
}

func newListResponse(total, start int, resources []any) listResponse {
	if resources == nil {
		resources = []any{}
	}
	for i, r := range resources {
		if m, ok := r.(map[string]any); ok {
			resources[i] = ordered(m) // keep the resource key order inside the struct
		}
	}
	return listResponse{Schemas: []string{URNListResponse}, TotalResults: total, ItemsPerPage: len(resources),
		StartIndex: start, Resources: resources}
}

// --- attributes / excludedAttributes (RFC 7644 §3.9) ---

// attrRef is a parsed attribute reference: an extension URN (or ""), the
// attribute (or "" for the whole extension) and a sub-attribute.
type attrRef struct {
	urn, name, sub string
}

// parseRef resolves a reference like "name.givenName",
// "urn:...:enterprise:2.0:User:department" or an extension URN against rt,
// returning canonical names. ok is false for unknown attributes, which are
// ignored.
func parseRef(rt *resourceType, s string) (attrRef, bool) {
	if ext := rt.ext(s); ext != nil {
		return attrRef{urn: ext.ID}, true
	}
	var ref attrRef
	rest := s
	if len(s) > len(rt.Core.ID)+1 && strings.EqualFold(s[:len(rt.Core.ID)+1], rt.Core.ID+":") {
		rest = s[len(rt.Core.ID)+1:]
	} else {
		for _, e := range rt.Extensions {
			if len(s) > len(e.ID)+1 && strings.EqualFold(s[:len(e.ID)+1], e.ID+":") {
				ref.urn, rest = e.ID, s[len(e.ID)+1:]
			}
		}
	}
	name, sub, _ := strings.Cut(rest, ".")
	if strings.EqualFold(name, "schemas") {
		return attrRef{name: "schemas"}, true
	}
	a := lookupAttr(rt, ref.urn, name)
	if a == nil {
		return ref, false
	}
	ref.name = a.Name
	if sub != "" {
		sa := a.sub(sub)
		if sa == nil {
			return ref, false
		}
		ref.sub = sa.Name
	}
	return ref, true
}

// wants reports whether a projection keeps the top-level attribute name.
func wants(rt *resourceType, attrs, excluded []string, name string) bool {
	for _, s := range excluded {
		if ref, ok := parseRef(rt, s); ok && ref.urn == "" && ref.name == name && ref.sub == "" {
			return false
		}
	}
	if len(attrs) == 0 {
		return true
	}
	for _, s := range attrs {
		if ref, ok := parseRef(rt, s); ok && ref.urn == "" && ref.name == name {
			return true
		}
	}
	return false
}

// project applies attributes / excludedAttributes to a representation.
// id and schemas are always returned; with attributes, meta is returned
// only when asked for.
func project(rt *resourceType, res map[string]any, attrs, excluded []string) map[string]any {
	if len(attrs) > 0 {
		out := map[string]any{"id": res["id"], "schemas": res["schemas"]}
		for _, s := range attrs {
			ref, ok := parseRef(rt, s)
			if !ok {
				continue
			}
			src, dst := res, out
			if ref.urn != "" {
				ext, ok := res[ref.urn].(map[string]any)
				if !ok {
					continue
				}
				if ref.name == "" {
					out[ref.urn] = ext
					continue
				}
				d, _ := out[ref.urn].(map[string]any)
				if d == nil {
					d = map[string]any{}
					out[ref.urn] = d
				}
				src, dst = ext, d
			}
			v, ok := src[ref.name]
			if !ok {
				continue
			}
			if ref.sub == "" {
				dst[ref.name] = v
				continue
			}
			dst[ref.name] = mergeSub(dst[ref.name], v, ref.sub)
		}
		res = out
	}
	for _, s := range excluded {
		ref, ok := parseRef(rt, s)
		if !ok || ref.name == "id" || ref.name == "schemas" {
			continue
		}
		c := res
		if ref.urn != "" {
			if ref.name == "" {
				delete(res, ref.urn)
				continue
			}
			ext, ok := res[ref.urn].(map[string]any)
			if !ok {
				continue
			}
			c = ext
		}
		if ref.sub == "" {
			delete(c, ref.name)
			continue
		}
		for _, e := range elementsOf(c[ref.name]) {
			delete(e, ref.sub)
		}
	}
	// Drop extension URNs from schemas whose object is gone.
	if list, ok := res["schemas"].([]any); ok {
		kept := make([]any, 0, len(list))
		for _, s := range list {
			if str, _ := s.(string); str == rt.Core.ID || res[str] != nil {
				kept = append(kept, s)
			}
		}
		res["schemas"] = kept
	}
	return res
}

// mergeSub copies sub-attribute sub of src (an object or a list of
// objects) into dst, which holds what was copied so far.
func mergeSub(dst, src any, sub string) any {
	switch s := src.(type) {
	case map[string]any:
		d, _ := dst.(map[string]any)
		if d == nil {
			d = map[string]any{}
		}
		if v, ok := s[sub]; ok {
			d[sub] = v
		}
		return d
	case []any:
		d, _ := dst.([]any)
		if len(d) != len(s) {
			d = make([]any, len(s))
			for i := range d {
				d[i] = map[string]any{}
			}
		}
		for i, e := range s {
			if eo, ok := e.(map[string]any); ok {
				if v, ok := eo[sub]; ok {
					d[i].(map[string]any)[sub] = v
				}
			}
		}
		return d
	}
	return dst
}

func elementsOf(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		var out []map[string]any
		for _, e := range x {
			if o, ok := e.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}
