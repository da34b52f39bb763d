package planner

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// ReActStop is the stop sequence ReAct sends (llm.Request.Stop), so that the model ends its turn
// before writing an observation of its own.
const ReActStop = "Observation:"

// DefaultMaxFormatRetriesReAct is ReAct's MaxFormatRetries when the field is 0.
const DefaultMaxFormatRetriesReAct = 1

// ReAct is a Planner for the ReAct text protocol (reason, then act): each step the model writes
//
//	Thought: what to do next
//	Action: a tool's name
//	Action Input: {"the": "arguments as one JSON object"}
//
// and stops; the tool's result comes back as a user message "Observation: ...". When it knows the
// answer it writes "Final Answer: ..." instead of an action. No native tool calling is used: the
// tools are described in the system prompt (name, description, argument schema), and ReActStop is
// sent as a stop sequence. The zero value is ready to use; a ReAct value may be shared by
// concurrent runs.
//
// Reading a reply (labels are matched without case, also with Markdown emphasis such as
// **Action:**):
//   - An Action before any Final Answer wins: it becomes one tool call with ID "react_<step>", and
//     what follows its input (an observation or final answer the model made up) is dropped, also
//     from the history. Text before it (Thought sections, unlabelled text) is the step's thought.
//   - The action's name may be wrapped in backticks, quotes or emphasis; names "none" and "n/a"
//     mean no action. Action Input may span several lines or sit in a code fence. Input that is
//     not a JSON object is repaired when it looks like one; else, when the tool's schema has
//     exactly one property and it is a string, it becomes {"<that property>": "<the text>"}; else
//     it is passed on as written and the loop's validation reports the problem to the model.
//   - A Final Answer before any Action ends the run with that section's text (up to the next
//     label). A reply with no Action and no Final Answer label but some text is the final answer
//     too (its Thought labels removed).
//   - A trailing "Observation" label (left by the stop sequence) is dropped.
//   - An empty reply, or one with labels but no content (an Action without a name, an Action Input
//     without an Action), gets a format reminder as a user message (the count of such replies in a
//     row is kept in the run's planner slot); when a reply is still unusable after
//     MaxFormatRetries reminders, Next returns a *FormatError.
//
// On the run's last step (RunView.LastStep) the prompt asks for the Final Answer only; an Action
// then ends the run with a Final Answer found later in the reply, else the thought, else Next
// returns an error wrapping agent.ErrMaxSteps.
type ReAct struct {
	// MaxFormatRetries is how many unusable replies in a row are answered with a format reminder
	// before Next fails with a *FormatError; 0 means DefaultMaxFormatRetriesReAct (1), negative
	// means none.
	MaxFormatRetries int
	// Instructions, if not empty, are put at the start of the system prompt, before the protocol
	// and the tools.
	Instructions string
}

var (
	_ agent.Planner  = ReAct{}
	_ agent.Observer = ReAct{}
	_ agent.Planner  = (*ReAct)(nil)
)

// Next implements agent.Planner: one model call, read as described on ReAct. It returns the
// model's error, a *FormatError, or an error wrapping agent.ErrMaxSteps (last step, an action and
// nothing to answer with).
func (p ReAct) Next(ctx context.Context, view *agent.RunView) (*agent.Decision, error) {
	st := loadState(view.State)
	resp, err := view.Model.Generate(ctx, p.request(view))
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errNilResponse
	}
	text := resp.Message.Content
	r := parseReAct(text)
	d := &agent.Decision{Thought: r.thought}
	if r.thought != "" {
		d.Thoughts = &agent.Thoughts{Text: r.thought}
	}
	if r.problem == "" && r.hasAction && view.LastStep {
		answer := r.laterAnswer
		if answer == "" {
			answer = r.thought
		}
		if answer == "" {
			return nil, fmt.Errorf("%w: the model asked for action %q on its last step, without an answer", agent.ErrMaxSteps, r.action)
		}
		r.hasAction, r.final, r.answer, r.used = false, true, answer, strings.TrimSpace(text)
	}
	if r.problem != "" {
		if resp.FinishReason == llm.FinishLength {
			r.problem += cutOffNote
		}
		st.FormatFailures++
		if view.LastStep || st.FormatFailures > retries(p.MaxFormatRetries, DefaultMaxFormatRetriesReAct) {
			return nil, &FormatError{Planner: "react", Raw: text, Reason: r.problem, Failures: st.FormatFailures}
		}
		d.State = st.raw()
		d.Messages = append(d.Messages, llm.Message{Role: llm.RoleAssistant, Content: replyText(text)})
		d.Messages = append(d.Messages, llm.Message{Role: llm.RoleUser, Content: p.reminder(view.Tools, r.problem)})
		return d, nil
	}
	st.FormatFailures = 0
	d.State = st.raw()
	d.Messages = []llm.Message{{Role: llm.RoleAssistant, Content: r.used}}
	if r.final {
		d.Final, d.Answer = true, r.answer
		return d, nil
	}
	name := r.action
	spec, ok := findTool(view.Tools, name)
	if ok {
		name = spec.Name
	}
	d.ToolCalls = []llm.ToolCall{{ID: "react_" + strconv.Itoa(view.Step), Name: name, Arguments: argsFromText(r.input, spec)}}
	return d, nil
}

