package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/autogpt-go/agent/llm"
)

// RunState is everything a run is: goal, history, steps, usage and the planner's slot. The host owns
// it: Agent.Step advances it one step at a time, and it serialises to JSON (encoding/json) so a run
// can be saved and resumed with Agent.Resume, also by another process. A RunState must not be used by
// two goroutines at once.
type RunState struct {
	// ID identifies the run: 16 random hex digits.
	ID string `json:"id"`
	// Goal is the goal given to Start; it is the first user message of the history.
	Goal string `json:"goal"`
	// Step counts the steps taken so far.
	Step int `json:"step"`
	// Done is set when the run reached its final answer.
	Done bool `json:"done"`
	// Answer is the final answer once Done.
	Answer string `json:"answer,omitempty"`
	// Usage is the token usage of every model call of the run, summed.
	Usage llm.Usage `json:"usage"`
	// CostUSD is the run's cost so far, in USD at the model's prices (llm.ModelInfo.CostUSD).
	CostUSD float64 `json:"cost_usd,omitempty"`
	// Steps records each step taken.
	Steps []StepRecord `json:"steps,omitempty"`
	// PlannerState is the planner's slot (see Decision.State).
	PlannerState json.RawMessage `json:"planner_state,omitempty"`
	// LoopCall and LoopCount track loop detection: the last tool call (name and arguments as sent)
	// and how many times in a row it was made (see Config.LoopStopAfter).
	LoopCall  *llm.ToolCall `json:"loop_call,omitempty"`
	LoopCount int           `json:"loop_count,omitempty"`
	LoopStep  int           `json:"loop_step,omitempty"` // the step LoopCall was last counted in
	// OutputErrors counts the invalid final answers of a typed run (RunTyped) so far.
	OutputErrors int `json:"output_errors,omitempty"`
	// Messages is the history (without the system prompt). It is filled from the run's Memory when
	// the state is marshalled, and loaded into a fresh Memory when a restored state takes its next
	// step; while a run is live, read the history with History.
	Messages []llm.Message `json:"messages,omitempty"`

	mem Memory
	fit *fitState
}

// fitCache returns the run's fitting cache, made on first use (it is not serialised).
func (s *RunState) fitCache() *fitState {
	if s.fit == nil {
		s.fit = &fitState{}
	}
	return s.fit
}

// StepRecord is what one step did.
type StepRecord struct {
	// Index is the 0-based step index.
	Index int `json:"index"`
	// ModelCalls counts the model calls the planner made in this step.
	ModelCalls int `json:"model_calls"`
	// Usage sums the usage of those calls.
	Usage llm.Usage `json:"usage"`
	// CostUSD is the step's cost, in USD at the model's prices.
	CostUSD float64 `json:"cost_usd,omitempty"`
	// UsageEstimated is set when a provider reported no usage and our own count stands in.
	UsageEstimated bool `json:"usage_estimated,omitempty"`
	// DroppedMessages counts the history messages this step's prompts left out (or compacted) to
	// fit the context window.
	DroppedMessages int `json:"dropped_messages,omitempty"`
	// FinishReason is the finish reason of the step's last model call.
	FinishReason llm.FinishReason `json:"finish_reason,omitempty"`
	// Thought is the planner's reasoning, if it gave any; Thoughts its structured form, if any.
	Thought  string    `json:"thought,omitempty"`
	Thoughts *Thoughts `json:"thoughts,omitempty"`
	// Messages are the messages the planner added (usually the assistant message).
	Messages []llm.Message `json:"messages,omitempty"`
	// ToolCalls are the tool calls of this step, in call order, with their results.
	ToolCalls []ToolCallRecord `json:"tool_calls,omitempty"`
	// Error is the error that ended the step, if any.
	Error string `json:"error,omitempty"`
}

// ToolCallRecord is one executed (or refused) tool call and its result.
type ToolCallRecord struct {
	// Call is the call as executed (arguments normalised, and edited by a BeforeToolCall hook).
	Call llm.ToolCall `json:"call"`
	// Result is what the model received.
	Result ToolResult `json:"result"`
	// Duration is the call's wall time.
	Duration time.Duration `json:"duration"`
	// Executed is false when the call never reached the tool: unknown tool, invalid arguments,
	// denied by a hook, or the run was cancelled first.
	Executed bool `json:"executed"`
	// Abandoned is set when the tool did not return within Config.ToolGracePeriod after its
	// context was cancelled: the run went on without it (its goroutine may still be running).
	Abandoned bool `json:"abandoned,omitempty"`
}

// MarshalJSON encodes the state, taking Messages from the run's Memory when the run is live. It has
// a value receiver so that a RunState copied into another value still saves its history.
func (s RunState) MarshalJSON() ([]byte, error) {
	type plain RunState
	c := s
	if s.mem != nil {
		msgs, err := s.mem.Messages(context.Background())
		if err != nil {
			return nil, err
		}
		c.Messages = msgs
	}
	return json.Marshal((*plain)(&c))
}

// History returns the run's history (without the system prompt), oldest first: a copy.
func (s *RunState) History(ctx context.Context) ([]llm.Message, error) {
	if s.mem == nil {
		return llm.CloneMessages(s.Messages), nil
	}
	return s.mem.Messages(ctx)
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// countRepeat records call c of step for loop detection and returns how many steps in a row made it.
// Arguments are canonicalised only when the names match and the bytes differ, so the first call of
// a run and calls of different tools cost nothing.
// Identical calls within one step (parallel calls) count once: a loop is a repeat across turns.
func (s *RunState) countRepeat(c llm.ToolCall, step int) int {
	if p := s.LoopCall; p != nil && p.Name == c.Name && (p.Arguments == c.Arguments || canonicalCall(*p) == canonicalCall(c)) {
		if s.LoopStep != step {
			s.LoopCount++
			s.LoopStep = step
		}
	} else {
		s.LoopCall, s.LoopCount, s.LoopStep = &llm.ToolCall{Name: c.Name, Arguments: c.Arguments}, 1, step
	}
	return s.LoopCount
}
