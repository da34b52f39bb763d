// Package calc is a calculator tool for agents and the bounded arithmetic evaluator behind it.
//
// Eval parses and evaluates an expression with a small recursive-descent parser of our own, under
// Limits: input length, nesting depth and evaluation steps are capped and ctx is checked as it
// goes, so no expression a model writes can make it run long, recurse deeply or panic. New wraps
// Eval as the "calculator" tool.
//
// # Syntax
//
// Numbers are decimal, with an optional fraction and exponent: 42, 3.14, .5, 6., 1.5e3, 2E-4.
// Operators, from the loosest binding to the tightest:
//
//	a + b   a - b           addition, subtraction (left-associative)
//	a * b   a / b   a % b   multiplication, division, remainder (left-associative)
//	-a      +a              unary minus and plus
//	a ^ b   a ** b          power (right-associative: 2^3^2 is 2^9)
//
// so -2^2 is -4 (as in mathematics and Python) and 2^-1 is 0.5. % is the floating-point remainder
// with the sign of the dividend (Go's math.Mod, C's fmod): -7 % 3 is -1. Parentheses group. The
// Unicode signs × · ÷ − and π are accepted for * * / - and pi. Names are case-insensitive.
//
// Constants: pi, e. Functions (angles in radians): sqrt(x), abs(x), floor(x), ceil(x), round(x)
// and round(x, n) (n decimal places, -15 ≤ n ≤ 15; halves away from zero), min(x, ...),
// max(x, ...), exp(x), ln(x) (natural logarithm), log(x) (natural logarithm, as in Go, Python and
// C; log(x, b) is base b), log10(x), log2(x), pow(x, y), sin(x), cos(x), tan(x), asin(x), acos(x),
// atan(x).
//
// # Errors
//
// Every error but a ctx error is an *Error giving the position (1-based, in characters) where
// evaluation failed and wrapping one of ErrSyntax, ErrUnknownName, ErrDivisionByZero,
// ErrOverflow, ErrUndefined or ErrLimit. A result is always a finite number: an operation whose
// result would be infinite or NaN fails with ErrOverflow or ErrUndefined at that operation.
package calc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults for the zero values of Limits.
const (
	// DefaultMaxLength is the longest expression Eval accepts, in bytes.
	DefaultMaxLength = 1024
	// DefaultMaxDepth is the deepest nesting Eval accepts (see Limits.MaxDepth).
	DefaultMaxDepth = 64
	// DefaultMaxSteps is the most evaluation steps Eval takes (see Limits.MaxSteps).
	DefaultMaxSteps = 10_000
	// CheckEvery is how many evaluation steps Eval takes between two checks of ctx.
	CheckEvery = 64
)

// Limits bound one evaluation. Zero or negative fields mean the defaults.
type Limits struct {
	// MaxLength is the longest expression accepted, in bytes; default DefaultMaxLength (1024). The
	// expression is split into tokens before it is evaluated: memory use is proportional to it.
	MaxLength int
	// MaxDepth bounds nesting: each parenthesis or function call, each unary sign and each power
	// operator whose exponent is being evaluated adds one level; default DefaultMaxDepth (64).
	MaxDepth int
	// MaxSteps bounds the evaluation steps: one per number or constant, operator and function
	// call; default DefaultMaxSteps (10 000).
	MaxSteps int
}

