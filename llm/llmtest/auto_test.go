package llmtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

var (
	weatherSpec = llm.ToolSpec{Name: "weather", Description: "Current weather", Parameters: json.RawMessage(
		`{"type":"object","properties":{"city":{"type":"string","minLength":2},"unit":{"enum":["C","F"]}},"required":["city","unit"],"additionalProperties":false}`)}
	clockSpec = llm.ToolSpec{Name: "clock", Description: "The time"} // no parameters
	sumSpec   = llm.ToolSpec{Name: "sum", Parameters: json.RawMessage(
		`{"type":"object","properties":{"xs":{"type":"array","items":{"type":"integer","minimum":0,"maximum":9},"minItems":1}},"required":["xs"]}`)}
)

func toolRequest(text string, tools ...llm.ToolSpec) *llm.Request {
	return &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: text}}, Tools: tools}
}

// answer appends resp's message and a result per call, as an agent would.
func answer(req *llm.Request, resp *llm.Response, result func(c llm.ToolCall) (string, bool)) *llm.Request {
	next := *req
	next.Messages = append(append([]llm.Message(nil), req.Messages...), resp.Message)
	for _, c := range resp.Message.ToolCalls {
		content, isErr := result(c)
		next.Messages = append(next.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: content, IsError: isErr})
	}
	return &next
}

func TestAutoCallsEveryToolThenSummarises(t *testing.T) {
	ctx := context.Background()
	auto := llmtest.NewAuto()
	req := toolRequest("go", weatherSpec, clockSpec, sumSpec)
	resp, err := auto.Generate(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
	assert.Equal(t, llm.RoleAssistant, resp.Message.Role)
	assert.Empty(t, resp.Message.Content)
	calls := resp.Message.ToolCalls
	require.Len(t, calls, 3)
	for i, want := range []llm.ToolSpec{weatherSpec, clockSpec, sumSpec} {
		assert.Equal(t, fmt.Sprintf("auto_%d", i+1), calls[i].ID)
		assert.Equal(t, want.Name, calls[i].Name)
		args, err := llmtest.GenerateArguments(want.Parameters, llmtest.DefaultAutoSeed)
		require.NoError(t, err)
		assert.Equal(t, string(args), calls[i].Arguments, "arguments are GenerateArguments(schema, seed)")
		if want.Parameters != nil {
			validate(t, resolve(t, string(want.Parameters)), json.RawMessage(calls[i].Arguments))
		}
	}
	assert.Equal(t, "{}", calls[1].Arguments)
	assert.Zero(t, resp.Usage)

	long := strings.Repeat("word ", 40)
	next := answer(req, resp, func(c llm.ToolCall) (string, bool) {
		switch c.Name {
		case "weather":
			return "sunny,\n21 degrees", false
		case "clock":
			return long, false
		}
		return "bad input", true
	})
	resp, err = auto.Generate(ctx, next)
	require.NoError(t, err)
	assert.Equal(t, llm.FinishStop, resp.FinishReason)
	assert.Empty(t, resp.Message.ToolCalls)
	lines := strings.Split(resp.Message.Content, "\n")
	require.Len(t, lines, 3, resp.Message.Content)
	assert.Equal(t, "weather: sunny, 21 degrees", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "clock: word word"), lines[1])
	assert.True(t, strings.HasSuffix(lines[1], "..."), "long results are shortened: %s", lines[1])
	assert.Less(t, len(lines[1]), 100)
	assert.Equal(t, "sum (error): bad input", lines[2])

	assert.Equal(t, 2, auto.Calls())
	reqs := auto.Requests()
	require.Len(t, reqs, 2)
	assert.Len(t, reqs[1].Messages, 5)
	reqs[0].Messages[0].Content = "changed"
	assert.Equal(t, "go", auto.Requests()[0].Messages[0].Content, "Requests returns copies")

	// A second round numbers calls on.
	resp, err = auto.Generate(ctx, toolRequest("again", clockSpec))
	require.NoError(t, err)
	assert.Equal(t, "auto_4", resp.Message.ToolCalls[0].ID)
}

