package openapi_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/openapi"
)

// TestDocumentsLoad loads and validates every embedded document.
func TestDocumentsLoad(t *testing.T) {
	s, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Docs) != len(openapi.Names) {
		t.Fatalf("got %d documents, want %d", len(s.Docs), len(openapi.Names))
	}
}
