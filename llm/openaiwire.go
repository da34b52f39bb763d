package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupportedContent is returned (wrapped) by ParseOpenAIChatRequest for a message content
// part that Request cannot carry (an image, audio or file part): its tokens could not be counted.
var ErrUnsupportedContent = errors.New("llm: unsupported content part")

// ErrInvalidRequestBody is returned (wrapped) by ParseOpenAIChatRequest for a body that is not a
// chat-completions request.
var ErrInvalidRequestBody = errors.New("llm: invalid chat-completions request body")

// wireObject is a JSON object of the chat-completions request body (OpenAI's API reference,
// https://platform.openai.com/docs/api-reference/chat/create), its members by exact key. The body
// is read through such maps rather than structs because encoding/json matches struct fields
// case-insensitively, while the API's keys are case-sensitive: "MODEL" is not "model".
type wireObject map[string]json.RawMessage

// wireObjectOf decodes raw, which must be a JSON object; what names it in errors.
func wireObjectOf(raw json.RawMessage, what string) (wireObject, error) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%w: %s is not a JSON object", ErrInvalidRequestBody, what)
	}
	var o wireObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidRequestBody, what, err)
	}
	return o, nil
}

// has reports whether key is present with a value other than null.
func (o wireObject) has(key string) bool {
	raw, ok := o[key]
	return ok && !isNull(raw)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// decode decodes the member key into dst; an absent or null member leaves dst as it is.
func (o wireObject) decode(key string, dst any) error {
	if !o.has(key) {
		return nil
	}
	if err := json.Unmarshal(o[key], dst); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidRequestBody, key, err)
	}
	return nil
}

// str returns the string member key ("" when absent or null).
func (o wireObject) str(key string) (string, error) {
	var s string
	err := o.decode(key, &s)
	return s, err
}

// object returns the object member key (nil when absent or null).
func (o wireObject) object(key string) (wireObject, error) {
	if !o.has(key) {
		return nil, nil
	}
	return wireObjectOf(o[key], key)
}

// objects returns the members of the array member key, each an object (nil when absent or
// null).
func (o wireObject) objects(key string) ([]wireObject, error) {
	var list []json.RawMessage
	if err := o.decode(key, &list); err != nil {
		return nil, err
	}
	out := make([]wireObject, len(list))
	for i, raw := range list {
		obj, err := wireObjectOf(raw, fmt.Sprintf("%s[%d]", key, i))
		if err != nil {
			return nil, err
		}
		out[i] = obj
	}
	return out, nil
}

// function reads a function definition: {"name", "description", "parameters"}; the parameters
// are kept byte for byte.
func (o wireObject) function() (ToolSpec, error) {
	var f ToolSpec
	var err error
	if f.Name, err = o.str("name"); err != nil {
		return ToolSpec{}, err
	}
	if f.Description, err = o.str("description"); err != nil {
		return ToolSpec{}, err
	}
	f.Parameters = o["parameters"]
	return f, nil
}

// call reads a function call: {"name", "arguments"}.
func (o wireObject) call() (ToolCall, error) {
	var tc ToolCall
	var err error
	if tc.Name, err = o.str("name"); err != nil {
		return ToolCall{}, err
	}
	if tc.Arguments, err = o.str("arguments"); err != nil {
		return ToolCall{}, err
	}
	return tc, nil
}

