package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

func TestMain(m *testing.M) {
	// No goroutine of ours may outlive the tests; abandoned tools are released by their tests.
	goleak.VerifyTestMain(m)
}

type echoArgs struct {
	Text string `json:"text" jsonschema:"the text to echo"`
}

func echoTool() agent.Tool {
	return agent.NewTool("echo", "Echoes text.", func(ctx context.Context, in echoArgs) (string, error) {
		return "echo: " + in.Text, nil
	})
}

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

func addTool() agent.Tool {
	return agent.NewTool("add", "Adds two integers.", func(ctx context.Context, in addArgs) (int, error) {
		return in.A + in.B, nil
	})
}

type noArgs struct{}

// assertPaired checks the invariant every provider enforces: each assistant tool call is answered
// by exactly one tool message, right after it, before anything else.
func assertPaired(t *testing.T, msgs []llm.Message) {
	t.Helper()
	for i, m := range msgs {
		if m.Role != llm.RoleAssistant || len(m.ToolCalls) == 0 {
			continue
		}
		require.GreaterOrEqual(t, len(msgs), i+1+len(m.ToolCalls), "tool results missing after message %d", i)
		for k, c := range m.ToolCalls {
			r := msgs[i+1+k]
			require.Equal(t, llm.RoleTool, r.Role, "message %d should be the result of %s", i+1+k, c.ID)
			require.Equal(t, c.ID, r.ToolCallID, "results must come in call order")
		}
		if j := i + 1 + len(m.ToolCalls); j < len(msgs) {
			require.NotEqual(t, llm.RoleTool, msgs[j].Role, "extra tool message at %d", j)
		}
	}
	seen := map[string]int{}
	for _, m := range msgs {
		if m.Role == llm.RoleTool {
			seen[m.ToolCallID]++
		}
	}
	for id, n := range seen {
		require.Equal(t, 1, n, "tool call %s answered %d times", id, n)
	}
}

func toolMessages(msgs []llm.Message) []llm.Message {
	var out []llm.Message
	for _, m := range msgs {
		if m.Role == llm.RoleTool {
			out = append(out, m)
		}
	}
	return out
}

func newAgent(t *testing.T, cfg agent.Config) *agent.Agent {
	t.Helper()
	a, err := agent.New(cfg)
	require.NoError(t, err)
	return a
}

func TestRunCallsToolThenAnswers(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a":2,"b":3}`)).WithUsage(50, 10),
		llmtest.Text("2 + 3 = 5").WithUsage(70, 5),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{addTool()}})
	res, err := a.Run(context.Background(), "What is 2 + 3?")
	require.NoError(t, err)
	model.AssertComplete(t)

	assert.True(t, res.Done)
	assert.Equal(t, "2 + 3 = 5", res.Answer)
	require.Len(t, res.Steps, 2)
	assert.Equal(t, llm.Usage{InputTokens: 120, OutputTokens: 15}, res.Usage)
	assert.Equal(t, llm.Usage{InputTokens: 50, OutputTokens: 10}, res.Steps[0].Usage)
	require.Len(t, res.Steps[0].ToolCalls, 1)
	assert.Equal(t, "5", res.Steps[0].ToolCalls[0].Result.Content)

	reqs := model.Requests()
	require.Len(t, reqs, 2)
	first := reqs[0]
	require.Len(t, first.Messages, 2)
	assert.Equal(t, llm.RoleSystem, first.Messages[0].Role)
	assert.Equal(t, agent.DefaultSystemPrompt, first.Messages[0].Content)
	assert.Equal(t, llm.Message{Role: llm.RoleUser, Content: "What is 2 + 3?"}, first.Messages[1])
	require.Len(t, first.Tools, 1)
	assert.Equal(t, "add", first.Tools[0].Name)
	assert.JSONEq(t, `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}`,
		string(first.Tools[0].Parameters))

	second := reqs[1].Messages
	assertPaired(t, second)
	tm := toolMessages(second)
	require.Len(t, tm, 1)
	assert.Equal(t, "5", tm[0].Content)
	assert.Equal(t, "add", tm[0].Name)
	assert.False(t, tm[0].IsError)
}

