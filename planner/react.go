package planner

import (
	"context"
	"encoding/json"
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
//   - An Observation the model wrote itself is dropped wherever it stands, from the thought and from
//     the history: a section that starts with an "Observation:" line, and the rest of a line (of
//     unlabelled text, a Thought, an Action or an Action Input, not a Final Answer) from an
//     "Observation:" written inside it, such as `Action Input: {"q": "x"} Observation: made up`.
//     A JSON object or code fence given as the input is read to its end first, so an
//     "Observation:" inside its strings stays.
//   - The action's name may be wrapped in backticks, quotes or emphasis. Unless a tool has that
//     name, "Final Answer", "finish" (also written Finish[...]) and names that mean no action
//     ("none", "n/a") take the Action Input as the final answer (a JSON string is decoded, an
//     object {"answer": "..."} gives its text); without an input, "none" means no action and the
//     reading goes on. Action Input may span several lines or sit in a code fence. Input that is
//     not a JSON object is repaired when it looks like one; else, when the tool's schema has
//     exactly one property and it is a string, it becomes {"<that property>": "<the text>"}; else
//     it is passed on as written and the loop's validation reports the problem to the model.
//   - Only the first action runs. Further Actions naming a tool are reported with the result: the
//     next request adds a note naming the actions that were ignored.
//   - A Final Answer before any Action ends the run with that section's text (up to the next
//     label). A reply with no Action and no Final Answer label but some text is the final answer
//     too (its Thought labels removed).
//   - A trailing "Observation" label (left by the stop sequence) is dropped.
//   - A reply that cannot be used gets a format reminder as a user message (the count of such
//     replies in a row is kept in the run's planner slot); when a reply is still unusable after
//     MaxFormatRetries reminders, Next returns a *FormatError. That is an empty reply, one with
//     labels but no content (an Action without a name, an Action Input without an Action), and,
//     whatever it holds, a reply cut off at the output-token limit (llm.FinishLength): its input or
//     answer may have been cut anywhere, so it never runs.
//
// On the run's last step (RunView.LastStep) the prompt asks for the Final Answer only, which ends
// the run as on any step; an Action makes Next return an error that wraps agent.ErrMaxSteps and a
// *FormatError holding the reply (the run ends without an answer). In a typed run
// (agent.RunTyped) the prompt asks for the Final Answer in the form the run needs, and an Action
// of the typed run's agent.OutputToolName tool is also accepted there (it runs as usual).
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
// model's error, a *FormatError, or an error wrapping agent.ErrMaxSteps and a *FormatError (an
// action on the last step).
func (p ReAct) Next(ctx context.Context, view *agent.RunView) (*agent.Decision, error) {
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
	r := parseReAct(text, view.Tools)
	d := &agent.Decision{Thought: r.thought}
	if r.thought != "" {
		d.Thoughts = &agent.Thoughts{Text: r.thought}
	}
	if resp.FinishReason == llm.FinishLength {
		r.problem = cutOffProblem
	}
	spec, found := findTool(view.Tools, r.action)
	if r.problem == "" && r.hasAction && view.LastStep && !isOutputTool(spec, form) {
		return nil, lastStepError("react", text, fmt.Sprintf("action %q on the last step, where only a Final Answer is allowed", clip(r.action, 100)), st.FormatFailures)
	}
	if r.problem != "" {
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
	d.Messages = []llm.Message{{Role: llm.RoleAssistant, Content: r.used}}
	if r.final {
		d.State = st.raw()
		d.Final, d.Answer = true, r.answer
		return d, nil
	}
	name := r.action
	if found {
		name = spec.Name
	}
	if len(r.extra) > 0 && !view.LastStep {
		st.ignore(name, r.extra) // told with the result, in the next request
	}
	d.State = st.raw()
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

// typedReactLastStepNote replaces reactLastStepNote in a typed run, whose answer must take form.
func typedReactLastStepNote(form string) string {
	return ` Do not use a tool: reply with "Final Answer:" followed by your answer and nothing after it, the answer in this form: ` + form
}

// request builds the step's request from view.NewRequest: ReAct's system prompt instead of the
// configured one, no tools, ReActStop as a stop sequence, the note about ignored actions (st), and
// the last step's instruction. It returns the form a typed run's last answer must take ("" otherwise).
func (p ReAct) request(view *agent.RunView, st plannerState) (*llm.Request, string) {
	req, msgs := requestWithPrompt(view, p.Prompt(view))
	form := ""
	if view.LastStep {
		msgs, form = withFinalStep(msgs, func(form string) string {
			if form == "" {
				return reactLastStepNote
			}
			return typedReactLastStepNote(form)
		})
	} else {
		msgs = withIgnoredNote(msgs, st, "action")
	}
	req.Messages, req.Tools = msgs, nil
	req.Stop = append(req.Stop, ReActStop)
	return req, form
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
	thought   string
	hasAction bool
	action    string // the tool name as written (cleaned)
	input     string // the action input text
	final     bool
	answer    string
	extra     []string // the tools named by further actions, ignored (canonical names)
	used      string   // the part of the reply kept in the history
	problem   string   // why the reply cannot be used; "" if it can
}

// noAction lists action names that mean "no action" (see actionWord).
var noAction = map[string]bool{"none": true, "n/a": true, "na": true, "null": true, "no action": true, "nothing": true}

// finalAction lists action names that mean "this is the final answer" (see actionWord).
var finalAction = map[string]bool{"final answer": true, "finalanswer": true, "finish": true}

// actionWord is an action's name lower-cased, with '_' and '-' read as spaces.
func actionWord(name string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("_", " ", "-", " ").Replace(strings.ToLower(name))), " ")
}

// inlineCall matches an action written with its input on the same line: name(...), name[...] or
// name {...}.
var inlineCall = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})\s*(?:\((.*)\)|\[(.*)\]|(\{.*))$`)

// parseReAct reads a ReAct reply (see ReAct for the rules); tools decide whether an action named
// like a final answer ("finish") is a tool.
func parseReAct(text string, tools []llm.ToolSpec) reactReply {
	text = stripTrailingObservation(text)
	secs, preambleEnd := reactSections(text)
	var r reactReply
	var thoughts []string
	if p := strings.TrimSpace(text[:preambleEnd]); p != "" {
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
			name, input := cleanAction(s.text(text))
			if i+1 < len(secs) && secs[i+1].label == labelInput {
				i++
				input = secs[i].text(text)
			}
			if w := actionWord(name); noAction[w] || finalAction[w] {
				if _, isTool := findTool(tools, name); !isTool {
					if answer := answerFromInput(input); answer != "" {
						r.thought = strings.Join(thoughts, "\n")
						r.final, r.answer, r.used = true, answer, keptText(text, preambleEnd, secs[:i+1])
						return r
					}
					continue // no action: read on
				}
			}
			r.thought = strings.Join(thoughts, "\n")
			if name == "" {
				r.problem = "the Action has no tool name"
				return r
			}
			r.hasAction, r.action, r.input, r.used = true, name, input, keptText(text, preambleEnd, secs[:i+1])
			for _, later := range secs[i+1:] {
				if later.label != labelAction {
					continue
				}
				n, _ := cleanAction(later.text(text))
				if spec, ok := findTool(tools, n); ok && len(r.extra) < maxIgnored {
					r.extra = append(r.extra, spec.Name)
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
			r.final, r.used = true, keptText(text, preambleEnd, secs[:i+1])
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
		r.final, r.used = true, keptText(text, preambleEnd, secs)
	}
	return r
}

// answerFromInput reads the Action Input of a final-answer action ("Action: Final Answer"): a JSON
// string decoded, an object with one member named like an answer ("answer", "final_answer",
// "response", "result", "output", "text") that is a string gives that string, other text is the
// answer as written. Text that means nothing ("", "none", "n/a", "{}", "null", `""`) is "".
func answerFromInput(input string) string {
	s := strings.TrimSpace(stripFence(input))
	if s == "" || noAction[actionWord(s)] || s == "{}" || s == `""` {
		return ""
	}
	if v, ok := jsonString(json.RawMessage(s)); ok {
		return strings.TrimSpace(v)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &m) == nil && len(m) == 1 {
		for k, v := range lowerKeys(m) {
			switch k {
			case "answer", "final_answer", "final answer", "response", "result", "output", "text":
				if a, ok := jsonString(v); ok && strings.TrimSpace(a) != "" {
					return strings.TrimSpace(a)
				}
			}
		}
	}
	return s
}

// keptText is the part of text kept in the history when a reply is read up to the end of the last
// of secs: the text before the first section (up to preambleEnd), then every section but the
// Observations, each ending on a line of its own where an Observation was cut out after it.
func keptText(text string, preambleEnd int, secs []reactSection) string {
	var b strings.Builder
	write := func(piece string, cutAfter bool) {
		if cutAfter && piece != "" && !strings.HasSuffix(piece, "\n") {
			piece = strings.TrimRight(piece, " \t") + "\n"
		}
		b.WriteString(piece)
	}
	write(text[:preambleEnd], len(secs) > 0 && secs[0].label == labelObservation)
	for j, s := range secs {
		if s.label != labelObservation {
			write(text[s.start:s.end], j+1 < len(secs) && secs[j+1].label == labelObservation)
		}
	}
	return strings.TrimSpace(b.String())
}

// reactSections splits text into labelled sections and returns them with the end of the text
// before the first one. A section runs to the next label line, except that:
//   - an Action Input whose content starts with a code fence or a JSON object runs at least to the
//     fence's end or the object's matching brace (so label-like lines inside it do not cut it);
//     only the first maxInputExtents inputs are measured so;
//   - an "Observation:" written inside a line of the text before the first label, of a Thought, an
//     Action or an Action Input (after a measured input's end) starts an Observation section
//     there (see inlineObservation).
func reactSections(text string) ([]reactSection, int) {
	var secs []reactSection
	preambleEnd := len(text)
	open := func(s reactSection) {
		if n := len(secs); n > 0 {
			secs[n-1].end = s.start
		} else {
			preambleEnd = s.start
		}
		secs = append(secs, s)
	}
	// inline opens an Observation section at the first "Observation:" inside text[from:to].
	inline := func(from, to int) bool {
		start, content := inlineObservation(text, from, to)
		if start < 0 {
			return false
		}
		open(reactSection{label: labelObservation, start: start, content: content, end: len(text)})
		return true
	}
	cur := labelNone // the section being read; labelNone before the first label
	extents := 0     // inputs measured by inputEnd: only the first few matter, and each costs a scan
	for pos := 0; pos < len(text); {
		lineEnd, next := lineBounds(text, pos)
		label, off := matchLabel(text[pos:lineEnd])
		if label == labelNone {
			if cur != labelFinal && cur != labelObservation && inline(pos, lineEnd) {
				cur = labelObservation
			}
			pos = next
			continue
		}
		s := reactSection{label: label, start: pos, content: pos + off, end: len(text)}
		open(s)
		cur = label
		if label == labelFinal || label == labelObservation {
			pos = next
			continue
		}
		from := s.content
		if label == labelInput && extents < maxInputExtents {
			extents++
			if closed, ok := inputEnd(text, s.content); ok {
				from = closed // what follows the fence or the object on its last line
				lineEnd, next = lineBounds(text, closed)
			}
		}
		if inline(from, lineEnd) {
			cur = labelObservation
		}
		pos = next
	}
	return secs, preambleEnd
}

// lineBounds returns the end of the line that holds text[pos] (its '\n', or len(text)) and the
// start of the next line.
func lineBounds(text string, pos int) (end, next int) {
	if i := strings.IndexByte(text[pos:], '\n'); i >= 0 {
		return pos + i, pos + i + 1
	}
	return len(text), len(text)
}

// inlineObservation finds an observation label written inside text[from:to]: "Observation", in
// this case (as the stop sequence), at from or after a byte that is not a letter, digit or '_',
// then optional emphasis marks and a colon. It returns where the label starts (with the emphasis
// marks just before it) and where its content starts, or -1, -1.
func inlineObservation(text string, from, to int) (start, content int) {
	const word = "Observation"
	for i := from; i < to; {
		k := strings.Index(text[i:to], word)
		if k < 0 {
			break
		}
		k += i
		j := k + len(word)
		for j < to && (text[j] == '*' || text[j] == '_' || text[j] == ' ') {
			j++
		}
		if j < to && text[j] == ':' && (k == from || !isWordByte(text[k-1])) {
			start := k
			for start > from && (text[start-1] == '*' || text[start-1] == '_') {
				start-- // emphasis around the label: **Observation:**
			}
			return start, min(skipMarks(text, j+1), to)
		}
		i = k + len(word)
	}
	return -1, -1
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// maxInputExtents bounds the Action Input sections whose fence or object is measured (a scan to
// the end of the reply each, when unclosed); later ones end at the next label.
const maxInputExtents = 2

// inputEnd finds where an Action Input that starts at text[from:] ends when it is fenced or a JSON
// object: just after the closing fence or brace.
func inputEnd(text string, from int) (int, bool) {
	i := from
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
		i++
	}
	switch {
	case strings.HasPrefix(text[i:], "```"):
		open, _ := lineBounds(text, i)
		if k := strings.Index(text[open:], "```"); k >= 0 {
			return open + k + 3, true
		}
	case i < len(text) && text[i] == '{':
		if end, closed, _ := scanObject(text, i); closed {
			return end, true
		}
	}
	return 0, false
}

// cleanAction strips decoration from an action's name (backticks, quotes, emphasis, a trailing
// period or colon) and splits an inline input off it (name(...), name[...], name {...}, and
// "Final Answer: text").
func cleanAction(s string) (name, input string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(strings.TrimSpace(s), "`'\"*_“”‘’ \t.:")
	if m := inlineCall.FindStringSubmatch(s); m != nil {
		return m[1], m[2] + m[3] + m[4]
	}
	if label, off := matchLabel(s); label == labelFinal {
		return "Final Answer", strings.TrimSpace(s[off:])
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
