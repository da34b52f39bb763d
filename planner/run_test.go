package planner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/autogpt-go/agent/planner"
)

// disk is a test file store behind a write_file tool.
type disk struct {
	mu    sync.Mutex
	files map[string]string
}

type writeArgs struct {
	Path    string `json:"path" jsonschema:"file path"`
	Content string `json:"content" jsonschema:"text to write"`
}

func (d *disk) tool() agent.Tool {
	return agent.NewTool("write_file", "Writes text to a file.", func(ctx context.Context, in writeArgs) (string, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.files == nil {
			d.files = map[string]string{}
		}
		d.files[in.Path] = in.Content
		return fmt.Sprintf("wrote %d bytes to %s", len(in.Content), in.Path), nil
	})
}

func (d *disk) get(path string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.files[path]
}

const goal = "Write hello into a.txt"

// runEvents runs goal to its end through Stream and returns the events and the last error.
func runEvents(t *testing.T, a *agent.Agent) ([]agent.Event, *agent.Result, error) {
	t.Helper()
	var events []agent.Event
	var res *agent.Result
	var err error
	for e, e2 := range a.Stream(context.Background(), goal) {
		events = append(events, e)
		if e.Result != nil {
			res = e.Result
		}
		if e2 != nil {
			err = e2
		}
	}
	return events, res, err
}

func thoughtEvents(events []agent.Event) []agent.Event {
	var out []agent.Event
	for _, e := range events {
		if e.Kind == agent.EventThought {
			out = append(out, e)
		}
	}
	return out
}

// assertAlternating checks that after the system prompt, user and assistant turns alternate (tool
// results count as part of the user side), and that no message is empty.
func assertAlternating(t *testing.T, reqs []llm.Request) {
	t.Helper()
	for r, req := range reqs {
		prev := llm.RoleSystem
		for i, m := range req.Messages[1:] {
			side := m.Role
			if side == llm.RoleTool {
				side = llm.RoleUser
			}
			assert.NotEqual(t, prev, side, "request %d message %d: two %s turns in a row", r, i+1, side)
			prev = side
			assert.True(t, m.Content != "" || len(m.ToolCalls) > 0, "request %d message %d is empty", r, i+1)
		}
	}
}

func autoGPTJSON(text, command, args string) string {
	return fmt.Sprintf(`{"thoughts": {"text": %q, "reasoning": "The goal says so.", "plan": "- write\n- finish", "criticism": "None.", "speak": %q}, `+
		`"command": {"name": %q, "args": %s}}`, text, text, command, args)
}

func TestAutoGPTRun(t *testing.T) {
	write := autoGPTJSON("I will write the file.", "write_file", `{"path": "a.txt", "content": "hello"}`)
	finish := autoGPTJSON("The file is written.", "finish", `{"reason": "a.txt now holds hello."}`)
	for _, tt := range []struct {
		name          string
		write, finish string
	}{
		{"plain JSON", write, finish},
		{"fenced and wrapped in prose", "Here is my next step:\n```json\n" + write + "\n```\nLet me know.",
			"Done!\n```\n" + finish + "\n```"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d disk
			model := llmtest.NewScript(llmtest.Text(tt.write), llmtest.Text(tt.finish))
			a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{d.tool()},
				Planner: &planner.AutoGPT{Name: "Scribe", Role: "a careful clerk", Goals: []string{"Do not touch other files"}}})
			require.NoError(t, err)
			events, res, err := runEvents(t, a)
			require.NoError(t, err)
			model.AssertComplete(t)

			require.NotNil(t, res)
			assert.True(t, res.Done)
			assert.Equal(t, "a.txt now holds hello.", res.Answer)
			assert.Equal(t, "hello", d.get("a.txt"))
			require.Len(t, res.Steps, 2)
			require.Len(t, res.Steps[0].ToolCalls, 1)
			assert.Equal(t, "autogpt_0", res.Steps[0].ToolCalls[0].Call.ID)
			assert.True(t, res.Steps[0].ToolCalls[0].Executed)

			th := thoughtEvents(events)
			require.Len(t, th, 2)
			require.NotNil(t, th[0].Thoughts)
			assert.Equal(t, "I will write the file.", th[0].Thoughts.Text)
			assert.Equal(t, "- write\n- finish", th[0].Thoughts.Plan)
			assert.Contains(t, th[0].Text, "Reasoning: The goal says so.")
			require.NotNil(t, th[1].Thoughts)
			assert.Equal(t, "The file is written.", th[1].Thoughts.Text)

			reqs := model.Requests()
			require.Len(t, reqs, 2)
			for _, req := range reqs {
				assert.Empty(t, req.Tools, "no native tools")
				sys := req.Messages[0]
				assert.Equal(t, llm.RoleSystem, sys.Role)
				for _, want := range []string{"You are Scribe, a careful clerk.", "1. " + goal, "2. Do not touch other files",
					"- write_file: Writes text to a file.", `"path"`, "- finish:", `"thoughts": {`, `"command": {`} {
					assert.Contains(t, sys.Content, want)
				}
			}
			second := reqs[1].Messages
			require.Len(t, second, 4)
			assert.Equal(t, llm.Message{Role: llm.RoleUser, Content: goal}, second[1])
			assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: tt.write}, second[2], "the raw reply, no tool calls")
			assert.Equal(t, llm.Message{Role: llm.RoleUser, Content: "Command write_file returned: wrote 5 bytes to a.txt"}, second[3])
			assertAlternating(t, reqs)
		})
	}
}

