// Package fakeoai is an OpenAI-compatible chat-completions server for tests of the example
// programs: it answers each request with the next scripted assistant message, in the plain JSON or
// the server-sent-events form the client asks for, and records the request bodies.
package fakeoai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Server is the scripted server. Build it with New; its URL + "/v1" is the base URL to give a
// client, with the API key Key.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []map[string]any
	requests []map[string]any
}

// Key is the API key the server accepts.
const Key = "sk-test"

// Text returns an assistant message with text content.
func Text(s string) map[string]any { return map[string]any{"role": "assistant", "content": s} }

// Call returns an assistant message with one tool call.
func Call(id, name, args string) map[string]any {
	return map[string]any{"role": "assistant", "tool_calls": []any{map[string]any{
		"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args},
	}}}
}

// New starts a server answering with replies, in order, and closes it when t ends. A request past
// the last reply gets a 500.
func New(t testing.TB, replies ...map[string]any) *Server {
	s := &Server{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the URL to use as OPENAI_BASE_URL.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns the decoded request bodies received so far.
func (s *Server) Requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.requests...)
}

// Messages returns the messages of request i.
func (s *Server) Messages(i int) []map[string]any {
	var out []map[string]any
	for _, m := range s.Requests()[i]["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+Key {
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
	var msg map[string]any
	if n < len(s.replies) {
		msg = s.replies[n]
	}
	s.mu.Unlock()
	if msg == nil {
		http.Error(w, `{"error":{"message":"no more replies","type":"server_error"}}`, http.StatusInternalServerError)
		return
	}
	finish := "stop"
	if _, ok := msg["tool_calls"]; ok {
		finish = "tool_calls"
	}
	usage := map[string]any{"prompt_tokens": 100 + n, "completion_tokens": 10, "total_tokens": 110 + n}
	if req["stream"] != true {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": fmt.Sprint("chatcmpl-", n), "object": "chat.completion", "model": req["model"],
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v map[string]any) {
		v["id"], v["object"], v["model"] = fmt.Sprint("chatcmpl-", n), "chat.completion.chunk", req["model"]
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
			m := map[string]any{"index": i}
			for k, v := range tc.(map[string]any) {
				m[k] = v
			}
			parts = append(parts, m)
		}
		delta["tool_calls"] = parts
	}
	send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": delta}}})
	send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": finish}}})
	send(map[string]any{"choices": []any{}, "usage": usage})
	fmt.Fprint(w, "data: [DONE]\n\n")
}
