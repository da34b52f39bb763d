package lctools_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/tools/calc"
	"github.com/autogpt-go/agent/tools/lctools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/tools"
)

// fakeLC is a langchaingo tool that records its input and answers with out or err.
type fakeLC struct {
	name, desc string
	out        string
	err        error

	mu     sync.Mutex
	inputs []string
}

func (f *fakeLC) Name() string        { return f.name }
func (f *fakeLC) Description() string { return f.desc }
func (f *fakeLC) Call(_ context.Context, input string) (string, error) {
	f.mu.Lock()
	f.inputs = append(f.inputs, input)
	f.mu.Unlock()
	return f.out, f.err
}

var _ tools.Tool = (*fakeLC)(nil)

func TestSchemaMatchesLangchaingo(t *testing.T) {
	tool := lctools.FromLangchaingo(tools.Calculator{})
	assert.Equal(t, lctools.Schema, string(tool.Schema()))

	// The same value langchaingo's OpenAIFunctionsAgent.functions builds, encoded as its OpenAI
	// client encodes it.
	params := map[string]any{
		"properties": map[string]any{
			"__arg1": map[string]string{"title": "__arg1", "type": "string"},
		},
		"required": []string{"__arg1"},
		"type":     "object",
	}
	b, err := json.Marshal(params)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(tool.Schema()))

	// Schema returns a copy: changing it does not change the tool.
	s := tool.Schema()
	s[0] = 'X'
	assert.Equal(t, lctools.Schema, string(tool.Schema()))
}

// The recorded OpenAI traffic shipped in langchaingo's module carries these exact bytes.
func TestSchemaInRecordedTraffic(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tmc/langchaingo").Output()
	if err != nil {
		t.Skipf("cannot locate the langchaingo module: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "agents", "testdata", "TestExecutorWithOpenAIFunctionAgent.httprr")
	rec, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("recording not available: %v", err)
	}
	tool := lctools.FromLangchaingo(tools.Calculator{})
	desc, err := json.Marshal(tool.Description())
	require.NoError(t, err)
	want := `"function":{"name":"calculator","description":` + string(desc) + `,"parameters":` + string(tool.Schema()) + `}`
	assert.Contains(t, string(rec), want)
}

func TestCalculatorThroughBridge(t *testing.T) {
	tool := lctools.FromLangchaingo(tools.Calculator{})
	assert.Equal(t, "calculator", tool.Name())
	assert.Equal(t, tools.Calculator{}.Description(), tool.Description())

	ctx := context.Background()
	for _, args := range []string{
		`{"__arg1":"15 * 4"}`,
		`{"__arg1": "15 * 4"}`,
		"{\n  \"__arg1\": \"15 * 4\"\n}",
		`"15 * 4"`,                // a bare JSON string
		`{"expression":"15 * 4"}`, // one string field under another name
		`{"input":"15 * 4"}`,
	} {
		res, err := tool.Call(ctx, json.RawMessage(args))
		require.NoError(t, err, args)
		assert.Equal(t, agent.ToolResult{Content: "60"}, res, args)
	}

	// langchaingo's Calculator reports evaluation errors as output, not as an error.
	res, err := tool.Call(ctx, json.RawMessage(`{"__arg1":"1 +"}`))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.Content, "error from evaluator:"), res.Content)
}

func TestInputErrors(t *testing.T) {
	cases := map[string]string{
		``:                         `invalid arguments: field "__arg1": expected string: required field is missing`,
		`null`:                     `invalid arguments: field "__arg1": expected string: required field is missing`,
		`{}`:                       `invalid arguments: field "__arg1": expected string: required field is missing`,
		`{"a":"x","b":"y"}`:        `invalid arguments: field "__arg1": expected string: required field is missing`,
		`{"a":1}`:                  `invalid arguments: field "__arg1": expected string: required field is missing`,
		`{"__arg1":5}`:             `invalid arguments: field "__arg1": expected string, got number`,
		`{"__arg1":null}`:          `invalid arguments: field "__arg1": expected string, got null`,
		`[1]`:                      `invalid arguments: expected a JSON object {"__arg1": "..."}, got array`,
		`15 * 4`:                   `invalid arguments: not valid JSON`,
		`{"__arg1":"x"} {"a":"b"}`: `invalid arguments: not valid JSON`,
	}
	tool := lctools.FromLangchaingo(&fakeLC{name: "t", out: "unused"})
	for args, want := range cases {
		_, err := tool.Call(context.Background(), json.RawMessage(args))
		var ae *agent.ArgumentError
		require.ErrorAs(t, err, &ae, args)
		assert.Contains(t, err.Error(), want, args)
	}
}

