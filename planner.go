package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/autogpt-go/agent/llm"
)

// Planner decides each step of a run: which tool calls to make next, or the final answer.
//
// Next reads the run through view and usually calls view.Model once. It must not keep per-run state
// in the Planner value itself (an Agent and its Planner serve concurrent runs): state that must
// survive between steps goes into Decision.State and comes back as view.State, so a RunState stays
// serialisable. An error from Next ends the step: the run stops with its partial Result and the
// error.
type Planner interface {
	Next(ctx context.Context, view *RunView) (*Decision, error)
}

// Observer is an optional interface for a Planner that records tool results in the history in its
// own form (a text protocol such as ReAct writes "Observation: ..." as a user message). Without it,
// each result becomes a RoleTool message answering its call's ID.
type Observer interface {
	Observe(calls []llm.ToolCall, results []ToolResult) []llm.Message
}

// ToolValidator is an optional interface for a Planner that reserves tool names or needs something
// of the tools (AutoGPT reserves "finish"): New calls ValidateTools once with the tools offered and
// refuses the Config when it returns an error.
type ToolValidator interface {
	ValidateTools(tools []llm.ToolSpec) error
}

// RunView is a planner's read-only view of a run at the start of a step. Its slices are copies: a
// planner may modify them without changing the run.
type RunView struct {
	// Goal is the run's goal, as given to Start.
	Goal string
	// Step is the 0-based index of this step; MaxSteps the run's limit.
	Step, MaxSteps int
	// SystemPrompt is Config.SystemPrompt (or the default).
	SystemPrompt string
	// Messages is the history from Memory: the goal as a user message, then every later message.
	Messages []llm.Message
	// Tools are the tools offered, in Config order.
	Tools []llm.ToolSpec
	// State is the planner's slot, as the last Decision.State set it (nil at first).
	State json.RawMessage
	// Model is the run's model, wrapped so that each call runs the model hooks, streams text deltas
	// to the run's events when the model can stream, and adds its usage to the step.
	Model llm.Model
	// LastStep is set on the run's last allowed step (Step == MaxSteps-1): a planner offers no tools
	// and asks for the best final answer (NewRequest does both).
	LastStep bool

	maxOutputTokens int
	temperature     *float64
	outputHint      string // typed runs: the form of the final answer
}

// FinalStepPrompt is the user message NewRequest adds on a run's last allowed step.
const FinalStepPrompt = "This is your last step: no more tool calls are possible. Give your best final answer now, " +
	"from what you have gathered so far, and say plainly what is still missing or uncertain."

// NewRequest returns the request a native tool-calling planner sends: the system prompt, the
// history, every tool, and Config's MaxOutputTokens and Temperature. On the last step (LastStep)
// it offers no tools and ends with FinalStepPrompt. The request is the caller's: its slices and
// Temperature are copies (a tool's Parameters bytes are shared and must not be modified in place).
func (v *RunView) NewRequest() *llm.Request {
	msgs := make([]llm.Message, 0, len(v.Messages)+2)
	if v.SystemPrompt != "" {
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: v.SystemPrompt})
	}
	msgs = append(msgs, v.Messages...)
	req := &llm.Request{Messages: msgs, MaxOutputTokens: v.maxOutputTokens}
	if v.LastStep {
		prompt := FinalStepPrompt
		if v.outputHint != "" {
			prompt += " Answer with " + v.outputHint + " and nothing else."
		}
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Content: prompt})
	} else {
		req.Tools = slices.Clone(v.Tools) // hooks may edit the request; never the Agent's own
	}
	if v.temperature != nil {
		t := *v.temperature
		req.Temperature = &t
	}
	return req
}

// Decision is what a Planner decided for one step.
type Decision struct {
	// Messages are appended to the history before any tool runs: usually the assistant message
	// that carries the tool calls or the answer.
	Messages []llm.Message
	// ToolCalls are executed this step, in order (concurrently, results kept in this order). Each
	// needs a unique, non-empty ID; the loop assigns one where it is empty.
	ToolCalls []llm.ToolCall
	// Final ends the run with Answer as its final answer (after ToolCalls, if any, have run).
	Final  bool
	Answer string
	// Thought is the planner's reasoning for this step, emitted as an EventThought if non-empty.
	Thought string
	// Thoughts is the structured form of Thought, for planners that have one (AutoGPT's), or nil.
	Thoughts *Thoughts
	// State replaces the planner's slot in the RunState; nil keeps it.
	State json.RawMessage
}

// ErrEmptyResponse is returned (wrapped) by ToolCallingPlanner when the model answers with neither
// text nor tool calls twice in a row.
var ErrEmptyResponse = errors.New("agent: model returned an empty response")

// ToolCallingPlanner is the default Planner: it uses the provider's native tool calling. Each step it
// sends the system prompt, the history and the tools; an answer with tool calls is executed, an answer
// with text and no tool calls is the final answer. An empty answer is retried once with a note asking
// for a tool call or a final answer. On the last step no tools are offered: the text is the final
// answer, and tool calls without text end the run with ErrMaxSteps.
type ToolCallingPlanner struct{}

// Next implements Planner.
func (ToolCallingPlanner) Next(ctx context.Context, view *RunView) (*Decision, error) {
	req := view.NewRequest()
	resp, err := view.Model.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	if isEmptyAnswer(resp) {
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser,
			Content: "Your last reply was empty. Call a tool, or give your final answer as text."})
		if resp, err = view.Model.Generate(ctx, req); err != nil {
			return nil, err
		}
		if isEmptyAnswer(resp) {
			return nil, ErrEmptyResponse
		}
	}
	msg := resp.Message
	msg.Role = llm.RoleAssistant
	if view.LastStep && len(msg.ToolCalls) > 0 {
		if strings.TrimSpace(msg.Content) == "" {
			return nil, fmt.Errorf("%w: the model asked for %d tool call(s) on its last step", ErrMaxSteps, len(msg.ToolCalls))
		}
		msg.ToolCalls = nil // no tools on the last step: its text is the answer
	}
	d := &Decision{Messages: []llm.Message{msg}}
	if len(msg.ToolCalls) > 0 {
		d.ToolCalls = msg.ToolCalls
		return d, nil
	}
	d.Final, d.Answer = true, msg.Content
	return d, nil
}

func isEmptyAnswer(r *llm.Response) bool {
	return r == nil || (len(r.Message.ToolCalls) == 0 && strings.TrimSpace(r.Message.Content) == "")
}

// Thoughts are AutoGPT's structured reasoning for one step: what the model thinks, why, its plan,
// its self-criticism, and a sentence to say to the user.
type Thoughts struct {
	Text      string `json:"text,omitempty"`
	Reasoning string `json:"reasoning,omitempty"`
	Plan      string `json:"plan,omitempty"`
	Criticism string `json:"criticism,omitempty"`
	Speak     string `json:"speak,omitempty"`
}

// String renders the thoughts as labelled lines, leaving out empty parts.
func (t *Thoughts) String() string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range [...]struct{ label, text string }{
		{"Thoughts", t.Text}, {"Reasoning", t.Reasoning}, {"Plan", t.Plan}, {"Criticism", t.Criticism}, {"Speak", t.Speak},
	} {
		if strings.TrimSpace(p.text) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.label + ": " + p.text)
	}
	return b.String()
}
