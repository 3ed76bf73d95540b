package openapi

import (
	"encoding/json"
	"html/template"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The /docs page: one section per document, one block per operation
// (parameters, request body, every response), then the document's named
// schemas. Schemas are shown as nested property lists; a reference to a
// named schema is a link to it, so recursive and shared schemas are shown
// once.

type pageDoc struct {
	Name, Title, Version, Description string
	Security                          []pageScheme
	Ops                               []pageOp
	Schemas                           []pageSchema
}

type pageScheme struct{ Name, Kind, Description string }

type pageOp struct {
	Anchor, Method, Path, Summary, Description string
	Security                                   []string
	Params                                     []pageParam
	Body                                       []pageContent
	BodyRequired                               bool
	Responses                                  []pageResponse
}

type pageParam struct {
	Name, In, Type, Description string
	Required                    bool
}

type pageContent struct {
	MediaType string
	Schema    *pageNode
}

type pageResponse struct {
	Status, Description string
	Headers             []pageParam
	Content             []pageContent
}

type pageSchema struct {
	Anchor, Name string
	Node         *pageNode
}

// pageNode is one schema: its type (or a link to a named schema) and, for
// objects and arrays, what is inside.
type pageNode struct {
	Name        string // property name; "" at the root
	Required    bool
	Type        string
	Ref         string // anchor of a named schema
	RefName     string
	Description string
	Enum        []string
	Children    []*pageNode
}

func pageData(s *Set) pageRoot {
	root := pageRoot{CSS: template.CSS(pageCSS)}
	for _, d := range s.Docs {
		root.Docs = append(root.Docs, docData(d))
	}
	return root
}

func docData(d *Document) pageDoc {
	t := d.Doc
	pd := pageDoc{Name: d.Name, Title: t.Info.Title, Version: t.Info.Version, Description: t.Info.Description}
	if t.Components != nil {
		for _, name := range sortedKeys(t.Components.SecuritySchemes) {
			ss := t.Components.SecuritySchemes[name].Value
			kind := ss.Type
			switch ss.Type {
			case "apiKey":
				kind = "API key in " + ss.In + " " + ss.Name
			case "http":
				kind = "HTTP " + ss.Scheme
			}
			pd.Security = append(pd.Security, pageScheme{Name: name, Kind: kind, Description: ss.Description})
		}
		for _, name := range sortedKeys(t.Components.Schemas) {
			pd.Schemas = append(pd.Schemas, pageSchema{Anchor: d.Name + "-schema-" + name, Name: name,
				Node: node(d.Name, "", false, t.Components.Schemas[name], 0, true)})
		}
	}
	paths := t.Paths.Map()
	for _, path := range sortedKeys(paths) {
		item := paths[path]
		for _, method := range methodOrder {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			pd.Ops = append(pd.Ops, opData(d.Name, method, path, item, op, t))
		}
	}
	return pd
}

var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func opData(doc, method, path string, item *openapi3.PathItem, op *openapi3.Operation, t *openapi3.T) pageOp {
	po := pageOp{Anchor: doc + "-" + strings.ToLower(method) + strings.NewReplacer("/", "-", "{", "", "}", "", ".", "-").Replace(path),
		Method: method, Path: path, Summary: op.Summary, Description: strings.TrimSpace(item.Description + " " + op.Description)}
	sec := t.Security
	if op.Security != nil {
		sec = *op.Security
	}
	for _, req := range sec {
		var names []string
		for _, k := range sortedKeys(req) {
			names = append(names, k)
		}
		if len(names) == 0 {
			names = []string{"none"}
		}
		po.Security = append(po.Security, strings.Join(names, " + "))
	}
	if len(sec) == 0 {
		po.Security = []string{"none"}
	}
	for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
		if p.Value == nil {
			continue
		}
		po.Params = append(po.Params, paramData(p.Value))
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		po.BodyRequired = op.RequestBody.Value.Required
		po.Body = contentData(doc, op.RequestBody.Value.Content)
	}
	if op.Responses != nil {
		m := op.Responses.Map()
		for _, status := range sortedKeys(m) {
			r := m[status].Value
			if r == nil {
				continue
			}
			pr := pageResponse{Status: status, Content: contentData(doc, r.Content)}
			if r.Description != nil {
				pr.Description = *r.Description
			}
			for _, h := range sortedKeys(r.Headers) {
				hv := r.Headers[h].Value
				if hv == nil {
					continue
				}
				pr.Headers = append(pr.Headers, pageParam{Name: h, Description: hv.Description, Type: typeOf(hv.Schema)})
			}
			po.Responses = append(po.Responses, pr)
		}
	}
	return po
}

