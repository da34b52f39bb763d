package planner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

type peLookupArgs struct {
	Query string `json:"query" jsonschema:"what to look up"`
}

// peLookup is a tool that answers "<query>=<n>", n counting its calls from 1.
func peLookup() agent.Tool {
	var mu sync.Mutex
	n := 0
	return agent.NewTool("lookup", "Looks a fact up.", func(ctx context.Context, in peLookupArgs) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s=%d", in.Query, n), nil
	})
}

func peAgent(t *testing.T, model llm.Model, p *PlanExecute, maxSteps int) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{peLookup()}, Planner: p, MaxSteps: maxSteps})
	require.NoError(t, err)
	return a
}

func peState(t *testing.T, raw json.RawMessage) PlanExecuteState {
	t.Helper()
	var s PlanExecuteState
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

func peLast(req llm.Request) llm.Message { return req.Messages[len(req.Messages)-1] }

// peAssertShape checks what every provider accepts: a system message only first; then user and
// assistant turns alternating, starting with a user message; every tool message answering a call of
// the assistant message just before it (after that message's other results); every call answered
// before the next message that is not a tool result; no empty assistant message.
func peAssertShape(t *testing.T, reqs []llm.Request) {
	t.Helper()
	for r, req := range reqs {
		var open map[string]bool
		prev := llm.Role("")
		for i, m := range req.Messages {
			where := fmt.Sprintf("request %d, message %d (%s)", r, i, m.Role)
			if m.Role != llm.RoleTool && len(open) > 0 {
				t.Errorf("%s: %d tool call(s) of the previous assistant message are unanswered", where, len(open))
			}
			switch m.Role {
			case llm.RoleSystem:
				assert.Zero(t, i, "%s: system message not first", where)
			case llm.RoleUser:
				assert.NotEqual(t, llm.RoleUser, prev, "%s: two user messages in a row", where)
				assert.NotEmpty(t, strings.TrimSpace(m.Content), where)
			case llm.RoleAssistant:
				assert.Contains(t, []llm.Role{llm.RoleUser, llm.RoleTool}, prev, "%s: an assistant message must follow a user message or tool results", where)
				assert.True(t, m.Content != "" || len(m.ToolCalls) > 0, "%s: empty assistant message", where)
				open = map[string]bool{}
				for _, c := range m.ToolCalls {
					open[c.ID] = true
				}
			case llm.RoleTool:
				if !open[m.ToolCallID] {
					t.Errorf("%s: result for %q, which no open call of the previous assistant message has", where, m.ToolCallID)
				}
				delete(open, m.ToolCallID)
			default:
				t.Errorf("%s: unknown role", where)
			}
			prev = m.Role
		}
		assert.Empty(t, open, "request %d ends with unanswered tool calls", r)
		assert.Equal(t, llm.RoleUser, peLast(req).Role, "request %d must end with a user message", r)
	}
}

func TestPlanExecuteTwoTasksWithTools(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text("Here is the plan:\n```json\n[\"Look up A\", \"Look up B\"]\n```\nGood luck."),
		llmtest.Calls(llmtest.Call("lookup", `{"query":"A"}`)),
		llmtest.Text("A is 1."),
		llmtest.Text(`{"tasks": ["Look up B"]}`),
		llmtest.Calls(llmtest.Call("lookup", `{"query":"B"}`)),
		llmtest.Text("B is 2."),
		llmtest.Text("The goal is reached: {\"done\": true, \"answer\": \"A is 1 and B is 2.\"}"),
	)
	a := peAgent(t, model, &PlanExecute{}, 0)
	var thoughts []string
	st := a.Start("Find A and B.")
	for {
		done, err := a.Step(context.Background(), st, func(e agent.Event) {
			if e.Kind == agent.EventThought {
				thoughts = append(thoughts, e.Text)
			}
		})
		require.NoError(t, err)
		if done {
			break
		}
	}
	model.AssertComplete(t)
	assert.Equal(t, "A is 1 and B is 2.", st.Answer)
	assert.Equal(t, 5, st.Step)
	assert.Equal(t, []string{
		"plan: 2 tasks; task 1/2: Look up A",
		"task 1/2: Look up A",
		"task 1/2 done: Look up A; task 2/2: Look up B",
		"task 2/2: Look up B",
		"task 2/2 done: Look up B; goal reached",
	}, thoughts)

	s := peState(t, st.PlannerState)
	assert.Equal(t, []Task{
		{ID: 1, Description: "Look up A", Status: TaskDone, Result: "A is 1.", Steps: 2},
		{ID: 2, Description: "Look up B", Status: TaskDone, Result: "B is 2.", Steps: 2},
	}, s.Tasks)
	assert.Equal(t, 3, s.NextID)
	assert.Equal(t, 2, s.Replans)

	reqs := model.Requests()
	peAssertShape(t, reqs)
	// The plan and replan requests offer no tools and stand alone; the execution requests carry
	// the history, the tools and an instruction naming the task.
	for _, i := range []int{0, 3, 6} {
		assert.Empty(t, reqs[i].Tools, "request %d", i)
		assert.Len(t, reqs[i].Messages, 2, "request %d: system prompt and one user message", i)
	}
	assert.Contains(t, reqs[0].Messages[1].Content, "Find A and B.")
	assert.Contains(t, reqs[0].Messages[1].Content, "- lookup: Looks a fact up.")
	assert.Contains(t, reqs[0].Messages[1].Content, DefaultPlanPrompt)
	for _, i := range []int{1, 2, 4, 5} {
		assert.Len(t, reqs[i].Tools, 1, "request %d", i)
	}
	assert.Contains(t, peLast(reqs[1]).Content, "Start task 1 of 2: Look up A")
	assert.Contains(t, peLast(reqs[1]).Content, "Current task (1 of 2): Look up A")
	assert.Equal(t, llm.RoleUser, peLast(reqs[2]).Role, "after the tool result comes the instruction")
	assert.Equal(t, llm.RoleTool, reqs[2].Messages[len(reqs[2].Messages)-2].Role)
	assert.Contains(t, reqs[3].Messages[1].Content, "1. Look up A [done]\n   Result: A is 1.")
	assert.Contains(t, reqs[3].Messages[1].Content, "Remaining tasks:\n1. Look up B")
	assert.Contains(t, peLast(reqs[4]).Content, "Current task (2 of 2): Look up B")
	assert.Contains(t, peLast(reqs[4]).Content, "1. Look up A [done]: A is 1.")

	// The history reads as a chat: plan, task starts, results, and the answer last.
	hist, err := st.History(context.Background())
	require.NoError(t, err)
	peAssertShape(t, []llm.Request{{Messages: hist[:len(hist)-1]}})
	assert.Equal(t, "Plan:\n1. Look up A\n2. Look up B", hist[1].Content)
	assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: "A is 1 and B is 2."}, hist[len(hist)-1])
}

