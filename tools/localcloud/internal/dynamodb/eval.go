package dynamodb

import (
	"sort"
	"strings"
)

// resolve finds the value at a document path in an item.
func resolve(it Item, p docPath) (Value, bool) {
	v, ok := it[p[0].name]
	if !ok || p[0].isIndex {
		return Value{}, false
	}
	for _, e := range p[1:] {
		switch {
		case e.isIndex && v.T == TypeL && e.index < len(v.L):
			v = v.L[e.index]
		case !e.isIndex && v.T == TypeM:
			var found bool
			v, found = v.M[e.name]
			if !found {
				return Value{}, false
			}
		default:
			return Value{}, false
		}
	}
	return v, true
}

// evalOperand resolves a condition operand against an item.
func evalOperand(it Item, o *operand) (Value, bool) {
	switch o.kind {
	case opPath:
		return resolve(it, o.path)
	case opValue:
		return o.val, true
	case opFunc:
		if o.name == "size" && len(o.args) == 1 {
			v, ok := evalOperand(it, o.args[0])
			if !ok {
				return Value{}, false
			}
			n, ok := v.size()
			if !ok {
				return Value{}, false
			}
			return Num(itoa(n)), true
		}
	}
	return Value{}, false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// evalCond evaluates a condition against an item (empty for a missing
// item). Comparisons across types are false, never errors, as on DynamoDB.
func evalCond(it Item, c *cond) bool {
	switch c.kind {
	case condAnd:
		return evalCond(it, c.subs[0]) && evalCond(it, c.subs[1])
	case condOr:
		return evalCond(it, c.subs[0]) || evalCond(it, c.subs[1])
	case condNot:
		return !evalCond(it, c.subs[0])
	case condCmp:
		a, aok := evalOperand(it, c.args[0])
		b, bok := evalOperand(it, c.args[1])
		if c.op == "<>" {
			return !(aok && bok && a.equal(b))
		}
		if !aok || !bok {
			return false
		}
		if c.op == "=" {
			return a.equal(b)
		}
		n, ok := a.compare(b)
		if !ok {
			return false
		}
		switch c.op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		case ">=":
			return n >= 0
		}
	case condBetween:
		a, ok := evalOperand(it, c.args[0])
		lo, lok := evalOperand(it, c.args[1])
		hi, hok := evalOperand(it, c.args[2])
		if !ok || !lok || !hok {
			return false
		}
		x, ok1 := a.compare(lo)
		y, ok2 := a.compare(hi)
		return ok1 && ok2 && x >= 0 && y <= 0
	case condIn:
		a, ok := evalOperand(it, c.args[0])
		if !ok {
			return false
		}
		for _, o := range c.args[1:] {
			if b, ok := evalOperand(it, o); ok && a.equal(b) {
				return true
			}
		}
		return false
	case condFunc:
		return evalFunc(it, c.op, c.args)
	}
	return false
}

func evalFunc(it Item, name string, args []*operand) bool {
	switch name {
	case "attribute_exists":
		_, ok := evalOperand(it, args[0])
		return ok
	case "attribute_not_exists":
		_, ok := evalOperand(it, args[0])
		return !ok
	case "attribute_type":
		a, ok := evalOperand(it, args[0])
		t, tok := evalOperand(it, args[1])
		return ok && tok && string(a.T) == t.S
	case "begins_with":
		a, ok := evalOperand(it, args[0])
		b, bok := evalOperand(it, args[1])
		return ok && bok && a.T == b.T && (a.T == TypeS || a.T == TypeB) && strings.HasPrefix(a.S, b.S)
	case "contains":
		a, ok := evalOperand(it, args[0])
		b, bok := evalOperand(it, args[1])
		if !ok || !bok {
			return false
		}
		switch a.T {
		case TypeS, TypeB:
			return b.T == a.T && strings.Contains(a.S, b.S)
		case TypeSS:
			return b.T == TypeS && containsStr(a.Set, b.S)
		case TypeBS:
			return b.T == TypeB && containsStr(a.Set, b.S)
		case TypeNS:
			if b.T != TypeN {
				return false
			}
			for _, n := range a.Set {
				if compareNumbers(n, b.S) == 0 {
					return true
				}
			}
		case TypeL:
			for _, e := range a.L {
				if e.equal(b) {
					return true
				}
			}
		}
	}
	return false
}

