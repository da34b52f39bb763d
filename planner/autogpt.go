package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// FinishCommand is the name of AutoGPT's built-in command that ends the run. Its one argument,
// "reason", becomes the run's final answer. No tool may have this name while AutoGPT plans.
const FinishCommand = "finish"

// DefaultMaxFormatRetriesAutoGPT is AutoGPT's MaxFormatRetries when the field is 0.
const DefaultMaxFormatRetriesAutoGPT = 2

// Defaults of AutoGPT's prompt, used when Name or Role is "".
const (
	// DefaultAutoGPTName is the agent's name in the prompt.
	DefaultAutoGPTName = "Agent"
	// DefaultAutoGPTRole is the agent's role in the prompt.
	DefaultAutoGPTRole = "an autonomous assistant that reaches its goals on its own, one command at a time"
)

// DefaultAutoGPTConstraints returns the prompt's constraints when AutoGPT.Constraints is nil (a new
// slice each call: append to it to extend the defaults).
func DefaultAutoGPTConstraints() []string {
	return []string{
		"Nobody is there to answer questions or to help: decide for yourself and act.",
		"Use only the commands listed below, exactly one per reply.",
		"Every command costs time and money: reach the goals in as few steps as you can.",
		"Older messages may be left out of the conversation when it grows long: keep what matters in your plan.",
	}
}

// DefaultAutoGPTResources returns the prompt's resources when AutoGPT.Resources is nil (a new slice
// each call).
func DefaultAutoGPTResources() []string {
	return []string{
		"The commands below and what they return.",
		"Your own knowledge, which may be out of date: check facts with the commands when they matter.",
	}
}

// DefaultAutoGPTEvaluation returns the prompt's performance-evaluation points when
// AutoGPT.Evaluation is nil (a new slice each call).
func DefaultAutoGPTEvaluation() []string {
	return []string{
		"Read every command result before you go on, and change course when something failed.",
		"Criticise your plan and your behaviour honestly at every step.",
		"Finish as soon as the goals are met, or as soon as it is clear they cannot be: extra steps cost.",
	}
}

// AutoGPT is a Planner in the style of AutoGPT: each step the model replies with one JSON object
// holding its thoughts and one command,
//
//	{"thoughts": {"text": "...", "reasoning": "...", "plan": "...", "criticism": "...", "speak": "..."},
//	 "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hi"}}}
//
// The command is a tool offered to the run, or the built-in FinishCommand, whose "reason"
// argument is the run's final answer. The zero value is ready to use; every field is optional. An
// AutoGPT value may be shared by concurrent runs: it is only read.
//
// The prompt is a system message built from Name, Role, the goals (the run's goal, then Goals),
// Constraints, the commands (each tool with its description and argument schema, and finish),
// Resources, Evaluation and the response format. A Config.SystemPrompt other than the default is
// added to it as further instructions. The history follows it unchanged; command results come back
// as user messages (see Observe).
//
// Each step makes one model call. The reply is read leniently (see the package documentation): the
// first JSON object in it that has a command is used. The step's Decision carries the reply as an
// assistant message, the thoughts (agent.Decision.Thoughts, so they reach EventThought), and the
// command as one tool call with ID "autogpt_<step>" and the args object as compact JSON, or Final
// with the finish reason as Answer. A reply without a usable command (no JSON, no command, an
// unknown command) is answered with a user message that says what was wrong and repeats the
// format; after MaxFormatRetries such replies in a row, Next returns a *FormatError.
//
// On the run's last step (RunView.LastStep) the prompt says that only finish is allowed; another
// command is taken as finish with the thoughts' text as the answer, or, without thoughts, Next
// returns an error wrapping agent.ErrMaxSteps.
type AutoGPT struct {
	// Name is the agent's name in the prompt; "" means DefaultAutoGPTName.
	Name string
	// Role says what the agent is, completing "You are <Name>, <Role>."; "" means DefaultAutoGPTRole.
	Role string
	// Goals are added after the run's goal, in order.
	Goals []string
	// Constraints, Resources and Evaluation are the prompt's lists; nil means the matching
	// DefaultAutoGPTConstraints, DefaultAutoGPTResources or DefaultAutoGPTEvaluation, and an
	// empty non-nil slice leaves the section out.
	Constraints, Resources, Evaluation []string
	// MaxFormatRetries is how many unusable replies in a row are answered with a correction
	// before Next fails with a *FormatError; 0 means DefaultMaxFormatRetriesAutoGPT (2), negative
	// means none.
	MaxFormatRetries int
	// NativeTools offers the commands as the provider's native tools (plus a "finish" tool) instead
	// of asking for the command in the JSON text; the thoughts are still asked for as JSON text. A
	// native tool call is then the command (the first one, if the model made several); a reply
	// without one may still give its command in the JSON text. Executed commands then stay native
	// tool calls in the history, answered by tool messages.
	NativeTools bool
}