func TestPlanExecuteReplanAddsATask(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text(`["Look up A"]`),
		llmtest.Text("A is 1, and it points to B."),
		llmtest.Text(`Updated: {"done": false, "tasks": [{"description": "Look up B"}]}`),
		llmtest.Calls(llmtest.Call("lookup", `{"query":"B"}`)),
		llmtest.Text("B is 2."),
		llmtest.Text(`{"tasks": []}`),
		llmtest.Text("A is 1 and B is 2."),
	)
	res, err := peAgent(t, model, &PlanExecute{}, 0).Run(context.Background(), "Find A, then what it points to.")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "A is 1 and B is 2.", res.Answer)
	s := peState(t, res.State.PlannerState)
	require.Len(t, s.Tasks, 2)
	assert.Equal(t, Task{ID: 2, Description: "Look up B", Status: TaskDone, Result: "B is 2.", Steps: 2}, s.Tasks[1])
	assert.Equal(t, "task 1/1 done: Look up A; task 2/2: Look up B", res.Steps[1].Thought)
	assert.Equal(t, "task 2/2 done: Look up B; all tasks finished", res.Steps[3].Thought)

	reqs := model.Requests()
	peAssertShape(t, reqs)
	// The final answer is written from the history and the results, without tools.
	final := reqs[6]
	assert.Empty(t, final.Tools)
	assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: "B is 2."}, final.Messages[len(final.Messages)-2])
	assert.Contains(t, peLast(final).Content, "All tasks are finished.")
	assert.Contains(t, peLast(final).Content, "2. Look up B [done]\n   Result: B is 2.")
	assert.Contains(t, peLast(final).Content, peFinalPrompt)
}

