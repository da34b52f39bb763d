// Package lctools bridges langchaingo tools (github.com/tmc/langchaingo/tools.Tool: a name, a
// description and Call(ctx, input string) (string, error)) and agent.Tool, both ways.
//
// FromLangchaingo makes a langchaingo tool an agent.Tool whose schema is, byte for byte, the one
// langchaingo's OpenAI functions agent sends for every tool (Schema), so recorded OpenAI traffic of
// a langchaingo agent replays against an agent of ours. ToLangchaingo makes an agent.Tool usable by
// a langchaingo agent or chain.
//
// Importing this package compiles langchaingo's tools package, which holds tools.Calculator and with
// it the Starlark interpreter (go.starlark.net). langchaingo's Calculator evaluates any Starlark
// expression with no limit on time, memory or recursion: use it only to replay recordings made with
// it; give models the bounded calculator of tools/calc instead.
package lctools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	agent "github.com/autogpt-go/agent"
	"github.com/tmc/langchaingo/tools"
)

// ArgName is the name of the one argument langchaingo's OpenAI functions agent declares for every
// tool.
const ArgName = "__arg1"

// Schema is the JSON Schema of the arguments of every tool langchaingo's OpenAI functions agent
// offers, in the exact bytes it sends: langchaingo v0.1.14 agents/openai_functions_agent.go
// (OpenAIFunctionsAgent.functions) builds it as a map[string]any, which encoding/json writes with
// sorted keys, and recorded traffic (agents/testdata/TestExecutorWithOpenAIFunctionAgent.httprr)
// shows these bytes.
const Schema = `{"properties":{"__arg1":{"title":"__arg1","type":"string"}},"required":["__arg1"],"type":"object"}`

// Tool is a langchaingo tools.Tool seen as an agent.Tool. Build it with FromLangchaingo. It is safe
// for concurrent use if the wrapped tool is.
type Tool struct {
	lc   tools.Tool
	name string
}

var _ agent.Tool = (*Tool)(nil)

// FromLangchaingo returns t as an agent.Tool: same name and description (passed through unchanged),
// schema Schema, and a Call that hands the input string (see Input) to t.Call.
//
// Many langchaingo tools have names with spaces ("DuckDuckGo Search", "Web Scraper"), which
// agent.New refuses (names must match ^[a-zA-Z0-9_-]{1,64}$, OpenAI's rule); rename them with
// WithName.
func FromLangchaingo(t tools.Tool) *Tool {
	return &Tool{lc: t, name: t.Name()}
}

// WithName sets the name the model sees to name and returns t. Call it before handing t to
// agent.New.
func (t *Tool) WithName(name string) *Tool {
	t.name = name
	return t
}

// Langchaingo returns the wrapped langchaingo tool.
func (t *Tool) Langchaingo() tools.Tool { return t.lc }

// Name returns the tool's name: the langchaingo tool's, unless WithName changed it.
func (t *Tool) Name() string { return t.name }

// Description returns the langchaingo tool's description, unchanged.
func (t *Tool) Description() string { return t.lc.Description() }

// Schema returns a fresh copy of Schema.
func (t *Tool) Schema() json.RawMessage { return json.RawMessage(Schema) }

// Call extracts the input string from args with Input and passes it to the langchaingo tool. Its
// output becomes the result's Content unchanged. Call returns Input's *agent.ArgumentError for
// arguments without an input string, ctx's error if ctx has ended, and the langchaingo tool's
// error unchanged (the agent turns an error into a failed call the model sees). Note that some
// langchaingo tools report failures as ordinary output instead: tools.Calculator returns
// "error from evaluator: ..." with a nil error, which arrives as a successful result.
func (t *Tool) Call(ctx context.Context, args json.RawMessage) (agent.ToolResult, error) {
	input, err := Input(args)
	if err != nil {
		return agent.ToolResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return agent.ToolResult{}, err
	}
	out, err := t.lc.Call(ctx, input)
	if err != nil {
		return agent.ToolResult{}, err
	}
	return agent.ToolResult{Content: out}, nil
}

