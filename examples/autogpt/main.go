// Command autogpt is the AutoGPT experience on this SDK: an agent with a name, a role and goals
// works in a workspace directory, printing each turn's thoughts, reasoning, plan and criticism and
// the command it wants to run, and asks before running it unless -continuous is given.
//
//	autogpt -workspace DIR [-name N] [-role R] -goal G [-goal G2 ...]
//	        [-planner autogpt|react|tools|plan] [-continuous] [-max-steps N] [-budget-usd X]
//	        [-max-output-tokens N] [-allow-shell CMD,...] [-allow-web] [-mcp "command args" ...]
//
// The model comes from llm/langchaingo.FromEnv (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENAI_BASE_URL,
// OLLAMA_HOST; see the README). The tools are the workspace file tools (jailed in -workspace,
// created if missing) and a calculator; -allow-shell adds run_command for the programs named (run
// without a shell, in the workspace, with an empty environment: an allowlist is convenience, not a
// sandbox), -allow-web adds fetch (public addresses only, checked at connection time) and
// web_search, and each -mcp adds the tools of an MCP server started over stdio.
//
// Planners: autogpt (the default: thoughts plus one command as JSON), react (Thought / Action /
// Observation text), tools (the provider's native tool calling), plan (a task list, each task
// executed with tool calling).
//
// Without -continuous it asks before each command, reading the answer from standard input (so it
// can be scripted): "y" runs it, "y -N" runs it and the next N-1 commands without asking, "n" (or
// the end of input) stops the run, an empty line declines the command, and any other text is sent
// to the model as feedback instead of running the command. The arguments are shown one per line,
// each shortened on its own, so a long value cannot hide another.
// Everything the model wrote is stripped of terminal escapes before it is printed.
//
// Exit codes: 0 goal reached, 1 the run stopped early (step limit, budget, loop, "n", error),
// 2 bad flags, 130 Ctrl-C.
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
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/autogpt-go/agent/planner"
	"github.com/autogpt-go/agent/tools/calc"
	"github.com/autogpt-go/agent/tools/mcp"
	"github.com/autogpt-go/agent/tools/shell"
	"github.com/autogpt-go/agent/tools/web"
	"github.com/autogpt-go/agent/tools/workspace"
)

const (
	exitOK          = 0
	exitStopped     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	context.AfterFunc(ctx, stop) // a second Ctrl-C kills at once
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // read before stop(), which cancels ctx too
	stop()
	os.Exit(exitCode(code, interrupted))
}

// exitCode maps a failed run interrupted by Ctrl-C to exitInterrupted.
func exitCode(code int, interrupted bool) int {
	if interrupted && code != exitOK {
		return exitInterrupted
	}
	return code
}

type goals []string

func (g *goals) String() string     { return strings.Join(*g, "; ") }
func (g *goals) Set(v string) error { *g = append(*g, v); return nil }

