package cloudwatch

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Metric math: the subset of CloudWatch's expression language that alarms
// over ALB and ECS metrics use — arithmetic (+ - * /) between series and
// numbers, METRICS() with an optional id/label filter, [a, b] arrays, and
// SUM, AVG, MIN, MAX, ABS and FILL.

// value is a scalar, one time series, or an array of series.
type value struct {
	scalar  *float64
	series  []map[int64]float64
	isArray bool
}

func scalarValue(f float64) value { return value{scalar: &f} }

type evalEnv struct {
	// series are the other queries' results by id.
	series map[string]map[int64]float64
	// metricIDs lists, in request order, the ids (and labels) METRICS() covers.
	metricIDs []idLabel
	// grid is every window start, for FILL and scalar results.
	grid []int64
}

type idLabel struct{ id, label string }

type parser struct {
	src  string
	toks []string
	pos  int
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case strings.ContainsRune("+-*/(),[]", c):
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		case unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return toks, nil
}

// evalExpression evaluates one expression in env.
func evalExpression(expr string, env *evalEnv) (value, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return value{}, err
	}
	p := &parser{src: expr, toks: toks}
	v, err := p.expr(env)
	if err != nil {
		return value{}, err
	}
	if p.pos != len(p.toks) {
		return value{}, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return v, nil
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *parser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("expected %q, got %q", t, got)
	}
	return nil
}

func (p *parser) expr(env *evalEnv) (value, error) { return p.infix(env, p.term, "+", "-") }

func (p *parser) term(env *evalEnv) (value, error) { return p.infix(env, p.unary, "*", "/") }

