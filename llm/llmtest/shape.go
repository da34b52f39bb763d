package llmtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/autogpt-go/agent/llm"
)

// ErrBadShape is matched (errors.Is) by every error CheckRequest returns.
var ErrBadShape = errors.New("llmtest: request shape")

// toolNameRE is what OpenAI and Anthropic accept as a tool (function) name.
var toolNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// CheckRequest reports the first way req breaks what chat providers require of a request, as an
// error matching ErrBadShape, or nil. The rules (OpenAI's and Anthropic's chat APIs reject requests
// that break them):
//   - at least one message; system messages only at the start; the first other message is a user
//     message;
//   - every role is one of llm.RoleSystem, RoleUser, RoleAssistant, RoleTool;
//   - an assistant message with tool calls is followed at once by exactly one tool message per call,
//     in any order, each answering one of its calls by ToolCallID; no tool message anywhere else;
//   - tool-call IDs and names are non-empty, and no tool-call ID is used twice anywhere in the
//     request (Anthropic rejects a tool_use ID repeated across messages); arguments are a JSON
//     object (empty counts as {});
//   - only assistant messages carry ToolCalls; only tool messages carry a ToolCallID;
//   - every user and system message, and every assistant message without tool calls, has content;
//   - message content, tool-call names and arguments, and tool-message IDs are valid UTF-8;
//   - tools have distinct names matching ^[a-zA-Z0-9_-]{1,64}$, and Parameters that are empty or
//     a JSON object;
//   - ToolChoice is "", "auto" or "none", "required" only when tools are offered, or the name of
//     an offered tool;
//   - MaxOutputTokens is not negative, and no stop sequence is empty.
//
// Use it on the requests a Script recorded: for _, r := range s.Requests() { CheckRequest(&r) }.
func CheckRequest(req *llm.Request) error {
	if req == nil || len(req.Messages) == 0 {
		return fmt.Errorf("%w: no messages", ErrBadShape)
	}
	if err := checkOptions(req); err != nil {
		return err
	}
	msgs := req.Messages
	for i, m := range msgs {
		if !utf8.ValidString(m.Content) {
			return fmt.Errorf("%w: message %d: content is not valid UTF-8", ErrBadShape, i)
		}
		if !utf8.ValidString(m.ToolCallID) {
			return fmt.Errorf("%w: message %d: tool-call ID is not valid UTF-8", ErrBadShape, i)
		}
		if len(m.ToolCalls) > 0 && m.Role != llm.RoleAssistant {
			return fmt.Errorf("%w: %s message %d carries tool calls (only assistant messages may)", ErrBadShape, m.Role, i)
		}
		if m.ToolCallID != "" && m.Role != llm.RoleTool {
			return fmt.Errorf("%w: %s message %d carries tool-call ID %q (only tool messages may)", ErrBadShape, m.Role, i, m.ToolCallID)
		}
	}
	i := 0
	for i < len(msgs) && msgs[i].Role == llm.RoleSystem {
		if strings.TrimSpace(msgs[i].Content) == "" {
			return fmt.Errorf("%w: system message %d is empty", ErrBadShape, i)
		}
		i++
	}
	if i == len(msgs) || msgs[i].Role != llm.RoleUser {
		return fmt.Errorf("%w: the first message after the system prompt must be a user message", ErrBadShape)
	}
	usedIDs := map[string]int{} // tool-call ID -> message that made the call
	for ; i < len(msgs); i++ {
		m := msgs[i]
		switch m.Role {
		case llm.RoleSystem:
			return fmt.Errorf("%w: system message %d is not at the start", ErrBadShape, i)
		case llm.RoleTool:
			return fmt.Errorf("%w: tool message %d (for %q) follows no assistant tool call", ErrBadShape, i, m.ToolCallID)
		case llm.RoleUser:
			if strings.TrimSpace(m.Content) == "" {
				return fmt.Errorf("%w: user message %d is empty", ErrBadShape, i)
			}
		case llm.RoleAssistant:
			if len(m.ToolCalls) == 0 {
				if strings.TrimSpace(m.Content) == "" {
					return fmt.Errorf("%w: assistant message %d has neither content nor tool calls", ErrBadShape, i)
				}
				continue
			}
			open := make(map[string]bool, len(m.ToolCalls))
			for k, c := range m.ToolCalls {
				switch {
				case c.ID == "" || c.Name == "":
					return fmt.Errorf("%w: tool call %d of message %d has no ID or no name", ErrBadShape, k, i)
				case !utf8.ValidString(c.ID) || !utf8.ValidString(c.Name):
					return fmt.Errorf("%w: tool call %d of message %d: ID or name is not valid UTF-8", ErrBadShape, k, i)
				case open[c.ID]:
					return fmt.Errorf("%w: message %d has two tool calls with ID %q", ErrBadShape, i, c.ID)
				case !utf8.ValidString(c.Arguments):
					return fmt.Errorf("%w: tool call %q of message %d: arguments are not valid UTF-8", ErrBadShape, c.ID, i)
				case !isJSONObject(c.Arguments):
					return fmt.Errorf("%w: tool call %q of message %d: arguments are not a JSON object: %.60q", ErrBadShape, c.ID, i, c.Arguments)
				}
				if prev, ok := usedIDs[c.ID]; ok {
					return fmt.Errorf("%w: tool-call ID %q of message %d was already used by message %d", ErrBadShape, c.ID, i, prev)
				}
				usedIDs[c.ID] = i
				open[c.ID] = true
			}
			for range m.ToolCalls {
				i++
				if i == len(msgs) || msgs[i].Role != llm.RoleTool {
					return fmt.Errorf("%w: message %d has %d tool calls but fewer tool results follow it", ErrBadShape, i-1, len(m.ToolCalls))
				}
				if !open[msgs[i].ToolCallID] {
					return fmt.Errorf("%w: tool message %d answers %q, which is not an unanswered call of the message before", ErrBadShape, i, msgs[i].ToolCallID)
				}
				delete(open, msgs[i].ToolCallID)
			}
		default:
			return fmt.Errorf("%w: message %d has unknown role %q", ErrBadShape, i, m.Role)
		}
	}
	return nil
}

