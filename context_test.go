package agent_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// checkShape asserts what every provider requires of a prompt (llmtest.CheckRequest): a system
// prompt only at the start, then a user message; every tool result right after the assistant
// message that called it; every call answered; no tool message without its call.
func checkShape(t *testing.T, msgs []llm.Message) {
	t.Helper()
	require.NoError(t, llmtest.CheckRequest(&llm.Request{Messages: msgs}))
}

func TestLongRunFitsAnEightKWindow(t *testing.T) {
	counter, err := llm.NewCounter("gpt-4o")
	require.NoError(t, err)
	const window, reserve = 8192, 1024
	var mu sync.Mutex
	var sizes []int
	calls := 0
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		checkShape(t, req.Messages)
		n, err := counter.Count(req)
		require.NoError(t, err)
		require.LessOrEqual(t, n.Tokens, window-reserve, "request %d does not fit", calls)
		sizes = append(sizes, n.Tokens)
		// The current turn is always there: the last message answers the newest call.
		if calls == 200 {
			assert.Empty(t, req.Tools, "no tools on the last step")
			assert.Equal(t, agent.FinalStepPrompt, req.Messages[len(req.Messages)-1].Content)
		} else if calls > 1 {
			last := req.Messages[len(req.Messages)-1]
			require.Equal(t, llm.RoleTool, last.Role)
			require.Contains(t, last.Content, fmt.Sprintf("note %d", calls-1))
		}
		if calls == 200 {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "done"}}, nil
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "Next I take note " + fmt.Sprint(calls),
			ToolCalls: []llm.ToolCall{{ID: fmt.Sprint("call_", calls), Name: "note", Arguments: fmt.Sprintf(`{"text":"note %d"}`, calls)}}}}, nil
	})
	note := agent.NewTool("note", "Takes a note.", func(ctx context.Context, in echoArgs) (string, error) {
		return in.Text + ": " + strings.Repeat("the quick brown fox jumps over the lazy dog ", 10), nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{note}, ModelName: "gpt-4o",
		ContextWindow: window, ReservedOutputTokens: reserve, MaxSteps: 200})
	res, err := a.Run(context.Background(), "Take 199 notes.")
	require.NoError(t, err)
	assert.Equal(t, "done", res.Answer)
	assert.Equal(t, 200, calls)
	assert.Greater(t, res.Steps[199].DroppedMessages, 0, "late steps drop old turns")
	assert.Greater(t, sizes[199], window/2, "the window is used, not emptied")
	hist, err := res.State.History(context.Background())
	require.NoError(t, err)
	assert.Len(t, hist, 1+199*2+1, "memory keeps everything; only prompts are trimmed")
}

func TestOversizedCJKAndEmojiToolOutputIsCut(t *testing.T) {
	big := strings.Repeat("漢字かな交じり文🙂👍🏽 ", 20000) // far beyond a quarter of the window
	tool := agent.NewTool("dump", "Dumps text.", func(ctx context.Context, in noArgs) (string, error) { return "HEAD " + big + " TAIL", nil })
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("dump", "{}")), llmtest.Text("ok"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{tool}, ModelName: "gpt-4o", ContextWindow: 16000, MaxToolResultTokens: 2000})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	tm := toolMessages(model.Requests()[1].Messages)
	require.Len(t, tm, 1)
	out := tm[0].Content
	assert.True(t, utf8.ValidString(out))
	assert.True(t, strings.HasPrefix(out, "HEAD 漢字"))
	assert.True(t, strings.HasSuffix(out, " TAIL"))
	assert.Contains(t, out, "tool output truncated")
	assert.Contains(t, out, fmt.Sprintf("(%d bytes)", len("HEAD "+big+" TAIL")))
	counter, _ := llm.NewCounter("gpt-4o")
	n, err := counter.Tokenizer().Count(out)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, 2000)
	assert.Greater(t, n, 1500)
	assert.Equal(t, "HEAD "+big+" TAIL", res.Steps[0].ToolCalls[0].Result.Content, "the record keeps the whole output")
}

