package otel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/autogpt-go/agent/otel"
)

// ---- helpers ----

// newProvider returns an SDK TracerProvider that exports synchronously to an in-memory exporter.
func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// attrs returns s's attributes by key.
func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(s.Attributes))
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// named returns the spans called name, in the order they ended.
func named(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name || s.Name == otel.StepSpanName && name == fmt.Sprintf("step %d", stepIndex(s)) {
			out = append(out, s)
		}
	}
	return out
}

// stepIndex returns a step span's autogpt.step.index, or -1.
func stepIndex(s tracetest.SpanStub) int {
	for _, a := range s.Attributes {
		if a.Key == otel.StepIndexKey {
			return int(a.Value.AsInt64())
		}
	}
	return -1
}

// only returns the one span called name, failing the test unless there is exactly one.
func only(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	got := named(spans, name)
	require.Len(t, got, 1, "spans named %q among %v", name, spanNames(spans))
	return got[0]
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

// isChild reports whether child's parent is parent, in the same trace.
func isChild(child, parent tracetest.SpanStub) bool {
	return child.Parent.SpanID() == parent.SpanContext.SpanID() &&
		child.SpanContext.TraceID() == parent.SpanContext.TraceID()
}

// assertAttr checks that s has key with value want (an int, int64, float64, bool, string or
// []string).
func assertAttr(t *testing.T, s tracetest.SpanStub, key attribute.Key, want any) {
	t.Helper()
	v, ok := attrs(s)[key]
	if !assert.True(t, ok, "span %q has no attribute %s", s.Name, key) {
		return
	}
	var got any
	switch want.(type) {
	case int:
		got = int(v.AsInt64())
	case int64:
		got = v.AsInt64()
	case float64:
		got = v.AsFloat64()
	case bool:
		got = v.AsBool()
	case string:
		got = v.AsString()
	case []string:
		got = v.AsStringSlice()
	default:
		t.Fatalf("assertAttr: unsupported type %T", want)
	}
	assert.Equal(t, want, got, "span %q attribute %s", s.Name, key)
}

// assertNoAttr checks that s lacks every key of keys.
func assertNoAttr(t *testing.T, s tracetest.SpanStub, keys ...attribute.Key) {
	t.Helper()
	a := attrs(s)
	for _, k := range keys {
		_, ok := a[k]
		assert.False(t, ok, "span %q should not have attribute %s (%v)", s.Name, k, a[k].String())
	}
}

// contentKeys are the attributes WithContent turns on.
var contentKeys = []attribute.Key{
	"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
	"gen_ai.tool.definitions", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
}

// typedErr is an error with an ErrorType method, as semconv's error.type rule recognises.
type typedErr struct{}

func (typedErr) Error() string     { return "rate limited (429)" }
func (typedErr) ErrorType() string { return "rate_limit" }

// ---- unit tests: the Tracer methods called directly ----

func TestRunSpan(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	_, end := tr.StartRun(context.Background(), agent.RunInfo{
		RunID: "0123456789abcdef", AgentName: "tester", Goal: "secret goal", Model: "gpt-4o",
		Provider: "openai", MaxSteps: 7,
	})
	end(&agent.Result{
		Done: true, Answer: "secret answer", Steps: make([]agent.StepRecord, 3), CostUSD: 0.25,
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 20, CachedInputTokens: 40, ReasoningTokens: 5},
	}, nil)

	s := only(t, exp.GetSpans(), "invoke_agent tester")
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind)
	assert.False(t, s.Parent.IsValid(), "a run span is a root when the context has no span")
	assert.Equal(t, codes.Unset, s.Status.Code)
	assert.Equal(t, otel.ScopeName, s.InstrumentationScope.Name)
	assert.Contains(t, s.InstrumentationScope.SchemaURL, "https://opentelemetry.io/schemas/")
	assertAttr(t, s, "gen_ai.operation.name", "invoke_agent")
	assertAttr(t, s, "gen_ai.agent.name", "tester")
	assertAttr(t, s, "gen_ai.conversation.id", "0123456789abcdef")
	assertAttr(t, s, "gen_ai.request.model", "gpt-4o")
	assertAttr(t, s, "gen_ai.provider.name", "openai")
	assertAttr(t, s, otel.RunMaxStepsKey, 7)
	assertAttr(t, s, "gen_ai.usage.input_tokens", 100)
	assertAttr(t, s, "gen_ai.usage.output_tokens", 20)
	assertAttr(t, s, "gen_ai.usage.cache_read.input_tokens", 40)
	assertAttr(t, s, "gen_ai.usage.reasoning.output_tokens", 5)
	assertAttr(t, s, otel.RunStepsKey, 3)
	assertAttr(t, s, otel.RunDoneKey, true)
	assertAttr(t, s, otel.CostUSDKey, 0.25)
	assertNoAttr(t, s, contentKeys...)
	assertNoAttr(t, s, "error.type")
}

