package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrUnsupportedContent is returned (wrapped) by ParseOpenAIChatRequest for a message content
// part that Request cannot carry (an image, audio or file part): its tokens could not be counted.
var ErrUnsupportedContent = errors.New("llm: unsupported content part")

// ErrInvalidRequestBody is returned (wrapped) by ParseOpenAIChatRequest for a body that is not a
// chat-completions request.
var ErrInvalidRequestBody = errors.New("llm: invalid chat-completions request body")

// The chat-completions request body, as OpenAI's API reference documents it
// (https://platform.openai.com/docs/api-reference/chat/create): only the fields a token count or
// a Request needs.
type wireChatRequest struct {
	Model               string              `json:"model"`
	Messages            []wireMessage       `json:"messages"`
	Tools               []wireTool          `json:"tools"`
	ToolChoice          json.RawMessage     `json:"tool_choice"`
	Functions           []wireFunction      `json:"functions"`     // deprecated form of tools
	FunctionCall        json.RawMessage     `json:"function_call"` // deprecated form of tool_choice
	ResponseFormat      *wireResponseFormat `json:"response_format"`
	MaxTokens           *int                `json:"max_tokens"`
	MaxCompletionTokens *int                `json:"max_completion_tokens"`
	Temperature         *float64            `json:"temperature"`
	Stop                json.RawMessage     `json:"stop"`
}

type wireMessage struct {
	Role         string                `json:"role"`
	Content      json.RawMessage       `json:"content"`
	Name         string                `json:"name"`
	ToolCalls    []wireToolCall        `json:"tool_calls"`
	ToolCallID   string                `json:"tool_call_id"`
	FunctionCall *wireFunctionCallPart `json:"function_call"`
}

type wireContentPart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

type wireToolCall struct {
	ID       string               `json:"id"`
	Type     string               `json:"type"`
	Function wireFunctionCallPart `json:"function"`
}

type wireFunctionCallPart struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

type wireResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      bool            `json:"strict"`
	} `json:"json_schema"`
}

// ParseOpenAIChatRequest converts an OpenAI chat-completions request body (the JSON a client POSTs
// to /v1/chat/completions) into the model name and a Request, for counting its prompt tokens.
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
// ignored.
//
// A body that is not a JSON object of that shape gives an error wrapping ErrInvalidRequestBody.
func ParseOpenAIChatRequest(body []byte) (model string, req *Request, err error) {
	var w wireChatRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrInvalidRequestBody, err)
	}
	if dec.More() {
		return "", nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidRequestBody)
	}
	req = &Request{}
	for i, m := range w.Messages {
		msg, err := wireToMessage(m)
		if err != nil {
			return "", nil, fmt.Errorf("message %d: %w", i, err)
		}
		req.Messages = append(req.Messages, msg)
	}
	for i, t := range w.Tools {
		if t.Type != "" && t.Type != "function" {
			return "", nil, fmt.Errorf("%w: tool %d has type %q (only function tools are supported)", ErrUnsupportedContent, i, t.Type)
		}
		req.Tools = append(req.Tools, ToolSpec(t.Function))
	}
	for _, f := range w.Functions {
		req.Tools = append(req.Tools, ToolSpec(f))
	}
	choice := w.ToolChoice
	if len(choice) == 0 || string(choice) == "null" {
		choice = w.FunctionCall
	}
	if req.ToolChoice, err = wireToolChoice(choice); err != nil {
		return "", nil, err
	}
	if rf := w.ResponseFormat; rf != nil {
		out := &ResponseFormat{Type: rf.Type}
		if js := rf.JSONSchema; js != nil {
			out.Name, out.Description, out.Schema, out.Strict = js.Name, js.Description, js.Schema, js.Strict
		}
		req.ResponseFormat = out
	}
	switch {
	case w.MaxCompletionTokens != nil:
		req.MaxOutputTokens = *w.MaxCompletionTokens
	case w.MaxTokens != nil:
		req.MaxOutputTokens = *w.MaxTokens
	}
	req.Temperature = w.Temperature
	if len(w.Stop) > 0 && string(w.Stop) != "null" {
		var one string
		if err := json.Unmarshal(w.Stop, &one); err == nil {
			req.Stop = []string{one}
		} else if err := json.Unmarshal(w.Stop, &req.Stop); err != nil {
			return "", nil, fmt.Errorf("%w: stop: %v", ErrInvalidRequestBody, err)
		}
	}
	return w.Model, req, nil
}

func wireToMessage(m wireMessage) (Message, error) {
	msg := Message{Role: Role(m.Role), Name: m.Name, ToolCallID: m.ToolCallID}
	text, err := wireContent(m.Content)
	if err != nil {
		return Message{}, err
	}
	msg.Content = text
	for _, tc := range m.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	if fc := m.FunctionCall; fc != nil {
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{Name: fc.Name, Arguments: fc.Arguments})
	}
	if m.Role == "function" {
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
	var parts []wireContentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("%w: content: %v", ErrInvalidRequestBody, err)
	}
	var text string
	for i, p := range parts {
		switch p.Type {
		case "text":
			text += p.Text
		case "refusal":
			text += p.Refusal
		default:
			return "", fmt.Errorf("%w: content part %d has type %q", ErrUnsupportedContent, i, p.Type)
		}
	}
	return text, nil
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
	var obj struct {
		Type     string `json:"type"`
		Name     string `json:"name"` // function_call: {"name": ...}
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("%w: tool_choice: %v", ErrInvalidRequestBody, err)
	}
	switch {
	case obj.Function != nil && obj.Function.Name != "":
		return obj.Function.Name, nil
	case obj.Name != "":
		return obj.Name, nil
	}
	return "", fmt.Errorf("%w: tool_choice %s names no function", ErrUnsupportedContent, raw)
}
