// Package agent is an AutoGPT-style agent SDK: a Go program gives an agent a goal in natural
// language; the agent plans, calls tools, observes their results, remembers, and stops with an
// answer, inside limits the program sets.
//
// # The loop
//
// A run is a sequence of steps. Each step the Planner reads the run (the goal, the history, the
// tools) and decides, usually with one model call, either tool calls to make or the final answer.
// The tool calls run (concurrently, bounded by Config.MaxParallelTools, each under
// Config.ToolTimeout), and every call's result enters the history before the next model call, in
// call order, also when a call fails, names an unknown tool, sends invalid arguments, panics or is
// cancelled: a failed call goes back to the model as an error result it can correct and never ends
// the run. The run ends with the final answer, or early with a partial Result and an error:
// ErrMaxSteps (Config.MaxSteps, default 20), ctx's error, or the model's error.
//
// Host programs call Agent.Run (or Agent.Stream for events as they happen), or own the loop: Start
// makes a RunState, Step advances it one plan → act → observe cycle, and the RunState serialises to
// JSON so a run can be saved and resumed with Resume.
//
// # Observing a run
//
// Events (Stream, or Step's emit function) carry text and tool-call deltas as a streaming model
// sends them, each model response, thoughts, tool calls and results, each with its step index and
// tool-call id. Config.Logger receives structured, redacted log records; Config.Tracer receives
// run, step, model-call and tool-call spans (package otel implements it with OpenTelemetry and the
// GenAI semantic conventions, so the core depends on no tracing library).
//
// # The four interfaces
//
//   - llm.Model (package llm): a chat model. llm/langchaingo adapts any langchaingo model (OpenAI and
//     every OpenAI-compatible server, Anthropic, ...); llm/llmtest has test doubles.
//   - Tool: a function the model can call, with a JSON Schema for its arguments. NewTool builds one
//     from a typed Go function, inferring the schema and validating the arguments.
//   - Memory: a run's history store; BufferMemory is the default.
//   - Planner: decides each step; ToolCallingPlanner, the default, uses native tool calling.
//
// # Example
//
//	type AddArgs struct {
//		A int `json:"a"`
//		B int `json:"b"`
//	}
//	add := agent.NewTool("add", "Adds two integers.",
//		func(ctx context.Context, in AddArgs) (int, error) { return in.A + in.B, nil })
//	model, err := langchaingo.FromEnv() // OPENAI_API_KEY, ANTHROPIC_API_KEY or OLLAMA_HOST
//	if err != nil {
//		log.Fatal(err)
//	}
//	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{add}})
//	if err != nil {
//		log.Fatal(err)
//	}
//	res, err := a.Run(ctx, "What is 2 + 40?")
//	fmt.Println(res.Answer, err)
//
// In tests, use a double from llm/llmtest in place of the real model (Script, Func, Auto, Replay
// of recorded traffic): see README.md's "Testing your agent" guide and the package's examples.
package agent
