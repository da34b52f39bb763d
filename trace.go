package agent

import (
	"context"

	"github.com/autogpt-go/agent/llm"
)

// Tracer observes a run as nested spans: a run contains steps, a step contains model calls and
// tool calls. Each Start method is called when the operation begins and returns the context the
// operation runs under (so a model's or tool's own spans nest under it) and a function the loop
// calls exactly once when the operation ends, with its outcome. The package
// github.com/autogpt-go/agent/otel implements Tracer with OpenTelemetry spans named and
// attributed by the OpenTelemetry GenAI semantic conventions; the core itself depends on no
// tracing library.
//
// Calls: StartRun from Run, Resume, Stream and StreamState (a host that calls Step itself gets
// step spans only); StartStep from every Step; StartModelCall around every call of the model
// (planner calls and a Compactor's), on the step's goroutine; StartToolCall for every tool call
// that executes, on the goroutine that runs it, so several may be open at once. The end function
// of a tool call is called when the tool returns or is abandoned. A Tracer must be safe for
// concurrent use and must not retain the pointers it is given after its end function returned.
type Tracer interface {
	// StartRun begins the span of a run. end receives the run's (partial) Result and its error.
	StartRun(ctx context.Context, run RunInfo) (context.Context, func(res *Result, err error))
	// StartStep begins the span of step step.Index. end receives the step's record (usage, cost,
	// finish reason, tool calls) and the error that ended the step, if any.
	StartStep(ctx context.Context, step StepInfo) (context.Context, func(rec *StepRecord, err error))
	// StartModelCall begins the span of one model call. end receives the response (nil on error)
	// and the error.
	StartModelCall(ctx context.Context, call ModelCallInfo) (context.Context, func(resp *llm.Response, err error))
	// StartToolCall begins the span of one tool call's execution. end receives the tool result
	// the model will see (IsError set for a tool error, panic, timeout or abandonment).
	StartToolCall(ctx context.Context, call ToolCallInfo) (context.Context, func(res ToolResult))
}

// RunInfo describes a run to Tracer.StartRun.
type RunInfo struct {
	// RunID is RunState.ID: 16 hex digits.
	RunID string
	// AgentName is Config.Name ("" when unset).
	AgentName string
	// Goal is the run's goal.
	Goal string
	// Model is the model name (Config.ModelName, or the Model's ModelName method), "" if unknown.
	Model string
	// Provider is the Model's Provider method's answer ("openai", "anthropic", ...), "" if none.
	Provider string
	// MaxSteps is the step limit in force.
	MaxSteps int
	// Redact removes Config.Secrets and well-known credential shapes from a text. Goal is
	// already redacted; the Result given to the end function is not: apply Redact to any of its
	// text a Tracer records.
	Redact func(string) string
}

// StepInfo describes a step to Tracer.StartStep.
type StepInfo struct {
	// RunID is RunState.ID.
	RunID string
	// AgentName is Config.Name ("" when unset).
	AgentName string
	// Index is the 0-based step index.
	Index int
}

// ModelCallInfo describes a model call to Tracer.StartModelCall.
type ModelCallInfo struct {
	// RunID is RunState.ID.
	RunID string
	// Step is the 0-based index of the step making the call.
	Step int
	// Model is the model name, as in RunInfo.
	Model string
	// Provider is the provider name, as in RunInfo.
	Provider string
	// Streaming is true when the call streams (someone listens to the run's events and the model
	// is an llm.Streamer).
	Streaming bool
	// Request is the request as sent, after fitting and the BeforeModelCall hook. Read only.
	// Neither it nor the response given to the end function is redacted (copying every prompt
	// would cost each call): apply Redact to any of their text a Tracer records.
	Request *llm.Request
	// Redact removes Config.Secrets and well-known credential shapes from a text.
	Redact func(string) string
}

// ToolCallInfo describes a tool call to Tracer.StartToolCall.
type ToolCallInfo struct {
	// RunID is RunState.ID.
	RunID string
	// Step is the 0-based index of the step making the call.
	Step int
	// Call is the call as executed: tool name, tool-call id, arguments (raw JSON object) after any
	// BeforeToolCall hook edited them. The arguments may hold secrets; a Tracer that records them
	// should say so.
	Call llm.ToolCall
	// Description is the tool's description.
	Description string
}