func TestInputAndArguments(t *testing.T) {
	in, err := lctools.Input(json.RawMessage(`{"__arg1":"a \"quoted\" text"}`))
	require.NoError(t, err)
	assert.Equal(t, `a "quoted" text`, in)
	assert.JSONEq(t, `{"__arg1":"a \"quoted\" text"}`, string(lctools.Arguments(in)))
	// __arg1 wins over other fields.
	in, err = lctools.Input(json.RawMessage(`{"other":"no","__arg1":"yes"}`))
	require.NoError(t, err)
	assert.Equal(t, "yes", in)
}

func TestToolErrorBecomesError(t *testing.T) {
	boom := errors.New("search backend down")
	lc := &fakeLC{name: "search", desc: "Search the web.", err: boom}
	tool := lctools.FromLangchaingo(lc)
	_, err := tool.Call(context.Background(), json.RawMessage(`{"__arg1":"golang"}`))
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, []string{"golang"}, lc.inputs)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = lctools.FromLangchaingo(&fakeLC{name: "x", out: "y"}).Call(ctx, json.RawMessage(`{"__arg1":"z"}`))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWithName(t *testing.T) {
	lc := &fakeLC{name: "DuckDuckGo Search", desc: "Search.", out: "ok"}
	_, err := agent.New(agent.Config{Model: noModel{}, Tools: []agent.Tool{lctools.FromLangchaingo(lc)}})
	require.Error(t, err, "a name with a space is refused")

	tool := lctools.FromLangchaingo(lc).WithName("duckduckgo_search")
	assert.Equal(t, "duckduckgo_search", tool.Name())
	assert.Same(t, lc, tool.Langchaingo().(*fakeLC))
	_, err = agent.New(agent.Config{Model: noModel{}, Tools: []agent.Tool{tool}})
	require.NoError(t, err)
}

type noModel struct{}

func (noModel) Generate(context.Context, *llm.Request) (*llm.Response, error) {
	return nil, errors.New("unused")
}

// scripted is a model that answers with its responses in order.
type scripted struct {
	mu    sync.Mutex
	resps []*llm.Response
	reqs  []*llm.Request
}

func (s *scripted) Generate(_ context.Context, req *llm.Request) (*llm.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	if len(s.resps) == 0 {
		return nil, errors.New("script exhausted")
	}
	r := s.resps[0]
	s.resps = s.resps[1:]
	return r, nil
}

func callResp(id, name, args string) *llm.Response {
	return &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: id, Name: name, Arguments: args}}},
		FinishReason: llm.FinishToolCalls,
	}
}

func finalResp(text string) *llm.Response {
	return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: text}, FinishReason: llm.FinishStop}
}

// Through the agent loop: the schema is offered byte for byte, the calculator answers, and a
// langchaingo tool's error becomes an error result without ending the run.
func TestThroughAgent(t *testing.T) {
	failing := lctools.FromLangchaingo(&fakeLC{name: "search", desc: "Search.", err: errors.New("backend down")})
	m := &scripted{resps: []*llm.Response{
		callResp("call_1", "calculator", `{"__arg1": "15 * 4"}`),
		callResp("call_2", "search", `{"__arg1": "go 1.0 release"}`),
		finalResp("60"),
	}}
	a, err := agent.New(agent.Config{Model: m, Tools: []agent.Tool{lctools.FromLangchaingo(tools.Calculator{}), failing}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "what is 15 * 4?")
	require.NoError(t, err)
	assert.Equal(t, "60", res.Answer)
	require.Len(t, res.Steps, 3)
	require.Len(t, res.Steps[0].ToolCalls, 1)
	assert.Equal(t, agent.ToolResult{Content: "60"}, res.Steps[0].ToolCalls[0].Result)
	require.Len(t, res.Steps[1].ToolCalls, 1)
	assert.True(t, res.Steps[1].ToolCalls[0].Result.IsError)
	assert.Contains(t, res.Steps[1].ToolCalls[0].Result.Content, "backend down")

	require.NotEmpty(t, m.reqs)
	require.Len(t, m.reqs[0].Tools, 2)
	assert.Equal(t, lctools.Schema, string(m.reqs[0].Tools[0].Parameters))
	assert.Equal(t, tools.Calculator{}.Description(), m.reqs[0].Tools[0].Description)
}

func TestToLangchaingo(t *testing.T) {
	ctx := context.Background()
	lc := lctools.ToLangchaingo(calc.New(calc.Limits{}))
	assert.Equal(t, "calculator", lc.Name())
	assert.Equal(t, calc.Description, lc.Description(), "a single string argument needs no schema in the description")

	out, err := lc.Call(ctx, "15 * 4") // plain text: wrapped as {"expression": "15 * 4"}
	require.NoError(t, err)
	assert.Equal(t, "60", out)

	out, err = lc.Call(ctx, ` {"expression": "2^10"} `) // a JSON object: passed as the arguments
	require.NoError(t, err)
	assert.Equal(t, "1024", out)

	out, err = lc.Call(ctx, "1/0") // a tool error comes back as text
	require.NoError(t, err)
	assert.Equal(t, "error: division by zero at position 2", out)

	out, err = lc.Call(ctx, `{"expr": "1"}`) // invalid arguments too
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, lctools.ErrorPrefix+"invalid arguments"), out)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = lc.Call(cctx, "1+1")
	assert.ErrorIs(t, err, context.Canceled, "only ctx errors are returned as errors")
}

