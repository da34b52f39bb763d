package llmtest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/autogpt-go/agent/llm/llmtest"
)

// These tests drive langchaingo's real OpenAI client against the traffic langchaingo recorded for
// its own agent test, at the llms level: the replay stands in for api.openai.com.

var calculatorTool = llms.Tool{
	Type: "function",
	Function: &llms.FunctionDefinition{
		Name: "calculator",
		Description: "Useful for getting the result of a math expression. \n\tThe input to this tool should be " +
			"a valid mathematical expression that could be executed by a starlark evaluator.",
		Parameters: json.RawMessage(`{"properties":{"__arg1":{"title":"__arg1","type":"string"}},"required":["__arg1"],"type":"object"}`),
	},
}

var calcPrompt = []llms.MessageContent{
	llms.TextParts(llms.ChatMessageTypeSystem, "You are a helpful assistant that can perform calculations."),
	llms.TextParts(llms.ChatMessageTypeHuman, "What is 15 multiplied by 4?"),
}

// newOpenAI returns langchaingo's OpenAI client with every setting explicit (fake key, base URL,
// no organization), so a developer's OPENAI_* variables play no part.
func newOpenAI(t *testing.T, opts ...openai.Option) *openai.LLM {
	t.Helper()
	base := []openai.Option{
		openai.WithToken("test-api-key"),
		openai.WithModel("gpt-4o"),
		openai.WithBaseURL("https://api.openai.com/v1"),
		openai.WithOrganization(""),
	}
	m, err := openai.New(append(base, opts...)...)
	require.NoError(t, err)
	return m
}

func TestLangchaingoOpenAIReplay(t *testing.T) {
	ctx := context.Background()
	replay, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr"))
	require.NoError(t, err)
	model := newOpenAI(t, openai.WithHTTPClient(replay.Client()))

	resp, err := model.GenerateContent(ctx, calcPrompt, llms.WithTools([]llms.Tool{calculatorTool}), llms.WithTemperature(0))
	require.NoError(t, err)
	require.Len(t, resp.Choices, 1)
	require.Len(t, resp.Choices[0].ToolCalls, 1)
	call := resp.Choices[0].ToolCalls[0]
	assert.Equal(t, "calculator", call.FunctionCall.Name)
	assert.JSONEq(t, `{"__arg1":"15 * 4"}`, call.FunctionCall.Arguments)
	assert.Equal(t, "call_sgvhmmuASadOaDtd93TmrUsY", call.ID)

	// Send the tool result back, as the recorded run did, and get the final answer.
	history := append(calcPrompt,
		llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{call}},
		llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
			llms.ToolCallResponse{ToolCallID: call.ID, Name: "calculator", Content: "60"},
		}},
	)
	resp, err = model.GenerateContent(ctx, history, llms.WithTools([]llms.Tool{calculatorTool}), llms.WithTemperature(0))
	require.NoError(t, err)
	assert.Contains(t, resp.Choices[0].Content, "60")
	assert.Empty(t, resp.Choices[0].ToolCalls)
	replay.AssertComplete(t)

	// What the client sent for the tool result is what the recording holds.
	sent := replay.Requests()
	got, err := sent[1].Lookup("messages.-1.content")
	require.NoError(t, err)
	assert.Equal(t, "60", got)

	// A third call has nothing to replay: the client gets an error, and no network is touched.
	// langchaingo turns transport errors into "network error: failed to reach API server" without
	// wrapping them, so the detail is read from the Replay.
	_, err = model.GenerateContent(ctx, calcPrompt, llms.WithTools([]llms.Tool{calculatorTool}))
	require.Error(t, err)
	require.ErrorIs(t, replay.Err(), llmtest.ErrReplayExtra)
	assert.Len(t, replay.Requests(), 3)
}

// The same first call, through a test server given as base URL, with the body compared exactly.
func TestLangchaingoOpenAIServerExactBody(t *testing.T) {
	ctx := context.Background()
	ex, err := llmtest.ReadTrace(llmtest.LangchaingoFile(t, "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr"))
	require.NoError(t, err)
	replay := llmtest.NewReplay(ex[:1], llmtest.WithMatcher(llmtest.MatchAll(llmtest.DefaultMatcher, llmtest.MatchBody)))
	srv := replay.Server(t)
	model := newOpenAI(t, openai.WithBaseURL(srv.URL+"/v1"), openai.WithHTTPClient(srv.Client()))

	resp, err := model.GenerateContent(ctx, calcPrompt, llms.WithTools([]llms.Tool{calculatorTool}), llms.WithTemperature(0))
	require.NoError(t, err)
	require.Len(t, resp.Choices[0].ToolCalls, 1)
	assert.Equal(t, "calculator", resp.Choices[0].ToolCalls[0].FunctionCall.Name)
	replay.AssertComplete(t)
}

// A client offering different tools is told precisely what differs.
func TestLangchaingoOpenAIToolMismatch(t *testing.T) {
	ctx := context.Background()
	replay, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, "agents/testdata/TestExecutorWithOpenAIFunctionAgent.httprr"),
		llmtest.OnlyHosts("api.openai.com"))
	require.NoError(t, err)
	model := newOpenAI(t, openai.WithModel("gpt-4"), openai.WithHTTPClient(replay.Client()))
	_, err = model.GenerateContent(ctx, calcPrompt, llms.WithTools([]llms.Tool{calculatorTool}))
	require.Error(t, err) // langchaingo does not wrap the transport's error: read it from the Replay
	err = replay.Err()
	require.ErrorIs(t, err, llmtest.ErrReplayMismatch)
	assert.ErrorContains(t, err, "request 1: tools differ: got [calculator] want [GoogleSearch calculator]")
	assert.Equal(t, 2, replay.Remaining())
	assert.Len(t, replay.Requests(), 1, "the client did not retry")
}