var (
	_ agent.Planner  = AutoGPT{}
	_ agent.Observer = AutoGPT{}
	_ agent.Planner  = (*AutoGPT)(nil)
)

// finishSpec is the native tool offered for FinishCommand.
var finishSpec = llm.ToolSpec{
	Name:        FinishCommand,
	Description: "End the run: the goals are met, or cannot be met. The reason is the final answer for the user.",
	Parameters: json.RawMessage(`{"type":"object","properties":{"reason":{"type":"string",` +
		`"description":"The final answer for the user: the result, or why the goals cannot be met."}},"required":["reason"]}`),
}

// autoGPTFormat is the response format shown in the prompt and in corrections.
const autoGPTFormat = `{
  "thoughts": {
    "text": "what you think now",
    "reasoning": "why",
    "plan": "- short bulleted\n- list of the next steps",
    "criticism": "honest criticism of your own plan and behaviour",
    "speak": "a short summary of your thoughts, for the user"
  },
  "command": {
    "name": "the name of one command",
    "args": {"argument name": "value"}
  }
}`

// autoGPTNativeFormat is the text format asked for when the commands are native tools.
const autoGPTNativeFormat = `{
  "thoughts": {
    "text": "what you think now",
    "reasoning": "why",
    "plan": "- short bulleted\n- list of the next steps",
    "criticism": "honest criticism of your own plan and behaviour",
    "speak": "a short summary of your thoughts, for the user"
  }
}`

// Next implements agent.Planner: one model call, parsed as described on AutoGPT. It returns the
// model's error, a *FormatError, an error wrapping agent.ErrMaxSteps (last step, a command other
// than finish and no thoughts to answer with), or an error when a tool is named FinishCommand.
func (p AutoGPT) Next(ctx context.Context, view *agent.RunView) (*agent.Decision, error) {
	for _, t := range view.Tools {
		if t.Name == FinishCommand {
			return nil, fmt.Errorf("planner: autogpt: a tool is named %q, which AutoGPT reserves for ending the run", FinishCommand)
		}
	}
	st := loadState(view.State)
	resp, err := view.Model.Generate(ctx, p.request(view))
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errNilResponse
	}
	text := resp.Message.Content
	r := parseAutoGPT(text)
	nativeID := ""
	if p.NativeTools && len(resp.Message.ToolCalls) > 0 {
		c := resp.Message.ToolCalls[0]
		r.hasCommand, r.name, nativeID = true, c.Name, c.ID
		r.args = json.RawMessage(c.Arguments)
		if !json.Valid(r.args) {
			r.args, _ = json.Marshal(c.Arguments) // malformed arguments: read as text (and repaired)
		}
	}
	d := &agent.Decision{Thoughts: r.thoughts}
	name, spec, problem := resolveCommand(view.Tools, r)
	if problem != "" && resp.FinishReason == llm.FinishLength {
		problem += cutOffNote
	}

	switch {
	case problem == "" && name == FinishCommand:
		st.FormatFailures = 0
		d.State = st.raw()
		d.Final, d.Answer = true, finishAnswer(r.args, r.thoughts)
		if strings.TrimSpace(text) != "" {
			d.Messages = []llm.Message{{Role: llm.RoleAssistant, Content: text}}
		}
		return d, nil
	case r.hasCommand && view.LastStep:
		// Only finish was allowed: take the thoughts as the answer.
		answer := thoughtsAnswer(r.thoughts)
		if answer == "" {
			return nil, fmt.Errorf("%w: the model asked for command %q on its last step, without thoughts to answer with", agent.ErrMaxSteps, r.name)
		}
		st.FormatFailures = 0
		d.State = st.raw()
		d.Final, d.Answer = true, answer
		if strings.TrimSpace(text) != "" {
			d.Messages = []llm.Message{{Role: llm.RoleAssistant, Content: text}}
		}
		return d, nil
	case problem != "":
		st.FormatFailures++
		if view.LastStep || st.FormatFailures > retries(p.MaxFormatRetries, DefaultMaxFormatRetriesAutoGPT) {
			return nil, &FormatError{Planner: "autogpt", Raw: text, Reason: problem, Failures: st.FormatFailures}
		}
		d.State = st.raw()
		d.Messages = append(d.Messages, llm.Message{Role: llm.RoleAssistant, Content: replyText(text)})
		d.Messages = append(d.Messages, llm.Message{Role: llm.RoleUser, Content: p.correction(view.Tools, problem)})
		return d, nil
	}

	st.FormatFailures = 0
	d.State = st.raw()
	call := llm.ToolCall{ID: "autogpt_" + strconv.Itoa(view.Step), Name: name, Arguments: argsFromValue(r.args, spec)}
	msg := llm.Message{Role: llm.RoleAssistant, Content: text}
	if p.NativeTools {
		if nativeID != "" {
			call.ID = nativeID
		}
		msg.ToolCalls = []llm.ToolCall{call} // answered by tool messages (Observe)
	}
	d.Messages = []llm.Message{msg}
	d.ToolCalls = []llm.ToolCall{call}
	return d, nil
}