// Observe implements agent.Observer: one user message with a line per result, "Observation:
// CONTENT", or "Observation: error: CONTENT" for a failed call.
func (p ReAct) Observe(calls []llm.ToolCall, results []agent.ToolResult) []llm.Message {
	var b strings.Builder
	for i := range calls {
		r := resultAt(results, i)
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(ReActStop + " ")
		if r.IsError {
			b.WriteString("error: ")
		}
		if strings.TrimSpace(r.Content) == "" {
			b.WriteString("(no output)")
		} else {
			b.WriteString(r.Content)
		}
	}
	return []llm.Message{{Role: llm.RoleUser, Content: b.String()}}
}

// reactFormat is the protocol shown in the prompt.
const reactFormat = `Thought: your reasoning about what to do next
Action: the name of one tool, exactly as listed
Action Input: the tool's arguments as one JSON object
Observation: the tool's result (the system writes this, never you)`

// Prompt returns the system prompt ReAct sends for view: a Config.SystemPrompt other than
// agent.DefaultSystemPrompt, Instructions, the tools with their argument schemas, and the protocol.
func (p ReAct) Prompt(view *agent.RunView) string {
	var b strings.Builder
	if sp := strings.TrimSpace(view.SystemPrompt); sp != "" && view.SystemPrompt != agent.DefaultSystemPrompt {
		b.WriteString(sp + "\n\n")
	}
	if in := strings.TrimSpace(p.Instructions); in != "" {
		b.WriteString(in + "\n\n")
	}
	b.WriteString("Work towards the user's goal step by step, thinking aloud before each action.\n\n")
	if len(view.Tools) == 0 {
		b.WriteString("You have no tools: reply with a Thought, then your Final Answer.\n\n" +
			"Thought: what you concluded\nFinal Answer: your answer for the user")
		return b.String()
	}
	b.WriteString("These are your tools:\n")
	describeTools(&b, view.Tools)
	b.WriteString("\nTo use a tool, reply in exactly this format:\n\n")
	b.WriteString(reactFormat)
	fmt.Fprintf(&b, "\n\nAction is one of: %s. Action Input must be a JSON object that follows the tool's argument schema. "+
		"Write one action per reply, then stop: the system runs the tool and answers with the Observation. "+
		"Thought, Action, Action Input and Observation repeat until you know the answer. Then reply:\n\n"+
		"Thought: what you concluded\nFinal Answer: your answer for the user", joinNames(toolNames(view.Tools)))
	return b.String()
}

// reactLastStepNote is added to the last step's user message.
const reactLastStepNote = ` Do not use a tool: reply with "Final Answer:" followed by your answer.`

// request builds the step's request from view.NewRequest: ReAct's system prompt instead of the
// configured one, no tools, and ReActStop as a stop sequence.
func (p ReAct) request(view *agent.RunView) *llm.Request {
	req := view.NewRequest()
	hist := req.Messages
	if view.SystemPrompt != "" && len(hist) > 0 && hist[0].Role == llm.RoleSystem {
		hist = hist[1:]
	}
	msgs := make([]llm.Message, 0, len(hist)+2)
	msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: p.Prompt(view)})
	msgs = append(msgs, hist...)
	if view.LastStep {
		msgs = withLastStepNote(msgs, reactLastStepNote)
	}
	req.Messages, req.Tools = msgs, nil
	req.Stop = append(req.Stop, ReActStop)
	return req
}

