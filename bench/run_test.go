package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	einomodel "github.com/cloudwego/eino/components/model"
	einotool "github.com/cloudwego/eino/components/tool"
	einoutils "github.com/cloudwego/eino/components/tool/utils"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/flow/agent/react"
	"github.com/cloudwego/eino/schema"
	"github.com/tmc/langchaingo/agents"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	lctools "github.com/tmc/langchaingo/tools"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// The scenario, the same for every framework: the goal goes to the model, which answers with one call
// of the no-op tool ("noop", one string argument); the tool runs; the model, seeing the tool result,
// answers with the final text. Two model calls and one tool call per run, no network, no tokens
// counted. The fake models allocate a fresh response per call, as a real client would, and count
// their calls so that each benchmark can check the run did exactly that.
const (
	goal       = "Call the noop tool once, then say done."
	finalText  = "done"
	toolName   = "noop"
	toolCallID = "call_1"
	toolArg    = "ping"
)

// contender is one framework set up for the scenario.
type contender struct {
	name string
	// run performs one whole run and checks its answer.
	run func(ctx context.Context) error
	// modelCalls and toolCalls count what the fake model and the tool saw.
	modelCalls, toolCalls *atomic.Int64
}

// contenders lists the frameworks in the order they are reported; ours first.
var contenders = []struct {
	name  string
	setup func() (*contender, error)
}{
	{"autogpt-go", setupOurs},
	{"langchaingo", setupLangchaingo},
	{"eino", setupEino},
}

func checkAnswer(got string) error {
	if got != finalText {
		return fmt.Errorf("answer %q, want %q", got, finalText)
	}
	return nil
}

// ---- autogpt-go ----

type noopArgs struct {
	Text string `json:"text"`
}

// ourModel is an llm.Model (deliberately not an llm.Streamer) that calls the tool when the last
// message is the goal and answers with text after a tool result.
type ourModel struct{ calls *atomic.Int64 }

func (m ourModel) Generate(_ context.Context, req *llm.Request) (*llm.Response, error) {
	m.calls.Add(1)
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == llm.RoleTool {
		return &llm.Response{
			Message:      llm.Message{Role: llm.RoleAssistant, Content: finalText},
			FinishReason: llm.FinishStop,
		}, nil
	}
	return &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: toolCallID, Name: toolName, Arguments: `{"text":"` + toolArg + `"}`},
		}},
		FinishReason: llm.FinishToolCalls,
	}, nil
}

func setupOurs() (*contender, error) {
	c := &contender{name: "autogpt-go", modelCalls: new(atomic.Int64), toolCalls: new(atomic.Int64)}
	noop := agent.NewTool(toolName, "Does nothing and says ok.", func(_ context.Context, in noopArgs) (string, error) {
		c.toolCalls.Add(1)
		return "ok", nil
	})
	a, err := agent.New(agent.Config{Model: ourModel{calls: c.modelCalls}, Tools: []agent.Tool{noop}})
	if err != nil {
		return nil, err
	}
	c.run = func(ctx context.Context) error {
		res, err := a.Run(ctx, goal)
		if err != nil {
			return err
		}
		return checkAnswer(res.Answer)
	}
	return c, nil
}

// ---- langchaingo ----

// lcModel is an llms.Model for agents.OpenAIFunctionsAgent: a choice with a tool call (arguments in
// the {"__arg1": ...} form the agent advertises for its tools) unless the last message carries a tool
// result, then a plain text choice, which the agent's parser takes as the finish.
type lcModel struct{ calls *atomic.Int64 }

func (m lcModel) GenerateContent(_ context.Context, msgs []llms.MessageContent, _ ...llms.CallOption) (*llms.ContentResponse, error) {
	m.calls.Add(1)
	if n := len(msgs); n > 0 && len(msgs[n-1].Parts) > 0 {
		if _, ok := msgs[n-1].Parts[0].(llms.ToolCallResponse); ok {
			return &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: finalText, StopReason: "stop"}}}, nil
		}
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{{
		StopReason: "tool_calls",
		ToolCalls: []llms.ToolCall{{
			ID:           toolCallID,
			Type:         "function",
			FunctionCall: &llms.FunctionCall{Name: toolName, Arguments: `{"__arg1":"` + toolArg + `"}`},
		}},
	}}}, nil
}

