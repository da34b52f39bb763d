package langchaingo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

const openAIText = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`

func openAIModel(t *testing.T, srv *fakeServer, model string, opts ...Option) *Model {
	t.Helper()
	m, err := OpenAI(model, testOpenAIKey, append([]Option{WithBaseURL(srv.URL + "/v1"), WithHTTPClient(srv.Client())}, opts...)...)
	require.NoError(t, err)
	return m
}

// The schema as a caller wrote it: whitespace, key order and characters encoding/json would
// escape must all reach the provider unchanged.
const searchSchema = `{"type": "object",
  "properties": {"query": {"type": "string", "description": "terms, <b>bold</b> & more"},
                 "limit": {"type": "integer"}},
  "required": ["query"]}`

func conversation() *llm.Request {
	return &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are terse."},
			{Role: llm.RoleUser, Content: "Find Go and Rust."},
			{Role: llm.RoleAssistant, Content: "Searching both.", ToolCalls: []llm.ToolCall{
				{ID: "call_1", Name: "search", Arguments: `{"query": "go", "limit": 2}`},
				{ID: "call_2", Name: "search", Arguments: `{"query":"rust"}`},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Name: "search", Content: "go.dev"},
			{Role: llm.RoleTool, ToolCallID: "call_2", Name: "search", Content: "no results", IsError: true},
		},
		Tools: []llm.ToolSpec{
			{Name: "search", Description: "Search the web.", Parameters: json.RawMessage(searchSchema)},
			{Name: "now", Description: "The time."},
		},
		MaxOutputTokens: 100,
		Stop:            []string{"END"},
	}
}

func TestOpenAIRequestWire(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	m := openAIModel(t, srv, "gpt-4o")
	req := conversation()
	before, _ := json.Marshal(req)

	_, err := m.Generate(t.Context(), req)
	require.NoError(t, err)

	after, _ := json.Marshal(req)
	assert.JSONEq(t, string(before), string(after), "Generate must not modify the request")

	rec := srv.last(t)
	assert.Equal(t, "/v1/chat/completions", rec.Path)
	assert.Equal(t, "Bearer "+testOpenAIKey, rec.Header.Get("Authorization"))
	assert.Empty(t, rec.Header.Get("OpenAI-Organization"))

	// Tool definitions: the schema bytes exactly as given, and the default schema for none.
	assert.Contains(t, string(rec.Body), `"parameters":`+searchSchema)
	assert.Contains(t, string(rec.Body), `"parameters":{"type":"object","properties":{}}`)

	body := srv.lastJSON(t)
	assert.Equal(t, "gpt-4o", body["model"])
	assert.NotContains(t, body, "temperature", "a nil temperature must not be sent")
	assert.NotContains(t, body, "tool_choice")
	assert.EqualValues(t, 100, body["max_completion_tokens"])
	assert.NotContains(t, body, "max_tokens")
	assert.Equal(t, []any{"END"}, body["stop"])

	msgs, _ := json.Marshal(body["messages"])
	assert.JSONEq(t, `[
		{"role":"system","content":"You are terse."},
		{"role":"user","content":"Find Go and Rust."},
		{"role":"assistant","content":"Searching both.","tool_calls":[
			{"id":"call_1","type":"function","function":{"name":"search","arguments":"{\"query\": \"go\", \"limit\": 2}"}},
			{"id":"call_2","type":"function","function":{"name":"search","arguments":"{\"query\":\"rust\"}"}}]},
		{"role":"tool","content":"go.dev","tool_call_id":"call_1"},
		{"role":"tool","content":"no results","tool_call_id":"call_2"}]`, string(msgs))

	tools, _ := json.Marshal(body["tools"])
	assert.JSONEq(t, `[
		{"type":"function","function":{"name":"search","description":"Search the web.","parameters":`+searchSchema+`}},
		{"type":"function","function":{"name":"now","description":"The time.","parameters":{"type":"object","properties":{}}}}]`,
		string(tools))
}

// Without this package's HTTP layer, langchaingo still passes a json.RawMessage schema through
// encoding/json unchanged apart from compaction: key order is kept.
func TestRawMessageSchemaThroughLangchaingo(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	m := openAIModel(t, srv, "gpt-4o")
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, []byte(`{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"integer"}},"required":["z"]}`)))
	c, err := m.prepare(&llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
		Tools:    []llm.ToolSpec{{Name: "t", Parameters: compact.Bytes()}},
	})
	require.NoError(t, err)
	c.schemas = nil // switch the schema substitution off: what langchaingo sends by itself
	_, err = m.run(t.Context(), c, nil)
	require.NoError(t, err)
	assert.Contains(t, string(srv.last(t).Body), `"parameters":`+compact.String())
}

func TestOpenAIToolChoice(t *testing.T) {
	for _, tc := range []struct {
		choice string
		want   string // JSON of tool_choice; "" for absent
	}{
		{"", ""},
		{llm.ToolChoiceAuto, `"auto"`},
		{llm.ToolChoiceNone, `"none"`},
		{llm.ToolChoiceRequired, `"required"`},
		{"search", `{"type":"function","function":{"name":"search"}}`},
	} {
		t.Run(tc.choice, func(t *testing.T) {
			srv := newServer(t, jsonReply(200, openAIText))
			m := openAIModel(t, srv, "gpt-4o")
			req := conversation()
			req.ToolChoice = tc.choice
			_, err := m.Generate(t.Context(), req)
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

func TestToolChoiceWithoutToolsIsNotSent(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	m := openAIModel(t, srv, "gpt-4o")
	_, err := m.Generate(t.Context(), &llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
		ToolChoice: llm.ToolChoiceRequired,
	})
	require.NoError(t, err)
	assert.NotContains(t, srv.lastJSON(t), "tool_choice")
	assert.NotContains(t, srv.lastJSON(t), "tools")
}

func TestOpenAITemperature(t *testing.T) {
	for _, tc := range []struct {
		model string
		temp  *float64
		want  *float64 // nil: not sent
	}{
		{"gpt-4o", nil, nil},
		{"gpt-4o", ptr(0.3), ptr(0.3)},
		{"gpt-4o", ptr(0.0), ptr(0.0)},
		{"o1", ptr(0.3), nil},
		{"o1-mini", ptr(0.3), nil},
		{"o3", ptr(0.3), nil},
		{"o3-mini", ptr(0.3), nil},
		{"o4-mini", ptr(0.7), nil},
		{"gpt-5", ptr(0.3), nil},
		{"gpt-5-mini", ptr(0.3), nil},
		{"openai/o4-mini", ptr(0.3), nil},
		{"o1", nil, nil},
	} {
		t.Run(tc.model, func(t *testing.T) {
			srv := newServer(t, jsonReply(200, openAIText))
			m := openAIModel(t, srv, tc.model)
			_, err := m.Generate(t.Context(), &llm.Request{
				Messages:    []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
				Temperature: tc.temp,
			})
			require.NoError(t, err)
			body := srv.lastJSON(t)
			if tc.want == nil {
				assert.NotContains(t, body, "temperature")
			} else {
				assert.Equal(t, *tc.want, body["temperature"])
			}
		})
	}
}

func TestIsReasoningModel(t *testing.T) {
	for name, want := range map[string]bool{
		"o1": true, "o1-preview": true, "o3": true, "o3-mini-2025-01-31": true, "o4-mini": true,
		"gpt-5": true, "gpt-5-nano": true, "GPT-5": true, "openrouter/openai/o3": true,
		"gpt-4o": false, "gpt-4.1": false, "omni": false, "o": false, "ollama": false, "llama3.2": false,
		"claude-sonnet-4-5": false, "": false,
	} {
		assert.Equal(t, want, isReasoningModel(name), name)
	}
}

func TestMaxTokensField(t *testing.T) {
	req := func(n int) *llm.Request {
		return &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}, MaxOutputTokens: n}
	}
	srv := newServer(t, jsonReply(200, openAIText))

	openaiModel := openAIModel(t, srv, "gpt-4o")
	_, err := openaiModel.Generate(t.Context(), req(50))
	require.NoError(t, err)
	assert.EqualValues(t, 50, srv.lastJSON(t)["max_completion_tokens"])
	assert.NotContains(t, srv.lastJSON(t), "max_tokens")

	_, err = openaiModel.Generate(t.Context(), req(0))
	require.NoError(t, err)
	assert.NotContains(t, srv.lastJSON(t), "max_completion_tokens")
	assert.NotContains(t, srv.lastJSON(t), "max_tokens")

	compat, err := OpenAICompatible(srv.URL+"/v1", "qwen", "", WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = compat.Generate(t.Context(), req(50))
	require.NoError(t, err)
	assert.EqualValues(t, 50, srv.lastJSON(t)["max_tokens"])
	assert.NotContains(t, srv.lastJSON(t), "max_completion_tokens")
	assert.NotContains(t, srv.lastJSON(t), "metadata", "the internal metadata key must not be sent")

	modern, err := OpenAICompatible(srv.URL+"/v1", "qwen", "", WithHTTPClient(srv.Client()), WithLegacyMaxTokens(false))
	require.NoError(t, err)
	_, err = modern.Generate(t.Context(), req(50))
	require.NoError(t, err)
	assert.EqualValues(t, 50, srv.lastJSON(t)["max_completion_tokens"])
}

func TestOpenAICompatibleWithoutKeySendsNoAuthorization(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	m, err := OpenAICompatible(srv.URL+"/v1/", "llama3.2", "", WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = m.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	rec := srv.last(t)
	assert.Equal(t, "/v1/chat/completions", rec.Path)
	assert.NotContains(t, rec.Header, "Authorization")
	assert.Equal(t, ProviderOpenAICompatible, m.Provider())
	assert.Equal(t, "llama3.2", m.ModelName())

	withKey, err := OpenAICompatible(srv.URL+"/v1", "x", "or-key-123456789", WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = withKey.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	assert.Equal(t, "Bearer or-key-123456789", srv.last(t).Header.Get("Authorization"))
}

// langchaingo's openai.New reads OPENAI_* variables on its own; the constructors must not.
func TestConstructorsIgnoreEnvironment(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-env-must-not-be-used")
	t.Setenv("OPENAI_MODEL", "env-model")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/env")
	t.Setenv("OPENAI_API_BASE", "http://127.0.0.1:1/env")
	t.Setenv("OPENAI_ORGANIZATION", "org-env")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-env-must-not-be-used")

	srv := newServer(t, jsonReply(200, openAIText))
	m := openAIModel(t, srv, "gpt-4o")
	_, err := m.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	rec := srv.last(t)
	assert.Equal(t, "Bearer "+testOpenAIKey, rec.Header.Get("Authorization"))
	assert.Empty(t, rec.Header.Get("OpenAI-Organization"))
	assert.Equal(t, "gpt-4o", srv.lastJSON(t)["model"])

	compat, err := OpenAICompatible(srv.URL+"/v1", "local", "", WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = compat.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	assert.NotContains(t, srv.last(t).Header, "Authorization")

	asrv := newServer(t, jsonReply(200, anthropicText))
	a := anthropicModel(t, asrv, "claude-sonnet-4-5")
	_, err = a.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	assert.Equal(t, testAnthropicKey, asrv.last(t).Header.Get("X-Api-Key"))
}

func TestConstructorErrors(t *testing.T) {
	_, err := OpenAI("gpt-4o", "")
	assert.Error(t, err)
	_, err = OpenAI("", "k")
	assert.Error(t, err)
	_, err = OpenAI("gpt-4o", "k", WithBaseURL("api.openai.com"))
	assert.Error(t, err)
	_, err = OpenAICompatible("", "m", "")
	assert.Error(t, err)
	_, err = OpenAICompatible("localhost:8080/v1", "m", "")
	assert.Error(t, err)
	_, err = Anthropic("claude-sonnet-4-5", "")
	assert.Error(t, err)
	_, err = Anthropic("", "k")
	assert.Error(t, err)
	assert.Panics(t, func() { New(nil) })
}

func TestOpenAIResponse(t *testing.T) {
	// Arguments with unusual spacing and key order must come back byte for byte.
	srv := newServer(t, jsonReply(200, `{
	  "id": "chatcmpl-2", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
	  "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
	    "tool_calls": [
	      {"id": "call_a", "type": "function", "function": {"name": "search", "arguments": "{\"z\": 1,  \"a\":[1,2]}"}},
	      {"id": "call_b", "type": "function", "function": {"name": "now", "arguments": "{}"}}]}}],
	  "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280,
	    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
	    "completion_tokens_details": {"reasoning_tokens": 64, "audio_tokens": 0}}}`))
	m := openAIModel(t, srv, "gpt-4o")
	resp, err := m.Generate(t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "call_a", Name: "search", Arguments: `{"z": 1,  "a":[1,2]}`},
			{ID: "call_b", Name: "now", Arguments: `{}`},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 1200, OutputTokens: 80, CachedInputTokens: 1024, ReasoningTokens: 64},
		Model:        "gpt-4o-2024-08-06",
	}, resp)
}

func TestOpenAIFinishReasons(t *testing.T) {
	for raw, want := range map[string]llm.FinishReason{
		"stop":           llm.FinishStop,
		"length":         llm.FinishLength,
		"content_filter": llm.FinishContentFilter,
		"tool_calls":     llm.FinishToolCalls,
	} {
		t.Run(raw, func(t *testing.T) {
			srv := newServer(t, jsonReply(200, `{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"`+raw+`"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`))
			resp, err := openAIModel(t, srv, "gpt-4o").Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			require.NoError(t, err)
			assert.Equal(t, want, resp.FinishReason)
		})
	}
}

func TestNormalizeFinish(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		tools bool
		want  llm.FinishReason
	}{
		{"stop", false, llm.FinishStop},
		{"end_turn", false, llm.FinishStop},
		{"stop_sequence", false, llm.FinishStop},
		{"STOP", false, llm.FinishStop},
		{"tool_use", true, llm.FinishToolCalls},
		{"function_call", false, llm.FinishToolCalls},
		{"max_tokens", false, llm.FinishLength},
		{"MAX_TOKENS", false, llm.FinishLength},
		{"refusal", false, llm.FinishContentFilter},
		{"SAFETY", false, llm.FinishContentFilter},
		{"", false, llm.FinishUnknown},
		{"stop", true, llm.FinishToolCalls}, // compatible servers that say "stop" with tool calls
		{"", true, llm.FinishToolCalls},
		{"length", true, llm.FinishLength},
		{"pause_turn", false, llm.FinishReason("pause_turn")},
	} {
		assert.Equal(t, tc.want, normalizeFinish(tc.raw, tc.tools), "%q tools=%v", tc.raw, tc.tools)
	}
}

func TestOpenAIAPIError(t *testing.T) {
	srv := newServer(t, jsonReply(429,
		`{"error":{"message":"Rate limit reached for gpt-4o.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
		"Retry-After", "7", "X-Request-Id", "req_123", "X-Ratelimit-Remaining-Requests", "0"))
	m := openAIModel(t, srv, "gpt-4o", WithRetry(RetryPolicy{MaxRetries: -1})) // retries: retry_test.go
	_, err := m.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.Error(t, err)

	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 1, apiErr.Attempts)
	assert.Equal(t, ProviderOpenAI, apiErr.Provider)
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Equal(t, "requests", apiErr.Type)
	assert.Equal(t, "rate_limit_exceeded", apiErr.Code)
	assert.Equal(t, "Rate limit reached for gpt-4o.", apiErr.Message)
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "req_123", apiErr.RequestID)
	assert.Equal(t, "0", apiErr.Header.Get("X-Ratelimit-Remaining-Requests"))
	assert.True(t, apiErr.Retryable())
	assert.Equal(t, "langchaingo openai gpt-4o: openai: HTTP 429 rate_limit_exceeded: Rate limit reached for gpt-4o.", err.Error())
	// langchaingo's own error stays in the chain.
	assert.Contains(t, errors.Unwrap(apiErr).Error(), "API returned unexpected status code: 429")
	assert.NotContains(t, err.Error(), testOpenAIKey)
}

