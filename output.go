package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/autogpt-go/agent/llm"
	"github.com/google/jsonschema-go/jsonschema"
)

// OutputToolName is the tool through which a typed run (RunTyped) delivers its final answer.
const OutputToolName = "final_answer"

// DefaultMaxOutputRetries is how many invalid final answers a typed run feeds back to the model
// before it stops with ErrOutputInvalid.
const DefaultMaxOutputRetries = 3

// ErrOutputInvalid is returned (wrapped) by RunTyped when the model's final answer still does not
// match the output schema after DefaultMaxOutputRetries corrections.
var ErrOutputInvalid = errors.New("agent: final answer does not match the output schema")

// outputSpec describes the typed final answer of a run.
type outputSpec struct {
	schema   json.RawMessage // of the output tool's arguments (an object)
	resolved *jsonschema.Resolved
	wrapped  bool   // T is not an object: the arguments are {"value": T}
	hint     string // what the model is told about the answer's form
}

var outputSpecs sync.Map // reflect.Type -> *outputSpec or error

// outputFor infers the output schema of T once per type.
func outputFor[T any]() (*outputSpec, error) {
	t := reflect.TypeFor[T]()
	if v, ok := outputSpecs.Load(t); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*outputSpec), nil
	}
	spec, err := buildOutputSpec(t)
	if err != nil {
		err = fmt.Errorf("agent: output type %s: %w", t, err)
		outputSpecs.Store(t, err)
		return nil, err
	}
	outputSpecs.Store(t, spec)
	return spec, nil
}

func buildOutputSpec(t reflect.Type) (*outputSpec, error) {
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	s, err := jsonschema.ForType(base, nil)
	if err != nil {
		return nil, err
	}
	spec := &outputSpec{}
	if s.Type != "object" {
		spec.wrapped = true
		s = &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{"value": s},
			Required: []string{"value"}, AdditionalProperties: &jsonschema.Schema{Not: &jsonschema.Schema{}}}
	}
	if spec.schema, err = json.Marshal(s); err != nil {
		return nil, err
	}
	if spec.resolved, err = s.Resolve(nil); err != nil {
		return nil, err
	}
	spec.hint = "a JSON object matching this JSON Schema: " + string(spec.schema)
	return spec, nil
}

// outputTool is the Tool of the typed final answer: the loop validates its arguments like any
// tool's, and a valid call ends the run.
type outputTool struct{ spec *outputSpec }

func (o outputTool) Name() string { return OutputToolName }
func (o outputTool) Description() string {
	return "Give your final answer. Call this exactly once, when the goal is reached, with the answer as the arguments."
}
func (o outputTool) Schema() json.RawMessage { return o.spec.schema }
func (o outputTool) Call(ctx context.Context, args json.RawMessage) (ToolResult, error) {
	return ToolResult{Content: "final answer received"}, nil
}

// RunTyped runs goal on a and decodes the final answer into T. The answer's JSON Schema is inferred
// from T (google/jsonschema-go; a non-object T travels as {"value": T}); the model delivers it by
// calling the final_answer tool, which is offered beside a's tools, or, on the last step, as JSON
// text. An answer that does not match the schema goes back to the model with the validation error
// (naming the field and the expected type), up to DefaultMaxOutputRetries times; then the run stops
// with ErrOutputInvalid. Other errors are Run's; the Result is returned in every case (partial when
// the run stopped early). a itself is not changed: RunTyped runs on a copy that knows the output.
func RunTyped[T any](ctx context.Context, a *Agent, goal string) (T, *Result, error) {
	var zero T
	spec, err := outputFor[T]()
	if err != nil {
		return zero, nil, err
	}
	if _, clash := a.tools[OutputToolName]; clash {
		return zero, nil, fmt.Errorf("agent: RunTyped needs the tool name %q, which a tool already has", OutputToolName)
	}
	b := *a
	b.output = spec
	b.tools = maps.Clone(a.tools)
	b.tools[OutputToolName] = &toolEntry{tool: outputTool{spec}, schema: spec.schema, resolved: spec.resolved}
	b.specs = append(slices.Clone(a.specs), llm.ToolSpec{Name: OutputToolName, Description: outputTool{}.Description(), Parameters: spec.schema})
	b.systemPrompt = strings.TrimSpace(a.systemPrompt + "\n\nWhen the goal is reached, give the final answer by calling the " +
		OutputToolName + " tool with it; do not answer in plain text.")
	res, err := b.Run(ctx, goal)
	if err != nil {
		return zero, res, err
	}
	var out T
	if err := decodeOutput(spec, res.Answer, &out); err != nil {
		return zero, res, fmt.Errorf("%w: %v", ErrOutputInvalid, err)
	}
	return out, res, nil
}

