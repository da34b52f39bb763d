package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/tools"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/autogpt-go/agent/tools/lctools"
)

// These tests drive the agent, through langchaingo's real OpenAI client, with real GPT-4 and gpt-4o
// traffic that langchaingo recorded and ships in its module (read where it lies in the module
// cache). Recorded tool calls run for real where an offline tool exists (langchaingo's calculator,
// through our bridge); the web search has no offline implementation and is served by a fixture that
// returns the recorded tool message.

// recordingReplay opens a recording and captures our request bodies as the replay serves them.
func recordingReplay(t *testing.T, rel string, opts ...llmtest.ReplayOption) (*llmtest.Replay, *[]*llmtest.RecordedRequest) {
	t.Helper()
	var ours []*llmtest.RecordedRequest
	capture := llmtest.WithMatcher(func(o, rec *llmtest.RecordedRequest) error {
		ours = append(ours, o)
		return llmtest.DefaultMatcher(o, rec)
	})
	rp, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, rel), append(opts, capture)...)
	require.NoError(t, err)
	return rp, &ours
}

func replayModel(t *testing.T, rp *llmtest.Replay, model string) llm.Model {
	t.Helper()
	m, err := langchaingo.OpenAI(model, "test-api-key", langchaingo.WithHTTPClient(rp.Client()))
	require.NoError(t, err)
	return m
}

func lookupString(t *testing.T, v interface{ Lookup(string) (any, error) }, path string) string {
	t.Helper()
	x, err := v.Lookup(path)
	require.NoError(t, err, path)
	s, ok := x.(string)
	require.True(t, ok, "%s is %T", path, x)
	return s
}

func lookupInt(t *testing.T, v interface{ Lookup(string) (any, error) }, path string) int {
	t.Helper()
	x, err := v.Lookup(path)
	require.NoError(t, err, path)
	switch n := x.(type) {
	case float64:
		return int(n)
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		require.NoError(t, err)
		return int(i)
	}
	t.Fatalf("%s is %T", path, x)
	return 0
}

func TestReplayGPT4oCalculator(t *testing.T) {
	rp, ours := recordingReplay(t, "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr")
	zero := 0.0
	a := newAgent(t, agent.Config{
		Model:        replayModel(t, rp, "gpt-4o"),
		Tools:        []agent.Tool{lctools.FromLangchaingo(tools.Calculator{})},
		SystemPrompt: "You are a helpful assistant that can perform calculations.",
		Temperature:  &zero,
	})
	res, err := a.Run(context.Background(), "What is 15 multiplied by 4?")
	require.NoError(t, err)
	rp.AssertComplete(t)

	ex := rp.Exchanges()
	require.Len(t, ex, 2)
	// The first request is byte-for-byte the recorded one, as JSON.
	require.Len(t, *ours, 2)
	assert.NoError(t, llmtest.MatchBody((*ours)[0], ex[0].Request))

	// The calculator ran for real on the recorded tool call, and its result is the recorded one.
	require.Len(t, res.Steps, 2)
	call := res.Steps[0].ToolCalls[0]
	assert.Equal(t, lookupString(t, ex[0].Response, "choices.0.message.tool_calls.0.function.arguments"), call.Call.Arguments)
	assert.True(t, call.Executed)
	recordedResult := lookupString(t, ex[1].Request, "messages.-1.content")
	assert.Equal(t, "60", recordedResult)
	assert.Equal(t, recordedResult, call.Result.Content)
	assert.Equal(t, recordedResult, lookupString(t, (*ours)[1], "messages.-1.content"))
	assert.Equal(t, lookupString(t, ex[0].Response, "choices.0.message.tool_calls.0.id"), lookupString(t, (*ours)[1], "messages.-1.tool_call_id"))

	// The run ends on the recorded final answer, with the recorded usage.
	assert.Equal(t, lookupString(t, ex[1].Response, "choices.0.message.content"), res.Answer)
	assert.Equal(t, "15 multiplied by 4 is 60.", res.Answer)
	assert.Equal(t, lookupInt(t, ex[0].Response, "usage.prompt_tokens")+lookupInt(t, ex[1].Response, "usage.prompt_tokens"), res.Usage.InputTokens)
	assert.Equal(t, lookupInt(t, ex[0].Response, "usage.completion_tokens")+lookupInt(t, ex[1].Response, "usage.completion_tokens"), res.Usage.OutputTokens)
	assert.Equal(t, llm.FinishToolCalls, res.Steps[0].FinishReason)
	assert.Equal(t, llm.FinishStop, res.Steps[1].FinishReason)
}