func TestRunSpanWithoutNameModelOrCost(t *testing.T) {
	tp, exp := newProvider(t)
	_, end := otel.New(otel.WithTracerProvider(tp)).StartRun(context.Background(), agent.RunInfo{RunID: "r"})
	end(&agent.Result{}, nil)
	s := only(t, exp.GetSpans(), "invoke_agent")
	assertNoAttr(t, s, "gen_ai.agent.name", "gen_ai.request.model", "gen_ai.provider.name", otel.CostUSDKey,
		"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.reasoning.output_tokens")
	assertAttr(t, s, otel.RunDoneKey, false)
}

func TestRunSpanError(t *testing.T) {
	tp, exp := newProvider(t)
	_, end := otel.New(otel.WithTracerProvider(tp)).StartRun(context.Background(), agent.RunInfo{RunID: "r"})
	err := fmt.Errorf("run stopped: %w", agent.ErrMaxSteps)
	end(&agent.Result{Steps: make([]agent.StepRecord, 2)}, err) // a partial result
	s := only(t, exp.GetSpans(), "invoke_agent")
	assert.Equal(t, codes.Error, s.Status.Code)
	assert.Equal(t, err.Error(), s.Status.Description)
	assertAttr(t, s, "error.type", "agent.ErrMaxSteps")
	assertAttr(t, s, otel.RunStepsKey, 2)
	assert.Empty(t, s.Events, "errors are not recorded as exception events")

	// A nil result with an error still ends the span.
	_, end = otel.New(otel.WithTracerProvider(tp)).StartRun(context.Background(), agent.RunInfo{RunID: "r2"})
	end(nil, context.Canceled)
	s = exp.GetSpans()[1]
	assert.Equal(t, codes.Error, s.Status.Code)
	assertAttr(t, s, "error.type", "context.Canceled")
}

func TestSpansNest(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	ctx, endRun := tr.StartRun(context.Background(), agent.RunInfo{RunID: "r", AgentName: "a"})
	sctx, endStep := tr.StartStep(ctx, agent.StepInfo{RunID: "r", AgentName: "a", Index: 4})
	mctx, endModel := tr.StartModelCall(sctx, agent.ModelCallInfo{RunID: "r", Step: 4, Model: "m", Request: &llm.Request{}})
	assert.True(t, trace.SpanFromContext(mctx).IsRecording(), "the model call runs under its own span")
	endModel(&llm.Response{}, nil)
	tctx, endTool := tr.StartToolCall(sctx, agent.ToolCallInfo{RunID: "r", Step: 4, Call: llm.ToolCall{ID: "c1", Name: "t"}})
	assert.Equal(t, trace.SpanFromContext(tctx).SpanContext().TraceID(), trace.SpanFromContext(ctx).SpanContext().TraceID())
	endTool(agent.ToolResult{Content: "ok"})
	endStep(&agent.StepRecord{Index: 4}, nil)
	endRun(&agent.Result{}, nil)

	spans := exp.GetSpans()
	run, step := only(t, spans, "invoke_agent a"), only(t, spans, "step 4")
	chat, tool := only(t, spans, "chat m"), only(t, spans, "execute_tool t")
	assert.True(t, isChild(step, run), "step under run")
	assert.True(t, isChild(chat, step), "chat under step")
	assert.True(t, isChild(tool, step), "tool under step")
	assertAttr(t, step, otel.StepIndexKey, 4)
	assertAttr(t, step, "gen_ai.agent.name", "a")
	assertAttr(t, step, "gen_ai.conversation.id", "r")
	assertAttr(t, chat, otel.StepIndexKey, 4)
	assertAttr(t, tool, otel.StepIndexKey, 4)
}

func TestStepSpan(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	_, end := tr.StartStep(context.Background(), agent.StepInfo{RunID: "r", Index: 0})
	end(&agent.StepRecord{
		Index: 0, ModelCalls: 2, Usage: llm.Usage{InputTokens: 30, OutputTokens: 7}, CostUSD: 0.5,
		UsageEstimated: true, DroppedMessages: 3, FinishReason: llm.FinishToolCalls,
		ToolCalls: make([]agent.ToolCallRecord, 2),
	}, nil)
	s := only(t, exp.GetSpans(), "step 0")
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind)
	assertAttr(t, s, otel.UsageInputTokensKey, 30)
	assertAttr(t, s, otel.UsageOutputTokensKey, 7)
	assertAttr(t, s, otel.StepModelCallsKey, 2)
	assertAttr(t, s, otel.StepToolCallsKey, 2)
	assertAttr(t, s, otel.StepFinishReasonKey, "tool_calls")
	assertAttr(t, s, otel.CostUSDKey, 0.5)
	assertAttr(t, s, otel.StepUsageEstimatedKey, true)
	assertAttr(t, s, otel.StepDroppedMessagesKey, 3)
	assertNoAttr(t, s, "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.agent.name")

	// A step that failed before recording anything: nil record, error status.
	_, end = tr.StartStep(context.Background(), agent.StepInfo{RunID: "r", Index: 1})
	end(nil, context.DeadlineExceeded)
	s = only(t, exp.GetSpans(), "step 1")
	assert.Equal(t, codes.Error, s.Status.Code)
	assertAttr(t, s, "error.type", "context.DeadlineExceeded")
	assertNoAttr(t, s, otel.StepModelCallsKey)
}

