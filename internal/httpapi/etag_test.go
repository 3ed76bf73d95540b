package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

func TestETag(t *testing.T) {
	for _, tc := range []struct {
		version int64
		want    string
	}{{1, `W/"1"`}, {42, `W/"42"`}, {1 << 40, `W/"1099511627776"`}} {
		if got := ETag(tc.version); got != tc.want {
			t.Errorf("ETag(%d): got %s, want %s", tc.version, got, tc.want)
		}
		// A tag Roster sends parses back to its version.
		vs, wildcard := ParseETags(ETag(tc.version))
		if wildcard || !slices.Equal(vs, []int64{tc.version}) {
			t.Errorf("ParseETags(ETag(%d)): got %v %v", tc.version, vs, wildcard)
		}
	}
}

func TestParseETags(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		want     []int64
		wildcard bool
	}{
		{"weak", `W/"3"`, []int64{3}, false},
		{"strong", `"3"`, []int64{3}, false},
		{"lower-case weak prefix", `w/"3"`, []int64{3}, false},
		{"list", `W/"3", "4" ,W/"5"`, []int64{3, 4, 5}, false},
		{"star", `*`, nil, true},
		{"star in a list", `W/"3", *`, nil, true},
		{"empty elements skipped", ` , W/"7",, `, []int64{7}, false},
		{"only commas", `,,`, nil, false},
		{"garbage", `garbage`, []int64{-1}, false},
		{"zero is no version", `W/"0"`, []int64{-1}, false},
		{"negative", `W/"-2"`, []int64{-1}, false},
		{"not decimal", `W/"abc"`, []int64{-1}, false},
		{"overflow", `"99999999999999999999"`, []int64{-1}, false},
		{"mixed", `W/"2", nonsense`, []int64{2, -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, wildcard := ParseETags(tc.in)
			if wildcard != tc.wildcard || !slices.Equal(vs, tc.want) {
				t.Fatalf("ParseETags(%q): got %v %v, want %v %v", tc.in, vs, wildcard, tc.want, tc.wildcard)
			}
		})
	}
}

func TestIfMatch(t *testing.T) {
	stored := func(v int64) func() (int64, error) { return func() (int64, error) { return v, nil } }
	errRead := errors.New("read failed")
	for _, tc := range []struct {
		name    string
		header  string
		current func() (int64, error)
		want    int64
		wantErr error // nil: no error
	}{
		{"absent", "", nil, 0, nil},
		{"blank", "   ", nil, 0, nil},
		{"star", "*", nil, 0, nil},
		{"one weak tag", `W/"4"`, nil, 4, nil},
		{"one strong tag", `"4"`, nil, 4, nil},
		{"malformed", `nonsense`, nil, -1, nil},
		{"no tags", `,`, nil, -1, nil},
		{"list, one matches", `W/"1", W/"4"`, stored(4), 4, nil},
		{"list, none matches", `W/"1", W/"2"`, stored(4), 0, ErrPreconditionFailed},
		{"list, read fails", `W/"1", W/"2"`, func() (int64, error) { return 0, errRead }, 0, errRead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := IfMatch(tc.header, tc.current)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("IfMatch(%q): unexpected error %v", tc.header, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("IfMatch(%q): got err %v, want %v", tc.header, err, tc.wantErr)
			}
			if errors.Is(err, ErrPreconditionFailed) && !errors.Is(err, directory.ErrPrecondition) {
				t.Fatalf("IfMatch(%q): %v does not wrap directory.ErrPrecondition", tc.header, err)
			}
			if got != tc.want {
				t.Fatalf("IfMatch(%q): got %d, want %d", tc.header, got, tc.want)
			}
		})
	}
}

func TestPrecondition(t *testing.T) {
	lost := fmt.Errorf("update user: %w", directory.ErrPrecondition)
	for _, tc := range []struct {
		name      string
		err       error
		ifVersion int64
		wantMark  bool
	}{
		{"nil", nil, 3, false},
		{"conditional write lost", lost, 3, true},
		{"malformed condition", lost, -1, true},
		{"unconditional write lost every retry", lost, 0, false},
		{"other error", directory.ErrNotFound, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Precondition(tc.err, tc.ifVersion)
			if marked := errors.Is(got, ErrPreconditionFailed); marked != tc.wantMark {
				t.Fatalf("Precondition(%v, %d) = %v: marked %v, want %v", tc.err, tc.ifVersion, got, marked, tc.wantMark)
			}
			if !errors.Is(got, tc.err) {
				t.Fatalf("Precondition(%v, %d) = %v: lost the cause", tc.err, tc.ifVersion, got)
			}
		})
	}
}

func TestNotModified(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []string // field lines
		want   bool
	}{
		{"absent", nil, false},
		{"current", []string{`W/"5"`}, true},
		{"strong form", []string{`"5"`}, true},
		{"stale", []string{`W/"4"`}, false},
		{"second field line", []string{`W/"3"`, `W/"5"`}, true},
		{"star", []string{`*`}, true},
		{"garbage", []string{`xyz`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/u", nil)
			r.Header[IfNoneMatchHeader] = tc.header
			w := httptest.NewRecorder()
			if got := NotModified(w, r, 5); got != tc.want {
				t.Fatalf("NotModified: got %v, want %v", got, tc.want)
			}
			if tc.want {
				if w.Code != http.StatusNotModified || w.Header().Get("ETag") != `W/"5"` || w.Body.Len() != 0 {
					t.Fatalf("304: got %d ETag %q body %q", w.Code, w.Header().Get("ETag"), w.Body)
				}
			} else if len(w.Header()) != 0 {
				t.Fatalf("no match must write nothing, wrote headers %v", w.Header())
			}
		})
	}
}
