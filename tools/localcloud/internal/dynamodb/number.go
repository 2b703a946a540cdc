package dynamodb

import (
	"math/big"
	"strings"
)

// decimal is a DynamoDB number: coef × 10^exp, exact. DynamoDB numbers are
// decimals of up to 38 significant digits with magnitudes between 1e-130 and
// 1e126; comparing or adding them as float64 would lose exactly the
// precision callers rely on (counters, version numbers, epoch nanoseconds).
type decimal struct {
	coef big.Int // signed
	exp  int
}

// Number errors, in DynamoDB's words.
const (
	msgNotNumeric = "The parameter cannot be converted to a numeric value"
	msgOverflow   = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgUnderflow  = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	msgPrecision  = "Attempting to store more than 38 significant digits in a Number"
)

// parseDecimal reads a number as DynamoDB accepts it ("-1.50", "3e4",
// ".5") and checks its precision and range; the error text is DynamoDB's.
func parseDecimal(s string) (decimal, string) {
	var d decimal
	if s == "" {
		return d, msgNotNumeric
	}
	in := s
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, expPart := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, expPart = s[:i], s[i+1:]
		if expPart == "" {
			return d, msgNotNumeric + ": " + in
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return d, msgNotNumeric + ": " + in
	}
	digits := intPart + frac
	for _, c := range digits {
		if c < '0' || c > '9' {
			return d, msgNotNumeric + ": " + in
		}
	}
	exp := -len(frac)
	if expPart != "" {
		e, ok := parseSmallInt(expPart)
		if !ok {
			return d, msgNotNumeric + ": " + in
		}
		exp += e
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return decimal{}, ""
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	d.coef.SetString(digits, 10)
	if neg {
		d.coef.Neg(&d.coef)
	}
	d.exp = exp
	return d, d.check()
}

func parseSmallInt(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// check applies DynamoDB's limits to a normalised decimal.
func (d *decimal) check() string {
	if d.coef.Sign() == 0 {
		return ""
	}
	n := len(new(big.Int).Abs(&d.coef).String())
	if top := n - 1 + d.exp; top > 125 {
		return msgOverflow
	} else if top < -130 {
		return msgUnderflow
	}
	if n > 38 {
		return msgPrecision
	}
	return ""
}

// normalize strips trailing zeros from the coefficient.
func (d *decimal) normalize() {
	if d.coef.Sign() == 0 {
		d.exp = 0
		return
	}
	ten := big.NewInt(10)
	var q, r big.Int
	for {
		q.QuoRem(&d.coef, ten, &r)
		if r.Sign() != 0 {
			return
		}
		d.coef.Set(&q)
		d.exp++
	}
}

// String is the canonical form DynamoDB returns: plain decimal notation, no
// exponent, no insignificant zeros ("1.50" → "1.5", "1e3" → "1000").
func (d decimal) String() string {
	if d.coef.Sign() == 0 {
		return "0"
	}
	digits := new(big.Int).Abs(&d.coef).String()
	var s string
	switch {
	case d.exp >= 0:
		s = digits + strings.Repeat("0", d.exp)
	case -d.exp < len(digits):
		p := len(digits) + d.exp
		s = digits[:p] + "." + digits[p:]
	default:
		s = "0." + strings.Repeat("0", -d.exp-len(digits)) + digits
	}
	if d.coef.Sign() < 0 {
		return "-" + s
	}
	return s
}

// aligned returns both coefficients scaled to the smaller exponent.
func aligned(a, b decimal) (x, y *big.Int, exp int) {
	x, y = new(big.Int).Set(&a.coef), new(big.Int).Set(&b.coef)
	exp = min(a.exp, b.exp)
	if a.exp > exp {
		x.Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.exp-exp)), nil))
	}
	if b.exp > exp {
		y.Mul(y, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(b.exp-exp)), nil))
	}
	return x, y, exp
}

func (d decimal) cmp(o decimal) int {
	if d.coef.Sign() != o.coef.Sign() {
		return d.coef.Sign() - o.coef.Sign()
	}
	x, y, _ := aligned(d, o)
	return x.Cmp(y)
}

func (d decimal) add(o decimal) decimal {
	x, y, exp := aligned(d, o)
	var r decimal
	r.coef.Add(x, y)
	r.exp = exp
	r.normalize()
	return r
}

func (d decimal) neg() decimal {
	var r decimal
	r.coef.Neg(&d.coef)
	r.exp = d.exp
	return r
}

// canonicalNumber validates s and returns its canonical text.
func canonicalNumber(s string) (string, string) {
	d, msg := parseDecimal(s)
	if msg != "" {
		return "", msg
	}
	return d.String(), ""
}

// compareNumbers compares two canonical numbers.
func compareNumbers(a, b string) int {
	x, _ := parseDecimal(a)
	y, _ := parseDecimal(b)
	return x.cmp(y)
}
