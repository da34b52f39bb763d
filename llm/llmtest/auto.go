package llmtest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"

	"github.com/autogpt-go/agent/llm"
)

// DefaultAutoSeed is the seed an Auto uses unless WithSeed says otherwise, so tests are
// reproducible without choosing one.
const DefaultAutoSeed int64 = 1

// AutoNoToolsAnswer is the answer of an Auto that called no tool (none offered, none selected by
// WithTools, or tool choice "none"), unless WithAnswer says otherwise.
const AutoNoToolsAnswer = "llmtest.Auto: no tools called."

// autoResultRunes is how many runes of each tool result an Auto's summary keeps.
const autoResultRunes = 80

// Auto is an llm.Model (and llm.Streamer) driven by the tools' schemas: it exercises every tool an
// agent offers with valid arguments, without a test having to script the calls.
//
// For each request it answers, in this order:
//   - if the request ends with tool results for calls Auto itself made (by ID), a text answer
//     summarising them, one line per result in order: "name: content" ("name (error): content" for
//     a failed call), the content on one line and cut to 80 runes; or what WithAnswer's function
//     returns for those results;
//   - else, if tools are offered (and tool choice is not "none"), one assistant message calling
//     each of them once (in the order offered; only the one tool named by a specific tool choice;
//     only those named by WithTools), with FinishToolCalls. Call IDs are "auto_1", "auto_2", ...,
//     numbered over the Auto's life. The arguments of a call are GenerateArguments(the tool's
//     Parameters, seed): the same for every call of a tool, and valid against its schema;
//   - else the text AutoNoToolsAnswer (or WithAnswer's function applied to no results), with
//     FinishStop.
//
// Usage is zero and Model is "llmtest-auto". A tool whose schema admits no value, or that the
// generator cannot satisfy, makes Generate fail with an error naming the tool and wrapping the
// *SchemaError. Auto records a deep copy of every request it answers and is safe for concurrent
// use.
type Auto struct {
	seed   int64
	only   map[string]bool // nil: every offered tool
	answer func(results []llm.Message) string

	mu       sync.Mutex
	requests []llm.Request
	issued   map[string]bool // IDs of the calls made
	nextID   int
}

// AutoOption configures an Auto.
type AutoOption func(*Auto)

// WithSeed sets the seed of the arguments Auto generates (default DefaultAutoSeed): the same seed
// gives the same arguments.
func WithSeed(seed int64) AutoOption {
	return func(a *Auto) { a.seed = seed }
}

// WithTools restricts Auto to calling the named tools (those of them offered in a request). With
// no names, or without this option, it calls every offered tool. Several WithTools add up.
func WithTools(names ...string) AutoOption {
	return func(a *Auto) {
		if len(names) == 0 {
			return
		}
		if a.only == nil {
			a.only = map[string]bool{}
		}
		for _, n := range names {
			a.only[n] = true
		}
	}
}

// WithAnswer sets the function that writes Auto's text answer from the tool results that end the
// request (deep copies, in order; empty when Auto called no tool). A nil f keeps the default.
func WithAnswer(f func(results []llm.Message) string) AutoOption {
	return func(a *Auto) { a.answer = f }
}

// Compile-time checks that Auto is a model that streams.
var (
	_ llm.Model    = (*Auto)(nil)
	_ llm.Streamer = (*Auto)(nil)
)

// NewAuto returns an Auto configured by opts.
func NewAuto(opts ...AutoOption) *Auto {
	a := &Auto{seed: DefaultAutoSeed, issued: map[string]bool{}}
	for _, o := range opts {
		if o != nil {
			o(a)
		}
	}
	return a
}

