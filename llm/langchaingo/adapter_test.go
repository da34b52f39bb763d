package langchaingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/autogpt-go/agent/llm"
)

// fakeLLM is an llms.Model that records what it gets and answers with resp (or err). If chunks is
// set and a streaming function was given, it calls it with each chunk, from a goroutine of its
// own when async is set (as langchaingo's Anthropic client does).
type fakeLLM struct {
	mu     sync.Mutex
	msgs   []llms.MessageContent
	opts   llms.CallOptions
	resp   *llms.ContentResponse
	err    error
	chunks []string
	async  bool
}

func (f *fakeLLM) GenerateContent(ctx context.Context, msgs []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	var o llms.CallOptions
	for _, opt := range options {
		opt(&o)
	}
	f.mu.Lock()
	f.msgs, f.opts = msgs, o
	f.mu.Unlock()
	if o.StreamingFunc != nil && len(f.chunks) > 0 {
		send := func() error {
			for _, c := range f.chunks {
				if err := o.StreamingFunc(ctx, []byte(c)); err != nil {
					return fmt.Errorf("streaming func returned an error: %w", err)
				}
			}
			return nil
		}
		var err error
		if f.async {
			done := make(chan error)
			go func() { done <- send() }()
			err = <-done
		} else {
			err = send()
		}
		if err != nil {
			return nil, err
		}
	}
	return f.resp, f.err
}

func (f *fakeLLM) Call(ctx context.Context, prompt string, options ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, f, prompt, options...)
}

func textResponse(text string) *llms.ContentResponse {
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: text, StopReason: "stop"}}}
}

func TestNewMapsMessagesAndOptions(t *testing.T) {
	f := &fakeLLM{resp: textResponse("ok")}
	m := New(f, WithModelName("my-model"))
	assert.Equal(t, "my-model", m.ModelName())
	assert.Equal(t, "", m.Provider())
	assert.Same(t, llms.Model(f), m.LLM())

	req := conversation()
	req.ToolChoice = "search"
	req.Temperature = ptr(0.25)
	_, err := m.Generate(t.Context(), req)
	require.NoError(t, err)

	assert.Equal(t, []llms.MessageContent{
		{Role: llms.ChatMessageTypeSystem, Parts: []llms.ContentPart{llms.TextContent{Text: "You are terse."}}},
		{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.TextContent{Text: "Find Go and Rust."}}},
		{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{
			llms.TextContent{Text: "Searching both."},
			llms.ToolCall{ID: "call_1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "search", Arguments: `{"query": "go", "limit": 2}`}},
			llms.ToolCall{ID: "call_2", Type: "function", FunctionCall: &llms.FunctionCall{Name: "search", Arguments: `{"query":"rust"}`}},
		}},
		{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "call_1", Name: "search", Content: "go.dev"}}},
		{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "call_2", Name: "search", Content: "no results"}}},
	}, f.msgs)

	assert.Equal(t, 100, f.opts.MaxTokens)
	assert.Equal(t, 0.25, f.opts.Temperature)
	assert.Equal(t, []string{"END"}, f.opts.StopWords)
	assert.Equal(t, llms.ToolChoice{Type: "function", Function: &llms.FunctionReference{Name: "search"}}, f.opts.ToolChoice)
	require.Len(t, f.opts.Tools, 2)
	assert.Equal(t, "function", f.opts.Tools[0].Type)
	assert.Equal(t, "search", f.opts.Tools[0].Function.Name)
	assert.Equal(t, "Search the web.", f.opts.Tools[0].Function.Description)
	assert.Equal(t, json.RawMessage(searchSchema), f.opts.Tools[0].Function.Parameters)
	assert.Equal(t, emptySchema, f.opts.Tools[1].Function.Parameters)
	assert.Nil(t, f.opts.Metadata)
}

func TestNewWithReasoningModelNameDropsTemperature(t *testing.T) {
	f := &fakeLLM{resp: textResponse("ok")}
	_, err := New(f, WithModelName("o3-mini")).Generate(t.Context(), &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}, Temperature: ptr(0.9)})
	require.NoError(t, err)
	assert.Zero(t, f.opts.Temperature)
}

func TestNewRecognisesProviders(t *testing.T) {
	a, err := anthropic.New(anthropic.WithToken("k"), anthropic.WithModel("claude-x"), anthropic.WithHTTPClient(http.DefaultClient))
	require.NoError(t, err)
	am := New(a)
	assert.Equal(t, ProviderAnthropic, am.Provider())

	// The Anthropic layout: one langchaingo message per text and per tool call.
	c, err := am.prepare(conversation())
	require.NoError(t, err)
	var roles []llms.ChatMessageType
	for _, msg := range c.msgs {
		roles = append(roles, msg.Role)
		assert.Len(t, msg.Parts, 1)
	}
	assert.Equal(t, []llms.ChatMessageType{
		llms.ChatMessageTypeSystem, llms.ChatMessageTypeHuman,
		llms.ChatMessageTypeAI, llms.ChatMessageTypeAI, llms.ChatMessageTypeAI,
		llms.ChatMessageTypeTool, llms.ChatMessageTypeTool,
	}, roles)

	o, err := openai.New(openai.WithToken("k"), openai.WithModel("gpt-4o"), openai.WithHTTPClient(http.DefaultClient))
	require.NoError(t, err)
	assert.Equal(t, ProviderOpenAI, New(o).Provider())
}