func paramData(p *openapi3.Parameter) pageParam {
	return pageParam{Name: p.Name, In: p.In, Required: p.Required, Description: p.Description, Type: typeOf(p.Schema)}
}

func contentData(doc string, c openapi3.Content) []pageContent {
	var out []pageContent
	for _, mt := range sortedKeys(c) {
		out = append(out, pageContent{MediaType: mt, Schema: node(doc, "", false, c[mt].Schema, 0, false)})
	}
	return out
}

// maxDepth bounds inline nesting on the page; deeper schemas are named
// schemas in every document, shown through links.
const maxDepth = 8

// node renders ref. A reference to a named schema is a link, unless
// expand is set (the schema's own entry in the Schemas list).
func node(doc, name string, required bool, ref *openapi3.SchemaRef, depth int, expand bool) *pageNode {
	n := &pageNode{Name: name, Required: required}
	if ref == nil {
		n.Type = "any"
		return n
	}
	if ref.Ref != "" && !expand {
		n.RefName = ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
		n.Ref = doc + "-schema-" + n.RefName
		if ref.Value != nil {
			n.Description = ref.Value.Description
		}
		return n
	}
	s := ref.Value
	if s == nil {
		n.Type = "any"
		return n
	}
	n.Type = typeOf(ref)
	n.Description = s.Description
	for _, e := range s.Enum {
		b, _ := json.Marshal(e)
		n.Enum = append(n.Enum, string(b))
	}
	if s.Const != nil {
		b, _ := json.Marshal(s.Const)
		n.Enum = append(n.Enum, string(b))
	}
	if depth >= maxDepth {
		return n
	}
	for _, p := range sortedKeys(s.Properties) {
		n.Children = append(n.Children, node(doc, p, slices.Contains(s.Required, p), s.Properties[p], depth+1, false))
	}
	if s.Items != nil {
		n.Children = append(n.Children, node(doc, "[items]", false, s.Items, depth+1, false))
	}
	if ap := s.AdditionalProperties.Schema; ap != nil {
		n.Children = append(n.Children, node(doc, "[any key]", false, ap, depth+1, false))
	}
	for _, group := range []struct {
		label string
		refs  openapi3.SchemaRefs
	}{{"one of", s.OneOf}, {"any of", s.AnyOf}, {"all of", s.AllOf}} {
		for _, r := range group.refs {
			n.Children = append(n.Children, node(doc, "("+group.label+")", false, r, depth+1, false))
		}
	}
	return n
}

