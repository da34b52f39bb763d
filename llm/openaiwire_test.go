package llm_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/autogpt-go/agent/llm"
)

func TestParseOpenAIChatRequest(t *testing.T) {
	params := `{"type": "object",  "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}}, "required": ["zeta"]}`
	body := `{
	  "model": "gpt-4o-2024-08-06",
	  "messages": [
	    {"role": "system", "content": "Be brief."},
	    {"role": "user", "name": "bob", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
	    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"zeta\": \"x\"}"}}]},
	    {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
	    {"role": "developer", "content": "More rules."}
	  ],
	  "tools": [{"type": "function", "function": {"name": "f", "description": "Does f.", "parameters": ` + params + `, "strict": true}}],
	  "tool_choice": {"type": "function", "function": {"name": "f"}},
	  "response_format": {"type": "json_schema", "json_schema": {"name": "out", "description": "d", "strict": true, "schema": {"b": 1, "a": 2}}},
	  "max_tokens": 10, "max_completion_tokens": 20, "temperature": 0.5, "stop": "END", "stream": false, "n": 1
	}`
	model, req, err := llm.ParseOpenAIChatRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	temp := 0.5
	want := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Be brief."},
			{Role: llm.RoleUser, Name: "bob", Content: "Hello there"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "f", Arguments: `{"zeta": "x"}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: "ok"},
			{Role: "developer", Content: "More rules."},
		},
		Tools:           []llm.ToolSpec{{Name: "f", Description: "Does f.", Parameters: json.RawMessage(params)}},
		ToolChoice:      "f",
		MaxOutputTokens: 20,
		Temperature:     &temp,
		Stop:            []string{"END"},
		ResponseFormat:  &llm.ResponseFormat{Type: "json_schema", Name: "out", Description: "d", Strict: true, Schema: json.RawMessage(`{"b": 1, "a": 2}`)},
	}
	if model != "gpt-4o-2024-08-06" || !reflect.DeepEqual(req, want) {
		t.Errorf("got %q %+v\nwant %+v", model, req, want)
	}
	// The parameters bytes are kept exactly: key order and spacing.
	if string(req.Tools[0].Parameters) != params {
		t.Errorf("parameters = %s, want %s", req.Tools[0].Parameters, params)
	}
}

func TestParseOpenAIChatRequestLegacyFunctions(t *testing.T) {
	body := `{"model": "gpt-3.5-turbo-0613",
	  "messages": [
	    {"role": "user", "content": "Weather?"},
	    {"role": "assistant", "content": null, "function_call": {"name": "get_weather", "arguments": "{}"}},
	    {"role": "function", "name": "get_weather", "content": "sunny"}
	  ],
	  "functions": [{"name": "get_weather", "description": "Weather.", "parameters": {"type": "object", "properties": {}}}],
	  "function_call": {"name": "get_weather"}, "max_tokens": 7, "stop": ["a", "b"]}`
	_, req, err := llm.ParseOpenAIChatRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "Weather?"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{Name: "get_weather", Arguments: "{}"}}},
			{Role: llm.RoleTool, Name: "get_weather", Content: "sunny"},
		},
		Tools:           []llm.ToolSpec{{Name: "get_weather", Description: "Weather.", Parameters: json.RawMessage(`{"type": "object", "properties": {}}`)}},
		ToolChoice:      "get_weather",
		MaxOutputTokens: 7,
		Stop:            []string{"a", "b"},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got %+v\nwant %+v", req, want)
	}
	for _, choice := range []string{`"auto"`, `"none"`, `"required"`} {
		_, req, err := llm.ParseOpenAIChatRequest([]byte(`{"model":"m","messages":[],"tool_choice":` + choice + `}`))
		if err != nil || `"`+req.ToolChoice+`"` != choice {
			t.Errorf("tool_choice %s: %q, %v", choice, req.ToolChoice, err)
		}
	}
}

func TestParseOpenAIChatRequestErrors(t *testing.T) {
	cases := []struct {
		body string
		want error
	}{
		{`not json`, llm.ErrInvalidRequestBody},
		{`{"model": "m"} {"again": 1}`, llm.ErrInvalidRequestBody},
		{`{"model": "m", "messages": [{"role": "user", "content": 42}]}`, llm.ErrInvalidRequestBody},
		{`{"model": "m", "messages": "x"}`, llm.ErrInvalidRequestBody},
		{`{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]}`, llm.ErrUnsupportedContent},
		{`{"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}`, llm.ErrUnsupportedContent},
		{`{"model": "m", "messages": [], "tools": [{"type": "web_search"}]}`, llm.ErrUnsupportedContent},
		{`{"model": "m", "messages": [], "tool_choice": {"type": "allowed_tools"}}`, llm.ErrUnsupportedContent},
		{`{"model": "m", "messages": [], "stop": 3}`, llm.ErrInvalidRequestBody},
		// Not a chat request: a JSON object with a non-empty "model" and a "messages" array is
		// required, keys matching exactly.
		{`null`, llm.ErrInvalidRequestBody},
		{`{}`, llm.ErrInvalidRequestBody},
		{`[]`, llm.ErrInvalidRequestBody},
		{`"gpt-4o"`, llm.ErrInvalidRequestBody},
		{`{"model": "m"}`, llm.ErrInvalidRequestBody},
		{`{"messages": []}`, llm.ErrInvalidRequestBody},
		{`{"model": "", "messages": []}`, llm.ErrInvalidRequestBody},
		{`{"model": null, "messages": []}`, llm.ErrInvalidRequestBody},
		{`{"model": "m", "messages": null}`, llm.ErrInvalidRequestBody},
		{`{"model": "m", "messages": {}}`, llm.ErrInvalidRequestBody},
		{`{"MODEL": "gpt-4o", "Messages": [{"ROLE": "user", "content": "Hi"}]}`, llm.ErrInvalidRequestBody},
		{`{"Model": "gpt-4o", "messages": []}`, llm.ErrInvalidRequestBody},
		{`{"model": "gpt-4o", "Messages": []}`, llm.ErrInvalidRequestBody},
		{`{"model": "gpt-4o", "messages": [{"ROLE": "user", "content": "Hi"}]}`, llm.ErrInvalidRequestBody},
		{`{"model": "gpt-4o", "messages": [null]}`, llm.ErrInvalidRequestBody},
		{`{"model": "gpt-4o", "messages": [{"role": "user", "content": {"text": "Hi"}}]}`, llm.ErrInvalidRequestBody},
		{`{"model": "m", "messages": []} ]`, llm.ErrInvalidRequestBody},
	}
	for _, c := range cases {
		if _, _, err := llm.ParseOpenAIChatRequest([]byte(c.body)); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.body, err, c.want)
		}
	}
}