func TestAutoTextAnswers(t *testing.T) {
	ctx := context.Background()
	resp, err := llmtest.NewAuto().Generate(ctx, toolRequest("hi"))
	require.NoError(t, err)
	assert.Equal(t, llmtest.AutoNoToolsAnswer, resp.Message.Content)
	assert.Equal(t, llm.FinishStop, resp.FinishReason)

	// Tool choice "none" calls nothing; a named choice calls only that tool.
	req := toolRequest("hi", weatherSpec, clockSpec)
	req.ToolChoice = llm.ToolChoiceNone
	resp, err = llmtest.NewAuto().Generate(ctx, req)
	require.NoError(t, err)
	assert.Empty(t, resp.Message.ToolCalls)
	req.ToolChoice = "clock"
	resp, err = llmtest.NewAuto().Generate(ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.Message.ToolCalls, 1)
	assert.Equal(t, "clock", resp.Message.ToolCalls[0].Name)

	// WithTools selects; WithAnswer writes the text.
	var got []llm.Message
	auto := llmtest.NewAuto(llmtest.WithTools("weather", "not-offered"), llmtest.WithAnswer(func(results []llm.Message) string {
		got = results
		return fmt.Sprintf("%d results", len(results))
	}))
	req = toolRequest("hi", weatherSpec, clockSpec)
	resp, err = auto.Generate(ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.Message.ToolCalls, 1)
	assert.Equal(t, "weather", resp.Message.ToolCalls[0].Name)
	resp, err = auto.Generate(ctx, answer(req, resp, func(llm.ToolCall) (string, bool) { return "ok", false }))
	require.NoError(t, err)
	assert.Equal(t, "1 results", resp.Message.Content)
	require.Len(t, got, 1)
	assert.Equal(t, "ok", got[0].Content)
	resp, err = auto.Generate(ctx, toolRequest("hi", clockSpec))
	require.NoError(t, err)
	assert.Equal(t, "0 results", resp.Message.Content)

	// Tool results for calls Auto did not make (here a Script's) start a new round of calls.
	req = toolRequest("hi", clockSpec)
	req.Messages = append(req.Messages,
		llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "clock", Arguments: "{}"}}},
		llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", Content: "noon"})
	resp, err = llmtest.NewAuto().Generate(ctx, req)
	require.NoError(t, err)
	assert.Len(t, resp.Message.ToolCalls, 1)
}

func TestAutoSeeds(t *testing.T) {
	ctx := context.Background()
	args := func(seed int64) string {
		resp, err := llmtest.NewAuto(llmtest.WithSeed(seed)).Generate(ctx, toolRequest("x", sumSpec))
		require.NoError(t, err)
		return resp.Message.ToolCalls[0].Arguments
	}
	assert.Equal(t, args(1), args(1))
	assert.Equal(t, args(llmtest.DefaultAutoSeed), args(1))
	seen := map[string]bool{}
	for seed := range int64(10) {
		seen[args(seed)] = true
	}
	assert.Greater(t, len(seen), 3)
}

