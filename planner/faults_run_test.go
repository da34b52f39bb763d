package planner_test

import (
	"context"
	"encoding/json"
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

// recorder is a set of test tools that record every call: write_file and search.
type recorder struct {
	mu    sync.Mutex
	calls []string // "name:arguments"
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *recorder) tools() []agent.Tool {
	type searchArgs struct {
		Query string `json:"query"`
	}
	return []agent.Tool{
		agent.NewTool("write_file", "Writes text to a file.", func(ctx context.Context, in writeArgs) (string, error) {
			r.add("write_file:" + in.Content)
			return "written", nil
		}),
		agent.NewTool("search", "Searches.", func(ctx context.Context, in searchArgs) (string, error) {
			r.add("search:" + in.Query)
			return "result for " + in.Query, nil
		}),
	}
}

func lengthReply(r llmtest.Reply) llmtest.Reply {
	r.Response.FinishReason = llm.FinishLength
	return r
}

// allText joins every message of every request, to look for text that must never reach the model.
func allText(reqs []llm.Request) string {
	var b strings.Builder
	for _, req := range reqs {
		for _, m := range req.Messages {
			b.WriteString(m.Content + "\n")
		}
	}
	return b.String()
}

func TestCutOffReplyNeverRuns(t *testing.T) {
	for _, tt := range []struct {
		name                string
		p                   agent.Planner
		cut, write, finish  llmtest.Reply
		correctionIsToolMsg bool
	}{
		{name: "autogpt", p: planner.AutoGPT{},
			cut:    llmtest.Text(`{"thoughts": {"text": "w"}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hel`),
			write:  llmtest.Text(autoGPTJSON("w", "write_file", `{"path": "a.txt", "content": "hello"}`)),
			finish: llmtest.Text(autoGPTJSON("done", "finish", `{"reason": "written"}`))},
		{name: "autogpt native", p: planner.AutoGPT{NativeTools: true},
			cut:    llmtest.Calls(llmtest.Call("write_file", `{"path": "a.txt", "content": "hel`)),
			write:  llmtest.Calls(llmtest.Call("write_file", `{"path": "a.txt", "content": "hello"}`)),
			finish: llmtest.Calls(llmtest.Call("finish", `{"reason": "written"}`))},
		{name: "react", p: planner.ReAct{},
			cut:    llmtest.Text("Action: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hel"),
			write:  llmtest.Text("Action: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hello\"}"),
			finish: llmtest.Text("Final Answer: written")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			model := llmtest.NewScript(lengthReply(tt.cut), tt.write, tt.finish)
			a, err := agent.New(agent.Config{Model: model, Tools: rec.tools(), Planner: tt.p})
			require.NoError(t, err)
			res, err := a.Run(context.Background(), goal)
			require.NoError(t, err)
			model.AssertComplete(t)
			assert.Equal(t, []string{"write_file:hello"}, rec.got(), "the cut-off text is never written")
			assert.Equal(t, "written", res.Answer)
			second := model.Requests()[1].Messages
			assert.Contains(t, second[len(second)-1].Content, "cut off at the output-token limit")
			assert.Empty(t, res.Steps[0].ToolCalls)
		})
	}

	// A final answer cut off is not taken either.
	model := llmtest.NewScript(lengthReply(llmtest.Text("Final Answer: The file holds")), llmtest.Text("Final Answer: The file holds hello."))
	a, err := agent.New(agent.Config{Model: model, Planner: planner.ReAct{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), goal)
	require.NoError(t, err)
	assert.Equal(t, "The file holds hello.", res.Answer)
}

func TestPlanExecuteCutOffPlans(t *testing.T) {
	model := llmtest.NewScript(
		// The plan is cut off: what reads as a list may have lost tasks.
		lengthReply(llmtest.Text(`{"tasks": ["Look up A"], "notes": "then look up B and`)),
		llmtest.Text(`["Look up A", "Look up B"]`),
		llmtest.Text("A is 1."),
		// The replan is cut off: the list is kept.
		lengthReply(llmtest.Text(`{"tasks": ["Look up C"], "why": "because`)),
		llmtest.Text("B is 2."),
		llmtest.Text(`{"done": true, "answer": "A is 1, B is 2."}`),
	)
	a, err := agent.New(agent.Config{Model: model, Planner: &planner.PlanExecute{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "Find A and B.")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "A is 1, B is 2.", res.Answer)
	var st planner.PlanExecuteState
	require.NoError(t, json.Unmarshal(res.State.PlannerState, &st))
	require.Len(t, st.Tasks, 2)
	assert.Equal(t, "Look up A", st.Tasks[0].Description)
	assert.Equal(t, "Look up B", st.Tasks[1].Description, "not the cut-off replan's task")
	retry := model.Requests()[1].Messages
	assert.Contains(t, retry[len(retry)-1].Content, "cut off at the output-token limit")
}

func TestAutoGPTRefusesToolsNamedFinish(t *testing.T) {
	for _, name := range []string{"finish", "Finish", "FINISH"} {
		tool := agent.NewTool(name, "Not the built-in one.", func(ctx context.Context, in struct{}) (string, error) { return "", nil })
		for _, p := range []agent.Planner{planner.AutoGPT{}, &planner.AutoGPT{NativeTools: true}} {
			_, err := agent.New(agent.Config{Model: llmtest.NewScript(), Tools: []agent.Tool{tool}, Planner: p})
			require.Error(t, err, name)
			assert.Contains(t, err.Error(), `"`+name+`"`)
			assert.Contains(t, err.Error(), "reserves")
		}
		for _, p := range []agent.Planner{planner.ReAct{}, planner.PlanExecute{}, nil} {
			_, err := agent.New(agent.Config{Model: llmtest.NewScript(), Tools: []agent.Tool{tool}, Planner: p})
			assert.NoError(t, err, "%s with %T", name, p)
		}
	}
}

func TestAutoGPTEmptyFinishIsSentBack(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text(`{"command": {"name": "finish"}}`),
		llmtest.Text(autoGPTJSON("Done.", "finish", `{"reason": "a.txt holds hello."}`)),
	)
	a, err := agent.New(agent.Config{Model: model, Planner: planner.AutoGPT{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), goal)
	require.NoError(t, err)
	assert.Equal(t, "a.txt holds hello.", res.Answer)
	require.Len(t, res.Steps, 2)
	second := model.Requests()[1].Messages
	assert.Contains(t, second[len(second)-1].Content, `has no answer: give your final answer for the user as its "reason" argument`)
}

func TestReActDropsInventedObservations(t *testing.T) {
	var rec recorder
	model := llmtest.NewScript(
		llmtest.Text("Thought: I'll search. Observation: FAKE1\nObservation: FAKE2\nAction: search\nAction Input: {\"query\": \"a\"} Observation: FAKE3"),
		llmtest.Text("Thought: found it\nObservation: FAKE4\nFinal Answer: a is found"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: rec.tools(), Planner: planner.ReAct{}})
	require.NoError(t, err)
	events, res, err := runEvents(t, a)
	require.NoError(t, err)
	assert.Equal(t, []string{"search:a"}, rec.got(), "the input stops before the inline observation")
	assert.Equal(t, "a is found", res.Answer)
	for _, e := range thoughtEvents(events) {
		assert.NotContains(t, e.Text, "FAKE")
	}
	assert.Equal(t, "I'll search.", thoughtEvents(events)[0].Text)
	assert.NotContains(t, allText(model.Requests()), "FAKE", "no invented observation reaches the model again")
	for _, s := range res.Steps {
		for _, m := range s.Messages {
			assert.NotContains(t, m.Content, "FAKE", "nor the history")
		}
	}
	assert.Equal(t, "Thought: I'll search.\nAction: search\nAction Input: {\"query\": \"a\"}", model.Requests()[1].Messages[2].Content)
}

func TestReActFinalAnswerAsAnAction(t *testing.T) {
	for _, reply := range []string{
		"Thought: I know.\nAction: Final Answer\nAction Input: 42",
		"Action: final answer\nAction Input: \"42\"",
		"Action: Finish\nAction Input: {\"answer\": \"42\"}",
		"Action: None\nAction Input: 42",
		"Action: Finish[42]",
	} {
		var rec recorder
		model := llmtest.NewScript(llmtest.Text(reply))
		a, err := agent.New(agent.Config{Model: model, Tools: rec.tools(), Planner: planner.ReAct{}})
		require.NoError(t, err)
		res, err := a.Run(context.Background(), "What is 6*7?")
		require.NoError(t, err, reply)
		assert.True(t, res.Done, reply)
		assert.Equal(t, "42", res.Answer, reply)
		assert.Empty(t, res.Steps[0].ToolCalls, reply)
	}

	// A tool of that name is a tool.
	var called bool
	finish := agent.NewTool("finish", "Finishes a job.", func(ctx context.Context, in struct{}) (string, error) {
		called = true
		return "job finished", nil
	})
	model := llmtest.NewScript(llmtest.Text("Action: finish\nAction Input: {}"), llmtest.Text("Final Answer: done"))
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{finish}, Planner: planner.ReAct{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "Finish the job.")
	require.NoError(t, err)
	assert.True(t, called)
	assert.Equal(t, "done", res.Answer)
}

func TestExtraCommandsAreReported(t *testing.T) {
	for _, tt := range []struct {
		name    string
		p       agent.Planner
		replies []llmtest.Reply
		note    string
	}{
		{name: "autogpt, two objects", p: planner.AutoGPT{}, replies: []llmtest.Reply{
			llmtest.Text(autoGPTJSON("both", "search", `{"query": "go"}`) + "\n" + autoGPTJSON("both", "write_file", `{"path": "a.txt", "content": "hello"}`)),
			llmtest.Text(autoGPTJSON("again", "write_file", `{"path": "a.txt", "content": "hello"}`)),
			llmtest.Text(autoGPTJSON("done", "finish", `{"reason": "done"}`)),
		}, note: "Only the first, search, was run; the other command (write_file) was ignored."},
		{name: "autogpt, duplicate command keys", p: planner.AutoGPT{}, replies: []llmtest.Reply{
			llmtest.Text(`{"command": {"name": "search", "args": {"query": "go"}}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hello"}}}`),
			llmtest.Text(autoGPTJSON("again", "write_file", `{"path": "a.txt", "content": "hello"}`)),
			llmtest.Text(autoGPTJSON("done", "finish", `{"reason": "done"}`)),
		}, note: "Only the first, search, was run; the other command (write_file) was ignored."},
		{name: "autogpt, native calls", p: planner.AutoGPT{NativeTools: true}, replies: []llmtest.Reply{
			llmtest.Calls(llmtest.Call("search", `{"query": "go"}`), llmtest.Call("write_file", `{"path": "a.txt", "content": "hello"}`)),
			llmtest.Calls(llmtest.Call("write_file", `{"path": "a.txt", "content": "hello"}`)),
			llmtest.Calls(llmtest.Call("finish", `{"reason": "done"}`)),
		}, note: "Only the first, search, was run; the other command (write_file) was ignored."},
		{name: "react, two actions", p: planner.ReAct{}, replies: []llmtest.Reply{
			llmtest.Text("Action: search\nAction Input: {\"query\": \"go\"}\nAction: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hello\"}"),
			llmtest.Text("Action: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hello\"}"),
			llmtest.Text("Final Answer: done"),
		}, note: "Only the first, search, was run; the other action (write_file) was ignored."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			model := llmtest.NewScript(tt.replies...)
			a, err := agent.New(agent.Config{Model: model, Tools: rec.tools(), Planner: tt.p})
			require.NoError(t, err)
			res, err := a.Run(context.Background(), goal)
			require.NoError(t, err)
			model.AssertComplete(t)
			assert.Equal(t, []string{"search:go", "write_file:hello"}, rec.got(), "one command per step")
			assert.Equal(t, "done", res.Answer)
			require.Len(t, res.Steps[0].ToolCalls, 1)

			reqs := model.Requests()
			second := reqs[1].Messages
			obs := second[len(second)-1]
			assert.True(t, strings.HasPrefix(obs.Content, "Command search returned: result for go") ||
				strings.HasPrefix(obs.Content, "result for go") || strings.HasPrefix(obs.Content, "Observation: result for go"), obs.Content)
			assert.Contains(t, obs.Content, tt.note, "the model is told, with the result")
			assert.Equal(t, 1, strings.Count(allText(reqs), tt.note), "once: the history itself is not changed")
			for _, req := range reqs {
				for _, m := range req.Messages {
					assert.LessOrEqual(t, len(m.ToolCalls), 1, "no unanswered call in the history")
				}
			}
			assertAlternating(t, reqs)
			assert.NotContains(t, string(res.State.PlannerState), "ignored")
		})
	}
}

// title is the typed answer of the RunTyped tests.
type title struct {
	Title string `json:"title"`
}

func TestAutoGPTTypedLastStep(t *testing.T) {
	search := llmtest.Text(autoGPTJSON("search first", "search", `{"query": "go"}`))
	for _, tt := range []struct {
		name   string
		p      planner.AutoGPT
		last   llmtest.Reply
		answer string
	}{
		{name: "answer object", last: llmtest.Text(autoGPTJSON("done", "finish", `{"answer": {"title": "Go"}}`))},
		{name: "answer as JSON text", last: llmtest.Text(autoGPTJSON("done", "finish", `{"answer": "{\"title\": \"Go\"}"}`))},
		{name: "reason holding the object", last: llmtest.Text(autoGPTJSON("done", "finish", `{"reason": {"title": "Go"}}`))},
		{name: "the answer's fields as the args", last: llmtest.Text(autoGPTJSON("done", "finish", `{"title": "Go"}`))},
		{name: "the final_answer command", last: llmtest.Text(autoGPTJSON("done", agent.OutputToolName, `{"title": "Go"}`))},
		{name: "native finish", p: planner.AutoGPT{NativeTools: true}, last: llmtest.Calls(llmtest.Call("finish", `{"answer": {"title": "Go"}}`))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			first := search
			if tt.p.NativeTools {
				first = llmtest.Calls(llmtest.Call("search", `{"query": "go"}`))
			}
			model := llmtest.NewScript(first, tt.last)
			a, err := agent.New(agent.Config{Model: model, Tools: rec.tools(), Planner: tt.p, MaxSteps: 2})
			require.NoError(t, err)
			out, res, err := agent.RunTyped[title](context.Background(), a, "Find Go's title.")
			require.NoError(t, err)
			model.AssertComplete(t)
			assert.Equal(t, title{Title: "Go"}, out)
			assert.True(t, res.Done)

			req := model.Requests()[1]
			last := req.Messages[len(req.Messages)-1].Content
			assert.True(t, strings.HasPrefix(last, agent.FinalStepPrompt), last)
			if tt.p.NativeTools {
				assert.Contains(t, last, `Only the finish tool is allowed now: call it with your final answer as its "answer" argument`)
			} else {
				assert.Contains(t, last, `reply in the JSON format with the command finish and your final answer as its "answer" argument`)
			}
			assert.Contains(t, last, "given as the argument's value itself, not inside a string.")
			assert.Contains(t, last, `"title"`, "the answer's schema")
			assert.NotContains(t, last, "nothing else", "no instruction that contradicts the JSON format with finish")
			assert.NotContains(t, last, "as its reason")
			if tt.p.NativeTools {
				require.Len(t, req.Tools, 1)
				assert.Equal(t, planner.FinishCommand, req.Tools[0].Name)
				assert.Contains(t, string(req.Tools[0].Parameters), `"answer":{`)
				assert.Contains(t, string(req.Tools[0].Parameters), `"title"`)
			}
		})
	}

	// Not typed: the last step's instruction is unchanged.
	model := llmtest.NewScript(llmtest.Text(autoGPTJSON("done", "finish", `{"reason": "Go"}`)))
	a, err := agent.New(agent.Config{Model: model, Planner: planner.AutoGPT{}, MaxSteps: 1})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "Find Go's title.")
	require.NoError(t, err)
	assert.Equal(t, "Go", res.Answer)
	msgs := model.Requests()[0].Messages
	assert.Contains(t, msgs[len(msgs)-1].Content, "your final answer as its reason")
}

func TestReActTypedLastStep(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text("Thought: I know.\nFinal Answer: {\"title\": \"Go\"}"))
	a, err := agent.New(agent.Config{Model: model, Planner: planner.ReAct{}, MaxSteps: 1})
	require.NoError(t, err)
	out, _, err := agent.RunTyped[title](context.Background(), a, "Find Go's title.")
	require.NoError(t, err)
	assert.Equal(t, "Go", out.Title)
	msgs := model.Requests()[0].Messages
	last := msgs[len(msgs)-1].Content
	assert.Contains(t, last, `reply with "Final Answer:" followed by your answer and nothing after it, the answer in this form: a JSON object`)
	assert.Equal(t, 1, strings.Count(last, "Final Answer"))
}