// A model of unknown kind that answers like langchaingo's Anthropic client: one choice per content
// block, each carrying the usage of the whole message.
func TestNewMergesChoicesWithoutDoubleCounting(t *testing.T) {
	info := map[string]any{"InputTokens": 20, "OutputTokens": 9, "CacheCreationInputTokens": 0, "CacheReadInputTokens": 4}
	f := &fakeLLM{resp: &llms.ContentResponse{Choices: []*llms.ContentChoice{
		{Content: "Two calls.", StopReason: "tool_use", GenerationInfo: info},
		{ToolCalls: []llms.ToolCall{{ID: "t1", FunctionCall: &llms.FunctionCall{Name: "a", Arguments: `{"x":1}`}}}, StopReason: "tool_use", GenerationInfo: info},
		{ToolCalls: []llms.ToolCall{{ID: "t2", FunctionCall: &llms.FunctionCall{Name: "b", Arguments: `{}`}}}, StopReason: "tool_use", GenerationInfo: info},
	}}}
	resp, err := New(f).Generate(t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, Content: "Two calls.", ToolCalls: []llm.ToolCall{
			{ID: "t1", Name: "a", Arguments: `{"x":1}`}, {ID: "t2", Name: "b", Arguments: `{}`},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 24, OutputTokens: 9, CachedInputTokens: 4},
	}, resp)
}

func TestUsageFromInfo(t *testing.T) {
	for name, tc := range map[string]struct {
		info map[string]any
		want llm.Usage
		ok   bool
	}{
		"openai":    {map[string]any{"PromptTokens": 100, "CompletionTokens": 20, "PromptCachedTokens": 64, "ReasoningTokens": 8, "CompletionReasoningTokens": 8}, llm.Usage{InputTokens: 100, OutputTokens: 20, CachedInputTokens: 64, ReasoningTokens: 8}, true},
		"anthropic": {map[string]any{"InputTokens": 10, "OutputTokens": 5, "CacheCreationInputTokens": 100, "CacheReadInputTokens": 200}, llm.Usage{InputTokens: 310, OutputTokens: 5, CachedInputTokens: 200}, true},
		"google":    {map[string]any{"input_tokens": int32(50), "PromptTokens": int32(50), "CompletionTokens": int32(7), "CachedTokens": int32(30), "CacheReadInputTokens": int32(30)}, llm.Usage{InputTokens: 50, OutputTokens: 7, CachedInputTokens: 30}, true},
		"ollama":    {map[string]any{"PromptTokens": 11, "CompletionTokens": 2, "TotalTokens": 13, "CachedTokens": 5}, llm.Usage{InputTokens: 11, OutputTokens: 2}, true},
		"bedrock":   {map[string]any{"input_tokens": 3, "output_tokens": 4}, llm.Usage{InputTokens: 3, OutputTokens: 4}, true},
		"float":     {map[string]any{"PromptTokens": 3.0, "CompletionTokens": json.Number("4")}, llm.Usage{InputTokens: 3, OutputTokens: 4}, true},
		"none":      {map[string]any{"model": "x"}, llm.Usage{}, false},
		"nil":       {nil, llm.Usage{}, false},
	} {
		got, ok := usageFromInfo(tc.info)
		assert.Equal(t, tc.ok, ok, name)
		assert.Equal(t, tc.want, got, name)
	}
}

func TestNewModelFromGenerationInfo(t *testing.T) {
	f := &fakeLLM{resp: &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: "hi", StopReason: "stop", GenerationInfo: map[string]any{"model": "mistral-small-2409"}}}}}
	resp, err := New(f).Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	require.NoError(t, err)
	assert.Equal(t, "mistral-small-2409", resp.Model)
}

func TestNewErrors(t *testing.T) {
	f := &fakeLLM{err: errors.New("boom")}
	_, err := New(f).Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	assert.EqualError(t, err, "langchaingo model: boom")

	f = &fakeLLM{resp: &llms.ContentResponse{}}
	_, err = New(f, WithModelName("m")).Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	assert.EqualError(t, err, "langchaingo model m: empty response: no choices")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f = &fakeLLM{err: errors.New("request cancelled")} // what langchaingo returns instead of ctx.Err()
	_, err = New(f).Generate(ctx, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestStreamOfModelThatDoesNotStream(t *testing.T) {
	f := &fakeLLM{resp: textResponse("all at once")}
	deltas, final, err := collectStream(t, New(f), t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"all at once"}, deltas)
	assert.Equal(t, "all at once", final.Message.Content)
}

func TestStreamCallbackFromAnotherGoroutine(t *testing.T) {
	f := &fakeLLM{resp: textResponse("abc"), chunks: []string{"a", "", "b", "c"}, async: true}
	deltas, final, err := collectStream(t, New(f), t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, deltas)
	assert.Equal(t, "abc", final.Message.Content)
	assert.Equal(t, llm.FinishStop, final.FinishReason)

	// Stopping early makes the streaming function fail, which ends the call.
	f = &fakeLLM{resp: textResponse("abc"), chunks: []string{"a", "b", "c"}, async: true}
	for c := range New(f).Stream(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}}) {
		assert.Equal(t, "a", c.Text)
		break
	}
}

func TestStreamDeltasCompletedByRest(t *testing.T) {
	// The model streamed only a prefix of its final text: the rest comes as one more delta.
	f := &fakeLLM{resp: textResponse("Hello world"), chunks: []string{"Hello"}}
	deltas, final, err := collectStream(t, New(f), t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Hello", " world"}, deltas)
	assert.Equal(t, "Hello world", final.Message.Content)
}
