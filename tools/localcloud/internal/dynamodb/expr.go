package dynamodb

import (
	"fmt"
	"strconv"
	"strings"
)

// This file parses DynamoDB's expression languages: condition (also used
// for filters and key conditions), update and projection expressions. The
// parser reports errors in DynamoDB's words: a syntax error at once, and
// semantic errors (reserved words, undefined placeholders, misused
// functions, wrong operand types) in the priority order DynamoDB applies.

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokName  // #name
	tokValue // :value
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(s string) ([]token, *syntaxErr) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, &syntaxErr{tok: string(c), near: s[i:min(len(s), i+2)]}
			}
			k := tokName
			if c == ':' {
				k = tokValue
			}
			toks = append(toks, token{k, s[i:j], i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j], i})
			i = j
		case c == '<' || c == '>':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			toks = append(toks, token{tokPunct, s[i:j], i})
			i = j
		case strings.IndexByte("()[],.=+-", c) >= 0:
			toks = append(toks, token{tokPunct, s[i : i+1], i})
			i++
		default:
			return nil, &syntaxErr{tok: string(c), near: s[i:min(len(s), i+1)], lexical: true}
		}
	}
	toks = append(toks, token{tokEOF, "<EOF>", len(s)})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

type syntaxErr struct {
	tok, near string
	lexical   bool
}

func (e *syntaxErr) Error() string {
	if e.lexical {
		return fmt.Sprintf("Invalid character encountered; character: \"%s\", near: \"%s\"", e.tok, e.near)
	}
	return fmt.Sprintf("Syntax error; token: \"%s\", near: \"%s\"", e.tok, e.near)
}

// pathElem is one step of a document path: an attribute or map key, or a
// list index.
type pathElem struct {
	name    string
	index   int
	isIndex bool
}

type docPath []pathElem

