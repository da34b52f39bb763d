package llmtest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/autogpt-go/agent/llm"
)

// ErrScriptExhausted is returned, wrapped, by a Script called more times than it has replies. The
// wrapping error's message gives the call number, the number of scripted replies and a short
// description of the request's last message; test with errors.Is.
var ErrScriptExhausted = errors.New("llmtest: script exhausted")

// Reply is one scripted answer: a response, or an error that Generate returns. Build replies with
// Text, Calls, TextAndCalls or Fail rather than by hand.
type Reply struct {
	// Response is the answer; nil when Err is set.
	Response *llm.Response
	// Err is returned by Generate instead of a response; nil when Response is set.
	Err error
	// Chunks, when set, is what Stream yields, exactly and in order (then Err, if set); Generate
	// still returns Response or Err. Build such replies with Streamed or StreamedThenFail.
	Chunks []llm.Chunk
}

// Streamed returns a reply that Stream delivers as exactly chunks, in order, for testing code that
// consumes a stream: interleaved tool-call fragments, a text split inside a word, a stream with no
// final Chunk (a real stream ends with one whose Response is the whole answer; leave it out to
// test how a consumer handles a truncated stream). Generate returns the final chunk's Response,
// or, without one, the chunks assembled by Assemble. Tool-call IDs are used as given: the Script
// assigns none. It panics when the chunks do not assemble (see Assemble): a mistake in the test.
func Streamed(chunks ...llm.Chunk) Reply {
	resp, err := Assemble(chunks)
	if err != nil {
		panic("llmtest.Streamed: " + err.Error())
	}
	return Reply{Response: resp, Chunks: cloneChunks(chunks)}
}

// StreamedThenFail returns a reply that Stream delivers as chunks followed by err, as a connection
// that breaks mid-answer does; Generate returns err. It panics on a nil err.
func StreamedThenFail(err error, chunks ...llm.Chunk) Reply {
	if err == nil {
		panic("llmtest.StreamedThenFail: nil error")
	}
	return Reply{Err: err, Chunks: cloneChunks(chunks)}
}

func cloneChunks(chunks []llm.Chunk) []llm.Chunk {
	out := make([]llm.Chunk, len(chunks))
	for i, c := range chunks {
		out[i] = llm.Chunk{Text: c.Text}
		if c.ToolCall != nil {
			d := *c.ToolCall
			out[i].ToolCall = &d
		}
		if c.Response != nil {
			out[i].Response = cloneResponse(c.Response)
		}
	}
	return out
}

// Assemble returns the answer a stream of chunks makes, as a consumer should assemble it: the
// final chunk's Response when there is one (a deep copy; it is authoritative), otherwise an
// assistant message whose Content is the text fragments concatenated and whose ToolCalls are the
// tool-call fragments grouped by Index (ID and Name from the fragments that carry them, Arguments
// concatenated), with FinishToolCalls when there are calls and FinishStop otherwise. A call with no
// Arguments fragment keeps "" (a zero-argument call). Errors: a negative Index, indexes with a gap
// (calls 0 and 2 without 1), two different IDs or names for one Index, and a chunk after the final
// one.
func Assemble(chunks []llm.Chunk) (*llm.Response, error) {
	var text strings.Builder
	var calls []llm.ToolCall
	var args [][]byte
	for i, c := range chunks {
		if c.Response != nil {
			if i != len(chunks)-1 {
				return nil, fmt.Errorf("llmtest: chunk %d follows the final chunk", i+1)
			}
			return cloneResponse(c.Response), nil
		}
		text.WriteString(c.Text)
		d := c.ToolCall
		if d == nil {
			continue
		}
		if d.Index < 0 {
			return nil, fmt.Errorf("llmtest: chunk %d: tool-call index %d is negative", i, d.Index)
		}
		if d.Index > len(calls) {
			return nil, fmt.Errorf("llmtest: chunk %d: tool-call index %d skips %d", i, d.Index, len(calls))
		}
		for len(calls) <= d.Index {
			calls = append(calls, llm.ToolCall{})
			args = append(args, nil)
		}
		tc := &calls[d.Index]
		if d.ID != "" {
			if tc.ID != "" && tc.ID != d.ID {
				return nil, fmt.Errorf("llmtest: chunk %d: tool call %d has two ids, %q and %q", i, d.Index, tc.ID, d.ID)
			}
			tc.ID = d.ID
		}
		if d.Name != "" {
			if tc.Name != "" && tc.Name != d.Name {
				return nil, fmt.Errorf("llmtest: chunk %d: tool call %d has two names, %q and %q", i, d.Index, tc.Name, d.Name)
			}
			tc.Name = d.Name
		}
		args[d.Index] = append(args[d.Index], d.Arguments...)
	}
	resp := &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: text.String()}, FinishReason: llm.FinishStop}
	for k := range calls {
		if calls[k].Name == "" && calls[k].ID == "" && len(args[k]) == 0 {
			return nil, fmt.Errorf("llmtest: tool-call indexes skip %d", k)
		}
		calls[k].Arguments = string(args[k])
	}
	if len(calls) > 0 {
		resp.Message.ToolCalls = calls
		resp.FinishReason = llm.FinishToolCalls
	}
	return resp, nil
}

