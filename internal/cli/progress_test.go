package cli

import (
	"strings"
	"testing"
	"time"
)

func TestProgressETA(t *testing.T) {
	tests := []struct {
		name        string
		total, read int64
		want        string
	}{
		{"a quarter in 10s", 1000, 250, ", ETA 30s"},
		{"half", 1000, 500, ", ETA 10s"},
		{"size unknown (standard input)", 0, 250, ""},
		{"nothing read yet", 1000, 0, ""},
		{"all read", 1000, 1000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &progress{total: tt.total, start: time.Now().Add(-10 * time.Second), counts: &importCounts{}}
			if got := p.eta(tt.read); got != tt.want {
				t.Errorf("eta(%d of %d after 10s): got %q, want %q", tt.read, tt.total, got, tt.want)
			}
		})
	}
}

// TestProgressBar: the terminal bar shows the share read, the counts, the
// rate and the ETA on one redrawn line.
func TestProgressBar(t *testing.T) {
	var b strings.Builder
	c := &importCounts{imported: 40, invalid: 2}
	p := &progress{w: &b, total: 1000, start: time.Now().Add(-10 * time.Second), counts: c}
	p.drawBar(500)
	got := b.String()
	for _, want := range []string{"\r\033[K[===============               ]  50%", "40 imported", "2 failed", "/s, ETA 10s)"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar %q lacks %q", got, want)
		}
	}
}
