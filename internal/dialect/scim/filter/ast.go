package filter

import "fmt"

// Expr is a parsed SCIM filter: Compare, Present, And, Or, Not or ValuePath.
type Expr interface{ isExpr() }

// AttrPath names an attribute as written in the filter: an optional schema
// URI (urn:ietf:params:scim:schemas:core:2.0:User), the attribute and an
// optional sub-attribute. Names keep the client's spelling; they are
// compared case-insensitively when resolved.
type AttrPath struct {
	URI  string // "" when not prefixed
	Attr string
	Sub  string
}

// Compare is `path op value`. Op is lower-case: eq, ne, co, sw, ew, gt, ge,
// lt or le. Value is a string, a float64 or int64 (a JSON number: int64 when
// written without fraction or exponent and in range), a bool, or nil (null).
type Compare struct {
	Path  AttrPath
	Op    string
	Value any
}

// Present is `path pr`.
type Present struct{ Path AttrPath }

// And is `L and R`.
type And struct{ L, R Expr }

// Or is `L or R`.
type Or struct{ L, R Expr }

// Not is `not (X)`.
type Not struct{ X Expr }

// ValuePath is `path[filter]`: true when one value of the multi-valued
// attribute Path matches Filter, whose attribute names are sub-attributes
// of Path. Path.Sub is empty.
type ValuePath struct {
	Path   AttrPath
	Filter Expr
}

func (Compare) isExpr()   {}
func (Present) isExpr()   {}
func (And) isExpr()       {}
func (Or) isExpr()        {}
func (Not) isExpr()       {}
func (ValuePath) isExpr() {}

// Path is a PATCH operation's target (RFC 7644 §3.5.2):
// attrPath, or attrPath "[" valFilter "]" ["." subAttr].
type Path struct {
	Attr   AttrPath
	Filter Expr   // nil without [..]
	Sub    string // the sub-attribute after "].", e.g. value in emails[type eq "work"].value
}

// Error is a filter or path the package rejects: a syntax error, a limit
// exceeded, or (from the SCIM dialect's translation) an attribute or value that
// Roster cannot filter on. The SCIM server answers it with 400
// invalidFilter (or invalidPath for ParsePath).
type Error struct {
	Msg string
	Pos int // byte offset in the input; -1 when not tied to a position (translation errors)
}

// Error returns Msg with the position when there is one.
func (e *Error) Error() string {
	if e.Pos < 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (at position %d)", e.Msg, e.Pos)
}

// Limits on input, so a hostile filter costs the server little: the parser
// and translator are recursive, and every node becomes SQL.
const (
	MaxLength = 4096 // bytes
	MaxDepth  = 32   // nested "(", "not (" and "["
	MaxNodes  = 256  // Compare, Present, And, Or, Not and ValuePath nodes
)
