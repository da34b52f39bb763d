package langchaingo

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

const anthropicText = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
 "content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","stop_sequence":null,
 "usage":{"input_tokens":10,"output_tokens":3}}`

func anthropicModel(t *testing.T, srv *fakeServer, model string, opts ...Option) *Model {
	t.Helper()
	m, err := Anthropic(model, testAnthropicKey, append([]Option{WithBaseURL(srv.URL + "/v1"), WithHTTPClient(srv.Client())}, opts...)...)
	require.NoError(t, err)
	return m
}

func TestAnthropicRequestWire(t *testing.T) {
	srv := newServer(t, jsonReply(200, anthropicText))
	m := anthropicModel(t, srv, "claude-sonnet-4-5")
	req := conversation()
	req.Messages = append([]llm.Message{req.Messages[0], {Role: llm.RoleSystem, Content: "Cite sources."}}, req.Messages[1:]...)
	_, err := m.Generate(t.Context(), req)
	require.NoError(t, err)

	rec := srv.last(t)
	assert.Equal(t, "/v1/messages", rec.Path)
	assert.Equal(t, testAnthropicKey, rec.Header.Get("X-Api-Key"))
	assert.Equal(t, "2023-06-01", rec.Header.Get("Anthropic-Version"))
	assert.Contains(t, string(rec.Body), `"input_schema":`+searchSchema, "schema bytes must be unchanged")
	assert.Contains(t, string(rec.Body), `"input":{"query": "go", "limit": 2}`, "arguments must be sent verbatim")

	body := srv.lastJSON(t)
	assert.Equal(t, "claude-sonnet-4-5", body["model"])
	assert.Equal(t, "You are terse.\n\nCite sources.", body["system"])
	assert.NotContains(t, body, "temperature", "a nil temperature must not be sent")
	assert.NotContains(t, body, "tool_choice")
	assert.EqualValues(t, 100, body["max_tokens"])
	assert.Equal(t, []any{"END"}, body["stop_sequences"])

	// One assistant turn with all tool calls, one user turn with all results.
	msgs, _ := json.Marshal(body["messages"])
	assert.JSONEq(t, `[
		{"role":"user","content":[{"type":"text","text":"Find Go and Rust."}]},
		{"role":"assistant","content":[
			{"type":"text","text":"Searching both."},
			{"type":"tool_use","id":"call_1","name":"search","input":{"query":"go","limit":2}},
			{"type":"tool_use","id":"call_2","name":"search","input":{"query":"rust"}}]},
		{"role":"user","content":[
			{"type":"tool_result","tool_use_id":"call_1","content":"go.dev"},
			{"type":"tool_result","tool_use_id":"call_2","content":"no results","is_error":true}]}]`, string(msgs))

	tools, _ := json.Marshal(body["tools"])
	assert.JSONEq(t, `[
		{"name":"search","description":"Search the web.","input_schema":`+searchSchema+`},
		{"name":"now","description":"The time.","input_schema":{"type":"object","properties":{}}}]`, string(tools))
}

func TestAnthropicToolChoice(t *testing.T) {
	for _, tc := range []struct{ choice, want string }{
		{"", ""},
		{llm.ToolChoiceAuto, `{"type":"auto"}`},
		{llm.ToolChoiceNone, `{"type":"none"}`},
		{llm.ToolChoiceRequired, `{"type":"any"}`},
		{"search", `{"type":"tool","name":"search"}`},
	} {
		t.Run(tc.choice, func(t *testing.T) {
			srv := newServer(t, jsonReply(200, anthropicText))
			req := conversation()
			req.ToolChoice = tc.choice
			_, err := anthropicModel(t, srv, "claude-sonnet-4-5").Generate(t.Context(), req)
			require.NoError(t, err)
			body := srv.lastJSON(t)
			if tc.want == "" {
				assert.NotContains(t, body, "tool_choice")
				return
			}
			got, _ := json.Marshal(body["tool_choice"])
			assert.JSONEq(t, tc.want, string(got))
		})
	}
}

func TestAnthropicTemperature(t *testing.T) {
	srv := newServer(t, jsonReply(200, anthropicText))
	m := anthropicModel(t, srv, "claude-sonnet-4-5")
	msgs := []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
	_, err := m.Generate(t.Context(), &llm.Request{Messages: msgs, Temperature: ptr(0.5)})
	require.NoError(t, err)
	assert.Equal(t, 0.5, srv.lastJSON(t)["temperature"])
	_, err = m.Generate(t.Context(), &llm.Request{Messages: msgs})
	require.NoError(t, err)
	assert.NotContains(t, srv.lastJSON(t), "temperature")
	assert.EqualValues(t, 2048, srv.lastJSON(t)["max_tokens"], "langchaingo's default output cap")
}

func TestAnthropicInvalidArgumentsInHistory(t *testing.T) {
	srv := newServer(t, jsonReply(200, anthropicText))
	_, err := anthropicModel(t, srv, "claude-sonnet-4-5").Generate(t.Context(), &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "go"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "toolu_1", Name: "search", Arguments: `{"query": "unterminated`}}},
		{Role: llm.RoleTool, ToolCallID: "toolu_1", Content: "invalid JSON arguments", IsError: true},
		{Role: llm.RoleAssistant}, // empty: dropped
		{Role: llm.RoleUser, Content: "again"},
	}})
	require.NoError(t, err, "langchaingo fails on arguments that are not a JSON object; the adapter sends {}")
	msgs, _ := json.Marshal(srv.lastJSON(t)["messages"])
	assert.JSONEq(t, `[
		{"role":"user","content":[{"type":"text","text":"go"}]},
		{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"search","input":{}}]},
		{"role":"user","content":[
			{"type":"tool_result","tool_use_id":"toolu_1","content":"invalid JSON arguments","is_error":true},
			{"type":"text","text":"again"}]}]`, string(msgs))
}