// Observe implements agent.Observer. Without NativeTools it returns one user message with a
// paragraph per result: "Command NAME returned: CONTENT", or "Command NAME failed: CONTENT" when
// the result is an error. With NativeTools it returns one tool message per call, answering the
// call's ID with the result's content and IsError.
func (p AutoGPT) Observe(calls []llm.ToolCall, results []agent.ToolResult) []llm.Message {
	if p.NativeTools {
		out := make([]llm.Message, len(calls))
		for i, c := range calls {
			r := resultAt(results, i)
			out[i] = llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: r.Content, IsError: r.IsError}
		}
		return out
	}
	var b strings.Builder
	for i, c := range calls {
		r := resultAt(results, i)
		if i > 0 {
			b.WriteString("\n\n")
		}
		verb := "returned"
		if r.IsError {
			verb = "failed"
		}
		content := r.Content
		if strings.TrimSpace(content) == "" {
			content = "(no output)"
		}
		fmt.Fprintf(&b, "Command %s %s: %s", c.Name, verb, content)
	}
	return []llm.Message{{Role: llm.RoleUser, Content: b.String()}}
}

func resultAt(results []agent.ToolResult, i int) agent.ToolResult {
	if i < len(results) {
		return results[i]
	}
	return agent.ToolResult{Content: "no result", IsError: true}
}

// Prompt returns the system prompt AutoGPT sends for view: identity, goals, constraints, further
// instructions (a Config.SystemPrompt other than agent.DefaultSystemPrompt), commands, resources,
// performance evaluation and the response format.
func (p AutoGPT) Prompt(view *agent.RunView) string {
	var b strings.Builder
	name, role := p.Name, p.Role
	if strings.TrimSpace(name) == "" {
		name = DefaultAutoGPTName
	}
	if strings.TrimSpace(role) == "" {
		role = DefaultAutoGPTRole
	}
	fmt.Fprintf(&b, "You are %s, %s.\n", name, strings.TrimRight(strings.TrimSpace(role), "."))
	b.WriteString("At every step you choose one command that brings you closer to your goals, and the system runs it and tells you the result.\n")

	goals := make([]string, 0, len(p.Goals)+1)
	if g := strings.TrimSpace(view.Goal); g != "" {
		goals = append(goals, g)
	}
	goals = append(goals, p.Goals...)
	section(&b, "GOALS", goals)
	section(&b, "CONSTRAINTS", orDefault(p.Constraints, DefaultAutoGPTConstraints))
	if sp := strings.TrimSpace(view.SystemPrompt); sp != "" && view.SystemPrompt != agent.DefaultSystemPrompt {
		b.WriteString("\nFURTHER INSTRUCTIONS:\n")
		b.WriteString(sp)
		b.WriteByte('\n')
	}

	b.WriteString("\nCOMMANDS:\n")
	if p.NativeTools {
		fmt.Fprintf(&b, "Your commands are the tools you are given: %s. Call exactly one tool in each reply. "+
			"Call %s with your final answer as its reason when the goals are met, or when they cannot be met.\n",
			joinNames(append(toolNames(view.Tools), FinishCommand)), FinishCommand)
	} else {
		describeTools(&b, view.Tools)
		fmt.Fprintf(&b, "- %s: End the run when the goals are met, or when they cannot be met. "+
			`Arguments: {"reason": "the final answer for the user: the result, or why the goals cannot be met"}`+"\n", FinishCommand)
	}

	section(&b, "RESOURCES", orDefault(p.Resources, DefaultAutoGPTResources))
	section(&b, "PERFORMANCE EVALUATION", orDefault(p.Evaluation, DefaultAutoGPTEvaluation))

	b.WriteString("\nRESPONSE FORMAT:\n")
	if p.NativeTools {
		b.WriteString("In the text of each reply, write your thoughts as one JSON object in this shape, and call exactly one tool in the same reply:\n")
		b.WriteString(autoGPTNativeFormat)
	} else {
		b.WriteString("Reply with exactly one JSON object and nothing else: no prose, no code fence. " +
			"It must be valid JSON (double quotes, no comments, no trailing commas), in this shape:\n")
		b.WriteString(autoGPTFormat)
		fmt.Fprintf(&b, "\nThe command's name is one of: %s. Its args follow that command's argument schema.", joinNames(append(toolNames(view.Tools), FinishCommand)))
	}
	return b.String()
}

