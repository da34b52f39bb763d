package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNoProviderReplaysRecordedSession(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nil, env(nil), &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), "no model provider configured")
	assert.Contains(t, stderr.String(), "OPENAI_API_KEY")
	assert.Contains(t, stdout.String(), `tool call calculator {"__arg1":"15 * 4"}`)
	assert.Contains(t, stdout.String(), "calculator result: 60\n")
	assert.Contains(t, stdout.String(), "answer: 15 multiplied by 4 is 60.\n")
}

// chatServer is an OpenAI-compatible chat-completions server that answers from a script, in the
// streaming or the plain form the client asks for, and records the request bodies.
type chatServer struct {
	mu       sync.Mutex
	replies  []map[string]any // assistant messages
	requests []map[string]any
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
		http.Error(w, `{"error":{"message":"bad path or key","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if n >= len(s.replies) {
		http.Error(w, `{"error":{"message":"no more replies","type":"server_error"}}`, http.StatusInternalServerError)
		return
	}
	msg := s.replies[n]
	finish := "stop"
	if _, ok := msg["tool_calls"]; ok {
		finish = "tool_calls"
	}
	usage := map[string]any{"prompt_tokens": 100 + n, "completion_tokens": 10, "total_tokens": 110 + n}
	if req["stream"] != true {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": fmt.Sprint("chatcmpl-", n), "object": "chat.completion", "model": "test-model",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v map[string]any) {
		v["id"], v["object"], v["model"] = fmt.Sprint("chatcmpl-", n), "chat.completion.chunk", "test-model"
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	delta := map[string]any{"role": "assistant"}
	if c, ok := msg["content"]; ok {
		delta["content"] = c
	}
	if tcs, ok := msg["tool_calls"].([]any); ok {
		var parts []any
		for i, tc := range tcs {
			m := tc.(map[string]any)
			m["index"] = i
			parts = append(parts, m)
		}
		delta["tool_calls"] = parts
	}
	send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": delta}}})
	send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": finish}}})
	send(map[string]any{"choices": []any{}, "usage": usage})
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func TestOpenAICompatibleServerWritesHello(t *testing.T) {
	srv := &chatServer{replies: []map[string]any{
		{"role": "assistant", "tool_calls": []any{map[string]any{
			"id": "call_hello", "type": "function",
			"function": map[string]any{"name": "write_file", "arguments": `{"path":"hello.txt","content":"Hello, world!\n"}`},
		}}},
		{"role": "assistant", "content": "I wrote hello.txt."},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-workspace", dir, "Write hello.txt"},
		env(map[string]string{"OPENAI_BASE_URL": hs.URL + "/v1", "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "test-model"}),
		&stdout, &stderr)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())

	got, err := os.ReadFile(filepath.Join(dir, "hello.txt"))
	require.NoError(t, err)
	assert.Equal(t, "Hello, world!\n", string(got))

	require.Len(t, srv.requests, 2, "exactly two model calls")
	assert.Equal(t, "test-model", srv.requests[0]["model"])
	msgs := srv.requests[1]["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	assert.Equal(t, "tool", last["role"])
	assert.Equal(t, "call_hello", last["tool_call_id"])
	assert.Contains(t, last["content"], "hello.txt")
	assert.NotContains(t, last["content"], dir, "tool results never reveal the host path")
	var names []string
	for _, tl := range srv.requests[0]["tools"].([]any) {
		names = append(names, tl.(map[string]any)["function"].(map[string]any)["name"].(string))
	}
	assert.ElementsMatch(t, []string{"read_file", "write_file", "append_file", "list_dir", "calculator"}, names)
	assert.Contains(t, stdout.String(), "tool call write_file")
	assert.Contains(t, stdout.String(), "answer: I wrote hello.txt.")
}

func TestModelTextIsStrippedOfEscapes(t *testing.T) {
	srv := &chatServer{replies: []map[string]any{
		{"role": "assistant", "content": "done\x1b[2J\x1b]0;pwned\x07 clean"},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-workspace", t.TempDir(), "hi"},
		env(map[string]string{"OPENAI_BASE_URL": hs.URL + "/v1", "OPENAI_API_KEY": "sk-test"}), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "answer: done clean\n")
	assert.NotContains(t, stdout.String(), "\x1b")
}

func TestTemporaryWorkspaceIsMadeAndPrinted(t *testing.T) {
	srv := &chatServer{replies: []map[string]any{{"role": "assistant", "content": "nothing to do"}}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"hi"},
		env(map[string]string{"OPENAI_BASE_URL": hs.URL + "/v1", "OPENAI_API_KEY": "sk-test"}), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	line, _, _ := strings.Cut(stdout.String(), "\n")
	require.True(t, strings.HasPrefix(line, "workspace: "), line)
	dir := strings.TrimPrefix(line, "workspace: ")
	t.Cleanup(func() { os.RemoveAll(dir) })
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, info.IsDir())
}

func TestRunFailureExitsNonZero(t *testing.T) {
	srv := &chatServer{} // no replies: every call is a 500
	hs := httptest.NewServer(srv)
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-workspace", t.TempDir(), "-max-steps", "3", "hi"},
		env(map[string]string{"OPENAI_BASE_URL": hs.URL + "/v1", "OPENAI_API_KEY": "sk-test"}), &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "run stopped")
	assert.NotContains(t, stderr.String(), "sk-test")
	assert.Equal(t, 2, run(context.Background(), []string{"-max-steps"}, env(nil), &stdout, &stderr), "bad flags exit 2")
}