func typeOf(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	if ref.Ref != "" {
		return ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	}
	s := ref.Value
	if s == nil || s.Type == nil || len(*s.Type) == 0 {
		if s != nil && (len(s.OneOf) > 0 || len(s.AnyOf) > 0) {
			return "one of"
		}
		return "any"
	}
	t := strings.Join(*s.Type, " | ")
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if s.Type.Is("array") && s.Items != nil {
		t = "array of " + typeOf(s.Items)
	}
	return t
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Roster API reference</title>
<style>{{.CSS}}</style>
</head>
<body>
<header><h1>Roster API reference</h1>
<p>Rendered from the OpenAPI 3.1 documents this server serves at <a href="/openapi/">/openapi/</a>.</p>
<nav><ul>{{range .Docs}}<li><a href="#{{.Name}}">{{.Title}}</a> (<a href="/openapi/{{.Name}}.json">{{.Name}}.json</a>)</li>{{end}}</ul></nav>
</header>
<main>
{{range .Docs}}{{$doc := .}}
<section id="{{.Name}}">
<h2>{{.Title}} <small>{{.Version}}</small></h2>
<p class="desc">{{.Description}}</p>
{{if .Security}}<h3>Authentication</h3><dl>{{range .Security}}<dt>{{.Name}}</dt><dd>{{.Kind}}. {{.Description}}</dd>{{end}}</dl>{{end}}
<h3>Operations</h3>
<ul class="toc">{{range .Ops}}<li><a href="#{{.Anchor}}"><code class="m {{.Method}}">{{.Method}}</code> <code>{{.Path}}</code></a> {{.Summary}}</li>{{end}}</ul>
{{range .Ops}}
<article id="{{.Anchor}}">
<h4><code class="m {{.Method}}">{{.Method}}</code> <code>{{.Path}}</code> — {{.Summary}}</h4>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
<p>Authentication: {{range $i, $s := .Security}}{{if $i}} or {{end}}<code>{{$s}}</code>{{end}}</p>
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <em>required</em>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<h5>Request body{{if .BodyRequired}} (required){{end}}</h5>{{range .Body}}<code>{{.MediaType}}</code>{{template "node" .Schema}}{{end}}{{end}}
<h5>Responses</h5>
<table class="resp"><tr><th>status</th><th>meaning</th><th>body</th></tr>
{{range .Responses}}<tr><td><strong>{{.Status}}</strong></td><td>{{.Description}}{{range .Headers}}<br>header <code>{{.Name}}</code>: {{.Description}}{{end}}</td>
<td>{{range .Content}}<code>{{.MediaType}}</code>{{template "node" .Schema}}{{else}}none{{end}}</td></tr>{{end}}</table>
</article>
{{end}}
{{if .Schemas}}<h3>Schemas</h3>{{range .Schemas}}<div class="schema" id="{{.Anchor}}"><h4>{{.Name}}</h4>{{template "node" .Node}}</div>{{end}}{{end}}
</section>
{{end}}
</main>
</body>
</html>
{{define "node"}}<ul class="node"><li>{{template "line" .}}{{if .Children}}{{range .Children}}{{template "node" .}}{{end}}{{end}}</li></ul>{{end}}
{{define "line"}}{{if .Name}}<code>{{.Name}}</code>{{if .Required}} <em>required</em>{{end}}: {{end}}{{if .Ref}}<a href="#{{.Ref}}">{{.RefName}}</a>{{else}}<span class="t">{{.Type}}</span>{{end}}{{if .Enum}} — one of {{range $i, $e := .Enum}}{{if $i}}, {{end}}<code>{{$e}}</code>{{end}}{{end}}{{if .Description}} — {{.Description}}{{end}}{{end}}
`))

// pageCSS is the page's whole style sheet; its hash is in the CSP.
const pageCSS = `body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1b1b1b}
h2{border-bottom:2px solid #ccc;margin-top:3rem}h4{margin:1.5rem 0 .5rem}
code{font:13px ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}
.m{color:#fff;font-weight:bold}.GET{background:#2f7d32}.POST{background:#1565c0}.PUT{background:#8e5b00}.PATCH{background:#6a1b9a}.DELETE{background:#b71c1c}
article{border-left:3px solid #ddd;padding-left:1rem;margin:1rem 0}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
ul.node{list-style:none;margin:0;padding-left:1.2rem;border-left:1px dotted #bbb}.t{color:#555}
table.resp{width:100%}table.resp td:first-child{width:3rem}small{color:#777;font-weight:normal}`

type pageRoot struct {
	CSS  template.CSS
	Docs []pageDoc
}