// Text returns a reply whose assistant message is text, with FinishStop.
func Text(text string) Reply {
	return Reply{Response: &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: text},
		FinishReason: llm.FinishStop,
	}}
}

// Calls returns a reply whose assistant message requests calls, in order, with FinishToolCalls.
// A call whose ID is "" gets a unique "call_<n>" from the Script (see Call).
func Calls(calls ...llm.ToolCall) Reply {
	return TextAndCalls("", calls...)
}

// TextAndCalls returns a reply whose assistant message has both text and tool calls, with
// FinishToolCalls.
func TextAndCalls(text string, calls ...llm.ToolCall) Reply {
	return Reply{Response: &llm.Response{
		Message: llm.Message{
			Role:      llm.RoleAssistant,
			Content:   text,
			ToolCalls: append([]llm.ToolCall(nil), calls...),
		},
		FinishReason: llm.FinishToolCalls,
	}}
}

// Fail returns a reply for which Generate returns err (and Stream yields it). err must not be nil:
// Fail panics on a nil error, which is always a mistake in the test.
func Fail(err error) Reply {
	if err == nil {
		panic("llmtest.Fail: nil error")
	}
	return Reply{Err: err}
}

// WithUsage returns a copy of r whose Response.Usage has input and output tokens set (r itself is
// unchanged). It panics on a reply without a response (one made by Fail).
func (r Reply) WithUsage(input, output int) Reply {
	if r.Response == nil {
		panic("llmtest: WithUsage on a reply without a response")
	}
	resp := cloneResponse(r.Response)
	resp.Usage.InputTokens = input
	resp.Usage.OutputTokens = output
	return Reply{Response: resp, Err: r.Err}
}

// Call returns a tool call of the named tool with args, the arguments object as raw JSON text. Its
// ID is "": a Script gives it "call_<n>", n counting the calls of the whole script from 1 and skipping
// any ID the test set explicitly, so every ID is unique.
func Call(name, args string) llm.ToolCall {
	return llm.ToolCall{Name: name, Arguments: args}
}

// Script is an llm.Model (and llm.Streamer) that answers calls with scripted replies, one per call,
// in order. A call past the last reply fails with ErrScriptExhausted; AssertComplete fails the test
// when replies are left unused. It records a deep copy of every request it answers.
//
// A Script is safe for concurrent use; concurrent calls take replies in the order they reach it.
type Script struct {
	mu       sync.Mutex
	replies  []Reply
	next     int
	requests []llm.Request
	overrun  []error // errors returned for calls past the end
}

// Compile-time checks that Script and Func are models that stream.
var (
	_ llm.Model    = (*Script)(nil)
	_ llm.Streamer = (*Script)(nil)
	_ llm.Model    = Func(nil)
	_ llm.Streamer = Func(nil)
)

// NewScript returns a Script that answers with replies, in order. The replies are copied: changing
// them afterwards does not change the script. Tool calls without an ID get "call_<n>" here.
// A Reply with neither Response nor Err makes its call fail with an error saying so.
func NewScript(replies ...Reply) *Script {
	s := &Script{replies: make([]Reply, len(replies))}
	used := map[string]bool{}
	for _, r := range replies {
		if r.Response != nil {
			for _, c := range r.Response.Message.ToolCalls {
				if c.ID != "" {
					used[c.ID] = true
				}
			}
		}
	}
	n := 0
	for i, r := range replies {
		s.replies[i] = Reply{Err: r.Err}
		if r.Chunks != nil {
			s.replies[i].Chunks = cloneChunks(r.Chunks)
			if r.Response != nil {
				s.replies[i].Response = cloneResponse(r.Response)
			}
			continue // a streamed reply's ids are the test's, as given
		}
		if r.Response == nil {
			continue
		}
		resp := cloneResponse(r.Response)
		for j := range resp.Message.ToolCalls {
			if resp.Message.ToolCalls[j].ID != "" {
				continue
			}
			for {
				n++
				id := "call_" + strconv.Itoa(n)
				if !used[id] {
					used[id] = true
					resp.Message.ToolCalls[j].ID = id
					break
				}
			}
		}
		s.replies[i].Response = resp
	}
	return s
}

// Generate answers req with the next reply: its error if Err is set, else a deep copy of its
// response (the caller may change it). If ctx is already done it returns ctx.Err() without consuming a reply or recording
// the request. Past the last reply it returns an error wrapping ErrScriptExhausted. A nil req is an
// error and consumes nothing.
func (s *Script) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errors.New("llmtest: Script.Generate: nil request")
	}
	return s.take(req)
}

// take records req and consumes the next reply.
func (s *Script) take(req *llm.Request) (*llm.Response, error) {
	resp, _, err := s.takeReply(req)
	return resp, err
}

