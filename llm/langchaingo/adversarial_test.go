package langchaingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

// Regression tests for the faults an adversarial trial found: each checks a whole kind of fault,
// on every path the reply can take (streamed, Generate, a streamed request answered with JSON).

var noRetry = WithRetry(RetryPolicy{MaxRetries: -1})

func addTool() *llm.Request {
	return &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
		Tools:    []llm.ToolSpec{{Name: "add", Parameters: []byte(`{"type":"object"}`)}},
	}
}

// streamAll runs req through Stream and checks the documented guarantees: the text deltas join to
// the final Content, and the argument deltas of each Index join to that call's final Arguments.
func streamAll(t *testing.T, m *Model, req *llm.Request) (*llm.Response, error) {
	t.Helper()
	var text strings.Builder
	args := map[int]*strings.Builder{}
	var final *llm.Response
	for c, err := range m.Stream(context.Background(), req) {
		if err != nil {
			return nil, err
		}
		text.WriteString(c.Text)
		if d := c.ToolCall; d != nil {
			if args[d.Index] == nil {
				args[d.Index] = &strings.Builder{}
			}
			args[d.Index].WriteString(d.Arguments)
		}
		if c.Response != nil {
			final = c.Response
		}
	}
	require.NotNil(t, final)
	assert.Equal(t, final.Message.Content, text.String(), "text deltas must join to Content")
	assert.Len(t, args, len(final.Message.ToolCalls), "every call has deltas, and every delta a call")
	for i, tc := range final.Message.ToolCalls {
		if assert.NotNil(t, args[i], "call %d", i) {
			assert.Equal(t, tc.Arguments, args[i].String(), "argument deltas of call %d", i)
		}
	}
	return final, nil
}

func anthEvents(evs ...string) []string {
	out := []string{`{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}`}
	out = append(out, evs...)
	return append(out, `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}`, `{"type":"message_stop"}`)
}

func toolStart(i int, id string) string {
	return fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"tool_use","id":%q,"name":"add","input":{}}}`, i, id)
}

func inputDelta(i int, js string) string {
	return fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"input_json_delta","partial_json":%q}}`, i, js)
}

func textStart(i int) string {
	return fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}`, i)
}

func textDelta(i int, s string) string {
	return fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%q}}`, i, s)
}

func blockStop(i int) string { return fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i) }

// 1. Arguments are matched to calls by position, never by id: two tool_use blocks that share an
// id, or have none, keep their own arguments, streamed, in Generate and in a JSON reply to a
// streamed request; and in a request, two calls sharing an id send their own arguments.
func TestAdversarialArgumentsByPosition(t *testing.T) {
	for _, id := range []string{"same", ""} {
		want := []string{`{"a":1,"b":2}`, `{"a":3, "b":4}`}
		stream := anthEvents(toolStart(0, id), inputDelta(0, want[0]), blockStop(0), toolStart(1, id), inputDelta(1, want[1]), blockStop(1))
		body := fmt.Sprintf(`{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"tool_use","id":%q,"name":"add","input":%s},{"type":"tool_use","id":%q,"name":"add","input":%s}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}`, id, want[0], id, want[1])
		for name, reply := range map[string]http.HandlerFunc{"stream": sseReply(stream...), "json": jsonReply(200, body)} {
			m := anthropicModel(t, newServer(t, reply), "claude-x", noRetry)
			check := func(r *llm.Response) {
				require.Len(t, r.Message.ToolCalls, 2)
				for i, tc := range r.Message.ToolCalls {
					assert.Equal(t, id, tc.ID)
					assert.Equal(t, want[i], tc.Arguments, "id %q, %s, call %d", id, name, i)
				}
			}
			r, err := streamAll(t, m, addTool())
			require.NoError(t, err)
			check(r)
			if name == "json" {
				r, err = m.Generate(context.Background(), addTool())
				require.NoError(t, err)
				check(r)
			}
		}
	}

	srv := newServer(t, jsonReply(200, `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`))
	m := anthropicModel(t, srv, "claude-x", noRetry)
	req := addTool()
	req.Messages = append(req.Messages,
		llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "same", Name: "add", Arguments: `{"a": 1}`}, {ID: "same", Name: "add", Arguments: `{"a": 2}`}}},
		llm.Message{Role: llm.RoleTool, ToolCallID: "same", Content: "bad", IsError: true},
		llm.Message{Role: llm.RoleTool, ToolCallID: "same", Content: "3"})
	_, err := m.Generate(context.Background(), req)
	require.NoError(t, err)
	sent := string(srv.last(t).Body)
	assert.Contains(t, sent, `"input":{"a": 1}`)
	assert.Contains(t, sent, `"input":{"a": 2}`)
	assert.Equal(t, 1, strings.Count(sent, `"is_error":true`), sent)
}