func TestEveryCallGetsExactlyOneResult(t *testing.T) {
	var ran atomic.Int32
	panicky := agent.NewTool("boom", "Panics.", func(ctx context.Context, in noArgs) (string, error) {
		ran.Add(1)
		panic("kaboom")
	})
	failing := agent.NewTool("fail", "Fails.", func(ctx context.Context, in noArgs) (string, error) {
		ran.Add(1)
		return "", errors.New("disk on fire")
	})
	model := llmtest.NewScript(
		llmtest.Calls(
			llmtest.Call("add", `{"a":1,"b":2}`),
			llmtest.Call("nope", `{}`),
			llmtest.Call("add", `{"a":"one","b":2}`),
			llmtest.Call("boom", ``),
			llmtest.Call("fail", `null`),
			llmtest.Call("add", `{"a":1,`),
			llmtest.Call("add", `[1,2]`),
			llmtest.Call("add", `{"b":2}`),
			llmtest.Call("add", `{"a":1,"b":2,"c":3}`),
		),
		llmtest.Text("done"),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{addTool(), panicky, failing}})
	res, err := a.Run(context.Background(), "goal")
	require.NoError(t, err, "tool failures never abort the run")
	assert.Equal(t, "done", res.Answer)
	assert.Equal(t, int32(2), ran.Load())

	msgs := model.Requests()[1].Messages
	assertPaired(t, msgs)
	tm := toolMessages(msgs)
	require.Len(t, tm, 9)
	want := []struct {
		isErr    bool
		contains []string
	}{
		{false, []string{"3"}},
		{true, []string{`unknown tool "nope"`, "add, boom, fail"}},
		{true, []string{`field "a"`, "expected integer", "got string"}},
		{true, []string{"tool panicked: kaboom"}},
		{true, []string{"disk on fire"}},
		{true, []string{"not valid JSON"}},
		{true, []string{"expected a JSON object", "got array"}},
		{true, []string{`field "a"`, "required field is missing", "expected integer"}},
		{true, []string{`field "c"`, "unknown field", "allowed fields: a, b"}},
	}
	for i, w := range want {
		assert.Equal(t, w.isErr, tm[i].IsError, "result %d: %s", i, tm[i].Content)
		for _, s := range w.contains {
			assert.Contains(t, tm[i].Content, s, "result %d", i)
		}
	}
	rec := res.Steps[0].ToolCalls
	assert.True(t, rec[0].Executed)
	assert.False(t, rec[1].Executed, "unknown tool never runs")
	assert.False(t, rec[2].Executed, "invalid arguments never reach the tool")
	assert.True(t, rec[3].Executed)
}

func TestEmptyAndNullArgumentsMeanEmptyObject(t *testing.T) {
	var got []string
	var mu sync.Mutex
	raw := rawTool{name: "ping", schema: `{"type":"object","properties":{}}`, fn: func(args json.RawMessage) (agent.ToolResult, error) {
		mu.Lock()
		got = append(got, string(args))
		mu.Unlock()
		return agent.ToolResult{Content: "pong"}, nil
	}}
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("ping", ""), llmtest.Call("ping", "  \n\t"), llmtest.Call("ping", "null"), llmtest.Call("ping", " null ")),
		llmtest.Text("ok"),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{raw}, MaxParallelTools: 1, LoopWarnAfter: -1})
	_, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, []string{"{}", "{}", "{}", "{}"}, got)
	for _, m := range toolMessages(model.Requests()[1].Messages) {
		assert.Equal(t, "pong", m.Content)
		assert.False(t, m.IsError)
	}
}

// rawTool is a Tool with a hand-written schema.
type rawTool struct {
	name, schema string
	fn           func(json.RawMessage) (agent.ToolResult, error)
}

func (r rawTool) Name() string            { return r.name }
func (r rawTool) Description() string     { return "raw tool" }
func (r rawTool) Schema() json.RawMessage { return json.RawMessage(r.schema) }
func (r rawTool) Call(ctx context.Context, args json.RawMessage) (agent.ToolResult, error) {
	return r.fn(args)
}

func TestHandWrittenSchemaIsValidated(t *testing.T) {
	called := false
	tool := rawTool{name: "lookup", schema: `{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Rome"]},"days":{"type":"integer","minimum":1}},"required":["city"]}`,
		fn: func(json.RawMessage) (agent.ToolResult, error) {
			called = true
			return agent.ToolResult{Content: "sunny"}, nil
		}}
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("lookup", `{"city":"Oslo"}`), llmtest.Call("lookup", `{"city":"Rome","days":0}`), llmtest.Call("lookup", `{"city":7}`)),
		llmtest.Text("ok"),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{tool}})
	_, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.False(t, called)
	tm := toolMessages(model.Requests()[1].Messages)
	require.Len(t, tm, 3)
	assert.Contains(t, tm[0].Content, `field "city": expected one of`)
	assert.Contains(t, tm[1].Content, `field "days"`)
	assert.Contains(t, tm[1].Content, "minimum")
	assert.Contains(t, tm[2].Content, `field "city": expected string, got integer`)
}

func TestParallelToolsRunConcurrentlyBoundedAndInOrder(t *testing.T) {
	var running, peak atomic.Int32
	slow := agent.NewTool("slow", "Sleeps.", func(ctx context.Context, in struct {
		MS int `json:"ms"`
		ID int `json:"id"`
	}) (string, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		select {
		case <-time.After(time.Duration(in.MS) * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return fmt.Sprintf("result %d", in.ID), nil
	})
	var calls []llm.ToolCall
	for i := range 6 {
		// Later calls finish first: order must still be call order.
		calls = append(calls, llmtest.Call("slow", fmt.Sprintf(`{"ms":%d,"id":%d}`, 60-i*10, i)))
	}
	model := llmtest.NewScript(llmtest.Calls(calls...), llmtest.Text("ok"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{slow}, MaxParallelTools: 3})
	_, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, int32(3), peak.Load(), "at most MaxParallelTools calls run at once, and that many do")
	msgs := model.Requests()[1].Messages
	assertPaired(t, msgs)
	for i, m := range toolMessages(msgs) {
		assert.Equal(t, fmt.Sprintf("result %d", i), m.Content)
	}
}

func TestToolIgnoringContextIsAbandoned(t *testing.T) {
	release := make(chan struct{})
	stopped := make(chan struct{})
	stubborn := agent.NewTool("stubborn", "Ignores its context.", func(ctx context.Context, in noArgs) (string, error) {
		defer close(stopped)
		<-release
		return "too late", nil
	})
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("stubborn", "{}"), llmtest.Call("echo", `{"text":"hi"}`)), llmtest.Text("moved on"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{stubborn, echoTool()},
		ToolTimeout: 30 * time.Millisecond, ToolGracePeriod: 20 * time.Millisecond})
	res, err := a.Run(context.Background(), "g")
	close(release)
	<-stopped
	require.NoError(t, err)
	assert.Equal(t, "moved on", res.Answer)
	require.Len(t, res.Abandoned, 1)
	assert.Equal(t, "stubborn", res.Abandoned[0].Call.Name)
	assert.True(t, res.Abandoned[0].Result.IsError)
	assert.Contains(t, res.Abandoned[0].Result.Content, "abandoned")
	assert.Contains(t, res.Abandoned[0].Result.Content, "timed out after 30ms")
	tm := toolMessages(model.Requests()[1].Messages)
	require.Len(t, tm, 2)
	assert.Contains(t, tm[0].Content, "abandoned")
	assert.Equal(t, "echo: hi", tm[1].Content)
}