// section writes a titled, numbered list; nothing for an empty list.
func section(b *strings.Builder, title string, items []string) {
	n := 0
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if n == 0 {
			fmt.Fprintf(b, "\n%s:\n", title)
		}
		n++
		fmt.Fprintf(b, "%d. %s\n", n, it)
	}
}

func orDefault(v []string, def func() []string) []string {
	if v == nil {
		return def()
	}
	return v
}

// lastStepNote is added to the last step's user message.
const lastStepNote = " Only the " + FinishCommand + " command is allowed now: reply in the JSON format with the command " +
	FinishCommand + " and your final answer as its reason."

// request builds the step's request from view.NewRequest (history, output cap, temperature, the
// last step's prompt): AutoGPT's system prompt instead of the configured one, and no tools unless
// NativeTools.
func (p AutoGPT) request(view *agent.RunView) *llm.Request {
	req := view.NewRequest()
	hist := req.Messages
	if view.SystemPrompt != "" && len(hist) > 0 && hist[0].Role == llm.RoleSystem {
		hist = hist[1:]
	}
	msgs := make([]llm.Message, 0, len(hist)+2)
	msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: p.Prompt(view)})
	msgs = append(msgs, hist...)
	if view.LastStep {
		msgs = withLastStepNote(msgs, lastStepNote)
	}
	req.Messages = msgs
	req.Tools = nil
	if p.NativeTools {
		if view.LastStep {
			req.Tools = []llm.ToolSpec{finishSpec}
		} else {
			req.Tools = append(append(make([]llm.ToolSpec, 0, len(view.Tools)+1), view.Tools...), finishSpec)
		}
	}
	return req
}

// withLastStepNote adds note to the last-step user message NewRequest ends with (which starts with
// agent.FinalStepPrompt), or appends a user message with both when there is none.
func withLastStepNote(msgs []llm.Message, note string) []llm.Message {
	if n := len(msgs); n > 0 && msgs[n-1].Role == llm.RoleUser && strings.HasPrefix(msgs[n-1].Content, agent.FinalStepPrompt) {
		msgs[n-1].Content += note
		return msgs
	}
	return append(msgs, llm.Message{Role: llm.RoleUser, Content: agent.FinalStepPrompt + note})
}

// correction is the user message that answers an unusable reply.
func (p AutoGPT) correction(tools []llm.ToolSpec, problem string) string {
	names := joinNames(append(toolNames(tools), FinishCommand))
	if p.NativeTools {
		return fmt.Sprintf("Your last reply could not be used: %s. Call exactly one of the tools (%s), "+
			"and write your thoughts as JSON text in this shape:\n%s", problem, names, autoGPTNativeFormat)
	}
	return fmt.Sprintf("Your last reply could not be used: %s. Reply with exactly one JSON object in this shape, and nothing else:\n%s\n"+
		"The command's name is one of: %s.", problem, autoGPTFormat, names)
}

// autoGPTReply is what parseAutoGPT read from a reply.
type autoGPTReply struct {
	text       string
	found      bool // some JSON object was read
	thoughts   *agent.Thoughts
	hasCommand bool            // a non-null "command" was found
	name       string          // the command's name, "" if none could be read
	args       json.RawMessage // the args value as found, nil if none
}

