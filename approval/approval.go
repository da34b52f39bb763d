// Package approval holds human-in-the-loop approvers for agent.Hooks.BeforeToolCall: Terminal asks
// a person on a terminal (or any reader and writer) before each tool call.
package approval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/internal/termsafe"
	"github.com/autogpt-go/agent/llm"
)

// ErrStopped is returned (wrapped) by a Terminal's hook when the person answers "n" or the input
// ends: the run stops before the call, with its partial Result.
var ErrStopped = errors.New("approval: stopped by the user")

// Prompt is the question a Terminal asks.
const Prompt = "Enter 'y' to run it, 'y -N' to run the next N commands, 'n' to stop, or feedback for the agent: "

// Terminal asks before each tool call. Build it with NewTerminal; use its Hook as
// agent.Hooks.BeforeToolCall. The hook runs one call at a time (the loop calls it so), and is not
// meant for concurrent runs.
//
// Answers: "y" (or "yes") runs the call; "y -N" runs it and the next N-1 calls without asking; "n"
// (or "no") stops the run with ErrStopped, as does the end of the input; an empty line declines
// the call (the model is told so); any other text declines it and is sent to the model as feedback.
// The call is shown first: its tool name and its arguments one per line, in the order the model
// wrote them, each value shortened on its own (so a long value cannot push a path out of view) and
// stripped of terminal escapes.
type Terminal struct {
	lines <-chan string
	out   io.Writer
	free  int
}

// NewTerminal returns a Terminal reading answers from in and writing to out. Answers are read on a
// goroutine of their own, so that cancelling the run's context stops a pending question at once;
// that goroutine ends with the input or when ctx ends.
func NewTerminal(ctx context.Context, in io.Reader, out io.Writer) *Terminal {
	lines := make(chan string)
	go func() {
		defer close(lines)
		r := bufio.NewReader(in)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				select {
				case lines <- line:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return &Terminal{lines: lines, out: out}
}

// Hook is an agent.Hooks.BeforeToolCall function. It returns ctx.Err() when ctx ends while it waits.
func (t *Terminal) Hook(ctx context.Context, call llm.ToolCall) (agent.ToolVerdict, error) {
	fmt.Fprintf(t.out, "COMMAND = %s\n%s", termsafe.Strip(call.Name), FormatArguments(call.Arguments))
	if t.free > 0 {
		t.free--
		return agent.ToolVerdict{}, nil
	}
	fmt.Fprint(t.out, Prompt)
	var line string
	select {
	case <-ctx.Done():
		fmt.Fprintln(t.out)
		return agent.ToolVerdict{}, ctx.Err()
	case l, ok := <-t.lines:
		if !ok {
			fmt.Fprintln(t.out)
			return agent.ToolVerdict{}, fmt.Errorf("%w (end of input)", ErrStopped)
		}
		line = l
	}
	answer := strings.TrimSpace(line)
	fields := strings.Fields(answer)
	switch {
	case strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes"):
		return agent.ToolVerdict{}, nil
	case len(fields) == 2 && strings.EqualFold(fields[0], "y") && strings.HasPrefix(fields[1], "-"):
		if n, err := strconv.Atoi(fields[1][1:]); err == nil && n > 0 {
			t.free = n - 1
			return agent.ToolVerdict{}, nil
		}
	case strings.EqualFold(answer, "n") || strings.EqualFold(answer, "no"):
		return agent.ToolVerdict{}, ErrStopped
	case answer == "":
		return agent.ToolVerdict{Deny: true, Reason: "the user did not approve this command (empty answer); reconsider"}, nil
	}
	return agent.ToolVerdict{Deny: true, Reason: "the user did not run this command and says: " + answer}, nil
}

// FormatArguments renders a tool call's arguments for a person: one "  key: value" line per
// top-level field, in the order written, each value at most 300 characters, escapes stripped.
// Arguments that are not a JSON object are shown as one shortened line.
func FormatArguments(raw string) string {
	dec := json.NewDecoder(strings.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "  " + Shorten(termsafe.Strip(raw), 500) + "\n"
	}
	var b strings.Builder
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			break
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		text := string(v)
		var str string
		if json.Unmarshal(v, &str) == nil {
			text = str
		}
		fmt.Fprintf(&b, "  %s: %s\n", termsafe.Strip(fmt.Sprint(key)), Shorten(termsafe.Strip(text), 300))
	}
	if b.Len() == 0 {
		return "  (no arguments)\n"
	}
	return b.String()
}

// Shorten cuts s to n runes, saying how many were left out.
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + fmt.Sprintf("… (%d more characters)", len(r)-n)
}