func TestSpecialTokenTextIsCountedAsText(t *testing.T) {
	tool := agent.NewTool("special", "", func(ctx context.Context, in noArgs) (string, error) {
		return strings.Repeat("<|endoftext|><|im_start|>system<|im_end|><|fim_prefix|> ", 3000), nil
	})
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("special", "{}")), llmtest.Text("ok"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{tool}, ModelName: "gpt-4o", ContextWindow: 8192, MaxTotalTokens: 1_000_000})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, "ok", res.Answer)
	assert.Contains(t, toolMessages(model.Requests()[1].Messages)[0].Content, "tool output truncated")
}

func TestPinnedPromptTooLargeFailsBeforeAnyCall(t *testing.T) {
	model := llmtest.NewScript()
	a := newAgent(t, agent.Config{Model: model, ModelName: "gpt-4o", ContextWindow: 4096, ReservedOutputTokens: 1024,
		SystemPrompt: strings.Repeat("You must be careful. ", 2000)})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrContextWindowExceeded)
	assert.Contains(t, err.Error(), "window allows 3072")
	require.NotNil(t, res)
	assert.Equal(t, 0, model.Calls())
}

func TestTokenBudgetStopsBeforeTheCall(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)).WithUsage(300, 20),
		llmtest.Calls(llmtest.Call("echo", `{"text":"b"}`)).WithUsage(400, 20),
		llmtest.Text("never"),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o",
		MaxOutputTokens: 100, MaxTotalTokens: 900})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrBudgetExceeded)
	var be *agent.BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "tokens", be.Budget)
	assert.Equal(t, float64(740), be.Spent)
	assert.Equal(t, 2, model.Calls(), "the third call is never made")
	require.NotNil(t, res)
	assert.Equal(t, 740, res.Usage.TotalTokens())
	hist, _ := res.State.History(context.Background())
	checkShape(t, hist)
}

func TestCostBudgetAndCostReport(t *testing.T) {
	_, err := agent.New(agent.Config{Model: llmtest.NewScript(), ModelName: "my-local-model", MaxCostUSD: 1})
	require.Error(t, err, "a USD budget needs a price")

	info, ok := llm.LookupModel("gpt-4o")
	require.True(t, ok)
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)).WithUsage(1_000_000, 0), llmtest.Text("x").WithUsage(10, 10))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o",
		MaxOutputTokens: 1000, MaxCostUSD: info.InputUSDPerMTok * 1.0001})
	res, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrBudgetExceeded)
	assert.InDelta(t, info.InputUSDPerMTok, res.CostUSD, 1e-9)
	assert.InDelta(t, info.InputUSDPerMTok, res.Steps[0].CostUSD, 1e-9)
}

func TestMissingUsageIsEstimatedForBudgets(t *testing.T) {
	model := llmtest.NewScript(llmtest.Calls(llmtest.Call("echo", `{"text":"a"}`)), llmtest.Text("done"))
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o", MaxTotalTokens: 100_000})
	res, err := a.Run(context.Background(), "g")
	require.NoError(t, err)
	assert.True(t, res.Steps[0].UsageEstimated)
	assert.Greater(t, res.Usage.InputTokens, 50)
	counter, _ := llm.NewCounter("gpt-4o")
	n, err := counter.Count(&model.Requests()[0])
	require.NoError(t, err)
	assert.Equal(t, n.Tokens, res.Steps[0].Usage.InputTokens, "the estimate is the exact count of what was sent")
}

// summarizer is a Compactor test double.
type summarizer struct {
	calls   int
	dropped [][]llm.Message
}

func (s *summarizer) Compact(ctx context.Context, in agent.CompactInput) (llm.Message, error) {
	s.calls++
	s.dropped = append(s.dropped, in.Dropped)
	return llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf("Summary %d of %d earlier messages.", s.calls, len(in.Dropped))}, nil
}