// Generate answers req as described on Auto. If ctx is already done it returns ctx.Err() without
// recording the request; a nil req is an error.
func (a *Auto) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errors.New("llmtest: Auto.Generate: nil request")
	}
	a.mu.Lock()
	a.requests = append(a.requests, cloneRequest(req))
	results, ours := a.trailingResults(req)
	a.mu.Unlock()

	if ours {
		return a.text(req, results), nil
	}
	var specs []llm.ToolSpec
	if req.ToolChoice != llm.ToolChoiceNone {
		for _, t := range req.Tools {
			switch req.ToolChoice {
			case "", llm.ToolChoiceAuto, llm.ToolChoiceRequired:
			default:
				if t.Name != req.ToolChoice {
					continue
				}
			}
			if a.only != nil && !a.only[t.Name] {
				continue
			}
			specs = append(specs, t)
		}
	}
	if len(specs) == 0 {
		return a.text(req, nil), nil
	}
	calls := make([]llm.ToolCall, len(specs))
	for i, t := range specs {
		args, err := GenerateArguments(t.Parameters, a.seed)
		if err != nil {
			return nil, fmt.Errorf("llmtest: Auto: arguments of tool %q: %w", t.Name, err)
		}
		calls[i] = llm.ToolCall{Name: t.Name, Arguments: string(args)}
	}
	a.mu.Lock()
	for i := range calls {
		a.nextID++
		calls[i].ID = "auto_" + strconv.Itoa(a.nextID)
		a.issued[calls[i].ID] = true
	}
	a.mu.Unlock()
	return &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, ToolCalls: calls},
		FinishReason: llm.FinishToolCalls,
		Model:        "llmtest-auto",
	}, nil
}

// trailingResults returns the tool results that end req and whether they answer calls Auto made.
// a.mu must be held.
func (a *Auto) trailingResults(req *llm.Request) ([]llm.Message, bool) {
	i := len(req.Messages)
	for i > 0 && req.Messages[i-1].Role == llm.RoleTool {
		i--
	}
	results := llm.CloneMessages(req.Messages[i:])
	if len(results) == 0 {
		return nil, false
	}
	for _, m := range results {
		if !a.issued[m.ToolCallID] {
			return results, false
		}
	}
	return results, true
}

// text builds the text answer for results (nil when no tool was called).
func (a *Auto) text(req *llm.Request, results []llm.Message) *llm.Response {
	var text string
	switch {
	case a.answer != nil:
		text = a.answer(llm.CloneMessages(results))
	case len(results) == 0:
		text = AutoNoToolsAnswer
	default:
		names := callNames(req)
		lines := make([]string, len(results))
		for i, m := range results {
			name := m.Name
			if name == "" {
				name = names[m.ToolCallID]
			}
			if name == "" {
				name = m.ToolCallID
			}
			if m.IsError {
				name += " (error)"
			}
			content := strings.Join(strings.Fields(m.Content), " ")
			lines[i] = name + ": " + shorten(content, autoResultRunes)
		}
		text = strings.Join(lines, "\n")
	}
	return &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: text},
		FinishReason: llm.FinishStop,
		Model:        "llmtest-auto",
	}
}

// callNames maps the tool-call IDs of req's assistant messages to the tools' names.
func callNames(req *llm.Request) map[string]string {
	names := map[string]string{}
	for _, m := range req.Messages {
		for _, c := range m.ToolCalls {
			names[c.ID] = c.Name
		}
	}
	return names
}

// Stream is Generate delivered as chunks, as Script.Stream does: text fragments, tool-call
// fragments, then the final Response. An error is yielded once and ends the sequence.
func (a *Auto) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return streamOf(ctx, func() (*llm.Response, error) { return a.Generate(ctx, req) })
}

// Requests returns deep copies of the requests Auto answered, in the order received.
func (a *Auto) Requests() []llm.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]llm.Request, len(a.requests))
	for i := range a.requests {
		out[i] = cloneRequest(&a.requests[i])
	}
	return out
}

// Calls returns how many Generate or Stream calls reached Auto (those made with a ctx already
// done are not counted). It equals len(a.Requests()).
func (a *Auto) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.requests)
}
