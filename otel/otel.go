package otel

import (
	"context"
	"sync/atomic"

	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// Option configures the Tracer New returns.
type Option func(*config)

type config struct {
	tp      trace.TracerProvider
	content bool
	attrs   []attribute.KeyValue
}

// WithTracerProvider sets the TracerProvider the spans come from. Without it (or with nil) New uses
// the global provider, otel.GetTracerProvider(), at the time New is called; the global provider
// forwards to one installed later with otel.SetTracerProvider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithContent turns on (true) or off (false, the default) the recording of content: the goal and
// final answer (gen_ai.input.messages and gen_ai.output.messages on invoke_agent spans), the
// messages, system prompt and tool definitions of each model call (gen_ai.input.messages,
// gen_ai.system_instructions, gen_ai.tool.definitions, gen_ai.output.messages on chat spans), and
// each tool call's arguments and result (gen_ai.tool.call.arguments, gen_ai.tool.call.result on
// execute_tool spans), in the JSON forms the GenAI semantic conventions define, as string
// attributes.
//
// It is off by default because content may hold personal data and secrets (API keys in tool
// arguments, file contents in tool results) that should not leave the process in telemetry.
// Turn it on only when the trace backend may hold such data. Config.Secrets and well-known
// credential shapes (in their raw, JSON-escaped and URL-escaped spellings) are removed from every
// recorded text: the agent redacts the goal, tool arguments, tool results and errors before the
// Tracer sees them, and this package applies the agent's Redact function to the messages of
// chat spans and the run's final answer. Anything else personal in the content stays.
// Content can be large: bound it with the SDK's span limits
// (sdktrace.WithRawSpanLimits, AttributeValueLengthLimit).
func WithContent(on bool) Option {
	return func(c *config) { c.content = on }
}

// WithAttributes adds attrs to every span the Tracer starts (for example a deployment or tenant
// attribute). Later options add to earlier ones; the package's own attributes win over attrs with
// the same key.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// Tracer implements agent.Tracer with OpenTelemetry spans that follow the OpenTelemetry GenAI
// semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and
// https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/). Make one with New; set
// it as agent.Config.Tracer. It is safe for concurrent use, and one Tracer may serve any number of
// agents and runs.
type Tracer struct {
	tracer  trace.Tracer
	content bool
	attrs   []attribute.KeyValue
}

var _ agent.Tracer = (*Tracer)(nil)

// New returns a Tracer configured by opts. See the package documentation for the spans it makes.
func New(opts ...Option) *Tracer {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = gotel.GetTracerProvider()
	}
	return &Tracer{
		tracer:  c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		content: c.content,
		attrs:   c.attrs,
	}
}

// start starts a span with t's extra attributes, then attrs.
func (t *Tracer) start(ctx context.Context, name string, kind trace.SpanKind, attrs []attribute.KeyValue) (context.Context, trace.Span) {
	if len(t.attrs) > 0 {
		attrs = append(append(make([]attribute.KeyValue, 0, len(t.attrs)+len(attrs)), t.attrs...), attrs...)
	}
	return t.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// once1 returns f made safe to call more than once: only the first call runs f.
func once1[A any](f func(A)) func(A) {
	var done atomic.Bool
	return func(a A) {
		if done.CompareAndSwap(false, true) {
			f(a)
		}
	}
}

// once2 is once1 for a function of two arguments.
func once2[A, B any](f func(A, B)) func(A, B) {
	var done atomic.Bool
	return func(a A, b B) {
		if done.CompareAndSwap(false, true) {
			f(a, b)
		}
	}
}

// StartRun starts the invoke_agent span of a run (GenAI agent spans, "Invoke agent span"). Its
// end function sets the run's total usage, steps, cost and done flag, and the error, if any.
// Calls of the end function after the first do nothing.
func (t *Tracer) StartRun(ctx context.Context, run agent.RunInfo) (context.Context, func(res *agent.Result, err error)) {
	name := semconv.GenAIOperationNameInvokeAgent.Value.AsString()
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameInvokeAgent,
		semconv.GenAIConversationID(run.RunID),
		RunMaxStepsKey.Int(run.MaxSteps),
	}
	if run.AgentName != "" {
		name += " " + run.AgentName
		attrs = append(attrs, semconv.GenAIAgentName(run.AgentName))
	}
	attrs = appendModel(attrs, run.Model, run.Provider)
	if t.content {
		attrs = append(attrs, semconv.GenAIInputMessagesKey.String(
			marshal([]message{{Role: string(llm.RoleUser), Parts: []part{textPart(run.Goal)}}})))
	}
	ctx, span := t.start(ctx, name, trace.SpanKindInternal, attrs)
	content := t.content
	return ctx, once2(func(res *agent.Result, err error) {
		if res != nil {
			attrs := append(usageAttrs(res.Usage), RunStepsKey.Int(len(res.Steps)), RunDoneKey.Bool(res.Done))
			if res.CostUSD > 0 {
				attrs = append(attrs, CostUSDKey.Float64(res.CostUSD))
			}
			if content && res.Done {
				attrs = append(attrs, semconv.GenAIOutputMessagesKey.String(redact(run.Redact, marshal([]message{{
					Role: string(llm.RoleAssistant), Parts: []part{textPart(res.Answer)},
					FinishReason: string(llm.FinishStop),
				}}))))
			}
			span.SetAttributes(attrs...)
		}
		endSpan(span, err)
	})
}