// 2. A 200 reply whose JSON body is an error object is an *APIError (status 200, type, code,
// message), streamed or not, never an empty answer.
func TestAdversarialErrorBody200(t *testing.T) {
	cases := []struct {
		anthropic      bool
		body           string
		typ, code, msg string
		retryable      bool
	}{
		{true, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, "overloaded_error", "", "Overloaded", true},
		{false, `{"error":{"message":"model overloaded","type":"server_error","code":"overloaded"}}`, "server_error", "overloaded", "model overloaded", true},
		{false, `{"object":"error","message":"bad","type":"invalid_request_error","code":400}`, "invalid_request_error", "400", "bad", false},
	}
	for _, c := range cases {
		srv := newServer(t, jsonReply(200, c.body))
		var m *Model
		if c.anthropic {
			m = anthropicModel(t, srv, "claude-x", noRetry)
		} else {
			m = openAIModel(t, srv, "gpt-4o", noRetry)
		}
		_, genErr := m.Generate(context.Background(), addTool())
		_, streamErr := streamAll(t, m, addTool())
		for _, err := range []error{genErr, streamErr} {
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr, c.body)
			assert.Equal(t, 200, apiErr.StatusCode)
			assert.Equal(t, c.typ, apiErr.Type)
			assert.Equal(t, c.code, apiErr.Code)
			assert.Equal(t, c.msg, apiErr.Message)
			assert.Equal(t, c.retryable, apiErr.Retryable())
			assert.Contains(t, err.Error(), "HTTP 200")
			assert.False(t, errors.Is(err, ErrEmptyResponse))
		}
	}
}

// 3. Anthropic deltas match the final message whatever the order of events: stray deltas of the
// wrong type, interleaved blocks, deltas after a block stopped.
func TestAdversarialAnthropicDeltasMatchFinal(t *testing.T) {
	cases := map[string][]string{
		"text delta on a tool block":  {toolStart(0, "t1"), textDelta(0, "sneaky"), inputDelta(0, `{"a":1}`), blockStop(0)},
		"input delta on a text block": {textStart(0), inputDelta(0, `{"a":1}`), textDelta(0, "t"), blockStop(0)},
		"interleaved tool blocks":     {toolStart(0, "t1"), toolStart(1, "t2"), inputDelta(0, `{"a":1,"b":2}`), inputDelta(1, `{"a":3}`), blockStop(0), blockStop(1)},
		"late input delta":            {toolStart(0, "t1"), inputDelta(0, `{"a":1,`), blockStop(0), inputDelta(0, `"b":2}`)},
		"late input, none before":     {toolStart(0, "t1"), blockStop(0), inputDelta(0, `{"b":2}`)},
		"interleaved text blocks":     {textStart(0), textDelta(0, "A1"), textStart(1), textDelta(1, "B1"), textDelta(0, "A2"), toolStart(2, "t"), blockStop(0), textDelta(1, "B2"), blockStop(1), blockStop(2)},
		"no stops at all":             {textStart(0), textDelta(0, "A"), textStart(1), textDelta(1, "B"), textDelta(0, "C"), toolStart(2, "t")},
		"late text delta":             {textStart(0), textDelta(0, "A"), blockStop(0), textDelta(0, "B")},
	}
	for name, evs := range cases {
		t.Run(name, func(t *testing.T) {
			m := anthropicModel(t, newServer(t, sseReply(anthEvents(evs...)...)), "claude-x", noRetry)
			r, err := streamAll(t, m, addTool())
			require.NoError(t, err)
			if name == "interleaved text blocks" {
				assert.Equal(t, "A1A2B1B2", r.Message.Content)
			}
			for _, tc := range r.Message.ToolCalls {
				assert.NotContains(t, tc.Arguments, "{}{", "a placeholder went out before the input")
			}
		})
	}
}