// peEndless is a model that answers every replan with the remaining tasks plus a new one, and
// does each task with one tool call. It counts the requests of each kind.
type peEndless struct {
	mu                               sync.Mutex
	plans, replans, executes, finals int
	added                            int
	reqs                             []llm.Request
}

func (m *peEndless) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, *req)
	last := peLast(*req)
	text := func(s string) (*llm.Response, error) {
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: s}}, nil
	}
	switch {
	case strings.Contains(last.Content, "REPLAN-NOW"):
		m.replans++
		_, rest, _ := strings.Cut(last.Content, "Remaining tasks:\n")
		rest, _, _ = strings.Cut(rest, "\n\n")
		var tasks []string
		for line := range strings.SplitSeq(rest, "\n") {
			if _, d, ok := strings.Cut(line, ". "); ok {
				tasks = append(tasks, d)
			}
		}
		m.added++
		tasks = append(tasks, fmt.Sprintf("extra %d", m.added))
		b, _ := json.Marshal(map[string]any{"tasks": tasks})
		return text(string(b))
	case strings.Contains(last.Content, "PLAN-NOW"):
		m.plans++
		return text(`["task a", "task b"]`)
	case len(req.Tools) > 0:
		m.executes++
		if last.Role == llm.RoleUser && req.Messages[len(req.Messages)-2].Role == llm.RoleTool {
			return text("finished")
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: fmt.Sprintf("c%d", len(m.reqs)), Name: "lookup", Arguments: `{"query":"x"}`}}}}, nil
	case strings.Contains(last.Content, peFinalPrompt):
		m.finals++
		return text("all I could do")
	}
	return nil, errors.New("unexpected request: " + last.Content)
}

func TestPlanExecuteEndlessTaskCreationIsBounded(t *testing.T) {
	prompts := PlanExecute{PlanPrompt: "PLAN-NOW: reply with a JSON array.", ReplanPrompt: "REPLAN-NOW: reply with JSON."}

	t.Run("MaxTasks", func(t *testing.T) {
		m := &peEndless{}
		p := prompts
		p.MaxTasks, p.MaxReplans = 4, 100
		res, err := peAgent(t, m, &p, 0).Run(context.Background(), "Never stop.")
		require.NoError(t, err)
		assert.Equal(t, "all I could do", res.Answer)
		s := peState(t, res.State.PlannerState)
		require.Len(t, s.Tasks, 4)
		for _, task := range s.Tasks {
			assert.Equal(t, TaskDone, task.Status)
		}
		assert.Equal(t, []string{"task a", "task b", "extra 1", "extra 2"},
			[]string{s.Tasks[0].Description, s.Tasks[1].Description, s.Tasks[2].Description, s.Tasks[3].Description})
		assert.Equal(t, 1, s.Dropped, "the replan after task 3 wanted 2 tasks where 1 was allowed")
		assert.Equal(t, 3, s.Replans, "no replan once no task is allowed")
		assert.Equal(t, []int{1, 3, 8, 1}, []int{m.plans, m.replans, m.executes, m.finals})
		assert.Equal(t, 1+4*2, res.State.Step)
		assert.Contains(t, res.Steps[6].Thought, "1 task was dropped: a run may have at most 4 tasks")
		peAssertShape(t, m.reqs)
		// The start message of the next task carries the note.
		hist, _ := res.State.History(context.Background())
		var notes int
		for _, msg := range hist {
			if msg.Role == llm.RoleUser && strings.HasPrefix(msg.Content, "1 task was dropped") {
				notes++
			}
		}
		assert.Equal(t, 1, notes)
	})

	t.Run("MaxReplans", func(t *testing.T) {
		m := &peEndless{}
		p := prompts
		p.MaxTasks, p.MaxReplans = 100, 2
		res, err := peAgent(t, m, &p, 50).Run(context.Background(), "Never stop.")
		require.NoError(t, err)
		assert.Equal(t, "all I could do", res.Answer)
		s := peState(t, res.State.PlannerState)
		assert.Len(t, s.Tasks, 4, "2 planned, 1 added by each of 2 replans")
		assert.Equal(t, 2, s.Replans)
		assert.Equal(t, []int{1, 2, 8, 1}, []int{m.plans, m.replans, m.executes, m.finals})
		peAssertShape(t, m.reqs)
	})

	t.Run("no replanning", func(t *testing.T) {
		m := &peEndless{}
		p := prompts
		p.MaxReplans = -1
		res, err := peAgent(t, m, &p, 0).Run(context.Background(), "Never stop.")
		require.NoError(t, err)
		assert.Equal(t, "all I could do", res.Answer)
		assert.Equal(t, []int{1, 0, 4, 1}, []int{m.plans, m.replans, m.executes, m.finals})
	})
}

