package openapi

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// sources are the documents as written: YAML, for comments and
// readability; served as JSON.
//
//go:embed docs/*.yaml
var sources embed.FS

// Names lists the documents in the order /openapi/ and /docs show them.
var Names = []string{"truv", "entrust", "cl2c", "ownli", "scim", "admin"}

// Document is one loaded OpenAPI document.
type Document struct {
	Name string
	Doc  *openapi3.T
	JSON []byte // what GET /openapi/{name}.json serves
}

// Set is every document, loaded and validated.
type Set struct {
	Docs   []*Document
	byName map[string]*Document

	// The /docs page, rendered on first use and kept: every server.New
	// (tests build hundreds) registers the same documents.
	pageOnce sync.Once
	page     []byte
	pageErr  error
}

// Page returns the /docs page rendered from s.
func (s *Set) Page() ([]byte, error) {
	s.pageOnce.Do(func() { s.page, s.pageErr = renderPage(s) })
	return s.page, s.pageErr
}

// Get returns the document called name, or nil.
func (s *Set) Get(name string) *Document { return s.byName[name] }

// Load parses and validates every embedded document. The documents are
// part of the binary, so an error here is a programming error that the
// package's tests catch; it is returned, not hidden, so they can say which.
func Load() (*Set, error) {
	s := &Set{byName: map[string]*Document{}}
	for _, name := range Names {
		d, err := loadOne(name)
		if err != nil {
			return nil, err
		}
		s.Docs = append(s.Docs, d)
		s.byName[name] = d
	}
	return s, nil
}

func loadOne(name string) (*Document, error) {
	src, err := sources.ReadFile("docs/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("read openapi document %s: %w", name, err)
	}
	// No external references: every document is self-contained, and the
	// loader must never read a file or URL a document names.
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(src)
	if err != nil {
		return nil, fmt.Errorf("load openapi document %s: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi document %s: %w", name, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi document %s: version %q, want 3.1", name, doc.OpenAPI)
	}
	js, err := encode(doc)
	if err != nil {
		return nil, fmt.Errorf("encode openapi document %s: %w", name, err)
	}
	return &Document{Name: name, Doc: doc, JSON: js}, nil
}

// topOrder is the order of a document's top-level keys in its JSON, the
// specification's (encoding/json would sort them: components first).
var topOrder = []string{"openapi", "info", "jsonSchemaDialect", "servers", "security", "tags", "paths", "webhooks", "components", "externalDocs"}

// encode writes doc as indented JSON, top-level keys in topOrder, without
// encoding/json's HTML escaping (descriptions hold "<version>").
func encode(doc *openapi3.T) ([]byte, error) {
	raw, err := doc.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	keys := slices.Clone(topOrder)
	for k := range top {
		if !slices.Contains(keys, k) {
			keys = append(keys, k) // x- extensions
		}
	}
	var b bytes.Buffer
	b.WriteString("{")
	first := true
	for _, k := range keys {
		v, ok := top[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteString(":")
		// Re-encoded, so that the values kin-openapi escaped are not.
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var val any
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(val); err != nil {
			return nil, err
		}
	}
	b.WriteString("}")
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(json.RawMessage(b.Bytes())); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Default returns the embedded documents, loaded once. It panics if they
// do not load, as regexp.MustCompile does for a constant pattern: they are
// constants of the binary, and TestDocumentsLoad fails first.
var Default = sync.OnceValue(func() *Set {
	s, err := Load()
	if err != nil {
		panic(err)
	}
	return s
})
