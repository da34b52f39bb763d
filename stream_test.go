package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamScenarios are scripts whose runs must end the same whether the model streams or not.
func streamScenarios() map[string]func() []llmtest.Reply {
	return map[string]func() []llmtest.Reply{
		"text only": func() []llmtest.Reply {
			return []llmtest.Reply{llmtest.Text("just an answer").WithUsage(10, 3)}
		},
		"one call": func() []llmtest.Reply {
			return []llmtest.Reply{
				llmtest.Calls(llmtest.Call("add", `{"a":2,"b":3}`)),
				llmtest.Text("5"),
			}
		},
		"text and parallel calls": func() []llmtest.Reply {
			return []llmtest.Reply{
				llmtest.TextAndCalls("Let me add both.", llmtest.Call("add", `{"a":1,"b":2}`), llmtest.Call("add", `{"b":4,"a":3}`)),
				llmtest.Text("3 and 7"),
			}
		},
		"zero-argument calls": func() []llmtest.Reply {
			return []llmtest.Reply{
				llmtest.Calls(llmtest.Call("now", ""), llmtest.Call("now", "{}")),
				llmtest.Text("it is late"),
			}
		},
		"multi-byte text and arguments": func() []llmtest.Reply {
			return []llmtest.Reply{
				llmtest.TextAndCalls("héllo wörld 日本語 🎉🎉", llmtest.Call("echo", `{"text":"ß日本🎉é"}`)),
				llmtest.Text("終わり 🎉"),
			}
		},
		"invalid assembled arguments": func() []llmtest.Reply {
			return []llmtest.Reply{
				llmtest.Calls(llmtest.Call("add", `{"a":1,"b":`)),
				llmtest.Calls(llmtest.Call("add", `{"a":1,"b":1}`)),
				llmtest.Text("2"),
			}
		},
		"unknown tool": func() []llmtest.Reply {
			return []llmtest.Reply{
				llmtest.Calls(llmtest.Call("nope", `{}`)),
				llmtest.Text("sorry"),
			}
		},
	}
}

func streamTools(executed *int, mu *sync.Mutex) []agent.Tool {
	count := func() {
		mu.Lock()
		*executed++
		mu.Unlock()
	}
	return []agent.Tool{
		agent.NewTool("add", "Adds two integers.", func(ctx context.Context, in addArgs) (int, error) {
			count()
			return in.A + in.B, nil
		}),
		agent.NewTool("now", "Tells the time.", func(ctx context.Context, in noArgs) (string, error) {
			count()
			return "23:59", nil
		}),
		agent.NewTool("echo", "Echoes text.", func(ctx context.Context, in echoArgs) (string, error) {
			count()
			return in.Text, nil
		}),
	}
}

// TestStreamingAndNonStreamingRunsAgree runs every scenario once with Run (no listener: the model
// is not streamed) and once with Stream (text and tool-call deltas as events), and checks that the
// history, the answer and the tools executed are identical, that the deltas assemble to each
// model response, and that invalid arguments never reach a tool.
func TestStreamingAndNonStreamingRunsAgree(t *testing.T) {
	for name, replies := range streamScenarios() {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var plainRuns, streamRuns int

			plain := llmtest.NewScript(replies()...)
			a := newAgent(t, agent.Config{Model: plain, Tools: streamTools(&plainRuns, &mu)})
			st := a.Start("go")
			res, err := a.Resume(context.Background(), st)
			require.NoError(t, err)
			plain.AssertComplete(t)
			want, err := st.History(context.Background())
			require.NoError(t, err)

			streamed := llmtest.NewScript(replies()...)
			b := newAgent(t, agent.Config{Model: streamed, Tools: streamTools(&streamRuns, &mu)})
			st2 := b.Start("go")
			var events []agent.Event
			for e, err := range b.StreamState(context.Background(), st2) {
				require.NoError(t, err)
				events = append(events, e)
			}
			streamed.AssertComplete(t)
			got, err := st2.History(context.Background())
			require.NoError(t, err)

			assert.Equal(t, want, got, "the history must not depend on streaming")
			assert.Equal(t, res.Answer, st2.Answer)
			assert.Equal(t, plainRuns, streamRuns, "the same tool calls must run")
			assertPaired(t, got)
			checkDeltas(t, events)
			for _, e := range events {
				if e.Kind == agent.EventToolResult && e.ToolCall.Name == "add" && strings.HasSuffix(e.ToolCall.Arguments, ":") {
					assert.True(t, e.ToolResult.IsError, "invalid JSON must come back as an error result")
				}
			}
		})
	}
}