func TestAnthropicResponseMerged(t *testing.T) {
	// Text and two tool_use blocks: langchaingo returns three choices, each with the whole usage.
	// The large integer would not survive langchaingo's map[string]any round trip.
	srv := newServer(t, jsonReply(200, `{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
	  "content":[
	    {"type":"text","text":"Let me check both."},
	    {"type":"tool_use","id":"toolu_a","name":"search","input":{"z": 1, "a": {"n": 12345678901234567890}}},
	    {"type":"text","text":" And the time."},
	    {"type":"tool_use","id":"toolu_b","name":"now","input":{}}],
	  "stop_reason":"tool_use","stop_sequence":null,
	  "usage":{"input_tokens":100,"cache_creation_input_tokens":10,"cache_read_input_tokens":50,"output_tokens":30}}`))
	resp, err := anthropicModel(t, srv, "claude-sonnet-4-5").Generate(t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message: llm.Message{
			Role:    llm.RoleAssistant,
			Content: "Let me check both. And the time.",
			ToolCalls: []llm.ToolCall{
				{ID: "toolu_a", Name: "search", Arguments: `{"z": 1, "a": {"n": 12345678901234567890}}`},
				{ID: "toolu_b", Name: "now", Arguments: `{}`},
			},
		},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 160, OutputTokens: 30, CachedInputTokens: 50},
		Model:        "claude-sonnet-4-5-20250929",
	}, resp)
}

func TestAnthropicStopReasons(t *testing.T) {
	for raw, want := range map[string]llm.FinishReason{
		"end_turn":      llm.FinishStop,
		"stop_sequence": llm.FinishStop,
		"max_tokens":    llm.FinishLength,
		"refusal":       llm.FinishContentFilter,
	} {
		t.Run(raw, func(t *testing.T) {
			srv := newServer(t, jsonReply(200, `{"type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"x"}],"stop_reason":"`+raw+`","usage":{"input_tokens":1,"output_tokens":1}}`))
			resp, err := anthropicModel(t, srv, "claude-sonnet-4-5").Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			require.NoError(t, err)
			assert.Equal(t, want, resp.FinishReason)
		})
	}
}

func TestAnthropicEmptyContent(t *testing.T) {
	srv := newServer(t, jsonReply(200, `{"id":"msg_3","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
	  "content":[],"stop_reason":"end_turn","usage":{"input_tokens":40,"cache_read_input_tokens":8,"output_tokens":1}}`))
	resp, err := anthropicModel(t, srv, "claude-sonnet-4-5").Generate(t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant},
		FinishReason: llm.FinishStop,
		Usage:        llm.Usage{InputTokens: 48, OutputTokens: 1, CachedInputTokens: 8},
		Model:        "claude-sonnet-4-5-20250929",
	}, resp)
}

func TestAnthropicAPIError(t *testing.T) {
	srv := newServer(t, jsonReply(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
		"Request-Id", "req_011abc", "Retry-After", "3"))
	_, err := anthropicModel(t, srv, "claude-sonnet-4-5", WithRetry(RetryPolicy{MaxRetries: -1})).Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, ProviderAnthropic, apiErr.Provider)
	assert.Equal(t, 529, apiErr.StatusCode)
	assert.Equal(t, "overloaded_error", apiErr.Type)
	assert.Equal(t, "Overloaded", apiErr.Message)
	assert.Equal(t, "req_011abc", apiErr.RequestID)
	assert.True(t, apiErr.Retryable())
	assert.Equal(t, "langchaingo anthropic claude-sonnet-4-5: anthropic: HTTP 529 overloaded_error: Overloaded", err.Error())
	assert.NotContains(t, err.Error(), testAnthropicKey)
}
