package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"path"
	"sort"
	"strings"
)

// Pattern is a compiled EventBridge event pattern.
//
// Matching follows EventBridge's rules:
//   - Every field named in the pattern must match; fields the pattern does not
//     name are ignored.
//   - A leaf is an array of alternatives; it matches when any value at that
//     path matches any alternative. Strings, numbers (compared numerically),
//     booleans and null match exactly.
//   - Arrays in the event are flattened: a path through an array reaches every
//     element, and a leaf array matches when any element matches.
//   - Operators: prefix and suffix (optionally with equals-ignore-case),
//     equals-ignore-case, anything-but (a value, a list, or a prefix, suffix
//     or equals-ignore-case), numeric ranges, exists, cidr and wildcard.
//   - "$or" at any object level matches when any of its sub-patterns does.
//   - anything-but, numeric, prefix, suffix and the other operators need the
//     field to be present; only {"exists": false} matches a missing field.
type Pattern struct {
	root node
}

type node struct {
	fields map[string]*field
	// or holds each "$or" at this level: a list of alternative sub-patterns.
	or [][]node
}

type field struct {
	child *node    // the pattern continues into an object
	alts  []leafOp // leaf alternatives
}

type opKind int

const (
	opExact opKind = iota
	opPrefix
	opSuffix
	opEqualsIgnoreCase
	opAnythingBut
	opNumeric
	opExists
	opCIDR
	opWildcard
)

type leafOp struct {
	kind opKind
	// value is an exact value (string, float64, bool or nil) for opExact.
	value any
	// str is the operand of prefix, suffix, equals-ignore-case and wildcard.
	str        string
	ignoreCase bool
	// but lists the alternatives anything-but excludes.
	but []leafOp
	// numeric bounds.
	num    []numCond
	exists bool
	prefix netip.Prefix
}

type numCond struct {
	op string
	v  float64
}

// PatternError is an invalid event pattern; the API reports it as
// InvalidEventPatternException.
type PatternError struct{ Reason string }

func (e *PatternError) Error() string { return "Event pattern is not valid. Reason: " + e.Reason }

func patternErr(format string, a ...any) error {
	return &PatternError{Reason: fmt.Sprintf(format, a...)}
}

// CompilePattern parses and validates an event pattern.
func CompilePattern(src string) (*Pattern, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, patternErr("Filter is not an object")
	}
	if dec.More() {
		return nil, patternErr("Filter is not an object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, patternErr("Filter is not an object")
	}
	n, err := compileNode(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: n}, nil
}

func compileNode(obj map[string]any, at string) (node, error) {
	n := node{fields: map[string]*field{}}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		if k == "$or" {
			arr, ok := v.([]any)
			if !ok || len(arr) < 2 {
				return node{}, patternErr("\"$or\" must be an array of at least 2 objects")
			}
			var alts []node
			for _, a := range arr {
				o, ok := a.(map[string]any)
				if !ok {
					return node{}, patternErr("\"$or\" must be an array of objects")
				}
				sub, err := compileNode(o, at)
				if err != nil {
					return node{}, err
				}
				alts = append(alts, sub)
			}
			n.or = append(n.or, alts)
			continue
		}
		name := k
		if at != "" {
			name = at + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			child, err := compileNode(v, name)
			if err != nil {
				return node{}, err
			}
			n.fields[k] = &field{child: &child}
		case []any:
			if len(v) == 0 {
				return node{}, patternErr("Empty arrays are not allowed at %s", name)
			}
			f := &field{}
			for _, a := range v {
				op, err := compileLeaf(a, name)
				if err != nil {
					return node{}, err
				}
				f.alts = append(f.alts, op)
			}
			n.fields[k] = f
		default:
			return node{}, patternErr("Match value must be String, number, true, false, or null at %s", name)
		}
	}
	return n, nil
}

func compileLeaf(a any, at string) (leafOp, error) {
	switch a := a.(type) {
	case nil, bool, string:
		return leafOp{kind: opExact, value: a}, nil
	case json.Number:
		f, err := a.Float64()
		if err != nil {
			return leafOp{}, patternErr("Invalid number %s at %s", a, at)
		}
		return leafOp{kind: opExact, value: f}, nil
	case map[string]any:
		if len(a) != 1 {
			return leafOp{}, patternErr("Only one key allowed in match expression at %s", at)
		}
		for k, v := range a {
			return compileOperator(k, v, at)
		}
	}
	return leafOp{}, patternErr("Match value must be String, number, true, false, or null at %s", at)
}