func TestToolTimeoutCancelsCooperativeTool(t *testing.T) {
	waiter := agent.NewTool("wait", "Waits for ctx.", func(ctx context.Context, in noArgs) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("wait", "{}")), llmtest.Text("ok"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{waiter}, ToolTimeout: 20 * time.Millisecond})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Empty(t, res.Abandoned)
	rec := res.Steps[0].ToolCalls[0]
	assert.True(t, rec.Result.IsError)
	assert.Equal(t, "tool call stopped: timed out after 20ms", rec.Result.Content)
}

func TestMaxStepsReturnsPartialResult(t *testing.T) {
	replies := make([]llmtest.Reply, 3)
	for i := range replies {
		replies[i] = llmtest.Calls(llmtest.Call("echo", fmt.Sprintf(`{"text":"%d"}`, i))).WithUsage(10, 1)
	}
	model := llmtest.NewScript(replies...)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, MaxSteps: 3})
	res, err := a.Run(context.Background(), "loop forever")
	require.ErrorIs(t, err, agent.ErrMaxSteps)
	require.NotNil(t, res)
	assert.False(t, res.Done)
	assert.Len(t, res.Steps, 3)
	assert.Equal(t, 30, res.Usage.InputTokens)
	model.AssertComplete(t)
	hist, err := res.State.History(context.Background())
	require.NoError(t, err)
	assertPaired(t, hist)
}

func TestDefaultMaxStepsIs20(t *testing.T) {
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: fmt.Sprint("c", len(req.Messages)), Name: "echo", Arguments: fmt.Sprintf(`{"text":"x%d"}`, len(req.Messages))}}}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrMaxSteps)
	assert.Len(t, res.Steps, agent.DefaultMaxSteps)
}

func TestCancelStopsModelCallPromptly(t *testing.T) {
	entered := make(chan struct{})
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		close(entered)
		<-ctx.Done()
		return nil, fmt.Errorf("provider: %w", ctx.Err())
	})
	a := newAgent(t, agent.Config{Model: model})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	start := time.Now()
	res, err := a.Run(ctx, "g")
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Len(t, res.Steps, 1)
	assert.NotEmpty(t, res.Steps[0].Error)
}

func TestCancelDuringToolsAnswersEveryCall(t *testing.T) {
	started := make(chan struct{}, 4)
	waiter := agent.NewTool("wait", "Waits for ctx.", func(ctx context.Context, in noArgs) (string, error) {
		started <- struct{}{}
		<-ctx.Done()
		return "", ctx.Err()
	})
	model := llmtest.NewScript(llmtest.Calls(
		llmtest.Call("wait", "{}"), llmtest.Call("wait", "{}"), llmtest.Call("wait", "{}"), llmtest.Call("wait", "{}")))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{waiter}, MaxParallelTools: 2})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; <-started; cancel() }()
	start := time.Now()
	res, err := a.Run(ctx, "g")
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
	hist, herr := res.State.History(context.Background())
	require.NoError(t, herr)
	assertPaired(t, hist)
	tm := toolMessages(hist)
	require.Len(t, tm, 4)
	for _, m := range tm {
		assert.True(t, m.IsError)
		assert.Contains(t, m.Content, "cancelled")
	}
	rec := res.Steps[0].ToolCalls
	assert.True(t, rec[0].Executed)
	assert.False(t, rec[3].Executed, "a call not started before cancellation never starts")
}

func TestModelErrorReturnsPartialResult(t *testing.T) {
	boom := errors.New("503 from provider")
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)).WithUsage(5, 5), llmtest.Fail(boom))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, boom)
	require.Len(t, res.Steps, 2)
	assert.Equal(t, "echo: a", res.Steps[0].ToolCalls[0].Result.Content)
	assert.Equal(t, 10, res.Usage.TotalTokens())
}

func TestStreamYieldsTextDeltasAndEvents(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.TextAndCalls("Let me echo.", llmtest.Call("echo", `{"text":"héllo wörld"}`)),
		llmtest.Text("The echo said héllo wörld, as asked."),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	var kinds []agent.EventKind
	var deltas strings.Builder
	var final *agent.Result
	for ev, err := range a.Stream(context.Background(), "echo") {
		require.NoError(t, err)
		kinds = append(kinds, ev.Kind)
		if ev.Kind == agent.EventTextDelta {
			deltas.WriteString(ev.Text)
		}
		if ev.Kind == agent.EventFinal {
			final = ev.Result
		}
	}
	require.NotNil(t, final)
	assert.Equal(t, "The echo said héllo wörld, as asked.", final.Answer)
	assert.Len(t, final.Steps, 2, "the final event's Result includes the last step")
	assert.Equal(t, "Let me echo.The echo said héllo wörld, as asked.", deltas.String())
	assert.Greater(t, slices.Index(kinds, agent.EventToolResult), slices.Index(kinds, agent.EventToolCall))
	assert.Equal(t, agent.EventStepStart, kinds[0])
	assert.Equal(t, agent.EventFinal, kinds[len(kinds)-1])
	assert.Greater(t, countKind(kinds, agent.EventTextDelta), 2, "text arrives in several deltas")
}