func TestAutoErrors(t *testing.T) {
	auto := llmtest.NewAuto()
	_, err := auto.Generate(context.Background(), nil)
	assert.EqualError(t, err, "llmtest: Auto.Generate: nil request")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = auto.Generate(ctx, toolRequest("x"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, auto.Calls(), "a call with ctx done is not recorded")

	bad := llm.ToolSpec{Name: "bad", Parameters: json.RawMessage(`{"properties":{"n":{"type":"integer","minimum":3,"maximum":1}},"required":["n"]}`)}
	_, err = auto.Generate(context.Background(), toolRequest("x", clockSpec, bad))
	assert.ErrorIs(t, err, llmtest.ErrUnsatisfiable)
	assert.EqualError(t, err, `llmtest: Auto: arguments of tool "bad": llmtest: schema at #/properties/n: minimum 3 is not below maximum 1`)
}

func TestAutoStream(t *testing.T) {
	ctx := context.Background()
	req := toolRequest("go", weatherSpec, sumSpec)
	want, err := llmtest.NewAuto().Generate(ctx, req)
	require.NoError(t, err)
	var final *llm.Response
	args := map[int]string{}
	for c, err := range llmtest.NewAuto().Stream(ctx, req) {
		require.NoError(t, err)
		if c.ToolCall != nil {
			args[c.ToolCall.Index] += c.ToolCall.Arguments
		}
		if c.Response != nil {
			final = c.Response
		}
	}
	require.NotNil(t, final)
	assert.Equal(t, want, final)
	assert.Equal(t, want.Message.ToolCalls[0].Arguments, args[0])
	assert.Equal(t, want.Message.ToolCalls[1].Arguments, args[1])
}

func TestAutoConcurrent(t *testing.T) {
	auto := llmtest.NewAuto()
	var wg sync.WaitGroup
	ids := make(chan string, 40)
	for range 20 {
		wg.Go(func() {
			resp, err := auto.Generate(context.Background(), toolRequest("x", clockSpec, sumSpec))
			assert.NoError(t, err)
			for _, c := range resp.Message.ToolCalls {
				ids <- c.ID
			}
			_ = auto.Requests()
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		assert.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
	assert.Len(t, seen, 40)
	assert.Equal(t, 20, auto.Calls())
}

// Auto drives a real agent loop: every tool is called with arguments that pass the agent's own
// schema validation, and the final answer carries each tool's result.
func TestAutoAgentLoop(t *testing.T) {
	type WeatherIn struct {
		City string `json:"city" jsonschema:"the city"`
		Days int    `json:"days,omitempty"`
	}
	type Line struct {
		SKU string  `json:"sku"`
		Qty int     `json:"qty"`
		Net float64 `json:"net,omitempty"`
	}
	type OrderIn struct {
		Lines    []Line `json:"lines"`
		Priority bool   `json:"priority,omitempty"`
	}
	type NoArgs struct{}
	var mu sync.Mutex
	called := map[string]bool{}
	mark := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		called[name] = true
	}
	weather := agent.NewTool("get_weather", "Weather for a city", func(ctx context.Context, in WeatherIn) (string, error) {
		mark("get_weather")
		return "weather in " + in.City + ": sunny", nil
	})
	order := agent.NewTool("place_order", "Place an order", func(ctx context.Context, in OrderIn) (map[string]any, error) {
		mark("place_order")
		return map[string]any{"order_id": "ord_42", "lines": len(in.Lines)}, nil
	})
	strict := agent.NewTool("set_level", "Set a level", func(ctx context.Context, in struct {
		Level int `json:"level"`
	}) (string, error) {
		mark("set_level")
		return fmt.Sprintf("level set to %d", in.Level), nil
	}).WithSchema(json.RawMessage(`{"type":"object","properties":{"level":{"type":"integer","minimum":3,"maximum":7,"multipleOf":2}},"required":["level"],"additionalProperties":false}`))
	fail := agent.NewTool("broken", "Always fails", func(ctx context.Context, in NoArgs) (string, error) {
		mark("broken")
		return "", errors.New("disk full")
	})

	auto := llmtest.NewAuto()
	rec := llmtest.Capture(auto)
	a, err := agent.New(agent.Config{Model: rec, Tools: []agent.Tool{weather, order, strict, fail}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "Do everything once.")
	require.NoError(t, err)
	require.True(t, res.Done)
	assert.Len(t, called, 4, "every tool ran: %v", called)
	t.Logf("answer:\n%s", res.Answer)
	assert.Contains(t, res.Answer, "get_weather: weather in ")
	assert.Contains(t, res.Answer, `place_order: {"lines":`)
	assert.Contains(t, res.Answer, `"order_id":"ord_42"`)
	assert.Regexp(t, `set_level: level set to [46]`, res.Answer)
	assert.Contains(t, res.Answer, "broken (error): ")
	assert.Contains(t, res.Answer, "disk full")

	require.Equal(t, 2, rec.Len())
	first := rec.Requests()[0]
	assert.ElementsMatch(t, []string{"get_weather", "place_order", "set_level", "broken"}, llmtest.ToolNames(first))
	assert.Equal(t, "Do everything once.", llmtest.LastUserText(first))
	assert.Len(t, llmtest.ToolResults(rec.Last(t)), 4)
	for _, m := range llmtest.ToolResults(rec.Last(t)) {
		assert.True(t, strings.HasPrefix(m.ToolCallID, "auto_"), m.ToolCallID)
	}
}