func TestModelCallSpan(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	temp := 0.2
	_, end := tr.StartModelCall(context.Background(), agent.ModelCallInfo{
		RunID: "r", Step: 1, Model: "claude-sonnet-4", Provider: "anthropic", Streaming: true,
		Request: &llm.Request{
			Messages:        []llm.Message{{Role: llm.RoleUser, Content: "private"}},
			MaxOutputTokens: 512, Temperature: &temp, Stop: []string{"END", "STOP"},
			ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema},
		},
	})
	end(&llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: "private too"},
		FinishReason: llm.FinishLength, Model: "claude-sonnet-4-20250514",
		Usage: llm.Usage{InputTokens: 1000, OutputTokens: 512, CachedInputTokens: 800, ReasoningTokens: 100},
	}, nil)

	s := only(t, exp.GetSpans(), "chat claude-sonnet-4")
	assert.Equal(t, trace.SpanKindClient, s.SpanKind)
	assert.Equal(t, codes.Unset, s.Status.Code)
	assertAttr(t, s, "gen_ai.operation.name", "chat")
	assertAttr(t, s, "gen_ai.provider.name", "anthropic")
	assertAttr(t, s, "gen_ai.request.model", "claude-sonnet-4")
	assertAttr(t, s, "gen_ai.request.max_tokens", 512)
	assertAttr(t, s, "gen_ai.request.temperature", 0.2)
	assertAttr(t, s, "gen_ai.request.stop_sequences", []string{"END", "STOP"})
	assertAttr(t, s, "gen_ai.request.stream", true)
	assertAttr(t, s, "gen_ai.output.type", "json")
	assertAttr(t, s, "gen_ai.conversation.id", "r")
	assertAttr(t, s, "gen_ai.response.model", "claude-sonnet-4-20250514")
	assertAttr(t, s, "gen_ai.response.finish_reasons", []string{"length"})
	assertAttr(t, s, "gen_ai.usage.input_tokens", 1000)
	assertAttr(t, s, "gen_ai.usage.output_tokens", 512)
	assertAttr(t, s, "gen_ai.usage.cache_read.input_tokens", 800)
	assertAttr(t, s, "gen_ai.usage.reasoning.output_tokens", 100)
	assertNoAttr(t, s, contentKeys...)
	assertNoAttr(t, s, "gen_ai.response.id")
}

func TestModelCallSpanMinimal(t *testing.T) {
	tp, exp := newProvider(t)
	_, end := otel.New(otel.WithTracerProvider(tp)).StartModelCall(context.Background(),
		agent.ModelCallInfo{RunID: "r", Request: &llm.Request{}})
	end(&llm.Response{}, nil)
	s := only(t, exp.GetSpans(), "chat")
	assertAttr(t, s, "gen_ai.request.stream", false)
	assertAttr(t, s, "gen_ai.usage.input_tokens", 0)
	assertNoAttr(t, s, "gen_ai.request.model", "gen_ai.provider.name", "gen_ai.request.max_tokens",
		"gen_ai.request.temperature", "gen_ai.request.stop_sequences", "gen_ai.output.type",
		"gen_ai.response.model", "gen_ai.response.finish_reasons")
}

func TestModelCallSpanError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{typedErr{}, "rate_limit"},
		{fmt.Errorf("agent: model call timed out: %w", context.DeadlineExceeded), "context.DeadlineExceeded"},
		{context.Canceled, "context.Canceled"},
		{fmt.Errorf("wrapped: %w", agent.ErrBudgetExceeded), "agent.ErrBudgetExceeded"},
		{errors.New("plain"), "*errors.errorString"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			tp, exp := newProvider(t)
			_, end := otel.New(otel.WithTracerProvider(tp)).StartModelCall(context.Background(),
				agent.ModelCallInfo{RunID: "r", Model: "m", Request: &llm.Request{}})
			end(nil, tc.err)
			s := only(t, exp.GetSpans(), "chat m")
			assert.Equal(t, codes.Error, s.Status.Code)
			assert.Equal(t, tc.err.Error(), s.Status.Description)
			assertAttr(t, s, "error.type", tc.want)
			assertNoAttr(t, s, "gen_ai.usage.input_tokens")
		})
	}
}

func TestErrorType(t *testing.T) {
	assert.Equal(t, "_OTHER", otel.ErrorType(nil))
	assert.Equal(t, "agent.ErrLoopDetected", otel.ErrorType(fmt.Errorf("x: %w", agent.ErrLoopDetected)))
	assert.Equal(t, "agent.ErrContextWindowExceeded", otel.ErrorType(agent.ErrContextWindowExceeded))
	// An ErrorType method wins over everything else.
	assert.Equal(t, "rate_limit", otel.ErrorType(errors.Join(typedErr{}, context.Canceled)))
	// A sentinel wins over a context error in the same chain.
	assert.Equal(t, "agent.ErrBudgetExceeded", otel.ErrorType(errors.Join(context.Canceled, agent.ErrBudgetExceeded)))
}

