package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse parses a SCIM filter (RFC 7644 §3.4.2.2, Figure 1). Keywords,
// operators and true/false/null are case-insensitive (ABNF literals are);
// "not" binds tighter than "and", which binds tighter than "or", and both
// are left-associative. Whitespace may be any run of spaces, tabs and line
// breaks, since clients differ in how they encode SP. A value path followed
// by ".sub op value" (Entra's form, not the RFC's) is read as the value
// path with "and sub op value" inside its brackets. Every error is an
// *Error.
func Parse(s string) (Expr, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, p.errAt(p.tok.pos, "empty filter")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errAt(p.tok.pos, "expected \"and\", \"or\" or end of filter, got %s", p.tok.describe())
	}
	return e, nil
}

// ParsePath parses a PATCH path (RFC 7644 §3.5.2): attrPath, or
// attrPath "[" valFilter "]" optionally followed by "." and a sub-attribute
// name, as in emails[type eq "work"].value. Every error is an *Error.
func ParsePath(s string) (Path, error) {
	p, err := newParser(s)
	if err != nil {
		return Path{}, err
	}
	if p.tok.kind != tWord {
		return Path{}, p.errAt(p.tok.pos, "expected attribute name, got %s", p.tok.describe())
	}
	ap, err := p.attrPath()
	if err != nil {
		return Path{}, err
	}
	out := Path{Attr: ap}
	if err := p.advance(); err != nil {
		return Path{}, err
	}
	if p.tok.kind == tLBrack {
		f, err := p.valueFilter(ap)
		if err != nil {
			return Path{}, err
		}
		out.Filter = f
		// The sub-attribute must follow "]" directly; the lexer cannot
		// tokenise ".", so read it here before advancing.
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			start := p.pos + 1
			end := start
			for end < len(p.s) && isWordChar(p.s[end]) {
				end++
			}
			name := p.s[start:end]
			if !validName(name) {
				return Path{}, p.errAt(start, "invalid sub-attribute name %q", name)
			}
			out.Sub = name
			p.pos = end
		}
		if err := p.advance(); err != nil {
			return Path{}, err
		}
	}
	if p.tok.kind != tEOF {
		return Path{}, p.errAt(p.tok.pos, "expected end of path, got %s", p.tok.describe())
	}
	return out, nil
}

// parseAttrPathString parses s as a bare attrPath (sortBy, attributes).
func parseAttrPathString(s string) (AttrPath, bool) {
	if s == "" || len(s) > MaxLength {
		return AttrPath{}, false
	}
	for i := 0; i < len(s); i++ {
		if !isWordChar(s[i]) {
			return AttrPath{}, false
		}
	}
	if !isWordStart(s[0]) {
		return AttrPath{}, false
	}
	ap, err := splitAttrPath(s, 0)
	return ap, err == nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tLBrack
	tRBrack
	tWord   // attribute path, keyword, operator, true/false/null
	tString // JSON string; val holds the decoded string
	tNumber // JSON number; val holds int64 or float64
)

type token struct {
	kind tokKind
	pos  int    // byte offset of the token's first byte
	text string // the token as written
	val  any
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + t.text
	case tNumber:
		return "number " + t.text
	}
	return strconv.Quote(t.text)
}

// is reports whether t is the keyword kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tWord && strings.EqualFold(t.text, kw) }

type parser struct {
	s     string
	pos   int   // where the next token starts (after p.tok)
	tok   token // the current token
	depth int
	nodes int
}

func newParser(s string) (*parser, error) {
	if len(s) > MaxLength {
		return nil, &Error{Msg: fmt.Sprintf("longer than %d bytes", MaxLength), Pos: MaxLength}
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, &Error{Msg: "not valid UTF-8", Pos: i}
	}
	p := &parser{s: s}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parser) errAt(pos int, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Pos: pos}
}

// node counts one AST node against MaxNodes.
func (p *parser) node(pos int) error {
	p.nodes++
	if p.nodes > MaxNodes {
		return p.errAt(pos, "more than %d expressions", MaxNodes)
	}
	return nil
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(pos, "nested deeper than %d levels", MaxDepth)
	}
	return nil
}

