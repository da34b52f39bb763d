package calc

import (
	"context"

	agent "github.com/autogpt-go/agent"
)

// Name is the calculator tool's name.
const Name = "calculator"

// Description is the calculator tool's description, as the model sees it.
const Description = "Evaluate an arithmetic expression exactly as written and return its value as a number. " +
	"Supports + - * / % (remainder), ^ or ** (power), parentheses, unary minus, decimals and scientific notation (1.5e3); " +
	"constants pi and e; functions sqrt, abs, min, max, round(x) and round(x, decimals), floor, ceil, " +
	"exp, ln and log (natural logarithm; log(x, base) for another base), log10, log2, pow, " +
	"sin, cos, tan, asin, acos, atan (radians). Example: (15 * 4 + 2^10) / 3"

// Args are the calculator tool's arguments.
type Args struct {
	Expression string `json:"expression" jsonschema:"the arithmetic expression to evaluate, for example 15 * 4 or sqrt(2) / 2"`
}

// New returns the calculator tool: named Name, described by Description, taking Args
// ({"expression": "15 * 4"}) and returning the value formatted by Format ("60"). It evaluates with
// Eval under lim (zero fields mean the defaults); an evaluation error (an *Error naming the
// position) goes back to the model as a failed call. The tool is built with agent.NewTool, so its
// arguments are validated against the schema inferred from Args.
func New(lim Limits) agent.Tool {
	return agent.NewTool(Name, Description, func(ctx context.Context, in Args) (string, error) {
		v, err := Eval(ctx, in.Expression, lim)
		if err != nil {
			return "", err
		}
		return Format(v), nil
	})
}
