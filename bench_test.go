package agent_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// The benchmarks of this file measure our loop alone. The comparison with langchaingo and eino on
// the same scenario lives in the bench/ module (its own go.mod): cd bench && go test -bench .

const (
	benchGoal   = "Call the noop tool once, then say done."
	benchAnswer = "done"
)

// benchModel is a fake llm.Model (deliberately not an llm.Streamer): when the last message is a tool
// result it answers with benchAnswer, otherwise it calls the tool named tool `calls` times (IDs
// call_1...call_n) with args. It allocates a fresh response per call, as a real client would.
type benchModel struct {
	tool, args string
	calls      int
	n          *atomic.Int64 // model calls made
}

func (m benchModel) Generate(_ context.Context, req *llm.Request) (*llm.Response, error) {
	m.n.Add(1)
	if k := len(req.Messages); k > 0 && req.Messages[k-1].Role == llm.RoleTool {
		return &llm.Response{
			Message:      llm.Message{Role: llm.RoleAssistant, Content: benchAnswer},
			FinishReason: llm.FinishStop,
		}, nil
	}
	calls := make([]llm.ToolCall, m.calls)
	for i := range calls {
		calls[i] = llm.ToolCall{ID: "call_" + strconv.Itoa(i+1), Name: m.tool, Arguments: m.args}
	}
	return &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, ToolCalls: calls},
		FinishReason: llm.FinishToolCalls,
	}, nil
}

type benchNoopArgs struct {
	Text string `json:"text"`
}