// parseAutoGPT reads an AutoGPT reply: the first JSON object with a non-null "command" member
// (keys compared without case) supplies the command; its "thoughts", or those of an earlier object,
// the thoughts. "command" may be an object {"name", "args"} (also "arguments", "parameters",
// "input") or a bare name string (args then from a top-level "args" or "arguments"). Thoughts may
// be an object (a plan given as a list becomes "- item" lines) or a string (the text).
func parseAutoGPT(text string) autoGPTReply {
	r := autoGPTReply{text: text}
	eachObject(text, func(m map[string]json.RawMessage) bool {
		r.found = true
		m = lowerKeys(m)
		th := parseThoughts(firstPresent(m, "thoughts", "thought"))
		cmd := m["command"]
		if isNull(cmd) {
			if r.thoughts == nil {
				r.thoughts = th
			}
			return true
		}
		if th != nil {
			r.thoughts = th
		}
		r.hasCommand = true
		if s, ok := jsonString(cmd); ok {
			r.name, r.args = strings.TrimSpace(s), firstPresent(m, "args", "arguments")
			return false
		}
		var cm map[string]json.RawMessage
		if json.Unmarshal(cmd, &cm) == nil && cm != nil {
			cm = lowerKeys(cm)
			for _, k := range [...]string{"name", "command", "tool"} {
				if s, ok := jsonString(cm[k]); ok && strings.TrimSpace(s) != "" {
					r.name = strings.TrimSpace(s)
					break
				}
			}
			r.args = firstPresent(cm, "args", "arguments", "parameters", "input")
			if r.args == nil {
				r.args = firstPresent(m, "args", "arguments")
			}
		}
		return false
	})
	return r
}

// firstPresent returns the first of keys present in m with a non-null value.
func firstPresent(m map[string]json.RawMessage, keys ...string) json.RawMessage {
	for _, k := range keys {
		if v, ok := m[k]; ok && !isNull(v) {
			return v
		}
	}
	return nil
}

// parseThoughts reads the thoughts value; nil when absent or empty.
func parseThoughts(raw json.RawMessage) *agent.Thoughts {
	if isNull(raw) {
		return nil
	}
	var t agent.Thoughts
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && m != nil {
		m = lowerKeys(m)
		t = agent.Thoughts{
			Text:      jsonText(m["text"]),
			Reasoning: jsonText(m["reasoning"]),
			Plan:      jsonText(m["plan"]),
			Criticism: jsonText(m["criticism"]),
			Speak:     jsonText(m["speak"]),
		}
	} else {
		t.Text = jsonText(raw)
	}
	if strings.TrimSpace(t.Text+t.Reasoning+t.Plan+t.Criticism+t.Speak) == "" {
		return nil
	}
	return &t
}

// resolveCommand checks the reply's command against the tools. It returns the canonical name
// (a tool's own spelling, or FinishCommand) and the tool's spec (nil for finish), or a problem to
// tell the model.
func resolveCommand(tools []llm.ToolSpec, r autoGPTReply) (string, *llm.ToolSpec, string) {
	if !r.hasCommand {
		switch {
		case strings.TrimSpace(r.text) == "":
			return "", nil, "it was empty"
		case !r.found:
			return "", nil, "it holds no JSON object"
		}
		return "", nil, "it has no command"
	}
	if r.name == "" {
		return "", nil, "its command has no name"
	}
	if strings.EqualFold(r.name, FinishCommand) {
		return FinishCommand, nil, ""
	}
	if spec, ok := findTool(tools, r.name); ok {
		return spec.Name, spec, ""
	}
	return "", nil, fmt.Sprintf("%q is not a command; the commands are: %s", clip(r.name, 100), joinNames(append(toolNames(tools), FinishCommand)))
}

// finishAnswer is the final answer of a finish command: its "reason" argument (or, if that is
// empty, "answer", "response", "result", "output", "text" or "message"; or args given as a plain
// string), else the thoughts' text or speak.
func finishAnswer(args json.RawMessage, th *agent.Thoughts) string {
	if s, ok := jsonString(args); ok {
		if ds := strings.TrimSpace(s); strings.HasPrefix(ds, "{") {
			args = json.RawMessage(argsFromText(ds, nil))
		} else if ds != "" {
			return s
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(args, &m) == nil && m != nil {
		m = lowerKeys(m)
		for _, k := range [...]string{"reason", "answer", "response", "result", "output", "text", "message"} {
			if s := jsonText(m[k]); strings.TrimSpace(s) != "" {
				return s
			}
		}
	}
	return thoughtsAnswer(th)
}

// thoughtsAnswer is the thoughts' text, else their speak part, else "".
func thoughtsAnswer(th *agent.Thoughts) string {
	if th == nil {
		return ""
	}
	if strings.TrimSpace(th.Text) != "" {
		return th.Text
	}
	return th.Speak
}