// Input returns the input string of a bridged tool's arguments args:
//
//   - {"__arg1": "15 * 4"} gives "15 * 4" (the form Schema asks for);
//   - a bare JSON string, "15 * 4", gives 15 * 4;
//   - an object without "__arg1" whose one field is a string, such as {"input": "15 * 4"} or
//     {"expression": "15 * 4"}, gives that string (models sometimes rename the argument).
//
// Anything else is an *agent.ArgumentError: invalid JSON, empty or null arguments, "__arg1" that
// is not a string, an object with no field or more than one, another JSON type.
//
// Through an agent, only the first form reaches Call: the agent validates the arguments against
// Schema before calling the tool. A host that wants the other forms accepted from the model can
// rewrite them in a BeforeToolCall hook, for the calls of bridged tools only (bridged holds their
// names):
//
//	if bridged[call.Name] {
//		if in, err := lctools.Input(json.RawMessage(call.Arguments)); err == nil {
//			return agent.ToolVerdict{Arguments: string(lctools.Arguments(in))}, nil
//		}
//	}
//	return agent.ToolVerdict{}, nil
func Input(args json.RawMessage) (string, error) {
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return "", &agent.ArgumentError{Field: ArgName, Expected: "string", Detail: "required field is missing"}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		detail := "not valid JSON"
		if err != nil {
			detail += " (" + strings.TrimPrefix(err.Error(), "json: ") + ")"
		}
		return "", &agent.ArgumentError{Detail: detail + `; send {"` + ArgName + `": "..."}`}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		if a, ok := x[ArgName]; ok {
			s, ok := a.(string)
			if !ok {
				return "", &agent.ArgumentError{Field: ArgName, Expected: "string", Got: jsonType(a)}
			}
			return s, nil
		}
		if len(x) == 1 {
			for _, a := range x {
				if s, ok := a.(string); ok {
					return s, nil
				}
			}
		}
		return "", &agent.ArgumentError{Field: ArgName, Expected: "string", Detail: "required field is missing"}
	}
	return "", &agent.ArgumentError{Expected: `a JSON object {"` + ArgName + `": "..."}`, Got: jsonType(v)}
}

// Arguments returns the canonical arguments for input: {"__arg1": input}.
func Arguments(input string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{ArgName: input}) // a string always encodes
	return b
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// ErrorPrefix starts the output of a langchaingo tool made by ToLangchaingo when the call failed.
const ErrorPrefix = "error: "

// ToLangchaingo returns t as a langchaingo tools.Tool with the same name.
//
// Its Call(ctx, input) builds t's arguments from the input string by this rule:
//
//  1. input that is a JSON object (after trimming white space) is passed as the arguments as is;
//  2. otherwise, if t's schema has exactly one property and its type is "string", the arguments are
//     {"<that property>": input}, with input verbatim (so calc.New's tool accepts "15 * 4" and a
//     tool made by FromLangchaingo gets its __arg1 back);
//  3. otherwise, if t's schema has no properties (a tool without arguments) and input is blank, the
//     arguments are {};
//  4. anything else fails.
//
// A consequence of rule 1: a string argument whose value is itself the text of a JSON object must
// be sent wrapped, as {"<property>": "{...}"}.
//
// langchaingo's executor ends the whole run when a tool returns an error, so failures come back as
// output the model can read and correct, with a nil error: ErrorPrefix followed by the error text,
// for an argument the rule cannot build, an error t returns, or a result with IsError set. Only a
// ctx error (ctx ended, and t's error wraps context.Canceled or context.DeadlineExceeded) is
// returned as an error. t's own Call validates the arguments if it does so (tools built by
// agent.NewTool do); ToLangchaingo does not.
//
// Its Description is t's, followed, when rule 2 does not apply and t takes arguments, by a line
// giving t's schema, since a langchaingo agent shows the model only the description:
// "Input: a JSON object matching this JSON Schema: {...}".
func ToLangchaingo(t agent.Tool) tools.Tool {
	lt := &lcTool{t: t, schema: t.Schema()}
	lt.prop, lt.noArgs = inspectSchema(lt.schema)
	return lt
}

type lcTool struct {
	t      agent.Tool
	schema json.RawMessage
	prop   string // the single string property, or ""
	noArgs bool   // the schema has no properties
}

// inspectSchema returns the name of the schema's single string property, if it has exactly one
// property and that is a string, and whether it has no properties at all.
func inspectSchema(raw json.RawMessage) (prop string, noArgs bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", true
	}
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	if len(s.Properties) == 0 {
		return "", true
	}
	if len(s.Properties) == 1 {
		for name, p := range s.Properties {
			if p.Type == "string" {
				return name, false
			}
		}
	}
	return "", false
}

func (l *lcTool) Name() string { return l.t.Name() }

func (l *lcTool) Description() string {
	d := l.t.Description()
	if l.prop == "" && !l.noArgs {
		d += "\nInput: a JSON object matching this JSON Schema: " + string(l.schema)
	}
	return d
}

func (l *lcTool) Call(ctx context.Context, input string) (string, error) {
	var args json.RawMessage
	trimmed := strings.TrimSpace(input)
	switch {
	case isJSONObject(trimmed):
		args = json.RawMessage(trimmed)
	case l.prop != "":
		args, _ = json.Marshal(map[string]string{l.prop: input}) // a string always encodes
	case l.noArgs && trimmed == "":
		args = json.RawMessage("{}")
	default:
		return ErrorPrefix + fmt.Sprintf("tool %s takes a JSON object of arguments matching this JSON Schema: %s", l.t.Name(), l.schema), nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	res, err := l.t.Call(ctx, args)
	if err != nil {
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return "", err
		}
		return ErrorPrefix + err.Error(), nil
	}
	if res.IsError {
		return ErrorPrefix + res.Content, nil
	}
	return res.Content, nil
}

// isJSONObject reports whether s is exactly one JSON object.
func isJSONObject(s string) bool {
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}