func TestAPIErrorKeepsKeyOut(t *testing.T) {
	srv := newServer(t, jsonReply(401, `{"error":{"message":"Incorrect API key provided: `+testOpenAIKey+`.","type":"invalid_request_error","code":"invalid_api_key"}}`))
	m := openAIModel(t, srv, "gpt-4o")
	_, err := m.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testOpenAIKey)
	assert.Contains(t, err.Error(), "[redacted]")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, apiErr.Message, testOpenAIKey)
	assert.False(t, apiErr.Retryable())
	assert.Equal(t, 401, apiErr.StatusCode)
}

func TestAPIErrorNonJSONBody(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	})
	_, err := openAIModel(t, srv, "gpt-4o").Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.Equal(t, "<html>bad gateway</html>", apiErr.Message)
	assert.Greater(t, apiErr.RetryAfter, 59*time.Minute)
	assert.True(t, apiErr.Retryable())
}

func TestTransportErrorKeptInChain(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	url := srv.URL
	srv.Close() // nothing listens there any more
	m, err := OpenAI("gpt-4o", testOpenAIKey, WithBaseURL(url+"/v1"), WithRetry(RetryPolicy{MaxRetries: -1}))
	require.NoError(t, err)
	_, err = m.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.Error(t, err)
	var opErr interface{ Timeout() bool } // *url.Error and *net.OpError both have it
	assert.ErrorAs(t, err, &opErr, "the transport error must stay reachable: %v", err)
	assert.Contains(t, err.Error(), "connection refused")
}