// Counting a parsed legacy request equals counting the same request in the current form.
func TestParsedLegacyCountsLikeTools(t *testing.T) {
	legacy := `{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Hi"}],"functions":[{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}]}`
	current := `{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}]}`
	c := counter(t, "gpt-3.5-turbo")
	_, a, err := llm.ParseOpenAIChatRequest([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := llm.ParseOpenAIChatRequest([]byte(current))
	if err != nil {
		t.Fatal(err)
	}
	if ca, cb := count(t, c, a), count(t, c, b); ca != cb {
		t.Errorf("functions %d, tools %d", ca, cb)
	}
}

// Keys match exactly, as the API matches them: a key in another case is an unknown key, ignored
// like any other (encoding/json alone would match struct fields case-insensitively).
func TestParseOpenAIChatRequestExactKeys(t *testing.T) {
	body := `{"model": "gpt-4o", "Model": "gpt-3.5-turbo", "messages": [{"role": "user", "Role": "system", "content": "Hi", "NAME": "bob",
	    "Tool_Calls": [{"id": "x", "function": {"name": "f", "arguments": "{}"}}]},
	  {"role": "assistant", "tool_calls": [{"id": "c", "Function": {"name": "f"}, "function": {"name": "g", "Arguments": "no", "arguments": "{}"}}]},
	  {"role": "user", "content": [{"type": "text", "Text": "no", "text": "yes"}, {"Type": "image_url", "type": "text", "text": "!"}]}],
	  "Tools": [{"type": "function", "function": {"name": "f"}}],
	  "tools": [{"type": "function", "function": {"name": "h", "Description": "no", "PARAMETERS": {}}}],
	  "Tool_choice": "required", "tool_choice": {"type": "function", "function": {"Name": "x", "name": "h"}},
	  "response_format": {"Type": "json_object", "type": "text"}, "Max_tokens": 5, "Temperature": 1}`
	model, req, err := llm.ParseOpenAIChatRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "Hi"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "g", Arguments: "{}"}}},
			{Role: llm.RoleUser, Content: "yes!"},
		},
		Tools:          []llm.ToolSpec{{Name: "h"}},
		ToolChoice:     "h",
		ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatText},
	}
	if model != "gpt-4o" || !reflect.DeepEqual(req, want) {
		t.Errorf("got %q %+v\nwant %+v", model, req, want)
	}
}