// ParseOpenAIChatRequest converts an OpenAI chat-completions request body (the JSON a client POSTs
// to /v1/chat/completions) into the model name and a Request, for counting its prompt tokens.
//
// The body must be one JSON object with a non-empty string "model" and a "messages" array (it
// may be empty) whose elements are objects with a non-empty string "role". Keys match exactly, as
// the API matches them: "Model" or "ROLE" are unknown keys, and unknown keys are ignored.
//
// Messages: role, name, tool_call_id, tool_calls (id, function name, arguments string), and
// content given as a string, null, or an array of parts whose "text" (and "refusal") parts are
// concatenated in order; an image, audio or file part gives an error wrapping
// ErrUnsupportedContent. The deprecated forms map onto the current ones: a "function" role
// message becomes a RoleTool message named after the function (no ToolCallID), an assistant
// function_call becomes a tool call without ID, "functions" become Tools and "function_call"
// becomes ToolChoice. Roles other than system, user, assistant and tool (such as "developer")
// are kept as given.
//
// Tools keep each function's "parameters" bytes exactly as sent (key order and spacing: they
// are never decoded into a Go map). tool_choice may be "auto", "none", "required" or
// {"type":"function","function":{"name":...}}; response_format "text", "json_object" or
// "json_schema" (name, description, schema bytes, strict). max_completion_tokens (else
// max_tokens), temperature and stop (a string or an array) are carried too; other fields are
// ignored. A null value counts as an absent one.
//
// A body that is not a JSON object of that shape gives an error wrapping ErrInvalidRequestBody.
func ParseOpenAIChatRequest(body []byte) (model string, req *Request, err error) {
	w, err := wireObjectOf(body, "the body")
	if err != nil {
		return "", nil, err
	}
	if model, err = w.str("model"); err != nil {
		return "", nil, err
	}
	if model == "" {
		return "", nil, fmt.Errorf("%w: no \"model\"", ErrInvalidRequestBody)
	}
	if raw, ok := w["messages"]; !ok || !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("[")) {
		return "", nil, fmt.Errorf("%w: no \"messages\" array", ErrInvalidRequestBody)
	}
	msgs, err := w.objects("messages")
	if err != nil {
		return "", nil, err
	}
	req = &Request{}
	for i, m := range msgs {
		msg, err := wireToMessage(m)
		if err != nil {
			return "", nil, fmt.Errorf("message %d: %w", i, err)
		}
		req.Messages = append(req.Messages, msg)
	}
	tools, err := w.objects("tools")
	if err != nil {
		return "", nil, err
	}
	for i, t := range tools {
		typ, err := t.str("type")
		if err != nil {
			return "", nil, err
		}
		if typ != "" && typ != "function" {
			return "", nil, fmt.Errorf("%w: tool %d has type %q (only function tools are supported)", ErrUnsupportedContent, i, typ)
		}
		fn, err := t.object("function")
		if err != nil {
			return "", nil, err
		}
		spec, err := fn.function()
		if err != nil {
			return "", nil, err
		}
		req.Tools = append(req.Tools, spec)
	}
	functions, err := w.objects("functions")
	if err != nil {
		return "", nil, err
	}
	for _, f := range functions {
		spec, err := f.function()
		if err != nil {
			return "", nil, err
		}
		req.Tools = append(req.Tools, spec)
	}
	choice := w["tool_choice"]
	if !w.has("tool_choice") {
		choice = w["function_call"]
	}
	if req.ToolChoice, err = wireToolChoice(choice); err != nil {
		return "", nil, err
	}
	rf, err := w.object("response_format")
	if err != nil {
		return "", nil, err
	}
	if rf != nil {
		if req.ResponseFormat, err = wireResponseFormat(rf); err != nil {
			return "", nil, err
		}
	}
	var maxTokens, maxCompletion *int
	if err := w.decode("max_tokens", &maxTokens); err != nil {
		return "", nil, err
	}
	if err := w.decode("max_completion_tokens", &maxCompletion); err != nil {
		return "", nil, err
	}
	switch {
	case maxCompletion != nil:
		req.MaxOutputTokens = *maxCompletion
	case maxTokens != nil:
		req.MaxOutputTokens = *maxTokens
	}
	if err := w.decode("temperature", &req.Temperature); err != nil {
		return "", nil, err
	}
	if w.has("stop") {
		var one string
		if err := json.Unmarshal(w["stop"], &one); err == nil {
			req.Stop = []string{one}
		} else if err := json.Unmarshal(w["stop"], &req.Stop); err != nil {
			return "", nil, fmt.Errorf("%w: stop: %v", ErrInvalidRequestBody, err)
		}
	}
	return model, req, nil
}