func compileOperator(k string, v any, at string) (leafOp, error) {
	switch k {
	case "prefix", "suffix":
		kind := opPrefix
		if k == "suffix" {
			kind = opSuffix
		}
		switch v := v.(type) {
		case string:
			return leafOp{kind: kind, str: v}, nil
		case map[string]any:
			if s, ok := v["equals-ignore-case"].(string); ok && len(v) == 1 {
				return leafOp{kind: kind, str: s, ignoreCase: true}, nil
			}
		}
		return leafOp{}, patternErr("%s match pattern must be a string at %s", k, at)
	case "equals-ignore-case":
		s, ok := v.(string)
		if !ok {
			return leafOp{}, patternErr("equals-ignore-case match pattern must be a string at %s", at)
		}
		return leafOp{kind: opEqualsIgnoreCase, str: s}, nil
	case "wildcard":
		s, ok := v.(string)
		if !ok {
			return leafOp{}, patternErr("wildcard match pattern must be a string at %s", at)
		}
		if strings.Contains(s, "**") {
			return leafOp{}, patternErr("Consecutive wildcard characters at %s", at)
		}
		return leafOp{kind: opWildcard, str: s}, nil
	case "exists":
		b, ok := v.(bool)
		if !ok {
			return leafOp{}, patternErr("exists match pattern must be either true or false at %s", at)
		}
		return leafOp{kind: opExists, exists: b}, nil
	case "cidr":
		s, ok := v.(string)
		if !ok {
			return leafOp{}, patternErr("cidr match pattern must be a string at %s", at)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return leafOp{}, patternErr("Nonstandard IP address: %s at %s", s, at)
		}
		return leafOp{kind: opCIDR, prefix: p.Masked()}, nil
	case "numeric":
		return compileNumeric(v, at)
	case "anything-but":
		op := leafOp{kind: opAnythingBut}
		switch v := v.(type) {
		case string, json.Number, bool, nil:
			e, err := compileLeaf(v, at)
			if err != nil {
				return leafOp{}, err
			}
			op.but = []leafOp{e}
		case []any:
			if len(v) == 0 {
				return leafOp{}, patternErr("Empty arrays are not allowed at %s", at)
			}
			for _, x := range v {
				switch x.(type) {
				case string, json.Number:
				default:
					return leafOp{}, patternErr("Inside anything but list, start|null|boolean is not supported at %s", at)
				}
				e, _ := compileLeaf(x, at)
				op.but = append(op.but, e)
			}
		case map[string]any:
			if len(v) != 1 {
				return leafOp{}, patternErr("Only one key allowed in match expression at %s", at)
			}
			for k2, v2 := range v {
				switch k2 {
				case "prefix", "suffix", "wildcard":
					e, err := compileOperator(k2, v2, at)
					if err != nil {
						return leafOp{}, err
					}
					op.but = []leafOp{e}
				case "equals-ignore-case":
					switch v2 := v2.(type) {
					case string:
						op.but = []leafOp{{kind: opEqualsIgnoreCase, str: v2}}
					case []any:
						for _, x := range v2 {
							s, ok := x.(string)
							if !ok {
								return leafOp{}, patternErr("Inside anything-but/equals-ignore-case list, only strings are supported at %s", at)
							}
							op.but = append(op.but, leafOp{kind: opEqualsIgnoreCase, str: s})
						}
					default:
						return leafOp{}, patternErr("equals-ignore-case match pattern must be a string at %s", at)
					}
				default:
					return leafOp{}, patternErr("Unsupported anything-but pattern: %s at %s", k2, at)
				}
			}
		default:
			return leafOp{}, patternErr("Value of anything-but must be an array or single string/number value at %s", at)
		}
		return op, nil
	}
	return leafOp{}, patternErr("Unrecognized match type %s at %s", k, at)
}

func compileNumeric(v any, at string) (leafOp, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 || len(arr)%2 != 0 || len(arr) > 4 {
		return leafOp{}, patternErr("Value of numeric must be an array of operator/value pairs at %s", at)
	}
	op := leafOp{kind: opNumeric}
	lower, upper := math.Inf(-1), math.Inf(1)
	for i := 0; i < len(arr); i += 2 {
		o, ok := arr[i].(string)
		if !ok {
			return leafOp{}, patternErr("Invalid numeric operator at %s", at)
		}
		n, ok := arr[i+1].(json.Number)
		if !ok {
			return leafOp{}, patternErr("Value of %s must be numeric at %s", o, at)
		}
		f, err := n.Float64()
		if err != nil {
			return leafOp{}, patternErr("Value of %s must be numeric at %s", o, at)
		}
		switch o {
		case ">", ">=":
			lower = f
		case "<", "<=":
			upper = f
		case "=":
			if len(arr) != 2 {
				return leafOp{}, patternErr("Bad numeric range at %s", at)
			}
		default:
			return leafOp{}, patternErr("Unrecognized numeric range operator: %s at %s", o, at)
		}
		op.num = append(op.num, numCond{op: o, v: f})
	}
	if lower >= upper {
		return leafOp{}, patternErr("Bad numeric range at %s", at)
	}
	return op, nil
}