// reminder is the user message that answers an unusable reply.
func (p ReAct) reminder(tools []llm.ToolSpec, problem string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Your last reply did not follow the format: %s. ", problem)
	if len(tools) > 0 {
		fmt.Fprintf(&b, "To use a tool, reply with:\nThought: ...\nAction: one of %s\nAction Input: {\"argument\": \"value\"}\n"+
			"To give your answer, reply with:\n", joinNames(toolNames(tools)))
	} else {
		b.WriteString("Reply with:\n")
	}
	b.WriteString("Thought: ...\nFinal Answer: your answer")
	return b.String()
}

// reactLabel is a ReAct section label.
type reactLabel int

const (
	labelNone reactLabel = iota
	labelThought
	labelAction
	labelInput
	labelObservation
	labelFinal
)

// reactLabels are the spellings accepted, matched without case; longer spellings first.
var reactLabels = [...]struct {
	word  string
	label reactLabel
}{
	{"final answer", labelFinal}, {"final_answer", labelFinal}, {"finalanswer", labelFinal},
	{"action input", labelInput}, {"action_input", labelInput}, {"actioninput", labelInput},
	{"action", labelAction},
	{"thoughts", labelThought}, {"thought", labelThought},
	{"observation", labelObservation},
}

// matchLabel reports the label a line starts with (after white space and Markdown marks such as
// "**" or "#") and the offset in line where its content starts. A label must be followed by ':'
// (emphasis marks may stand between them and after the colon).
func matchLabel(line string) (reactLabel, int) {
	i := skipMarks(line, 0)
	for _, l := range reactLabels {
		n := len(l.word)
		if len(line)-i < n || !strings.EqualFold(line[i:i+n], l.word) {
			continue
		}
		j := skipMarks(line, i+n)
		if j >= len(line) || line[j] != ':' {
			return labelNone, 0
		}
		return l.label, skipMarks(line, j+1)
	}
	return labelNone, 0
}

// skipMarks skips spaces, tabs and the Markdown marks * _ # > from s[i:].
func skipMarks(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t*_#>", s[i]) >= 0 {
		i++
	}
	return i
}

// reactSection is one labelled part of a reply: text[start:end], its content from content.
type reactSection struct {
	label               reactLabel
	start, content, end int
}

func (s reactSection) text(t string) string { return strings.TrimSpace(t[s.content:s.end]) }

// reactReply is what parseReAct read from a reply.
type reactReply struct {
	thought     string
	hasAction   bool
	action      string // the tool name as written (cleaned)
	input       string // the action input text
	final       bool
	answer      string
	laterAnswer string // a Final Answer after the action (used on the last step only)
	used        string // the part of the reply kept in the history
	problem     string // why the reply cannot be used; "" if it can
}

// noAction lists action names that mean "no action".
var noAction = map[string]bool{"none": true, "n/a": true, "na": true, "null": true, "no action": true, "nothing": true}

