package planner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// FinishCommand is the name of AutoGPT's built-in command that ends the run. Its one argument,
// "reason", becomes the run's final answer. No tool may have this name, in any case, while AutoGPT
// plans (see AutoGPT.ValidateTools).
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
		"The commands listed above and what they return.",
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
// AutoGPT value may be shared by concurrent runs: it is only read. No tool may be named "finish"
// in any case: agent.New refuses such tools (AutoGPT implements agent.ToolValidator).
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
// with the finish reason as Answer. A reply that cannot be used is answered with a user message
// that says what was wrong and repeats the format; after MaxFormatRetries such replies in a row,
// Next returns a *FormatError. A reply cannot be used when it has no JSON, no command or an
// unknown command; when it is a finish without an answer (no reason and no thoughts); when it
// holds finish and also other commands (they must run first); and, whatever it holds, when it was
// cut off at the output-token limit (llm.FinishLength), since its arguments may have been cut
// anywhere: such a reply never runs.
//
// One command runs per step. When a reply asks for several (further JSON objects with a command,
// a "command" key written twice, several native tool calls), the first runs, and the next request
// adds to its result a note naming the commands that were ignored, so that the model can ask for
// them again.
//
// On the run's last step (RunView.LastStep) the prompt says that only finish is allowed, and a
// finish is the final answer as on any step; any other command makes Next return an error that
// wraps agent.ErrMaxSteps and a *FormatError holding the reply (the run ends without an answer).
// In a typed run (agent.RunTyped), whose last request asks for an answer of a given form, the
// prompt asks for finish with that answer as its "answer" argument (with NativeTools, the finish
// tool's "answer" parameter takes the answer's schema); the argument, as JSON text, is the
// Decision's Answer, which the loop then checks. A call of the typed run's agent.OutputToolName
// tool is also accepted there, and runs as usual.
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
	// native tool call is then the command (the first one, if the model made several: the others
	// are not run, and the model is told so with the result); a reply without one may still give
	// its command in the JSON text. Executed commands then stay native tool calls in the history,
	// answered by tool messages.
	NativeTools bool
}

var (
	_ agent.Planner       = AutoGPT{}
	_ agent.Observer      = AutoGPT{}
	_ agent.ToolValidator = AutoGPT{}
	_ agent.Planner       = (*AutoGPT)(nil)
)

// ValidateTools implements agent.ToolValidator: agent.New calls it with the tools offered. It
// refuses a tool named FinishCommand in any case ("finish", "Finish", "FINISH"): the model's
// finish, whatever its case, always ends the run, so such a tool could never run.
func (AutoGPT) ValidateTools(tools []llm.ToolSpec) error {
	for _, t := range tools {
		if strings.EqualFold(t.Name, FinishCommand) {
			return fmt.Errorf("planner: autogpt: tool %q cannot be offered: AutoGPT reserves the command name %q "+
				"(in any case) for ending the run; rename the tool", t.Name, FinishCommand)
		}
	}
	return nil
}

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
// model's error, a *FormatError, an error wrapping agent.ErrMaxSteps and a *FormatError (last step,
// a command other than finish), or ValidateTools' error when a tool is named finish (a view built
// without agent.New).
func (p AutoGPT) Next(ctx context.Context, view *agent.RunView) (*agent.Decision, error) {
	if err := p.ValidateTools(view.Tools); err != nil {
		return nil, err
	}
	st := loadState(view.State)
	req, form := p.request(view, st)
	st.told()
	resp, err := view.Model.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errNilResponse
	}
	text := resp.Message.Content
	r := parseAutoGPT(text)
	nativeID := ""
	if calls := resp.Message.ToolCalls; p.NativeTools && len(calls) > 0 {
		c := calls[0]
		r.hasCommand, r.name, nativeID = true, c.Name, c.ID
		r.args = json.RawMessage(c.Arguments)
		if !json.Valid(r.args) {
			r.args, _ = json.Marshal(c.Arguments) // malformed arguments: read as text (and repaired)
		}
		r.extra = r.extra[:0] // the native calls are the commands, not the text's
		for _, c := range calls[1:] {
			r.extra = append(r.extra, c.Name)
		}
	}
	d := &agent.Decision{Thoughts: r.thoughts}
	name, spec, problem := resolveCommand(view.Tools, r)
	extra := knownCommands(view.Tools, r.extra)
	var answer string
	switch {
	case resp.FinishReason == llm.FinishLength:
		problem = cutOffProblem
	case problem != "":
	case name == FinishCommand:
		answer = finishAnswer(r.args, r.thoughts, form != "")
		if strings.TrimSpace(answer) == "" {
			arg := "reason"
			if form != "" {
				arg = "answer"
			}
			problem = fmt.Sprintf(`its %s command has no answer: give your final answer for the user as its %q argument`, FinishCommand, arg)
		} else if others := withoutFinish(extra); len(others) > 0 && !view.LastStep {
			problem = fmt.Sprintf("it has the command %s and also %s, which would not run: run %s first, one command per reply, then %s",
				FinishCommand, joinNames(others), plural(len(others), "it", "them"), FinishCommand)
		}
	case view.LastStep && !isOutputTool(spec, form):
		return nil, lastStepError("autogpt", text, fmt.Sprintf("command %q on the last step, where only %s is allowed", name, FinishCommand), st.FormatFailures)
	}
	if problem != "" {
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
	if name == FinishCommand {
		d.State = st.raw()
		d.Final, d.Answer = true, answer
		if strings.TrimSpace(text) != "" {
			d.Messages = []llm.Message{{Role: llm.RoleAssistant, Content: text}}
		}
		return d, nil
	}
	if len(extra) > 0 && !view.LastStep {
		st.ignore(name, extra) // told with the result, in the next request
	}
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

// knownCommands returns the canonical names of those of names that are commands (a tool, or
// finish), in order: a further object whose "command" names nothing known is taken for prose.
func knownCommands(tools []llm.ToolSpec, names []string) []string {
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if strings.EqualFold(n, FinishCommand) {
			out = append(out, FinishCommand)
		} else if spec, ok := findTool(tools, n); ok {
			out = append(out, spec.Name)
		}
	}
	return out
}