// StartStep starts the span of one step, named StepSpanName (a span this package defines; the
// GenAI conventions have no step), with its index in autogpt.step.index (span names stay few, as
// the OpenTelemetry guidance on span-name cardinality asks). Its end function sets the step's usage, cost, finish reason and
// counts of model and tool calls, and the error, if any. Calls after the first do nothing.
func (t *Tracer) StartStep(ctx context.Context, step agent.StepInfo) (context.Context, func(rec *agent.StepRecord, err error)) {
	attrs := []attribute.KeyValue{
		StepIndexKey.Int(step.Index),
		semconv.GenAIConversationID(step.RunID),
	}
	if step.AgentName != "" {
		attrs = append(attrs, semconv.GenAIAgentName(step.AgentName))
	}
	ctx, span := t.start(ctx, StepSpanName, trace.SpanKindInternal, attrs)
	return ctx, once2(func(rec *agent.StepRecord, err error) {
		if rec != nil {
			attrs := []attribute.KeyValue{
				UsageInputTokensKey.Int(rec.Usage.InputTokens),
				UsageOutputTokensKey.Int(rec.Usage.OutputTokens),
				StepModelCallsKey.Int(rec.ModelCalls),
				StepToolCallsKey.Int(len(rec.ToolCalls)),
			}
			if rec.FinishReason != llm.FinishUnknown {
				attrs = append(attrs, StepFinishReasonKey.String(string(rec.FinishReason)))
			}
			if rec.CostUSD > 0 {
				attrs = append(attrs, CostUSDKey.Float64(rec.CostUSD))
			}
			if rec.UsageEstimated {
				attrs = append(attrs, StepUsageEstimatedKey.Bool(true))
			}
			if rec.DroppedMessages > 0 {
				attrs = append(attrs, StepDroppedMessagesKey.Int(rec.DroppedMessages))
			}
			span.SetAttributes(attrs...)
		}
		endSpan(span, err)
	})
}