func (m lcModel) Call(ctx context.Context, prompt string, opts ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, prompt, opts...)
}

// lcNoop is a langchaingo tools.Tool that does nothing.
type lcNoop struct{ calls *atomic.Int64 }

func (lcNoop) Name() string        { return toolName }
func (lcNoop) Description() string { return "Does nothing and says ok." }
func (t lcNoop) Call(_ context.Context, input string) (string, error) {
	t.calls.Add(1)
	if input != toolArg {
		return "", fmt.Errorf("noop: input %q, want %q", input, toolArg)
	}
	return "ok", nil
}

func setupLangchaingo() (*contender, error) {
	c := &contender{name: "langchaingo", modelCalls: new(atomic.Int64), toolCalls: new(atomic.Int64)}
	ex := agents.NewExecutor(agents.NewOpenAIFunctionsAgent(lcModel{calls: c.modelCalls}, []lctools.Tool{lcNoop{calls: c.toolCalls}}))
	c.run = func(ctx context.Context) error {
		out, err := chains.Run(ctx, ex, goal)
		if err != nil {
			return err
		}
		return checkAnswer(out)
	}
	return c, nil
}

// ---- eino ----

// einoModel is a model.ToolCallingChatModel with the same two answers.
type einoModel struct{ calls *atomic.Int64 }

func (m einoModel) Generate(_ context.Context, in []*schema.Message, _ ...einomodel.Option) (*schema.Message, error) {
	m.calls.Add(1)
	if n := len(in); n > 0 && in[n-1].Role == schema.Tool {
		return schema.AssistantMessage(finalText, nil), nil
	}
	return schema.AssistantMessage("", []schema.ToolCall{{
		ID:       toolCallID,
		Type:     "function",
		Function: schema.FunctionCall{Name: toolName, Arguments: `{"text":"` + toolArg + `"}`},
	}}), nil
}