// BenchmarkRun is one whole run: the model calls a no-op tool once, the tool runs, the model answers
// with text (two model calls, one tool call). The Agent is built once, outside the measured loop.
// bench/ runs the same scenario against langchaingo and eino.
//
//	go test -run '^$' -bench BenchmarkRun -benchmem
func BenchmarkRun(b *testing.B) {
	var modelCalls, toolCalls atomic.Int64
	noop := agent.NewTool("noop", "Does nothing and says ok.", func(_ context.Context, in benchNoopArgs) (string, error) {
		toolCalls.Add(1)
		return "ok", nil
	})
	a, err := agent.New(agent.Config{
		Model: benchModel{tool: "noop", args: `{"text":"ping"}`, calls: 1, n: &modelCalls},
		Tools: []agent.Tool{noop},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	var runs int64
	for b.Loop() {
		res, err := a.Run(ctx, benchGoal)
		if err != nil {
			b.Fatal(err)
		}
		if res.Answer != benchAnswer {
			b.Fatalf("answer %q, want %q", res.Answer, benchAnswer)
		}
		runs++
	}
	if m, t := modelCalls.Load(), toolCalls.Load(); m != 2*runs || t != runs {
		b.Fatalf("%d runs made %d model calls and %d tool calls, want %d and %d", runs, m, t, 2*runs, runs)
	}
}

// Parameters of BenchmarkParallelTools.
const (
	benchParallelCalls = 8
	benchToolSleep     = 50 * time.Millisecond
)

type benchSleepArgs struct{}

// benchSleepTool sleeps benchToolSleep, or less if ctx ends first.
func benchSleepTool() agent.Tool {
	return agent.NewTool("sleep", "Sleeps 50 ms.", func(ctx context.Context, _ benchSleepArgs) (string, error) {
		t := time.NewTimer(benchToolSleep)
		defer t.Stop()
		select {
		case <-t.C:
			return "slept", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
}

// BenchmarkParallelTools is a run whose model calls a 50 ms tool 8 times in one turn and then answers
// with text. The measured op is the run with the default Config.MaxParallelTools (8): ideally about
// 50 ms. Each iteration also runs, untimed, the same run with MaxParallelTools = 1 (about 400 ms),
// and the benchmark reports
//
//	wall-ms                the parallel run's wall time, in milliseconds
//	speedup-vs-sequential  the sequential runs' total wall time over the parallel runs' (ideally 8)
//
// Each iteration costs about 450 ms of wall time, so run it with a small fixed count:
//
//	go test -run '^$' -bench BenchmarkParallelTools -benchtime=5x
func BenchmarkParallelTools(b *testing.B) {
	newAgent := func(parallel int) *agent.Agent {
		a, err := agent.New(agent.Config{
			Model:            benchModel{tool: "sleep", args: `{}`, calls: benchParallelCalls, n: new(atomic.Int64)},
			Tools:            []agent.Tool{benchSleepTool()},
			MaxParallelTools: parallel,
		})
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	par, seq := newAgent(0), newAgent(1)
	ctx := context.Background()
	run := func(a *agent.Agent) time.Duration {
		start := time.Now()
		res, err := a.Run(ctx, benchGoal)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if res.Answer != benchAnswer || len(res.Steps) != 2 || len(res.Steps[0].ToolCalls) != benchParallelCalls {
			b.Fatalf("unexpected run: answer %q, %d steps", res.Answer, len(res.Steps))
		}
		for _, c := range res.Steps[0].ToolCalls {
			if c.Result.IsError || c.Result.Content != "slept" {
				b.Fatalf("tool call %s: %+v", c.Call.ID, c.Result)
			}
		}
		return d
	}
	var parTotal, seqTotal time.Duration
	b.ResetTimer()
	for range b.N {
		parTotal += run(par)
		b.StopTimer()
		seqTotal += run(seq)
		b.StartTimer()
	}
	b.ReportMetric(float64(parTotal.Microseconds())/1e3/float64(b.N), "wall-ms")
	b.ReportMetric(float64(seqTotal)/float64(parTotal), "speedup-vs-sequential")
}

// BenchmarkFitContext measures one step of a long run in an 8k window, where every prompt must be
// trimmed, after 50, 100 and 200 turns. Per-message token counts are cached across steps, so a
// step's cost should not grow with the history; each sub-benchmark reports its ns/op as a ratio
// to the 50-turn one measured in the same run (ns-vs-50-turns, goal about 1).
//
//	go test -run '^$' -bench BenchmarkFitContext -benchmem
func BenchmarkFitContext(b *testing.B) {
	var base float64
	for _, turns := range []int{50, 100, 200} {
		b.Run("turns="+strconv.Itoa(turns), func(b *testing.B) {
			text := strings.Repeat("a note about the state of things ", 12)
			var calls atomic.Int64
			model := llmtestFunc(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
				n := strconv.FormatInt(calls.Add(1), 10)
				return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant,
					ToolCalls: []llm.ToolCall{{ID: "c" + n, Name: "note", Arguments: `{"text":"` + n + text + `"}`}}}}, nil
			})
			note := agent.NewTool("note", "Takes a note.", func(_ context.Context, in benchNoopArgs) (string, error) {
				return in.Text, nil
			})
			a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{note}, ModelName: "gpt-4o",
				ContextWindow: 8192, ReservedOutputTokens: 1024, MaxSteps: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			st := a.Start("Take notes forever.")
			for range turns {
				if _, err := a.Step(ctx, st, nil); err != nil {
					b.Fatal(err)
				}
			}
			if st.Steps[len(st.Steps)-1].DroppedMessages == 0 {
				b.Fatal("the history should overflow the window")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := a.Step(ctx, st, nil); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if turns == 50 {
				base = ns
			}
			if base > 0 {
				b.ReportMetric(ns/base, "ns-vs-50-turns")
			}
		})
	}
}

// llmtestFunc is a non-streaming function model.
type llmtestFunc func(ctx context.Context, req *llm.Request) (*llm.Response, error)

func (f llmtestFunc) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	return f(ctx, req)
}

// BenchmarkStreamRatio is BenchmarkRun's scenario with a 2 KB answer, consumed through Stream
// (text and tool-call deltas as events, each redacted as a stream) and, as the baseline in the same
// process, through Run (no deltas). ns-vs-run is the streamed run's time over the plain run's.
//
//	go test -run '^$' -bench BenchmarkStreamRatio -benchmem
func BenchmarkStreamRatio(b *testing.B) {
	answer := strings.Repeat("All work and no play makes Jack a dull boy. ", 46) // ~2 KB
	model := llmtest.Func(func(_ context.Context, req *llm.Request) (*llm.Response, error) {
		if k := len(req.Messages); k > 0 && req.Messages[k-1].Role == llm.RoleTool {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: answer}, FinishReason: llm.FinishStop}, nil
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "call_1", Name: "noop", Arguments: `{"text":"a longer argument that arrives in several fragments"}`}}},
			FinishReason: llm.FinishToolCalls}, nil
	})
	noop := agent.NewTool("noop", "Does nothing and says ok.", func(_ context.Context, in benchNoopArgs) (string, error) {
		return "ok", nil
	})
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{noop}, Secrets: []string{"hunter2hunter2"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stream := func() {
		deltas := 0
		for e, err := range a.Stream(ctx, benchGoal) {
			if err != nil {
				b.Fatal(err)
			}
			if e.Kind == agent.EventTextDelta {
				deltas++
			}
		}
		if deltas < 100 {
			b.Fatalf("%d text deltas: the answer did not stream", deltas)
		}
	}
	stream() // warm up: the first run builds the token counter
	b.ReportAllocs()
	n := 0
	start := time.Now()
	for b.Loop() {
		stream()
		n++
	}
	streamed := time.Since(start)
	start = time.Now()
	for range n {
		if _, err := a.Run(ctx, benchGoal); err != nil {
			b.Fatal(err)
		}
	}
	plain := time.Since(start)
	b.ReportMetric(float64(streamed)/float64(plain), "ns-vs-run")
	b.ReportMetric(float64(plain.Nanoseconds())/float64(n), "run-ns/op")
}
