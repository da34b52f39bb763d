package llmtest_test

import (
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