func (p docPath) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIndex {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

type operandKind int

const (
	opPath operandKind = iota
	opValue
	opFunc // size, if_not_exists, list_append, or an unknown/boolean function in the wrong place
	opPlus
	opMinus
)

type operand struct {
	kind operandKind
	path docPath
	val  Value
	name string // function name
	args []*operand
}

// staticType is the operand's type when known without an item.
func (o *operand) staticType() Type {
	switch o.kind {
	case opValue:
		return o.val.T
	case opFunc:
		switch o.name {
		case "size":
			return TypeN
		case "list_append":
			return TypeL
		case "if_not_exists":
			if len(o.args) == 2 {
				return o.args[1].staticType()
			}
		}
	case opPlus, opMinus:
		return TypeN
	}
	return ""
}

type condKind int

const (
	condAnd condKind = iota
	condOr
	condNot
	condCmp
	condBetween
	condIn
	condFunc
)

type cond struct {
	kind condKind
	op   string // comparator, or function name
	subs []*cond
	args []*operand
}

// exprContext resolves placeholders and collects semantic errors for one
// request, across all of its expressions.
type exprContext struct {
	names      map[string]string
	values     map[string]Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

func newExprContext(names map[string]string, values map[string]Value) *exprContext {
	return &exprContext{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// semErrs keeps the first error of each kind; first reports by priority.
type semErrs map[string]string

func (e semErrs) set(kind, msg string) {
	if _, ok := e[kind]; !ok {
		e[kind] = msg
	}
}

func (e semErrs) first(order ...string) string {
	for _, k := range order {
		if m, ok := e[k]; ok {
			return m
		}
	}
	return ""
}

type parser struct {
	ctx  *exprContext
	src  string
	toks []token
	i    int
	errs semErrs
	// paths collects every document path used (for key-attribute checks).
	paths []docPath
}

type parseFail struct{ err *syntaxErr }

func newParser(ctx *exprContext, src string) (*parser, string) {
	if strings.TrimSpace(src) == "" {
		return nil, "The expression can not be empty;"
	}
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, lerr.Error()
	}
	return &parser{ctx: ctx, src: src, toks: toks, errs: semErrs{}}, ""
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

// fail aborts parsing with a syntax error at the current token.
func (p *parser) fail() {
	t := p.peek()
	start := t.pos
	if p.i > 0 {
		start = p.toks[p.i-1].pos
	}
	end := len(p.src)
	if t.kind != tokEOF {
		end = t.pos + len(t.text)
		if p.i+1 < len(p.toks) && p.toks[p.i+1].kind != tokEOF {
			n := p.toks[p.i+1]
			end = n.pos + len(n.text)
		}
	}
	panic(parseFail{&syntaxErr{tok: t.text, near: p.src[start:end]}})
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *parser) expectPunct(s string) {
	if !p.isPunct(s) {
		p.fail()
	}
	p.next()
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

// run parses with f, turning a syntax-error panic into its message.
func (p *parser) run(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			pf, ok := r.(parseFail)
			if !ok {
				panic(r)
			}
			msg = pf.err.Error()
		}
	}()
	f()
	if p.peek().kind != tokEOF {
		p.fail()
	}
	return ""
}

// path parses a document path: name ('.' name | '[' n ']')*.
func (p *parser) path() docPath {
	var dp docPath
	dp = append(dp, p.pathName())
	for {
		switch {
		case p.isPunct("."):
			p.next()
			dp = append(dp, p.pathName())
		case p.isPunct("["):
			p.next()
			t := p.peek()
			if t.kind != tokNumber {
				p.fail()
			}
			p.next()
			n, err := strconv.Atoi(t.text)
			if err != nil {
				p.fail()
			}
			p.expectPunct("]")
			dp = append(dp, pathElem{index: n, isIndex: true})
		default:
			p.paths = append(p.paths, dp)
			return dp
		}
	}
}

func (p *parser) pathName() pathElem {
	t := p.peek()
	switch t.kind {
	case tokIdent:
		p.next()
		if isReserved(t.text) {
			p.errs.set("reserved", "Attribute name is a reserved keyword; reserved keyword: "+t.text)
		}
		return pathElem{name: t.text}
	case tokName:
		p.next()
		name, ok := p.ctx.names[t.text]
		if !ok {
			p.errs.set("attrNameVal", "An expression attribute name used in the document path is not defined; attribute name: "+t.text)
		}
		p.ctx.usedNames[t.text] = true
		return pathElem{name: name}
	}
	p.fail()
	return pathElem{}
}

func (p *parser) value() *operand {
	t := p.next()
	v, ok := p.ctx.values[t.text]
	if !ok {
		p.errs.set("attrNameVal", "An expression attribute value used in expression is not defined; attribute value: "+t.text)
	}
	p.ctx.usedValues[t.text] = true
	return &operand{kind: opValue, val: v}
}

// --- condition expressions -----------------------------------------------

var condFuncs = map[string]int{
	"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
	"begins_with": 2, "contains": 2, "size": 1,
}

var validTypeNames = map[string]bool{"S": true, "N": true, "B": true, "NULL": true, "SS": true, "BOOL": true, "L": true, "BS": true, "NS": true, "M": true}

// parseCondition parses a condition, filter or key-condition expression.
func parseCondition(ctx *exprContext, src string) (*cond, []docPath, string) {
	p, msg := newParser(ctx, src)
	if msg != "" {
		return nil, nil, msg
	}
	var c *cond
	if msg := p.run(func() { c = p.or() }); msg != "" {
		return nil, nil, msg
	}
	if msg := p.errs.first("unknownFunction", "misusedFunction", "reserved", "attrNameVal", "operand", "distinct", "function"); msg != "" {
		return nil, nil, msg
	}
	return c, p.paths, ""
}

func (p *parser) or() *cond {
	c := p.and()
	for p.isKeyword("OR") {
		p.next()
		c = &cond{kind: condOr, subs: []*cond{c, p.and()}}
	}
	return c
}

func (p *parser) and() *cond {
	c := p.not()
	for p.isKeyword("AND") {
		p.next()
		c = &cond{kind: condAnd, subs: []*cond{c, p.not()}}
	}
	return c
}

func (p *parser) not() *cond {
	if p.isKeyword("NOT") {
		p.next()
		return &cond{kind: condNot, subs: []*cond{p.not()}}
	}
	return p.primary()
}

func isComparator(t token) bool {
	if t.kind != tokPunct {
		return false
	}
	switch t.text {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (p *parser) primary() *cond {
	if p.isPunct("(") {
		p.next()
		c := p.or()
		p.expectPunct(")")
		return c
	}
	left := p.condOperand()
	t := p.peek()
	switch {
	case isComparator(t):
		p.next()
		right := p.condOperand()
		p.misused(left, right)
		p.checkDistinct(t.text, left, right)
		return &cond{kind: condCmp, op: t.text, args: []*operand{left, right}}
	case p.isKeyword("BETWEEN"):
		p.next()
		lo := p.condOperand()
		if !p.isKeyword("AND") {
			p.fail()
		}
		p.next()
		hi := p.condOperand()
		p.misused(left, lo, hi)
		p.checkBetween(lo, hi)
		return &cond{kind: condBetween, args: []*operand{left, lo, hi}}
	case p.isKeyword("IN"):
		p.next()
		p.expectPunct("(")
		args := []*operand{left, p.condOperand()}
		for p.isPunct(",") {
			p.next()
			args = append(args, p.condOperand())
		}
		p.expectPunct(")")
		p.misused(args...)
		return &cond{kind: condIn, args: args}
	}
	if left.kind == opFunc {
		if left.name == "size" {
			p.errs.set("misusedFunction", "The function is not allowed to be used this way in an expression; function: size")
		}
		return &cond{kind: condFunc, op: left.name, args: left.args}
	}
	p.fail()
	return nil
}

// misused reports a boolean function used as an operand.
func (p *parser) misused(ops ...*operand) {
	for _, o := range ops {
		if o.kind == opFunc && o.name != "size" {
			p.errs.set("misusedFunction", "The function is not allowed to be used this way in an expression; function: "+o.name)
		}
	}
}

func (p *parser) checkDistinct(op string, a, b *operand) {
	if a.kind == opPath && b.kind == opPath && a.path.String() == b.path.String() {
		p.errs.set("distinct", "The first operand must be distinct from the remaining operands for this operator or function; operator: "+op+", first operand: "+a.path.String())
	}
}

func (p *parser) checkBetween(lo, hi *operand) {
	if lo.kind != opValue || hi.kind != opValue || lo.val.T == "" || hi.val.T == "" {
		return
	}
	if lo.val.T != hi.val.T {
		p.errs.set("function", "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: "+lo.val.describe()+", upper bound operand: AttributeValue: "+hi.val.describe())
		return
	}
	if c, ok := lo.val.compare(hi.val); ok && c > 0 {
		p.errs.set("function", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: "+lo.val.describe()+", upper bound operand: AttributeValue: "+hi.val.describe())
	}
}

// condOperand parses a path, a :value or a function call.
func (p *parser) condOperand() *operand {
	t := p.peek()
	switch {
	case t.kind == tokValue:
		return p.value()
	case t.kind == tokIdent && p.peekAt(1).kind == tokPunct && p.peekAt(1).text == "(":
		return p.condFunction()
	case t.kind == tokIdent || t.kind == tokName:
		return &operand{kind: opPath, path: p.path()}
	}
	p.fail()
	return nil
}

// callArgs parses a function's arguments: "(" [arg ("," arg)*] ")".
func (p *parser) callArgs(arg func() *operand) []*operand {
	p.expectPunct("(")
	var args []*operand
	if !p.isPunct(")") {
		args = append(args, arg())
		for p.isPunct(",") {
			p.next()
			args = append(args, arg())
		}
	}
	p.expectPunct(")")
	return args
}

func (p *parser) condFunction() *operand {
	name := p.next().text
	args := p.callArgs(p.condOperand)
	p.misused(args...)
	o := &operand{kind: opFunc, name: name, args: args}
	n, ok := condFuncs[name]
	if !ok {
		p.errs.set("unknownFunction", "Invalid function name; function: "+name)
		return o
	}
	if n != len(args) {
		p.errs.set("operand", fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args)))
		return o
	}
	if len(args) == 2 {
		p.checkDistinct(name, args[0], args[1])
	}
	switch name {
	case "attribute_exists", "attribute_not_exists":
		if args[0].kind != opPath {
			p.errs.set("function", "Operator or function requires a document path; operator or function: "+name)
		}
	case "begins_with":
		for _, a := range args {
			if t := a.staticType(); t != "" && t != TypeS && t != TypeB {
				p.errs.set("function", "Incorrect operand type for operator or function; operator or function: "+name+", operand type: "+string(t))
			}
		}
	case "attribute_type":
		t := args[1].staticType()
		if t != TypeS {
			ts := string(t)
			if ts == "" {
				ts = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
			}
			p.errs.set("function", "Incorrect operand type for operator or function; operator or function: "+name+", operand type: "+ts)
		} else if !validTypeNames[args[1].val.S] {
			p.errs.set("function", "Invalid attribute type name found; type: "+args[1].val.S+", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
		}
	case "size":
		switch t := args[0].staticType(); t {
		case TypeN, TypeBOOL, TypeNULL:
			p.errs.set("function", "Incorrect operand type for operator or function; operator or function: "+name+", operand type: "+string(t))
		}
	}
	return o
}

// --- update expressions --------------------------------------------------

type updateKind int

const (
	updSet updateKind = iota
	updRemove
	updAdd
	updDelete
)

type updateAction struct {
	kind  updateKind
	path  docPath
	value *operand // SET's value, ADD's and DELETE's operand
}

var updateFuncs = map[string]int{"if_not_exists": 2, "list_append": 2}

// parseUpdate parses an update expression.
func parseUpdate(ctx *exprContext, src string) ([]updateAction, string) {
	p, msg := newParser(ctx, src)
	if msg != "" {
		return nil, msg
	}
	var actions []updateAction
	sections := map[string]bool{}
	msg = p.run(func() {
		for p.peek().kind != tokEOF {
			t := p.peek()
			if t.kind != tokIdent {
				p.fail()
			}
			kw := strings.ToUpper(t.text)
			var kind updateKind
			switch kw {
			case "SET":
				kind = updSet
			case "REMOVE":
				kind = updRemove
			case "ADD":
				kind = updAdd
			case "DELETE":
				kind = updDelete
			default:
				p.fail()
			}
			p.next()
			if sections[kw] {
				p.errs.set("section", `The "`+kw+`" section can only be used once in an update expression;`)
			}
			sections[kw] = true
			for {
				actions = append(actions, p.updateAction(kind, kw))
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
		}
	})
	if msg != "" {
		return nil, msg
	}
	for i := range actions {
		for j := range i {
			p.checkOverlap(actions[j].path, actions[i].path)
		}
	}
	if msg := p.errs.first("reserved", "unknownFunction", "section", "attrNameVal", "pathOverlap", "pathConflict", "operand", "function"); msg != "" {
		return nil, msg
	}
	return actions, ""
}

func (p *parser) checkOverlap(a, b docPath) {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].isIndex != b[i].isIndex {
			p.errs.set("pathConflict", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: "+a.String()+", path two: "+b.String())
			return
		}
		if a[i] != b[i] {
			return
		}
	}
	p.errs.set("pathOverlap", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "+a.String()+", path two: "+b.String())
}

var operandTypeNames = map[Type]string{TypeS: "STRING", TypeN: "NUMBER", TypeB: "BINARY", TypeNULL: "NULL", TypeBOOL: "BOOLEAN", TypeL: "LIST", TypeM: "MAP"}

func (p *parser) updateAction(kind updateKind, kw string) updateAction {
	a := updateAction{kind: kind, path: p.path()}
	switch kind {
	case updSet:
		p.expectPunct("=")
		a.value = p.setValue()
	case updAdd, updDelete:
		if p.peek().kind != tokValue {
			p.fail()
		}
		a.value = p.value()
		t := a.value.val.T
		if name, ok := operandTypeNames[t]; ok && (kind != updAdd || t != TypeN) {
			p.errs.set("operand", "Incorrect operand type for operator or function; operator: "+kw+", operand type: "+name)
		}
	}
	return a
}

func (p *parser) setValue() *operand {
	left := p.setOperand()
	if p.isPunct("+") || p.isPunct("-") {
		op := p.next().text
		right := p.setOperand()
		kind := opPlus
		if op == "-" {
			kind = opMinus
		}
		for _, o := range []*operand{left, right} {
			if t := o.staticType(); t != "" && t != TypeN {
				p.errs.set("function", "Incorrect operand type for operator or function; operator or function: "+op+", operand type: "+string(t))
			}
		}
		return &operand{kind: kind, args: []*operand{left, right}}
	}
	return left
}

func (p *parser) setOperand() *operand {
	t := p.peek()
	switch {
	case t.kind == tokValue:
		return p.value()
	case t.kind == tokIdent && p.peekAt(1).kind == tokPunct && p.peekAt(1).text == "(":
		name := p.next().text
		args := p.callArgs(p.setOperand)
		o := &operand{kind: opFunc, name: name, args: args}
		n, ok := updateFuncs[name]
		if !ok {
			p.errs.set("unknownFunction", "Invalid function name; function: "+name)
			return o
		}
		if n != len(args) {
			p.errs.set("function", fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args)))
			return o
		}
		switch name {
		case "if_not_exists":
			if args[0].kind != opPath {
				p.errs.set("function", "Operator or function requires a document path; operator or function: "+name)
			}
		case "list_append":
			for _, a := range args {
				if t := a.staticType(); t != "" && t != TypeL {
					p.errs.set("function", "Incorrect operand type for operator or function; operator or function: "+name+", operand type: "+string(t))
				}
			}
		}
		return o
	case t.kind == tokIdent || t.kind == tokName:
		return &operand{kind: opPath, path: p.path()}
	}
	p.fail()
	return nil
}

// --- projection expressions ----------------------------------------------

func parseProjection(ctx *exprContext, src string) ([]docPath, string) {
	p, msg := newParser(ctx, src)
	if msg != "" {
		return nil, msg
	}
	var paths []docPath
	msg = p.run(func() {
		paths = append(paths, p.path())
		for p.isPunct(",") {
			p.next()
			paths = append(paths, p.path())
		}
	})
	if msg != "" {
		return nil, msg
	}
	for i := range paths {
		for j := range i {
			p.checkOverlap(paths[j], paths[i])
		}
	}
	if msg := p.errs.first("reserved", "attrNameVal", "pathOverlap", "pathConflict"); msg != "" {
		return nil, msg
	}
	return paths, ""
}
