package otel

import (
	"go.opentelemetry.io/otel/attribute"
)

// ScopeName is the instrumentation scope name of the spans this package makes (the name given to
// trace.TracerProvider.Tracer).
const ScopeName = "github.com/autogpt-go/agent/otel"

// Attribute keys this package defines because the OpenTelemetry semantic conventions have none for
// them. The GenAI keys it uses (gen_ai.*, error.type) come from go.opentelemetry.io/otel/semconv
// v1.41.0, the newest semconv package of otel v1.47.0 that still defines them.
const (
	// StepIndexKey is the 0-based index of the step a span belongs to (int). It is on step spans,
	// and on chat and execute_tool spans made within a step.
	StepIndexKey = attribute.Key("autogpt.step.index")
	// RunStepsKey is, on an invoke_agent span, the number of steps the run took (int), counting
	// the steps of earlier sessions of a resumed run.
	RunStepsKey = attribute.Key("autogpt.run.steps")
	// RunMaxStepsKey is, on an invoke_agent span, the step limit in force (int).
	RunMaxStepsKey = attribute.Key("autogpt.run.max_steps")
	// RunDoneKey is, on an invoke_agent span, whether the run reached its final answer (bool).
	RunDoneKey = attribute.Key("autogpt.run.done")
	// CostUSDKey is the cost of a run (invoke_agent span) or a step (step span) in US dollars at
	// the model's prices (float64). It is absent when the cost is 0, for example for a model
	// without known prices.
	CostUSDKey = attribute.Key("autogpt.cost_usd")
	// StepModelCallsKey is, on a step span, the number of model calls the step made (int).
	StepModelCallsKey = attribute.Key("autogpt.step.model_calls")
	// StepToolCallsKey is, on a step span, the number of tool calls the step requested (int),
	// executed or refused.
	StepToolCallsKey = attribute.Key("autogpt.step.tool_calls")
	// StepFinishReasonKey is, on a step span, the finish reason of the step's last model call
	// (string, one of llm.FinishReason's values; absent when the provider gave none).
	StepFinishReasonKey = attribute.Key("autogpt.step.finish_reason")
	// StepUsageEstimatedKey is, on a step span, true when a provider reported no usage and the
	// agent's own token count stands in (bool; absent when false).
	StepUsageEstimatedKey = attribute.Key("autogpt.step.usage_estimated")
	// StepDroppedMessagesKey is, on a step span, the number of history messages the step's prompts
	// left out or compacted to fit the context window (int; absent when 0).
	StepDroppedMessagesKey = attribute.Key("autogpt.step.dropped_messages")
	// UsageInputTokensKey is, on a step span, the input tokens of the step's model calls (int),
	// cached ones included. Step spans do not use gen_ai.usage.* so that a backend summing
	// gen_ai.usage.* over the chat spans does not count the same tokens twice.
	UsageInputTokensKey = attribute.Key("autogpt.usage.input_tokens")
	// UsageOutputTokensKey is, on a step span, the output tokens of the step's model calls (int),
	// reasoning ones included. See UsageInputTokensKey for why it is not gen_ai.usage.*.
	UsageOutputTokensKey = attribute.Key("autogpt.usage.output_tokens")
)

// ErrorTypeToolError is the error.type of an execute_tool span whose result has IsError set: the
// tool failed, panicked, timed out or was abandoned, and the model sees the failure.
const ErrorTypeToolError = "tool_error"

// toolTypeFunction is the gen_ai.tool.type of every tool: tools run on the client side with
// arguments the model generated (GenAI semconv "function").
const toolTypeFunction = "function"