func countKind(kinds []agent.EventKind, k agent.EventKind) int {
	n := 0
	for _, x := range kinds {
		if x == k {
			n++
		}
	}
	return n
}

func TestStreamBreakCancelsRun(t *testing.T) {
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)), llmtest.Text("never"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	for ev, err := range a.Stream(context.Background(), "g") {
		require.NoError(t, err)
		if ev.Kind == agent.EventToolCall {
			break
		}
	}
	assert.Equal(t, 1, model.Calls(), "no model call after the consumer stopped")
}

func TestStreamReportsErrorWithPartialResult(t *testing.T) {
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, MaxSteps: 1})
	var last error
	var partial *agent.Result
	for ev, err := range a.Stream(context.Background(), "g") {
		if err != nil {
			last, partial = err, ev.Result
		}
	}
	require.ErrorIs(t, last, agent.ErrMaxSteps)
	require.NotNil(t, partial)
	assert.Len(t, partial.Steps, 1)
}

func TestHostOwnedLoopAndResumeFromJSON(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a":20,"b":22}`)),
		llmtest.Text("42"),
	)
	cfg := agent.Config{Model: model, Tools: []agent.Tool{addTool()}}
	a := newAgent(t, cfg)
	st := a.Start("add 20 and 22")
	var events []agent.Event
	done, err := a.Step(context.Background(), st, func(e agent.Event) { events = append(events, e) })
	require.NoError(t, err)
	require.False(t, done)
	require.Equal(t, 1, st.Step)

	saved, err := json.Marshal(st)
	require.NoError(t, err)
	var restored agent.RunState
	require.NoError(t, json.Unmarshal(saved, &restored))
	require.Len(t, restored.Messages, 3, "goal, assistant tool call, tool result")
	assert.Equal(t, "42", restored.Messages[2].Content)

	b := newAgent(t, cfg) // another agent, as another process would build
	res, err := b.Resume(context.Background(), &restored)
	require.NoError(t, err)
	assert.Equal(t, "42", res.Answer)
	assert.Len(t, res.Steps, 2)
	assertPaired(t, model.Requests()[1].Messages[1:])
	assert.Equal(t, "add 20 and 22", model.Requests()[1].Messages[1].Content)

	_, err = b.Step(context.Background(), &restored, nil)
	assert.ErrorIs(t, err, agent.ErrRunDone)
	kinds := make([]agent.EventKind, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
		assert.Equal(t, 0, e.Step)
	}
	kinds = slices.DeleteFunc(kinds, func(k agent.EventKind) bool { return k == agent.EventToolCallDelta })
	assert.Equal(t, []agent.EventKind{agent.EventStepStart, agent.EventModelResponse, agent.EventToolCall, agent.EventToolResult}, kinds)
}

func TestBeforeToolCallHookDeniesEditsAndStops(t *testing.T) {
	var order []string
	hooks := agent.Hooks{BeforeToolCall: func(ctx context.Context, c llm.ToolCall) (agent.ToolVerdict, error) {
		order = append(order, c.Arguments)
		switch {
		case strings.Contains(c.Arguments, "secret"):
			return agent.ToolVerdict{Deny: true, Reason: "secrets stay home"}, nil
		case strings.Contains(c.Arguments, "shout"):
			return agent.ToolVerdict{Arguments: `{"text":"SHOUT"}`}, nil
		case strings.Contains(c.Arguments, "stop"):
			return agent.ToolVerdict{}, errors.New("operator said stop")
		}
		return agent.ToolVerdict{}, nil
	}}
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("echo", `{"text":"secret"}`), llmtest.Call("echo", `{"text":"shout"}`), llmtest.Call("echo", `{"text":"fine"}`)),
		llmtest.Calls(llmtest.Call("echo", `{"text":"stop"}`), llmtest.Call("echo", `{"text":"after"}`)),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, Hooks: hooks})
	res, err := a.Run(context.Background(), "g")
	require.ErrorContains(t, err, "operator said stop")
	assert.Equal(t, []string{`{"text":"secret"}`, `{"text":"shout"}`, `{"text":"fine"}`, `{"text":"stop"}`}, order, "hooks run one at a time, in call order; none after a failure")
	tm := toolMessages(model.Requests()[1].Messages)
	assert.Equal(t, "tool call denied: secrets stay home", tm[0].Content)
	assert.True(t, tm[0].IsError)
	assert.Equal(t, "echo: SHOUT", tm[1].Content)
	assert.Equal(t, "echo: fine", tm[2].Content)
	hist, _ := res.State.History(context.Background())
	assertPaired(t, hist)
	last := res.Steps[1].ToolCalls
	require.Len(t, last, 2)
	assert.False(t, last[0].Executed)
	assert.False(t, last[1].Executed)
}