func TestToolCallSpan(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	_, end := tr.StartToolCall(context.Background(), agent.ToolCallInfo{
		RunID: "r", Step: 2, Description: "Reads a file.",
		Call: llm.ToolCall{ID: "call_9", Name: "read_file", Arguments: `{"path":"/etc/passwd"}`},
	})
	end(agent.ToolResult{Content: "root:x:0:0"})
	s := only(t, exp.GetSpans(), "execute_tool read_file")
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind)
	assert.Equal(t, codes.Unset, s.Status.Code)
	assertAttr(t, s, "gen_ai.operation.name", "execute_tool")
	assertAttr(t, s, "gen_ai.tool.name", "read_file")
	assertAttr(t, s, "gen_ai.tool.call.id", "call_9")
	assertAttr(t, s, "gen_ai.tool.description", "Reads a file.")
	assertAttr(t, s, "gen_ai.tool.type", "function")
	assertAttr(t, s, otel.StepIndexKey, 2)
	assertNoAttr(t, s, contentKeys...)
	assertNoAttr(t, s, "error.type")
}

func TestToolCallSpanError(t *testing.T) {
	tp, exp := newProvider(t)
	_, end := otel.New(otel.WithTracerProvider(tp)).StartToolCall(context.Background(),
		agent.ToolCallInfo{RunID: "r", Call: llm.ToolCall{ID: "c", Name: "fail"}})
	end(agent.ToolResult{Content: "error: token sk-123 rejected", IsError: true})
	s := only(t, exp.GetSpans(), "execute_tool fail")
	assert.Equal(t, codes.Error, s.Status.Code)
	assert.NotContains(t, s.Status.Description, "sk-123", "the result is content: not in the status without WithContent")
	assertAttr(t, s, "error.type", otel.ErrorTypeToolError)
}

func TestEndFunctionsActOnce(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	ctx := context.Background()

	_, endRun := tr.StartRun(ctx, agent.RunInfo{RunID: "r"})
	endRun(&agent.Result{Done: true}, nil)
	endRun(&agent.Result{}, errors.New("late"))
	_, endStep := tr.StartStep(ctx, agent.StepInfo{RunID: "r"})
	endStep(nil, nil)
	endStep(&agent.StepRecord{ModelCalls: 9}, errors.New("late"))
	_, endModel := tr.StartModelCall(ctx, agent.ModelCallInfo{RunID: "r", Request: &llm.Request{}})
	endModel(&llm.Response{Usage: llm.Usage{InputTokens: 1}}, nil)
	endModel(&llm.Response{Usage: llm.Usage{InputTokens: 2}}, errors.New("late"))
	_, endTool := tr.StartToolCall(ctx, agent.ToolCallInfo{RunID: "r", Call: llm.ToolCall{Name: "t"}})
	endTool(agent.ToolResult{Content: "ok"})
	endTool(agent.ToolResult{IsError: true})

	spans := exp.GetSpans()
	require.Len(t, spans, 4)
	for _, s := range spans {
		assert.Equal(t, codes.Unset, s.Status.Code, "span %q: a second end call changed nothing", s.Name)
		assertNoAttr(t, s, "error.type", otel.StepModelCallsKey)
	}
	assertAttr(t, only(t, spans, "invoke_agent"), otel.RunDoneKey, true)
	assertAttr(t, only(t, spans, "chat"), "gen_ai.usage.input_tokens", 1)
}

func TestConcurrentToolSpans(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp))
	sctx, endStep := tr.StartStep(context.Background(), agent.StepInfo{RunID: "r"})
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, end := tr.StartToolCall(sctx, agent.ToolCallInfo{RunID: "r",
				Call: llm.ToolCall{ID: fmt.Sprintf("c%d", i), Name: "t"}})
			var inner sync.WaitGroup
			for range 3 { // end called concurrently: one call wins
				inner.Go(func() { end(agent.ToolResult{Content: "ok", IsError: i%2 == 0}) })
			}
			inner.Wait()
		})
	}
	wg.Wait()
	endStep(&agent.StepRecord{}, nil)

	spans := exp.GetSpans()
	step := only(t, spans, "step 0")
	tools := named(spans, "execute_tool t")
	require.Len(t, tools, n)
	ids := map[string]bool{}
	for _, s := range tools {
		assert.True(t, isChild(s, step))
		ids[attrs(s)["gen_ai.tool.call.id"].AsString()] = true
	}
	assert.Len(t, ids, n)
}

