package llmtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/autogpt-go/agent/llm"
)

// ErrBadShape is matched (errors.Is) by every error CheckRequest returns.
var ErrBadShape = errors.New("llmtest: request shape")

// CheckRequest reports the first way req breaks what chat providers require of a request, as an
// error matching ErrBadShape, or nil. The rules (OpenAI's and Anthropic's chat APIs reject requests
// that break them):
//   - at least one message; system messages only at the start; the first other message is a user
//     message;
//   - every role is one of llm.RoleSystem, RoleUser, RoleAssistant, RoleTool;
//   - an assistant message with tool calls is followed at once by exactly one tool message per call,
//     in any order, each answering one of its calls by ToolCallID; no tool message anywhere else;
//   - tool-call IDs and names are non-empty and IDs unique within a message; arguments are a JSON
//     object (empty counts as {});
//   - every user and system message, and every assistant message without tool calls, has content.
//
// Use it on the requests a Script recorded: for _, r := range s.Requests() { CheckRequest(&r) }.
func CheckRequest(req *llm.Request) error {
	if req == nil || len(req.Messages) == 0 {
		return fmt.Errorf("%w: no messages", ErrBadShape)
	}
	msgs := req.Messages
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
				case open[c.ID]:
					return fmt.Errorf("%w: message %d has two tool calls with ID %q", ErrBadShape, i, c.ID)
				case !isJSONObject(c.Arguments):
					return fmt.Errorf("%w: tool call %q of message %d: arguments are not a JSON object: %.60q", ErrBadShape, c.ID, i, c.Arguments)
				}
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

func isJSONObject(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	var v map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &v) == nil && v != nil
}