// run is the whole program, with its environment passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("autogpt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("workspace", "", "directory the file tools are jailed in (required; created if missing)")
	name := fs.String("name", "AutoGPT-Go", "the agent's name")
	role := fs.String("role", "an autonomous assistant that completes its goals with the commands it has", "the agent's role")
	var gs goals
	fs.Var(&gs, "goal", "a goal (repeat for several; at least one)")
	plannerName := fs.String("planner", "autogpt", "autogpt, react, tools or plan")
	continuous := fs.Bool("continuous", false, "run commands without asking")
	maxSteps := fs.Int("max-steps", agent.DefaultMaxSteps, "maximum number of steps")
	maxOutput := fs.Int("max-output-tokens", 4096, "most tokens one model answer may take (also what a budget reserves per call)")
	budget := fs.Float64("budget-usd", 0, "stop before a model call could take the run's cost past this many USD (0: no budget)")
	allowShell := fs.String("allow-shell", "", "comma-separated programs the run_command tool may run (off when empty; an allowlist is not a sandbox)")
	allowWeb := fs.Bool("allow-web", false, "offer fetch (public addresses only) and web_search")
	var mcpServers goals
	fs.Var(&mcpServers, "mcp", `an MCP server to take tools from, as "command args" (repeatable; started over stdio)`)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *dir == "" || len(gs) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "autogpt: -workspace and at least one -goal are required (no positional arguments)")
		fs.Usage()
		return exitUsage
	}
	var pl agent.Planner
	switch *plannerName {
	case "autogpt":
		pl = &planner.AutoGPT{Name: *name, Role: *role, Goals: gs[1:]}
	case "react":
		pl = &planner.ReAct{}
	case "tools":
		pl = agent.ToolCallingPlanner{}
	case "plan":
		pl = &planner.PlanExecute{}
	default:
		fmt.Fprintf(stderr, "autogpt: unknown -planner %q (autogpt, react, tools or plan)\n", *plannerName)
		return exitUsage
	}
	goal := gs[0]
	if len(gs) > 1 && *plannerName != "autogpt" {
		var b strings.Builder
		for i, g := range gs {
			fmt.Fprintf(&b, "%d. %s\n", i+1, g)
		}
		goal = fmt.Sprintf("You are %s, %s. Reach these goals:\n%s", *name, *role, b.String())
	}

	model, err := langchaingo.FromEnvWith(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "autogpt: %v\n", err)
		return exitStopped
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "autogpt: %v\n", err)
		return exitStopped
	}
	ws, err := workspace.New(*dir, workspace.Config{})
	if err != nil {
		fmt.Fprintf(stderr, "autogpt: %v\n", err)
		return exitStopped
	}
	defer ws.Close()

	tools := append(ws.Tools(), calc.New(calc.Limits{}))
	if *allowShell != "" {
		sh, err := shell.New(shell.Config{Allow: strings.Split(*allowShell, ","), Dir: *dir})
		if err != nil {
			fmt.Fprintf(stderr, "autogpt: -allow-shell: %v\n", err)
			return exitUsage
		}
		tools = append(tools, sh)
	}
	if *allowWeb {
		tools = append(tools, web.NewFetch(web.Config{}), web.NewSearch(web.SearchConfig{}))
	}
	for i, spec := range mcpServers {
		argv, err := shell.SplitCommand(spec)
		if err != nil || len(argv) == 0 {
			fmt.Fprintf(stderr, "autogpt: -mcp %q: not a simple command (%v)\n", spec, err)
			return exitUsage
		}
		c, err := mcp.Connect(ctx, mcp.Config{Command: argv[0], Args: argv[1:], Prefix: fmt.Sprintf("mcp%d_", i+1)})
		if err != nil {
			fmt.Fprintf(stderr, "autogpt: -mcp %q: %v\n", spec, err)
			return exitStopped
		}
		defer c.Close()
		tools = append(tools, c.Tools()...)
	}
	cfg := agent.Config{
		Model:           model,
		Tools:           tools,
		Planner:         pl,
		MaxSteps:        *maxSteps,
		MaxCostUSD:      *budget,
		MaxOutputTokens: *maxOutput,
	}
	switch *plannerName {
	case "tools":
		cfg.SystemPrompt = fmt.Sprintf("You are %s, %s. %s", *name, *role, agent.DefaultSystemPrompt)
	case "react", "plan":
		cfg.SystemPrompt = fmt.Sprintf("You are %s, %s.", *name, *role) // the planner brings its protocol
	}
	if !*continuous {
		cfg.Hooks.BeforeToolCall = approval.NewTerminal(ctx, stdin, stdout).Hook
	}
	a, err := agent.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "autogpt: %v\n", err)
		return exitStopped
	}
	fmt.Fprintf(stdout, "%s (%s) on %s, planner %s\n", clean(*name), clean(*role), model.ModelName(), *plannerName)
	for i, g := range gs {
		fmt.Fprintf(stdout, "Goal %d: %s\n", i+1, clean(g))
	}
	return stream(ctx, a, goal, *continuous, stdout, stderr)
}

// stream runs the agent and prints its turns.
func stream(ctx context.Context, a *agent.Agent, goal string, continuous bool, stdout, stderr io.Writer) int {
	for ev, err := range a.Stream(ctx, goal) {
		if err != nil {
			if errors.Is(err, approval.ErrStopped) {
				fmt.Fprintln(stdout, "Stopped by the user.")
			} else {
				fmt.Fprintf(stderr, "autogpt: run stopped: %s\n", clean(err.Error()))
			}
			if ev.Result != nil {
				printUsage(stdout, ev.Result)
			}
			return exitStopped
		}
		switch ev.Kind {
		case agent.EventThought:
			if t := ev.Thoughts; t != nil {
				printPart(stdout, "THOUGHTS", t.Text)
				printPart(stdout, "REASONING", t.Reasoning)
				printPart(stdout, "PLAN", t.Plan)
				printPart(stdout, "CRITICISM", t.Criticism)
				printPart(stdout, "SPEAK", t.Speak)
			} else {
				printPart(stdout, "THOUGHTS", ev.Text)
			}
		case agent.EventToolCall:
			if continuous {
				fmt.Fprintf(stdout, "COMMAND = %s\n%s", clean(ev.ToolCall.Name), approval.FormatArguments(ev.ToolCall.Arguments))
			}
		case agent.EventToolResult:
			label := "RESULT"
			if ev.ToolResult.IsError {
				label = "ERROR"
			}
			fmt.Fprintf(stdout, "%s (%s): %s\n", label, clean(ev.ToolCall.Name), approval.Shorten(clean(ev.ToolResult.Content), 800))
		case agent.EventFinal:
			fmt.Fprintf(stdout, "FINISHED: %s\n", clean(ev.Text))
			printUsage(stdout, ev.Result)
		}
	}
	return exitOK
}

func printPart(w io.Writer, label, text string) {
	if text = strings.TrimSpace(text); text != "" {
		fmt.Fprintf(w, "%s: %s\n", label, clean(text))
	}
}

func printUsage(w io.Writer, r *agent.Result) {
	fmt.Fprintf(w, "steps: %d, input tokens: %d, output tokens: %d", len(r.Steps), r.Usage.InputTokens, r.Usage.OutputTokens)
	if r.CostUSD > 0 {
		fmt.Fprintf(w, ", cost: $%.4f", r.CostUSD)
	}
	fmt.Fprintln(w)
}

func clean(s string) string { return termsafe.Strip(s) }