func TestWithAttributes(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp),
		otel.WithAttributes(attribute.String("tenant", "acme")),
		otel.WithAttributes(attribute.String("deployment.environment.name", "test"),
			attribute.String("gen_ai.operation.name", "overridden?")))
	_, end := tr.StartModelCall(context.Background(), agent.ModelCallInfo{RunID: "r", Request: &llm.Request{}})
	end(&llm.Response{}, nil)
	s := only(t, exp.GetSpans(), "chat")
	assertAttr(t, s, "tenant", "acme")
	assertAttr(t, s, "deployment.environment.name", "test")
	assertAttr(t, s, "gen_ai.operation.name", "chat") // the package's own attributes win
}

func TestDefaultsToGlobalProvider(t *testing.T) {
	tp, exp := newProvider(t)
	prev := gotel.GetTracerProvider()
	gotel.SetTracerProvider(tp)
	t.Cleanup(func() { gotel.SetTracerProvider(prev) })

	_, end := otel.New().StartToolCall(context.Background(), agent.ToolCallInfo{Call: llm.ToolCall{Name: "t"}})
	end(agent.ToolResult{})
	only(t, exp.GetSpans(), "execute_tool t")
}

func TestContentUnit(t *testing.T) {
	tp, exp := newProvider(t)
	tr := otel.New(otel.WithTracerProvider(tp), otel.WithContent(true))
	req := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "be brief"},
			{Role: llm.RoleUser, Content: "add 1 and 2"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "add", Arguments: `{"a":1,"b":2}`}}},
			{Role: llm.RoleTool, ToolCallID: "c1", Name: "add", Content: "3"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c2", Name: "add", Arguments: `{broken`}}},
		},
		Tools: []llm.ToolSpec{{Name: "add", Description: "Adds.", Parameters: json.RawMessage(`{"type":"object"}`)}},
	}
	_, end := tr.StartModelCall(context.Background(), agent.ModelCallInfo{RunID: "r", Request: req})
	end(&llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "3"}, FinishReason: llm.FinishStop}, nil)
	s := only(t, exp.GetSpans(), "chat")
	a := attrs(s)
	assert.JSONEq(t, `[
		{"role":"system","parts":[{"type":"text","content":"be brief"}]},
		{"role":"user","parts":[{"type":"text","content":"add 1 and 2"}]},
		{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"add","arguments":{"a":1,"b":2}}]},
		{"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"3"}]},
		{"role":"assistant","parts":[{"type":"tool_call","id":"c2","name":"add","arguments":"{broken"}]}
	]`, a["gen_ai.input.messages"].AsString())
	assert.JSONEq(t, `[{"role":"assistant","parts":[{"type":"text","content":"3"}],"finish_reason":"stop"}]`,
		a["gen_ai.output.messages"].AsString())
	assert.JSONEq(t, `[{"type":"function","name":"add","description":"Adds.","parameters":{"type":"object"}}]`,
		a["gen_ai.tool.definitions"].AsString())

	_, endTool := tr.StartToolCall(context.Background(), agent.ToolCallInfo{RunID: "r",
		Call: llm.ToolCall{ID: "c1", Name: "add", Arguments: `{"a":1,"b":2}`}})
	endTool(agent.ToolResult{Content: "3"})
	ts := only(t, exp.GetSpans(), "execute_tool add")
	assertAttr(t, ts, "gen_ai.tool.call.arguments", `{"a":1,"b":2}`)
	assertAttr(t, ts, "gen_ai.tool.call.result", "3")

	_, endModel := tr.StartModelCall(context.Background(), agent.ModelCallInfo{RunID: "r", Model: "calls", Request: &llm.Request{}})
	endModel(&llm.Response{Message: llm.Message{Role: llm.RoleAssistant,
		ToolCalls: []llm.ToolCall{{ID: "c3", Name: "add", Arguments: `{}`}}}, FinishReason: llm.FinishToolCalls}, nil)
	assert.JSONEq(t, `[{"role":"assistant","parts":[{"type":"tool_call","id":"c3","name":"add","arguments":{}}],"finish_reason":"tool_call"}]`,
		attrs(only(t, exp.GetSpans(), "chat calls"))["gen_ai.output.messages"].AsString())
}

// ---- integration: spans of real runs ----

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// runFixture runs an agent named "tester" with the tools add (which waits until `parallel` calls
// are in flight, proving they overlap) and div (which fails on division by zero).
type runFixture struct {
	script   *llmtest.Script
	parallel int32
	opts     []otel.Option
	stream   bool
}

