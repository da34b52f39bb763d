package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"go.uber.org/goleak"
)

// helperEnv, when set to "1", makes the test binary an MCP stdio server of testTools instead of
// running the tests: the stdio tests start os.Args[0] with it.
const helperEnv = "AUTOGPT_MCP_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(runHelperServer())
	}
	// No goroutine may outlive the tests: every client, server session, HTTP server and child
	// process is closed and waited for. Nothing needs to be ignored.
	goleak.VerifyTestMain(m)
}

// helperVars is the environment that makes the test binary the helper server. GORACE drops the
// race detector's one-second sleep at exit, which would slow every Close under -race.
func helperVars() []string {
	return []string{helperEnv + "=1", "GORACE=atexit_sleep_ms=0"}
}

// runHelperServer serves testTools over stdio until the client closes standard input.
func runHelperServer() int {
	if os.Getenv("HELPER_HANG") != "" { // a server that never answers (SIGTERM ends it)
		time.Sleep(time.Minute)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	srv, err := NewServer(ServerConfig{Tools: testTools(nil), Name: "helper"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if env := os.Getenv("HELPER_FAIL"); env != "" {
		fmt.Fprintln(os.Stderr, "helper failing on purpose: "+env)
		return 3
	}
	if err := srv.ServeStdio(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	if os.Getenv("HELPER_LINGER") != "" { // a server that outlives its session (SIGTERM ends it)
		stop()
		time.Sleep(time.Minute)
		return 2
	}
	return 0
}

// orderedSchema lists its keys in an order that sorting would change, at every level.
const orderedSchema = `{"type":"object","properties":{"zeta":{"type":"string","description":"last letter"},` +
	`"alpha":{"type":"integer","minimum":1}},"required":["zeta"],"additionalProperties":false}`

// rawTool is an agent.Tool with a hand-written schema.
type rawTool struct {
	name, desc string
	schema     json.RawMessage
	call       func(ctx context.Context, args json.RawMessage) (agent.ToolResult, error)
}

func (t *rawTool) Name() string            { return t.name }
func (t *rawTool) Description() string     { return t.desc }
func (t *rawTool) Schema() json.RawMessage { return t.schema }
func (t *rawTool) Call(ctx context.Context, args json.RawMessage) (agent.ToolResult, error) {
	return t.call(ctx, args)
}

// blockProbe lets a test see a blocking tool start and observe its ctx ending.
type blockProbe struct {
	started   chan struct{}
	cancelled chan error
}

func newBlockProbe() *blockProbe {
	return &blockProbe{started: make(chan struct{}, 1), cancelled: make(chan error, 1)}
}

type echoArgs struct {
	Text string `json:"text" jsonschema:"the text to echo"`
}

// testTools are the tools of the in-process and helper servers. probe may be nil.
func testTools(probe *blockProbe) []agent.Tool {
	return []agent.Tool{
		agent.NewTool("echo", "Echo the text back.", func(_ context.Context, in echoArgs) (string, error) {
			return "echo: " + in.Text, nil
		}),
		&rawTool{name: "ordered", desc: "Takes zeta and alpha.", schema: json.RawMessage(orderedSchema),
			call: func(_ context.Context, args json.RawMessage) (agent.ToolResult, error) {
				return agent.ToolResult{Content: "got " + string(args)}, nil
			}},
		&rawTool{name: "fail", desc: "Always returns an error.",
			call: func(context.Context, json.RawMessage) (agent.ToolResult, error) {
				return agent.ToolResult{}, errors.New("boom")
			}},
		&rawTool{name: "soft_fail", desc: "Returns an error result.",
			call: func(context.Context, json.RawMessage) (agent.ToolResult, error) {
				return agent.ToolResult{Content: "bad input, try again", IsError: true}, nil
			}},
		&rawTool{name: "panic", desc: "Panics.",
			call: func(context.Context, json.RawMessage) (agent.ToolResult, error) {
				panic("kaboom")
			}},
		&rawTool{name: "block", desc: "Blocks until cancelled.",
			call: func(ctx context.Context, _ json.RawMessage) (agent.ToolResult, error) {
				if probe != nil {
					probe.started <- struct{}{}
				}
				<-ctx.Done()
				if probe != nil {
					probe.cancelled <- ctx.Err()
				}
				return agent.ToolResult{}, ctx.Err()
			}},
		&rawTool{name: "pid", desc: "Returns the process id.",
			call: func(context.Context, json.RawMessage) (agent.ToolResult, error) {
				return agent.ToolResult{Content: strconv.Itoa(os.Getpid())}, nil
			}},
		&rawTool{name: "env", desc: "Returns the process environment.",
			call: func(context.Context, json.RawMessage) (agent.ToolResult, error) {
				return agent.ToolResult{Content: strings.Join(os.Environ(), "\n")}, nil
			}},
	}
}
