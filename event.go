package agent

import (
	"time"

	"github.com/autogpt-go/agent/llm"
)

// EventKind names what an Event reports.
type EventKind string

// The kinds of events a run emits, in the order they occur within a step.
const (
	// EventStepStart opens step Event.Step.
	EventStepStart EventKind = "step_start"
	// EventTextDelta carries a fragment of assistant text in Text, while a streaming model answers.
	// The fragments of one model call concatenate to its response's content. Secrets are redacted
	// across fragments: the end of a fragment that could start one (an unfinished word) is held
	// back until the next fragment, or the response, shows it does not.
	EventTextDelta EventKind = "text_delta"
	// EventToolCallDelta carries a fragment of a tool call in ToolCallDelta, while a streaming
	// model answers: fragments with the same ToolCallDelta.Index belong to one call (its position
	// in the answer); the first carries the tool name, later ones pieces of the raw JSON arguments
	// to concatenate. ToolCallID is set on every fragment once the provider sent the call's id (a
	// call the provider sent without one gets an id after the response: use Index to match it to
	// EventModelResponse's calls). The assembled call is not validated yet: EventToolCall follows
	// for each call that will run. Secrets are redacted across fragments (a fragment may be held
	// back until the text after it shows it does not start a secret).
	EventToolCallDelta EventKind = "tool_call_delta"
	// EventModelResponse carries one complete model answer in Response (with its usage).
	EventModelResponse EventKind = "model_response"
	// EventThought carries a planner's reasoning in Text (for example AutoGPT's thoughts).
	EventThought EventKind = "thought"
	// EventToolCall announces a tool call about to run: ToolCall holds it, with the arguments
	// after any BeforeToolCall hook edited them.
	EventToolCall EventKind = "tool_call"
	// EventToolResult carries the result of ToolCall in ToolResult, with the call's wall time in
	// Duration. Results are emitted in call order, once every call of the step has finished. A
	// call refused before it ran (unknown tool, invalid arguments, denied by a hook, loop
	// detected) has an EventToolResult with IsError and no EventToolCall.
	EventToolResult EventKind = "tool_result"
	// EventFinal ends a successful run: Text is the final answer, Result the whole result.
	EventFinal EventKind = "final"
	// EventError ends a run that stopped early (Stream only): it is yielded together with the
	// error; Result is the partial result and Text the error's message.
	EventError EventKind = "error"
)

// Event is one observable moment of a run, passed to Step's emit function and yielded by Stream.
// Which fields are set depends on Kind (see the EventKind constants); Step is always set.
type Event struct {
	Kind EventKind `json:"kind"`
	// Step is the 0-based index of the step the event belongs to.
	Step int `json:"step"`
	// Text is the text delta, the thought or the final answer.
	Text string `json:"text,omitempty"`
	// Thoughts is the structured thought (EventThought from planners that have one), or nil.
	Thoughts *Thoughts `json:"thoughts,omitempty"`
	// Response is the model's answer (EventModelResponse).
	Response *llm.Response `json:"response,omitempty"`
	// ToolCall is the call (EventToolCall, EventToolResult); its ID is the tool-call id.
	ToolCall *llm.ToolCall `json:"tool_call,omitempty"`
	// ToolCallDelta is the fragment of a streaming tool call (EventToolCallDelta).
	ToolCallDelta *llm.ToolCallDelta `json:"tool_call_delta,omitempty"`
	// ToolCallID is the tool-call id of EventToolCall, EventToolResult and EventToolCallDelta
	// (once the provider sent it), the same as ToolCall.ID where ToolCall is set.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// ToolResult is the call's result (EventToolResult).
	ToolResult *ToolResult `json:"tool_result,omitempty"`
	// Duration is the tool call's wall time (EventToolResult).
	Duration time.Duration `json:"duration,omitempty"`
	// Result is the run's result (EventFinal) or partial result (EventError).
	Result *Result `json:"-"`

	redacted bool // Text and ToolCallDelta were redacted already (streamed deltas)
}