func TestPlanExecuteMalformedPlan(t *testing.T) {
	t.Run("corrected once", func(t *testing.T) {
		model := llmtest.NewScript(
			llmtest.Text("I will first look things up, then answer."),
			llmtest.Text(`{"tasks": ["Answer directly"]}`),
			llmtest.Text("42"),
			llmtest.Text(`{"done": true, "answer": "The answer is 42."}`),
		)
		res, err := peAgent(t, model, &PlanExecute{}, 0).Run(context.Background(), "What is the answer?")
		require.NoError(t, err)
		model.AssertComplete(t)
		assert.Equal(t, "The answer is 42.", res.Answer)
		reqs := model.Requests()
		peAssertShape(t, reqs)
		retry := reqs[1]
		require.Len(t, retry.Messages, 4)
		assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: "I will first look things up, then answer."}, retry.Messages[2])
		assert.Equal(t, peCorrection, retry.Messages[3].Content)
		assert.Equal(t, 2, res.Steps[0].ModelCalls)
	})

	t.Run("goal as the single task", func(t *testing.T) {
		model := llmtest.NewScript(
			llmtest.Text("[not, json]"),
			llmtest.Text(""),
			llmtest.Text("Done it."),
			llmtest.Text("no idea what you want"), // an unreadable replan keeps the (empty) list
			llmtest.Text("Final: done it."),
		)
		res, err := peAgent(t, model, &PlanExecute{}, 0).Run(context.Background(), "Do the thing.")
		require.NoError(t, err)
		model.AssertComplete(t)
		assert.Equal(t, "Final: done it.", res.Answer)
		s := peState(t, res.State.PlannerState)
		assert.Equal(t, []Task{{ID: 1, Description: "Do the thing.", Status: TaskDone, Result: "Done it.", Steps: 1}}, s.Tasks)
		reqs := model.Requests()
		peAssertShape(t, reqs)
		assert.Len(t, reqs[1].Messages, 4, "the unreadable reply is shown back with the correction")
		assert.Contains(t, peLast(reqs[2]).Content, "The plan could not be read: the goal itself is the only task.\nStart task 1 of 1: Do the thing.")
		assert.Equal(t, "task 1/1 done: Do the thing.; replan unreadable, plan kept; all tasks finished", res.Steps[1].Thought)
	})
}

