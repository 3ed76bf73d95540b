package scim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

// vendorFlow is a recorded provisioning flow (testdata/vendors/*.json):
// the requests an identity provider sends, in order, as its documentation
// shows them, with what the answers must hold. "{{name}}" in paths, bodies
// and expectations is a value saved from an earlier answer.
type vendorFlow struct {
	Source string `json:"source"`
	Steps  []struct {
		Name   string            `json:"name"`
		Method string            `json:"method"`
		Path   string            `json:"path"`
		Body   json.RawMessage   `json:"body"`
		Status int               `json:"status"`
		Save   map[string]string `json:"save"`
		Expect map[string]any    `json:"expect"`
	} `json:"steps"`
}

func TestVendorFlows(t *testing.T) {
	files, err := filepath.Glob("testdata/vendors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vendor flows: %v", err)
	}
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, file := range files {
			name := strings.TrimSuffix(filepath.Base(file), ".json")
			t.Run(name, func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var flow vendorFlow
				if err := json.Unmarshal(raw, &flow); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				e := newEnv(t, backend)
				saved := map[string]string{}
				fill := func(s string) string {
					for k, v := range saved {
						s = strings.ReplaceAll(s, "{{"+k+"}}", v)
					}
					return s
				}
				for _, st := range flow.Steps {
					body := ""
					if len(st.Body) > 0 {
						body = fill(string(st.Body))
					}
					r := e.call(st.Method, fill(st.Path), body, "User-Agent", "Okta SCIM Client 1.0.0")
					if r.Status != st.Status {
						t.Fatalf("%s: status %d, want %d: %s", st.Name, r.Status, st.Status, r.Body)
					}
					if st.Status == 204 {
						if len(r.Body) != 0 {
							t.Errorf("%s: 204 with a body", st.Name)
						}
						continue
					}
					if ct := r.Header.Get("Content-Type"); ct != "application/scim+json" {
						t.Errorf("%s: Content-Type %q", st.Name, ct)
					}
					got := r.Map(t)
					for k, path := range st.Save {
						saved[k], _ = at(got, path).(string)
					}
					for path, want := range st.Expect {
						w := fill(jsonString(want))
						if v := jsonString(at(got, path)); v != w {
							t.Errorf("%s: %s = %s, want %s\n%s", st.Name, path, v, w, r.Body)
						}
					}
				}
			})
		}
	})
}