// inlineCall matches an action written with its input on the same line: name(...), name[...] or
// name {...}.
var inlineCall = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})\s*(?:\((.*)\)|\[(.*)\]|(\{.*))$`)

// parseReAct reads a ReAct reply (see ReAct for the rules).
func parseReAct(text string) reactReply {
	text = stripTrailingObservation(text)
	secs, preamble := reactSections(text)
	var r reactReply
	var thoughts []string
	if p := strings.TrimSpace(preamble); p != "" {
		thoughts = append(thoughts, p)
	}
	sawInput := false
	for i := 0; i < len(secs); i++ {
		s := secs[i]
		switch s.label {
		case labelThought:
			if c := s.text(text); c != "" {
				thoughts = append(thoughts, c)
			}
		case labelInput:
			sawInput = true
		case labelAction:
			name, inline := cleanAction(s.text(text))
			var input *reactSection
			if i+1 < len(secs) && secs[i+1].label == labelInput {
				input = &secs[i+1]
			}
			if noAction[strings.ToLower(name)] {
				if input != nil {
					i++
				}
				continue
			}
			r.thought = strings.Join(thoughts, "\n")
			if name == "" {
				r.problem = "the Action has no tool name"
				return r
			}
			r.hasAction, r.action, r.input = true, name, inline
			end := s.end
			if input != nil {
				r.input, end = input.text(text), input.end
				i++
			}
			r.used = strings.TrimSpace(text[:end])
			for _, later := range secs[i+1:] {
				if later.label == labelFinal && later.text(text) != "" {
					r.laterAnswer = later.text(text)
					break
				}
			}
			return r
		case labelFinal:
			r.thought = strings.Join(thoughts, "\n")
			r.answer = s.text(text)
			if r.answer == "" {
				r.problem = "the Final Answer is empty"
				return r
			}
			r.final, r.used = true, strings.TrimSpace(text[:s.end])
			return r
		}
	}
	// Neither an action nor a final answer: the text itself answers.
	r.answer = strings.Join(thoughts, "\n")
	switch {
	case strings.TrimSpace(text) == "":
		r.problem = "it was empty"
	case r.answer == "" && sawInput:
		r.problem = "it has an Action Input but no Action"
	case r.answer == "":
		r.problem = "it has labels but no content"
	default:
		r.final, r.used = true, strings.TrimSpace(text)
	}
	return r
}

// reactSections splits text into labelled sections and returns them with the text before the first
// label. A section runs to the next label line, except that an Action Input whose content starts
// with a code fence or a JSON object runs to the fence's end or the object's matching brace (so
// label-like lines inside it do not cut it); only the first maxInputExtents inputs are measured so.
func reactSections(text string) ([]reactSection, string) {
	var secs []reactSection
	preambleEnd := len(text)
	extents := 0 // inputs measured by inputEnd: only the first few matter, and each costs a scan
	for pos := 0; pos < len(text); {
		lineEnd := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if lineEnd >= 0 {
			lineEnd += pos
			next = lineEnd + 1
		} else {
			lineEnd = len(text)
		}
		label, off := matchLabel(text[pos:lineEnd])
		if label == labelNone {
			pos = next
			continue
		}
		if n := len(secs); n > 0 {
			secs[n-1].end = pos
		} else {
			preambleEnd = pos
		}
		s := reactSection{label: label, start: pos, content: pos + off, end: len(text)}
		if label == labelInput && extents < maxInputExtents {
			extents++
			if end, ok := inputEnd(text, s.content); ok {
				s.end = end
				secs = append(secs, s)
				pos = end
				continue
			}
		}
		secs = append(secs, s)
		pos = next
	}
	return secs, text[:preambleEnd]
}

// maxInputExtents bounds the Action Input sections whose fence or object is measured (a scan to
// the end of the reply each, when unclosed); later ones end at the next label.
const maxInputExtents = 2

// inputEnd finds where an Action Input that starts at text[from:] ends when it is fenced or a JSON
// object: at the end of the line that holds the closing fence or brace.
func inputEnd(text string, from int) (int, bool) {
	i := from
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
		i++
	}
	endOfLine := func(j int) int {
		if k := strings.IndexByte(text[j:], '\n'); k >= 0 {
			return j + k
		}
		return len(text)
	}
	switch {
	case strings.HasPrefix(text[i:], "```"):
		open := endOfLine(i)
		if k := strings.Index(text[open:], "```"); k >= 0 {
			return endOfLine(open + k), true
		}
	case i < len(text) && text[i] == '{':
		if end, closed, _ := scanObject(text, i); closed {
			return endOfLine(end), true
		}
	}
	return 0, false
}

// cleanAction strips decoration from an action's name (backticks, quotes, emphasis, a trailing
// period or colon) and splits an inline input off it (name(...), name[...], name {...}).
func cleanAction(s string) (name, input string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(strings.TrimSpace(s), "`'\"*_“”‘’ \t.:")
	if m := inlineCall.FindStringSubmatch(s); m != nil {
		return m[1], m[2] + m[3] + m[4]
	}
	return s, ""
}

// stripTrailingObservation drops trailing lines that are only an Observation label (the stop
// sequence may leave "Observation" or "Observation:" behind).
func stripTrailingObservation(text string) string {
	for {
		t := strings.TrimRight(text, " \t\r\n")
		i := strings.LastIndexByte(t, '\n') + 1
		last := strings.Trim(t[i:], " \t*_#>:")
		if !strings.EqualFold(last, "observation") {
			return t
		}
		text = t[:i]
	}
}
