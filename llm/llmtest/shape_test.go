package llmtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

func TestCheckRequest(t *testing.T) {
	sys := llm.Message{Role: llm.RoleSystem, Content: "be brief"}
	user := llm.Message{Role: llm.RoleUser, Content: "hi"}
	call := func(ids ...string) llm.Message {
		m := llm.Message{Role: llm.RoleAssistant}
		for _, id := range ids {
			m.ToolCalls = append(m.ToolCalls, llm.ToolCall{ID: id, Name: "f", Arguments: `{}`})
		}
		return m
	}
	result := func(id string) llm.Message { return llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: "ok"} }
	good := [][]llm.Message{
		{user},
		{sys, user, call("a", "b"), result("b"), result("a"), {Role: llm.RoleAssistant, Content: "done"}},
		{user, call("a"), result("a"), {Role: llm.RoleUser, Content: "more"}},
	}
	for i, msgs := range good {
		assert.NoError(t, llmtest.CheckRequest(&llm.Request{Messages: msgs}), "good %d", i)
	}
	bad := map[string][]llm.Message{
		"empty":                 {},
		"starts with assistant": {sys, {Role: llm.RoleAssistant, Content: "x"}},
		"late system":           {user, sys},
		"orphan tool":           {user, result("a")},
		"missing result":        {user, call("a", "b"), result("a")},
		"wrong id":              {user, call("a"), result("z")},
		"answered twice":        {user, call("a", "b"), result("a"), result("a")},
		"duplicate ids":         {user, call("a", "a"), result("a"), result("a")},
		"array arguments":       {user, {Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "a", Name: "f", Arguments: `[1]`}}}, result("a")},
		"empty assistant":       {user, {Role: llm.RoleAssistant}},
		"empty user":            {{Role: llm.RoleUser, Content: " "}},
		"unknown role":          {user, {Role: "robot", Content: "x"}},
	}
	for name, msgs := range bad {
		err := llmtest.CheckRequest(&llm.Request{Messages: msgs})
		assert.ErrorIs(t, err, llmtest.ErrBadShape, name)
	}
}

// TestCheckRequestProviderRejections covers requests that OpenAI or Anthropic reject beyond the
// message order: reused tool-call IDs, tool choices and tool specs they refuse, fields on the
// wrong role, invalid UTF-8, a negative token cap and an empty stop sequence.
func TestCheckRequestProviderRejections(t *testing.T) {
	user := llm.Message{Role: llm.RoleUser, Content: "hi"}
	call := func(id, args string) llm.Message {
		return llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: id, Name: "add", Arguments: args}}}
	}
	result := func(id string) llm.Message { return llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: "ok"} }
	spec := llm.ToolSpec{Name: "add", Parameters: json.RawMessage(`{"type":"object"}`)}

	good := map[string]llm.Request{
		"tools and choice":    {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{spec, {Name: "sub_2-x"}}, ToolChoice: "add"},
		"required with tools": {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{spec}, ToolChoice: llm.ToolChoiceRequired},
		"none without tools":  {Messages: []llm.Message{user}, ToolChoice: llm.ToolChoiceNone},
		"empty parameters":    {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: "x", Parameters: json.RawMessage(" ")}}},
		"calls, no tools":     {Messages: []llm.Message{user, call("1", `{}`), result("1"), call("2", ""), result("2")}},
		"limits":              {Messages: []llm.Message{user}, MaxOutputTokens: 10, Stop: []string{"\n\n"}},
		"named tool message":  {Messages: []llm.Message{user, call("1", `{}`), {Role: llm.RoleTool, ToolCallID: "1", Name: "add", Content: "é"}}},
	}
	for name, req := range good {
		assert.NoError(t, llmtest.CheckRequest(&req), name)
	}
	bad := map[string]llm.Request{
		"id reused across messages": {Messages: []llm.Message{user, call("1", `{}`), result("1"), call("1", `{}`), result("1")}},
		"choice names no tool":      {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{spec}, ToolChoice: "nope"},
		"choice of no tools":        {Messages: []llm.Message{user}, ToolChoice: "add"},
		"required without tools":    {Messages: []llm.Message{user}, ToolChoice: llm.ToolChoiceRequired},
		"duplicate tool names":      {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{spec, spec}},
		"tool name with space":      {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: "bad name"}}},
		"tool name with dot":        {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: "a.b"}}},
		"empty tool name":           {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: ""}}},
		"tool name too long":        {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: strings.Repeat("a", 65)}}},
		"parameters not JSON":       {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: "x", Parameters: json.RawMessage(`{`)}}},
		"parameters an array":       {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: "x", Parameters: json.RawMessage(`[1]`)}}},
		"parameters null":           {Messages: []llm.Message{user}, Tools: []llm.ToolSpec{{Name: "x", Parameters: json.RawMessage(`null`)}}},
		"tool message with calls":   {Messages: []llm.Message{user, call("1", `{}`), {Role: llm.RoleTool, ToolCallID: "1", Content: "x", ToolCalls: []llm.ToolCall{{ID: "9", Name: "add"}}}}},
		"user with tool calls":      {Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi", ToolCalls: []llm.ToolCall{{ID: "1", Name: "add"}}}}},
		"user with tool-call ID":    {Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi", ToolCallID: "1"}}},
		"system with tool-call ID":  {Messages: []llm.Message{{Role: llm.RoleSystem, Content: "s", ToolCallID: "1"}, user}},
		"system with tool calls":    {Messages: []llm.Message{{Role: llm.RoleSystem, Content: "s", ToolCalls: []llm.ToolCall{{ID: "1", Name: "add"}}}, user}},
		"invalid UTF-8 content":     {Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi \xff"}}},
		"invalid UTF-8 tool result": {Messages: []llm.Message{user, call("1", `{}`), {Role: llm.RoleTool, ToolCallID: "1", Content: "\xc3"}}},
		"invalid UTF-8 arguments":   {Messages: []llm.Message{user, call("1", "{\"a\":\"\xff\"}"), result("1")}},
		"negative MaxOutputTokens":  {Messages: []llm.Message{user}, MaxOutputTokens: -1},
		"empty stop sequence":       {Messages: []llm.Message{user}, Stop: []string{"END", ""}},
	}
	for name, req := range bad {
		assert.ErrorIs(t, llmtest.CheckRequest(&req), llmtest.ErrBadShape, name)
	}
}
