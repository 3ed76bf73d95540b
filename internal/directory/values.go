package directory

import (
	"fmt"
	"slices"
	"strings"
)

// ValueKind names a multi-valued attribute of a user (RFC 7643 §2.4,
// §4.1.2): every value a client sends is kept, in order, with its type,
// primary flag and display text.
type ValueKind string

// Value kinds. The SCIM attribute each one carries is in the comment.
const (
	KindEmail       ValueKind = "email"            // emails
	KindPhone       ValueKind = "phone"            // phoneNumbers
	KindAddress     ValueKind = "address"          // addresses
	KindIM          ValueKind = "im"               // ims
	KindPhoto       ValueKind = "photo"            // photos
	KindEntitlement ValueKind = "entitlement"      // entitlements
	KindRole        ValueKind = "role"             // roles
	KindCertificate ValueKind = "x509_certificate" // x509Certificates
)

// ValueKinds lists every kind, in the order the store writes them.
var ValueKinds = []ValueKind{KindEmail, KindPhone, KindAddress, KindIM, KindPhoto, KindEntitlement, KindRole, KindCertificate}

// Value is one value of a multi-valued attribute. Strings are empty when
// absent. Addresses leave Value empty and use the address parts instead.
type Value struct {
	Value   string
	Display string
	Type    string
	Primary bool

	// Address parts (RFC 7643 §4.1.2 addresses), KindAddress only.
	Formatted  string
	Street     string // streetAddress; a second line follows a newline
	Locality   string
	Region     string
	PostalCode string
	Country    string
}

// isZero reports whether v carries no data (a type or primary flag alone
// is not a value).
func (v Value) isZero() bool {
	v.Type, v.Primary = "", false
	return v == Value{}
}

// Value fields: what a Cmp inside an Any names.
const (
	FieldValue           Field = "value"
	FieldValueDisplay    Field = "display"
	FieldValueType       Field = "type"
	FieldValuePrimary    Field = "primary" // bool
	FieldValueFormatted  Field = "formatted"
	FieldValueStreet     Field = "street_address"
	FieldValueLocality   Field = "locality"
	FieldValueRegion     Field = "region"
	FieldValuePostalCode Field = "postal_code"
	FieldValueCountry    Field = "country"
)

// Any is true when some value of the user's multi-valued attribute Kind
// satisfies X. X's Cmps name value fields (FieldValue, FieldValueType, …),
// and may combine them with And, Or and Not; a nil X is true for any value,
// so Any{Kind: KindEmail} means "has an e-mail". The store runs it as an
// EXISTS over the values of one user, so a filter like SCIM's
// emails[type eq "work" and value co "@example.com"] needs both parts to
// hold for the same value.
//
// For FieldValue, Fold compares lower-cased; an OpEq on a KindPhone value
// compares the normalised phone (see NormalizePhone) when the filter value
// normalises, as a Cmp on FieldPhone does.
type Any struct {
	Kind ValueKind
	X    Expr
}

func (Any) isExpr() {}

// extraPrefix starts the name of a field kept in User.Extras.
const extraPrefix = "extras."

// ExtraField names the value kept under key in User.Extras, for filters and
// sort keys: a string field like the others, absent ("") when the key is
// not set. Keys are the dialects' documented names (SCIM "title",
// "displayName", Ownli "tosAnswer", …).
func ExtraField(key string) Field { return Field(extraPrefix + key) }

// ExtraKey returns the Extras key f names, if f is an ExtraField.
func (f Field) ExtraKey() (string, bool) {
	if k, ok := strings.CutPrefix(string(f), extraPrefix); ok && k != "" {
		return k, true
	}
	return "", false
}

// Sortable reports whether listings can be sorted by f: a field of
// SortableUserFields, or any ExtraField.
func (f Field) Sortable() bool {
	_, extra := f.ExtraKey()
	return extra || slices.Contains(SortableUserFields, f)
}

// Default types given to the values a single-valued dialect writes (Truv's
// e-mail, Ownli's phone, …): what SCIM clients send for a user's main
// contact values, and what the SCIM dialect showed for them before every
// value was kept.
const (
	TypeWork   = "work"
	TypeMobile = "mobile"
)

// maxValue bounds one value of a multi-valued attribute: an X.509
// certificate in base64 is the longest a client sends.
const maxValue = 8192

// primaryIndex returns the index of the primary value, else of the first;
// -1 when vs is empty.
func primaryIndex(vs []Value) int {
	for i, v := range vs {
		if v.Primary {
			return i
		}
	}
	if len(vs) == 0 {
		return -1
	}
	return 0
}