// Match reports whether the event (a JSON object) matches the pattern.
func (p *Pattern) Match(event []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("decode event: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("decode event: not a JSON object")
	}
	return p.root.match([]any{obj}), nil
}

// match reports whether the node matches the objects at one path (several
// when the path crossed arrays).
func (n *node) match(objs []any) bool {
	for name, f := range n.fields {
		var vals []any
		for _, o := range objs {
			m, ok := o.(map[string]any)
			if !ok {
				continue
			}
			v, ok := m[name]
			if !ok {
				continue
			}
			vals = appendFlat(vals, v)
		}
		if f.child != nil {
			var children []any
			for _, v := range vals {
				if _, ok := v.(map[string]any); ok {
					children = append(children, v)
				}
			}
			if !f.child.match(children) {
				return false
			}
			continue
		}
		if !f.matchLeaf(vals) {
			return false
		}
	}
	for _, alts := range n.or {
		matched := false
		for i := range alts {
			if alts[i].match(objs) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// appendFlat adds v, or each element of v when it is an array (recursively).
func appendFlat(vals []any, v any) []any {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			vals = appendFlat(vals, e)
		}
		return vals
	}
	return append(vals, v)
}

func (f *field) matchLeaf(vals []any) bool {
	for _, op := range f.alts {
		if op.kind == opExists {
			leaves := 0
			for _, v := range vals {
				if _, isObj := v.(map[string]any); !isObj {
					leaves++
				}
			}
			if op.exists == (leaves > 0) {
				return true
			}
			continue
		}
		for _, v := range vals {
			if op.matchValue(v) {
				return true
			}
		}
	}
	return false
}

func (op *leafOp) matchValue(v any) bool {
	switch op.kind {
	case opExact:
		return exactEqual(op.value, v)
	case opPrefix, opSuffix:
		s, ok := v.(string)
		if !ok {
			return false
		}
		pat := op.str
		if op.ignoreCase {
			s, pat = strings.ToLower(s), strings.ToLower(pat)
		}
		if op.kind == opPrefix {
			return strings.HasPrefix(s, pat)
		}
		return strings.HasSuffix(s, pat)
	case opEqualsIgnoreCase:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, op.str)
	case opWildcard:
		s, ok := v.(string)
		return ok && wildcardMatch(op.str, s)
	case opCIDR:
		s, ok := v.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(s)
		return err == nil && op.prefix.Contains(a)
	case opNumeric:
		f, ok := number(v)
		if !ok {
			return false
		}
		for _, c := range op.num {
			var ok bool
			switch c.op {
			case ">":
				ok = f > c.v
			case ">=":
				ok = f >= c.v
			case "<":
				ok = f < c.v
			case "<=":
				ok = f <= c.v
			case "=":
				ok = f == c.v
			}
			if !ok {
				return false
			}
		}
		return true
	case opAnythingBut:
		if _, isObj := v.(map[string]any); isObj {
			return false
		}
		for _, b := range op.but {
			// A string exclusion says nothing about numbers and vice versa,
			// but a value of another type is still "anything but".
			if b.matchValue(v) {
				return false
			}
		}
		if len(op.but) > 0 && op.but[0].kind != opExact {
			// anything-but prefix/suffix/ignore-case apply to strings only.
			_, ok := v.(string)
			return ok
		}
		return true
	}
	return false
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func exactEqual(want, v any) bool {
	switch want := want.(type) {
	case nil:
		return v == nil
	case bool:
		b, ok := v.(bool)
		return ok && b == want
	case string:
		s, ok := v.(string)
		return ok && s == want
	case float64:
		f, ok := number(v)
		return ok && f == want
	}
	return false
}

// wildcardMatch matches s against a pattern where * stands for any run of
// characters (and \* for a literal star).
func wildcardMatch(pat, s string) bool {
	// path.Match treats ? and [ specially; escape them so only * is special.
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat) && pat[i+1] == '*':
			b.WriteString(`\*`)
			i++
		case c == '*':
			b.WriteByte('*')
		case c == '?' || c == '[' || c == ']' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	// path.Match's * does not cross '/', so match segment-free by replacing
	// '/' on both sides with a character the pattern cannot contain.
	const sep = "\x00"
	ok, err := path.Match(strings.ReplaceAll(b.String(), "/", sep), strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
}