func TestPlanExecuteStopAndResume(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text(`["Look up A", "Look up B", "Add them"]`),
		llmtest.Calls(llmtest.Call("lookup", `{"query":"A"}`)),
		llmtest.Text("A is 1."),
		llmtest.Text(`{"tasks": ["Look up B", "Add them"]}`),
		// The run is saved here and resumed by another agent value.
		llmtest.Calls(llmtest.Call("lookup", `{"query":"B"}`)),
		llmtest.Text("B is 2."),
		llmtest.Text(`["Add them"]`),
		llmtest.Text("1 + 2 = 3."),
		llmtest.Text(`{"done": true, "answer": "3"}`),
	)
	p := &PlanExecute{MaxReplans: 3}
	a := peAgent(t, model, p, 0)
	st := a.Start("Add A and B.")
	for range 3 {
		done, err := a.Step(context.Background(), st, nil)
		require.NoError(t, err)
		require.False(t, done)
	}
	saved, err := json.Marshal(st)
	require.NoError(t, err)
	before := peState(t, st.PlannerState)
	assert.Equal(t, []TaskStatus{TaskDone, TaskPending, TaskPending},
		[]TaskStatus{before.Tasks[0].Status, before.Tasks[1].Status, before.Tasks[2].Status})

	var restored agent.RunState
	require.NoError(t, json.Unmarshal(saved, &restored))
	res, err := peAgent(t, model, p, 0).Resume(context.Background(), &restored)
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "3", res.Answer)
	assert.Equal(t, 6, res.State.Step)

	after := peState(t, res.State.PlannerState)
	require.Len(t, after.Tasks, 3)
	for i := range after.Tasks {
		assert.Equal(t, before.Tasks[i].ID, after.Tasks[i].ID, "the same task list continues")
		assert.Equal(t, before.Tasks[i].Description, after.Tasks[i].Description)
		assert.Equal(t, TaskDone, after.Tasks[i].Status)
	}
	assert.Equal(t, 3, after.Replans, "counters survive the restart")

	reqs := model.Requests()
	peAssertShape(t, reqs)
	first := reqs[4] // the first request after the restart
	assert.Contains(t, peLast(first).Content, "Current task (2 of 3): Look up B")
	assert.Contains(t, peLast(first).Content, "1. Look up A [done]: A is 1.")
	assert.Equal(t, "Plan:\n1. Look up A\n2. Look up B\n3. Add them", first.Messages[2].Content, "the history came back")
}

func TestPlanExecuteLastStep(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text(`["Look up A", "Look up B"]`),
		llmtest.Calls(llmtest.Call("lookup", `{"query":"A"}`)),
		llmtest.Text("A is 1; B is unknown."),
	)
	res, err := peAgent(t, model, &PlanExecute{}, 3).Run(context.Background(), "Find A and B.")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "A is 1; B is unknown.", res.Answer)
	reqs := model.Requests()
	peAssertShape(t, reqs)
	last := reqs[2]
	assert.Empty(t, last.Tools)
	assert.Equal(t, llm.RoleTool, last.Messages[len(last.Messages)-2].Role, "the tool results are in the prompt")
	assert.Contains(t, peLast(last).Content, agent.FinalStepPrompt)
	assert.Contains(t, peLast(last).Content, "1. Look up A [failed]\n   Result: not finished: the run reached its step limit")
	assert.Contains(t, peLast(last).Content, "- Look up B [not started]")
	s := peState(t, res.State.PlannerState)
	assert.Equal(t, TaskFailed, s.Tasks[0].Status)
	assert.Equal(t, TaskPending, s.Tasks[1].Status)

	t.Run("before any plan", func(t *testing.T) {
		model := llmtest.NewScript(llmtest.Text("Paris"))
		res, err := peAgent(t, model, &PlanExecute{}, 1).Run(context.Background(), "Capital of France?")
		require.NoError(t, err)
		assert.Equal(t, "Paris", res.Answer)
		peAssertShape(t, model.Requests())
		assert.Empty(t, model.Requests()[0].Tools)
		assert.JSONEq(t, `{"tasks": [], "next_id": 1, "replans": 0}`, string(res.State.PlannerState))
	})
}

func TestPlanExecuteConcurrentRunsShareOnePlanner(t *testing.T) {
	m := &peEndless{}
	a := peAgent(t, m, &PlanExecute{MaxTasks: 3, PlanPrompt: "PLAN-NOW", ReplanPrompt: "REPLAN-NOW"}, 0)
	var wg sync.WaitGroup
	results := make([]*agent.Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = a.Run(context.Background(), fmt.Sprintf("goal %d", i)) })
	}
	wg.Wait()
	for i, res := range results {
		require.NoError(t, errs[i])
		assert.Equal(t, "all I could do", res.Answer)
		assert.Len(t, peState(t, res.State.PlannerState).Tasks, 3)
	}
	peAssertShape(t, m.reqs)
}

