package dynamodb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Type is an attribute value's data type, as DynamoDB names it.
type Type string

// The DynamoDB data types.
const (
	TypeS    Type = "S"
	TypeN    Type = "N"
	TypeB    Type = "B"
	TypeBOOL Type = "BOOL"
	TypeNULL Type = "NULL"
	TypeSS   Type = "SS"
	TypeNS   Type = "NS"
	TypeBS   Type = "BS"
	TypeL    Type = "L"
	TypeM    Type = "M"
)

// Value is one DynamoDB attribute value. Numbers are kept in canonical text
// (see decimal), binaries as their raw bytes in a string.
type Value struct {
	T Type
	// S holds S, N (canonical decimal text) and B (raw bytes).
	S string
	// Bool holds BOOL (NULL is always true).
	Bool bool
	// Set holds SS, NS (canonical) and BS (raw bytes), in the order given.
	Set []string
	L   []Value
	M   map[string]Value

	// invalid is set by UnmarshalJSON for a value with no type or several
	// types: DynamoDB answers those with ValidationException, not
	// SerializationException, so decoding defers the verdict to validate.
	invalid string
}

// Item is a DynamoDB item: attribute name to value.
type Item map[string]Value

// Str, Num and the other constructors build values for in-process callers.
func Str(s string) Value { return Value{T: TypeS, S: s} }

// Num is a number value; s must be a valid DynamoDB number.
func Num(s string) Value {
	c, msg := canonicalNumber(s)
	if msg != "" {
		panic("dynamodb.Num(" + s + "): " + msg)
	}
	return Value{T: TypeN, S: c}
}

// Bin is a binary value.
func Bin(b []byte) Value { return Value{T: TypeB, S: string(b)} }

// MarshalJSON writes the DynamoDB JSON form: {"S":"x"}, {"N":"1"}, {"B":"<base64>"}, …
func (v Value) MarshalJSON() ([]byte, error) {
	var body any
	switch v.T {
	case TypeS, TypeN:
		body = v.S
	case TypeB:
		body = []byte(v.S)
	case TypeBOOL:
		body = v.Bool
	case TypeNULL:
		body = true
	case TypeSS, TypeNS:
		body = nonNil(v.Set)
	case TypeBS:
		bs := make([][]byte, len(v.Set))
		for i, s := range v.Set {
			bs[i] = []byte(s)
		}
		body = bs
	case TypeL:
		body = nonNil(v.L)
	case TypeM:
		m := v.M
		if m == nil {
			m = map[string]Value{}
		}
		body = m
	default:
		return nil, fmt.Errorf("marshal attribute value: no type set")
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"`)
	buf.WriteString(string(v.T))
	buf.WriteString(`":`)
	buf.Write(b)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// UnmarshalJSON reads the DynamoDB JSON form. A member of the wrong JSON
// type is a SerializationException (the error returned here); no type or
// several types is recorded for validate.
func (v *Value) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		if len(bytes.TrimSpace(b)) > 0 && b[0] != '{' {
			return fmt.Errorf("decode attribute value: unexpected value type in payload")
		}
		return err
	}
	*v = Value{}
	n := 0
	for k, r := range raw {
		if bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
			continue
		}
		n++
		if n > 1 {
			v.invalid = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
			return nil
		}
		if err := v.decodeMember(Type(k), r); err != nil {
			return err
		}
	}
	if n == 0 {
		v.invalid = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	}
	return nil
}

func (v *Value) decodeMember(t Type, r json.RawMessage) error {
	v.T = t
	switch t {
	case TypeS, TypeN:
		return json.Unmarshal(r, &v.S)
	case TypeB:
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("decode attribute value: invalid base64 for member B")
		}
		v.S = string(b)
	case TypeBOOL:
		return json.Unmarshal(r, &v.Bool)
	case TypeNULL:
		var null bool
		if err := json.Unmarshal(r, &null); err != nil {
			return err
		}
		if !null {
			v.invalid = "One or more parameter values were invalid: Null attribute value types must have the value of true"
		}
	case TypeSS, TypeNS:
		if err := json.Unmarshal(r, &v.Set); err != nil {
			return err
		}
		v.Set = nonNil(v.Set)
	case TypeBS:
		var bs [][]byte
		if err := json.Unmarshal(r, &bs); err != nil {
			return err
		}
		v.Set = make([]string, len(bs))
		for i, b := range bs {
			v.Set[i] = string(b)
		}
	case TypeL:
		if err := json.Unmarshal(r, &v.L); err != nil {
			return err
		}
		v.L = nonNil(v.L)
	case TypeM:
		if err := json.Unmarshal(r, &v.M); err != nil {
			return err
		}
		if v.M == nil {
			v.M = map[string]Value{}
		}
	default:
		// Unknown members are ignored by DynamoDB's deserializer, leaving an
		// empty value.
		v.T = ""
		v.invalid = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	}
	return nil
}