func (f runFixture) run(t *testing.T) (tracetest.SpanStubs, *agent.Result, error) {
	t.Helper()
	tp, exp := newProvider(t)
	var inFlight atomic.Int32
	all := make(chan struct{})
	var closeOnce sync.Once
	add := agent.NewTool("add", "Adds two integers.", func(ctx context.Context, in addArgs) (int, error) {
		if f.parallel > 1 {
			if inFlight.Add(1) == f.parallel {
				closeOnce.Do(func() { close(all) })
			}
			select {
			case <-all:
			case <-time.After(10 * time.Second):
				return 0, errors.New("the add calls did not run in parallel")
			}
		}
		return in.A + in.B, nil
	})
	div := agent.NewTool("div", "Divides two integers.", func(ctx context.Context, in addArgs) (int, error) {
		if in.B == 0 {
			return 0, errors.New("division by zero")
		}
		return in.A / in.B, nil
	})
	a, err := agent.New(agent.Config{
		Model: f.script, ModelName: "gpt-4o-mini", Tools: []agent.Tool{add, div}, Name: "tester",
		Tracer: otel.New(append([]otel.Option{otel.WithTracerProvider(tp)}, f.opts...)...),
	})
	require.NoError(t, err)

	var res *agent.Result
	if f.stream {
		for ev, evErr := range a.Stream(context.Background(), "What is 1+2?") {
			if ev.Result != nil {
				res = ev.Result
			}
			err = evErr
		}
	} else {
		res, err = a.Run(context.Background(), "What is 1+2?")
	}
	f.script.AssertComplete(t)
	return exp.GetSpans(), res, err
}

// treeScript: step 0 makes two add calls in parallel, step 1 a failing div call, step 2 answers.
func treeScript() *llmtest.Script {
	return llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a":1,"b":2}`), llmtest.Call("add", `{"a":3,"b":4}`)).WithUsage(20, 5),
		llmtest.Calls(llmtest.Call("div", `{"a":1,"b":0}`)).WithUsage(30, 4),
		llmtest.Text("3").WithUsage(10, 2),
	)
}

// checkTree asserts the span tree of treeScript's run.
func checkTree(t *testing.T, spans tracetest.SpanStubs, res *agent.Result, streaming bool) {
	t.Helper()
	require.Len(t, spans, 1+3+3+3, "run, 3 steps, 3 chats, 3 tool calls: %v", spanNames(spans))
	run := only(t, spans, "invoke_agent tester")
	assert.False(t, run.Parent.IsValid())
	assert.Equal(t, codes.Unset, run.Status.Code)
	assertAttr(t, run, "gen_ai.operation.name", "invoke_agent")
	assertAttr(t, run, "gen_ai.agent.name", "tester")
	assertAttr(t, run, "gen_ai.conversation.id", res.State.ID)
	assertAttr(t, run, "gen_ai.request.model", "gpt-4o-mini")
	assertAttr(t, run, "gen_ai.usage.input_tokens", 60)
	assertAttr(t, run, "gen_ai.usage.output_tokens", 11)
	assertAttr(t, run, otel.RunStepsKey, 3)
	assertAttr(t, run, otel.RunDoneKey, true)
	assertAttr(t, run, otel.CostUSDKey, res.CostUSD)
	assert.Greater(t, res.CostUSD, 0.0, "gpt-4o-mini has prices")

	wantUsage := [][2]int{{20, 5}, {30, 4}, {10, 2}}
	wantFinish := []string{"tool_calls", "tool_calls", "stop"}
	wantTools := []int{2, 1, 0}
	chats := named(spans, "chat gpt-4o-mini")
	require.Len(t, chats, 3)
	for i := range 3 {
		step := only(t, spans, fmt.Sprintf("step %d", i))
		assert.True(t, isChild(step, run), "step %d under the run", i)
		assert.Equal(t, codes.Unset, step.Status.Code, "a failed tool does not fail its step")
		assertAttr(t, step, otel.StepIndexKey, i)
		assertAttr(t, step, otel.UsageInputTokensKey, wantUsage[i][0])
		assertAttr(t, step, otel.UsageOutputTokensKey, wantUsage[i][1])
		assertAttr(t, step, otel.StepFinishReasonKey, wantFinish[i])
		assertAttr(t, step, otel.StepToolCallsKey, wantTools[i])
		assertAttr(t, step, otel.StepModelCallsKey, 1)

		var chat []tracetest.SpanStub
		for _, c := range chats {
			if isChild(c, step) {
				chat = append(chat, c)
			}
		}
		require.Len(t, chat, 1, "one chat span under step %d", i)
		c := chat[0]
		assert.Equal(t, trace.SpanKindClient, c.SpanKind)
		assertAttr(t, c, "gen_ai.operation.name", "chat")
		assertAttr(t, c, "gen_ai.request.model", "gpt-4o-mini")
		assertAttr(t, c, "gen_ai.request.stream", streaming)
		assertAttr(t, c, "gen_ai.usage.input_tokens", wantUsage[i][0])
		assertAttr(t, c, "gen_ai.usage.output_tokens", wantUsage[i][1])
		assertAttr(t, c, "gen_ai.response.finish_reasons", []string{wantFinish[i]})
		assertAttr(t, c, otel.StepIndexKey, i)
	}

	step0, step1 := only(t, spans, "step 0"), only(t, spans, "step 1")
	adds := named(spans, "execute_tool add")
	require.Len(t, adds, 2)
	var ids []string
	for _, s := range adds {
		assert.True(t, isChild(s, step0), "add calls under step 0")
		assert.Equal(t, codes.Unset, s.Status.Code)
		assertAttr(t, s, "gen_ai.tool.name", "add")
		assertAttr(t, s, "gen_ai.tool.type", "function")
		assertAttr(t, s, "gen_ai.tool.description", "Adds two integers.")
		ids = append(ids, attrs(s)["gen_ai.tool.call.id"].AsString())
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"call_1", "call_2"}, ids)
	assert.True(t, adds[0].StartTime.Before(adds[1].EndTime) && adds[1].StartTime.Before(adds[0].EndTime),
		"the two add spans overlap in time")

	fail := only(t, spans, "execute_tool div")
	assert.True(t, isChild(fail, step1))
	assert.Equal(t, codes.Error, fail.Status.Code)
	assertAttr(t, fail, "error.type", "tool_error")
	assertAttr(t, fail, "gen_ai.tool.call.id", "call_3")

	// Children lie within their parents.
	for _, s := range spans {
		for _, p := range spans {
			if isChild(s, p) {
				assert.False(t, s.StartTime.Before(p.StartTime), "%q starts within %q", s.Name, p.Name)
				assert.False(t, s.EndTime.After(p.EndTime), "%q ends within %q", s.Name, p.Name)
			}
		}
	}
}