// checkOptions checks the request's tools, tool choice, output-token cap and stop sequences.
func checkOptions(req *llm.Request) error {
	names := make(map[string]bool, len(req.Tools))
	for i, t := range req.Tools {
		if !toolNameRE.MatchString(t.Name) {
			return fmt.Errorf("%w: tool %d: name %q does not match ^[a-zA-Z0-9_-]{1,64}$", ErrBadShape, i, t.Name)
		}
		if names[t.Name] {
			return fmt.Errorf("%w: two tools are named %q", ErrBadShape, t.Name)
		}
		names[t.Name] = true
		if len(strings.TrimSpace(string(t.Parameters))) > 0 {
			if !json.Valid(t.Parameters) {
				return fmt.Errorf("%w: tool %q: parameters are not valid JSON", ErrBadShape, t.Name)
			}
			if !isJSONObject(string(t.Parameters)) {
				return fmt.Errorf("%w: tool %q: parameters are not a JSON object (a JSON Schema of the arguments object)", ErrBadShape, t.Name)
			}
		}
	}
	switch req.ToolChoice {
	case "", llm.ToolChoiceAuto, llm.ToolChoiceNone:
	case llm.ToolChoiceRequired:
		if len(req.Tools) == 0 {
			return fmt.Errorf("%w: tool choice %q but no tools are offered", ErrBadShape, req.ToolChoice)
		}
	default:
		if !names[req.ToolChoice] {
			return fmt.Errorf("%w: tool choice %q names no offered tool", ErrBadShape, req.ToolChoice)
		}
	}
	if req.MaxOutputTokens < 0 {
		return fmt.Errorf("%w: MaxOutputTokens %d is negative", ErrBadShape, req.MaxOutputTokens)
	}
	for i, s := range req.Stop {
		if s == "" {
			return fmt.Errorf("%w: stop sequence %d is empty", ErrBadShape, i)
		}
	}
	return nil
}

func isJSONObject(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	var v map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &v) == nil && v != nil
}