// checkDeltas assembles the text and tool-call deltas of each step and compares them with the
// step's EventModelResponse.
func checkDeltas(t *testing.T, events []agent.Event) {
	t.Helper()
	var text strings.Builder
	type call struct{ id, name, args string }
	calls := map[int]*call{}
	for _, e := range events {
		switch e.Kind {
		case agent.EventTextDelta:
			text.WriteString(e.Text)
		case agent.EventToolCallDelta:
			d := e.ToolCallDelta
			c := calls[d.Index]
			if c == nil {
				c = &call{}
				calls[d.Index] = c
			}
			if d.ID != "" {
				c.id = d.ID
			}
			c.name += d.Name
			c.args += d.Arguments
			if c.id != "" {
				assert.Equal(t, c.id, e.ToolCallID, "every delta after the id carries it")
			}
		case agent.EventModelResponse:
			msg := e.Response.Message
			assert.Equal(t, msg.Content, text.String())
			require.Len(t, calls, len(msg.ToolCalls))
			for i, tc := range msg.ToolCalls {
				c := calls[i]
				require.NotNil(t, c, "no deltas for call %d", i)
				assert.Equal(t, tc.Name, c.name)
				assert.Equal(t, tc.Arguments, c.args)
				if c.id != "" {
					assert.Equal(t, tc.ID, c.id)
				}
			}
			text.Reset()
			calls = map[int]*call{}
		case agent.EventToolCall, agent.EventToolResult:
			assert.Equal(t, e.ToolCall.ID, e.ToolCallID)
			assert.NotEmpty(t, e.ToolCallID)
		}
	}
}

// span is one operation a recordingTracer saw.
type span struct {
	kind, name string
	parent     *span
	ended      int
	err        error
	rec        *agent.StepRecord
	res        *agent.Result
	resp       *llm.Response
	tool       agent.ToolResult
	req        *llm.Request
}

type spanKey struct{}

// recordingTracer keeps the spans a run opened, with their parents found through the context.
type recordingTracer struct {
	mu    sync.Mutex
	spans []*span
}

func (r *recordingTracer) open(ctx context.Context, kind, name string) (context.Context, *span) {
	s := &span{kind: kind, name: name}
	s.parent, _ = ctx.Value(spanKey{}).(*span)
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	return context.WithValue(ctx, spanKey{}, s), s
}

func (r *recordingTracer) end(s *span, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.ended++
	f()
}

func (r *recordingTracer) StartRun(ctx context.Context, run agent.RunInfo) (context.Context, func(*agent.Result, error)) {
	ctx, s := r.open(ctx, "run", run.AgentName+"/"+run.Model)
	return ctx, func(res *agent.Result, err error) { r.end(s, func() { s.res, s.err = res, err }) }
}

func (r *recordingTracer) StartStep(ctx context.Context, step agent.StepInfo) (context.Context, func(*agent.StepRecord, error)) {
	ctx, s := r.open(ctx, "step", strings.Repeat("I", step.Index+1))
	return ctx, func(rec *agent.StepRecord, err error) { r.end(s, func() { s.rec, s.err = rec, err }) }
}

func (r *recordingTracer) StartModelCall(ctx context.Context, call agent.ModelCallInfo) (context.Context, func(*llm.Response, error)) {
	ctx, s := r.open(ctx, "model", call.Model)
	s.req = call.Request
	return ctx, func(resp *llm.Response, err error) { r.end(s, func() { s.resp, s.err = resp, err }) }
}