func (l Limits) withDefaults() Limits {
	if l.MaxLength <= 0 {
		l.MaxLength = DefaultMaxLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	return l
}

// The kinds of evaluation error, wrapped by *Error (test with errors.Is).
var (
	// ErrSyntax: the expression is not well formed.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownName: a name is neither a known constant nor a known function.
	ErrUnknownName = errors.New("unknown name")
	// ErrDivisionByZero: a / or % with a zero divisor.
	ErrDivisionByZero = errors.New("division by zero")
	// ErrOverflow: a number or a result is infinite (too large for a float64, or such as 0^-1).
	ErrOverflow = errors.New("overflow")
	// ErrUndefined: a result is not a real number (NaN), such as sqrt(-1), ln(-1) or asin(2).
	ErrUndefined = errors.New("undefined result")
	// ErrLimit: the expression exceeds Limits (length, depth or steps).
	ErrLimit = errors.New("limit exceeded")
)

// Error is an evaluation error at a position of the expression.
type Error struct {
	// Pos is the 1-based position, in characters (runes), where evaluation failed; the length
	// plus one for the end of the expression; 0 when the error concerns the whole expression.
	Pos int
	// Err is the kind: ErrSyntax, ErrUnknownName, ErrDivisionByZero, ErrOverflow, ErrUndefined or
	// ErrLimit.
	Err error
	// Detail explains the error for the model; may be "".
	Detail string
}

// Error formats the error as "KIND at position N: DETAIL", for example
// `division by zero at position 7` or `syntax error at position 4: expected ")", found end of expression`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Pos > 0 {
		fmt.Fprintf(&b, " at position %d", e.Pos)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Eval evaluates expr (see the package documentation for the syntax) and returns its value, always
// a finite float64. It returns an *Error for a malformed expression, an unknown name, a division by
// zero, an infinite or NaN result or an exceeded limit, and ctx's error (wrapped) when ctx ends
// before evaluation does; ctx is checked first and then every CheckEvery steps.
func Eval(ctx context.Context, expr string, lim Limits) (float64, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("evaluation stopped: %w", err)
	}
	if len(expr) > lim.MaxLength {
		return 0, &Error{Err: ErrLimit, Detail: fmt.Sprintf("the expression is %d bytes long; the limit is %d bytes", len(expr), lim.MaxLength)}
	}
	p := &parser{ctx: ctx, src: expr, lim: lim}
	if err := p.lex(); err != nil {
		return 0, err
	}
	if p.toks[0].kind == tEOF {
		return 0, p.errAt(p.toks[0], ErrSyntax, "the expression is empty")
	}
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	if t := p.peek(); t.kind != tEOF {
		return 0, p.unexpected(t, "an operator or the end of the expression", true)
	}
	if v == 0 {
		v = 0 // no negative zero
	}
	return v, nil
}

// Format renders v compactly: the shortest decimal that reads back as v, without an exponent
// when 1e-6 ≤ |v| < 1e21 (the thresholds of encoding/json and ECMAScript's Number::toString), and
// in e-notation otherwise: 60, 0.3333333333333333, -2.5, 1e+21, 1.5e-7. Negative zero is "0".
// NaN and infinities, which Eval never returns, are "NaN", "+Inf" and "-Inf".
func Format(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case a >= 1e-6 && a < 1e21:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	if n := len(s); n >= 4 && s[n-4] == 'e' && s[n-2] == '0' {
		s = s[:n-2] + s[n-1:] // e-07 → e-7, as encoding/json does
	}
	return s
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tName
	tOp // + - * / % ^ ** ( ) ,
)

type token struct {
	kind tokKind
	text string // the operator (normalised: × is *), the name (lower case) or the number's text
	num  float64
	off  int // byte offset in src
}

type parser struct {
	ctx   context.Context
	src   string
	lim   Limits
	toks  []token
	i     int
	depth int
	steps int
}

