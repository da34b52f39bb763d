package planner

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

const reactAction = "Thought: I should write the file.\nAction: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hi\"}"

func TestReActPromptAndRequest(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text(reactAction))
	view := testView(model, 0, nil)
	view.SystemPrompt = "Answer in French."
	_, err := ReAct{Instructions: "You are a file clerk."}.Next(context.Background(), view)
	require.NoError(t, err)

	req := model.Requests()[0]
	assert.Equal(t, []string{"Observation:"}, req.Stop)
	assert.Empty(t, req.Tools, "no native tools")
	require.Len(t, req.Messages, 2)
	assert.Equal(t, llm.Message{Role: llm.RoleUser, Content: "Write hello into a.txt"}, req.Messages[1])
	sys := req.Messages[0].Content
	assert.True(t, strings.HasPrefix(sys, "Answer in French.\n\nYou are a file clerk.\n\n"), sys)
	for _, want := range []string{
		"- write_file: Writes a file. Arguments (JSON Schema): " +
			`{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}`,
		"- search: Searches the web. Arguments (JSON Schema): ",
		"Thought: ", "Action: ", "Action Input: ", "Observation: ", "Final Answer: ",
		"Action is one of: write_file, search, add.",
		"Action Input must be a JSON object",
	} {
		assert.Contains(t, sys, want)
	}

	view.Tools = nil
	sys = ReAct{}.Prompt(view)
	assert.Contains(t, sys, "You have no tools")
	assert.NotContains(t, sys, "Action Input")
}

func TestReActActionDecision(t *testing.T) {
	reply := reactAction + "\nObservation: I wrote it.\nFinal Answer: done"
	model := llmtest.NewScript(llmtest.Text(reply))
	d, err := (&ReAct{}).Next(context.Background(), testView(model, 4, json.RawMessage(`{"format_failures":1}`)))
	require.NoError(t, err)
	assert.Equal(t, []llm.Message{{Role: llm.RoleAssistant, Content: reactAction}}, d.Messages, "the invented rest is dropped")
	assert.Equal(t, []llm.ToolCall{{ID: "react_4", Name: "write_file", Arguments: agArgs}}, d.ToolCalls)
	assert.False(t, d.Final)
	assert.Equal(t, "I should write the file.", d.Thought)
	require.NotNil(t, d.Thoughts)
	assert.Equal(t, "I should write the file.", d.Thoughts.Text)
	assert.Equal(t, 0, failures(t, d.State))
}

func TestReActFinalDecision(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text("Thought: The file is written.\nFinal Answer: a.txt holds hi"))
	d, err := ReAct{}.Next(context.Background(), testView(model, 1, nil))
	require.NoError(t, err)
	assert.True(t, d.Final)
	assert.Equal(t, "a.txt holds hi", d.Answer)
	assert.Equal(t, "The file is written.", d.Thought)
	assert.Empty(t, d.ToolCalls)
}

func TestReActFormatReminderThenError(t *testing.T) {
	ctx := context.Background()
	model := llmtest.NewScript(llmtest.Text("Thought:\nAction:"))
	d, err := ReAct{}.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	require.Len(t, d.Messages, 2)
	assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: "Thought:\nAction:"}, d.Messages[0])
	assert.Equal(t, llm.RoleUser, d.Messages[1].Role)
	assert.Contains(t, d.Messages[1].Content, "the Action has no tool name")
	assert.Contains(t, d.Messages[1].Content, "Action: one of write_file, search, add")
	assert.Contains(t, d.Messages[1].Content, "Final Answer:")
	assert.Empty(t, d.ToolCalls)
	assert.False(t, d.Final)
	assert.Equal(t, 1, failures(t, d.State))

	model = llmtest.NewScript(llmtest.Text(""))
	_, err = ReAct{}.Next(ctx, testView(model, 1, d.State))
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, ErrFormat)
	assert.Equal(t, "react", fe.Planner)
	assert.Equal(t, "", fe.Raw)
	assert.Equal(t, 2, fe.Failures)
	assert.Equal(t, "it was empty", fe.Reason)

	model = llmtest.NewScript(llmtest.Text("Observation:"))
	_, err = ReAct{MaxFormatRetries: -1}.Next(ctx, testView(model, 0, nil))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Observation:", fe.Raw, "the raw text, before any stripping")
}

func TestReActLastStep(t *testing.T) {
	ctx := context.Background()
	model := llmtest.NewScript(llmtest.Text("Thought: hi is the content.\nFinal Answer: hi"))
	d, err := ReAct{}.Next(ctx, testView(model, 9, nil))
	require.NoError(t, err)
	assert.Equal(t, "hi", d.Answer)
	req := model.Requests()[0]
	last := req.Messages[len(req.Messages)-1]
	assert.True(t, strings.HasPrefix(last.Content, agent.FinalStepPrompt))
	assert.Contains(t, last.Content, `reply with "Final Answer:"`)
	assert.Equal(t, []string{"Observation:"}, req.Stop)

	for _, reply := range []string{
		reactAction, // a thought is no answer
		reactAction + "\nObservation: x\nFinal Answer: later", // an answer built on an invented observation
	} {
		model = llmtest.NewScript(llmtest.Text(reply))
		d, err = ReAct{}.Next(ctx, testView(model, 9, nil))
		assert.Nil(t, d)
		assert.ErrorIs(t, err, agent.ErrMaxSteps, reply)
		var fe *FormatError
		require.ErrorAs(t, err, &fe, reply)
		assert.Equal(t, reply, fe.Raw)
		assert.Contains(t, fe.Reason, `action "write_file" on the last step`)
	}

	model = llmtest.NewScript(llmtest.Text("Thought: enough.\nAction: Final Answer\nAction Input: hi"))
	d, err = ReAct{}.Next(ctx, testView(model, 9, nil))
	require.NoError(t, err, "an action named Final Answer is an answer")
	assert.Equal(t, "hi", d.Answer)

	model = llmtest.NewScript(llmtest.Text("Action: search\nAction Input: {\"query\": \"x\"}"))
	_, err = ReAct{}.Next(ctx, testView(model, 9, nil))
	assert.ErrorIs(t, err, agent.ErrMaxSteps)

	model = llmtest.NewScript(llmtest.Text(""))
	_, err = ReAct{}.Next(ctx, testView(model, 9, nil))
	assert.ErrorIs(t, err, ErrFormat)
}

func TestReActObserve(t *testing.T) {
	msgs := ReAct{}.Observe([]llm.ToolCall{{ID: "a", Name: "search"}, {ID: "b", Name: "add"}, {ID: "c", Name: "x"}},
		[]agent.ToolResult{{Content: "Go is a language."}, {Content: "invalid arguments", IsError: true}, {}})
	assert.Equal(t, []llm.Message{{Role: llm.RoleUser,
		Content: "Observation: Go is a language.\nObservation: error: invalid arguments\nObservation: (no output)"}}, msgs)
}