func (r *recordingTracer) StartToolCall(ctx context.Context, call agent.ToolCallInfo) (context.Context, func(agent.ToolResult)) {
	ctx, s := r.open(ctx, "tool", call.Call.Name+"#"+call.Call.ID)
	return ctx, func(res agent.ToolResult) { r.end(s, func() { s.tool = res }) }
}

func (r *recordingTracer) of(kind string) []*span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*span
	for _, s := range r.spans {
		if s.kind == kind {
			out = append(out, s)
		}
	}
	return out
}

func TestTracerSeesNestedSpans(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		name := "run"
		if streaming {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			tr := &recordingTracer{}
			var seenCtx []*span
			var mu sync.Mutex
			probe := agent.NewTool("probe", "Reports its span.", func(ctx context.Context, in noArgs) (string, error) {
				s, _ := ctx.Value(spanKey{}).(*span)
				mu.Lock()
				seenCtx = append(seenCtx, s)
				mu.Unlock()
				return "ok", nil
			})
			model := llmtest.NewScript(
				llmtest.Calls(llmtest.Call("probe", `{}`), llmtest.Call("add", `{"a":1,"b":2}`), llmtest.Call("add", `{"a":"x"}`)).WithUsage(30, 5),
				llmtest.Text("done").WithUsage(40, 2),
			)
			a := newAgent(t, agent.Config{Model: model, ModelName: "gpt-4o", Name: "tester", Tracer: tr,
				Tools: []agent.Tool{probe, addTool()}, Secrets: []string{"hunter2"}})
			if streaming {
				for _, err := range a.Stream(context.Background(), "add hunter2") {
					require.NoError(t, err)
				}
			} else {
				_, err := a.Run(context.Background(), "add hunter2")
				require.NoError(t, err)
			}
			runs, steps, models, tools := tr.of("run"), tr.of("step"), tr.of("model"), tr.of("tool")
			require.Len(t, runs, 1)
			assert.Equal(t, "tester/gpt-4o", runs[0].name)
			assert.Nil(t, runs[0].parent)
			assert.Equal(t, "done", runs[0].res.Answer)
			require.Len(t, steps, 2)
			require.Len(t, models, 2)
			for i, s := range steps {
				assert.Same(t, runs[0], s.parent)
				assert.Same(t, s, models[i].parent)
				assert.Equal(t, "gpt-4o", models[i].name)
				require.NotNil(t, s.rec)
				assert.Equal(t, i, s.rec.Index)
				assert.Equal(t, s.rec.Usage, models[i].resp.Usage)
			}
			// The call with invalid arguments never runs, so it has no span.
			require.Len(t, tools, 2)
			for _, s := range tools {
				assert.Same(t, steps[0], s.parent)
			}
			mu.Lock()
			require.Len(t, seenCtx, 1)
			assert.Equal(t, "tool", seenCtx[0].kind, "a tool runs under its own span")
			mu.Unlock()
			for _, s := range tr.spans {
				assert.Equal(t, 1, s.ended, "%s %s ended %d times", s.kind, s.name, s.ended)
			}
		})
	}
}

func TestTracerSeesFailures(t *testing.T) {
	tr := &recordingTracer{}
	boom := errors.New("provider down")
	model := llmtest.NewScript(llmtest.Fail(boom))
	a := newAgent(t, agent.Config{Model: model, Tracer: tr})
	_, err := a.Run(context.Background(), "x")
	require.ErrorIs(t, err, boom)
	runs, steps, models := tr.of("run"), tr.of("step"), tr.of("model")
	require.Len(t, runs, 1)
	require.Len(t, steps, 1)
	require.Len(t, models, 1)
	assert.ErrorIs(t, runs[0].err, boom)
	assert.ErrorIs(t, steps[0].err, boom)
	assert.ErrorIs(t, models[0].err, boom)
	assert.Nil(t, models[0].resp)
	assert.NotNil(t, runs[0].res, "the partial result reaches the tracer")

	// A consumer that breaks out of Stream ends the run span with a cancellation.
	tr2 := &recordingTracer{}
	model2 := llmtest.NewScript(llmtest.Calls(llmtest.Call("add", `{"a":1,"b":2}`)), llmtest.Text("3"))
	b := newAgent(t, agent.Config{Model: model2, Tools: []agent.Tool{addTool()}, Tracer: tr2})
	for range b.Stream(context.Background(), "x") {
		break
	}
	require.Len(t, tr2.of("run"), 1)
	assert.ErrorIs(t, tr2.of("run")[0].err, context.Canceled)
	for _, s := range tr2.spans {
		assert.Equal(t, 1, s.ended, "%s %s", s.kind, s.name)
	}
}

