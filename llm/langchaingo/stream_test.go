package langchaingo

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/autogpt-go/agent/llm"
)

// collect runs a stream to its end and returns the text deltas, the final response and the error.
// Tool-call fragments are skipped (stream_deltas_test.go checks them).
func collectStream(t *testing.T, s llm.Streamer, ctx context.Context, req *llm.Request) ([]string, *llm.Response, error) {
	t.Helper()
	var deltas []string
	var final *llm.Response
	for c, err := range s.Stream(ctx, req) {
		if err != nil {
			return deltas, final, err
		}
		require.Nil(t, final, "nothing may follow the final chunk")
		if c.Response != nil {
			final = c.Response
			assert.Empty(t, c.Text)
			continue
		}
		if c.ToolCall != nil {
			assert.Empty(t, c.Text, "a chunk carries text or a tool-call fragment, not both")
			continue
		}
		assert.NotEmpty(t, c.Text, "a chunk without Response or ToolCall carries text")
		deltas = append(deltas, c.Text)
	}
	return deltas, final, nil
}

var openAITextStream = []string{
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}`,
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}`,
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":" there."},"finish_reason":null}],"usage":null}`,
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`,
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`,
	`[DONE]`,
}

func TestOpenAIStreamText(t *testing.T) {
	req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}

	ssrv := newServer(t, sseReply(openAITextStream...))
	deltas, final, err := collectStream(t, openAIModel(t, ssrv, "gpt-4o"), t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, []string{"Hello", " there."}, deltas)
	body := ssrv.lastJSON(t)
	assert.Equal(t, true, body["stream"])
	assert.NotContains(t, body, "temperature")

	jsrv := newServer(t, jsonReply(200, openAIText))
	want, err := openAIModel(t, jsrv, "gpt-4o").Generate(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, want, final, "the final chunk must equal Generate's answer")
	assert.Equal(t, llm.Usage{InputTokens: 12, OutputTokens: 3}, final.Usage)
}

// Two parallel tool calls whose argument fragments interleave by index: langchaingo's own
// assembly appends every fragment to the last call; the adapter assembles by index.
func TestOpenAIStreamToolCallsByIndex(t *testing.T) {
	srv := newServer(t, sseReply(
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":"Checking."},"finish_reason":null}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"search","arguments":""}}]},"finish_reason":null}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"now","arguments":""}}]},"finish_reason":null}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"query\": "}}]},"finish_reason":null}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"go\"}"}}]},"finish_reason":null}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":20,"total_tokens":70,"prompt_tokens_details":{"cached_tokens":32}}}`,
		`[DONE]`,
	))
	deltas, final, err := collectStream(t, openAIModel(t, srv, "gpt-4o"), t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, []string{"Checking."}, deltas, "tool-call fragments are not text")
	assert.Equal(t, &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, Content: "Checking.", ToolCalls: []llm.ToolCall{
			{ID: "call_a", Name: "search", Arguments: `{"query": "go"}`},
			{ID: "call_b", Name: "now", Arguments: `{}`},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 50, OutputTokens: 20, CachedInputTokens: 32},
		Model:        "gpt-4o-2024-08-06",
	}, final)
}

func TestIsToolDeltaChunk(t *testing.T) {
	assert.True(t, isToolDeltaChunk([]byte(`[{"id":"call_a","type":"function","function":{"name":"search","arguments":""}}]`)))
	assert.True(t, isToolDeltaChunk([]byte(`[{"type":"","function":{"name":"","arguments":"{\"q\":"}}]`)))
	assert.False(t, isToolDeltaChunk([]byte(`[1, 2]`)))
	assert.False(t, isToolDeltaChunk([]byte(`[{"type": "", "function": {"name": "", "arguments": ""}}]`)), "not langchaingo's encoding")
	assert.False(t, isToolDeltaChunk([]byte(`["a"]`)))
	assert.False(t, isToolDeltaChunk([]byte(`[`)))
}

func anthropicSSE(events ...[2]string) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = "event: " + e[0] + "\ndata: " + e[1]
	}
	return out
}

func TestAnthropicStream(t *testing.T) {
	srv := newServer(t, sseReply(anthropicSSE(
		[2]string{"message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":50,"output_tokens":1}}}`},
		[2]string{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
		[2]string{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}`},
		[2]string{"ping", `{"type": "ping"}`},
		[2]string{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}`},
		[2]string{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		[2]string{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"search","input":{}}}`},
		[2]string{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"z\": 1, \"a\""}}`},
		[2]string{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":": [1,2]}"}}`},
		[2]string{"content_block_stop", `{"type":"content_block_stop","index":1}`},
		[2]string{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}`},
		[2]string{"message_stop", `{"type":"message_stop"}`},
	)...))
	deltas, final, err := collectStream(t, anthropicModel(t, srv, "claude-sonnet-4-5"), t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, []string{"Let me ", "check."}, deltas)
	assert.Equal(t, true, srv.lastJSON(t)["stream"])

	want := &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, Content: "Let me check.", ToolCalls: []llm.ToolCall{
			{ID: "toolu_a", Name: "search", Arguments: `{"z": 1, "a": [1,2]}`},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 150, OutputTokens: 42, CachedInputTokens: 50},
		Model:        "claude-sonnet-4-5-20250929",
	}
	assert.Equal(t, want, final)

	jsrv := newServer(t, jsonReply(200, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
	  "content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_a","name":"search","input":{"z": 1, "a": [1,2]}}],
	  "stop_reason":"tool_use","usage":{"input_tokens":100,"cache_read_input_tokens":50,"output_tokens":42}}`))
	got, err := anthropicModel(t, jsrv, "claude-sonnet-4-5").Generate(t.Context(), conversation())
	require.NoError(t, err)
	assert.Equal(t, want, got, "Generate and Stream must agree")
}

