package calc_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/tools/calc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEval(t *testing.T) {
	cases := []struct {
		expr string
		want string // Format of the result
	}{
		{"15 * 4", "60"},
		{"1/3", "0.3333333333333333"},
		{"2/3", "0.6666666666666666"},
		{"1 + 2 * 3", "7"},
		{"(1 + 2) * 3", "9"},
		{"10 - 4 - 3", "3"},
		{"100 / 10 / 5", "2"},
		{"7 % 3", "1"},
		{"-7 % 3", "-1"},
		{"7.5 % 2", "1.5"},
		{"2^10", "1024"},
		{"2**10", "1024"},
		{"2^3^2", "512"},
		{"-2^2", "-4"},
		{"(-2)^2", "4"},
		{"2^-1", "0.5"},
		{"2*-3", "-6"},
		{"--3", "3"},
		{"+-+3", "-3"},
		{"-(1+2)", "-3"},
		{"3.14", "3.14"},
		{".5 + 5.", "5.5"},
		{"1.5e3", "1500"},
		{"2E-4", "0.0002"},
		{"1e+2", "100"},
		{"1e21", "1e+21"},
		{"1e20", "100000000000000000000"},
		{"1.5e-7", "1.5e-7"},
		{"1e-400", "0"},
		{"0.1 + 0.2", "0.30000000000000004"},
		{"-0", "0"},
		{"0 * -1", "0"},
		{"sqrt(16)", "4"},
		{"sqrt(2)", "1.4142135623730951"},
		{"abs(-3.5)", "3.5"},
		{"min(3, 1, 2)", "1"},
		{"max(3, 1, 2)", "3"},
		{"max(7)", "7"},
		{"round(2.5)", "3"},
		{"round(-2.5)", "-3"},
		{"round(3.14159, 2)", "3.14"},
		{"round(1234, -2)", "1200"},
		{"floor(-1.5)", "-2"},
		{"ceil(1.2)", "2"},
		{"ln(e)", "1"},
		{"log(e^2)", "2"},
		{"log(8, 2)", "3"},
		{"log10(1000)", "3"},
		{"log2(1024)", "10"},
		{"exp(0)", "1"},
		{"pow(2, 8)", "256"},
		{"sin(0)", "0"},
		{"cos(pi)", "-1"},
		{"tan(0)", "0"},
		{"atan(1) * 4", "3.141592653589793"},
		{"pi", "3.141592653589793"},
		{"e", "2.718281828459045"},
		{"PI * 2", "6.283185307179586"},
		{"Sqrt(9)", "3"},
		{"π", "3.141592653589793"},
		{"6 × 7", "42"},
		{"6 · 7", "42"},
		{"84 ÷ 2", "42"},
		{"50 − 8", "42"},
		{" \t(15 * 4)\n", "60"},
		{"((((((((1))))))))", "1"},
		{"sqrt(sqrt(16)) + max(1, min(2, 3))", "4"},
		{"1e308 * 1", "1e+308"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			v, err := calc.Eval(context.Background(), tc.expr, calc.Limits{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, calc.Format(v))
		})
	}
}