// parseOr parses FILTER: and-terms joined by "or".
func (p *parser) parseOr() (Expr, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.is("or") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if err := p.node(pos); err != nil {
			return nil, err
		}
		l = Or{L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseAnd() (Expr, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.tok.is("and") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if err := p.node(pos); err != nil {
			return nil, err
		}
		l = And{L: l, R: r}
	}
	return l, nil
}

// parseUnary parses "(" FILTER ")", "not" "(" FILTER ")", attrExp or
// valuePath. "not" is reserved: RFC 7644 requires the parentheses, and
// treating "not" without them as an attribute name would only turn a
// clear error into a confusing one.
func (p *parser) parseUnary() (Expr, error) {
	switch {
	case p.tok.kind == tLParen:
		return p.group()
	case p.tok.is("not"):
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tLParen {
			return nil, p.errAt(p.tok.pos, "expected \"(\" after \"not\", got %s", p.tok.describe())
		}
		x, err := p.group()
		if err != nil {
			return nil, err
		}
		if err := p.node(pos); err != nil {
			return nil, err
		}
		return Not{X: x}, nil
	case p.tok.kind == tWord:
		return p.attrExp()
	}
	return nil, p.errAt(p.tok.pos, "expected attribute name, \"(\" or \"not\", got %s", p.tok.describe())
}

// group parses "(" FILTER ")" with p.tok on "(".
func (p *parser) group() (Expr, error) {
	if err := p.enter(p.tok.pos); err != nil {
		return nil, err
	}
	open := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRParen {
		if p.tok.kind == tEOF {
			return nil, p.errAt(open, "unbalanced \"(\"")
		}
		return nil, p.errAt(p.tok.pos, "expected \")\", got %s", p.tok.describe())
	}
	p.depth--
	if err := p.advance(); err != nil {
		return nil, err
	}
	return x, nil
}

// attrExp parses attrPath "pr", attrPath compareOp compValue, or a
// valuePath, with p.tok on the attribute path.
func (p *parser) attrExp() (Expr, error) {
	pos := p.tok.pos
	name := p.tok.text
	ap, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.node(pos); err != nil {
		return nil, err
	}
	if p.tok.kind == tLBrack {
		f, err := p.valueFilter(ap)
		if err != nil {
			return nil, err
		}
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			return p.subAfterValuePath(ap, f)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return ValuePath{Path: ap, Filter: f}, nil
	}
	return p.comparison(ap, name)
}

// subAfterValuePath parses the form `emails[type eq "work"].value eq "x"`,
// with p.pos on the ".". RFC 7644's filter grammar has no such form (it
// belongs to PATCH paths), but Microsoft Entra ID sends it when a
// multi-valued attribute is the matching attribute, so it is read as the
// RFC form it means: `emails[type eq "work" and value eq "x"]`.
func (p *parser) subAfterValuePath(ap AttrPath, f Expr) (Expr, error) {
	p.pos++ // the "."
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tWord || !validName(p.tok.text) {
		return nil, p.errAt(p.tok.pos, "expected a sub-attribute name after \"].\", got %s", p.tok.describe())
	}
	sub := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.comparison(AttrPath{Attr: sub}, sub)
	if err != nil {
		return nil, err
	}
	return ValuePath{Path: ap, Filter: And{L: f, R: e}}, nil
}

// comparison parses "pr" or compareOp compValue, with p.tok on the
// operator; name is the attribute as written, for messages.
func (p *parser) comparison(ap AttrPath, name string) (Expr, error) {
	if p.tok.kind != tWord {
		return nil, p.errAt(p.tok.pos, "expected operator after %q, got %s", name, p.tok.describe())
	}
	op := strings.ToLower(p.tok.text)
	opPos := p.tok.pos
	if op == "pr" {
		if err := p.advance(); err != nil {
			return nil, err
		}
		return Present{Path: ap}, nil
	}
	if !isCompareOp(op) {
		return nil, p.errAt(opPos, "unknown operator %q", p.tok.text)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var v any
	switch {
	case p.tok.kind == tString || p.tok.kind == tNumber:
		v = p.tok.val
	case p.tok.is("true"):
		v = true
	case p.tok.is("false"):
		v = false
	case p.tok.is("null"):
		v = nil
	case p.tok.kind == tWord:
		return nil, p.errAt(p.tok.pos, "invalid value %q: strings must be in double quotes", p.tok.text)
	default:
		return nil, p.errAt(p.tok.pos, "expected value after %q, got %s", op, p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return Compare{Path: ap, Op: op, Value: v}, nil
}

// valueFilter parses "[" valFilter "]" with p.tok on "[" and leaves p.tok
// on "]" (not advanced), so the caller can look at what follows it
// directly.
func (p *parser) valueFilter(ap AttrPath) (Expr, error) {
	if ap.Sub != "" {
		return nil, p.errAt(p.tok.pos, "\"[\" must follow an attribute, not the sub-attribute %q", ap.Sub)
	}
	open := p.tok.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRBrack {
		if p.tok.kind == tEOF {
			return nil, p.errAt(open, "unbalanced \"[\"")
		}
		return nil, p.errAt(p.tok.pos, "expected \"]\", got %s", p.tok.describe())
	}
	p.depth--
	return f, nil
}

// attrPath splits the current word token into an AttrPath.
func (p *parser) attrPath() (AttrPath, error) {
	return splitAttrPath(p.tok.text, p.tok.pos)
}

// splitAttrPath parses [URI ":"] ATTRNAME ["." ATTRNAME]. The URI is
// everything before the last colon: schema URIs contain colons and dots
// ("...:core:2.0:User") but attribute names contain neither.
func splitAttrPath(text string, pos int) (AttrPath, error) {
	var ap AttrPath
	rest, off := text, 0
	if i := strings.LastIndexByte(text, ':'); i >= 0 {
		ap.URI, rest, off = text[:i], text[i+1:], i+1
		if strings.HasSuffix(ap.URI, ":") {
			return ap, &Error{Msg: fmt.Sprintf("invalid schema URI in %q", text), Pos: pos}
		}
	}
	name, sub, dotted := strings.Cut(rest, ".")
	if !validName(name) {
		return ap, &Error{Msg: fmt.Sprintf("invalid attribute name %q", rest), Pos: pos + off}
	}
	ap.Attr = name
	if dotted {
		if !validName(sub) {
			return ap, &Error{Msg: fmt.Sprintf("invalid sub-attribute name %q", sub), Pos: pos + off + len(name) + 1}
		}
		ap.Sub = sub
	}
	return ap, nil
}

// validName reports whether s is an ATTRNAME: ALPHA *("-" / "_" / DIGIT /
// ALPHA), or "$ref", which RFC 7643 §2.1 uses for references although the
// ABNF omits it.
func validName(s string) bool {
	if strings.EqualFold(s, "$ref") {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isCompareOp(op string) bool {
	switch op {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
		return true
	}
	return false
}

func isAlpha(c byte) bool     { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool { return isAlpha(c) || c == '$' }

// isWordChar reports whether c may appear in an attribute path token:
// name characters plus the URI's ":" and "." and the "$" of "$ref".
func isWordChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == ':' || c == '.' || c == '$'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// advance reads the next token into p.tok.
func (p *parser) advance() error {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
	start := p.pos
	if start >= len(p.s) {
		p.tok = token{kind: tEOF, pos: start}
		return nil
	}
	c := p.s[start]
	switch {
	case c == '(' || c == ')' || c == '[' || c == ']':
		kinds := [...]tokKind{'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack}
		p.pos++
		p.tok = token{kind: kinds[c], pos: start, text: p.s[start:p.pos]}
		return nil
	case c == '"':
		return p.lexString()
	case c == '-' || isDigit(c):
		return p.lexNumber()
	case isWordStart(c):
		end := start
		for end < len(p.s) && isWordChar(p.s[end]) {
			end++
		}
		p.pos = end
		p.tok = token{kind: tWord, pos: start, text: p.s[start:end]}
		return nil
	}
	r, _ := utf8.DecodeRuneInString(p.s[start:])
	return p.errAt(start, "unexpected character %q", r)
}

// lexString decodes a JSON string (RFC 8259 §7). It rejects what JSON
// rejects (raw control characters, unknown escapes) and, beyond JSON, NUL
// and unpaired surrogates, which a database would refuse or silently
// replace.
func (p *parser) lexString() error {
	s, start := p.s, p.pos
	var b strings.Builder
	i := start + 1
	for {
		if i >= len(s) {
			return p.errAt(start, "unterminated string")
		}
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.tok = token{kind: tString, pos: start, text: s[start : i+1], val: b.String()}
			return nil
		case c < 0x20:
			return p.errAt(i, "control character in string")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return p.errAt(start, "unterminated string")
		}
		esc := s[i+1]
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return p.errAt(i, "invalid \\u escape")
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
					r2, ok = hex4(s, i+8)
				}
				if !ok {
					return p.errAt(i, "unpaired surrogate in \\u escape")
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return p.errAt(i, "invalid surrogate pair in \\u escape")
				}
				n = 12
			}
			if r == 0 {
				return p.errAt(i, "NUL character in string")
			}
			b.WriteRune(r)
			i += n
			continue
		default:
			return p.errAt(i, "invalid escape \"\\%c\" in string", rune(esc))
		}
		i += 2
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// lexNumber reads a JSON number: int64 when it has neither fraction nor
// exponent and fits, else float64.
func (p *parser) lexNumber() error {
	s, start := p.s, p.pos
	i := start
	digits := func() int {
		n := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			n++
		}
		return n
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return p.errAt(start, "invalid number")
	}
	integer := true
	if i < len(s) && s[i] == '.' {
		i++
		integer = false
		if digits() == 0 {
			return p.errAt(start, "invalid number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		integer = false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return p.errAt(start, "invalid number")
		}
	}
	// "01", "1.2.3" and "12abc" are one malformed token, not a number
	// followed by something else.
	if i < len(s) && (isWordChar(s[i]) || s[i] == '+') {
		return p.errAt(start, "invalid number")
	}
	text := s[start:i]
	p.pos = i
	if integer {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			p.tok = token{kind: tNumber, pos: start, text: text, val: n}
			return nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return p.errAt(start, "number out of range")
	}
	p.tok = token{kind: tNumber, pos: start, text: text, val: f}
	return nil
}