func TestAnthropicStreamEmpty(t *testing.T) {
	srv := newServer(t, sseReply(anthropicSSE(
		[2]string{"message_start", `{"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":7,"output_tokens":1}}}`},
		[2]string{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`},
		[2]string{"message_stop", `{"type":"message_stop"}`},
	)...))
	deltas, final, err := collectStream(t, anthropicModel(t, srv, "claude-sonnet-4-5"), t.Context(), conversation())
	require.NoError(t, err)
	assert.Empty(t, deltas)
	assert.Equal(t, &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant},
		FinishReason: llm.FinishStop,
		Usage:        llm.Usage{InputTokens: 7, OutputTokens: 2},
		Model:        "claude-sonnet-4-5-20250929",
	}, final)
}

// holdingServer streams the first event of stream, then holds the connection open until the client
// goes away; gone is closed when it does.
func holdingServer(t *testing.T, first string) (*fakeServer, chan struct{}) {
	gone := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: " + first + "\n\n"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(gone)
		case <-time.After(10 * time.Second):
		}
	})
	return srv, gone
}

func TestStreamConsumerStops(t *testing.T) {
	srv, gone := holdingServer(t, openAITextStream[1])
	m := openAIModel(t, srv, "gpt-4o")
	start := time.Now()
	n := 0
	for c, err := range m.Stream(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
		require.NoError(t, err)
		assert.Equal(t, "Hello", c.Text)
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Less(t, time.Since(start), 2*time.Second)
	select {
	case <-gone: // the HTTP request was cancelled
	case <-time.After(2 * time.Second):
		t.Fatal("the server still holds the request after the consumer stopped")
	}
}

func TestStreamCancelled(t *testing.T) {
	srv, _ := holdingServer(t, openAITextStream[1])
	m := openAIModel(t, srv, "gpt-4o")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := time.Now()
	var texts []string
	var last error
	for c, err := range m.Stream(ctx, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
		if err != nil {
			last = err
			continue
		}
		require.Nil(t, c.Response)
		texts = append(texts, c.Text)
		cancel()
	}
	assert.Equal(t, []string{"Hello"}, texts)
	assert.ErrorIs(t, last, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestStreamLoopBodyPanics(t *testing.T) {
	srv, gone := holdingServer(t, openAITextStream[1])
	m := openAIModel(t, srv, "gpt-4o")
	assert.PanicsWithValue(t, "boom", func() {
		for range m.Stream(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
			panic("boom")
		}
	})
	select {
	case <-gone:
	case <-time.After(2 * time.Second):
		t.Fatal("the request outlived a panicking loop body")
	}
}

func TestStreamErrorReply(t *testing.T) {
	srv := newServer(t, jsonReply(400, `{"error":{"message":"bad tool schema","type":"invalid_request_error","code":null}}`))
	_, _, err := collectStream(t, openAIModel(t, srv, "gpt-4o"), t.Context(), conversation())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.True(t, strings.HasSuffix(err.Error(), "bad tool schema"), err.Error())
}

// After an error event, langchaingo's Anthropic reader goroutine keeps reading and then blocks
// forever on a channel nobody reads; the HTTP layer ends the body after the error event.
func TestAnthropicStreamErrorEvent(t *testing.T) {
	for name, trailer := range map[string]string{
		"held open":     "",                                                           // the server keeps the connection a while
		"more events":   "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", // in the same write as the error
		"another error": "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"}}\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = w.Write([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n" +
					"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
					"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" +
					"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n" + trailer))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(200 * time.Millisecond):
				}
			})
			deltas, final, err := collectStream(t, anthropicModel(t, srv, "claude-sonnet-4-5"), t.Context(),
				&llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			assert.Equal(t, []string{"Hi"}, deltas)
			assert.Nil(t, final)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 200, apiErr.StatusCode)
			assert.Equal(t, "overloaded_error", apiErr.Type)
			assert.Equal(t, "Overloaded", apiErr.Message)
			assert.True(t, apiErr.Retryable())
			srv.Close()
			goleak.VerifyNone(t)
		})
	}
}

// langchaingo's OpenAI client skips an error event in the stream and returns the text before it as
// a successful answer; the adapter reports the error.
func TestOpenAIStreamErrorEvent(t *testing.T) {
	srv := newServer(t, sseReply(
		openAITextStream[1],
		`{"error":{"message":"The server had an error while processing your request.","type":"server_error","code":null}}`,
		`[DONE]`,
	))
	m := openAIModel(t, srv, "gpt-4o")
	req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
	deltas, final, err := collectStream(t, m, t.Context(), req)
	assert.Equal(t, []string{"Hello"}, deltas)
	assert.Nil(t, final)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 200, apiErr.StatusCode)
	assert.Equal(t, "server_error", apiErr.Type)
	assert.True(t, apiErr.Retryable())
	assert.Equal(t, "langchaingo openai gpt-4o: openai: error event server_error: The server had an error while processing your request.", err.Error())
}