func TestLoggerRecordsStructuredAndRedacted(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	})
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	leak := agent.NewTool("leak", "Fails with a secret.", func(ctx context.Context, in noArgs) (string, error) {
		panic("the key is hunter2hunter2")
	})
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("leak", `{}`)),
		llmtest.Fail(errors.New("provider says hunter2hunter2 is wrong")),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{leak}, Logger: log, Name: "logger-test",
		Secrets: []string{"hunter2hunter2"}})
	res, err := a.Run(context.Background(), "use hunter2hunter2")
	require.Error(t, err)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	assert.NotContains(t, out, "hunter2")
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		records = append(records, m)
		assert.Equal(t, "logger-test", m["agent"], line)
	}
	byMsg := map[string]map[string]any{}
	for _, r := range records {
		byMsg[r["msg"].(string)] = r
	}
	for _, msg := range []string{"agent run", "agent step", "tool panicked", "tool call", "model call failed", "agent run ended"} {
		r, ok := byMsg[msg]
		if assert.True(t, ok, "no %q record in %s", msg, out) {
			assert.Equal(t, res.State.ID, r["run"], msg)
		}
	}
	assert.Equal(t, float64(0), byMsg["tool call"]["step"])
	assert.NotEmpty(t, byMsg["tool call"]["tool_call_id"])
	assert.Contains(t, byMsg["agent run ended"]["error"], "[redacted]")
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStreamedSecretsSplitAcrossDeltasAreRedacted: a secret cut across text deltas or argument
// fragments never appears in any event, and the deltas still assemble to the (redacted) response.
func TestStreamedSecretsSplitAcrossDeltasAreRedacted(t *testing.T) {
	const secret = "hunter2-SUPERSECRET-pw"
	frag := func(i int, id, name, args string) llm.Chunk {
		return llm.Chunk{ToolCall: &llm.ToolCallDelta{Index: i, ID: id, Name: name, Arguments: args}}
	}
	first := []llm.Chunk{
		{Text: "the password is hunter2-SU"}, {Text: "PERSECRET-pw and the key sk-proj-Ab3Ab3"},
		{Text: "Ab3Ab3Ab3Ab3Ab3Ab3Ab3Ab3 end"},
		frag(0, "c0", "echo", `{"text":"hunt`), frag(0, "", "", `er2-SUPERSECRET`), frag(0, "", "", `-pw"}`),
	}
	resp, err := llmtest.Assemble(first)
	require.NoError(t, err)
	model := llmtest.NewScript(
		llmtest.Streamed(append(first, llm.Chunk{Response: resp})...),
		llmtest.Streamed(llm.Chunk{Text: "done: hunter2-"}, llm.Chunk{Text: "SUPERSECRET-pw"},
			llm.Chunk{Response: &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "done: " + secret}, FinishReason: llm.FinishStop}}),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, Secrets: []string{secret}})
	var events []agent.Event
	for e, err := range a.Stream(context.Background(), "go") {
		require.NoError(t, err)
		events = append(events, e)
		b, err := json.Marshal(e)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "SUPERSECRET", "%s event leaks", e.Kind)
		assert.NotContains(t, string(b), "Ab3Ab3Ab3", "%s event leaks", e.Kind)
	}
	checkDeltas(t, events)
	final := events[len(events)-1]
	require.Equal(t, agent.EventFinal, final.Kind)
	assert.Equal(t, "done: [redacted]", final.Text)
}