func TestCompactorReplacesDroppedTurns(t *testing.T) {
	sum := &summarizer{}
	var last *llm.Request
	calls := 0
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		calls++
		checkShape(t, req.Messages)
		last = req
		if calls == 40 {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "done"}}, nil
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: fmt.Sprint("c", calls), Name: "echo",
			Arguments: fmt.Sprintf(`{"text":"%d %s"}`, calls, strings.Repeat("word ", 200))}}}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o",
		ContextWindow: 6000, ReservedOutputTokens: 1000, Compactor: sum, MaxSteps: 40})
	res, err := a.Run(context.Background(), "Echo a lot.")
	require.NoError(t, err)
	require.Greater(t, sum.calls, 0)
	msgs := last.Messages
	assert.Equal(t, llm.RoleSystem, msgs[0].Role)
	assert.Equal(t, "Echo a lot.", msgs[1].Content)
	assert.True(t, strings.HasPrefix(msgs[2].Content, "Summary "), "order: system, goal, summary, recent turns")
	for _, d := range sum.dropped {
		checkShape(t, append([]llm.Message{{Role: llm.RoleUser, Content: "goal"}}, d...))
	}
	if len(sum.dropped) > 1 {
		assert.True(t, strings.HasPrefix(sum.dropped[1][0].Content, "Summary 1"), "a later compaction starts from the earlier summary")
	}
	hist, err := res.State.History(context.Background())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hist[1].Content, "Summary "), "the summary replaced the turns in memory")
	assert.Less(t, len(hist), 1+39*2+1)
}

func TestTrimmingKeepsTurnsWholeAcrossShapes(t *testing.T) {
	// Turns of several shapes: parallel calls, text with calls, plain assistant text followed by a
	// user nudge (the empty-reply retry), and single calls; the window forces trimming at every step.
	counter, err := llm.NewCounter("gpt-4o")
	require.NoError(t, err)
	step := 0
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		checkShape(t, req.Messages)
		n, err := counter.Count(req)
		require.NoError(t, err)
		require.LessOrEqual(t, n.Tokens, 3000-500)
		// The current turn is intact: every call of the newest assistant message is answered.
		for i := len(req.Messages) - 1; i >= 0; i-- {
			if m := req.Messages[i]; m.Role == llm.RoleAssistant {
				require.Equal(t, len(m.ToolCalls), len(req.Messages)-1-i)
				break
			}
		}
		step++
		pad := strings.Repeat("filler text ", 40)
		msg := llm.Message{Role: llm.RoleAssistant}
		switch step % 4 {
		case 0:
			for k := range 3 {
				msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: fmt.Sprintf("p%d_%d", step, k), Name: "echo", Arguments: fmt.Sprintf(`{"text":"%s %d"}`, pad, k)})
			}
		case 1:
			msg.Content = "Thinking aloud. " + pad
			msg.ToolCalls = []llm.ToolCall{{ID: fmt.Sprint("t", step), Name: "echo", Arguments: `{"text":"x"}`}}
		case 2:
			msg.ToolCalls = []llm.ToolCall{{ID: fmt.Sprint("s", step), Name: "echo", Arguments: fmt.Sprintf(`{"text":%q}`, pad+pad)}}
		case 3:
			if step > 60 {
				msg.Content = "final"
				return &llm.Response{Message: msg}, nil
			}
			msg.ToolCalls = []llm.ToolCall{{ID: fmt.Sprint("u", step), Name: "echo", Arguments: `{}`}} // invalid: missing text
		}
		return &llm.Response{Message: msg}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o",
		ContextWindow: 3000, ReservedOutputTokens: 500, MaxSteps: 80})
	res, err := a.Run(context.Background(), "Echo things.")
	require.NoError(t, err)
	assert.Equal(t, "final", res.Answer)
}

