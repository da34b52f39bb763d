package langchaingo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

// Tests of what the HTTP layer accepts as a complete reply: a call ended by its context, a stream
// without its terminator, a JSON body cut short, a reply without choices, replies past the size cap
// and event-stream lines of any length.

func hi() *llm.Request {
	return &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
}

// rawBody writes body as it is, then ends the reply; with hold, it keeps the connection open until
// the client goes away instead.
func rawBody(contentType, body string, hold bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body))
		w.(http.Flusher).Flush()
		if hold {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
	}
}

func sseEvents(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		if !strings.HasPrefix(e, "event:") {
			e = "data: " + e
		}
		b.WriteString(e + "\n\n")
	}
	return b.String()
}

var (
	openAIPartialText = sseEvents(`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Do NOT delete the"}}]}`)
	openAIPartialTool = sseEvents(`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"rm","arguments":"{\"exp"}}]}}]}`)

	anthropicStart       = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
	anthropicPartialText = anthropicStart +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Do NOT delete the\"}}\n\n"
	anthropicPartialTool = anthropicStart +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"rm\",\"input\":{}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"exp\"}}\n\n"
	anthropicEnd = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
)

type modelFunc func(t *testing.T, srv *fakeServer, opts ...Option) *Model

func openAIFor(t *testing.T, srv *fakeServer, opts ...Option) *Model {
	return openAIModel(t, srv, "gpt-4o", opts...)
}

func anthropicFor(t *testing.T, srv *fakeServer, opts ...Option) *Model {
	return anthropicModel(t, srv, "claude-sonnet-4-5", opts...)
}

// When ctx ends part-way through a reply, the call fails with ctx's error: the text and tool-call
// fragments received so far are never returned as an answer.
func TestContextEndMidReplyIsError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model modelFunc
		sse   string
	}{
		{"openai text", openAIFor, openAIPartialText},
		{"openai tool call", openAIFor, openAIPartialTool},
		{"anthropic text", anthropicFor, anthropicPartialText},
		{"anthropic tool call", anthropicFor, anthropicPartialTool},
	} {
		t.Run(tc.name+" stream", func(t *testing.T) {
			srv := newServer(t, rawBody("text/event-stream", tc.sse, true))
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			_, final, err := collectStream(t, tc.model(t, srv), ctx, hi())
			assert.Nil(t, final, "a partial reply must not be returned as the answer")
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
	for _, tc := range []struct {
		name  string
		model modelFunc
		body  string
	}{
		{"openai", openAIFor, `{"id":"c1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Do NOT delete the`},
		{"anthropic", anthropicFor, `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Do NOT delete the`},
	} {
		t.Run(tc.name+" generate", func(t *testing.T) {
			srv := newServer(t, rawBody("application/json", tc.body, true))
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			resp, err := tc.model(t, srv).Generate(ctx, hi())
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// A wrapped llms.Model that ignores ctx and answers after it ended: the answer is not trusted.
func TestContextEndWrappedModel(t *testing.T) {
	f := &fakeLLM{resp: textResponse("Do NOT delete the"), chunks: []string{"Do NOT delete the"}}
	m := New(f)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	resp, err := m.Generate(ctx, hi())
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, context.Canceled)
	_, final, err := collectStream(t, m, ctx, hi())
	assert.Nil(t, final)
	assert.ErrorIs(t, err, context.Canceled)
}

// A stream that ends without its terminator (OpenAI: neither "data: [DONE]" nor a finish_reason;
// Anthropic: no message_stop) is an incomplete reply, never an answer.
func TestStreamWithoutTerminatorIsError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model modelFunc
		sse   string
	}{
		{"openai text", openAIFor, openAIPartialText},
		{"openai tool call", openAIFor, openAIPartialTool},
		{"openai cut inside an event", openAIFor, openAIPartialText + `data: {"choices":[{"index":0,"delta":{"content":" files"}}]`},
		{"openai cut inside an event line", openAIFor, openAIPartialText + `data: {"choices":[{"index":0,"delta":{"content":" fi`},
		{"openai nothing", openAIFor, ""},
		{"openai only a comment", openAIFor, ": keep-alive\n\n"},
		{"anthropic text", anthropicFor, anthropicPartialText},
		{"anthropic tool call", anthropicFor, anthropicPartialTool},
		{"anthropic all but message_stop", anthropicFor, strings.TrimSuffix(anthropicPartialText+anthropicEnd, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")},
		{"anthropic cut inside an event line", anthropicFor, anthropicPartialText + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" fi"},
		{"anthropic nothing", anthropicFor, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, rawBody("text/event-stream", tc.sse, false))
			_, final, err := collectStream(t, tc.model(t, srv), t.Context(), hi())
			assert.Nil(t, final, "a partial reply must not be returned as the answer")
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrIncompleteResponse)
			assert.Contains(t, err.Error(), "incomplete")
		})
	}
}

// A connection that closes inside the body (not at the end of a chunked body) cuts the reply short
// too.
func TestConnectionClosedMidReply(t *testing.T) {
	dropping := func(contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", contentType, len(body), body)
			_ = buf.Flush()
		}
	}
	for _, tc := range []struct {
		name   string
		model  modelFunc
		ct     string
		body   string
		stream bool
	}{
		{"openai stream", openAIFor, "text/event-stream", openAIPartialText, true},
		{"anthropic stream", anthropicFor, "text/event-stream", anthropicPartialTool, true},
		{"openai json", openAIFor, "application/json", openAIText[:len(openAIText)/2], false},
		{"anthropic json", anthropicFor, "application/json", anthropicText[:len(anthropicText)/2], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, dropping(tc.ct, tc.body))
			var err error
			if tc.stream {
				var final *llm.Response
				_, final, err = collectStream(t, tc.model(t, srv), t.Context(), hi())
				assert.Nil(t, final)
			} else {
				_, err = tc.model(t, srv).Generate(t.Context(), hi())
			}
			assert.ErrorIs(t, err, ErrIncompleteResponse)
		})
	}
}