func TestAutoGPTRunNativeTools(t *testing.T) {
	var d disk
	thoughts := `{"thoughts": {"text": "Writing the file."}}`
	model := llmtest.NewScript(
		llmtest.TextAndCalls(thoughts, llmtest.Call("write_file", `{"path": "a.txt", "content": "hello"}`)),
		llmtest.TextAndCalls(`{"thoughts": {"text": "Done."}}`, llmtest.Call("finish", `{"reason": "a.txt holds hello."}`)),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{d.tool()}, Planner: planner.AutoGPT{NativeTools: true}})
	require.NoError(t, err)
	events, res, err := runEvents(t, a)
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "a.txt holds hello.", res.Answer)
	assert.Equal(t, "hello", d.get("a.txt"))
	th := thoughtEvents(events)
	require.Len(t, th, 2)
	assert.Equal(t, "Writing the file.", th[0].Thoughts.Text)

	reqs := model.Requests()
	require.Len(t, reqs, 2)
	for _, req := range reqs {
		require.Len(t, req.Tools, 2)
		assert.Equal(t, "write_file", req.Tools[0].Name)
		assert.Equal(t, "finish", req.Tools[1].Name)
	}
	second := reqs[1].Messages
	require.Len(t, second, 4)
	require.Len(t, second[2].ToolCalls, 1)
	assert.Equal(t, "call_1", second[2].ToolCalls[0].ID)
	assert.Equal(t, llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", Name: "write_file", Content: "wrote 5 bytes to a.txt"}, second[3])
	assertAlternating(t, reqs)
}

func TestReActRun(t *testing.T) {
	var d disk
	act := "Thought: I need to write the file.\nAction: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hello\"}"
	model := llmtest.NewScript(
		llmtest.Text(act+"\nObservation: it worked\nThought: done\nFinal Answer: made up"),
		llmtest.Text("Thought: The file is written.\nFinal Answer: a.txt now holds hello."),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{d.tool()}, Planner: &planner.ReAct{}})
	require.NoError(t, err)
	events, res, err := runEvents(t, a)
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "a.txt now holds hello.", res.Answer)
	assert.Equal(t, "hello", d.get("a.txt"))

	th := thoughtEvents(events)
	require.Len(t, th, 2)
	assert.Equal(t, "I need to write the file.", th[0].Text)
	require.NotNil(t, th[0].Thoughts)
	assert.Equal(t, "I need to write the file.", th[0].Thoughts.Text)
	assert.Equal(t, "The file is written.", th[1].Text)

	reqs := model.Requests()
	require.Len(t, reqs, 2)
	for _, req := range reqs {
		assert.Equal(t, []string{"Observation:"}, req.Stop)
		assert.Empty(t, req.Tools)
		assert.Contains(t, req.Messages[0].Content, "- write_file: Writes text to a file. Arguments (JSON Schema): {")
		assert.Contains(t, req.Messages[0].Content, "Action Input must be a JSON object")
	}
	second := reqs[1].Messages
	require.Len(t, second, 4)
	assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: act}, second[2], "the invented observation never reaches the history")
	assert.Equal(t, llm.Message{Role: llm.RoleUser, Content: "Observation: wrote 5 bytes to a.txt"}, second[3])
	assertAlternating(t, reqs)
}

