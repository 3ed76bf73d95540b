package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/directory"
)

// maxLine bounds one NDJSON line: a user at every limit of the core (100
// values of 8 KiB certificates and the rest) stays below it.
const maxLine = 4 << 20

// inputRow is one row of an import file: its record, or why it could not
// be read. A bad row is rejected and the import goes on; only errors
// reading the input itself stop it.
type inputRow struct {
	line   int      // the row's first line in the input, from 1
	fields []string // CSV: the fields as read
	raw    []byte   // NDJSON: the line, decoded by parse
	rec    *userRecord
	err    error // the row cannot be read: rejected with this reason

	prep    *directory.ImportRow // set by the import's validators
	prepErr error                // why prep failed
}

// parse decodes an NDJSON row's line, which the reader leaves to the
// import's validators: decoding is most of a row's reading cost, and they
// run on every core.
func (row *inputRow) parse() {
	if row.err != nil || row.rec != nil || row.raw == nil {
		return
	}
	var rec userRecord
	if err := decodeStrict(row.raw, &rec); err != nil {
		row.err = fmt.Errorf("bad JSON: %w", err)
		return
	}
	row.rec = &rec
}

// input is the row's line as read, for the reject file.
func (row *inputRow) input() string { return string(row.raw) }

// rowReader yields the rows of an import file; io.EOF at the end. Rows
// stream: the file is never held in memory, so an import of any size runs
// in constant space.
type rowReader interface {
	next() (*inputRow, error)
	format() string
}

// newRowReader detects the input's format from its first bytes: NDJSON
// when the first non-blank byte is '{', CSV with a header row otherwise,
// and neither (an error, before any row is read) when the input is binary
// or its first line is not a header of known columns.
func newRowReader(r io.Reader) (rowReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read input: %w", err)
	}
	if bytes.IndexByte(head, 0) >= 0 || !validUTF8Prefix(head) {
		return nil, errors.New("input is neither NDJSON nor CSV: it holds binary data (a NUL byte or invalid UTF-8)")
	}
	// Skip a byte-order mark and blank space before the first row.
	lines := 0
	if bytes.HasPrefix(head, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return emptyReader{}, nil
			}
			return nil, fmt.Errorf("read input: %w", err)
		}
		if b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n' {
			if b[0] == '{' {
				return &ndjsonReader{br: br, line: lines}, nil
			}
			if b[0] == '[' {
				return nil, errors.New("input is a JSON array; import reads NDJSON, one JSON object per line")
			}
			break
		}
		if b[0] == '\n' {
			lines++
		}
		_, _ = br.ReadByte()
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("input is neither NDJSON nor CSV: read CSV header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if err := checkCSVHeader(header); err != nil {
		return nil, fmt.Errorf("input is neither NDJSON nor CSV with a header of user fields: %w", err)
	}
	// Every row must have the header's field count: a short or long
	// row has lost or gained a separator, and its cells would land in
	// the wrong columns.
	cr.FieldsPerRecord = len(header)
	return &csvReader{cr: cr, header: header, offset: lines}, nil
}

// validUTF8Prefix is utf8.Valid for a prefix that may end inside a rune.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.Valid(b) {
			return true
		}
		r, _ := utf8.DecodeLastRune(b)
		if r != utf8.RuneError {
			return false
		}
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

type emptyReader struct{}

func (emptyReader) next() (*inputRow, error) { return nil, io.EOF }
func (emptyReader) format() string           { return "empty" }

type ndjsonReader struct {
	br   *bufio.Reader
	line int
	buf  []byte
}

func (r *ndjsonReader) format() string { return "NDJSON" }

func (r *ndjsonReader) next() (*inputRow, error) {
	for {
		line, tooLong, err := r.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read input: %w", err)
		}
		if len(line) == 0 && !tooLong && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		r.line++
		row := &inputRow{line: r.line}
		if tooLong {
			row.err = fmt.Errorf("line is longer than %d bytes", maxLine)
			return row, nil
		}
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		row.raw = bytes.Clone(trimmed)
		switch {
		case !utf8.Valid(trimmed):
			// encoding/json would silently replace the bad bytes.
			row.err = errors.New("line is not valid UTF-8")
		case trimmed[0] != '{':
			row.err = errors.New("not a JSON object")
		}
		return row, nil
	}
}

// readLine returns the next line without its newline. A line longer than
// maxLine is consumed and reported as tooLong, so one bad line does not
// end the import.
func (r *ndjsonReader) readLine() (line []byte, tooLong bool, err error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(chunk) > maxLine+2 { // +2: a CR LF
				tooLong, r.buf = true, r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(r.buf, "\r\n"), tooLong, err
	}
}

type csvReader struct {
	cr     *csv.Reader
	header []string
	offset int // blank lines skipped before the header
}

func (r *csvReader) format() string { return "CSV" }

func (r *csvReader) next() (*inputRow, error) {
	fields, err := r.cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	row := &inputRow{fields: fields}
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		row.line = pe.StartLine + r.offset
		if errors.Is(err, csv.ErrFieldCount) {
			row.err = fmt.Errorf("row has %d fields, the header has %d", len(fields), len(r.header))
		} else {
			row.err = fmt.Errorf("bad CSV: %w", pe.Err)
		}
		return row, nil
	case err != nil:
		return nil, fmt.Errorf("read input: %w", err)
	}
	row.line, _ = r.cr.FieldPos(0)
	row.line += r.offset
	for _, f := range fields {
		if !utf8.ValidString(f) {
			row.err = errors.New("row is not valid UTF-8")
			return row, nil
		}
	}
	row.rec, row.err = recordFromCSV(r.header, fields)
	return row, nil
}