// A server that ignores "stream": true and answers with a JSON body still gives an answer, its text
// yielded as one delta.
func TestStreamAnsweredWithJSON(t *testing.T) {
	srv := newServer(t, jsonReply(200, openAIText))
	deltas, final, err := collectStream(t, openAIFor(t, srv), t.Context(), hi())
	require.NoError(t, err)
	assert.Equal(t, []string{"Hello there."}, deltas)
	assert.Equal(t, "Hello there.", final.Message.Content)
	assert.Equal(t, llm.FinishStop, final.FinishReason)
	body := srv.lastJSON(t)
	assert.Equal(t, true, body["stream"])
	assert.Equal(t, map[string]any{"include_usage": true}, body["stream_options"])
}

// New wrapping the llms.Model of a constructor: langchaingo reads the stream itself, through the
// HTTP layer, which leaves it alone apart from the size cap.
func TestWrappedConstructorModelStreams(t *testing.T) {
	srv := newServer(t, sseReply(openAITextStream...))
	m := New(openAIFor(t, srv).LLM(), WithModelName("gpt-4o"))
	deltas, final, err := collectStream(t, m, t.Context(), hi())
	require.NoError(t, err)
	assert.Equal(t, []string{"Hello", " there."}, deltas)
	assert.Equal(t, "Hello there.", final.Message.Content)
}

