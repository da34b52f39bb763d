package otel

import (
	"encoding/json"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"

	"github.com/autogpt-go/agent/llm"
)

// The JSON forms of content recorded with WithContent, after the GenAI semantic conventions'
// schemas gen-ai-input-messages.json, gen-ai-output-messages.json and
// gen-ai-tool-definitions.json (https://github.com/open-telemetry/semantic-conventions, under
// docs/gen-ai). Attributes hold them as JSON strings, which the conventions allow on spans.

// message is a ChatMessage (input) or OutputMessage (output, with FinishReason).
type message struct {
	Role         string `json:"role"`
	Parts        []part `json:"parts"`
	Name         string `json:"name,omitempty"`
	FinishReason string `json:"finish_reason,omitempty"`
}

// part is a TextPart ("text"), ToolCallRequestPart ("tool_call") or ToolCallResponsePart
// ("tool_call_response"), marshalled with only the fields of its type.
type part struct {
	typ       string
	content   string
	id        string
	name      string
	arguments string
}

func textPart(s string) part { return part{typ: "text", content: s} }

// MarshalJSON writes p with the fields its type defines.
func (p part) MarshalJSON() ([]byte, error) {
	switch p.typ {
	case "tool_call":
		return json.Marshal(struct {
			Type      string `json:"type"`
			ID        string `json:"id,omitempty"`
			Name      string `json:"name"`
			Arguments any    `json:"arguments"`
		}{p.typ, p.id, p.name, jsonOrString(p.arguments)})
	case "tool_call_response":
		return json.Marshal(struct {
			Type     string `json:"type"`
			ID       string `json:"id,omitempty"`
			Response string `json:"response"`
		}{p.typ, p.id, p.content})
	default:
		return json.Marshal(struct {
			Type    string `json:"type"`
			Content string `json:"content"`
		}{p.typ, p.content})
	}
}

// jsonOrString returns s as raw JSON when it is valid JSON (tool arguments usually are), else as
// a string: models do send invalid arguments.
func jsonOrString(s string) any {
	if s != "" && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}

// chatMessage converts m to the conventions' ChatMessage form.
func chatMessage(m llm.Message) message {
	out := message{Role: string(m.Role)}
	if m.Role != llm.RoleTool {
		out.Name = m.Name
	}
	switch {
	case m.Role == llm.RoleTool:
		out.Parts = append(out.Parts, part{typ: "tool_call_response", id: m.ToolCallID, content: m.Content})
	case m.Content != "" || len(m.ToolCalls) == 0:
		out.Parts = append(out.Parts, textPart(m.Content))
	}
	for _, c := range m.ToolCalls {
		out.Parts = append(out.Parts, part{typ: "tool_call", id: c.ID, name: c.Name, arguments: c.Arguments})
	}
	return out
}

// outputMessage converts resp to the conventions' OutputMessage form. Its finish_reason uses the
// conventions' values: "tool_call" for llm.FinishToolCalls, and, when the provider gave none,
// "tool_call" or "stop" after the message.
func outputMessage(resp *llm.Response) message {
	out := chatMessage(resp.Message)
	out.Role = string(llm.RoleAssistant)
	switch resp.FinishReason {
	case llm.FinishToolCalls:
		out.FinishReason = "tool_call"
	case llm.FinishUnknown:
		out.FinishReason = "stop"
		if len(resp.Message.ToolCalls) > 0 {
			out.FinishReason = "tool_call"
		}
	default:
		out.FinishReason = string(resp.FinishReason)
	}
	return out
}

// toolDefinition is one entry of gen_ai.tool.definitions.
type toolDefinition struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// requestContent returns the content attributes of req: gen_ai.input.messages (every message,
// the system prompt included, in the order sent) and gen_ai.tool.definitions when tools are
// offered.
func requestContent(req *llm.Request) []attribute.KeyValue {
	msgs := make([]message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = chatMessage(m)
	}
	attrs := []attribute.KeyValue{semconv.GenAIInputMessagesKey.String(marshal(msgs))}
	if len(req.Tools) > 0 {
		defs := make([]toolDefinition, len(req.Tools))
		for i, t := range req.Tools {
			defs[i] = toolDefinition{Type: toolTypeFunction, Name: t.Name, Description: t.Description}
			if json.Valid(t.Parameters) {
				defs[i].Parameters = t.Parameters
			}
		}
		attrs = append(attrs, semconv.GenAIToolDefinitionsKey.String(marshal(defs)))
	}
	return attrs
}

// marshal returns v as JSON text. v is built by this package from strings and valid raw JSON, so
// encoding cannot fail; if it did, the attribute would read "null" rather than break the span.
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