func TestAgentRunTree(t *testing.T) {
	spans, res, err := runFixture{script: treeScript(), parallel: 2}.run(t)
	require.NoError(t, err)
	assert.Equal(t, "3", res.Answer)
	checkTree(t, spans, res, false)
	for _, s := range spans {
		assertNoAttr(t, s, contentKeys...) // content is off by default
	}
}

func TestAgentStreamTree(t *testing.T) {
	spans, res, err := runFixture{script: treeScript(), parallel: 2, stream: true}.run(t)
	require.NoError(t, err)
	require.NotNil(t, res)
	assert.Equal(t, "3", res.Answer)
	checkTree(t, spans, res, true)

	runSpans, _, err := runFixture{script: treeScript(), parallel: 2}.run(t)
	require.NoError(t, err)
	assert.Equal(t, treeShape(runSpans), treeShape(spans), "Run and Stream make the same tree")
}

// treeShape returns the paths of span names from the root to each span, sorted.
func treeShape(spans tracetest.SpanStubs) []string {
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	var paths []string
	for _, s := range spans {
		path := []string{s.Name}
		for p, ok := byID[s.Parent.SpanID()]; ok; p, ok = byID[p.Parent.SpanID()] {
			path = append(path, p.Name)
		}
		slices.Reverse(path)
		paths = append(paths, strings.Join(path, " / "))
	}
	sort.Strings(paths)
	return paths
}

func TestAgentRunFailure(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			script := llmtest.NewScript(
				llmtest.Calls(llmtest.Call("add", `{"a":1,"b":2}`)).WithUsage(20, 5),
				llmtest.Fail(typedErr{}),
			)
			spans, res, err := runFixture{script: script, stream: stream}.run(t)
			require.Error(t, err)
			require.NotNil(t, res)

			run := only(t, spans, "invoke_agent tester")
			assert.Equal(t, codes.Error, run.Status.Code)
			assertAttr(t, run, "error.type", "rate_limit")
			assertAttr(t, run, otel.RunDoneKey, false)
			assertAttr(t, run, "gen_ai.usage.input_tokens", 20)

			step0, step1 := only(t, spans, "step 0"), only(t, spans, "step 1")
			assert.Equal(t, codes.Unset, step0.Status.Code)
			assert.Equal(t, codes.Error, step1.Status.Code)
			assertAttr(t, step1, "error.type", "rate_limit")

			chats := named(spans, "chat gpt-4o-mini")
			require.Len(t, chats, 2)
			for _, c := range chats {
				if isChild(c, step1) {
					assert.Equal(t, codes.Error, c.Status.Code)
					assertAttr(t, c, "error.type", "rate_limit")
					assertNoAttr(t, c, "gen_ai.usage.input_tokens")
				} else {
					assert.True(t, isChild(c, step0))
					assert.Equal(t, codes.Unset, c.Status.Code)
				}
			}
		})
	}
}