// 4. OpenAI: a fragment that carries nothing never creates a call; a call that ends without a
// name fails the call.
func TestAdversarialOpenAIEmptyFragments(t *testing.T) {
	chunk := func(delta, finish string) string {
		return `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + finish + `}]}`
	}
	m := openAIModel(t, newServer(t, sseReply(
		chunk(`{"tool_calls":[null]}`, "null"),
		chunk(`{"tool_calls":[{"index":0,"id":null,"function":null}]}`, "null"),
		chunk(`{"tool_calls":[{"index":0,"id":"c1","function":{"name":"add","arguments":"{}"}}]}`, "null"),
		chunk(`{"tool_calls":[{"index":1,"function":{"arguments":""}}]}`, "null"),
		chunk(`{}`, `"tool_calls"`), "[DONE]")), "gpt-4o", noRetry)
	r, err := streamAll(t, m, addTool())
	require.NoError(t, err)
	assert.Equal(t, []llm.ToolCall{{ID: "c1", Name: "add", Arguments: "{}"}}, r.Message.ToolCalls)

	m = openAIModel(t, newServer(t, sseReply(chunk(`{"tool_calls":[{"index":0,"id":"c1","function":{"arguments":"{}"}}]}`, `"tool_calls"`), "[DONE]")), "gpt-4o", noRetry)
	_, err = streamAll(t, m, addTool())
	require.ErrorIs(t, err, ErrIncompleteResponse)
	assert.Contains(t, err.Error(), "has no name")
}

// 5. Usage counts that are not non-negative integers within int's range count as 0 (exact
// otherwise), without failing the reply; sums are clamped.
func TestAdversarialLenientUsage(t *testing.T) {
	text := `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}`
	for usage, want := range map[string]llm.Usage{
		`{"prompt_tokens":1.5,"completion_tokens":7,"total_tokens":1}`:                                  {OutputTokens: 7},
		`{"prompt_tokens":1e30,"completion_tokens":2,"total_tokens":1}`:                                 {OutputTokens: 2},
		`{"prompt_tokens":"12","completion_tokens":3,"total_tokens":1}`:                                 {OutputTokens: 3},
		`{"prompt_tokens":10,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":"x"}}`:      {InputTokens: 10, OutputTokens: 1},
		`{"prompt_tokens":-5,"completion_tokens":4}`:                                                    {OutputTokens: 4},
		`{"prompt_tokens":10,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":6}}`:        {InputTokens: 10, OutputTokens: 4, CachedInputTokens: 6},
		`{"prompt_tokens":10,"completion_tokens":4,"completion_tokens_details":{"reasoning_tokens":3}}`: {InputTokens: 10, OutputTokens: 4, ReasoningTokens: 3},
	} {
		m := openAIModel(t, newServer(t, sseReply(text, `{"id":"c","choices":[],"usage":`+usage+`}`, "[DONE]")), "gpt-4o", noRetry)
		r, err := streamAll(t, m, addTool())
		require.NoError(t, err, usage)
		assert.Equal(t, want, r.Usage, usage)
		body := `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":` + usage + `}`
		m = openAIModel(t, newServer(t, jsonReply(200, body)), "gpt-4o", noRetry)
		r, err = m.Generate(context.Background(), addTool())
		require.NoError(t, err, usage)
		assert.Equal(t, want, r.Usage, usage)
	}

	for usage, want := range map[string]llm.Usage{
		`{"input_tokens":5000000000000000000,"cache_creation_input_tokens":5000000000000000000,"cache_read_input_tokens":5000000000000000000,"output_tokens":1}`: {InputTokens: 1<<63 - 1, OutputTokens: 1, CachedInputTokens: 5000000000000000000},
		`{"input_tokens":-100,"output_tokens":1.5,"cache_read_input_tokens":-5}`:                                                                                 {},
		`{"input_tokens":"7","output_tokens":1e30}`:                                                                                                              {},
		`{"input_tokens":7,"output_tokens":2,"cache_read_input_tokens":3}`:                                                                                       {InputTokens: 10, OutputTokens: 2, CachedInputTokens: 3},
	} {
		start := `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"usage":` + usage + `}}`
		m := anthropicModel(t, newServer(t, sseReply(start, textStart(0), textDelta(0, "x"), blockStop(0), `{"type":"message_stop"}`)), "claude-x", noRetry)
		r, err := streamAll(t, m, addTool())
		require.NoError(t, err, usage)
		assert.Equal(t, want, r.Usage, usage)
		body := `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn","usage":` + usage + `}`
		m = anthropicModel(t, newServer(t, jsonReply(200, body)), "claude-x", noRetry)
		r, err = m.Generate(context.Background(), addTool())
		require.NoError(t, err, usage)
		assert.Equal(t, want, r.Usage, usage)
	}
}