func TestModelHooksSeeEveryCall(t *testing.T) {
	var before, after int
	model := llmtest.NewScript(llmtest.Text("hi"))
	a := newAgent(t, agent.Config{Model: model, SystemPrompt: " ", Hooks: agent.Hooks{
		BeforeModelCall: func(ctx context.Context, req *llm.Request) error {
			before++
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Content: "injected"})
			return nil
		},
		AfterModelCall: func(ctx context.Context, req *llm.Request, resp *llm.Response, err error) {
			after++
			assert.Equal(t, "hi", resp.Message.Content)
		},
	}})
	_, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, 1, before)
	assert.Equal(t, 1, after)
	msgs := model.Requests()[0].Messages
	require.Len(t, msgs, 2, "SystemPrompt \" \" sends no system message")
	assert.Equal(t, "injected", msgs[1].Content)
}

func TestEmptyReplyIsRetriedOnceThenFails(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text(""), llmtest.Text("  "))
	a := newAgent(t, agent.Config{Model: model})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrEmptyResponse)
	require.NotNil(t, res)
	assert.Equal(t, 2, res.Steps[0].ModelCalls)

	model = llmtest.NewScript(llmtest.Text(""), llmtest.Text("answer"))
	res, err = newAgent(t, agent.Config{Model: model}).Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, "answer", res.Answer)
	assert.Contains(t, model.Requests()[1].Messages[2].Content, "empty")
}

func TestNewRejectsBadConfig(t *testing.T) {
	m := llmtest.NewScript()
	type chanArgs struct {
		C chan int `json:"c"`
	}
	bad := agent.NewTool("bad", "chan args", func(ctx context.Context, in chanArgs) (string, error) { return "", nil })
	require.Error(t, bad.Err())
	notObject := agent.NewTool("str", "string args", func(ctx context.Context, in string) (string, error) { return "", nil })
	require.Error(t, notObject.Err())
	cases := map[string]agent.Config{
		"nil model":       {},
		"negative steps":  {Model: m, MaxSteps: -1},
		"duplicate":       {Model: m, Tools: []agent.Tool{echoTool(), echoTool()}},
		"bad name":        {Model: m, Tools: []agent.Tool{agent.NewTool("has space", "", func(ctx context.Context, in noArgs) (string, error) { return "", nil })}},
		"nil tool":        {Model: m, Tools: []agent.Tool{nil}},
		"schema error":    {Model: m, Tools: []agent.Tool{bad}},
		"not object":      {Model: m, Tools: []agent.Tool{notObject}},
		"invalid schema":  {Model: m, Tools: []agent.Tool{rawTool{name: "x", schema: `{"type":"string"}`}}},
		"malformed json":  {Model: m, Tools: []agent.Tool{rawTool{name: "x", schema: `{"type":`}}},
		"unresolvable":    {Model: m, Tools: []agent.Tool{rawTool{name: "x", schema: `{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}`}}},
		"long name (65)":  {Model: m, Tools: []agent.Tool{rawTool{name: strings.Repeat("a", 65), schema: `{}`}}},
		"empty tool name": {Model: m, Tools: []agent.Tool{rawTool{name: "", schema: `{}`}}},
	}
	for name, cfg := range cases {
		_, err := agent.New(cfg)
		assert.Error(t, err, name)
	}
	_, err := agent.New(agent.Config{Model: m, Tools: []agent.Tool{rawTool{name: "ok", schema: ``}}})
	assert.NoError(t, err, "an empty schema means no arguments")
}

func TestConcurrentRunsShareNothing(t *testing.T) {
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == llm.RoleTool {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: last.Content}}, nil
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "c1", Name: "echo", Arguments: fmt.Sprintf(`{"text":%q}`, last.Content)}}}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			goal := fmt.Sprint("goal ", i)
			res, err := a.Run(context.Background(), goal)
			assert.NoError(t, err)
			assert.Equal(t, "echo: "+goal, res.Answer)
		})
	}
	wg.Wait()
}

func TestFuncToolRendersOutputs(t *testing.T) {
	type out struct {
		Sum  int    `json:"sum"`
		Note string `json:"note"`
	}
	structTool := agent.NewTool("s", "", func(ctx context.Context, in addArgs) (out, error) { return out{in.A + in.B, "ok"}, nil })
	res, err := structTool.Call(context.Background(), json.RawMessage(`{"a":1,"b":2}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"sum":3,"note":"ok"}`, res.Content)

	resultTool := agent.NewTool("r", "", func(ctx context.Context, in noArgs) (agent.ToolResult, error) {
		return agent.ToolResult{Content: "soft failure", IsError: true}, nil
	})
	res, err = resultTool.Call(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, agent.ToolResult{Content: "soft failure", IsError: true}, res)

	_, err = structTool.Call(context.Background(), json.RawMessage(`{"a":1.5,"b":2}`))
	var ae *agent.ArgumentError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "a", ae.Field)
	assert.Equal(t, "integer", ae.Expected)
	assert.Equal(t, "number", ae.Got)
}

func TestNestedFieldErrorsNameThePath(t *testing.T) {
	type item struct {
		Name string `json:"name"`
		Qty  int    `json:"qty"`
	}
	type order struct {
		Items []item `json:"items"`
	}
	tool := agent.NewTool("order", "", func(ctx context.Context, in order) (string, error) { return "ok", nil })
	_, err := tool.Call(context.Background(), json.RawMessage(`{"items":[{"name":"x","qty":"2"}]}`))
	assert.EqualError(t, err, `invalid arguments: field "items[].qty": expected integer, got string`)
	_, err = tool.Call(context.Background(), json.RawMessage(`{"items":[{"qty":2}]}`))
	assert.EqualError(t, err, `invalid arguments: field "items[].name": expected string: required field is missing`)
}

