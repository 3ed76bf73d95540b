package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports a running import on standard error. On a terminal it
// redraws a one-line bar at most ten times a second, so a fast import is
// not slowed by the terminal; anywhere else (a file, a pipe, a CI log) it
// writes a plain line every plainEvery, with no carriage returns or escape
// codes. quiet writes nothing.
type progress struct {
	w      io.Writer
	total  int64 // input size in bytes; 0 when unknown (standard input)
	quiet  bool
	tty    bool
	drawn  bool // a bar is on the terminal's current line
	last   time.Time
	start  time.Time
	every  time.Duration
	counts *importCounts
}

// plainEvery is how often a non-terminal gets a progress line; tests
// shorten it.
var plainEvery = 5 * time.Second

func newProgress(w io.Writer, total int64, quiet bool, c *importCounts) *progress {
	now := time.Now()
	p := &progress{w: w, total: total, quiet: quiet, tty: isTerminal(w), start: now, last: now, counts: c}
	p.every = plainEvery
	if p.tty {
		p.every = 100 * time.Millisecond
	}
	return p
}

// isTerminal reports whether w is a terminal (a character device): the
// standard library's answer, without golang.org/x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update reports that read bytes of the input have been consumed.
func (p *progress) update(read int64, line int) {
	if p.quiet || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	if p.tty {
		p.drawBar(read)
		return
	}
	pct := ""
	if p.total > 0 {
		pct = fmt.Sprintf(" (%d%%)", int(100*float64(read)/float64(p.total)))
	}
	fmt.Fprintf(p.w, "import: line %d%s: %s, %.0f rows/s%s\n", line, pct, p.counts, p.rate(), p.eta(read))
}

func (p *progress) rate() float64 {
	return float64(p.counts.rows()) / max(time.Since(p.start).Seconds(), 0.001)
}

// eta is ", ETA 1m2s": the time the rest of the input takes at the rate
// so far; "" when the input's size is unknown (standard input).
func (p *progress) eta(read int64) string {
	if p.total <= 0 || read <= 0 || read >= p.total {
		return ""
	}
	left := time.Duration(float64(time.Since(p.start)) * float64(p.total-read) / float64(read))
	return ", ETA " + left.Round(time.Second).String()
}

func (p *progress) drawBar(read int64) {
	const width = 30
	bar := strings.Repeat("?", width)
	pct := ""
	if p.total > 0 {
		filled := int(float64(width) * float64(read) / float64(p.total))
		filled = min(max(filled, 0), width)
		bar = strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
		pct = fmt.Sprintf(" %3d%%", min(100, int(100*float64(read)/float64(p.total))))
	}
	fmt.Fprintf(p.w, "\r\033[K[%s]%s %s (%.0f/s%s)", bar, pct, p.counts, p.rate(), p.eta(read))
	p.drawn = true
}

// clear removes the bar so a message can be printed on its own line.
func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// note prints a line (a rejected row) above the bar.
func (p *progress) note(msg string) {
	p.clear()
	fmt.Fprintln(p.w, msg)
}

// done removes the bar; the summary is the caller's.
func (p *progress) done() { p.clear() }

func (p *progress) elapsed() time.Duration { return time.Since(p.start).Round(time.Millisecond) }