// TestStepRecordsAreRedacted: step records (messages, thoughts, tool-call arguments and results),
// as Result.Steps and saved runs carry them, hold no secret; the history keeps it for the model.
func TestStepRecordsAreRedacted(t *testing.T) {
	const secret = "hunter2-XYZZY-42"
	model := llmtest.NewScript(
		llmtest.TextAndCalls("I will echo "+secret, llmtest.Call("echo", `{"text":"`+secret+`"}`)),
		llmtest.Text("The key is "+secret+"."),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{echoTool()}, Secrets: []string{secret}})
	res, err := a.Run(context.Background(), "echo it")
	require.NoError(t, err)
	assert.Contains(t, res.Answer, secret, "the host gets the real answer")
	steps, err := json.Marshal(res.Steps)
	require.NoError(t, err)
	assert.NotContains(t, string(steps), secret)
	assert.Contains(t, string(steps), "[redacted]")
	history, err := res.State.History(context.Background())
	require.NoError(t, err)
	assert.Contains(t, history[len(history)-2].Content, secret, "the model's history keeps the tool result")
}

// TestToolCallsPerStepAreBounded: an answer with more calls than MaxToolCallsPerStep runs the
// first ones; every other call gets an error result and never runs.
func TestToolCallsPerStepAreBounded(t *testing.T) {
	calls := make([]llm.ToolCall, 70)
	for i := range calls {
		calls[i] = llmtest.Call("add", `{"a":1,"b":1}`)
	}
	for _, tc := range []struct {
		limit, want int
	}{{0, agent.DefaultMaxToolCallsPerStep}, {5, 5}, {-1, 70}} {
		var n int64
		var mu sync.Mutex
		add := agent.NewTool("add", "Adds.", func(ctx context.Context, in addArgs) (int, error) {
			mu.Lock()
			n++
			mu.Unlock()
			return in.A + in.B, nil
		})
		model := llmtest.NewScript(llmtest.Calls(calls...), llmtest.Text("done"))
		a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{add}, MaxToolCallsPerStep: tc.limit})
		res, err := a.Run(context.Background(), "go")
		require.NoError(t, err)
		assert.Equal(t, int64(tc.want), n, "limit %d", tc.limit)
		recs := res.Steps[0].ToolCalls
		require.Len(t, recs, 70, "every call has a result")
		for i, r := range recs {
			assert.Equal(t, i >= tc.want, r.Result.IsError, "call %d", i)
		}
		assertPaired(t, model.Requests()[1].Messages)
	}
}

func TestEditSchemaAddsEnumAndForbidsNull(t *testing.T) {
	type order struct {
		Unit  string   `json:"unit"`
		Items []string `json:"items"`
	}
	var got []order
	tool := agent.NewTool("order", "Orders.", func(ctx context.Context, in order) (string, error) {
		got = append(got, in)
		return "ok", nil
	}).EditSchema(func(s *jsonschema.Schema) {
		s.Properties["unit"].Enum = []any{"kg", "lb"}
		s.Properties["items"].Types, s.Properties["items"].Type = nil, "array"
	})
	require.NoError(t, tool.Err())
	assert.Contains(t, string(tool.Schema()), `"enum":["kg","lb"]`)
	for _, tc := range []struct{ args, bad string }{
		{`{"unit":"kg","items":["a"]}`, ""},
		{`{"unit":"g","items":["a"]}`, "unit"},
		{`{"unit":"kg","items":null}`, "items"},
	} {
		res, err := tool.Call(context.Background(), json.RawMessage(tc.args))
		if tc.bad == "" {
			require.NoError(t, err)
			assert.Equal(t, "ok", res.Content)
			continue
		}
		var ae *agent.ArgumentError
		require.ErrorAs(t, err, &ae, tc.args)
		assert.Contains(t, err.Error(), tc.bad)
	}
	assert.Len(t, got, 1)

	broken := agent.NewTool("order", "Orders.", func(ctx context.Context, in order) (string, error) { return "", nil }).
		EditSchema(func(s *jsonschema.Schema) { s.Properties["unit"].Pattern = "(" })
	assert.Error(t, broken.Err())
	_, err := agent.New(agent.Config{Model: llmtest.NewScript(), Tools: []agent.Tool{broken}})
	assert.Error(t, err)
}