func TestEvalErrors(t *testing.T) {
	cases := []struct {
		expr string
		kind error
		pos  int
		msg  string // substring of the error text
	}{
		{"1 / 0", calc.ErrDivisionByZero, 3, "division by zero at position 3"},
		{"5 % (2 - 2)", calc.ErrDivisionByZero, 3, "division by zero at position 3"},
		{"1 / (1 - 1)", calc.ErrDivisionByZero, 3, ""},
		{"1e308 * 10", calc.ErrOverflow, 7, "overflow at position 7: the result is infinite"},
		{"1e308 + 1e308", calc.ErrOverflow, 7, ""},
		{"10^400", calc.ErrOverflow, 3, ""},
		{"0^-1", calc.ErrOverflow, 2, ""},
		{"exp(1000)", calc.ErrOverflow, 1, ""},
		{"1e999", calc.ErrOverflow, 1, "the number 1e999 is too large"},
		{"sqrt(-1)", calc.ErrUndefined, 1, "square root of the negative number -1"},
		{"ln(0)", calc.ErrUndefined, 1, "logarithm of 0"},
		{"log(-1)", calc.ErrUndefined, 1, ""},
		{"log(8, 1)", calc.ErrUndefined, 1, "base must be positive and not 1"},
		{"asin(2)", calc.ErrUndefined, 1, "asin is not a real number for 2"},
		{"(-8)^(1/3)", calc.ErrUndefined, 5, "-8^0.3333333333333333 is not a real number"},
		{"round(1, 2.5)", calc.ErrUndefined, 1, "decimals must be an integer"},
		{"foo + 1", calc.ErrUnknownName, 1, `unknown name at position 1: "foo"; constants: pi, e; functions: abs, acos`},
		{"2 * x", calc.ErrUnknownName, 5, ""},
		{"", calc.ErrSyntax, 1, "the expression is empty"},
		{"   ", calc.ErrSyntax, 4, "the expression is empty"},
		{"1 +", calc.ErrSyntax, 4, "expected a number, a name or \"(\", found end of expression"},
		{"(1 + 2", calc.ErrSyntax, 7, `expected ")" to close the "(" at position 1, found end of expression`},
		{"1 + 2)", calc.ErrSyntax, 6, `expected an operator or the end of the expression, found ")"`},
		{"2 3", calc.ErrSyntax, 3, "write an operator such as * between two values"},
		{"2pi", calc.ErrSyntax, 2, "write an operator such as * between two values"},
		{"2(3)", calc.ErrSyntax, 2, ""},
		{"1 ** * 2", calc.ErrSyntax, 6, ""},
		{"1 $ 2", calc.ErrSyntax, 3, `unexpected character '$'`},
		{"1,000", calc.ErrSyntax, 2, ""},
		{".", calc.ErrSyntax, 1, "a number needs digits"},
		{"1..2", calc.ErrSyntax, 3, ""},
		{"sqrt", calc.ErrSyntax, 1, "sqrt is a function: call it as sqrt(x)"},
		{"pi(2)", calc.ErrSyntax, 1, "pi is a constant, not a function"},
		{"sqrt(1, 2)", calc.ErrSyntax, 1, "sqrt takes 1 argument, got 2"},
		{"min()", calc.ErrSyntax, 1, "min takes at least 1 argument(s), got 0"},
		{"pow(1)", calc.ErrSyntax, 1, "pow takes 2 arguments, got 1"},
		{"max(1 2)", calc.ErrSyntax, 7, `expected "," or ")" to close the call of max, found number 2`},
		{"π × ", calc.ErrSyntax, 5, ""}, // positions count characters, not bytes
		{"\xff", calc.ErrSyntax, 1, "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := calc.Eval(context.Background(), tc.expr, calc.Limits{})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			var ce *calc.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.pos, ce.Pos, err.Error())
			if tc.msg != "" {
				assert.Contains(t, err.Error(), tc.msg)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()

	_, err := calc.Eval(ctx, strings.Repeat("1+", 600)+"1", calc.Limits{})
	assert.ErrorIs(t, err, calc.ErrLimit)
	assert.ErrorContains(t, err, "limit exceeded: the expression is 1201 bytes long; the limit is 1024 bytes")

	_, err = calc.Eval(ctx, "1+1", calc.Limits{MaxLength: 2})
	assert.ErrorIs(t, err, calc.ErrLimit)

	deep := strings.Repeat("(", 65) + "1" + strings.Repeat(")", 65)
	_, err = calc.Eval(ctx, deep, calc.Limits{})
	assert.ErrorIs(t, err, calc.ErrLimit)
	assert.ErrorContains(t, err, "limit exceeded at position 65: nested deeper than 64 levels")
	v, err := calc.Eval(ctx, strings.Repeat("(", 64)+"1"+strings.Repeat(")", 64), calc.Limits{})
	require.NoError(t, err)
	assert.Equal(t, 1.0, v)

	_, err = calc.Eval(ctx, strings.Repeat("-", 100)+"1", calc.Limits{})
	assert.ErrorIs(t, err, calc.ErrLimit)
	_, err = calc.Eval(ctx, strings.Repeat("1^", 100)+"1", calc.Limits{})
	assert.ErrorIs(t, err, calc.ErrLimit)
	_, err = calc.Eval(ctx, strings.Repeat("sqrt(", 100)+"1"+strings.Repeat(")", 100), calc.Limits{})
	assert.ErrorIs(t, err, calc.ErrLimit)

	// Deep nesting far beyond any stack concern is refused quickly, also with a huge length limit.
	huge := strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000)
	_, err = calc.Eval(ctx, huge, calc.Limits{MaxLength: 1_000_000})
	assert.ErrorIs(t, err, calc.ErrLimit)

	_, err = calc.Eval(ctx, strings.Repeat("1+", 100)+"1", calc.Limits{MaxSteps: 50})
	assert.ErrorIs(t, err, calc.ErrLimit)
	assert.ErrorContains(t, err, "more than 50 evaluation steps")
	v, err = calc.Eval(ctx, strings.Repeat("1+", 100)+"1", calc.Limits{MaxSteps: 201})
	require.NoError(t, err)
	assert.Equal(t, 101.0, v)
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := calc.Eval(ctx, "1+1", calc.Limits{})
	assert.ErrorIs(t, err, context.Canceled)

	// Cancellation is also noticed during a long evaluation (ctx is checked every CheckEvery
	// steps). The context below reports cancellation only after a number of checks.
	cc := &countingCtx{Context: context.Background(), cancelAfter: 3}
	long := strings.Repeat("1+", 10_000) + "1"
	_, err = calc.Eval(cc, long, calc.Limits{MaxLength: 1 << 20, MaxSteps: 1 << 20})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, cc.calls)
}

// countingCtx reports context.Canceled from its cancelAfter-th call of Err on.
type countingCtx struct {
	context.Context
	calls, cancelAfter int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.calls >= c.cancelAfter {
		return context.Canceled
	}
	return nil
}

func TestFormat(t *testing.T) {
	cases := map[float64]string{
		60: "60", -2.5: "-2.5", 1.0 / 3: "0.3333333333333333", 1e21: "1e+21", 1e-7: "1e-7",
		0.000001: "0.000001", 123456789012: "123456789012", math.Copysign(0, -1): "0",
		math.Inf(1): "+Inf", math.NaN(): "NaN",
	}
	for v, want := range cases {
		assert.Equal(t, want, calc.Format(v))
	}
}

func TestTool(t *testing.T) {
	tool := calc.New(calc.Limits{})
	assert.Equal(t, "calculator", tool.Name())
	assert.Equal(t, calc.Description, tool.Description())
	assert.JSONEq(t, `{"type":"object","properties":{"expression":{"type":"string",
		"description":"the arithmetic expression to evaluate, for example 15 * 4 or sqrt(2) / 2"}},
		"required":["expression"],"additionalProperties":false}`, string(tool.Schema()))

	res, err := tool.Call(context.Background(), []byte(`{"expression":"15 * 4"}`))
	require.NoError(t, err)
	assert.Equal(t, agent.ToolResult{Content: "60"}, res)

	_, err = tool.Call(context.Background(), []byte(`{"expression":"1/0"}`))
	assert.ErrorIs(t, err, calc.ErrDivisionByZero)
	assert.EqualError(t, err, "division by zero at position 2")

	_, err = tool.Call(context.Background(), []byte(`{"expr":"1"}`))
	var ae *agent.ArgumentError
	assert.ErrorAs(t, err, &ae)

	small := calc.New(calc.Limits{MaxLength: 3})
	_, err = small.Call(context.Background(), []byte(`{"expression":"1+1+1"}`))
	assert.ErrorIs(t, err, calc.ErrLimit)
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"15 * 4", "1/3", "-2^2", "2^3^2", "((1))", "sqrt(2)", "min(1,2,3)", "round(2.5, 1)",
		"1e308*10", "1/0", "5%0", "foo", "(", ")", "1..2", "1e", "1e+", ".e1", "--------1",
		"π×2÷3−1", "log(8, 2)", "max()", "pi(1)", "\xff", "2**-0.5", "(-8)^(1/3)", "9" + strings.Repeat("9", 400),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, lim := range []calc.Limits{{}, {MaxDepth: 3, MaxSteps: 10}} {
			v, err := calc.Eval(context.Background(), expr, lim)
			if err != nil {
				var ce *calc.Error
				if !errors.As(err, &ce) {
					t.Fatalf("Eval(%q): error %v is not a *calc.Error", expr, err)
				}
				if ce.Pos < 0 || ce.Pos > utf8.RuneCountInString(expr)+1 {
					t.Fatalf("Eval(%q): position %d out of range", expr, ce.Pos)
				}
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("Eval(%q) = %v, want a finite number", expr, v)
			}
			if math.Signbit(v) && v == 0 {
				t.Fatalf("Eval(%q) = -0", expr)
			}
		}
	})
}
