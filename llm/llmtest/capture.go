package llmtest

import (
	"context"
	"iter"
	"sync"
	"testing"

	"github.com/autogpt-go/agent/llm"
)

// ModelExchange is one call a Recorder passed on: the request and what came back.
type ModelExchange struct {
	// Request is a deep copy of the request.
	Request llm.Request
	// Response is a deep copy of the answer; nil when the call failed or is still running, or when
	// a stream's consumer stopped before the final chunk.
	Response *llm.Response
	// Err is the error the call returned (or the stream yielded); nil on success.
	Err error
	// Streamed reports that the call was a Stream call.
	Streamed bool
}

// Recorder is an llm.Model (and llm.Streamer) that passes every call to another model and records
// it: the request (a deep copy, taken when the call starts) and its response or error. Build one
// with Capture. It is safe for concurrent use; exchanges are kept in the order calls started.
//
// Recorder also has the optional methods the agent looks for on a model (ModelName, Provider,
// Secrets), forwarding them to the wrapped model, so wrapping changes neither token accounting nor
// redaction.
type Recorder struct {
	model llm.Model

	mu        sync.Mutex
	exchanges []ModelExchange
}

// Compile-time checks that Recorder is a model that streams.
var (
	_ llm.Model    = (*Recorder)(nil)
	_ llm.Streamer = (*Recorder)(nil)
)

// Capture returns a Recorder wrapping m. It panics on a nil m, which is always a mistake in the
// test.
func Capture(m llm.Model) *Recorder {
	if m == nil {
		panic("llmtest.Capture: nil model")
	}
	return &Recorder{model: m}
}

// start records req and returns the exchange's index.
func (r *Recorder) start(req *llm.Request, streamed bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, ModelExchange{Request: cloneRequest(req), Streamed: streamed})
	return len(r.exchanges) - 1
}

func (r *Recorder) finish(i int, resp *llm.Response, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if resp != nil {
		resp = cloneResponse(resp)
	}
	r.exchanges[i].Response, r.exchanges[i].Err = resp, err
}

// Generate passes req to the wrapped model and records the exchange. A nil req is passed on
// without being recorded (the wrapped model reports it).
func (r *Recorder) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if req == nil {
		return r.model.Generate(ctx, req)
	}
	i := r.start(req, false)
	resp, err := r.model.Generate(ctx, req)
	r.finish(i, resp, err)
	return resp, err
}

// Stream passes req to the wrapped model's Stream if it is an llm.Streamer; otherwise it calls
// Generate and yields the answer as Chunks does. Each iteration of the returned sequence is one
// call and one recorded exchange, whose Response is the final chunk's.
func (r *Recorder) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	s, ok := r.model.(llm.Streamer)
	if !ok {
		return streamOf(ctx, func() (*llm.Response, error) {
			if req == nil {
				return r.model.Generate(ctx, req)
			}
			i := r.start(req, true)
			resp, err := r.model.Generate(ctx, req)
			r.finish(i, resp, err)
			return resp, err
		})
	}
	return func(yield func(llm.Chunk, error) bool) {
		if req == nil {
			for c, err := range s.Stream(ctx, req) {
				if !yield(c, err) {
					return
				}
			}
			return
		}
		i := r.start(req, true)
		for c, err := range s.Stream(ctx, req) {
			switch {
			case err != nil:
				r.finish(i, nil, err)
			case c.Response != nil:
				r.finish(i, c.Response, nil)
			}
			if !yield(c, err) {
				return
			}
		}
	}
}

// ModelName returns the wrapped model's ModelName, or "" if it has none.
func (r *Recorder) ModelName() string {
	if m, ok := r.model.(interface{ ModelName() string }); ok {
		return m.ModelName()
	}
	return ""
}

// Provider returns the wrapped model's Provider, or "" if it has none.
func (r *Recorder) Provider() string {
	if m, ok := r.model.(interface{ Provider() string }); ok {
		return m.Provider()
	}
	return ""
}

// Secrets returns the wrapped model's Secrets, or nil if it has none.
func (r *Recorder) Secrets() []string {
	if m, ok := r.model.(interface{ Secrets() []string }); ok {
		return m.Secrets()
	}
	return nil
}

// Len returns how many calls have been recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.exchanges)
}

// Requests returns deep copies of the recorded requests, in the order the calls started.
func (r *Recorder) Requests() []llm.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]llm.Request, len(r.exchanges))
	for i := range r.exchanges {
		out[i] = cloneRequest(&r.exchanges[i].Request)
	}
	return out
}

// Exchanges returns deep copies of the recorded exchanges, in the order the calls started.
func (r *Recorder) Exchanges() []ModelExchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ModelExchange, len(r.exchanges))
	for i, e := range r.exchanges {
		out[i] = ModelExchange{Request: cloneRequest(&e.Request), Err: e.Err, Streamed: e.Streamed}
		if e.Response != nil {
			out[i].Response = cloneResponse(e.Response)
		}
	}
	return out
}

// Last returns a deep copy of the last recorded request. With none recorded it stops the test
// with t.Fatal, saying so.
func (r *Recorder) Last(t testing.TB) llm.Request {
	t.Helper()
	reqs := r.Requests()
	if len(reqs) == 0 {
		t.Fatal("llmtest: Recorder.Last: the model was never called")
		return llm.Request{}
	}
	return reqs[len(reqs)-1]
}

// The helpers below read any llm.Request: one from Recorder, Script, Func or Auto, or the one a
// hook receives.

// SystemPrompt returns the content of the request's leading system messages, joined with a blank
// line; "" when the first message is not a system message.
func SystemPrompt(req llm.Request) string {
	var parts []string
	for _, m := range req.Messages {
		if m.Role != llm.RoleSystem {
			break
		}
		parts = append(parts, m.Content)
	}
	return joinNonEmpty(parts, "\n\n")
}

// ToolNames returns the names of the tools the request offers, in the order offered; nil when it
// offers none.
func ToolNames(req llm.Request) []string {
	var names []string
	for _, t := range req.Tools {
		names = append(names, t.Name)
	}
	return names
}

// ToolResults returns copies of the tool results (RoleTool messages) that end the request, in
// order: the results the model is being asked to react to. It is nil when the last message is not
// a tool result.
func ToolResults(req llm.Request) []llm.Message {
	i := len(req.Messages)
	for i > 0 && req.Messages[i-1].Role == llm.RoleTool {
		i--
	}
	if i == len(req.Messages) {
		return nil
	}
	return llm.CloneMessages(req.Messages[i:])
}

// LastUserText returns the content of the request's last user message; "" when it has none.
func LastUserText(req llm.Request) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == llm.RoleUser {
			return req.Messages[i].Content
		}
	}
	return ""
}

func joinNonEmpty(parts []string, sep string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}