// takeReply records req and consumes the next reply; chunks are its scripted stream, if any (a
// copy), returned with the reply's response or error.
func (s *Script) takeReply(req *llm.Request) (resp *llm.Response, chunks []llm.Chunk, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, cloneRequest(req))
	call := len(s.requests)
	if s.next >= len(s.replies) {
		err := fmt.Errorf("%w: call %d, but %d %s scripted; last message: %s",
			ErrScriptExhausted, call, len(s.replies), plural(len(s.replies), "reply was", "replies were"), describeLast(req))
		s.overrun = append(s.overrun, err)
		return nil, nil, err
	}
	r := s.replies[s.next]
	s.next++
	if r.Chunks != nil {
		chunks = cloneChunks(r.Chunks)
	}
	switch {
	case r.Err != nil:
		return nil, chunks, r.Err
	case r.Response == nil:
		return nil, nil, fmt.Errorf("llmtest: scripted reply %d has neither a response nor an error", s.next)
	}
	return cloneResponse(r.Response), chunks, nil
}

// Stream is Generate delivered as chunks. Each iteration of the returned sequence is one call and
// consumes one reply, when the iteration starts. It yields the text in fragments of a few runes
// (never splitting a UTF-8 sequence), then each tool call as fragments (Index; ID and Name first,
// then Arguments in pieces), then a final chunk whose Response is what Generate would have
// returned. An error (a Fail reply, exhaustion, ctx done before or during the stream) is yielded
// once and ends the sequence.
//
// A reply built with Streamed or StreamedThenFail is yielded as its chunks, exactly, then its
// error if it has one.
func (s *Script) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return func(yield func(llm.Chunk, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(llm.Chunk{}, err)
			return
		}
		if req == nil {
			yield(llm.Chunk{}, errors.New("llmtest: Script.Stream: nil request"))
			return
		}
		resp, chunks, err := s.takeReply(req)
		if chunks == nil {
			streamOf(ctx, func() (*llm.Response, error) { return resp, err })(yield)
			return
		}
		for _, c := range chunks {
			if err := ctx.Err(); err != nil {
				yield(llm.Chunk{}, err)
				return
			}
			if !yield(c, nil) {
				return
			}
		}
		if err != nil {
			yield(llm.Chunk{}, err)
		}
	}
}

// Requests returns deep copies of the requests the script answered (including those past the end),
// in the order received.
func (s *Script) Requests() []llm.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]llm.Request, len(s.requests))
	for i := range s.requests {
		out[i] = cloneRequest(&s.requests[i])
	}
	return out
}

// Calls returns how many Generate or Stream calls reached the script: those that consumed a reply
// and those past the end. Calls made with a ctx already done are not counted. It equals
// len(s.Requests()).
func (s *Script) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Remaining returns how many replies are left.
func (s *Script) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.replies) - s.next
}

// AssertComplete reports a test failure with t.Errorf unless every reply was consumed and no call
// went past the end (even if the code under test swallowed the ErrScriptExhausted error).
func (s *Script) AssertComplete(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	left, total, calls := len(s.replies)-s.next, len(s.replies), len(s.requests)
	overrun := append([]error(nil), s.overrun...)
	s.mu.Unlock()
	if left > 0 {
		t.Errorf("llmtest: script not complete: %d of %d %s not used (%d %s made)",
			left, total, plural(total, "reply", "replies"), calls, plural(calls, "call", "calls"))
	}
	for _, err := range overrun {
		t.Errorf("%v", err)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describeLast describes the last message of req in a few words, for error messages.
func describeLast(req *llm.Request) string {
	if len(req.Messages) == 0 {
		return "(no messages)"
	}
	m := req.Messages[len(req.Messages)-1]
	var b strings.Builder
	b.WriteString(string(m.Role))
	if m.ToolCallID != "" {
		b.WriteString(" (result of ")
		if m.Name != "" {
			b.WriteString(m.Name + " ")
		}
		b.WriteString(m.ToolCallID + ")")
	}
	if m.Content != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(shorten(m.Content, 60)))
	}
	if len(m.ToolCalls) > 0 {
		names := make([]string, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			names[i] = c.Name
		}
		fmt.Fprintf(&b, " calling %s", strings.Join(names, ", "))
	}
	return b.String()
}

// shorten cuts s to at most n runes, marking a cut with "...".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k] + "..."
		}
		i++
	}
	return s
}

func cloneResponse(r *llm.Response) *llm.Response {
	c := *r
	c.Message = r.Message.Clone()
	return &c
}

func cloneRequest(r *llm.Request) llm.Request {
	c := *r
	c.Messages = llm.CloneMessages(r.Messages)
	if r.Tools != nil {
		c.Tools = make([]llm.ToolSpec, len(r.Tools))
		for i, t := range r.Tools {
			if t.Parameters != nil {
				t.Parameters = append([]byte(nil), t.Parameters...)
			}
			c.Tools[i] = t
		}
	}
	if r.Temperature != nil {
		t := *r.Temperature
		c.Temperature = &t
	}
	if r.Stop != nil {
		c.Stop = append([]string(nil), r.Stop...)
	}
	return c
}