// searchFixture stands in for langchaingo's SerpAPI tool: it returns the tool message recorded in
// the trace, under the recorded name and description.
type searchFixture struct {
	description, answer string
	queries             []string
}

func (s *searchFixture) Name() string        { return "GoogleSearch" }
func (s *searchFixture) Description() string { return s.description }
func (s *searchFixture) Call(ctx context.Context, input string) (string, error) {
	s.queries = append(s.queries, input)
	return s.answer, nil
}

func TestReplayGPT4ExecutorSearchFixture(t *testing.T) {
	// The recording also holds the SerpAPI GET; the fixture replaces it, so only OpenAI is replayed.
	rp, ours := recordingReplay(t, "agents/testdata/TestExecutorWithOpenAIFunctionAgent.httprr", llmtest.OnlyHosts("api.openai.com"))
	ex := rp.Exchanges()
	require.Len(t, ex, 2)
	search := &searchFixture{
		description: lookupString(t, ex[0].Request, "tools.0.function.description"),
		answer:      lookupString(t, ex[1].Request, "messages.-1.content"),
	}
	zero := 0.0
	a := newAgent(t, agent.Config{
		Model: replayModel(t, rp, "gpt-4"),
		Tools: []agent.Tool{
			lctools.FromLangchaingo(search),
			lctools.FromLangchaingo(tools.Calculator{}),
		},
		SystemPrompt: "you are a helpful assistant",
		Temperature:  &zero,
	})
	res, err := a.Run(context.Background(), "when was the Go programming language tagged version 1.0?")
	require.NoError(t, err)
	rp.AssertComplete(t)

	// The recorded tool call reached the fixture with the recorded query (gpt-4 sent its arguments
	// pretty-printed: the bridge reads __arg1 from them).
	assert.Equal(t, []string{"Go programming language version 1.0 release date"}, search.queries)
	require.Len(t, *ours, 2)
	assert.Equal(t, search.answer, lookupString(t, (*ours)[1], "messages.-1.content"))
	assert.Equal(t, lookupString(t, ex[1].Request, "messages.-1.tool_call_id"), lookupString(t, (*ours)[1], "messages.-1.tool_call_id"))
	// Our tool definitions are the recorded bytes.
	for _, p := range []string{"tools.0.function.description", "tools.1.function.description", "tools.1.function.name"} {
		assert.Equal(t, lookupString(t, ex[0].Request, p), lookupString(t, (*ours)[0], p), p)
	}
	assert.Equal(t, "The Go programming language version 1.0 was released in March 2012.", res.Answer)
	assert.Equal(t, lookupString(t, ex[1].Response, "choices.0.message.content"), res.Answer)
	assert.Equal(t, 167+lookupInt(t, ex[1].Response, "usage.prompt_tokens"), res.Usage.InputTokens)
}

func TestReplayGPT4oDirectAnswer(t *testing.T) {
	rp, _ := recordingReplay(t, "agents/testdata/TestOpenAIFunctionsAgentComplexCalculation.httprr")
	a := newAgent(t, agent.Config{
		Model:        replayModel(t, rp, "gpt-4o"),
		Tools:        []agent.Tool{lctools.FromLangchaingo(tools.Calculator{})},
		SystemPrompt: "You are a helpful math assistant.",
	})
	res, err := a.Run(context.Background(), "If I have 3 groups of 7 items, and I add 9 more items, how many items do I have in total?")
	require.NoError(t, err)
	rp.AssertComplete(t)
	assert.Equal(t, lookupString(t, rp.Exchanges()[0].Response, "choices.0.message.content"), res.Answer)
	assert.Contains(t, res.Answer, "the total number of items is 30")
	assert.Len(t, res.Steps, 1)
}

func TestReplayMismatchIsReported(t *testing.T) {
	// A request the recording does not hold (another tool set) fails the run and the replay.
	rp, _ := recordingReplay(t, "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr")
	a := newAgent(t, agent.Config{Model: replayModel(t, rp, "gpt-4o"), Tools: []agent.Tool{echoTool()}})
	res, err := a.Run(context.Background(), "What is 15 multiplied by 4?")
	require.Error(t, err)
	require.NotNil(t, res)
	require.ErrorIs(t, rp.Err(), llmtest.ErrReplayMismatch)
	assert.Contains(t, rp.Err().Error(), "tools differ")
}
