package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// errNilResponse is returned when a model answers with neither a response nor an error.
var errNilResponse = errors.New("planner: model returned a nil response")

// ErrFormat is matched (errors.Is) by every *FormatError: the model kept replying in a form the
// planner could not use.
var ErrFormat = errors.New("planner: model reply not in the expected format")

// FormatError is returned by a planner's Next when the model's reply could not be used and no
// correction is left: after MaxFormatRetries consecutive unusable replies, or on the run's last
// step (where no later step could carry a correction). It unwraps to ErrFormat. A reply that asks
// for a command on the last step, where only a final answer is allowed, gives a FormatError
// wrapped together with agent.ErrMaxSteps (errors.Is matches both, errors.As finds the
// FormatError and its Raw reply).
type FormatError struct {
	// Planner names the planner: "autogpt" or "react".
	Planner string
	// Raw is the model's reply text, exactly as received (for native tool calls in AutoGPT, the
	// text part only).
	Raw string
	// Reason says what was wrong, in the words sent to the model ("no command", "unknown command
	// \"x\"", "not valid JSON: ...").
	Reason string
	// Failures counts the consecutive unusable replies, this one included.
	Failures int
}

// Error returns a one-line message with the planner, the reason, the failure count and the start
// of the raw reply (at most 200 bytes of it, cut at a rune boundary).
func (e *FormatError) Error() string {
	return fmt.Sprintf("planner: %s: model reply not in the expected format (%d in a row): %s; reply: %q",
		e.Planner, e.Failures, e.Reason, clip(e.Raw, 200))
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// plannerState is what AutoGPT and ReAct keep in the run's planner slot (Decision.State), in this
// JSON shape: {"format_failures": 1}, or, after a reply that asked for several commands,
// {"format_failures": 0, "ran": "search", "ignored": ["write_file"]}.
type plannerState struct {
	// FormatFailures counts the consecutive replies that could not be used.
	FormatFailures int `json:"format_failures"`
	// Ran and Ignored are set by a step whose reply asked for more than one command (AutoGPT) or
	// action (ReAct): Ran names the one that was run, Ignored the others. The next request tells
	// the model, with the result, that those were not run.
	Ran     string   `json:"ran,omitempty"`
	Ignored []string `json:"ignored,omitempty"`
}

// maxIgnored bounds the ignored commands named in the state and in the note to the model.
const maxIgnored = 10

// loadState decodes the planner slot. A slot that is empty or not ours reads as the zero state: a
// corrupt count must not stop a run, the worst outcome is one more correction.
func loadState(raw json.RawMessage) plannerState {
	var s plannerState
	if len(raw) > 0 && json.Unmarshal(raw, &s) != nil {
		s = plannerState{}
	}
	s.FormatFailures = max(s.FormatFailures, 0)
	if len(s.Ignored) > maxIgnored {
		s.Ignored = s.Ignored[:maxIgnored]
	}
	return s
}

func (s plannerState) raw() json.RawMessage {
	b, _ := json.Marshal(s) // an int and strings: cannot fail
	return b
}

// told clears what the next request tells the model (see ignoredNote): a state saved by this step
// must not tell it again.
func (s *plannerState) told() { s.Ran, s.Ignored = "", nil }

// ignore records that only ran was run of the commands of a reply; ignored are the others.
func (s *plannerState) ignore(ran string, ignored []string) {
	if len(ignored) > maxIgnored {
		ignored = ignored[:maxIgnored]
	}
	s.Ran, s.Ignored = ran, ignored
}

// ignoredNote is the note that tells the model which commands (what: "command" or "action") of its
// last reply were not run; "" when none were ignored.
func (s plannerState) ignoredNote(what string) string {
	if len(s.Ignored) == 0 {
		return ""
	}
	return fmt.Sprintf("Note: your last reply asked for more than one %s. Only the first, %s, was run; "+
		"the other %s (%s) %s ignored. Ask for each one still needed again, one %s per reply.",
		what, clip(s.Ran, 100), plural(len(s.Ignored), what, what+"s"), clip(joinNames(s.Ignored), 300),
		plural(len(s.Ignored), "was", "were"), what)
}

// withIgnoredNote adds the state's ignored note to the last message of msgs, which a step after
// tool calls is the results (a user message, or a tool message with native tool calls). The
// message is the request's copy: the history is not changed.
func withIgnoredNote(msgs []llm.Message, s plannerState, what string) []llm.Message {
	note := s.ignoredNote(what)
	n := len(msgs)
	if note == "" || n == 0 {
		return msgs
	}
	if r := msgs[n-1].Role; r == llm.RoleUser || r == llm.RoleTool {
		msgs[n-1].Content = strings.TrimRight(msgs[n-1].Content, " \t\r\n") + "\n\n" + note
		return msgs
	}
	return append(msgs, llm.Message{Role: llm.RoleUser, Content: note})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// retries maps a MaxFormatRetries field to the number of corrections allowed: 0 means def,
// negative means none.
func retries(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// clip cuts s to at most n bytes at a rune boundary, marking a cut with "...".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// joinNames lists names as `a, b, c`.
func joinNames(names []string) string { return strings.Join(names, ", ") }

// emptyReply stands in the history for a blank reply, so that user and assistant messages still
// alternate (some providers require it) and no assistant message is empty (Anthropic refuses those).
const emptyReply = "(empty reply)"

// replyText is text, or emptyReply when text is blank.
func replyText(text string) string {
	if strings.TrimSpace(text) == "" {
		return emptyReply
	}
	return text
}

// cutOffProblem is the problem of a reply that ended at the output-token limit (finish reason
// llm.FinishLength). Such a reply is never used, whatever it holds: its command's arguments, or its
// answer, may have been cut anywhere.
const cutOffProblem = "it was cut off at the output-token limit, so nothing in it was used: keep your reply shorter, " +
	"and write big content in several steps (for example a long file in parts)"

// Typed runs (agent.RunTyped): the last step's user message that agent.RunView.NewRequest ends with
// is agent.FinalStepPrompt followed by typedPrefix, the answer's form, and typedSuffix.
const (
	typedPrefix = "Answer with "
	typedSuffix = " and nothing else."
)

// finalStepMessage finds the last step's user message that agent.RunView.NewRequest ends msgs with
// (it starts with agent.FinalStepPrompt) and returns its index (-1 when there is none) and, in a
// typed run, the form the answer must take (such as "a JSON object matching this JSON Schema:
// {...}"), else "".
func finalStepMessage(msgs []llm.Message) (at int, form string) {
	n := len(msgs)
	if n == 0 || msgs[n-1].Role != llm.RoleUser || !strings.HasPrefix(msgs[n-1].Content, agent.FinalStepPrompt) {
		return -1, ""
	}
	rest := strings.TrimSpace(strings.TrimPrefix(msgs[n-1].Content, agent.FinalStepPrompt))
	if f, ok := strings.CutPrefix(rest, typedPrefix); ok {
		if f, ok = strings.CutSuffix(f, typedSuffix); ok {
			return n - 1, strings.TrimSpace(f)
		}
	}
	return n - 1, rest // a form said otherwise: passed on as it is
}

// withFinalStep rewrites the last step's user message of msgs (or appends one): agent.FinalStepPrompt
// followed by note(form), form being what finalStepMessage found. It returns the messages and the
// form.
func withFinalStep(msgs []llm.Message, note func(form string) string) ([]llm.Message, string) {
	at, form := finalStepMessage(msgs)
	text := agent.FinalStepPrompt + note(form)
	if at < 0 {
		return append(msgs, llm.Message{Role: llm.RoleUser, Content: text}), form
	}
	msgs[at].Content = text
	return msgs, form
}

// isOutputTool reports whether spec is the tool through which a typed run (form != "") takes its
// answer: a call of it on the last step is the answer, not a step too many.
func isOutputTool(spec *llm.ToolSpec, form string) bool {
	return form != "" && spec != nil && spec.Name == agent.OutputToolName
}

// lastStepError is the error of a reply that asks for a command on the run's last step: it wraps
// agent.ErrMaxSteps (the run ended without an answer) and a *FormatError holding the reply.
func lastStepError(planner, raw, reason string, failures int) error {
	return fmt.Errorf("%w: %w", agent.ErrMaxSteps, &FormatError{Planner: planner, Raw: raw, Reason: reason, Failures: failures + 1})
}

// requestWithPrompt returns view.NewRequest() and its messages with the configured system prompt
// replaced by prompt (a text planner brings its own protocol), with room for two more messages.
func requestWithPrompt(view *agent.RunView, prompt string) (*llm.Request, []llm.Message) {
	req := view.NewRequest()
	hist := req.Messages
	if view.SystemPrompt != "" && len(hist) > 0 && hist[0].Role == llm.RoleSystem {
		hist = hist[1:]
	}
	msgs := make([]llm.Message, 0, len(hist)+3)
	msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: prompt})
	return req, append(msgs, hist...)
}
