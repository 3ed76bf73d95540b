package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
)

// mediaType is what every SCIM response is sent as (RFC 7644 §3.1).
const mediaType = "application/scim+json"

// writeSCIM writes v as application/scim+json.
func writeSCIM(w http.ResponseWriter, status int, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// keyRank orders the keys of resource objects the way the RFC's examples
// do (schemas, id, externalId, ... meta last), so responses read naturally;
// maps would otherwise be written alphabetically. Unranked keys (extension
// URNs, unknown names) come after the ranked ones, alphabetically, and meta
// always last.
var keyRank = func() map[string]int {
	order := []string{
		"schemas", "id", "externalId", "userName", "displayName", "name",
		"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix",
		"nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active",
		"emails", "phoneNumbers", "addresses", "streetAddress", "locality", "region", "postalCode", "country",
		"value", "display", "name", "$ref", "type", "primary", "members", "groups",
		"employeeNumber", "costCenter", "organization", "division", "department", "manager",
		"aliases", "attributes", "extras",
		"resourceType", "created", "lastModified", "location", "version",
	}
	m := make(map[string]int, len(order))
	for i, k := range order {
		if _, dup := m[k]; !dup {
			m[k] = i
		}
	}
	return m
}()

func rankOf(k string) int {
	if k == "meta" {
		return len(keyRank) + 2
	}
	if r, ok := keyRank[k]; ok {
		return r
	}
	return len(keyRank) + 1
}

// marshal encodes v like encoding/json, without HTML escaping, writing
// map[string]any keys in keyRank order.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeValue(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeValue(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			ri, rj := rankOf(keys[i]), rankOf(keys[j])
			if ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeScalar(buf, k); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := encodeValue(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		return encodeArray(buf, x)
	case []map[string]any:
		return encodeArray(buf, x)
	case json.RawMessage:
		buf.Write(x)
		return nil
	}
	return encodeScalar(buf, v)
}

// encodeArray writes xs as a JSON array, each element by encodeValue; the
// resource maps hold both []any and []map[string]any.
func encodeArray[T any](buf *bytes.Buffer, xs []T) error {
	buf.WriteByte('[')
	for i, e := range xs {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := encodeValue(buf, e); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

// encodeScalar encodes structs and scalars with encoding/json (structs
// holding maps or []any fields go through json.Marshaler below).
func encodeScalar(buf *bytes.Buffer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
	return nil
}

// ordered wraps a map so that encoding/json, inside a struct, writes it
// with keyRank order.
type ordered map[string]any

// MarshalJSON implements json.Marshaler.
func (o ordered) MarshalJSON() ([]byte, error) { return marshal(map[string]any(o)) }
