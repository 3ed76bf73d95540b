package openapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/httpapi"
)

// Register mounts GET /openapi/ (the index), GET /openapi/{name}.json and
// GET /docs on mux, serving s.
//
// The documents describe Roster; they hold no tenant data, so they are
// public like /healthz.
func Register(mux *http.ServeMux, s *Set) {
	page, err := s.Page()
	if err != nil {
		// The page is rendered from constants of the binary; TestDocsPage
		// fails first.
		panic(err)
	}
	index := indexOf(s)
	mux.HandleFunc("GET /openapi/{$}", func(w http.ResponseWriter, r *http.Request) {
		_ = httpapi.WriteJSON(w, http.StatusOK, index)
	})
	mux.HandleFunc("GET /openapi/{file}", func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(r.PathValue("file"), ".json")
		d := s.Get(name)
		if !ok || d == nil {
			notFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// Public and the same for every caller until the binary changes:
		// unlike API answers, a cache may keep it, but must ask again.
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(d.JSON)
	})
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		// The page's only resource is its inline style sheet, allowed by
		// hash: no script, no image, no font, nothing from elsewhere.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src '"+styleHash+"'; frame-ancestors 'none'")
		_, _ = w.Write(page)
	})
	// Other methods on these paths: 405 with Allow, as the dialects do.
	for _, p := range []string{"/openapi/{$}", "/openapi/{file}", "/docs"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			_ = httpapi.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed", "request_id": httpapi.RequestIDFrom(r.Context())})
		})
	}
}

// notFound answers as the server's catch-all does.
func notFound(w http.ResponseWriter, r *http.Request) {
	_ = httpapi.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not found", "request_id": httpapi.RequestIDFrom(r.Context())})
}

// Index is the body of GET /openapi/.
type Index struct {
	Documents []IndexEntry `json:"documents"`
}

// IndexEntry names one document.
type IndexEntry struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Version string `json:"version"`
	OpenAPI string `json:"openapi"`
	URL     string `json:"url"` // relative to the server's root
}

func indexOf(s *Set) Index {
	ix := Index{Documents: []IndexEntry{}}
	for _, d := range s.Docs {
		ix.Documents = append(ix.Documents, IndexEntry{Name: d.Name, Title: d.Doc.Info.Title,
			Version: d.Doc.Info.Version, OpenAPI: d.Doc.OpenAPI, URL: "/openapi/" + d.Name + ".json"})
	}
	return ix
}

// styleHash is the CSP source for the page's one <style> element.
var styleHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

// renderPage renders /docs once: the documents do not change while the
// binary runs.
func renderPage(s *Set) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, pageData(s)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