// StartModelCall starts the chat span of one model call (GenAI spans, "Inference"), named
// "chat {model}", of kind CLIENT, with the request's parameters. Its end function sets the
// response's model, usage and finish reason, and the error, if any. Calls after the first do
// nothing.
func (t *Tracer) StartModelCall(ctx context.Context, call agent.ModelCallInfo) (context.Context, func(resp *llm.Response, err error)) {
	name := semconv.GenAIOperationNameChat.Value.AsString()
	if call.Model != "" {
		name += " " + call.Model
	}
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameChat,
		semconv.GenAIConversationID(call.RunID),
		StepIndexKey.Int(call.Step),
		semconv.GenAIRequestStream(call.Streaming),
	}
	attrs = appendModel(attrs, call.Model, call.Provider)
	if req := call.Request; req != nil {
		if req.MaxOutputTokens > 0 {
			attrs = append(attrs, semconv.GenAIRequestMaxTokens(req.MaxOutputTokens))
		}
		if req.Temperature != nil {
			attrs = append(attrs, semconv.GenAIRequestTemperature(*req.Temperature))
		}
		if len(req.Stop) > 0 {
			attrs = append(attrs, semconv.GenAIRequestStopSequences(req.Stop...))
		}
		if rf := req.ResponseFormat; rf != nil {
			switch rf.Type {
			case llm.ResponseFormatJSONObject, llm.ResponseFormatJSONSchema:
				attrs = append(attrs, semconv.GenAIOutputTypeJSON)
			case llm.ResponseFormatText:
				attrs = append(attrs, semconv.GenAIOutputTypeText)
			}
		}
		if t.content {
			for _, a := range requestContent(req) {
				attrs = append(attrs, a.Key.String(redact(call.Redact, a.Value.AsString())))
			}
		}
	}
	ctx, span := t.start(ctx, name, trace.SpanKindClient, attrs)
	content := t.content
	return ctx, once2(func(resp *llm.Response, err error) {
		if resp != nil {
			attrs := usageAttrs(resp.Usage)
			if resp.Model != "" {
				attrs = append(attrs, semconv.GenAIResponseModel(resp.Model))
			}
			if resp.FinishReason != llm.FinishUnknown {
				attrs = append(attrs, semconv.GenAIResponseFinishReasons(string(resp.FinishReason)))
			}
			if content {
				attrs = append(attrs, semconv.GenAIOutputMessagesKey.String(
					redact(call.Redact, marshal([]message{outputMessage(resp)}))))
			}
			span.SetAttributes(attrs...)
		}
		endSpan(span, err)
	})
}

// StartToolCall starts the execute_tool span of one tool call (GenAI spans, "Execute tool span"),
// named "execute_tool {tool name}", of kind INTERNAL. Its end function marks a result with IsError
// as an error (status Error, error.type "tool_error"); with WithContent it records the arguments
// and the result. Calls after the first do nothing.
func (t *Tracer) StartToolCall(ctx context.Context, call agent.ToolCallInfo) (context.Context, func(res agent.ToolResult)) {
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameExecuteTool,
		semconv.GenAIToolName(call.Call.Name),
		semconv.GenAIToolType(toolTypeFunction),
		semconv.GenAIConversationID(call.RunID),
		StepIndexKey.Int(call.Step),
	}
	if call.Call.ID != "" {
		attrs = append(attrs, semconv.GenAIToolCallID(call.Call.ID))
	}
	if call.Description != "" {
		attrs = append(attrs, semconv.GenAIToolDescription(call.Description))
	}
	if t.content {
		attrs = append(attrs, semconv.GenAIToolCallArgumentsKey.String(call.Call.Arguments))
	}
	name := semconv.GenAIOperationNameExecuteTool.Value.AsString() + " " + call.Call.Name
	ctx, span := t.start(ctx, name, trace.SpanKindInternal, attrs)
	content := t.content
	return ctx, once1(func(res agent.ToolResult) {
		if content {
			span.SetAttributes(semconv.GenAIToolCallResultKey.String(res.Content))
		}
		if res.IsError {
			span.SetAttributes(semconv.ErrorTypeKey.String(ErrorTypeToolError))
			span.SetStatus(codes.Error, "tool call failed")
		}
		span.End()
	})
}

// appendModel appends gen_ai.request.model and gen_ai.provider.name when known.
func appendModel(attrs []attribute.KeyValue, model, provider string) []attribute.KeyValue {
	if model != "" {
		attrs = append(attrs, semconv.GenAIRequestModel(model))
	}
	if provider != "" {
		attrs = append(attrs, semconv.GenAIProviderNameKey.String(provider))
	}
	return attrs
}

// usageAttrs returns the gen_ai.usage.* attributes of u: input and output tokens always, cached
// and reasoning tokens when not 0.
func usageAttrs(u llm.Usage) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		semconv.GenAIUsageInputTokens(u.InputTokens),
		semconv.GenAIUsageOutputTokens(u.OutputTokens),
	}
	if u.CachedInputTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageCacheReadInputTokens(u.CachedInputTokens))
	}
	if u.ReasoningTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageReasoningOutputTokens(u.ReasoningTokens))
	}
	return attrs
}

// endSpan ends span, first marking it failed with err (status Error with err's message,
// error.type) when err is not nil.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(ErrorType(err)))
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// StepSpanName is the name of every step span.
const StepSpanName = "step"

// redact applies f to s when f is set (the agent sets it; a Tracer called directly may not).
func redact(f func(string) string, s string) string {
	if f == nil {
		return s
	}
	return f(s)
}