func containsStr(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// Update errors, in DynamoDB's words.
const (
	msgInvalidUpdatePath = "The document path provided in the update expression is invalid for update"
	msgWrongOperandType  = "An operand in the update expression has an incorrect data type"
	msgMissingOperand    = "The provided expression refers to an attribute that does not exist in the item"
)

// evalSetPair computes the two operands of + and - or list_append, left
// first, stopping at the first that fails.
func evalSetPair(it Item, args []*operand) (Value, Value, string) {
	a, msg := evalSetValue(it, args[0])
	if msg != "" {
		return Value{}, Value{}, msg
	}
	b, msg := evalSetValue(it, args[1])
	return a, b, msg
}

// evalSetValue computes a SET value against the item as it was before the
// update.
func evalSetValue(it Item, o *operand) (Value, string) {
	switch o.kind {
	case opPath:
		v, ok := resolve(it, o.path)
		if !ok {
			return Value{}, msgMissingOperand
		}
		return v.clone(), ""
	case opValue:
		return o.val.clone(), ""
	case opPlus, opMinus:
		a, b, msg := evalSetPair(it, o.args)
		if msg != "" {
			return Value{}, msg
		}
		if a.T != TypeN || b.T != TypeN {
			return Value{}, msgWrongOperandType
		}
		return addNumbers(a.S, b.S, o.kind == opMinus)
	case opFunc:
		switch o.name {
		case "if_not_exists":
			if v, ok := resolve(it, o.args[0].path); ok {
				return v.clone(), ""
			}
			return evalSetValue(it, o.args[1])
		case "list_append":
			a, b, msg := evalSetPair(it, o.args)
			if msg != "" {
				return Value{}, msg
			}
			if a.T != TypeL || b.T != TypeL {
				return Value{}, msgWrongOperandType
			}
			return Value{T: TypeL, L: append(append([]Value{}, a.L...), b.L...)}, ""
		}
	}
	return Value{}, msgWrongOperandType
}

func addNumbers(a, b string, subtract bool) (Value, string) {
	x, _ := parseDecimal(a)
	y, _ := parseDecimal(b)
	if subtract {
		y = y.neg()
	}
	r := x.add(y)
	if msg := r.check(); msg != "" {
		return Value{}, msg
	}
	return Value{T: TypeN, S: r.String()}, ""
}

// applyUpdate applies update actions to a copy of it and returns the new
// item. All SET values are computed from the item before the update.
func applyUpdate(it Item, actions []updateAction) (Item, string) {
	values := make([]Value, len(actions))
	for i, a := range actions {
		if a.kind == updSet {
			v, msg := evalSetValue(it, a.value)
			if msg != "" {
				return nil, msg
			}
			values[i] = v
		}
	}
	root := Value{T: TypeM, M: map[string]Value(it.clone())}
	if root.M == nil {
		root.M = map[string]Value{}
	}
	order := make([]int, len(actions))
	for i := range order {
		order[i] = i
	}
	// Removals from lists go last and highest index first, so every index
	// refers to the list as it was.
	sort.SliceStable(order, func(x, y int) bool {
		a, b := actions[order[x]], actions[order[y]]
		ra := a.kind == updRemove && a.path[len(a.path)-1].isIndex
		rb := b.kind == updRemove && b.path[len(b.path)-1].isIndex
		if ra != rb {
			return rb
		}
		if ra && rb {
			return a.path[len(a.path)-1].index > b.path[len(b.path)-1].index
		}
		return false
	})
	for _, i := range order {
		a := actions[i]
		var msg string
		switch a.kind {
		case updSet:
			v := values[i]
			msg = modify(&root, a.path, func(Value, bool) (Value, bool, string) { return v, false, "" })
		case updRemove:
			msg = modify(&root, a.path, func(_ Value, exists bool) (Value, bool, string) { return Value{}, true, "" })
		case updAdd:
			msg = modify(&root, a.path, func(cur Value, exists bool) (Value, bool, string) {
				return addValue(cur, exists, a.value.val)
			})
		case updDelete:
			msg = modify(&root, a.path, func(cur Value, exists bool) (Value, bool, string) {
				return deleteValue(cur, exists, a.value.val)
			})
		}
		if msg != "" {
			return nil, msg
		}
	}
	return Item(root.M), ""
}

func addValue(cur Value, exists bool, v Value) (Value, bool, string) {
	if !exists {
		return v.clone(), false, ""
	}
	if cur.T != v.T {
		return Value{}, false, msgWrongOperandType
	}
	switch v.T {
	case TypeN:
		r, msg := addNumbers(cur.S, v.S, false)
		return r, false, msg
	case TypeSS, TypeBS:
		out := cur.clone()
		for _, s := range v.Set {
			if !containsStr(out.Set, s) {
				out.Set = append(out.Set, s)
			}
		}
		return out, false, ""
	case TypeNS:
		out := cur.clone()
		for _, s := range v.Set {
			found := false
			for _, e := range out.Set {
				if compareNumbers(e, s) == 0 {
					found = true
					break
				}
			}
			if !found {
				out.Set = append(out.Set, s)
			}
		}
		return out, false, ""
	}
	return Value{}, false, msgWrongOperandType
}

func deleteValue(cur Value, exists bool, v Value) (Value, bool, string) {
	if !exists {
		return Value{}, true, ""
	}
	if cur.T != v.T {
		return Value{}, false, msgWrongOperandType
	}
	var kept []string
	for _, e := range cur.Set {
		drop := false
		for _, d := range v.Set {
			if e == d || (v.T == TypeNS && compareNumbers(e, d) == 0) {
				drop = true
				break
			}
		}
		if !drop {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return Value{}, true, ""
	}
	return Value{T: cur.T, Set: kept}, false, ""
}

// modify replaces (or removes) the value at path inside v, creating the
// last step only: every parent must exist with the right type.
func modify(v *Value, p docPath, f func(cur Value, exists bool) (Value, bool, string)) string {
	e := p[0]
	if len(p) == 1 {
		switch {
		case e.isIndex && v.T == TypeL:
			var cur Value
			exists := e.index < len(v.L)
			if exists {
				cur = v.L[e.index]
			}
			nv, remove, msg := f(cur, exists)
			if msg != "" {
				return msg
			}
			switch {
			case remove && exists:
				v.L = append(v.L[:e.index:e.index], v.L[e.index+1:]...)
			case remove:
			case exists:
				v.L[e.index] = nv
			default:
				v.L = append(v.L, nv)
			}
		case !e.isIndex && v.T == TypeM:
			cur, exists := v.M[e.name]
			nv, remove, msg := f(cur, exists)
			if msg != "" {
				return msg
			}
			if remove {
				delete(v.M, e.name)
			} else {
				v.M[e.name] = nv
			}
		default:
			return msgInvalidUpdatePath
		}
		return ""
	}
	switch {
	case e.isIndex && v.T == TypeL && e.index < len(v.L):
		child := v.L[e.index]
		if msg := modify(&child, p[1:], f); msg != "" {
			return msg
		}
		v.L[e.index] = child
	case !e.isIndex && v.T == TypeM:
		child, ok := v.M[e.name]
		if !ok {
			return msgInvalidUpdatePath
		}
		if msg := modify(&child, p[1:], f); msg != "" {
			return msg
		}
		v.M[e.name] = child
	default:
		return msgInvalidUpdatePath
	}
	return ""
}

// projNode is a projection expression as a tree of the paths it keeps.
type projNode struct {
	leaf     bool
	names    map[string]*projNode
	indexes  map[int]*projNode
	sortedIx []int
}

func newProjTree(paths []docPath) *projNode {
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, e := range p {
			if n.leaf {
				break
			}
			var next *projNode
			if e.isIndex {
				if n.indexes == nil {
					n.indexes = map[int]*projNode{}
				}
				if next = n.indexes[e.index]; next == nil {
					next = &projNode{}
					n.indexes[e.index] = next
					n.sortedIx = append(n.sortedIx, e.index)
				}
			} else {
				if n.names == nil {
					n.names = map[string]*projNode{}
				}
				if next = n.names[e.name]; next == nil {
					next = &projNode{}
					n.names[e.name] = next
				}
			}
			n = next
		}
		n.leaf = true
		n.names, n.indexes, n.sortedIx = nil, nil, nil
	}
	return root
}

// project keeps only the projected paths of an item; list elements keep
// their order and close up, as on DynamoDB.
func project(it Item, paths []docPath) Item {
	if it == nil {
		return nil
	}
	tree := newProjTree(paths)
	out := Item{}
	for name, n := range tree.names {
		if v, ok := it[name]; ok {
			if pv, ok := n.apply(v); ok {
				out[name] = pv
			}
		}
	}
	return out
}

func (n *projNode) apply(v Value) (Value, bool) {
	if n.leaf {
		return v.clone(), true
	}
	switch {
	case v.T == TypeM && n.names != nil:
		m := map[string]Value{}
		for name, c := range n.names {
			if e, ok := v.M[name]; ok {
				if pv, ok := c.apply(e); ok {
					m[name] = pv
				}
			}
		}
		if len(m) == 0 {
			return Value{}, false
		}
		return Value{T: TypeM, M: m}, true
	case v.T == TypeL && n.indexes != nil:
		ix := append([]int(nil), n.sortedIx...)
		sort.Ints(ix)
		var l []Value
		for _, i := range ix {
			if i < len(v.L) {
				if pv, ok := n.indexes[i].apply(v.L[i]); ok {
					l = append(l, pv)
				}
			}
		}
		if len(l) == 0 {
			return Value{}, false
		}
		return Value{T: TypeL, L: l}, true
	}
	return Value{}, false
}
