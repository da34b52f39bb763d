package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sseServer answers the n-th chat-completions request with the n-th list of raw "data:" payloads,
// written in pieces of a few bytes (so multi-byte characters are split across writes), then
// "data: [DONE]". It records the request bodies.
type sseServer struct {
	mu       sync.Mutex
	replies  [][]string
	requests []map[string]any
}

func (s *sseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if n >= len(s.replies) {
		http.Error(w, `{"error":{"message":"no more replies","type":"test"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	var all strings.Builder
	for _, d := range s.replies[n] {
		all.WriteString("data: " + d + "\n\n")
	}
	all.WriteString("data: [DONE]\n\n")
	b := []byte(all.String())
	for len(b) > 0 {
		k := min(3, len(b)) // 3 bytes at a time: splits every 2- and 4-byte sequence somewhere
		_, _ = w.Write(b[:k])
		f.Flush()
		b = b[k:]
	}
}

// chunk builds one chat.completion.chunk payload.
func chunk(delta string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return `{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + fr + `}]}`
}

// TestStreamThroughLangchaingoOpenAIClient streams a run through langchaingo's real OpenAI client
// against an SSE server: two interleaved parallel calls with "type" on every fragment, a
// zero-argument call, a call whose assembled arguments are invalid JSON, and multi-byte text split
// across writes. Deltas reach the events as they arrive and assemble to the calls that run; the
// invalid call never reaches its tool and goes back to the model as an error result.
func TestStreamThroughLangchaingoOpenAIClient(t *testing.T) {
	usage := `{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":20,"total_tokens":70}}`
	srv := &sseServer{replies: [][]string{{
		chunk(`{"role":"assistant","content":"Zwei Aufrufe, 🎉 "}`, ""),
		chunk(`{"content":"gleichzeitig."}`, ""),
		chunk(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"add","arguments":""}}]}`, ""),
		chunk(`{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"echo","arguments":""}}]}`, ""),
		chunk(`{"tool_calls":[{"index":0,"type":"function","function":{"arguments":"{\"a\": 4"}}]}`, ""),
		chunk(`{"tool_calls":[{"index":1,"type":"function","function":{"arguments":"{\"text\": \"日本"}}]}`, ""),
		chunk(`{"tool_calls":[{"index":0,"type":"function","function":{"arguments":"0, \"b\": 2}"}}]}`, ""),
		chunk(`{"tool_calls":[{"index":1,"type":"function","function":{"arguments":"語 ✓\"}"}}]}`, ""),
		chunk(`{"tool_calls":[{"index":2,"id":"call_c","type":"function","function":{"name":"now","arguments":""}}]}`, ""),
		chunk(`{"tool_calls":[{"index":3,"id":"call_d","type":"function","function":{"name":"add","arguments":"{\"a\": 1,"}}]}`, ""),
		chunk(`{}`, "tool_calls"),
		usage,
	}, {
		chunk(`{"role":"assistant","content":"42, 日本語 ✓, "}`, ""),
		chunk(`{"content":"23:59 — fertig 🎉"}`, ""),
		chunk(`{}`, "stop"),
		usage,
	}}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	model, err := langchaingo.OpenAI("gpt-4o", "sk-test-streaming", langchaingo.WithBaseURL(hs.URL+"/v1"))
	require.NoError(t, err)

	var mu sync.Mutex
	ran := map[string]string{}
	tools := []agent.Tool{
		agent.NewTool("add", "Adds two integers.", func(ctx context.Context, in addArgs) (int, error) {
			mu.Lock()
			ran["add"] += "+"
			mu.Unlock()
			return in.A + in.B, nil
		}),
		agent.NewTool("echo", "Echoes text.", func(ctx context.Context, in echoArgs) (string, error) {
			mu.Lock()
			ran["echo"] = in.Text
			mu.Unlock()
			return in.Text, nil
		}),
		agent.NewTool("now", "Tells the time.", func(ctx context.Context, in noArgs) (string, error) {
			mu.Lock()
			ran["now"] = "yes"
			mu.Unlock()
			return "23:59", nil
		}),
	}
	a := newAgent(t, agent.Config{Model: model, Tools: tools})
	var events []agent.Event
	for e, err := range a.Stream(context.Background(), "Rechne und sprich.") {
		require.NoError(t, err)
		events = append(events, e)
	}
	checkDeltas(t, events)

	var deltas, textDeltas int
	var results []agent.Event
	for _, e := range events {
		switch e.Kind {
		case agent.EventToolCallDelta:
			deltas++
		case agent.EventTextDelta:
			textDeltas++
		case agent.EventToolResult:
			results = append(results, e)
		}
	}
	assert.GreaterOrEqual(t, deltas, 8, "tool-call fragments reach the events as they arrive")
	assert.GreaterOrEqual(t, textDeltas, 3)

	// Calls in index order, with the ids sent; the invalid one did not run.
	require.Len(t, results, 4)
	for i, id := range []string{"call_a", "call_b", "call_c", "call_d"} {
		assert.Equal(t, id, results[i].ToolCallID)
	}
	assert.Equal(t, "42", results[0].ToolResult.Content)
	assert.Equal(t, "日本語 ✓", results[1].ToolResult.Content)
	assert.Equal(t, "23:59", results[2].ToolResult.Content)
	assert.True(t, results[3].ToolResult.IsError, "invalid JSON arguments come back as an error: %s", results[3].ToolResult.Content)
	assert.Equal(t, map[string]string{"add": "+", "echo": "日本語 ✓", "now": "yes"}, ran, "the invalid call never reached its tool")

	final := events[len(events)-1]
	require.Equal(t, agent.EventFinal, final.Kind)
	assert.Equal(t, "42, 日本語 ✓, 23:59 — fertig 🎉", final.Text)
	assert.Equal(t, 100, final.Result.Usage.InputTokens)

	// The second request carries the assistant message as assembled and one result per call.
	require.Len(t, srv.requests, 2)
	msgs := srv.requests[1]["messages"].([]any)
	var assistant map[string]any
	var toolMsgs []map[string]any
	for _, m := range msgs {
		mm := m.(map[string]any)
		switch mm["role"] {
		case "assistant":
			assistant = mm
		case "tool":
			toolMsgs = append(toolMsgs, mm)
		}
	}
	require.NotNil(t, assistant)
	assert.Equal(t, "Zwei Aufrufe, 🎉 gleichzeitig.", assistant["content"])
	calls := assistant["tool_calls"].([]any)
	require.Len(t, calls, 4)
	fn := calls[1].(map[string]any)["function"].(map[string]any)
	assert.Equal(t, `{"text": "日本語 ✓"}`, fn["arguments"])
	require.Len(t, toolMsgs, 4)
	assert.Equal(t, "call_d", toolMsgs[3]["tool_call_id"])
}

// TestStreamedAndGeneratedRunsAgreeOverTheWire: the same replies served as SSE (streamed run) and as
// JSON bodies (Run, not streamed) give the same history.
func TestStreamedAndGeneratedRunsAgreeOverTheWire(t *testing.T) {
	type call struct{ id, name, args string }
	turns := []struct {
		text  string
		calls []call
	}{
		{"Ich rechne 🎉", []call{{"call_1", "add", `{"a": 1, "b": 2}`}, {"call_2", "now", ``}}},
		{"3 um 23:59 ✓", nil},
	}
	streamReplies := make([][]string, len(turns))
	jsonReplies := make([]string, len(turns))
	for i, tu := range turns {
		s := []string{chunk(`{"role":"assistant","content":`+jsonString(tu.text)+`}`, "")}
		var jcalls []string
		for k, c := range tu.calls {
			s = append(s, chunk(`{"tool_calls":[{"index":`+jsonInt(k)+`,"id":"`+c.id+`","type":"function","function":{"name":"`+c.name+`","arguments":""}}]}`, ""))
			if c.args != "" {
				s = append(s, chunk(`{"tool_calls":[{"index":`+jsonInt(k)+`,"type":"function","function":{"arguments":`+jsonString(c.args)+`}}]}`, ""))
			}
			jcalls = append(jcalls, `{"id":"`+c.id+`","type":"function","function":{"name":"`+c.name+`","arguments":`+jsonString(c.args)+`}}`)
		}
		finish := "stop"
		msg := `{"role":"assistant","content":` + jsonString(tu.text)
		if len(jcalls) > 0 {
			finish = "tool_calls"
			msg += `,"tool_calls":[` + strings.Join(jcalls, ",") + `]`
		}
		msg += `}`
		s = append(s, chunk(`{}`, finish))
		streamReplies[i] = s
		jsonReplies[i] = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":` + msg + `,"finish_reason":"` + finish + `"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}`
	}
	var mu sync.Mutex
	var runs int
	tools := streamTools(&runs, &mu)

	hs := httptest.NewServer(&sseServer{replies: streamReplies})
	defer hs.Close()
	streamed, err := langchaingo.OpenAI("gpt-4o", "sk-test-streaming", langchaingo.WithBaseURL(hs.URL+"/v1"))
	require.NoError(t, err)
	a := newAgent(t, agent.Config{Model: streamed, Tools: tools})
	st := a.Start("go")
	for _, err := range a.StreamState(context.Background(), st) {
		require.NoError(t, err)
	}
	gotStreamed, err := st.History(context.Background())
	require.NoError(t, err)

	n := 0
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, jsonReplies[n])
		n++
	}))
	defer js.Close()
	plain, err := langchaingo.OpenAI("gpt-4o", "sk-test-streaming", langchaingo.WithBaseURL(js.URL+"/v1"))
	require.NoError(t, err)
	b := newAgent(t, agent.Config{Model: plain, Tools: tools})
	st2 := b.Start("go")
	_, err = b.Resume(context.Background(), st2)
	require.NoError(t, err)
	gotPlain, err := st2.History(context.Background())
	require.NoError(t, err)

	assert.Equal(t, gotPlain, gotStreamed)
	assert.Equal(t, "3 um 23:59 ✓", st.Answer)
	assert.Equal(t, 4, runs, "add and now ran in both runs")
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