// lex splits src into tokens, ending with tEOF.
func (p *parser) lex() error {
	s := p.src
	for off := 0; off < len(s); {
		r, size := utf8.DecodeRuneInString(s[off:])
		switch {
		case r == utf8.RuneError && size == 1:
			return p.errAtOff(off, ErrSyntax, "the expression is not valid UTF-8")
		case unicode.IsSpace(r):
			off += size
		case r >= '0' && r <= '9' || r == '.':
			t, err := p.lexNumber(off)
			if err != nil {
				return err
			}
			p.toks = append(p.toks, t)
			off += len(t.text)
		case r == '_' || unicode.IsLetter(r):
			end := off
			for end < len(s) {
				r, n := utf8.DecodeRuneInString(s[end:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				end += n
			}
			p.toks = append(p.toks, token{kind: tName, text: strings.ToLower(s[off:end]), off: off})
			off = end
		case r == '*' && strings.HasPrefix(s[off:], "**"):
			p.toks = append(p.toks, token{kind: tOp, text: "^", off: off})
			off += 2
		case strings.ContainsRune("+-*/%^(),", r):
			p.toks = append(p.toks, token{kind: tOp, text: string(r), off: off})
			off += size
		case r == '×' || r == '·':
			p.toks = append(p.toks, token{kind: tOp, text: "*", off: off})
			off += size
		case r == '÷':
			p.toks = append(p.toks, token{kind: tOp, text: "/", off: off})
			off += size
		case r == '−':
			p.toks = append(p.toks, token{kind: tOp, text: "-", off: off})
			off += size
		default:
			return p.errAtOff(off, ErrSyntax, fmt.Sprintf("unexpected character %q", r))
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, off: len(s)})
	return nil
}

// lexNumber reads the number starting at byte off: digits, an optional fraction, an optional
// exponent (only if digits follow it).
func (p *parser) lexNumber(off int) (token, error) {
	s := p.src
	digits := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	end := digits(off)
	mant := end - off
	if end < len(s) && s[end] == '.' {
		f := digits(end + 1)
		mant += f - end - 1
		end = f
	}
	if mant == 0 {
		return token{}, p.errAtOff(off, ErrSyntax, `a number needs digits: "." alone is not a number`)
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		i := end + 1
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if j := digits(i); j > i {
			end = j
		}
	}
	text := s[off:end]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return token{}, p.errAtOff(off, ErrSyntax, fmt.Sprintf("malformed number %q", text))
	}
	if math.IsInf(v, 0) {
		return token{}, p.errAtOff(off, ErrOverflow, fmt.Sprintf("the number %s is too large", text))
	}
	return token{kind: tNum, text: text, num: v, off: off}, nil // an underflow reads as 0
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isOp reports whether the next token is one of the operators ops.
func (p *parser) isOp(ops ...string) bool {
	t := p.peek()
	return t.kind == tOp && slices.Contains(ops, t.text)
}

// step counts one evaluation step at t and checks the step limit and, every CheckEvery steps, ctx.
func (p *parser) step(t token) error {
	p.steps++
	if p.steps > p.lim.MaxSteps {
		return p.errAt(t, ErrLimit, fmt.Sprintf("more than %d evaluation steps", p.lim.MaxSteps))
	}
	if p.steps%CheckEvery == 0 {
		if err := p.ctx.Err(); err != nil {
			return fmt.Errorf("evaluation stopped: %w", err)
		}
	}
	return nil
}

// enter adds one nesting level at t; leave removes it.
func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return p.errAt(t, ErrLimit, fmt.Sprintf("nested deeper than %d levels", p.lim.MaxDepth))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// expr := term (("+" | "-") term)*
func (p *parser) expr() (float64, error) {
	v, err := p.term()
	if err != nil {
		return 0, err
	}
	for p.isOp("+", "-") {
		op := p.next()
		r, err := p.term()
		if err != nil {
			return 0, err
		}
		if err := p.step(op); err != nil {
			return 0, err
		}
		if op.text == "+" {
			v += r
		} else {
			v -= r
		}
		if err := p.check(op, v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// term := unary (("*" | "/" | "%") unary)*
func (p *parser) term() (float64, error) {
	v, err := p.unary()
	if err != nil {
		return 0, err
	}
	for p.isOp("*", "/", "%") {
		op := p.next()
		r, err := p.unary()
		if err != nil {
			return 0, err
		}
		if err := p.step(op); err != nil {
			return 0, err
		}
		switch op.text {
		case "*":
			v *= r
		case "/":
			if r == 0 {
				return 0, p.errAt(op, ErrDivisionByZero, "")
			}
			v /= r
		case "%":
			if r == 0 {
				return 0, p.errAt(op, ErrDivisionByZero, "the right operand of % is zero")
			}
			v = math.Mod(v, r)
		}
		if err := p.check(op, v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// unary := ("-" | "+") unary | power
func (p *parser) unary() (float64, error) {
	if !p.isOp("-", "+") {
		return p.power()
	}
	op := p.next()
	if err := p.enter(op); err != nil {
		return 0, err
	}
	defer p.leave()
	v, err := p.unary()
	if err != nil {
		return 0, err
	}
	if err := p.step(op); err != nil {
		return 0, err
	}
	if op.text == "-" {
		v = -v
	}
	return v, nil
}

// power := primary ("^" unary)?   (right-associative through unary)
func (p *parser) power() (float64, error) {
	base, err := p.primary()
	if err != nil {
		return 0, err
	}
	if !p.isOp("^") {
		return base, nil
	}
	op := p.next()
	if err := p.enter(op); err != nil {
		return 0, err
	}
	defer p.leave()
	exp, err := p.unary()
	if err != nil {
		return 0, err
	}
	if err := p.step(op); err != nil {
		return 0, err
	}
	v := math.Pow(base, exp)
	if math.IsNaN(v) {
		return 0, p.errAt(op, ErrUndefined, fmt.Sprintf("%s^%s is not a real number", Format(base), Format(exp)))
	}
	return v, p.check(op, v)
}

// primary := number | constant | function "(" args ")" | "(" expr ")"
func (p *parser) primary() (float64, error) {
	t := p.next()
	switch {
	case t.kind == tNum:
		return t.num, p.step(t)
	case t.kind == tOp && t.text == "(":
		if err := p.enter(t); err != nil {
			return 0, err
		}
		defer p.leave()
		v, err := p.expr()
		if err != nil {
			return 0, err
		}
		if c := p.next(); c.kind != tOp || c.text != ")" {
			return 0, p.unexpected(c, `")" to close the "(" at position `+strconv.Itoa(p.col(t.off)), true)
		}
		return v, nil
	case t.kind == tName:
		return p.name(t)
	}
	return 0, p.unexpected(t, "a number, a name or \"(\"", false)
}

// name evaluates a constant or a function call whose name token is t.
func (p *parser) name(t token) (float64, error) {
	if c, ok := constants[t.text]; ok {
		if p.isOp("(") {
			return 0, p.errAt(t, ErrSyntax, fmt.Sprintf("%s is a constant, not a function", t.text))
		}
		return c, p.step(t)
	}
	f, ok := functions[t.text]
	if !ok {
		return 0, p.errAt(t, ErrUnknownName, fmt.Sprintf("%q; constants: %s; functions: %s", t.text, constantList, functionList))
	}
	if !p.isOp("(") {
		return 0, p.errAt(t, ErrSyntax, fmt.Sprintf("%s is a function: call it as %s", t.text, f.usage))
	}
	open := p.next()
	if err := p.enter(open); err != nil {
		return 0, err
	}
	defer p.leave()
	var args []float64
	if !p.isOp(")") {
		for {
			v, err := p.expr()
			if err != nil {
				return 0, err
			}
			args = append(args, v)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
	}
	if c := p.next(); c.kind != tOp || c.text != ")" {
		return 0, p.unexpected(c, `"," or ")" to close the call of `+t.text, true)
	}
	if len(args) < f.min || (f.max >= 0 && len(args) > f.max) {
		return 0, p.errAt(t, ErrSyntax, fmt.Sprintf("%s takes %s, got %d; call it as %s", t.text, f.arity(), len(args), f.usage))
	}
	if err := p.step(t); err != nil {
		return 0, err
	}
	v, err := f.fn(args)
	if err != nil {
		return 0, p.errAt(t, ErrUndefined, t.text+": "+err.Error())
	}
	if math.IsNaN(v) {
		return 0, p.errAt(t, ErrUndefined, fmt.Sprintf("%s is not a real number for %s", t.text, formatArgs(args)))
	}
	return v, p.check(t, v)
}

// check refuses a non-finite result of the operation at t.
func (p *parser) check(t token, v float64) error {
	switch {
	case math.IsNaN(v):
		return p.errAt(t, ErrUndefined, "the result is not a number")
	case math.IsInf(v, 0):
		return p.errAt(t, ErrOverflow, "the result is infinite or too large for a float64 (about 1.8e308)")
	}
	return nil
}

// col converts a byte offset into a 1-based character position.
func (p *parser) col(off int) int { return utf8.RuneCountInString(p.src[:off]) + 1 }

func (p *parser) errAtOff(off int, kind error, detail string) *Error {
	return &Error{Pos: p.col(off), Err: kind, Detail: detail}
}

func (p *parser) errAt(t token, kind error, detail string) *Error {
	return p.errAtOff(t.off, kind, detail)
}

// unexpected reports token t where want was expected. afterValue says a complete value precedes t,
// so a number, name or "(" there means a missing operator.
func (p *parser) unexpected(t token, want string, afterValue bool) *Error {
	var found string
	switch t.kind {
	case tEOF:
		found = "end of expression"
	case tNum:
		found = "number " + t.text
	case tName:
		found = fmt.Sprintf("name %q", t.text)
	default:
		found = fmt.Sprintf("%q", t.text)
	}
	detail := fmt.Sprintf("expected %s, found %s", want, found)
	if afterValue && (t.kind == tNum || t.kind == tName || (t.kind == tOp && t.text == "(")) {
		detail += " (write an operator such as * between two values)"
	}
	return p.errAt(t, ErrSyntax, detail)
}

func formatArgs(args []float64) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = Format(a)
	}
	return strings.Join(s, ", ")
}

var constants = map[string]float64{"pi": math.Pi, "π": math.Pi, "e": math.E}

const constantList = "pi, e"

type function struct {
	min, max int // max -1: variadic
	usage    string
	fn       func([]float64) (float64, error)
}

func (f function) arity() string {
	switch {
	case f.max < 0:
		return fmt.Sprintf("at least %d argument(s)", f.min)
	case f.min == f.max && f.min == 1:
		return "1 argument"
	case f.min == f.max:
		return fmt.Sprintf("%d arguments", f.min)
	}
	return fmt.Sprintf("%d to %d arguments", f.min, f.max)
}

func one(name string, g func(float64) float64) function {
	return function{min: 1, max: 1, usage: name + "(x)", fn: func(a []float64) (float64, error) { return g(a[0]), nil }}
}

var functions = map[string]function{
	"sqrt": {min: 1, max: 1, usage: "sqrt(x)", fn: func(a []float64) (float64, error) {
		if a[0] < 0 {
			return 0, fmt.Errorf("the square root of the negative number %s is not a real number", Format(a[0]))
		}
		return math.Sqrt(a[0]), nil
	}},
	"abs":   one("abs", math.Abs),
	"floor": one("floor", math.Floor),
	"ceil":  one("ceil", math.Ceil),
	"exp":   one("exp", math.Exp),
	"sin":   one("sin", math.Sin),
	"cos":   one("cos", math.Cos),
	"tan":   one("tan", math.Tan),
	"asin":  one("asin", math.Asin),
	"acos":  one("acos", math.Acos),
	"atan":  one("atan", math.Atan),
	"ln":    {min: 1, max: 1, usage: "ln(x)", fn: logBase(0)},
	"log10": {min: 1, max: 1, usage: "log10(x)", fn: logBase(10)},
	"log2":  {min: 1, max: 1, usage: "log2(x)", fn: logBase(2)},
	"log": {min: 1, max: 2, usage: "log(x) (natural logarithm) or log(x, base)", fn: func(a []float64) (float64, error) {
		if len(a) == 1 {
			return logBase(0)(a)
		}
		if a[1] <= 0 || a[1] == 1 {
			return 0, fmt.Errorf("the base must be positive and not 1, got %s", Format(a[1]))
		}
		return logBase(a[1])(a[:1])
	}},
	"pow": {min: 2, max: 2, usage: "pow(x, y)", fn: func(a []float64) (float64, error) { return math.Pow(a[0], a[1]), nil }},
	"min": {min: 1, max: -1, usage: "min(x, y, ...)", fn: func(a []float64) (float64, error) { return slices.Min(a), nil }},
	"max": {min: 1, max: -1, usage: "max(x, y, ...)", fn: func(a []float64) (float64, error) { return slices.Max(a), nil }},
	"round": {min: 1, max: 2, usage: "round(x) or round(x, decimals)", fn: func(a []float64) (float64, error) {
		if len(a) == 1 {
			return math.Round(a[0]), nil
		}
		n := a[1]
		if n != math.Trunc(n) || n < -15 || n > 15 {
			return 0, fmt.Errorf("decimals must be an integer from -15 to 15, got %s", Format(n))
		}
		scale := math.Pow(10, math.Abs(n))
		if n < 0 {
			return math.Round(a[0]/scale) * scale, nil
		}
		if r := math.Round(a[0]*scale) / scale; !math.IsInf(a[0]*scale, 0) {
			return r, nil
		}
		return a[0], nil // too large to have decimals
	}},
}

// logBase returns the logarithm in base b (natural for b == 0), refusing x ≤ 0.
func logBase(b float64) func([]float64) (float64, error) {
	return func(a []float64) (float64, error) {
		x := a[0]
		if x <= 0 {
			return 0, fmt.Errorf("the logarithm of %s is not a real number (it needs a positive number)", Format(x))
		}
		switch b {
		case 0:
			return math.Log(x), nil
		case 10:
			return math.Log10(x), nil
		case 2:
			return math.Log2(x), nil
		}
		return math.Log(x) / math.Log(b), nil
	}
}

var functionList = func() string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}()