func TestAgentRunContent(t *testing.T) {
	spans, res, err := runFixture{script: treeScript(), parallel: 2, opts: []otel.Option{otel.WithContent(true)}}.run(t)
	require.NoError(t, err)
	checkTree(t, spans, res, false)

	run := attrs(only(t, spans, "invoke_agent tester"))
	assert.JSONEq(t, `[{"role":"user","parts":[{"type":"text","content":"What is 1+2?"}]}]`,
		run["gen_ai.input.messages"].AsString())
	assert.JSONEq(t, `[{"role":"assistant","parts":[{"type":"text","content":"3"}],"finish_reason":"stop"}]`,
		run["gen_ai.output.messages"].AsString())

	for _, c := range named(spans, "chat gpt-4o-mini") {
		a := attrs(c)
		var in []struct {
			Role  string           `json:"role"`
			Parts []map[string]any `json:"parts"`
		}
		require.NoError(t, json.Unmarshal([]byte(a["gen_ai.input.messages"].AsString()), &in))
		require.NotEmpty(t, in)
		assert.Equal(t, "system", in[0].Role, "the system prompt comes first")
		assert.Equal(t, "user", in[1].Role)
		assert.Equal(t, "What is 1+2?", in[1].Parts[0]["content"])
		assert.Contains(t, a["gen_ai.tool.definitions"].AsString(), `"name":"div"`)
		assert.NotEmpty(t, a["gen_ai.output.messages"].AsString())
	}

	for _, s := range named(spans, "execute_tool add") {
		a := attrs(s)
		var args addArgs
		require.NoError(t, json.Unmarshal([]byte(a["gen_ai.tool.call.arguments"].AsString()), &args))
		assert.Equal(t, fmt.Sprint(args.A+args.B), a["gen_ai.tool.call.result"].AsString())
	}
	div := attrs(only(t, spans, "execute_tool div"))
	assert.Contains(t, div["gen_ai.tool.call.result"].AsString(), "division by zero")
}

// TestContentIsRedacted: with content on, Config.Secrets never reach a span, whether they come
// from the goal, the model's messages, tool arguments, tool results or the final answer.
func TestContentIsRedacted(t *testing.T) {
	const secret = "hunter2hunter2"
	tp, exp := newProvider(t)
	echo := agent.NewTool("echo", "Echoes.", func(ctx context.Context, in struct {
		S string `json:"s"`
	}) (string, error) {
		return "echo " + in.S, nil
	})
	script := llmtest.NewScript(
		llmtest.TextAndCalls("I will echo "+secret, llmtest.Call("echo", `{"s":"`+secret+`"}`)),
		llmtest.Text("the key is "+secret),
	)
	a, err := agent.New(agent.Config{Model: script, Tools: []agent.Tool{echo}, Secrets: []string{secret},
		Tracer: otel.New(otel.WithTracerProvider(tp), otel.WithContent(true))})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "echo "+secret)
	require.NoError(t, err)
	require.Contains(t, res.Answer, secret, "the host still gets the real answer")
	spans := exp.GetSpans()
	require.NotEmpty(t, spans)
	recorded := 0
	for _, s := range spans {
		for _, kv := range s.Attributes {
			v := kv.Value.String()
			assert.NotContains(t, v, secret, "%s %s", s.Name, kv.Key)
			if strings.Contains(v, "[redacted]") {
				recorded++
			}
		}
	}
	assert.GreaterOrEqual(t, recorded, 4, "goal, messages, arguments, result and answer are recorded, redacted")
}

// TestContentRedactsEscapedSecrets: a secret with JSON-special characters is found in the
// spellings it takes inside JSON (tool arguments, recorded messages).
func TestContentRedactsEscapedSecrets(t *testing.T) {
	const secret = `p<w&d>"q\z-LONGSECRET`
	tp, exp := newProvider(t)
	echo := agent.NewTool("echo", "Echoes.", func(ctx context.Context, in struct {
		S string `json:"s"`
	}) (string, error) {
		return in.S, nil
	})
	script := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("echo", `{"s":"p\u003cw\u0026d\u003e\"q\\z-LONGSECRET"}`)),
		llmtest.Text("ok"),
	)
	a, err := agent.New(agent.Config{Model: script, Tools: []agent.Tool{echo}, Secrets: []string{secret},
		Tracer: otel.New(otel.WithTracerProvider(tp), otel.WithContent(true))})
	require.NoError(t, err)
	_, err = a.Run(context.Background(), "go")
	require.NoError(t, err)
	for _, s := range exp.GetSpans() {
		for _, kv := range s.Attributes {
			assert.NotContains(t, kv.Value.String(), "LONGSECRET", "%s %s", s.Name, kv.Key)
		}
	}
}

// TestErrorTypeIgnoresRedaction: an error whose message held a secret has the same error.type as
// the same error without one.
func TestErrorTypeIgnoresRedaction(t *testing.T) {
	for _, secret := range []bool{false, true} {
		tp, exp := newProvider(t)
		msg := "upstream failed"
		if secret {
			msg += " for key hunter2-XYZZY-42"
		}
		a, err := agent.New(agent.Config{Model: llmtest.NewScript(llmtest.Fail(fmt.Errorf("call: %w", errors.New(msg)))),
			Secrets: []string{"hunter2-XYZZY-42"}, Tracer: otel.New(otel.WithTracerProvider(tp))})
		require.NoError(t, err)
		_, err = a.Run(context.Background(), "go")
		require.Error(t, err)
		spans := exp.GetSpans()
		require.NotEmpty(t, spans)
		for _, s := range spans {
			assert.Equal(t, "*errors.errorString", attrs(s)["error.type"].AsString(), "%s (secret %v)", s.Name, secret)
		}
	}
}