// decodeOutput decodes a validated answer (the final_answer arguments) into out.
func decodeOutput(spec *outputSpec, answer string, out any) error {
	data := []byte(answer)
	if spec.wrapped {
		var w struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(data, &w); err != nil {
			return err
		}
		data = w.Value
	}
	return json.Unmarshal(data, out)
}

// checkOutput validates a final answer given as text (JSON, possibly in a code fence) against the
// output schema and returns it as the final_answer arguments.
func (a *Agent) checkOutput(text string) (string, error) {
	s := strings.TrimSpace(text)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(s, "```")
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
	}
	args, err := a.validOutput(s)
	if err != nil && a.output.wrapped {
		// A non-object T: the bare value is fine too ({"value": ...} is what the schema says).
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			if b, merr := json.Marshal(map[string]any{"value": v}); merr == nil {
				if wargs, werr := a.validOutput(string(b)); werr == nil {
					return wargs, nil
				}
			}
		}
	}
	return args, err
}

func (a *Agent) validOutput(s string) (string, error) {
	args, v, err := parseArguments(json.RawMessage(s))
	if err == nil {
		err = validateArguments(a.output.resolved, a.output.schema, v)
	}
	if err != nil {
		return "", err
	}
	return string(args), nil
}

// outputFeedback is the user message that sends an invalid final answer back to the model.
func (a *Agent) outputFeedback(err error) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf(
		"Your final answer was not accepted: %v. Call the %s tool with %s.", err, OutputToolName, a.output.hint)}
}

func (a *Agent) outputHint() string {
	if a.output == nil {
		return ""
	}
	return a.output.hint
}

// typedOutcome decides whether a typed run's step ends it: a valid final_answer call, or a final
// text that is valid JSON for the schema. An invalid one is fed back to the model (a final_answer
// call's validation error is already its tool result; a text answer gets a user message) and
// counted; past DefaultMaxOutputRetries the run stops with ErrOutputInvalid.
func (a *Agent) typedOutcome(ctx context.Context, st *RunState, d *Decision, records []ToolCallRecord) (bool, string, error) {
	for _, r := range records {
		if r.Call.Name != OutputToolName {
			continue
		}
		if r.Executed && !r.Result.IsError {
			return true, r.Call.Arguments, nil
		}
		return false, "", a.countOutputError(st, errors.New(r.Result.Content))
	}
	if !d.Final {
		return false, "", nil
	}
	args, err := a.checkOutput(d.Answer)
	if err == nil {
		return true, args, nil
	}
	if err := st.mem.Add(ctx, a.outputFeedback(err)); err != nil {
		return false, "", fmt.Errorf("agent: memory: %w", err)
	}
	return false, "", a.countOutputError(st, err)
}

func (a *Agent) countOutputError(st *RunState, err error) error {
	st.OutputErrors++
	if st.OutputErrors > DefaultMaxOutputRetries {
		return fmt.Errorf("%w after %d attempts: %v", ErrOutputInvalid, st.OutputErrors, err)
	}
	return nil
}