// TestReadmeUnitTest is the README's mock-model example, kept compiling and passing here.
func TestReadmeUnitTest(t *testing.T) {
	add := agent.NewTool("add", "Adds two integers.",
		func(ctx context.Context, in struct{ A, B int }) (int, error) { return in.A + in.B, nil })
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"A": 2, "B": 40}`)),
		llmtest.Text("2 + 40 = 42"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{add}})
	require.NoError(t, err)

	res, err := a.Run(context.Background(), "What is 2 + 40?")
	require.NoError(t, err)
	assert.Equal(t, "2 + 40 = 42", res.Answer)
	model.AssertComplete(t)

	msgs := model.Requests()[1].Messages // the second request carried the tool result
	assert.Equal(t, "42", msgs[len(msgs)-1].Content)
}

func TestMissingAndDuplicateCallIDsAreMadeUnique(t *testing.T) {
	calls := []llm.ToolCall{
		{ID: "", Name: "echo", Arguments: `{"text":"a"}`},
		{ID: "dup", Name: "echo", Arguments: `{"text":"b"}`},
		{ID: "dup", Name: "echo", Arguments: `{"text":"c"}`},
		{ID: "", Name: "echo", Arguments: `{"text":"d"}`},
	}
	first := true
	var second *llm.Request
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		if first {
			first = false
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: calls}}, nil
		}
		second = req
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "ok"}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	_, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	require.NotNil(t, second)
	assertPaired(t, second.Messages)
	ids := map[string]bool{}
	for _, c := range second.Messages[2].ToolCalls {
		require.NotEmpty(t, c.ID)
		require.False(t, ids[c.ID], "duplicate id %s", c.ID)
		ids[c.ID] = true
	}
	assert.Equal(t, "dup", second.Messages[2].ToolCalls[1].ID, "the first holder keeps its ID")
	tm := toolMessages(second.Messages)
	for i, want := range []string{"a", "b", "c", "d"} {
		assert.Equal(t, "echo: "+want, tm[i].Content)
	}
}

func TestHooksCannotChangeTheAgentOrOtherRuns(t *testing.T) {
	temp := 0.5
	hooks := agent.Hooks{BeforeModelCall: func(ctx context.Context, req *llm.Request) error {
		req.Tools[0].Description += " (edited)"
		req.Tools = append(req.Tools, llm.ToolSpec{Name: "injected"})
		*req.Temperature = 1.5
		return nil
	}}
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: req.Tools[0].Description}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, Temperature: &temp, Hooks: hooks})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := a.Run(context.Background(), "g")
			assert.NoError(t, err)
			assert.Equal(t, "Echoes text. (edited)", res.Answer, "each run starts from the Agent's own tools")
		})
	}
	wg.Wait()
	assert.Equal(t, 0.5, temp, "the caller's Temperature is never written")
}

func TestRunStateSavedByValueKeepsHistory(t *testing.T) {
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("echo", `{"text":"x"}`)), llmtest.Text("done"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	st := a.Start("goal")
	_, err := a.Step(context.Background(), st, nil)
	require.NoError(t, err)
	b, err := json.Marshal(struct{ Run agent.RunState }{*st})
	require.NoError(t, err)
	var back struct{ Run agent.RunState }
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Run.Messages, 3)
	res, err := a.Resume(context.Background(), &back.Run)
	require.NoError(t, err)
	assert.Equal(t, "done", res.Answer)
	assert.Equal(t, "goal", model.Requests()[1].Messages[1].Content)

	again, err := a.Resume(context.Background(), &back.Run)
	require.NoError(t, err, "resuming a finished run returns its result")
	assert.Equal(t, "done", again.Answer)
}

func TestDuplicateArgumentKeysAreRefused(t *testing.T) {
	var got []string
	tool := agent.NewTool("write", "", func(ctx context.Context, in struct {
		Path string `json:"path"`
		Tag  struct {
			A string `json:"a"`
		} `json:"tag"`
	}) (string, error) {
		got = append(got, in.Path)
		return "ok", nil
	})
	for _, args := range []string{
		`{"path":"a.txt","path":"b.txt","tag":{"a":""}}`,
		`{"path":"a.txt","\u0070ath":"b.txt","tag":{"a":""}}`,
		`{"path":"a.txt","tag":{"a":"x","a":"y"}}`,
	} {
		_, err := tool.Call(context.Background(), json.RawMessage(args))
		var ae *agent.ArgumentError
		require.ErrorAs(t, err, &ae, args)
		assert.Contains(t, err.Error(), "more than once")
	}
	_, err := tool.Call(context.Background(), json.RawMessage(`{"path":"a \"path\": x","tag":{"a":"path"}}`))
	require.NoError(t, err, "keys in different objects and key-like text in strings are fine")
	assert.Equal(t, []string{`a "path": x`}, got)
}

func TestToolCallingGoexitIsAnError(t *testing.T) {
	exiting := agent.NewTool("exit", "", func(ctx context.Context, in noArgs) (string, error) {
		runtime.Goexit()
		return "", nil
	})
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("exit", "{}")), llmtest.Text("ok"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{exiting}})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	r := res.Steps[0].ToolCalls[0].Result
	assert.True(t, r.IsError)
	assert.Contains(t, r.Content, "Goexit")
}

func TestPointerArgumentsAndBeforeModelHookError(t *testing.T) {
	tool := agent.NewTool("p", "", func(ctx context.Context, in *addArgs) (int, error) { return in.A + in.B, nil })
	require.NoError(t, tool.Err())
	res, err := tool.Call(context.Background(), json.RawMessage(`{"a":1,"b":2}`))
	require.NoError(t, err)
	assert.Equal(t, "3", res.Content)

	quota := errors.New("quota")
	a := newAgent(t, agent.Config{Model: llmtest.NewScript(), Hooks: agent.Hooks{
		BeforeModelCall: func(context.Context, *llm.Request) error { return quota },
	}})
	_, err = a.Run(context.Background(), "g")
	require.ErrorIs(t, err, quota)
	assert.Contains(t, err.Error(), "BeforeModelCall")
}

func TestModelTimeoutEndsAHungCall(t *testing.T) {
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		<-ctx.Done()
		return nil, errors.New("connection closed") // a provider that loses the ctx error
	})
	a := newAgent(t, agent.Config{Model: llm.NonStreaming(model), ModelTimeout: 20 * time.Millisecond})
	_, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "timed out after 20ms")
}

func TestStreamCutByCancellationIsNotAnAnswer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	model := streamFunc(func(yield func(llm.Chunk, error) bool) {
		if !yield(llm.Chunk{Text: "Do NOT delete the"}, nil) {
			return
		}
		cancel()
		// A misbehaving stream that ends "cleanly" with what it had.
		yield(llm.Chunk{Response: &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "Do NOT delete the"}}}, nil)
	})
	a := newAgent(t, agent.Config{Model: model})
	var last agent.Event
	var lastErr error
	for ev, err := range a.StreamState(ctx, a.Start("g")) {
		last, lastErr = ev, err
	}
	require.ErrorIs(t, lastErr, context.Canceled)
	assert.Equal(t, agent.EventError, last.Kind)
	require.NotNil(t, last.Result)
	assert.False(t, last.Result.Done)
	assert.Empty(t, last.Result.Answer)
}

// streamFunc is a Model whose Stream yields what the function yields.
type streamFunc func(yield func(llm.Chunk, error) bool)

func (f streamFunc) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	return nil, errors.New("streamFunc: Generate not expected")
}

func (f streamFunc) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return iter.Seq2[llm.Chunk, error](f)
}

func TestRepeatedCallIsNotedThenStopped(t *testing.T) {
	var ran atomic.Int32
	count := agent.NewTool("count", "Counts.", func(ctx context.Context, in struct {
		N int    `json:"n"`
		S string `json:"s"`
	}) (string, error) {
		ran.Add(1)
		return "counted", nil
	})
	// The same call spelled several ways: key order and spacing do not hide a repeat.
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("count", `{"n":1,"s":"x"}`)),
		llmtest.Calls(llmtest.Call("count", `{"s":"x","n":1}`)),
		llmtest.Calls(llmtest.Call("count", `{ "n": 1, "s": "x" }`)),
		llmtest.Calls(llmtest.Call("count", `{"s":"x","n":1}`)),
		llmtest.Calls(llmtest.Call("count", `{"n":1,"s":"x"}`)),
		llmtest.Text("never"),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{count}})
	res, err := a.Run(context.Background(), "count")
	require.ErrorIs(t, err, agent.ErrLoopDetected)
	require.NotNil(t, res)
	assert.Equal(t, int32(4), ran.Load(), "the fifth identical call is not executed")
	assert.Len(t, res.Steps, 5)
	assert.NotContains(t, res.Steps[1].ToolCalls[0].Result.Content, "note from the agent loop")
	assert.Contains(t, res.Steps[2].ToolCalls[0].Result.Content, "call 3 in a row", "the third repeat sends the model a note")
	assert.Contains(t, res.Steps[4].ToolCalls[0].Result.Content, "loop detected")
	assert.False(t, res.Steps[4].ToolCalls[0].Executed)
	hist, _ := res.State.History(context.Background())
	assertPaired(t, hist)

	// A different call in between resets the count; thresholds are configurable.
	model = llmtest.NewScript(
		llmtest.Calls(llmtest.Call("count", `{"n":1,"s":"x"}`)),
		llmtest.Calls(llmtest.Call("count", `{"n":1,"s":"x"}`)),
		llmtest.Calls(llmtest.Call("count", `{"n":2,"s":"x"}`)),
		llmtest.Calls(llmtest.Call("count", `{"n":1,"s":"x"}`)),
		llmtest.Calls(llmtest.Call("count", `{"n":1,"s":"x"}`)),
		llmtest.Text("done"),
	)
	a = newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{count}, LoopWarnAfter: 2, LoopStopAfter: 3})
	res, err = a.Run(context.Background(), "count")
	require.NoError(t, err)
	assert.Equal(t, "done", res.Answer)
	assert.Contains(t, res.Steps[4].ToolCalls[0].Result.Content, "call 2 in a row")
}

func TestLastStepOffersNoToolsAndAsksForTheAnswer(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)),
		llmtest.TextAndCalls("Best answer so far: a.", llmtest.Call("echo", `{"text":"b"}`)),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, MaxSteps: 2})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, "Best answer so far: a.", res.Answer)
	reqs := model.Requests()
	assert.NotEmpty(t, reqs[0].Tools)
	assert.Empty(t, reqs[1].Tools)
	assert.Equal(t, agent.FinalStepPrompt, reqs[1].Messages[len(reqs[1].Messages)-1].Content)
	assert.Empty(t, res.Steps[1].ToolCalls, "tool calls on the last step are not executed")
	hist, _ := res.State.History(context.Background())
	assertPaired(t, hist)
}

func TestApprovedCallsBeforeAStopAreNotExecuted(t *testing.T) {
	var ran atomic.Int32
	tool := agent.NewTool("write", "", func(ctx context.Context, in echoArgs) (string, error) {
		ran.Add(1)
		return "wrote " + in.Text, nil
	})
	hooks := agent.Hooks{BeforeToolCall: func(ctx context.Context, c llm.ToolCall) (agent.ToolVerdict, error) {
		if strings.Contains(c.Arguments, "stop") {
			return agent.ToolVerdict{}, errors.New("user said n")
		}
		return agent.ToolVerdict{}, nil
	}}
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("write", `{"text":"a"}`), llmtest.Call("write", `{"text":"stop"}`)))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{tool}, Hooks: hooks})
	res, err := a.Run(context.Background(), "g")
	require.ErrorContains(t, err, "user said n")
	assert.Equal(t, int32(0), ran.Load())
	rec := res.Steps[0].ToolCalls
	require.Len(t, rec, 2)
	for _, r := range rec {
		assert.False(t, r.Executed)
		assert.True(t, r.Result.IsError)
		assert.Contains(t, r.Result.Content, "not executed")
	}
}

type reservesFinish struct{ agent.ToolCallingPlanner }

func (reservesFinish) ValidateTools(tools []llm.ToolSpec) error {
	for _, t := range tools {
		if strings.EqualFold(t.Name, "finish") {
			return errors.New("finish is reserved")
		}
	}
	return nil
}

func TestPlannerCanRefuseTools(t *testing.T) {
	finish := agent.NewTool("Finish", "", func(ctx context.Context, in noArgs) (string, error) { return "", nil })
	_, err := agent.New(agent.Config{Model: llmtest.NewScript(), Planner: reservesFinish{}, Tools: []agent.Tool{finish}})
	require.ErrorContains(t, err, "finish is reserved")
	_, err = agent.New(agent.Config{Model: llmtest.NewScript(), Planner: reservesFinish{}, Tools: []agent.Tool{echoTool()}})
	require.NoError(t, err)
	_, err = agent.New(agent.Config{Model: llmtest.NewScript(), ModelName: "gpt-4o", MaxCostUSD: math.NaN()})
	require.Error(t, err)
}

func TestModelRepeatingForeverEndsWithLoopDetected(t *testing.T) {
	calls := 0
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		calls++
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: fmt.Sprint("c", calls), Name: "echo", Arguments: `{"text":"again"}`}}}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, MaxSteps: 100})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrLoopDetected)
	require.NotNil(t, res)
	assert.False(t, res.Done)
	assert.Equal(t, agent.DefaultLoopStopAfter, calls)
	assert.Len(t, res.Steps, agent.DefaultLoopStopAfter)
}

func TestIdenticalParallelCallsInOneStepCountOnce(t *testing.T) {
	var calls []llm.ToolCall
	for range 8 {
		calls = append(calls, llmtest.Call("echo", `{"text":"same"}`))
	}
	model := llmtest.NewScript(llmtest.Calls(calls...), llmtest.Text("done"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	for _, r := range res.Steps[0].ToolCalls {
		assert.Equal(t, "echo: same", r.Result.Content, "no loop note within one step")
	}
}

// keyedModel is a model that has an API key, as llm/langchaingo's Model reports it.
type keyedModel struct{ llm.Model }

func (keyedModel) Secrets() []string { return []string{"model-key-123456789"} }

func TestSecretsNeverReachEventsOrErrors(t *testing.T) {
	leak := agent.NewTool("env", "Reads the environment.", func(ctx context.Context, in noArgs) (string, error) {
		return "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz012345 HOST_PASSWORD=hunter2-configured-secret model-key-123456789", nil
	})
	boom := errors.New("upstream")
	model := llmtest.NewScript(
		llmtest.TextAndCalls("Reading with hunter2-configured-secret", llmtest.Call("env", "{}")),
		llmtest.Fail(fmt.Errorf("401 for key model-key-123456789: %w", boom)),
	)
	a := newAgent(t, agent.Config{Model: keyedModel{model}, Tools: []agent.Tool{leak}, Secrets: []string{"hunter2-configured-secret"}})
	var seen strings.Builder
	var last error
	for ev, err := range a.Stream(context.Background(), "g") {
		b, _ := json.Marshal(ev)
		seen.Write(b)
		if ev.ToolCall != nil {
			seen.WriteString(ev.ToolCall.Arguments)
		}
		last = err
	}
	require.Error(t, last)
	require.ErrorIs(t, last, boom, "the error chain survives redaction")
	for _, secret := range []string{"sk-proj-abcdefghijklmnopqrstuvwxyz012345", "hunter2-configured-secret", "model-key-123456789"} {
		assert.NotContains(t, seen.String(), secret)
		assert.NotContains(t, last.Error(), secret)
	}
	assert.Contains(t, seen.String(), "[redacted]")
	// The model itself still received the tool output: redaction is for what the host shows.
	assert.Contains(t, model.Requests()[1].Messages[3].Content, "hunter2-configured-secret")
}
