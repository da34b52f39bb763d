package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// errNilResponse is returned when a model answers with neither a response nor an error.
var errNilResponse = errors.New("planner: model returned a nil response")

// ErrFormat is matched (errors.Is) by every *FormatError: the model kept replying in a form the
// planner could not use.
var ErrFormat = errors.New("planner: model reply not in the expected format")

// FormatError is returned by a planner's Next when the model's reply could not be used and no
// correction is left: after MaxFormatRetries consecutive unusable replies, or on the run's last
// step (where no later step could carry a correction). It unwraps to ErrFormat.
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
// JSON shape: {"format_failures": 1}.
type plannerState struct {
	// FormatFailures counts the consecutive replies that could not be used.
	FormatFailures int `json:"format_failures"`
}

// loadState decodes the planner slot. A slot that is empty or not ours reads as the zero state: a
// corrupt count must not stop a run, the worst outcome is one more correction.
func loadState(raw json.RawMessage) plannerState {
	var s plannerState
	if len(raw) > 0 && json.Unmarshal(raw, &s) != nil {
		s = plannerState{}
	}
	s.FormatFailures = max(s.FormatFailures, 0)
	return s
}

func (s plannerState) raw() json.RawMessage {
	b, _ := json.Marshal(s) // a struct of one int: cannot fail
	return b
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

// cutOffNote is added to a problem when the reply ended at the output-token limit.
const cutOffNote = " (the reply was cut off at the output-token limit: keep it shorter)"