func TestAbsurdUsageCannotDisableTheBudget(t *testing.T) {
	for name, u := range map[string]llm.Usage{
		"huge":     {InputTokens: math.MaxInt, OutputTokens: math.MaxInt},
		"negative": {InputTokens: -1_000_000, OutputTokens: -5},
	} {
		t.Run(name, func(t *testing.T) {
			model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
				return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
					{ID: fmt.Sprint("c", len(req.Messages)), Name: "echo", Arguments: fmt.Sprintf(`{"text":"%d"}`, len(req.Messages))}}}, Usage: u}, nil
			})
			a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o", MaxTotalTokens: 20000, MaxOutputTokens: 100, MaxSteps: 50})
			res, err := a.Run(context.Background(), "g")
			require.Error(t, err)
			assert.GreaterOrEqual(t, res.Usage.InputTokens, 0)
			assert.GreaterOrEqual(t, res.Usage.TotalTokens(), 0)
			if name == "huge" {
				require.ErrorIs(t, err, agent.ErrBudgetExceeded)
				require.Len(t, res.Steps, 2)
				assert.Equal(t, 0, res.Steps[1].ModelCalls, "the budget stops the run before the second call")
			}
		})
	}
}

func TestCompactorMustReturnAPlainMessage(t *testing.T) {
	bad := compactorFunc(func(ctx context.Context, in agent.CompactInput) (llm.Message, error) {
		return llm.Message{Role: llm.RoleTool, ToolCallID: "x", Content: "summary"}, nil
	})
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: fmt.Sprint("c", len(req.Messages)), Name: "echo",
			Arguments: fmt.Sprintf(`{"text":"%d %s"}`, len(req.Messages), strings.Repeat("word ", 300))}}}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, ModelName: "gpt-4o", ContextWindow: 4000, ReservedOutputTokens: 500, Compactor: bad})
	res, err := a.Run(context.Background(), "g")
	require.ErrorContains(t, err, "Compactor returned a tool message")
	hist, _ := res.State.History(context.Background())
	checkShape(t, hist)
}

type compactorFunc func(ctx context.Context, in agent.CompactInput) (llm.Message, error)

func (f compactorFunc) Compact(ctx context.Context, in agent.CompactInput) (llm.Message, error) {
	return f(ctx, in)
}

func TestHookThatBreaksPairingIsCaughtBeforeTheCall(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text("never"))
	a := newAgent(t, agent.Config{Model: model, Hooks: agent.Hooks{BeforeModelCall: func(ctx context.Context, req *llm.Request) error {
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: "ghost", Content: "x"})
		return nil
	}}})
	_, err := a.Run(context.Background(), "g")
	require.ErrorIs(t, err, agent.ErrInvalidPrompt)
	assert.Equal(t, 0, model.Calls())
}

func TestReserveCoversMaxOutputTokensAndParallelResultsShareTheWindow(t *testing.T) {
	_, err := agent.New(agent.Config{Model: llmtest.NewScript(), ModelName: "gpt-4o", ContextWindow: 4000, ReservedOutputTokens: 500, MaxOutputTokens: 5000})
	require.Error(t, err, "an answer cap beyond the window is refused at New")
	_, err = agent.New(agent.Config{Model: llmtest.NewScript(), MaxToolResultTokens: 20})
	require.Error(t, err, "a cap too small for the truncation note is refused")

	big := agent.NewTool("read", "Reads a big file.", func(ctx context.Context, in echoArgs) (string, error) {
		return strings.Repeat(in.Text+" lorem ipsum dolor sit amet ", 2000), nil
	})
	var calls []llm.ToolCall
	for i := range 8 {
		calls = append(calls, llmtest.Call("read", fmt.Sprintf(`{"text":"file%d"}`, i)))
	}
	counter, _ := llm.NewCounter("gpt-4o")
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		n, err := counter.Count(req)
		require.NoError(t, err)
		require.LessOrEqual(t, n.Tokens, 4000-1000)
		if len(req.Messages) > 2 {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "read them all"}}, nil
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: calls}}, nil
	})
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{big}, ModelName: "gpt-4o", ContextWindow: 4000, ReservedOutputTokens: 600, MaxOutputTokens: 1000})
	res, err := a.Run(context.Background(), "read 8 files")
	require.NoError(t, err, "eight large parallel results still fit")
	assert.Equal(t, "read them all", res.Answer)
}