// validate checks a value as DynamoDB does on input and canonicalises its
// numbers in place. The message is DynamoDB's.
func (v *Value) validate() string {
	if v.invalid != "" {
		return v.invalid
	}
	switch v.T {
	case TypeN:
		c, msg := canonicalNumber(v.S)
		if msg != "" {
			return msg
		}
		v.S = c
	case TypeSS:
		if len(v.Set) == 0 {
			return "One or more parameter values were invalid: An string set  may not be empty"
		}
		if dup(v.Set) {
			return "One or more parameter values were invalid: Input collection [" + strings.Join(v.Set, ", ") + "] contains duplicates."
		}
	case TypeNS:
		if len(v.Set) == 0 {
			return "One or more parameter values were invalid: An number set  may not be empty"
		}
		for i, s := range v.Set {
			c, msg := canonicalNumber(s)
			if msg != "" {
				return msg
			}
			v.Set[i] = c
		}
		if dup(v.Set) {
			return "Input collection contains duplicates"
		}
	case TypeBS:
		if len(v.Set) == 0 {
			return "One or more parameter values were invalid: Binary sets should not be empty"
		}
		if dup(v.Set) {
			return "One or more parameter values were invalid: Input collection contains duplicates."
		}
	case TypeL:
		for i := range v.L {
			if msg := v.L[i].validate(); msg != "" {
				return msg
			}
		}
	case TypeM:
		for k, e := range v.M {
			if msg := e.validate(); msg != "" {
				return msg
			}
			v.M[k] = e
		}
	}
	return ""
}

func dup(s []string) bool {
	seen := make(map[string]bool, len(s))
	for _, x := range s {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}

// validateItem validates every value of an item in place.
func validateItem(it Item) string {
	for k, v := range it {
		if msg := v.validate(); msg != "" {
			return msg
		}
		it[k] = v
	}
	return ""
}

// clone deep-copies a value so updates never alias stored data.
func (v Value) clone() Value {
	switch v.T {
	case TypeSS, TypeNS, TypeBS:
		v.Set = slices.Clone(v.Set)
	case TypeL:
		l := make([]Value, len(v.L))
		for i, e := range v.L {
			l[i] = e.clone()
		}
		v.L = l
	case TypeM:
		m := make(map[string]Value, len(v.M))
		for k, e := range v.M {
			m[k] = e.clone()
		}
		v.M = m
	}
	return v
}

func (it Item) clone() Item {
	if it == nil {
		return nil
	}
	c := make(Item, len(it))
	for k, v := range it {
		c[k] = v.clone()
	}
	return c
}

// equal is DynamoDB's equality: same type and same value; sets compare as
// sets, numbers by value.
func (v Value) equal(o Value) bool {
	if v.T != o.T {
		return false
	}
	switch v.T {
	case TypeS, TypeB:
		return v.S == o.S
	case TypeN:
		return compareNumbers(v.S, o.S) == 0
	case TypeBOOL:
		return v.Bool == o.Bool
	case TypeNULL:
		return true
	case TypeSS, TypeBS:
		return sameSet(v.Set, o.Set, func(a, b string) bool { return a == b })
	case TypeNS:
		return sameSet(v.Set, o.Set, func(a, b string) bool { return compareNumbers(a, b) == 0 })
	case TypeL:
		if len(v.L) != len(o.L) {
			return false
		}
		for i := range v.L {
			if !v.L[i].equal(o.L[i]) {
				return false
			}
		}
		return true
	case TypeM:
		if len(v.M) != len(o.M) {
			return false
		}
		for k, e := range v.M {
			f, ok := o.M[k]
			if !ok || !e.equal(f) {
				return false
			}
		}
		return true
	}
	return false
}

func sameSet(a, b []string, eq func(a, b string) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y string) bool { return eq(x, y) }) {
			return false
		}
	}
	return true
}

// compare orders two scalars of the same type (S by UTF-8 bytes, N by
// value, B by unsigned bytes); ok is false for other types or mixed types.
func (v Value) compare(o Value) (c int, ok bool) {
	if v.T != o.T {
		return 0, false
	}
	switch v.T {
	case TypeS, TypeB:
		return strings.Compare(v.S, o.S), true
	case TypeN:
		return compareNumbers(v.S, o.S), true
	}
	return 0, false
}

// size is the value's size for the size() function: characters of a
// string, bytes of a binary, elements of a set, list or map.
func (v Value) size() (int, bool) {
	switch v.T {
	case TypeS:
		return len(v.S), true
	case TypeB:
		return len(v.S), true
	case TypeSS, TypeNS, TypeBS:
		return len(v.Set), true
	case TypeL:
		return len(v.L), true
	case TypeM:
		return len(v.M), true
	}
	return 0, false
}

// storageSize approximates DynamoDB's item size accounting (names and
// values in bytes), for the 400 KB item limit and the 1 MB page limit.
func (v Value) storageSize() int {
	switch v.T {
	case TypeS, TypeB:
		return len(v.S)
	case TypeN:
		return (len(strings.TrimLeft(v.S, "-0."))+1)/2 + 1
	case TypeBOOL, TypeNULL:
		return 1
	case TypeSS, TypeBS:
		n := 0
		for _, s := range v.Set {
			n += len(s)
		}
		return n
	case TypeNS:
		n := 0
		for _, s := range v.Set {
			n += Value{T: TypeN, S: s}.storageSize()
		}
		return n
	case TypeL:
		n := 3
		for _, e := range v.L {
			n += 1 + e.storageSize()
		}
		return n
	case TypeM:
		n := 3
		for k, e := range v.M {
			n += 1 + len(k) + e.storageSize()
		}
		return n
	}
	return 0
}

func (it Item) storageSize() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.storageSize()
	}
	return n
}

// maxItemSize is DynamoDB's 400 KB item limit.
const maxItemSize = 400 * 1024

// describe renders a value as DynamoDB prints it in messages,
// e.g. "{S:abc}".
func (v Value) describe() string {
	switch v.T {
	case TypeS, TypeN:
		return "{" + string(v.T) + ":" + v.S + "}"
	case TypeB:
		return "{B:" + base64.StdEncoding.EncodeToString([]byte(v.S)) + "}"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
