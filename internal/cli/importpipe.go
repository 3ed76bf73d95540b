package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/roster-dev/roster/internal/directory"
)

// An import is a pipeline: one reader cuts the input into chunks of rows,
// validators on every core decode, validate and encode them (JSON, phone
// parsing, SSN sealing: the CPU work), and one writer takes the chunks back
// in input order and writes them in transactions of importBatchRows rows.
// Every stage is bounded, so memory stays flat whatever the input's size,
// and the writer sees rows in the order of the file: an earlier row wins a
// claim two rows want, and rejected rows are reported in line order.
const (
	// importChunkRows is the unit the reader hands to a validator.
	importChunkRows = 256
	// importBatchRows is how many valid rows one transaction writes: one
	// durable commit (an fsync) per batch rather than per row.
	importBatchRows = 2048
	// importMemoryLimit is the Go heap's soft limit during an import
	// unless GOMEMLIMIT says otherwise: the rows in flight need ~40 MiB,
	// and the collector otherwise lets garbage double that.
	importMemoryLimit = 96 << 20
)

// importChunk is a run of rows; done closes once validated.
type importChunk struct {
	rows    []*inputRow
	read    int64 // input bytes consumed once the chunk was read
	readErr error // reading the input failed after these rows
	done    chan struct{}
}

// importer holds one import's state.
type importer struct {
	svc     *directory.Service
	p       directory.Principal
	rules   directory.Rules
	mode    directory.OnConflict
	counts  *importCounts
	bar     *progress
	rej     *rejectFile
	workers int
}

// run imports every row of reader. It returns an error only when the import
// stopped (the input could not be read, the database failed); rejected rows
// are counted and written to the reject file.
func (im *importer) run(ctx context.Context, reader rowReader, counting *countingReader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, im.workers)
	// ordered holds the chunks of about one batch: the validators
	// prepare the next batch while the writer commits one.
	ordered := make(chan *importChunk, importBatchRows/importChunkRows+2*workers)
	work := make(chan *importChunk, workers*2)

	go func() {
		defer close(ordered)
		defer close(work)
		for {
			c := &importChunk{done: make(chan struct{})}
			eof := false
			for len(c.rows) < importChunkRows {
				row, err := reader.next()
				if errors.Is(err, io.EOF) {
					eof = true
					break
				}
				if err != nil {
					c.readErr = err
					break
				}
				c.rows = append(c.rows, row)
			}
			c.read = counting.n
			for _, ch := range []chan *importChunk{ordered, work} {
				select {
				case ch <- c:
				case <-ctx.Done():
					return
				}
			}
			if eof || c.readErr != nil {
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				for _, row := range c.rows {
					im.prepare(ctx, row)
				}
				close(c.done)
			}
		}()
	}
	// On an early return the reader may be blocked handing on a chunk:
	// cancel it first, so that it closes work and the validators end.
	defer func() {
		cancel()
		wg.Wait()
	}()

	var batch []*inputRow
	valid := 0
	var read int64
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, row := range c.rows {
			batch = append(batch, row)
			if row.prep != nil {
				valid++
			}
			// A batch of rejects only is flushed too, to bound memory.
			if valid >= importBatchRows || len(batch) >= 4*importBatchRows {
				if err := im.flush(ctx, batch); err != nil {
					return err
				}
				batch, valid = batch[:0], 0
				im.bar.update(read, row.line)
			}
		}
		read = c.read
		if c.readErr != nil {
			if err := im.flush(ctx, batch); err != nil {
				return err
			}
			return fmt.Errorf("import stopped after line %d (%s): %w", lastLine(c), im.counts.String(), c.readErr)
		}
	}
	if err := im.flush(ctx, batch); err != nil {
		return err
	}
	if len(batch) > 0 {
		im.bar.update(read, batch[len(batch)-1].line)
	}
	return ctx.Err()
}

func lastLine(c *importChunk) int {
	if len(c.rows) == 0 {
		return 0
	}
	return c.rows[len(c.rows)-1].line
}

// prepare decodes, converts and validates one row (a validator's work).
func (im *importer) prepare(ctx context.Context, row *inputRow) {
	row.parse()
	if row.err != nil {
		return
	}
	u, err := row.rec.toUser()
	if err != nil {
		row.err = err
		return
	}
	row.prep, row.prepErr = im.svc.PrepareImport(ctx, im.p, u, im.rules)
	row.rec = nil // the prepared row has it all; the line stays for the reject file
}

// limitMemory sets the Go heap's soft limit for an import, unless the
// operator set GOMEMLIMIT, and returns what restores the previous one.
func limitMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(importMemoryLimit)
	return func() { debug.SetMemoryLimit(prev) }
}

// flush writes batch (in order) and counts and reports every row of it.
func (im *importer) flush(ctx context.Context, batch []*inputRow) error {
	if len(batch) == 0 {
		return nil
	}
	preps := make([]*directory.ImportRow, 0, len(batch))
	for _, row := range batch {
		if row.prep != nil {
			preps = append(preps, row.prep)
		}
	}
	if len(preps) > 0 {
		if err := im.svc.ImportRows(ctx, im.p, preps, im.mode); err != nil {
			// Not a row's fault: nothing of this batch is committed.
			return fmt.Errorf("import stopped at line %d, nothing from it on was written (%s): %w",
				batch[0].line, im.counts.String(), err)
		}
	}
	for _, row := range batch {
		var err error
		var outcome directory.ImportOutcome
		switch {
		case row.err != nil:
			err = row.err
		case row.prepErr != nil:
			err = row.prepErr
		default:
			outcome, err = row.prep.Outcome, row.prep.Err
		}
		var ve *directory.ValidationError
		switch {
		case err == nil:
			switch outcome {
			case directory.Imported:
				im.counts.imported++
			case directory.Updated:
				im.counts.updated++
			case directory.Unchanged:
				im.counts.unchanged++
			case directory.Skipped:
				im.counts.skipped++
			}
			continue
		case row.err != nil || errors.As(err, &ve):
			im.counts.invalid++
		case errors.Is(err, directory.ErrConflict):
			im.counts.conflict++
		default:
			// Not the row's fault (an update under --on-conflict
			// update hit a database error): stop rather than fail
			// every row. The batch's new users are committed.
			return fmt.Errorf("import stopped at line %d (%s): %w", row.line, im.counts.String(), err)
		}
		reason := rowReason(err)
		if werr := im.rej.write(row, reason); werr != nil {
			return werr
		}
		if im.counts.failed() <= shownFailures {
			im.bar.note(fmt.Sprintf("line %d: %s", row.line, reason))
		}
	}
	return nil
}

// importWorkers is how many validators an import runs: one per core the
// writer leaves.
func importWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }
