package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// Defaults for the zero values of PlanExecute.
const (
	// DefaultMaxTasks is PlanExecute.MaxTasks when it is 0: the most tasks a run may ever have.
	DefaultMaxTasks = 10
	// DefaultMaxReplans is PlanExecute.MaxReplans when it is 0.
	DefaultMaxReplans = 5
)

// DefaultPlanPrompt is PlanExecute.PlanPrompt when it is "". It closes the user message of the
// planning request, which first gives the goal, the tools (name and description) and the most
// tasks allowed.
const DefaultPlanPrompt = "Break the goal into a short list of concrete tasks that, done in order, reach it. " +
	"Put them in priority order, merge trivial steps, and make each task doable with the tools listed. " +
	`Reply with only a JSON array of short task descriptions, for example ["Find the population of Lyon", "Compare it with Marseille"].`

// DefaultReplanPrompt is PlanExecute.ReplanPrompt when it is "". It closes the user message of a
// replanning request, which first gives the goal, the finished tasks with their results, the
// remaining tasks and how many more tasks are allowed.
const DefaultReplanPrompt = "Review the plan in the light of these results. " +
	`If the results already reach the goal, reply with only {"done": true, "answer": "<the final answer for the user>"}. ` +
	`Otherwise reply with only {"tasks": [...]}: the remaining tasks in priority order, as short descriptions. ` +
	"Keep, change, drop or add tasks as the results suggest; never repeat a finished task."

// PlanExecute is an agent.Planner that works through a task list: it asks the model to break the
// goal into prioritised tasks, executes them one at a time with native tool calling, and after
// each finished task asks the model to revise the remaining tasks (or to declare the goal reached).
// Unlike BabyAGI's open-ended task creation, a run is bounded: at most MaxTasks tasks ever exist,
// at most MaxReplans revisions are made, and the run ends with a final answer when the model says
// the goal is reached or no task is left.
//
// Each step makes one model call, except the step that finishes a task: it also replans (one
// call) and, when nothing is left to do, asks for the final answer (one more call).
//
//   - No plan yet: the model receives the system prompt and one user message (the goal, the tools,
//     PlanPrompt), without tools, and answers with a JSON array of task descriptions or an object
//     {"tasks": [...]} (code fences and prose around the JSON are tolerated; an element may also
//     be an object with a "description" or "task" field). An empty or unreadable plan, or one
//     cut off at the output-token limit (llm.FinishLength), is asked for again once, with a
//     correction; a second failure makes the goal itself the single task. The step adds to the
//     history an assistant message listing the plan and a user message starting the first task,
//     and calls no tool.
//   - Executing a task: the model receives the request agent.RunView.NewRequest builds (system
//     prompt, history, every tool), the last user message extended with an instruction naming the
//     current task and what was done so far (or followed by it, after tool results). Tool calls
//     are executed by the loop, and their results come back in the history; an answer without tool
//     calls finishes the task with that text as its result, or fails it when the text starts with
//     "FAILED:". An empty answer is asked for again once, then the step fails with
//     agent.ErrEmptyResponse.
//   - After a task: unless MaxReplans replans were made or no more task is allowed, the model
//     receives the goal, the finished tasks with their results, the remaining tasks and
//     ReplanPrompt, without tools nor history, and returns the new remaining list ({"tasks": [...]}
//     or a bare array) or {"done": true, "answer": "..."}. An unreadable reply, or one cut off
//     at the output-token limit, keeps the list. Tasks beyond MaxTasks are dropped, and the user
//     message that starts the next task says so.
//   - Stop: the answer of a "done" reply is the final answer; when no task is left, one model call
//     (history, then the results, no tools) writes it. On the run's last step (RunView.LastStep)
//     the model is asked, without tools, for the best final answer from the history and the results,
//     with agent.FinalStepPrompt; a task in progress is marked failed.
//
// Every Decision carries a short Thought such as "task 2/5: Compare the prices", and the task list
// as its State (see PlanExecuteState), so a run can be saved as JSON and resumed with Agent.Resume.
//
// A PlanExecute is read-only during a run and may serve concurrent runs. The zero value is ready
// to use.
type PlanExecute struct {
	// MaxTasks bounds the tasks of a run, executed or still planned: tasks that a plan or a replan
	// would add beyond it are dropped. 0 or less means DefaultMaxTasks (10).
	MaxTasks int
	// MaxReplans bounds the replanning requests of a run; once they are spent the remaining list is
	// worked through as it is. 0 means DefaultMaxReplans (5); negative means never replan.
	MaxReplans int
	// PlanPrompt is the instruction that ends the planning request; "" means DefaultPlanPrompt.
	// The goal, the tools and the task limit come before it.
	PlanPrompt string
	// ReplanPrompt is the instruction that ends a replanning request; "" means
	// DefaultReplanPrompt. The goal, the finished and remaining tasks and the number of tasks still
	// allowed come before it.
	ReplanPrompt string
}

var _ agent.Planner = PlanExecute{}

// TaskStatus is the state of one task of a PlanExecute run.
type TaskStatus string

// The task statuses.
const (
	TaskPending TaskStatus = "pending" // planned, not finished (the first pending task is the current one)
	TaskDone    TaskStatus = "done"    // finished; Result is the model's answer
	TaskFailed  TaskStatus = "failed"  // given up; Result says why
)

// Task is one task of a PlanExecute run.
type Task struct {
	// ID identifies the task within its run: 1, 2, ... in order of creation, never reused.
	ID int `json:"id"`
	// Description is the task as the model wrote it (cut to 500 characters).
	Description string `json:"description"`
	// Status is pending, done or failed.
	Status TaskStatus `json:"status"`
	// Result summarises the outcome of a finished task: the model's final text for it (cut to
	// 2000 characters), or why it failed.
	Result string `json:"result,omitempty"`
	// Steps counts the execution requests made for the task (one per step that worked on it).
	Steps int `json:"steps,omitempty"`
}

// PlanExecuteState is what PlanExecute keeps in the RunState's planner slot
// (agent.RunState.PlannerState), as JSON:
//
//	{"tasks": [{"id": 1, "description": "...", "status": "done", "result": "...", "steps": 2},
//	           {"id": 2, "description": "...", "status": "pending"}],
//	 "next_id": 3, "replans": 1, "dropped": 0}
//
// Finished tasks (done or failed) come first, in the order they finished, then the pending ones in
// priority order. A host may decode it (json.Unmarshal) to show progress.
type PlanExecuteState struct {
	// Tasks is the task list; empty until the plan is made.
	Tasks []Task `json:"tasks"`
	// NextID is the ID the next new task gets.
	NextID int `json:"next_id"`
	// Replans counts the replanning requests made.
	Replans int `json:"replans"`
	// Dropped counts the tasks dropped because they would have exceeded MaxTasks.
	Dropped int `json:"dropped,omitempty"`
}

// Current returns the index in Tasks of the current task (the first pending one), or -1 when no
// task is pending.
func (s *PlanExecuteState) Current() int {
	for i, t := range s.Tasks {
		if t.Status == TaskPending {
			return i
		}
	}
	return -1
}

// finished counts the tasks that are done or failed.
func (s *PlanExecuteState) finished() int {
	n := 0
	for _, t := range s.Tasks {
		if t.Status != TaskPending {
			n++
		}
	}
	return n
}

// pending returns the descriptions of the pending tasks, in order.
func (s *PlanExecuteState) pending() []string {
	var out []string
	for _, t := range s.Tasks {
		if t.Status == TaskPending {
			out = append(out, t.Description)
		}
	}
	return out
}

// setPending replaces the pending tasks by descs, keeping at most room of them; it returns how many
// were dropped. A description equal to a pending task's keeps that task's ID and step count.
func (s *PlanExecuteState) setPending(descs []string, room int) (dropped int) {
	if s.NextID < 1 {
		s.NextID = 1
		for _, t := range s.Tasks {
			s.NextID = max(s.NextID, t.ID+1)
		}
	}
	old := make(map[string][]Task)
	kept := make([]Task, 0, len(s.Tasks)+len(descs))
	for _, t := range s.Tasks {
		if t.Status == TaskPending {
			old[t.Description] = append(old[t.Description], t)
		} else {
			kept = append(kept, t)
		}
	}
	room = max(room, 0)
	if len(descs) > room {
		dropped = len(descs) - room
		descs = descs[:room]
	}
	for _, d := range descs {
		if prev := old[d]; len(prev) > 0 {
			kept = append(kept, prev[0])
			old[d] = prev[1:]
			continue
		}
		kept = append(kept, Task{ID: s.NextID, Description: d, Status: TaskPending})
		s.NextID++
	}
	s.Tasks = kept
	s.Dropped += dropped
	return dropped
}

// Limits on the text kept and sent, in runes.
const (
	peMaxDescription  = 500  // a task description in the state
	peMaxResult       = 2000 // a task result in the state
	peResultInReplan  = 1000 // a result in replanning and final-answer requests
	peResultInExecute = 200  // a result in the instruction of an execution request
	peMaxCandidates   = 64   // JSON start positions tried in one reply
)

// Texts of the messages PlanExecute writes itself.
const (
	peEmptyNote     = "Your last reply was empty. Call a tool, or reply with the result of the current task as text."
	peFinalEmpty    = "Your last reply was empty. Write the final answer as text."
	peCutOff        = "Your reply was cut off at the output-token limit, so it was not used: keep the list short, with short task descriptions."
	peCorrection    = `Your reply could not be read as a task list. Reply with only a JSON array of short task descriptions, such as ["First task", "Second task"], and nothing else.`
	peFinishedIntro = "All tasks are finished."
	peGoalReached   = "The review of the plan found the goal reached: give the final answer."
	peFinalPrompt   = "Write the final answer to the goal now, for the user, from these results and the conversation above. " +
		"Say plainly what could not be done or is uncertain."
	peExecuteRules = "Work on this task only, calling tools where they help. When it is finished, reply without a tool call " +
		"with a short summary of its result. If it cannot be done, reply with \"FAILED:\" followed by the reason."
	peFailedPrefix = "FAILED:"
)

func (p PlanExecute) maxTasks() int {
	if p.MaxTasks <= 0 {
		return DefaultMaxTasks
	}
	return p.MaxTasks
}

func (p PlanExecute) maxReplans() int {
	switch {
	case p.MaxReplans == 0:
		return DefaultMaxReplans
	case p.MaxReplans < 0:
		return 0
	}
	return p.MaxReplans
}

// Next implements agent.Planner.
func (p PlanExecute) Next(ctx context.Context, view *agent.RunView) (*agent.Decision, error) {
	st, err := peDecode(view.State)
	if err != nil {
		return nil, err
	}
	switch {
	case view.LastStep:
		return p.lastStep(ctx, view, st)
	case len(st.Tasks) == 0:
		return p.plan(ctx, view, st)
	}
	cur := st.Current()
	if cur < 0 {
		return p.finish(ctx, view, st, nil, "all tasks finished")
	}
	return p.execute(ctx, view, st, cur)
}

// plan asks for the task list and starts its first task.
func (p PlanExecute) plan(ctx context.Context, view *agent.RunView, st *PlanExecuteState) (*agent.Decision, error) {
	req := peTextRequest(view)
	req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Content: p.planMessage(view)})
	msg, cut, err := peAsk(ctx, view.Model, req, "")
	if err != nil {
		return nil, err
	}
	tasks, ok := peParseTasks(msg.Content)
	if !ok || cut {
		retry := *req
		if strings.TrimSpace(msg.Content) != "" {
			retry.Messages = append(slices.Clone(req.Messages), llm.Message{Role: llm.RoleAssistant, Content: msg.Content})
		}
		correction := peCorrection
		if cut {
			correction = peCutOff + " " + correction
		}
		retry.Messages = peAppendUser(retry.Messages, correction)
		if msg, cut, err = peAsk(ctx, view.Model, &retry, ""); err != nil {
			return nil, err
		}
		tasks, ok = peParseTasks(msg.Content)
		ok = ok && !cut
	}
	var note string
	if !ok {
		goal := peClip(strings.TrimSpace(view.Goal), peMaxDescription)
		if goal == "" {
			goal = "Reach the goal."
		}
		tasks = []string{goal}
		note = "The plan could not be read: the goal itself is the only task"
	}
	st.Tasks, st.NextID = nil, 1
	if n := st.setPending(tasks, p.maxTasks()); n > 0 {
		note = peDroppedNote(n, p.maxTasks())
	}
	var plan strings.Builder
	plan.WriteString("Plan:")
	for i, t := range st.Tasks {
		fmt.Fprintf(&plan, "\n%d. %s", i+1, t.Description)
	}
	thought := fmt.Sprintf("plan: %d %s; ", len(st.Tasks), pePlural(len(st.Tasks), "task", "tasks"))
	if note != "" {
		thought += note + "; "
	}
	thought += peTaskLine(st, 0)
	return peDecision(st, thought,
		llm.Message{Role: llm.RoleAssistant, Content: plan.String()},
		llm.Message{Role: llm.RoleUser, Content: peStartMessage(st, 0, note)})
}

func (p PlanExecute) planMessage(view *agent.RunView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Goal:\n%s\n\n", view.Goal)
	peWriteTools(&b, view.Tools)
	fmt.Fprintf(&b, "Plan at most %d %s.\n\n", p.maxTasks(), pePlural(p.maxTasks(), "task", "tasks"))
	b.WriteString(peOr(p.PlanPrompt, DefaultPlanPrompt))
	return b.String()
}

// execute works on task cur: one request with the tools.
func (p PlanExecute) execute(ctx context.Context, view *agent.RunView, st *PlanExecuteState, cur int) (*agent.Decision, error) {
	req := view.NewRequest()
	req.Messages = peAppendUser(req.Messages, peInstruction(st, cur))
	st.Tasks[cur].Steps++
	msg, _, err := peAsk(ctx, view.Model, req, peEmptyNote)
	if err != nil {
		return nil, err
	}
	if len(msg.ToolCalls) > 0 {
		d, err := peDecision(st, peTaskLine(st, cur), msg)
		if d != nil {
			d.ToolCalls = msg.ToolCalls
		}
		return d, err
	}
	t := &st.Tasks[cur]
	text := strings.TrimSpace(msg.Content)
	if rest, ok := peCutPrefixFold(text, peFailedPrefix); ok {
		t.Status, t.Result = TaskFailed, peClip(strings.TrimSpace(rest), peMaxResult)
	} else {
		t.Status, t.Result = TaskDone, peClip(text, peMaxResult)
	}
	return p.afterTask(ctx, view, st, cur, msg)
}

// afterTask replans after task cur finished with msg, then starts the next task or finishes.
func (p PlanExecute) afterTask(ctx context.Context, view *agent.RunView, st *PlanExecuteState, cur int, msg llm.Message) (*agent.Decision, error) {
	// The line names the task as it was numbered while it ran, before the list changes.
	thought := fmt.Sprintf("task %d/%d %s: %s", cur+1, len(st.Tasks), st.Tasks[cur].Status, peClip(st.Tasks[cur].Description, 80))
	// Finished tasks come first: move this one after the earlier finished ones.
	if fin := st.finished() - 1; fin != cur {
		t := st.Tasks[cur]
		st.Tasks = slices.Delete(st.Tasks, cur, cur+1)
		st.Tasks = slices.Insert(st.Tasks, fin, t)
	}
	room := p.maxTasks() - st.finished()
	var note string
	if room <= 0 {
		if n := len(st.pending()); n > 0 { // only when MaxTasks changed since the plan was made
			st.setPending(nil, 0)
			st.Dropped += n
			note = peDroppedNote(n, p.maxTasks())
		}
	} else if st.Replans < p.maxReplans() {
		st.Replans++
		rp, err := p.replan(ctx, view, st, room)
		if err != nil {
			return nil, err
		}
		switch {
		case rp.done:
			st.setPending(nil, 0) // the goal is reached: what remains is not needed
			if rp.answer != "" {
				return peDecisionFinal(st, thought+"; goal reached", rp.answer,
					msg, llm.Message{Role: llm.RoleUser, Content: peGoalReached})
			}
		case rp.ok:
			if n := st.setPending(rp.tasks, room); n > 0 {
				note = peDroppedNote(n, p.maxTasks())
			}
		default:
			thought += "; replan unreadable, plan kept"
		}
	}
	if note != "" {
		thought += "; " + note
	}
	next := st.Current()
	if next < 0 {
		return p.finish(ctx, view, st, []llm.Message{msg}, thought+"; all tasks finished")
	}
	thought += "; " + peTaskLine(st, next)
	return peDecision(st, thought, msg, llm.Message{Role: llm.RoleUser, Content: peStartMessage(st, next, note)})
}

// peReplan is a replanning reply, read.
type peReplan struct {
	done   bool
	answer string
	tasks  []string
	ok     bool // a task list (possibly empty) or done was read
}

func (p PlanExecute) replan(ctx context.Context, view *agent.RunView, st *PlanExecuteState, room int) (peReplan, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Goal:\n%s\n\n", view.Goal)
	peWriteTools(&b, view.Tools)
	b.WriteString("Finished tasks:\n")
	peWriteResults(&b, st)
	b.WriteString("\nRemaining tasks:\n")
	rest := st.pending()
	if len(rest) == 0 {
		b.WriteString("(none)\n")
	}
	for i, d := range rest {
		fmt.Fprintf(&b, "%d. %s\n", i+1, d)
	}
	fmt.Fprintf(&b, "\nAt most %d more %s can be run.\n\n", room, pePlural(room, "task", "tasks"))
	b.WriteString(peOr(p.ReplanPrompt, DefaultReplanPrompt))
	req := peTextRequest(view)
	req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Content: b.String()})
	msg, cut, err := peAsk(ctx, view.Model, req, "")
	if err != nil || cut {
		return peReplan{}, err // a list cut off may have lost tasks, an answer its end: unreadable
	}
	return peParseReplan(msg.Content), nil
}

// finish asks for the final answer: the history, then pre (messages of this step not yet in the
// history), then the results, without tools.
func (p PlanExecute) finish(ctx context.Context, view *agent.RunView, st *PlanExecuteState, pre []llm.Message, thought string) (*agent.Decision, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s Goal:\n%s\n\nResults:\n", peFinishedIntro, view.Goal)
	peWriteResults(&b, st)
	b.WriteString("\n" + peFinalPrompt)
	return peAnswer(ctx, view, st, pre, b.String(), thought)
}

// lastStep asks for the best final answer on the run's last step.
func (p PlanExecute) lastStep(ctx context.Context, view *agent.RunView, st *PlanExecuteState) (*agent.Decision, error) {
	var b strings.Builder
	if cur := st.Current(); cur >= 0 && st.Tasks[cur].Steps > 0 {
		st.Tasks[cur].Status, st.Tasks[cur].Result = TaskFailed, "not finished: the run reached its step limit"
	}
	if len(st.Tasks) > 0 {
		b.WriteString("Tasks so far:\n")
		peWriteResults(&b, st)
		for _, d := range st.pending() {
			fmt.Fprintf(&b, "- %s [not started]\n", d)
		}
		b.WriteString("\n")
	}
	b.WriteString(agent.FinalStepPrompt)
	return peAnswer(ctx, view, st, nil, b.String(), "last step: final answer from the results")
}

// peAnswer makes the final-answer request (history, pre, instruction; no tools) and the final
// Decision, whose messages record pre, the instruction and the answer.
func peAnswer(ctx context.Context, view *agent.RunView, st *PlanExecuteState, pre []llm.Message, instruction, thought string) (*agent.Decision, error) {
	req := peTextRequest(view)
	req.Messages = append(append(req.Messages, view.Messages...), pre...)
	added := slices.Clone(pre)
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == llm.RoleUser {
		req.Messages = peAppendUser(req.Messages, instruction) // the history already ends with a user message
	} else {
		u := llm.Message{Role: llm.RoleUser, Content: instruction}
		req.Messages = append(req.Messages, u)
		added = append(added, u)
	}
	msg, _, err := peAsk(ctx, view.Model, req, peFinalEmpty)
	if err != nil {
		return nil, err
	}
	answer := msg.Content
	if strings.TrimSpace(answer) == "" {
		return nil, fmt.Errorf("%w: the model asked for %d tool call(s) instead of the final answer", agent.ErrEmptyResponse, len(msg.ToolCalls))
	}
	msg.ToolCalls = nil // no tools were offered: the text is the answer
	return peDecisionFinal(st, thought, answer, append(added, msg)...)
}

// peAsk calls the model and returns its message as an assistant message, and whether it was cut
// off at the output-token limit (llm.FinishLength). With a retry note, an empty answer (no text, no
// tool call) is asked for again once with the note, and a second empty answer is
// agent.ErrEmptyResponse; without one, an empty answer is returned as it is.
func peAsk(ctx context.Context, m llm.Model, req *llm.Request, retryNote string) (llm.Message, bool, error) {
	resp, err := m.Generate(ctx, req)
	if err != nil {
		return llm.Message{}, false, err
	}
	if peEmpty(resp) && retryNote != "" {
		retry := *req
		retry.Messages = peAppendUser(req.Messages, retryNote)
		if resp, err = m.Generate(ctx, &retry); err != nil {
			return llm.Message{}, false, err
		}
		if peEmpty(resp) {
			return llm.Message{}, false, fmt.Errorf("planner: PlanExecute: %w", agent.ErrEmptyResponse)
		}
	}
	msg := llm.Message{Role: llm.RoleAssistant}
	if resp == nil {
		return msg, false, nil
	}
	msg = resp.Message.Clone()
	msg.Role = llm.RoleAssistant
	return msg, resp.FinishReason == llm.FinishLength, nil
}

func peEmpty(r *llm.Response) bool {
	return r == nil || (len(r.Message.ToolCalls) == 0 && strings.TrimSpace(r.Message.Content) == "")
}

// peTextRequest returns a request without tools and with only the system prompt, keeping the
// run's output-token cap and temperature.
func peTextRequest(view *agent.RunView) *llm.Request {
	req := view.NewRequest()
	req.Tools, req.Messages = nil, nil
	if view.SystemPrompt != "" {
		req.Messages = []llm.Message{{Role: llm.RoleSystem, Content: view.SystemPrompt}}
	}
	return req
}

// peAppendUser returns a copy of msgs with text added as a user message: appended to the last
// message when that is a user message (so that user and assistant turns keep alternating), else
// as a new message.
func peAppendUser(msgs []llm.Message, text string) []llm.Message {
	out := slices.Clone(msgs)
	if n := len(out); n > 0 && out[n-1].Role == llm.RoleUser {
		out[n-1].Content = strings.TrimRight(out[n-1].Content, "\n") + "\n\n" + text
		return out
	}
	return append(out, llm.Message{Role: llm.RoleUser, Content: text})
}

// peInstruction is the user instruction of an execution request for task cur.
func peInstruction(st *PlanExecuteState, cur int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Current task (%d of %d): %s\n", cur+1, len(st.Tasks), st.Tasks[cur].Description)
	if st.finished() > 0 {
		b.WriteString("Done so far:\n")
		for i, t := range st.Tasks {
			if t.Status != TaskPending {
				fmt.Fprintf(&b, "%d. %s [%s]: %s\n", i+1, t.Description, t.Status, peClip(peOneLine(t.Result), peResultInExecute))
			}
		}
	}
	var later []string
	for i, t := range st.Tasks {
		if i > cur && t.Status == TaskPending {
			later = append(later, fmt.Sprintf("%d. %s", i+1, t.Description))
		}
	}
	if len(later) > 0 {
		b.WriteString("Later tasks (not now):\n" + strings.Join(later, "\n") + "\n")
	}
	b.WriteString(peExecuteRules)
	return b.String()
}

// peWriteResults writes the finished tasks with their results, or "(none)".
func peWriteResults(b *strings.Builder, st *PlanExecuteState) {
	n := 0
	for _, t := range st.Tasks {
		if t.Status == TaskPending {
			continue
		}
		n++
		fmt.Fprintf(b, "%d. %s [%s]\n   Result: %s\n", n, t.Description, t.Status, peClip(t.Result, peResultInReplan))
	}
	if n == 0 {
		b.WriteString("(none)\n")
	}
}

func peWriteTools(b *strings.Builder, tools []llm.ToolSpec) {
	if len(tools) == 0 {
		b.WriteString("Tools: none (the tasks must be done by reasoning and writing alone).\n\n")
		return
	}
	b.WriteString("Tools:\n")
	for _, t := range tools {
		if t.Description != "" {
			fmt.Fprintf(b, "- %s: %s\n", t.Name, peOneLine(t.Description))
		} else {
			fmt.Fprintf(b, "- %s\n", t.Name)
		}
	}
	b.WriteString("\n")
}

// peTaskLine is the thought for working on task i: "task 2/5: description".
func peTaskLine(st *PlanExecuteState, i int) string {
	return fmt.Sprintf("task %d/%d: %s", i+1, len(st.Tasks), peClip(st.Tasks[i].Description, 80))
}

// peStartMessage is the user message that starts task i, with note (if any) first.
func peStartMessage(st *PlanExecuteState, i int, note string) string {
	s := fmt.Sprintf("Start task %d of %d: %s", i+1, len(st.Tasks), st.Tasks[i].Description)
	if note != "" {
		s = strings.TrimSuffix(note, ".") + ".\n" + s
	}
	return s
}

func peDroppedNote(n, limit int) string {
	return fmt.Sprintf("%d %s dropped: a run may have at most %d tasks", n, pePlural(n, "task was", "tasks were"), limit)
}

func peDecision(st *PlanExecuteState, thought string, msgs ...llm.Message) (*agent.Decision, error) {
	if st.Tasks == nil {
		st.Tasks = []Task{} // "tasks": [] rather than null
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("planner: PlanExecute: encoding its state: %w", err)
	}
	return &agent.Decision{Messages: msgs, Thought: thought, State: raw}, nil
}

func peDecisionFinal(st *PlanExecuteState, thought, answer string, msgs ...llm.Message) (*agent.Decision, error) {
	if msgs[len(msgs)-1].Role != llm.RoleAssistant || msgs[len(msgs)-1].Content != answer {
		msgs = append(msgs, llm.Message{Role: llm.RoleAssistant, Content: answer})
	}
	d, err := peDecision(st, thought, msgs...)
	if d != nil {
		d.Final, d.Answer = true, answer
	}
	return d, err
}

func peDecode(raw json.RawMessage) (*PlanExecuteState, error) {
	st := &PlanExecuteState{NextID: 1}
	if len(raw) == 0 || string(raw) == "null" {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("planner: PlanExecute: reading its state from the RunState: %w", err)
	}
	for i, t := range st.Tasks {
		switch t.Status {
		case TaskPending, TaskDone, TaskFailed:
		default:
			return nil, fmt.Errorf("planner: PlanExecute: task %d of its state has status %q", i+1, t.Status)
		}
	}
	return st, nil
}

// peParseTasks reads a task list from a model's reply: the first JSON array, or object with a
// "tasks" array, found in text, with at least one task.
func peParseTasks(text string) ([]string, bool) {
	var tasks []string
	found := peScanJSON(text, func(v any) bool {
		if m, ok := v.(map[string]any); ok {
			v = peTasksField(m)
		}
		list, ok := peTaskList(v)
		if !ok || len(list) == 0 {
			return false
		}
		tasks = list
		return true
	})
	return tasks, found
}

// peParseReplan reads a replanning reply: {"done": true, "answer": ...}, {"tasks": [...]} or an
// array.
func peParseReplan(text string) peReplan {
	var r peReplan
	peScanJSON(text, func(v any) bool {
		if m, ok := v.(map[string]any); ok {
			if done, _ := m["done"].(bool); done {
				r.done, r.ok = true, true
				for _, k := range []string{"answer", "final_answer", "result"} {
					if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
						r.answer = strings.TrimSpace(s)
						break
					}
				}
				return true
			}
			v = peTasksField(m)
		}
		list, ok := peTaskList(v)
		if !ok {
			return false
		}
		r.tasks, r.ok = list, true
		return true
	})
	return r
}

func peTasksField(m map[string]any) any {
	for _, k := range []string{"tasks", "remaining_tasks", "remaining", "plan"} {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

// peTaskList reads a JSON array of task descriptions: strings, or objects with a "description",
// "task", "title" or "name" string. Empty entries are skipped; any other element makes it fail.
func peTaskList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		var s string
		switch e := e.(type) {
		case string:
			s = e
		case map[string]any:
			for _, k := range []string{"description", "task", "title", "name"} {
				if d, ok := e[k].(string); ok {
					s = d
					break
				}
			}
			if s == "" {
				return nil, false
			}
		default:
			return nil, false
		}
		if s = strings.TrimSpace(peOneLine(s)); s != "" {
			out = append(out, peClip(s, peMaxDescription))
		}
	}
	return out, true
}

// peScanJSON decodes the JSON value starting at each '[' or '{' of text, in order (at most
// peMaxCandidates of them), until accept returns true; it reports whether one was accepted. Code
// fences and prose around the JSON are thus skipped.
func peScanJSON(text string, accept func(any) bool) bool {
	tried := 0
	for i := 0; i < len(text) && tried < peMaxCandidates; i++ {
		if text[i] != '[' && text[i] != '{' {
			continue
		}
		tried++
		var v any
		if err := json.NewDecoder(strings.NewReader(text[i:])).Decode(&v); err != nil {
			continue
		}
		if accept(v) {
			return true
		}
	}
	return false
}

// peClip cuts s to at most n runes, marking a cut with "…".
func peClip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n-1 {
			return s[:k] + "…"
		}
		i++
	}
	return s
}

// peOneLine joins the lines of s with spaces.
func peOneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func peCutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func peOr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func pePlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