// withoutFinish returns names without FinishCommand.
func withoutFinish(names []string) []string {
	var out []string
	for _, n := range names {
		if n != FinishCommand {
			out = append(out, n)
		}
	}
	return out
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

// lastStepNote is added to the last step's user message (AutoGPT.NativeTools: nativeLastStepNote).
const (
	lastStepNote = " Only the " + FinishCommand + " command is allowed now: reply in the JSON format with the command " +
		FinishCommand + " and your final answer as its reason."
	nativeLastStepNote = " Only the " + FinishCommand + " tool is allowed now: call it with your final answer as its reason."
)

// typedLastStepNote replaces lastStepNote in a typed run, whose answer must take form.
func (p AutoGPT) typedLastStepNote(form string) string {
	note := " Only the " + FinishCommand + " command is allowed now: reply in the JSON format with the command " + FinishCommand + " and"
	if p.NativeTools {
		note = " Only the " + FinishCommand + " tool is allowed now: call it with"
	}
	note += ` your final answer as its "answer" argument. That answer must be ` + strings.TrimSuffix(form, ".")
	if strings.Contains(form, "JSON") {
		note += ", given as the argument's value itself, not inside a string"
	}
	return note + "."
}

// request builds the step's request from view.NewRequest (history, output cap, temperature, the
// last step's prompt): AutoGPT's system prompt instead of the configured one, no tools unless
// NativeTools, the note about ignored commands (st), and the last step's instruction. It returns the
// form a typed run's last answer must take ("" otherwise).
func (p AutoGPT) request(view *agent.RunView, st plannerState) (*llm.Request, string) {
	req, msgs := requestWithPrompt(view, p.Prompt(view))
	form := ""
	if view.LastStep {
		msgs, form = withFinalStep(msgs, func(form string) string {
			switch {
			case form != "":
				return p.typedLastStepNote(form)
			case p.NativeTools:
				return nativeLastStepNote
			}
			return lastStepNote
		})
	} else {
		msgs = withIgnoredNote(msgs, st, "command")
	}
	req.Messages = msgs
	req.Tools = nil
	if p.NativeTools {
		switch {
		case form != "":
			req.Tools = []llm.ToolSpec{typedFinishSpec(view.Tools, form)}
		case view.LastStep:
			req.Tools = []llm.ToolSpec{finishSpec}
		default:
			req.Tools = append(append(make([]llm.ToolSpec, 0, len(view.Tools)+1), view.Tools...), finishSpec)
		}
	}
	return req, form
}

// typedFinishSpec is the native finish tool of a typed run's last step: its "answer" parameter has
// the schema of the run's agent.OutputToolName tool when that schema stands alone (no $ref), else it
// is a string described by form.
func typedFinishSpec(tools []llm.ToolSpec, form string) llm.ToolSpec {
	answer := mustJSON(map[string]string{"type": "string", "description": "The final answer, as " + form})
	for _, t := range tools {
		if t.Name == agent.OutputToolName && json.Valid(t.Parameters) && !bytes.Contains(t.Parameters, []byte(`"$ref"`)) {
			answer = compactJSON(t.Parameters)
		}
	}
	return llm.ToolSpec{
		Name:        FinishCommand,
		Description: "End the run with the final answer, given as the answer argument.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"answer":` + answer + `},"required":["answer"]}`),
	}
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
	extra      []string        // the names of the reply's further commands, in order ("" if unnamed)
}

// parseAutoGPT reads an AutoGPT reply: the first JSON object with a non-null "command" member
// (keys compared without case) supplies the command; its "thoughts", or those of an earlier object,
// the thoughts. "command" may be an object {"name", "args"} (also "arguments", "parameters",
// "input") or a bare name string (args then from a top-level "args" or "arguments"). Thoughts may
// be an object (a plan given as a list becomes "- item" lines) or a string (the text). Further
// commands (a "command" key written again, in any case, and the commands of later objects, when
// the command's object is complete) are listed in extra. A key written twice keeps its first value.
func parseAutoGPT(text string) autoGPTReply {
	r := autoGPTReply{text: text}
	eachObject(text, func(obj jsonObject) bool {
		r.found = true
		cmds := obj.all("command")
		if r.hasCommand { // an object after the command's: its commands are extra
			for _, c := range cmds {
				name, _ := commandOf(c, nil)
				r.extra = append(r.extra, name)
			}
			return true
		}
		m := lowerKeys(obj.first())
		th := parseThoughts(firstPresent(m, "thoughts", "thought"))
		if len(cmds) == 0 {
			if r.thoughts == nil {
				r.thoughts = th
			}
			return true
		}
		if th != nil {
			r.thoughts = th
		}
		r.hasCommand = true
		r.name, r.args = commandOf(cmds[0], m)
		for _, c := range cmds[1:] {
			name, _ := commandOf(c, nil)
			r.extra = append(r.extra, name)
		}
		// Look for further commands only after a complete object: the objects inside a repaired
		// one (its args, say) are not commands.
		return obj.closed
	})
	return r
}

// commandOf reads a "command" value: a name string, its args then taken from the object's members
// m (lower-cased keys; nil for none), or an object {"name", "args"} (other spellings accepted).
func commandOf(cmd json.RawMessage, m map[string]json.RawMessage) (name string, args json.RawMessage) {
	if s, ok := jsonString(cmd); ok {
		return strings.TrimSpace(s), firstPresent(m, "args", "arguments")
	}
	var cm map[string]json.RawMessage
	if json.Unmarshal(cmd, &cm) != nil || cm == nil {
		return "", nil
	}
	cm = lowerKeys(cm)
	for _, k := range [...]string{"name", "command", "tool"} {
		if s, ok := jsonString(cm[k]); ok && strings.TrimSpace(s) != "" {
			name = strings.TrimSpace(s)
			break
		}
	}
	args = firstPresent(cm, "args", "arguments", "parameters", "input")
	if args == nil {
		args = firstPresent(m, "args", "arguments")
	}
	return name, args
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
// string), else the thoughts' text or speak, else "".
//
// In a typed run's last step (typed) the answer is JSON for the loop to check: the "answer"
// argument (or "reason", "final_answer", "result", "output"), a string as it is and any other value
// as compact JSON; else, when the args hold none of these, the args object itself (the answer's
// fields given as the args); else "".
func finishAnswer(args json.RawMessage, th *agent.Thoughts, typed bool) string {
	if s, ok := jsonString(args); ok {
		switch ds := strings.TrimSpace(s); {
		case strings.HasPrefix(ds, "{"):
			args = json.RawMessage(argsFromText(ds, nil))
		case ds != "":
			return s
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(args, &m) != nil {
		m = nil
	}
	if typed {
		lm := lowerKeys(m)
		for _, k := range [...]string{"answer", "reason", "final_answer", "result", "output"} {
			v := bytes.TrimSpace(lm[k])
			if isNull(v) {
				continue
			}
			if s, ok := jsonString(v); ok {
				if strings.TrimSpace(s) != "" {
					return s
				}
				continue
			}
			return compactJSON(v)
		}
		if len(m) > 0 {
			return compactJSON(args)
		}
		return ""
	}
	if m != nil {
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