func TestPlanExecuteFailedTaskAndCapAtPlan(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text(`["One", "Two", "Three", "Four"]`),
		llmtest.Text("failed: the source is offline"),
		llmtest.Text(`{"tasks": ["Two", "Three", "Four"]}`), // one allowed
		llmtest.Text("Two is done."),
		llmtest.Text("Two worked, One did not."),
	)
	res, err := peAgent(t, model, &PlanExecute{MaxTasks: 2}, 0).Run(context.Background(), "Do four things.")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "Two worked, One did not.", res.Answer)
	s := peState(t, res.State.PlannerState)
	assert.Equal(t, []Task{
		{ID: 1, Description: "One", Status: TaskFailed, Result: "the source is offline", Steps: 1},
		{ID: 2, Description: "Two", Status: TaskDone, Result: "Two is done.", Steps: 1},
	}, s.Tasks)
	assert.Equal(t, 2+2, s.Dropped)
	assert.Equal(t, "plan: 2 tasks; 2 tasks were dropped: a run may have at most 2 tasks; task 1/2: One", res.Steps[0].Thought)
	reqs := model.Requests()
	peAssertShape(t, reqs)
	assert.Contains(t, reqs[2].Messages[1].Content, "At most 1 more task can be run.")
	assert.Contains(t, reqs[2].Messages[1].Content, "1. One [failed]\n   Result: the source is offline")
}

func TestPlanExecuteEmptyAnswerIsRetriedThenFails(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text(`["Only"]`),
		llmtest.Text(" "),
		llmtest.Text(""),
	)
	res, err := peAgent(t, model, &PlanExecute{}, 0).Run(context.Background(), "Goal.")
	require.ErrorIs(t, err, agent.ErrEmptyResponse)
	model.AssertComplete(t)
	assert.False(t, res.Done)
	reqs := model.Requests()
	peAssertShape(t, reqs)
	assert.Contains(t, peLast(reqs[2]).Content, peEmptyNote)
}

func TestPlanExecuteBadState(t *testing.T) {
	view := &agent.RunView{Goal: "g", State: json.RawMessage(`{"tasks": [{"id": 1, "status": "weird"}]}`), Model: llmtest.NewScript()}
	_, err := PlanExecute{}.Next(context.Background(), view)
	assert.ErrorContains(t, err, `status "weird"`)
	view.State = json.RawMessage(`[1]`)
	_, err = PlanExecute{}.Next(context.Background(), view)
	assert.ErrorContains(t, err, "reading its state")
}

func TestPlanExecuteParseTasks(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // nil: not a task list
	}{
		{"array", `["a", "b"]`, []string{"a", "b"}},
		{"object", `{"tasks": ["a"]}`, []string{"a"}},
		{"fenced with prose", "Sure! Here it is:\n```json\n[\"a\",\n \"b\"]\n```\nTell me more.", []string{"a", "b"}},
		{"bracket prose first", "Steps [see below]: [\"a\"]", []string{"a"}},
		{"objects", `[{"id": 1, "description": "a"}, {"task": "b"}]`, []string{"a", "b"}},
		{"blank entries skipped, lines joined", `["a\n  more", "  "]`, []string{"a more"}},
		{"empty", `[]`, nil},
		{"numbers", `[1, 2]`, nil},
		{"no JSON", "first a, then b", nil},
		{"object without tasks", `{"plan_name": "x"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := peParseTasks(tt.text)
			assert.Equal(t, tt.want != nil, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPlanExecuteParseReplan(t *testing.T) {
	tests := []struct {
		name, text string
		want       peReplan
	}{
		{"done", `{"done": true, "answer": " 42 "}`, peReplan{done: true, answer: "42", ok: true}},
		{"done without answer", `{"done": true}`, peReplan{done: true, ok: true}},
		{"tasks", "```\n{\"done\": false, \"tasks\": [\"x\"]}\n```", peReplan{tasks: []string{"x"}, ok: true}},
		{"empty list", `{"tasks": []}`, peReplan{tasks: []string{}, ok: true}},
		{"array", `["x", "y"]`, peReplan{tasks: []string{"x", "y"}, ok: true}},
		{"unreadable", `I think we are nearly there.`, peReplan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, peParseReplan(tt.text))
		})
	}
}

func TestPlanExecuteClip(t *testing.T) {
	assert.Equal(t, "abc", peClip("abc", 3))
	assert.Equal(t, "ab…", peClip("abcd", 3))
	assert.Equal(t, "éé…", peClip("éééé", 3))
}