func TestReActRunPlainTextInput(t *testing.T) {
	type searchArgs struct {
		Query string `json:"query"`
	}
	var got string
	search := agent.NewTool("search", "Searches.", func(ctx context.Context, in searchArgs) (string, error) {
		got = in.Query
		return "Go is a programming language.", nil
	})
	model := llmtest.NewScript(
		llmtest.Text("Action: `search`\nAction Input: what is Go"),
		llmtest.Text("Go is a programming language."),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{search}, Planner: planner.ReAct{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "What is Go?")
	require.NoError(t, err)
	assert.Equal(t, "what is Go", got)
	assert.Equal(t, "Go is a programming language.", res.Answer, "text without labels is the final answer")
}

func TestAutoGPTRunRecoversFromFormatErrors(t *testing.T) {
	var d disk
	model := llmtest.NewScript(
		llmtest.Text("I'll write the file now."),
		llmtest.Text(autoGPTJSON("Oops.", "write_file", `{"path": "a.txt", "content": "hello"}`)),
		llmtest.Text(autoGPTJSON("Done.", "finish", `{"reason": "ok"}`)),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{d.tool()}, Planner: &planner.AutoGPT{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), goal)
	require.NoError(t, err)
	assert.Equal(t, "ok", res.Answer)
	assert.Equal(t, "hello", d.get("a.txt"))
	reqs := model.Requests()
	second := reqs[1].Messages
	require.Len(t, second, 4)
	assert.Equal(t, llm.RoleUser, second[3].Role)
	assert.Contains(t, second[3].Content, "it holds no JSON object")
	assert.JSONEq(t, `{"format_failures":0}`, string(res.State.PlannerState))
	assertAlternating(t, reqs)
}

func TestFormatFailuresSurviveSaveAndResume(t *testing.T) {
	p := &planner.AutoGPT{MaxFormatRetries: 1}
	a, err := agent.New(agent.Config{Model: llmtest.NewScript(llmtest.Text("not json")), Planner: p})
	require.NoError(t, err)
	st := a.Start(goal)
	done, err := a.Step(context.Background(), st, nil)
	require.NoError(t, err)
	require.False(t, done)
	saved, err := json.Marshal(st)
	require.NoError(t, err)

	var restored agent.RunState
	require.NoError(t, json.Unmarshal(saved, &restored))
	assert.JSONEq(t, `{"format_failures":1}`, string(restored.PlannerState))
	a2, err := agent.New(agent.Config{Model: llmtest.NewScript(llmtest.Text("still not json")), Planner: p})
	require.NoError(t, err)
	_, err = a2.Step(context.Background(), &restored, nil)
	var fe *planner.FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 2, fe.Failures)
	assert.Equal(t, "still not json", fe.Raw)
}

func TestAutoGPTRunLoopDetection(t *testing.T) {
	var d disk
	same := llmtest.Text(autoGPTJSON("Again.", "write_file", `{"path": "a.txt", "content": "hello"}`))
	model := llmtest.NewScript(same, same, same)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{d.tool()}, Planner: &planner.AutoGPT{}, LoopWarnAfter: 2, LoopStopAfter: 3})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), goal)
	require.ErrorIs(t, err, agent.ErrLoopDetected)
	require.NotNil(t, res)
	assert.Len(t, res.Steps, 3)
}

func TestPlannersOnLastStep(t *testing.T) {
	for _, tt := range []struct {
		name   string
		p      agent.Planner
		reply  string
		answer string // "" when the run must end with ErrMaxSteps
	}{
		{"autogpt command", &planner.AutoGPT{}, autoGPTJSON("Best guess: hello.", "write_file", `{"path": "a.txt", "content": "hello"}`), ""},
		{"autogpt finish", &planner.AutoGPT{}, autoGPTJSON("Done.", "finish", `{"reason": "Best guess: hello."}`), "Best guess: hello."},
		{"react action", &planner.ReAct{}, "Thought: Best guess: hello.\nAction: write_file\nAction Input: {}", ""},
		{"react final answer", &planner.ReAct{}, "Thought: I know.\nFinal Answer: Best guess: hello.", "Best guess: hello."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d disk
			model := llmtest.NewScript(llmtest.Text(tt.reply))
			a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{d.tool()}, Planner: tt.p, MaxSteps: 1})
			require.NoError(t, err)
			res, err := a.Run(context.Background(), goal)
			if tt.answer == "" {
				require.ErrorIs(t, err, agent.ErrMaxSteps, "a model that never finishes does not end successfully")
				var fe *planner.FormatError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.reply, fe.Raw)
				assert.False(t, res.Done)
				assert.Empty(t, res.Answer)
			} else {
				require.NoError(t, err)
				assert.True(t, res.Done)
				assert.Equal(t, tt.answer, res.Answer)
			}
			assert.Empty(t, d.get("a.txt"), "no tool runs on the last step")
			last := model.Requests()[0].Messages
			assert.True(t, strings.HasPrefix(last[len(last)-1].Content, agent.FinalStepPrompt))
		})
	}
}