// 6. A legacy function_call is one tool call (without id), streamed and in Generate; a reply
// that finished with "function_call" without one does not crash langchaingo.
func TestAdversarialLegacyFunctionCall(t *testing.T) {
	want := []llm.ToolCall{{Name: "add", Arguments: `{"a":1,"b":2}`}}
	chunk := func(delta, finish string) string {
		return `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + finish + `}]}`
	}
	m := openAIModel(t, newServer(t, sseReply(
		chunk(`{"function_call":{"name":"add","arguments":"{\"a\":1,"}}`, "null"),
		chunk(`{"function_call":{"arguments":"\"b\":2}"}}`, "null"),
		chunk(`{}`, `"function_call"`), "[DONE]")), "gpt-4o", noRetry)
	r, err := streamAll(t, m, addTool())
	require.NoError(t, err)
	assert.Equal(t, want, r.Message.ToolCalls)
	assert.Equal(t, llm.FinishToolCalls, r.FinishReason)

	for _, finish := range []string{"function_call", "stop"} {
		body := `{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"function_call":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}},"finish_reason":"` + finish + `"}]}`
		m = openAIModel(t, newServer(t, jsonReply(200, body)), "gpt-4o", noRetry)
		r, err = m.Generate(context.Background(), addTool())
		require.NoError(t, err)
		assert.Equal(t, want, r.Message.ToolCalls, finish)
		assert.Equal(t, llm.FinishToolCalls, r.FinishReason)
		r, err = streamAll(t, m, addTool())
		require.NoError(t, err)
		assert.Equal(t, want, r.Message.ToolCalls, finish)
	}

	body := `{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"function_call"}]}`
	m = openAIModel(t, newServer(t, jsonReply(200, body)), "gpt-4o", noRetry)
	r, err = m.Generate(context.Background(), addTool())
	require.NoError(t, err)
	assert.Equal(t, "hi", r.Message.Content)
	assert.Empty(t, r.Message.ToolCalls)
}

// peakHeap runs f and returns the highest heap in use it reached above the heap before, sampled
// every half millisecond.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Microsecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	if peak < base.HeapInuse {
		return 0
	}
	return peak - base.HeapInuse
}

// 7. The memory a long streamed reply takes: one event of n bytes of text (or arguments) should
// cost a few times n, not the 10 to 14 times it did. Measured as the peak heap in use during the
// call above what was in use before it (sampled by peakHeap), the consumer's own copy included.
func TestAdversarialStreamMemory(t *testing.T) {
	const n = 8 << 20
	long := strings.Repeat("x", n)
	cases := map[string]struct {
		anthropic bool
		events    []string
	}{
		"openai text":      {false, []string{`{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"` + long + `"},"finish_reason":"stop"}]}`, "[DONE]"}},
		"openai arguments": {false, []string{`{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"add","arguments":"{\"t\":\"` + long + `\"}"}}]},"finish_reason":"tool_calls"}]}`, "[DONE]"}},
		"anthropic text":   {true, anthEvents(textStart(0), textDelta(0, long), blockStop(0))},
		"anthropic input":  {true, anthEvents(toolStart(0, "t"), inputDelta(0, `{"t":"`+long+`"}`), blockStop(0))},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var body []byte // built beforehand and written at once: the server adds no copies
			for _, e := range c.events {
				body = append(append(append(body, "data: "...), e...), "\n\n"...)
			}
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = w.Write(body)
			})
			var m *Model
			if c.anthropic {
				m = anthropicModel(t, srv, "claude-x", noRetry)
			} else {
				m = openAIModel(t, srv, "gpt-4o", noRetry)
			}
			var r *llm.Response
			var err error
			peak := peakHeap(func() { r, err = streamAll(t, m, addTool()) })
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(r.Message.Content)+len(fmt.Sprint(r.Message.ToolCalls)), n)
			ratio := float64(peak) / n
			t.Logf("%s: peak heap %.1f times the event's size", name, ratio)
			assert.Less(t, ratio, 8.0) // before the fixes: 11 to 16
		})
	}
}

// TestJSONReplyWithByteOrderMark: a JSON reply that starts with a UTF-8 byte-order mark is read,
// for a plain call and for a streaming call the server answered with JSON.
func TestJSONReplyWithByteOrderMark(t *testing.T) {
	srv := newServer(t, jsonReply(200, "\xef\xbb\xbf"+openAIText))
	m := openAIModel(t, srv, "gpt-4o")
	req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
	resp, err := m.Generate(t.Context(), req)
	require.NoError(t, err)
	want := resp.Message.Content
	assert.NotEmpty(t, want)
	var text string
	var final *llm.Response
	for c, err := range m.Stream(t.Context(), req) {
		require.NoError(t, err)
		text += c.Text
		if c.Response != nil {
			final = c.Response
		}
	}
	require.NotNil(t, final)
	assert.Equal(t, want, final.Message.Content)
	assert.Equal(t, want, text)
}

// TestMalformedHistoryArgumentsToCompatibleServers: a history tool call whose arguments are not a
// JSON object reaches an OpenAI-compatible server as {} (such servers decode them), and OpenAI
// verbatim.
func TestMalformedHistoryArgumentsToCompatibleServers(t *testing.T) {
	req := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "add"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "c1", Name: "add", Arguments: `{"a": 1,`},
			{ID: "c2", Name: "add", Arguments: ``},
			{ID: "c3", Name: "add", Arguments: `{"a":1,"b":2}`},
		}},
		{Role: llm.RoleTool, ToolCallID: "c1", Name: "add", Content: "invalid arguments", IsError: true},
		{Role: llm.RoleTool, ToolCallID: "c2", Name: "add", Content: "3"},
		{Role: llm.RoleTool, ToolCallID: "c3", Name: "add", Content: "3"},
	}}
	args := func(t *testing.T, srv *fakeServer) []string {
		t.Helper()
		var body struct {
			Messages []struct {
				ToolCalls []struct {
					Function struct{ Arguments string } `json:"function"`
				} `json:"tool_calls"`
			} `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(srv.last(t).Body, &body))
		var out []string
		for _, m := range body.Messages {
			for _, c := range m.ToolCalls {
				out = append(out, c.Function.Arguments)
			}
		}
		return out
	}

	compat := newServer(t, jsonReply(200, openAIText))
	m, err := OpenAICompatible(compat.URL+"/v1", "llama3", "")
	require.NoError(t, err)
	_, err = m.Generate(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, []string{"{}", "{}", `{"a":1,"b":2}`}, args(t, compat))

	oai := newServer(t, jsonReply(200, openAIText))
	_, err = openAIModel(t, oai, "gpt-4o").Generate(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, `{"a": 1,`, args(t, oai)[0])
}