type pair struct {
	A int `json:"a" jsonschema:"first addend"`
	B int `json:"b" jsonschema:"second addend"`
}

func TestToLangchaingoObjectArguments(t *testing.T) {
	add := agent.NewTool("add", "Add two integers.", func(_ context.Context, p pair) (int, error) { return p.A + p.B, nil })
	lc := lctools.ToLangchaingo(add)
	assert.Equal(t, "Add two integers.\nInput: a JSON object matching this JSON Schema: "+string(add.Schema()), lc.Description())

	out, err := lc.Call(context.Background(), `{"a": 2, "b": 3}`)
	require.NoError(t, err)
	assert.Equal(t, "5", out)

	out, err = lc.Call(context.Background(), "2 + 3")
	require.NoError(t, err)
	assert.Equal(t, lctools.ErrorPrefix+"tool add takes a JSON object of arguments matching this JSON Schema: "+string(add.Schema()), out)
}

func TestToLangchaingoNoArguments(t *testing.T) {
	now := agent.NewTool("now", "The time.", func(context.Context, struct{}) (string, error) { return "noon", nil })
	lc := lctools.ToLangchaingo(now)
	assert.Equal(t, "The time.", lc.Description())
	out, err := lc.Call(context.Background(), "")
	require.NoError(t, err)
	assert.Equal(t, "noon", out)
}

type errTool struct{ res agent.ToolResult }

func (errTool) Name() string            { return "e" }
func (errTool) Description() string     { return "E." }
func (errTool) Schema() json.RawMessage { return nil }
func (e errTool) Call(context.Context, json.RawMessage) (agent.ToolResult, error) {
	return e.res, nil
}

func TestToLangchaingoErrorResult(t *testing.T) {
	lc := lctools.ToLangchaingo(errTool{res: agent.ToolResult{Content: "not allowed", IsError: true}})
	out, err := lc.Call(context.Background(), "{}")
	require.NoError(t, err)
	assert.Equal(t, "error: not allowed", out)
}

func TestRoundTrip(t *testing.T) {
	lc := lctools.ToLangchaingo(lctools.FromLangchaingo(tools.Calculator{}))
	assert.Equal(t, "calculator", lc.Name())
	assert.Equal(t, tools.Calculator{}.Description(), lc.Description())
	out, err := lc.Call(context.Background(), "15 * 4")
	require.NoError(t, err)
	assert.Equal(t, "60", out)
}

// The agent validates arguments against Schema before Call, so the lenient forms need the
// BeforeToolCall hook documented at Input.
func TestLenientFormsThroughAgent(t *testing.T) {
	script := func() *scripted {
		return &scripted{resps: []*llm.Response{
			callResp("call_1", "calculator", `{"expression": "15 * 4"}`),
			callResp("call_2", "calculator", `"2 * 4"`),
			finalResp("done"),
		}}
	}
	calcTool := lctools.FromLangchaingo(tools.Calculator{})

	a, err := agent.New(agent.Config{Model: script(), Tools: []agent.Tool{calcTool}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "go")
	require.NoError(t, err)
	assert.True(t, res.Steps[0].ToolCalls[0].Result.IsError, "without the hook, the agent refuses the renamed argument")
	assert.True(t, res.Steps[1].ToolCalls[0].Result.IsError)

	bridged := map[string]bool{calcTool.Name(): true}
	hook := func(_ context.Context, call llm.ToolCall) (agent.ToolVerdict, error) {
		if bridged[call.Name] {
			if in, err := lctools.Input(json.RawMessage(call.Arguments)); err == nil {
				return agent.ToolVerdict{Arguments: string(lctools.Arguments(in))}, nil
			}
		}
		return agent.ToolVerdict{}, nil
	}
	a, err = agent.New(agent.Config{Model: script(), Tools: []agent.Tool{calcTool}, Hooks: agent.Hooks{BeforeToolCall: hook}})
	require.NoError(t, err)
	res, err = a.Run(context.Background(), "go")
	require.NoError(t, err)
	assert.Equal(t, agent.ToolResult{Content: "60"}, res.Steps[0].ToolCalls[0].Result)
	assert.Equal(t, agent.ToolResult{Content: "8"}, res.Steps[1].ToolCalls[0].Result)
}
