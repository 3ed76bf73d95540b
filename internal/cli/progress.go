package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar for imports. It redraws at most
// ten times a second so that a fast import is not slowed by the terminal.
type progress struct {
	w     io.Writer
	total int64
	quiet bool
	last  time.Time
	start time.Time
	notes int
}

// maxNotes caps how many failed records are listed before summarising.
const maxNotes = 20

func newProgress(w io.Writer, total int64, quiet bool) *progress {
	return &progress{w: w, total: total, quiet: quiet, start: time.Now()}
}

func (p *progress) update(read int64, ok, failed int) {
	if p.quiet || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.draw(read, ok, failed)
}

func (p *progress) draw(read int64, ok, failed int) {
	const width = 30
	bar := strings.Repeat("?", width)
	pct := ""
	if p.total > 0 {
		filled := int(float64(width) * float64(read) / float64(p.total))
		filled = min(max(filled, 0), width)
		bar = strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
		pct = fmt.Sprintf(" %3d%%", int(100*float64(read)/float64(p.total)))
	}
	rate := float64(ok+failed) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r[%s]%s %d imported, %d failed (%.0f/s)", bar, pct, ok, failed, rate)
}

func (p *progress) note(msg string) {
	p.notes++
	if p.notes > maxNotes {
		return
	}
	if !p.quiet {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, msg)
	if p.notes == maxNotes {
		fmt.Fprintln(p.w, "(further failures are counted but not listed)")
	}
}

func (p *progress) done(ok, failed int) {
	if !p.quiet {
		p.draw(p.total, ok, failed)
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "imported %d users, %d failed, in %v\n", ok, failed, time.Since(p.start).Round(time.Millisecond))
}