// wireResponseFormat reads response_format: {"type", "json_schema": {"name", "description",
// "schema", "strict"}}.
func wireResponseFormat(rf wireObject) (*ResponseFormat, error) {
	out := &ResponseFormat{}
	var err error
	if out.Type, err = rf.str("type"); err != nil {
		return nil, err
	}
	js, err := rf.object("json_schema")
	if err != nil || js == nil {
		return out, err
	}
	if out.Name, err = js.str("name"); err != nil {
		return nil, err
	}
	if out.Description, err = js.str("description"); err != nil {
		return nil, err
	}
	if err := js.decode("strict", &out.Strict); err != nil {
		return nil, err
	}
	out.Schema = js["schema"]
	return out, nil
}

func wireToMessage(m wireObject) (Message, error) {
	var msg Message
	role, err := m.str("role")
	if err != nil {
		return Message{}, err
	}
	if role == "" {
		return Message{}, fmt.Errorf("%w: no \"role\"", ErrInvalidRequestBody)
	}
	msg.Role = Role(role)
	if msg.Name, err = m.str("name"); err != nil {
		return Message{}, err
	}
	if msg.ToolCallID, err = m.str("tool_call_id"); err != nil {
		return Message{}, err
	}
	if msg.Content, err = wireContent(m["content"]); err != nil {
		return Message{}, err
	}
	calls, err := m.objects("tool_calls")
	if err != nil {
		return Message{}, err
	}
	for _, c := range calls {
		id, err := c.str("id")
		if err != nil {
			return Message{}, err
		}
		fn, err := c.object("function")
		if err != nil {
			return Message{}, err
		}
		tc, err := fn.call()
		if err != nil {
			return Message{}, err
		}
		tc.ID = id
		msg.ToolCalls = append(msg.ToolCalls, tc)
	}
	fc, err := m.object("function_call")
	if err != nil {
		return Message{}, err
	}
	if fc != nil {
		tc, err := fc.call()
		if err != nil {
			return Message{}, err
		}
		msg.ToolCalls = append(msg.ToolCalls, tc)
	}
	if role == "function" {
		msg.Role = RoleTool
	}
	return msg, nil
}

// wireContent returns the text of a message content: a string, null, or an array of parts.
func wireContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: content: %v", ErrInvalidRequestBody, err)
		}
		return s, nil
	}
	if raw[0] != '[' {
		return "", fmt.Errorf("%w: content is neither a string nor an array", ErrInvalidRequestBody)
	}
	parts, err := wireObject{"content": raw}.objects("content")
	if err != nil {
		return "", err
	}
	var text strings.Builder
	for i, p := range parts {
		typ, err := p.str("type")
		if err != nil {
			return "", err
		}
		var key string
		switch typ {
		case "text", "refusal":
			key = typ
		default:
			return "", fmt.Errorf("%w: content part %d has type %q", ErrUnsupportedContent, i, typ)
		}
		s, err := p.str(key)
		if err != nil {
			return "", err
		}
		text.WriteString(s)
	}
	return text.String(), nil
}

// wireToolChoice converts tool_choice (or the deprecated function_call) to Request.ToolChoice.
func wireToolChoice(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	obj, err := wireObjectOf(raw, "tool_choice")
	if err != nil {
		return "", err
	}
	// {"type": "function", "function": {"name": ...}}, or function_call's {"name": ...}.
	fn, err := obj.object("function")
	if err != nil {
		return "", err
	}
	if fn != nil {
		name, err := fn.str("name")
		if err != nil || name != "" {
			return name, err
		}
	}
	name, err := obj.str("name")
	if err != nil || name != "" {
		return name, err
	}
	return "", fmt.Errorf("%w: tool_choice %s names no function", ErrUnsupportedContent, raw)
}