// phoneIndex returns the value the single-valued phone (mobile=false) or
// mobile (mobile=true) stands for: the primary among those of that role,
// else the first; -1 when there is none. A phone's role is mobile when its
// type is "mobile" (any case).
func phoneIndex(vs []Value, mobile bool) int {
	first := -1
	for i, v := range vs {
		if strings.EqualFold(v.Type, TypeMobile) != mobile {
			continue
		}
		if v.Primary {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// AddressOf returns the single-valued address a value stands for: the
// street's first line is Line1, the rest Line2 (further lines joined with
// ", ", as single-line fields hold no line breaks).
func AddressOf(v Value) Address {
	l1, rest, _ := strings.Cut(v.Street, "\n")
	var l2 []string
	for _, l := range strings.Split(rest, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			l2 = append(l2, l)
		}
	}
	return Address{Line1: strings.TrimSpace(l1), Line2: strings.Join(l2, ", "), City: v.Locality, State: v.Region, Zip: v.PostalCode, Country: v.Country}
}

// setAddress writes a into v's parts. The formatted text is dropped when
// the parts change: it would no longer say the same.
func setAddress(v *Value, a Address) {
	street := a.Line1
	if a.Line2 != "" {
		street += "\n" + a.Line2
	}
	if AddressOf(*v) != a {
		v.Formatted = ""
	}
	v.Street, v.Locality, v.Region, v.PostalCode, v.Country = street, a.City, a.State, a.Zip, a.Country
}

// syncValues keeps the single-valued fields other dialects read and write
// (Email, Phone, Mobile, Address) and the multi-valued lists SCIM reads and
// writes one user. After it:
//   - Email is the primary (else first) e-mail value, Address the primary
//     (else first) address, Mobile the primary (else first) phone of type
//     mobile, Phone the primary (else first) other phone;
//   - a single value written through another dialect has become a value of
//     the list (type work, or mobile for Mobile; primary when no other is).
//
// Which side was written is decided against old (nil on create): a changed
// list wins (SCIM wrote it), else a changed single field replaces the value
// it stood for and the other values stay. Clearing a single field removes
// that value; the single field then shows the next one, if any.
func syncValues(u, old *User) {
	var oldVals map[ValueKind][]Value
	if old != nil {
		oldVals = old.Values
	}
	listChanged := func(k ValueKind) bool {
		return old == nil && len(u.Values[k]) > 0 || old != nil && !slices.Equal(u.Values[k], oldVals[k])
	}
	changed := func(now, before string) bool { return old == nil || now != before }

	// E-mail.
	if listChanged(KindEmail) {
		u.Email = valueAt(u.Values[KindEmail], primaryIndex(u.Values[KindEmail])).Value
	} else if changed(u.Email, oldEmail(old)) || u.Email != "" && len(u.Values[KindEmail]) == 0 {
		vs := u.Values[KindEmail]
		u.setValues(KindEmail, writeSingle(vs, primaryIndex(vs), Value{Value: u.Email, Type: TypeWork}, func(v *Value) { v.Value = u.Email }, u.Email == ""))
		u.Email = valueAt(u.Values[KindEmail], primaryIndex(u.Values[KindEmail])).Value
	}

	// Phones: two single fields over one list.
	if listChanged(KindPhone) {
		vs := u.Values[KindPhone]
		u.Phone = valueAt(vs, phoneIndex(vs, false)).Value
		u.Mobile = valueAt(vs, phoneIndex(vs, true)).Value
	} else {
		var oldPhone, oldMobile string
		if old != nil {
			oldPhone, oldMobile = old.Phone, old.Mobile
		}
		for _, mobile := range []bool{false, true} {
			single, before, typ := &u.Phone, oldPhone, TypeWork
			if mobile {
				single, before, typ = &u.Mobile, oldMobile, TypeMobile
			}
			vs := u.Values[KindPhone]
			i := phoneIndex(vs, mobile)
			if !changed(*single, before) && !(*single != "" && i < 0) {
				continue
			}
			val := *single
			u.setValues(KindPhone, writeSingle(vs, i, Value{Value: val, Type: typ}, func(v *Value) { v.Value = val }, val == ""))
			vs = u.Values[KindPhone]
			*single = valueAt(vs, phoneIndex(vs, mobile)).Value
		}
	}

	// Address.
	if listChanged(KindAddress) {
		vs := u.Values[KindAddress]
		if i := primaryIndex(vs); i >= 0 {
			u.Address = AddressOf(vs[i])
		} else {
			u.Address = Address{}
		}
	} else {
		var before Address
		if old != nil {
			before = old.Address
		}
		vs := u.Values[KindAddress]
		if old == nil || u.Address != before || !u.Address.IsZero() && len(vs) == 0 {
			a := u.Address
			fresh := Value{Type: TypeWork}
			setAddress(&fresh, a)
			u.setValues(KindAddress, writeSingle(vs, primaryIndex(vs), fresh, func(v *Value) { setAddress(v, a) }, a.IsZero()))
			vs = u.Values[KindAddress]
			if i := primaryIndex(vs); i >= 0 {
				u.Address = AddressOf(vs[i])
			} else {
				u.Address = Address{}
			}
		}
	}
}

func oldEmail(old *User) string {
	if old == nil {
		return ""
	}
	return old.Email
}

// writeSingle applies a single-valued write to the value at i of vs (a
// fresh copy is returned): clear removes it, else set edits it; with no
// value at i, a non-clearing write appends fresh, primary when no other
// value is.
func writeSingle(vs []Value, i int, fresh Value, set func(*Value), clear bool) []Value {
	vs = slices.Clone(vs)
	switch {
	case i >= 0 && clear:
		vs = slices.Delete(vs, i, i+1)
	case i >= 0:
		set(&vs[i])
	case !clear:
		fresh.Primary = !slices.ContainsFunc(vs, func(v Value) bool { return v.Primary })
		vs = append(vs, fresh)
	}
	return vs
}

func valueAt(vs []Value, i int) Value {
	if i < 0 || i >= len(vs) {
		return Value{}
	}
	return vs[i]
}

// setValues sets the list of kind k, deleting the key when it is empty so
// that users compare equal however they were built.
func (u *User) setValues(k ValueKind, vs []Value) {
	if len(vs) == 0 {
		delete(u.Values, k)
		return
	}
	if u.Values == nil {
		u.Values = make(map[ValueKind][]Value, 1)
	}
	u.Values[k] = vs
}

// prepareValues cleans every value, drops values that carry nothing, and
// checks counts, lengths and that at most one value of a kind is primary
// (RFC 7643 §2.4). It runs before syncValues.
func prepareValues(u *User, ve *ValidationError) {
	for k, vs := range u.Values {
		if !slices.Contains(ValueKinds, k) {
			ve.add(Field(k), CodeInvalid, fmt.Sprintf("%s is not a multi-valued attribute", k))
			delete(u.Values, k)
			continue
		}
		field := Field(k)
		if len(vs) > maxListItems {
			ve.add(field, CodeTooLong, fmt.Sprintf("at most %d values of %s", maxListItems, k))
		}
		out := make([]Value, 0, len(vs))
		primaries := 0
		for _, v := range vs {
			for _, s := range []struct {
				p     *string
				max   int
				lines bool
			}{
				{&v.Value, maxValue, false}, {&v.Display, maxName, false}, {&v.Type, 64, false}, {&v.Formatted, maxExtra, true},
				{&v.Street, maxName, true}, {&v.Locality, maxName, false}, {&v.Region, maxName, false}, {&v.PostalCode, 32, false}, {&v.Country, maxName, false},
			} {
				clean, problem := cleanTextLines(*s.p, s.max, s.lines)
				*s.p = clean
				if problem != "" {
					ve.add(field, CodeInvalid, fmt.Sprintf("a value of %s %s", k, problem))
				}
			}
			if v.isZero() {
				continue
			}
			if k == KindAddress && v.Value != "" {
				ve.add(field, CodeInvalid, "an address has no value: use its parts")
			}
			if k != KindAddress && v.Value == "" {
				ve.add(field, CodeRequired, fmt.Sprintf("every value of %s needs a value", k))
			}
			if v.Primary {
				primaries++
			}
			out = append(out, v)
		}
		if primaries > 1 {
			ve.add(field, CodeInvalid, fmt.Sprintf("at most one value of %s may be primary", k))
		}
		u.setValues(k, out)
	}
}

// cloneValues deep-copies a user's lists.
func cloneValues(m map[ValueKind][]Value) map[ValueKind][]Value {
	if m == nil {
		return nil
	}
	c := make(map[ValueKind][]Value, len(m))
	for k, vs := range m {
		c[k] = slices.Clone(vs)
	}
	return c
}