func (m einoModel) Stream(ctx context.Context, in []*schema.Message, opts ...einomodel.Option) (*schema.StreamReader[*schema.Message], error) {
	msg, err := m.Generate(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	return schema.StreamReaderFromArray([]*schema.Message{msg}), nil
}

func (m einoModel) WithTools([]*schema.ToolInfo) (einomodel.ToolCallingChatModel, error) {
	return m, nil
}

func setupEino() (*contender, error) {
	c := &contender{name: "eino", modelCalls: new(atomic.Int64), toolCalls: new(atomic.Int64)}
	noop, err := einoutils.InferTool(toolName, "Does nothing and says ok.", func(_ context.Context, in noopArgs) (string, error) {
		c.toolCalls.Add(1)
		return "ok", nil
	})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	a, err := react.NewAgent(ctx, &react.AgentConfig{
		ToolCallingModel: einoModel{calls: c.modelCalls},
		ToolsConfig:      compose.ToolsNodeConfig{Tools: []einotool.BaseTool{noop}},
	})
	if err != nil {
		return nil, err
	}
	// eino's ReAct agent has no default system prompt; the other two send one, so send one here too.
	system := schema.SystemMessage("You are a helpful AI assistant.")
	c.run = func(ctx context.Context) error {
		out, err := a.Generate(ctx, []*schema.Message{system, schema.UserMessage(goal)})
		if err != nil {
			return err
		}
		return checkAnswer(out.Content)
	}
	return c, nil
}

// checkCounts verifies that runs runs made exactly two model calls and one tool call each.
func (c *contender) checkCounts(runs int64) error {
	m, t := c.modelCalls.Load(), c.toolCalls.Load()
	if m != 2*runs || t != runs {
		return fmt.Errorf("%s: %d runs made %d model calls and %d tool calls, want %d and %d",
			c.name, runs, m, t, 2*runs, runs)
	}
	return nil
}

// BenchmarkRun measures one whole run of the scenario in each framework. Each agent is built once,
// outside the measured loop.
//
//	go test -run '^$' -bench . -benchmem
func BenchmarkRun(b *testing.B) {
	for _, s := range contenders {
		b.Run(s.name, func(b *testing.B) {
			c, err := s.setup()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			var runs int64
			for b.Loop() {
				if err := c.run(ctx); err != nil {
					b.Fatal(err)
				}
				runs++
			}
			if err := c.checkCounts(runs); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// Measurement parameters of BenchmarkRunRatio: each contender runs ratioRounds batches, interleaved
// with the others' so that drift in the machine's speed hits all three alike, each batch lasting
// about ratioBatch.
const (
	ratioRounds = 5
	ratioBatch  = 100 * time.Millisecond
)

// measurement is what BenchmarkRunRatio measured for one contender.
type measurement struct {
	nsPerRun     []float64 // per batch
	mallocs, ops uint64
}

func (m *measurement) ns() float64 {
	s := slices.Clone(m.nsPerRun)
	slices.Sort(s)
	return s[len(s)/2] // median of the batches
}

func (m *measurement) allocs() float64 { return float64(m.mallocs) / float64(m.ops) }

// BenchmarkRunRatio measures the three contenders in one process, interleaved, and reports our time
// and allocations per run divided by each peer's: ns-vs-langchaingo, ns-vs-eino,
// allocs-vs-langchaingo, allocs-vs-eino. Below 1 means autogpt-go is faster or allocates less.
//
// It cannot use testing.Benchmark: called from inside a benchmark, that deadlocks on the testing
// package's benchmark lock. It measures as testing.B does instead: wall time around a batch of runs,
// and runtime.MemStats.Mallocs before and after it, after a GC. ns/op is suppressed because one "op"
// here is the whole comparison (about 2 s).
func BenchmarkRunRatio(b *testing.B) {
	cs := make([]*contender, len(contenders))
	for i, s := range contenders {
		c, err := s.setup()
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	ctx := context.Background()
	batch := make([]int, len(cs))
	for i, c := range cs {
		// Warm up, and size a batch to last about ratioBatch.
		const warm = 50
		start := time.Now()
		for range warm {
			if err := c.run(ctx); err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
		}
		per := time.Since(start) / warm
		batch[i] = max(1, int(ratioBatch/max(per, 1)))
	}
	ms := make([]measurement, len(cs))
	var before, after runtime.MemStats
	for range ratioRounds {
		for i, c := range cs {
			n := batch[i]
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			for range n {
				if err := c.run(ctx); err != nil {
					b.Fatalf("%s: %v", c.name, err)
				}
			}
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			ms[i].nsPerRun = append(ms[i].nsPerRun, float64(elapsed.Nanoseconds())/float64(n))
			ms[i].mallocs += after.Mallocs - before.Mallocs
			ms[i].ops += uint64(n)
		}
	}
	for i, c := range cs {
		if err := c.checkCounts(50 + int64(ms[i].ops)); err != nil {
			b.Fatal(err)
		}
		b.Logf("%-12s %10.0f ns/run %8.1f allocs/run", c.name, ms[i].ns(), ms[i].allocs())
	}
	ours, lc, eino := &ms[0], &ms[1], &ms[2]
	if cs[1].name != "langchaingo" || cs[2].name != "eino" {
		b.Fatal(errors.New("contenders out of order"))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ours.ns()/lc.ns(), "ns-vs-langchaingo")
	b.ReportMetric(ours.ns()/eino.ns(), "ns-vs-eino")
	b.ReportMetric(ours.allocs()/lc.allocs(), "allocs-vs-langchaingo")
	b.ReportMetric(ours.allocs()/eino.allocs(), "allocs-vs-eino")
}
