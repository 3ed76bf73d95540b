package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// p builds an AttrPath from "attr" or "attr.sub".
func p(s string) AttrPath {
	a, sub, _ := strings.Cut(s, ".")
	return AttrPath{Attr: a, Sub: sub}
}

func cmp(path, op string, v any) Compare { return Compare{Path: p(path), Op: op, Value: v} }

const (
	coreUser = "urn:ietf:params:scim:schemas:core:2.0:User"
	entUser  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Expr
	}{
		// Every operator.
		{"eq", `userName eq "bjensen"`, cmp("userName", "eq", "bjensen")},
		{"ne", `userName ne "x"`, cmp("userName", "ne", "x")},
		{"co", `userName co "x"`, cmp("userName", "co", "x")},
		{"sw", `userName sw "x"`, cmp("userName", "sw", "x")},
		{"ew", `userName ew "x"`, cmp("userName", "ew", "x")},
		{"gt", `userName gt "x"`, cmp("userName", "gt", "x")},
		{"ge", `userName ge "x"`, cmp("userName", "ge", "x")},
		{"lt", `userName lt "x"`, cmp("userName", "lt", "x")},
		{"le", `userName le "x"`, cmp("userName", "le", "x")},
		{"pr", `title pr`, Present{p("title")}},

		// Values.
		{"true", `active eq true`, cmp("active", "eq", true)},
		{"false", `active eq false`, cmp("active", "eq", false)},
		{"null", `title eq null`, cmp("title", "eq", nil)},
		{"literals any case", `active eq TRUE`, cmp("active", "eq", true)},
		{"int", `x eq 42`, cmp("x", "eq", int64(42))},
		{"negative int", `x eq -7`, cmp("x", "eq", int64(-7))},
		{"zero", `x eq 0`, cmp("x", "eq", int64(0))},
		{"float", `x eq 1.5`, cmp("x", "eq", 1.5)},
		{"exponent", `x eq 1e3`, cmp("x", "eq", 1000.0)},
		{"exponent sign", `x eq -2.5E-1`, cmp("x", "eq", -0.25)},
		{"int64 overflow becomes float", `x eq 9223372036854775808`, cmp("x", "eq", 9223372036854775808.0)},
		{"empty string", `x eq ""`, cmp("x", "eq", "")},
		{"escapes", `x eq "a\"b\\c\/d\b\f\n\r\t"`, cmp("x", "eq", "a\"b\\c/d\b\f\n\r\t")},
		{"unicode escape", `x eq "caf\u00e9"`, cmp("x", "eq", "café")},
		{"surrogate pair", `x eq "\ud83d\ude00"`, cmp("x", "eq", "😀")},
		{"raw utf-8", `x eq "Zoë 😀"`, cmp("x", "eq", "Zoë 😀")},
		{"brackets and parens in string", `x eq "a)b]c(d[e"`, cmp("x", "eq", "a)b]c(d[e")},
		{"keywords in string", `x eq "a and b or not (c)"`, cmp("x", "eq", "a and b or not (c)")},

		// Case-insensitive keywords, operators and names (names kept as written).
		{"op case", `UserName EQ "john"`, cmp("UserName", "eq", "john")},
		{"pr case", `title PR`, Present{p("title")}},
		{"logic case", `a eq 1 AND b eq 2 Or NOT (c eq 3)`,
			Or{And{cmp("a", "eq", int64(1)), cmp("b", "eq", int64(2))}, Not{cmp("c", "eq", int64(3))}}},

		// Precedence and grouping.
		{"or of and", `a eq 1 or b eq 2 and c eq 3`,
			Or{cmp("a", "eq", int64(1)), And{cmp("b", "eq", int64(2)), cmp("c", "eq", int64(3))}}},
		{"and then or", `a eq 1 and b eq 2 or c eq 3`,
			Or{And{cmp("a", "eq", int64(1)), cmp("b", "eq", int64(2))}, cmp("c", "eq", int64(3))}},
		{"and left-assoc", `a pr and b pr and c pr`, And{And{Present{p("a")}, Present{p("b")}}, Present{p("c")}}},
		{"or left-assoc", `a pr or b pr or c pr`, Or{Or{Present{p("a")}, Present{p("b")}}, Present{p("c")}}},
		{"parens", `(a eq 1 or b eq 2) and c eq 3`,
			And{Or{cmp("a", "eq", int64(1)), cmp("b", "eq", int64(2))}, cmp("c", "eq", int64(3))}},
		{"redundant parens", `((a pr))`, Present{p("a")}},
		{"not binds tighter than and", `not (a pr) and b pr`, And{Not{Present{p("a")}}, Present{p("b")}}},
		{"not without space", `not(a pr)`, Not{Present{p("a")}}},
		{"double not", `not (not (a pr))`, Not{Not{Present{p("a")}}}},
		{"extra whitespace", "  a  eq\t\"x\"\n and  b pr ", And{cmp("a", "eq", "x"), Present{p("b")}}},

		// Paths.
		{"sub-attribute", `name.familyName co "O'Malley"`, cmp("name.familyName", "co", "O'Malley")},
		{"schema URI", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
			Compare{AttrPath{URI: coreUser, Attr: "userName"}, "sw", "J"}},
		{"schema URI with sub", `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "B"`,
			Compare{AttrPath{URI: coreUser, Attr: "name", Sub: "givenName"}, "eq", "B"}},
		{"extension URI", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
			Compare{AttrPath{URI: entUser, Attr: "employeeNumber"}, "eq", "701984"}},
		{"extension URI sub", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
			Compare{AttrPath{URI: entUser, Attr: "manager", Sub: "value"}, "eq", "26118915-6090-4610-87e4-49d8ca9f808d"}},
		{"$ref", `members.$ref pr`, Present{AttrPath{Attr: "members", Sub: "$ref"}}},
		{"name chars", `x-y_z9 pr`, Present{p("x-y_z9")}},

		// Value paths.
		{"value path", `emails[type eq "work"]`, ValuePath{p("emails"), cmp("type", "eq", "work")}},
		{"value path and", `emails[type eq "work" and value co "@x.com"]`,
			ValuePath{p("emails"), And{cmp("type", "eq", "work"), cmp("value", "co", "@x.com")}}},
		{"value path not", `emails[not (type eq "work")]`, ValuePath{p("emails"), Not{cmp("type", "eq", "work")}}},
		{"value path parens", `emails[(type eq "a" or type eq "b") and primary eq true]`,
			ValuePath{p("emails"), And{Or{cmp("type", "eq", "a"), cmp("type", "eq", "b")}, cmp("primary", "eq", true)}}},
		{"value path in logic", `userName pr and emails[value pr] or phoneNumbers[type eq "mobile"]`,
			Or{And{Present{p("userName")}, ValuePath{p("emails"), Present{p("value")}}},
				ValuePath{p("phoneNumbers"), cmp("type", "eq", "mobile")}}},
		{"value path in parens", `not (emails[value pr])`, Not{ValuePath{p("emails"), Present{p("value")}}}},
		{"value path with URI", `urn:ietf:params:scim:schemas:core:2.0:User:emails[value pr]`,
			ValuePath{AttrPath{URI: coreUser, Attr: "emails"}, Present{p("value")}}},
		// The ABNF's logExp inside valFilter admits a nested value path;
		// the translators reject it, the parser keeps the grammar.
		{"nested value path", `a[b[c pr]]`, ValuePath{p("a"), ValuePath{p("b"), Present{p("c")}}}},
		{"nested value path in logic", `a[x pr and b[c eq 1 or d pr]]`,
			ValuePath{p("a"), And{Present{p("x")}, ValuePath{p("b"), Or{cmp("c", "eq", int64(1)), Present{p("d")}}}}}},

		// "and"/"or" are attribute names where an attribute is expected.
		{"keyword-named attribute", `or eq "x"`, cmp("or", "eq", "x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

// rfcExamples are the example filters of RFC 7644 §3.4.2.2 (Figure 2).
var rfcExamples = []struct {
	in   string
	want Expr
}{
	{`userName eq "bjensen"`, cmp("userName", "eq", "bjensen")},
	{`name.familyName co "O'Malley"`, cmp("name.familyName", "co", "O'Malley")},
	{`userName sw "J"`, cmp("userName", "sw", "J")},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, Compare{AttrPath{URI: coreUser, Attr: "userName"}, "sw", "J"}},
	{`title pr`, Present{p("title")}},
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", "gt", "2011-05-13T04:42:34Z")},
	{`meta.lastModified ge "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", "ge", "2011-05-13T04:42:34Z")},
	{`meta.lastModified lt "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", "lt", "2011-05-13T04:42:34Z")},
	{`meta.lastModified le "2011-05-13T04:42:34Z"`, cmp("meta.lastModified", "le", "2011-05-13T04:42:34Z")},
	{`title pr and userType eq "Employee"`, And{Present{p("title")}, cmp("userType", "eq", "Employee")}},
	{`title pr or userType eq "Intern"`, Or{Present{p("title")}, cmp("userType", "eq", "Intern")}},
	{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, cmp("schemas", "eq", entUser)},
	{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		And{cmp("userType", "eq", "Employee"), Or{cmp("emails", "co", "example.com"), cmp("emails.value", "co", "example.org")}}},
	{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		And{cmp("userType", "ne", "Employee"), Not{Or{cmp("emails", "co", "example.com"), cmp("emails.value", "co", "example.org")}}}},
	{`userType eq "Employee" and (emails.type eq "work")`,
		And{cmp("userType", "eq", "Employee"), cmp("emails.type", "eq", "work")}},
	{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		And{cmp("userType", "eq", "Employee"), ValuePath{p("emails"), And{cmp("type", "eq", "work"), cmp("value", "co", "@example.com")}}}},
	{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		Or{ValuePath{p("emails"), And{cmp("type", "eq", "work"), cmp("value", "co", "@example.com")}},
			ValuePath{p("ims"), And{cmp("type", "eq", "xmpp"), cmp("value", "co", "@foo.com")}}}},
}

func TestParseRFCExamples(t *testing.T) {
	for _, tc := range rfcExamples {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
	}
}

// invalidFilters are rejected by Parse, with the byte offset of the fault.
var invalidFilters = []struct {
	name string
	in   string
	pos  int
}{
	{"empty", ``, 0},
	{"blank", `   `, 3},
	{"attribute only", `userName`, 8},
	{"missing value", `userName eq`, 11},
	{"missing value before and", `userName eq and b pr`, 12},
	{"unknown operator", `userName xx "a"`, 9},
	{"operator as symbol", `userName = "a"`, 9},
	{"unquoted value", `userName eq bjensen`, 12},
	{"single-quoted value", `userName eq 'x'`, 12},
	{"unterminated string", `userName eq "abc`, 12},
	{"unterminated after escape", `userName eq "abc\`, 12},
	{"bad escape", `userName eq "a\x"`, 14},
	{"short unicode escape", `userName eq "\u12"`, 13},
	{"unpaired surrogate", `userName eq "\ud800"`, 13},
	{"reversed surrogates", `userName eq "\udc00\ud800"`, 13},
	{"NUL escape", `userName eq "a\u0000"`, 14},
	{"control character", "userName eq \"a\nb\"", 14},
	{"invalid utf-8", "userName eq \"a\xffb\"", 14},
	{"leading zero", `x eq 01`, 5},
	{"bare minus", `x eq -`, 5},
	{"trailing dot", `x eq 1.`, 5},
	{"number glued to word", `x eq 1or y pr`, 5},
	{"number out of range", `x eq 1e999`, 5},
	{"unbalanced open paren", `(userName pr`, 0},
	{"unbalanced close paren", `userName pr)`, 11},
	{"unbalanced bracket", `emails[type eq "work"`, 6},
	{"close bracket at top", `emails pr]`, 9},
	{"empty parens", `()`, 1},
	{"empty brackets", `emails[]`, 7},
	{"trailing garbage", `userName eq "a" "b"`, 16},
	{"trailing word", `userName eq "a" foo`, 16},
	{"dangling and", `userName pr and`, 15},
	{"leading and", `and userName pr`, 4},
	{"double operator", `a pr and or b pr`, 12},
	{"not without parens", `not userName pr`, 4},
	{"not at end", `not`, 3},
	{"pr with value", `title pr "x"`, 9},
	{"sub after value path without operator", `emails[type eq "work"].value`, 28},
	{"sub after value path not a name", `emails[type eq "work"]."x" eq "y"`, 23},
	{"dotted sub after value path", `emails[type eq "work"].value.x eq "y"`, 23},
	{"bracket after sub-attribute", `emails.value[type eq "work"]`, 12},
	{"three-part path", `a.b.c pr`, 2},
	{"name starts with digit", `urn:x:9a pr`, 6},
	{"empty URI segment", `urn:: pr`, 0},
	{"unexpected character", `userName eq "a" & b pr`, 16},
	{"non-ASCII name", `usér pr`, 2},
	{"bracket without attribute", `[type eq "x"]`, 0},
	{"too long", `userName eq "` + strings.Repeat("a", MaxLength) + `"`, MaxLength},
	{"too deep parens", strings.Repeat("(", MaxDepth+1) + "a pr" + strings.Repeat(")", MaxDepth+1), MaxDepth},
	{"too deep not", strings.Repeat("not (", MaxDepth+1) + "a pr" + strings.Repeat(")", MaxDepth+1), 5*MaxDepth + 4},
	{"too many nodes", strings.TrimSuffix(strings.Repeat("a pr or ", MaxNodes), " or "), 8*(MaxNodes/2-1) + 5},
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range invalidFilters {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%q) = %#v, %v; want *Error", tc.in, got, err)
			}
			if fe.Pos != tc.pos {
				t.Errorf("Parse(%q): error %q at position %d, want %d", tc.in, fe.Msg, fe.Pos, tc.pos)
			}
			if !strings.Contains(fe.Error(), "position") {
				t.Errorf("Error() = %q, want the position in it", fe.Error())
			}
		})
	}
}

func TestParseLimitsAccept(t *testing.T) {
	// Exactly at each limit is fine.
	deep := strings.Repeat("(", MaxDepth) + "a pr" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(deep); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	// MaxNodes nodes: 128 Presents joined by 127 Ors is 255.
	wide := strings.TrimSuffix(strings.Repeat("a pr or ", MaxNodes/2), " or ")
	if _, err := Parse(wide); err != nil {
		t.Errorf("%d nodes: %v", MaxNodes-1, err)
	}
	long := `x eq "` + strings.Repeat("a", MaxLength-7) + `"`
	if len(long) != MaxLength {
		t.Fatalf("test input is %d bytes", len(long))
	}
	if _, err := Parse(long); err != nil {
		t.Errorf("%d bytes: %v", MaxLength, err)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want Path
	}{
		{`members`, Path{Attr: p("members")}},
		{`name.familyName`, Path{Attr: p("name.familyName")}},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
			Path{Attr: p("members"), Filter: cmp("value", "eq", "2819c223-7f76-453a-919d-413861904646")}},
		{`emails[type eq "work"].value`, Path{Attr: p("emails"), Filter: cmp("type", "eq", "work"), Sub: "value"}},
		{`addresses[type eq "work"].streetAddress`, Path{Attr: p("addresses"), Filter: cmp("type", "eq", "work"), Sub: "streetAddress"}},
		{`emails[type eq "work" and primary eq true]`,
			Path{Attr: p("emails"), Filter: And{cmp("type", "eq", "work"), cmp("primary", "eq", true)}}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName`, Path{Attr: AttrPath{URI: coreUser, Attr: "userName"}}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
			Path{Attr: AttrPath{URI: entUser, Attr: "manager", Sub: "value"}}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
			Path{Attr: AttrPath{URI: entUser, Attr: "employeeNumber"}}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:phoneNumbers[type eq "mobile"].value`,
			Path{Attr: AttrPath{URI: coreUser, Attr: "phoneNumbers"}, Filter: cmp("type", "eq", "mobile"), Sub: "value"}},
		{`Emails[Type EQ "work"].Value`, Path{Attr: p("Emails"), Filter: cmp("Type", "eq", "work"), Sub: "Value"}},
		{` active `, Path{Attr: p("active")}},
	}
	for _, tc := range tests {
		got, err := ParsePath(tc.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePath(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
	}
}

var invalidPaths = []struct {
	in  string
	pos int
}{
	{``, 0},
	{`   `, 3},
	{`"userName"`, 0},
	{`userName eq "x"`, 9},
	{`members[`, 8},
	{`members[value eq "x"`, 7},
	{`members[]`, 8},
	{`members]`, 7},
	{`emails[type eq "work"].`, 23},
	{`emails[type eq "work"].1x`, 23},
	{`emails[type eq "work"] .value`, 23},
	{`emails[type eq "work"].value.x`, 23},
	{`emails[type eq "work"]x`, 22},
	{`emails.value[type eq "work"]`, 12},
	{`a.b.c`, 2},
	{`name.`, 5},
	{`(userName)`, 0},
	{`userName pr`, 9},
	{`emails[type eq "work"][value pr]`, 22},
	{strings.Repeat("a", MaxLength+1), MaxLength},
}

func TestParsePathInvalid(t *testing.T) {
	for _, tc := range invalidPaths {
		got, err := ParsePath(tc.in)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("ParsePath(%q) = %#v, %v; want *Error", tc.in, got, err)
			continue
		}
		if fe.Pos != tc.pos {
			t.Errorf("ParsePath(%q): error %q at position %d, want %d", tc.in, fe.Msg, fe.Pos, tc.pos)
		}
	}
}