// infix parses one precedence level, operand (op operand)*, applying the
// operators left to right as it goes.
func (p *parser) infix(env *evalEnv, operand func(*evalEnv) (value, error), ops ...string) (value, error) {
	v, err := operand(env)
	if err != nil {
		return v, err
	}
	for slices.Contains(ops, p.peek()) {
		op := p.next()
		r, err := operand(env)
		if err != nil {
			return v, err
		}
		if v, err = binary(op, v, r); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (p *parser) unary(env *evalEnv) (value, error) {
	if p.peek() == "-" {
		p.next()
		v, err := p.unary(env)
		if err != nil {
			return v, err
		}
		return binary("*", scalarValue(-1), v)
	}
	return p.primary(env)
}

func (p *parser) primary(env *evalEnv) (value, error) {
	t := p.next()
	switch {
	case t == "":
		return value{}, fmt.Errorf("unexpected end of expression")
	case t == "(":
		v, err := p.expr(env)
		if err != nil {
			return v, err
		}
		return v, p.expect(")")
	case t == "[":
		arr := value{isArray: true}
		for p.peek() != "]" {
			v, err := p.expr(env)
			if err != nil {
				return v, err
			}
			if v.scalar != nil {
				return v, fmt.Errorf("an array can hold only time series")
			}
			arr.series = append(arr.series, v.series...)
			if p.peek() == "," {
				p.next()
			}
		}
		p.next()
		return arr, nil
	case unicode.IsDigit(rune(t[0])) || t[0] == '.':
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return value{}, fmt.Errorf("bad number %q", t)
		}
		return scalarValue(f), nil
	case p.peek() == "(":
		p.next()
		var args []value
		var strArg string
		for p.peek() != ")" {
			if strings.HasPrefix(p.peek(), `"`) {
				strArg = strings.Trim(p.next(), `"`)
			} else {
				v, err := p.expr(env)
				if err != nil {
					return v, err
				}
				args = append(args, v)
			}
			if p.peek() == "," {
				p.next()
			} else if p.peek() != ")" {
				return value{}, fmt.Errorf("expected , or ) in %s()", t)
			}
		}
		p.next()
		return call(t, args, strArg, env)
	default:
		s, ok := env.series[t]
		if !ok {
			return value{}, fmt.Errorf("unknown metric id %q", t)
		}
		return value{series: []map[int64]float64{s}}, nil
	}
}

func call(name string, args []value, strArg string, env *evalEnv) (value, error) {
	switch name {
	case "METRICS":
		arr := value{isArray: true}
		for _, il := range env.metricIDs {
			if strArg == "" || strings.Contains(il.id, strArg) || strings.Contains(il.label, strArg) {
				arr.series = append(arr.series, env.series[il.id])
			}
		}
		return arr, nil
	case "SUM", "AVG", "MIN", "MAX":
		if len(args) != 1 {
			return value{}, fmt.Errorf("%s takes one argument", name)
		}
		return aggregate(name, args[0])
	case "ABS":
		if len(args) != 1 {
			return value{}, fmt.Errorf("ABS takes one argument")
		}
		return mapValue(args[0], math.Abs), nil
	case "FILL":
		if len(args) != 2 || args[1].scalar == nil {
			return value{}, fmt.Errorf("FILL takes a time series and a number")
		}
		fill := *args[1].scalar
		out := value{isArray: args[0].isArray}
		if args[0].scalar != nil {
			return args[0], nil
		}
		for _, s := range args[0].series {
			filled := make(map[int64]float64, len(env.grid))
			for _, t := range env.grid {
				if v, ok := s[t]; ok {
					filled[t] = v
				} else {
					filled[t] = fill
				}
			}
			out.series = append(out.series, filled)
		}
		return out, nil
	}
	return value{}, fmt.Errorf("unsupported function %s", name)
}

// aggregate folds an array per timestamp into one series, or one series into
// a scalar.
func aggregate(name string, v value) (value, error) {
	fold := func(xs []float64) float64 {
		r := xs[0]
		switch name {
		case "SUM", "AVG":
			r = 0
			for _, x := range xs {
				r += x
			}
			if name == "AVG" {
				r /= float64(len(xs))
			}
		case "MIN":
			for _, x := range xs {
				r = math.Min(r, x)
			}
		case "MAX":
			for _, x := range xs {
				r = math.Max(r, x)
			}
		}
		return r
	}
	if v.scalar != nil {
		return v, nil
	}
	if !v.isArray {
		var xs []float64
		for _, x := range v.series[0] {
			xs = append(xs, x)
		}
		if len(xs) == 0 {
			return value{series: []map[int64]float64{{}}}, nil
		}
		return scalarValue(fold(xs)), nil
	}
	byT := map[int64][]float64{}
	for _, s := range v.series {
		for t, x := range s {
			byT[t] = append(byT[t], x)
		}
	}
	out := map[int64]float64{}
	for t, xs := range byT {
		out[t] = fold(xs)
	}
	return value{series: []map[int64]float64{out}}, nil
}

func mapValue(v value, f func(float64) float64) value {
	if v.scalar != nil {
		return scalarValue(f(*v.scalar))
	}
	out := value{isArray: v.isArray}
	for _, s := range v.series {
		m := make(map[int64]float64, len(s))
		for t, x := range s {
			m[t] = f(x)
		}
		out.series = append(out.series, m)
	}
	return out
}

func apply(op string, a, b float64) (float64, bool) {
	switch op {
	case "+":
		return a + b, true
	case "-":
		return a - b, true
	case "*":
		return a * b, true
	case "/":
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}
	return 0, false
}

func binary(op string, l, r value) (value, error) {
	switch {
	case l.scalar != nil && r.scalar != nil:
		v, ok := apply(op, *l.scalar, *r.scalar)
		if !ok {
			return value{}, fmt.Errorf("division by zero")
		}
		return scalarValue(v), nil
	case r.scalar != nil:
		return mapPoints(l, func(x float64) (float64, bool) { return apply(op, x, *r.scalar) }), nil
	case l.scalar != nil:
		return mapPoints(r, func(x float64) (float64, bool) { return apply(op, *l.scalar, x) }), nil
	case !l.isArray && !r.isArray:
		out := map[int64]float64{}
		for t, x := range l.series[0] {
			if y, ok := r.series[0][t]; ok {
				if v, ok := apply(op, x, y); ok {
					out[t] = v
				}
			}
		}
		return value{series: []map[int64]float64{out}}, nil
	}
	return value{}, fmt.Errorf("arithmetic between arrays of time series is not supported; aggregate them first, e.g. SUM(METRICS())")
}

func mapPoints(v value, f func(float64) (float64, bool)) value {
	out := value{isArray: v.isArray}
	for _, s := range v.series {
		m := make(map[int64]float64, len(s))
		for t, x := range s {
			if y, ok := f(x); ok {
				m[t] = y
			}
		}
		out.series = append(out.series, m)
	}
	return out
}