// Either terminator is enough for OpenAI (compatible servers omit one or the other), and the
// terminator may end the body without a final newline.
func TestStreamTerminators(t *testing.T) {
	for name, sse := range map[string]string{
		"finish_reason only": openAIPartialText + sseEvents(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`),
		"[DONE] only":        openAIPartialText + sseEvents(`[DONE]`),
		"[DONE] unended":     openAIPartialText + "data: [DONE]",
		"CRLF lines":         strings.ReplaceAll(openAIPartialText+sseEvents(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, `[DONE]`), "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, rawBody("text/event-stream", sse, false))
			deltas, final, err := collectStream(t, openAIFor(t, srv), t.Context(), hi())
			require.NoError(t, err)
			assert.Equal(t, []string{"Do NOT delete the"}, deltas)
			assert.Equal(t, "Do NOT delete the", final.Message.Content)
		})
	}
	srv := newServer(t, rawBody("text/event-stream", anthropicPartialText+strings.TrimSuffix(anthropicEnd, "\n\n"), false))
	_, final, err := collectStream(t, anthropicFor(t, srv), t.Context(), hi())
	require.NoError(t, err)
	assert.Equal(t, "Do NOT delete the", final.Message.Content)
}

// A JSON body cut short is an incomplete reply too.
func TestGenerateTruncatedBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model modelFunc
		body  string
	}{
		{"openai", openAIFor, openAIText[:len(openAIText)/2]},
		{"openai empty", openAIFor, ""},
		{"anthropic", anthropicFor, anthropicText[:len(anthropicText)/2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, rawBody("application/json", tc.body, false))
			resp, err := tc.model(t, srv).Generate(t.Context(), hi())
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, ErrIncompleteResponse)
		})
	}
}

// An OpenAI reply without choices carries no answer, not even an empty one: Generate and Stream
// both fail with ErrEmptyResponse. A choice with empty content is an empty answer on both.
func TestNoChoicesSameOnBothPaths(t *testing.T) {
	const usage = `"usage":{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5}`
	for name, body := range map[string]string{
		"empty":   `{"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[],` + usage + `}`,
		"missing": `{"id":"c1","object":"chat.completion","model":"gpt-4o",` + usage + `}`,
	} {
		t.Run("generate "+name, func(t *testing.T) {
			srv := newServer(t, jsonReply(200, body))
			_, err := openAIFor(t, srv).Generate(t.Context(), hi())
			assert.ErrorIs(t, err, ErrEmptyResponse)
		})
	}
	for name, events := range map[string][]string{
		"usage only": {`{"id":"c1","model":"gpt-4o","choices":[],` + usage + `}`, `[DONE]`},
		"nothing":    {`[DONE]`},
	} {
		t.Run("stream "+name, func(t *testing.T) {
			srv := newServer(t, sseReply(events...))
			_, final, err := collectStream(t, openAIFor(t, srv), t.Context(), hi())
			assert.Nil(t, final)
			assert.ErrorIs(t, err, ErrEmptyResponse)
		})
	}
	t.Run("wrapped model", func(t *testing.T) {
		m := New(&fakeLLM{resp: nil})
		_, err := m.Generate(t.Context(), hi())
		assert.ErrorIs(t, err, ErrEmptyResponse)
		_, _, err = collectStream(t, m, t.Context(), hi())
		assert.ErrorIs(t, err, ErrEmptyResponse)
	})
	t.Run("empty choice", func(t *testing.T) {
		jsrv := newServer(t, jsonReply(200, `{"id":"c1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}],`+usage+`}`))
		want, err := openAIFor(t, jsrv).Generate(t.Context(), hi())
		require.NoError(t, err)
		ssrv := newServer(t, sseReply(
			`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
			`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`{"id":"c1","model":"gpt-4o","choices":[],`+usage+`}`,
			`[DONE]`))
		_, final, err := collectStream(t, openAIFor(t, ssrv), t.Context(), hi())
		require.NoError(t, err)
		assert.Equal(t, want, final)
		assert.Equal(t, &llm.Response{Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: llm.FinishStop,
			Usage: llm.Usage{InputTokens: 5}, Model: "gpt-4o"}, final)
	})
}

// bigArguments returns a JSON object of exactly n bytes.
func bigArguments(n int) string {
	const head, tail = `{"content":"`, `"}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// fragmentedToolCall is an OpenAI event stream carrying one tool call whose arguments come in
// fragments of size bytes.
func fragmentedToolCall(args string, size int) string {
	var b strings.Builder
	b.WriteString(sseEvents(`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"write","arguments":""}}]}}]}`))
	for i := 0; i < len(args); i += size {
		frag, _ := json.Marshal(args[i:min(i+size, len(args))])
		fmt.Fprintf(&b, "data: {\"id\":\"c1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":%s}}]}}]}\n\n", frag)
	}
	b.WriteString(sseEvents(`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`, `[DONE]`))
	return b.String()
}

func streamToolCall(t testing.TB, sse string, opts ...Option) (llm.ToolCall, time.Duration) {
	srv := httpServer(t, rawBody("text/event-stream", sse, false))
	m, err := OpenAI("gpt-4o", testOpenAIKey, append([]Option{WithBaseURL(srv.URL + "/v1"), WithHTTPClient(srv.Client())}, opts...)...)
	require.NoError(t, err)
	req := hi()
	req.Tools = []llm.ToolSpec{{Name: "write", Description: "Write a file."}}
	start := time.Now()
	var final *llm.Response
	for c, err := range m.Stream(context.Background(), req) {
		require.NoError(t, err)
		if c.Response != nil {
			final = c.Response
		}
	}
	elapsed := time.Since(start)
	require.NotNil(t, final)
	require.Len(t, final.Message.ToolCalls, 1)
	return final.Message.ToolCalls[0], elapsed
}

// Streamed tool-call arguments cost linear time in their size (they used to cost quadratic time,
// in langchaingo's assembly and in the adapter's own).
// Before: 1 MiB took 13 s (16.5 s per benchmark op, 69 GB allocated), 2 MiB 82 s; after: about
// 0.25 s and 0.4 s (1.7 s and 3.5 s under -race).
func TestLargeStreamedToolArguments(t *testing.T) {
	args := bigArguments(1 << 20)
	sse := fragmentedToolCall(args, 16)
	tc, elapsed := streamToolCall(t, sse)
	assert.Equal(t, args, tc.Arguments)
	t.Logf("1 MiB of arguments in 16-byte fragments (%.1f MiB of events): %v", float64(len(sse))/(1<<20), elapsed)
	assert.Less(t, elapsed, 10*time.Second)
}

func BenchmarkStreamedToolArguments1MiB(b *testing.B) {
	args := bigArguments(1 << 20)
	sse := fragmentedToolCall(args, 16)
	b.SetBytes(int64(len(args)))
	for b.Loop() {
		tc, _ := streamToolCall(b, sse)
		if tc.Arguments != args {
			b.Fatal("arguments differ")
		}
	}
}

// One event-stream line may be as long as the reply itself (langchaingo's own reader stops at
// 64 KiB): a server that sends a whole tool call, or a long text, in one event.
func TestLongEventLines(t *testing.T) {
	args := bigArguments(1 << 20)
	quoted, _ := json.Marshal(args)
	t.Run("openai tool call", func(t *testing.T) {
		tc, _ := streamToolCall(t, sseEvents(
			`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"write","arguments":`+string(quoted)+`}}]},"finish_reason":"tool_calls"}]}`,
			`[DONE]`))
		assert.Equal(t, llm.ToolCall{ID: "call_1", Name: "write", Arguments: args}, tc)
	})
	t.Run("openai text", func(t *testing.T) {
		srv := newServer(t, sseReply(`{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"content":`+string(quoted)+`},"finish_reason":"stop"}]}`, `[DONE]`))
		deltas, final, err := collectStream(t, openAIFor(t, srv), t.Context(), hi())
		require.NoError(t, err)
		assert.Equal(t, []string{args}, deltas)
		assert.Equal(t, args, final.Message.Content)
	})
	t.Run("anthropic tool call", func(t *testing.T) {
		srv := newServer(t, rawBody("text/event-stream", anthropicStart+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"write\",\"input\":{}}}\n\n"+
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"+string(quoted)+"}}\n\n"+
			anthropicEnd, false))
		_, final, err := collectStream(t, anthropicFor(t, srv), t.Context(), hi())
		require.NoError(t, err)
		assert.Equal(t, []llm.ToolCall{{ID: "toolu_1", Name: "write", Arguments: args}}, final.Message.ToolCalls)
	})
	t.Run("anthropic text", func(t *testing.T) {
		srv := newServer(t, rawBody("text/event-stream", anthropicStart+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"+
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"+string(quoted)+"}}\n\n"+
			anthropicEnd, false))
		deltas, final, err := collectStream(t, anthropicFor(t, srv), t.Context(), hi())
		require.NoError(t, err)
		assert.Equal(t, []string{args}, deltas)
		assert.Equal(t, args, final.Message.Content)
	})
}

// The size cap fails a call whose reply is larger, streamed or not, as the body is read.
func TestResponseSizeCap(t *testing.T) {
	const limit = 256 << 10
	args := bigArguments(limit)
	quoted, _ := json.Marshal(args)
	sse := fragmentedToolCall(args, 1024)
	body := `{"id":"c1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":` + string(quoted) + `},"finish_reason":"stop"}]}`
	for _, tc := range []struct {
		name        string
		model       modelFunc
		contentType string
		body        string
	}{
		{"openai stream", openAIFor, "text/event-stream", sse},
		{"openai one long line", openAIFor, "text/event-stream", "data: " + body + "\n\n"},
		{"openai json", openAIFor, "application/json", body},
		{"anthropic json", anthropicFor, "application/json", `{"type":"message","content":[{"type":"text","text":` + string(quoted) + `}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, rawBody(tc.contentType, tc.body, true))
			m := tc.model(t, srv, WithMaxResponseBytes(limit))
			start := time.Now()
			var err error
			if tc.contentType == "application/json" {
				_, err = m.Generate(t.Context(), hi())
			} else {
				_, _, err = collectStream(t, m, t.Context(), hi())
			}
			assert.ErrorIs(t, err, ErrResponseTooLarge)
			assert.Contains(t, err.Error(), fmt.Sprint(limit))
			assert.Less(t, time.Since(start), 5*time.Second, "the cap must end the call, not the server")
		})
	}
	t.Run("under the cap", func(t *testing.T) {
		tc, _ := streamToolCall(t, sse, WithMaxResponseBytes(int64(len(sse))))
		assert.Equal(t, args, tc.Arguments)
	})
}

// httpServer is a plain httptest server, closed when the test or benchmark ends.
func httpServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
