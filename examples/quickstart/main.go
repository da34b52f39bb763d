// Command quickstart runs an agent on a goal with file tools jailed in a workspace directory and a
// calculator, on the model that the environment names, and prints each tool call, its result and
// the final answer.
//
//	quickstart [-workspace DIR] [-max-steps N] ["goal"]
//
// The model comes from llm/langchaingo.FromEnv: OPENAI_API_KEY (+ OPENAI_BASE_URL, OPENAI_MODEL),
// ANTHROPIC_API_KEY (+ ANTHROPIC_MODEL, ANTHROPIC_BASE_URL), OPENAI_BASE_URL alone for a local
// OpenAI-compatible server (set OPENAI_MODEL too), or OLLAMA_HOST (+ OLLAMA_MODEL). The run streams
// (the server must accept "stream": true). -workspace is created if missing; without it a new
// temporary directory is made and its path printed. Without a goal it asks for 15 × 4 to be
// computed and written to answer.txt. -max-steps defaults to 20.
//
// With no provider configured it says so on stderr and replays a real gpt-4o session that
// langchaingo recorded and ships in its module (agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR
// .httprr: "What is 15 multiplied by 4?"), through langchaingo's real OpenAI client; the recorded
// calculator call runs for real, with langchaingo's own calculator through our bridge, as in the
// recording. Nothing touches the network in that mode.
//
// Exit codes: 0 the goal was reached, 1 the run stopped early or could not start, 2 bad flags,
// 130 interrupted by Ctrl-C (a second Ctrl-C kills the program at once).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/approval"
	"github.com/autogpt-go/agent/internal/termsafe"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/autogpt-go/agent/tools/calc"
	"github.com/autogpt-go/agent/tools/lctools"
	"github.com/autogpt-go/agent/tools/workspace"
	lcgotools "github.com/tmc/langchaingo/tools"
)

// The recorded session replayed when no provider is configured.
const (
	recording      = "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr"
	recordedGoal   = "What is 15 multiplied by 4?"
	recordedSystem = "You are a helpful assistant that can perform calculations."
	recordedModel  = "gpt-4o"
)

// defaultGoal is used with a real provider when no goal is given.
const defaultGoal = "Compute 15 multiplied by 4 with the calculator, write the result to answer.txt, and tell me what you wrote."

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1   // the run stopped early or could not start
	exitUsage       = 2   // bad flags
	exitInterrupted = 130 // Ctrl-C (128 + SIGINT), as shells report it
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// After the first Ctrl-C stops the run, a second one kills the program at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // read before stop(), which cancels ctx too
	stop()
	if interrupted && code != exitOK {
		code = exitInterrupted
	}
	os.Exit(code)
}

// run is the whole program, with its environment passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("workspace", "", "directory the file tools are jailed in (default: a new temporary directory)")
	maxSteps := fs.Int("max-steps", agent.DefaultMaxSteps, "maximum number of steps")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: quickstart [-workspace DIR] [-max-steps N] "goal"`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	goal := strings.TrimSpace(strings.Join(fs.Args(), " "))

	model, err := langchaingo.FromEnvWith(getenv)
	if errors.Is(err, langchaingo.ErrNoProvider) {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		fmt.Fprintf(stderr, "quickstart: replaying the real gpt-4o session langchaingo recorded in %s instead\n", recording)
		if goal != "" && goal != recordedGoal {
			fmt.Fprintf(stderr, "quickstart: the recording answers %q, not your goal\n", recordedGoal)
		}
		return replay(ctx, *maxSteps, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	if goal == "" {
		goal = defaultGoal
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "quickstart-"); err != nil {
			fmt.Fprintf(stderr, "quickstart: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "workspace: %s\n", *dir)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	ws, err := workspace.New(*dir, workspace.Config{})
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	defer ws.Close()
	tools := append(ws.Tools(), calc.New(calc.Limits{}))
	a, err := agent.New(agent.Config{Model: model, Tools: tools, MaxSteps: *maxSteps})
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "model: %s (%s)\ngoal: %s\n", model.ModelName(), model.Provider(), goal)
	return stream(ctx, a, goal, stdout, stderr)
}

// replay runs the recorded session through langchaingo's OpenAI client and a replaying transport.
func replay(ctx context.Context, maxSteps int, stdout, stderr io.Writer) int {
	dir, err := llmtest.LangchaingoDir()
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: cannot find the langchaingo module with its recordings: %v\n", err)
		return exitFailed
	}
	rp, err := llmtest.OpenReplay(dir + "/" + recording)
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	model, err := langchaingo.OpenAI(recordedModel, "test-api-key", langchaingo.WithHTTPClient(rp.Client()))
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	zero := 0.0
	a, err := agent.New(agent.Config{
		// The recording was made without streaming: ask in the same way.
		Model: llm.NonStreaming(model),
		// langchaingo's calculator (unbounded Starlark), as in the recording: replay only.
		Tools:        []agent.Tool{lctools.FromLangchaingo(lcgotools.Calculator{})},
		SystemPrompt: recordedSystem,
		Temperature:  &zero,
		MaxSteps:     maxSteps,
	})
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "model: %s (replayed)\ngoal: %s\n", recordedModel, recordedGoal)
	code := stream(ctx, a, recordedGoal, stdout, stderr)
	if err := rp.Err(); err != nil && code == exitOK {
		fmt.Fprintf(stderr, "quickstart: replay: %v\n", err)
		return exitFailed
	}
	return code
}

// stream runs the agent and prints its tool calls, results and final answer. Everything the model
// or a tool wrote is stripped of terminal escapes before printing.
func stream(ctx context.Context, a *agent.Agent, goal string, stdout, stderr io.Writer) int {
	for ev, err := range a.Stream(ctx, goal) {
		if err != nil {
			fmt.Fprintf(stderr, "quickstart: run stopped: %v\n", termsafe.Strip(err.Error()))
			if ev.Result != nil {
				printUsage(stdout, ev.Result.Usage, len(ev.Result.Steps))
			}
			return exitFailed
		}
		switch ev.Kind {
		case agent.EventToolCall:
			fmt.Fprintf(stdout, "[step %d] tool call %s %s\n", ev.Step+1, approval.Shorten(termsafe.Strip(ev.ToolCall.Name), 64), approval.Shorten(termsafe.Strip(ev.ToolCall.Arguments), 500))
		case agent.EventToolResult:
			status := "result"
			if ev.ToolResult.IsError {
				status = "error"
			}
			fmt.Fprintf(stdout, "[step %d] %s %s: %s\n", ev.Step+1, approval.Shorten(termsafe.Strip(ev.ToolCall.Name), 64), status, approval.Shorten(termsafe.Strip(ev.ToolResult.Content), 500))
		case agent.EventFinal:
			fmt.Fprintf(stdout, "answer: %s\n", termsafe.Strip(ev.Text))
			printUsage(stdout, ev.Result.Usage, len(ev.Result.Steps))
		}
	}
	return exitOK
}

func printUsage(w io.Writer, u llm.Usage, steps int) {
	fmt.Fprintf(w, "steps: %d, input tokens: %d, output tokens: %d\n", steps, u.InputTokens, u.OutputTokens)
}