func TestInvalidRequests(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	m := openAIModel(t, srv, "gpt-4o")
	user := []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
	for name, req := range map[string]*llm.Request{
		"nil":             nil,
		"role":            {Messages: []llm.Message{{Role: "narrator", Content: "x"}}},
		"tool without id": {Messages: []llm.Message{{Role: llm.RoleTool, Content: "x"}}},
		"tool name":       {Messages: user, Tools: []llm.ToolSpec{{Name: ""}}},
		"schema":          {Messages: user, Tools: []llm.ToolSpec{{Name: "t", Parameters: json.RawMessage(`{"type":`)}}},
		"choice":          {Messages: user, Tools: []llm.ToolSpec{{Name: "t"}}, ToolChoice: "other"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := m.Generate(t.Context(), req)
			assert.ErrorIs(t, err, ErrInvalidRequest)
			var last error
			for _, err := range m.Stream(t.Context(), req) {
				last = err
			}
			assert.ErrorIs(t, last, ErrInvalidRequest)
		})
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Empty(t, srv.reqs, "no request may be sent for an invalid llm.Request")
}

func TestGenerateCancelled(t *testing.T) {
	arrived := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select { // hold the reply until the client goes away
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	m := openAIModel(t, srv, "gpt-4o")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := m.Generate(ctx, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.True(t, strings.HasPrefix(err.Error(), "langchaingo openai gpt-4o: context canceled"), err.Error())
}

func TestGenerateDeadline(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := openAIModel(t, srv, "gpt-4o").Generate(ctx, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
