package planner

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// testView is a RunView at step `step` of 10 over the parse tools, answered by model.
func testView(model llm.Model, step int, state json.RawMessage) *agent.RunView {
	return &agent.RunView{
		Goal:         "Write hello into a.txt",
		Step:         step,
		MaxSteps:     10,
		SystemPrompt: agent.DefaultSystemPrompt,
		Messages:     []llm.Message{{Role: llm.RoleUser, Content: "Write hello into a.txt"}},
		Tools:        append([]llm.ToolSpec(nil), parseTools...),
		State:        state,
		Model:        model,
		LastStep:     step == 9,
	}
}

func failures(t *testing.T, raw json.RawMessage) int {
	t.Helper()
	var s plannerState
	require.NoError(t, json.Unmarshal(raw, &s))
	return s.FormatFailures
}

func TestAutoGPTPrompt(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text(agReply))
	p := AutoGPT{Name: "Scribe", Role: "a careful writer", Goals: []string{"Be brief"},
		Constraints: []string{"Never delete files"}, Resources: []string{"A disk"}, Evaluation: []string{"Count your steps"}}
	view := testView(model, 0, nil)
	view.SystemPrompt = "Answer in French."
	_, err := p.Next(context.Background(), view)
	require.NoError(t, err)

	req := model.Requests()[0]
	assert.Empty(t, req.Tools, "no native tools")
	assert.Empty(t, req.Stop)
	require.Len(t, req.Messages, 2)
	assert.Equal(t, llm.RoleSystem, req.Messages[0].Role)
	assert.Equal(t, llm.Message{Role: llm.RoleUser, Content: "Write hello into a.txt"}, req.Messages[1])
	sys := req.Messages[0].Content
	for _, want := range []string{
		"You are Scribe, a careful writer.",
		"GOALS:\n1. Write hello into a.txt\n2. Be brief\n",
		"CONSTRAINTS:\n1. Never delete files\n",
		"FURTHER INSTRUCTIONS:\nAnswer in French.\n",
		"COMMANDS:\n- write_file: Writes a file. Arguments (JSON Schema): " +
			`{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}`,
		"- search: Searches the web.",
		"- finish: End the run",
		`"reason"`,
		"RESOURCES:\n1. A disk\n",
		"PERFORMANCE EVALUATION:\n1. Count your steps\n",
		"RESPONSE FORMAT:",
		`"thoughts": {`, `"text"`, `"reasoning"`, `"plan"`, `"criticism"`, `"speak"`,
		`"command": {`, `"name"`, `"args"`,
		"The command's name is one of: write_file, search, add, finish.",
	} {
		assert.Contains(t, sys, want)
	}
	// Sections come in AutoGPT's order.
	order := []string{"GOALS:", "CONSTRAINTS:", "COMMANDS:", "RESOURCES:", "PERFORMANCE EVALUATION:", "RESPONSE FORMAT:"}
	last := -1
	for _, s := range order {
		i := strings.Index(sys, s)
		assert.Greater(t, i, last, s)
		last = i
	}
	assert.NotContains(t, sys, agent.DefaultSystemPrompt)
}

func TestAutoGPTPromptDefaults(t *testing.T) {
	view := testView(nil, 0, nil)
	sys := AutoGPT{}.Prompt(view)
	assert.Contains(t, sys, "You are "+DefaultAutoGPTName+", "+DefaultAutoGPTRole+".")
	assert.Contains(t, sys, "1. "+DefaultAutoGPTConstraints()[0])
	assert.Contains(t, sys, "1. "+DefaultAutoGPTResources()[0])
	assert.Contains(t, sys, "1. "+DefaultAutoGPTEvaluation()[0])
	assert.NotContains(t, sys, "FURTHER INSTRUCTIONS", "the default system prompt is not repeated")

	sys = AutoGPT{Constraints: []string{}, Resources: []string{}, Evaluation: []string{}}.Prompt(view)
	assert.NotContains(t, sys, "CONSTRAINTS:")
	assert.NotContains(t, sys, "RESOURCES:")
	assert.NotContains(t, sys, "PERFORMANCE EVALUATION:")
}

func TestAutoGPTCommandDecision(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text(agReply))
	d, err := (&AutoGPT{}).Next(context.Background(), testView(model, 3, json.RawMessage(`{"format_failures":1}`)))
	require.NoError(t, err)
	assert.Equal(t, []llm.Message{{Role: llm.RoleAssistant, Content: agReply}}, d.Messages, "the raw reply, no tool calls in the message")
	assert.Equal(t, []llm.ToolCall{{ID: "autogpt_3", Name: "write_file", Arguments: agArgs}}, d.ToolCalls)
	assert.False(t, d.Final)
	require.NotNil(t, d.Thoughts)
	assert.Equal(t, "I will write the file.", d.Thoughts.Text)
	assert.Equal(t, "Writing.", d.Thoughts.Speak)
	assert.Equal(t, 0, failures(t, d.State), "a good reply resets the count")
}

func TestAutoGPTFinishDecision(t *testing.T) {
	reply := "```json\n{\"thoughts\": {\"text\": \"done\"}, \"command\": {\"name\": \"finish\", \"args\": {\"reason\": \"a.txt holds hello\"}}}\n```"
	model := llmtest.NewScript(llmtest.Text(reply))
	d, err := AutoGPT{}.Next(context.Background(), testView(model, 1, nil))
	require.NoError(t, err)
	assert.True(t, d.Final)
	assert.Equal(t, "a.txt holds hello", d.Answer)
	assert.Empty(t, d.ToolCalls)
	assert.Equal(t, []llm.Message{{Role: llm.RoleAssistant, Content: reply}}, d.Messages)
}

func TestAutoGPTFormatFailuresAreFedBackThenFail(t *testing.T) {
	ctx := context.Background()
	p := AutoGPT{} // MaxFormatRetries 0: two corrections, the third failure is an error

	model := llmtest.NewScript(llmtest.Text("I will now write the file."))
	d, err := p.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	assert.Empty(t, d.ToolCalls)
	assert.False(t, d.Final)
	require.Len(t, d.Messages, 2)
	assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: "I will now write the file."}, d.Messages[0])
	assert.Equal(t, llm.RoleUser, d.Messages[1].Role)
	assert.Contains(t, d.Messages[1].Content, "it holds no JSON object")
	assert.Contains(t, d.Messages[1].Content, `"command": {`, "the correction repeats the format")
	assert.Equal(t, 1, failures(t, d.State))

	model = llmtest.NewScript(llmtest.Text(`{"command": {"name": "browse", "args": {}}}`))
	d, err = p.Next(ctx, testView(model, 1, d.State))
	require.NoError(t, err)
	require.Len(t, d.Messages, 2)
	assert.Contains(t, d.Messages[1].Content, `"browse" is not a command; the commands are: write_file, search, add, finish`)
	assert.Equal(t, 2, failures(t, d.State))

	model = llmtest.NewScript(llmtest.Text(`{"thoughts": {"text": "hm"}}`))
	_, err = p.Next(ctx, testView(model, 2, d.State))
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, ErrFormat)
	assert.Equal(t, "autogpt", fe.Planner)
	assert.Equal(t, `{"thoughts": {"text": "hm"}}`, fe.Raw)
	assert.Equal(t, 3, fe.Failures)
	assert.Contains(t, fe.Reason, "no command")
	assert.Contains(t, err.Error(), "no command")
}

func TestAutoGPTEmptyReplyKeepsTurnsAlternating(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text(""))
	d, err := AutoGPT{}.Next(context.Background(), testView(model, 0, nil))
	require.NoError(t, err)
	require.Len(t, d.Messages, 2)
	assert.Equal(t, llm.Message{Role: llm.RoleAssistant, Content: emptyReply}, d.Messages[0])
	assert.Contains(t, d.Messages[1].Content, "it was empty")
}

func TestAutoGPTMaxFormatRetries(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text("no json"))
	_, err := AutoGPT{MaxFormatRetries: -1}.Next(context.Background(), testView(model, 0, nil))
	assert.ErrorIs(t, err, ErrFormat, "negative: no correction")

	model = llmtest.NewScript(llmtest.Text("no json"))
	d, err := AutoGPT{MaxFormatRetries: 5}.Next(context.Background(), testView(model, 0, json.RawMessage(`{"format_failures":4}`)))
	require.NoError(t, err)
	assert.Equal(t, 5, failures(t, d.State))

	model = llmtest.NewScript(llmtest.Text("no json"))
	d, err = AutoGPT{}.Next(context.Background(), testView(model, 0, json.RawMessage(`"not ours"`)))
	require.NoError(t, err, "a foreign slot reads as no failures")
	assert.Equal(t, 1, failures(t, d.State))
}

func TestAutoGPTCutOffReply(t *testing.T) {
	reply := llmtest.Text(`{"thoughts": {"text": "I will write`)
	reply.Response.FinishReason = llm.FinishLength
	model := llmtest.NewScript(reply)
	d, err := AutoGPT{}.Next(context.Background(), testView(model, 0, nil))
	require.NoError(t, err)
	assert.Contains(t, d.Messages[1].Content, "cut off at the output-token limit")
}

func TestAutoGPTLastStep(t *testing.T) {
	ctx := context.Background()
	model := llmtest.NewScript(llmtest.Text(agReply))
	d, err := AutoGPT{}.Next(ctx, testView(model, 9, nil))
	req := model.Requests()[0]
	assert.Empty(t, req.Tools)
	last := req.Messages[len(req.Messages)-1]
	assert.Equal(t, llm.RoleUser, last.Role)
	assert.True(t, strings.HasPrefix(last.Content, agent.FinalStepPrompt), last.Content)
	assert.Contains(t, last.Content, "Only the finish command is allowed now")
	assert.Nil(t, d, "another command on the last step is no answer")
	assert.ErrorIs(t, err, agent.ErrMaxSteps)
	var fe *FormatError
	require.ErrorAs(t, err, &fe, "the reply travels with the error")
	assert.Equal(t, agReply, fe.Raw)
	assert.Contains(t, fe.Reason, `command "write_file" on the last step`)

	model = llmtest.NewScript(llmtest.Text("{" + agCommand + "}"))
	_, err = AutoGPT{}.Next(ctx, testView(model, 9, nil))
	assert.ErrorIs(t, err, agent.ErrMaxSteps, "no thoughts either")

	model = llmtest.NewScript(llmtest.Text("garbage"))
	_, err = AutoGPT{}.Next(ctx, testView(model, 9, nil))
	require.ErrorAs(t, err, &fe, "no later step could carry a correction")
	assert.NotErrorIs(t, err, agent.ErrMaxSteps)
	assert.Equal(t, 1, fe.Failures)

	model = llmtest.NewScript(llmtest.Text(`{"command": {"name": "finish", "args": {"reason": "best effort"}}}`))
	d, err = AutoGPT{}.Next(ctx, testView(model, 9, nil))
	require.NoError(t, err)
	assert.True(t, d.Final)
	assert.Equal(t, "best effort", d.Answer)
}

func TestAutoGPTNativeTools(t *testing.T) {
	ctx := context.Background()
	p := AutoGPT{NativeTools: true}
	thoughts := `{"thoughts": {"text": "write it", "reasoning": "asked"}}`
	model := llmtest.NewScript(llmtest.TextAndCalls(thoughts, llm.ToolCall{ID: "call_9", Name: "write_file", Arguments: `{"path": "a.txt", "content": "hi"}`}))
	d, err := p.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)

	req := model.Requests()[0]
	names := make([]string, len(req.Tools))
	for i, s := range req.Tools {
		names[i] = s.Name
	}
	assert.Equal(t, []string{"write_file", "search", "add", "finish"}, names)
	sys := req.Messages[0].Content
	assert.Contains(t, sys, "Your commands are the tools you are given: write_file, search, add, finish.")
	assert.Contains(t, sys, `"thoughts": {`)
	assert.NotContains(t, sys, `"command": {`)

	call := llm.ToolCall{ID: "call_9", Name: "write_file", Arguments: agArgs}
	assert.Equal(t, []llm.ToolCall{call}, d.ToolCalls)
	assert.Equal(t, []llm.Message{{Role: llm.RoleAssistant, Content: thoughts, ToolCalls: []llm.ToolCall{call}}}, d.Messages)
	require.NotNil(t, d.Thoughts)
	assert.Equal(t, "write it", d.Thoughts.Text)
	assert.Equal(t, []llm.Message{{Role: llm.RoleTool, ToolCallID: "call_9", Name: "write_file", Content: "ok"}},
		p.Observe(d.ToolCalls, []agent.ToolResult{{Content: "ok"}}))

	// A command written as JSON text still works; it becomes a tool call in the history.
	model = llmtest.NewScript(llmtest.Text(agReply))
	d, err = p.Next(ctx, testView(model, 2, nil))
	require.NoError(t, err)
	require.Len(t, d.ToolCalls, 1)
	assert.Equal(t, "autogpt_2", d.ToolCalls[0].ID)
	assert.Equal(t, d.ToolCalls, d.Messages[0].ToolCalls)

	// An unknown native call is corrected; the message keeps no unanswered call.
	model = llmtest.NewScript(llmtest.Calls(llm.ToolCall{ID: "c1", Name: "browse", Arguments: `{}`}))
	d, err = p.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	require.Len(t, d.Messages, 2)
	assert.Empty(t, d.Messages[0].ToolCalls)
	assert.Contains(t, d.Messages[1].Content, `"browse" is not a command`)
	assert.Contains(t, d.Messages[1].Content, "Call exactly one of the tools (write_file, search, add, finish)")

	// finish as a native call ends the run; on the last step only finish is offered.
	model = llmtest.NewScript(llmtest.Calls(llm.ToolCall{ID: "c2", Name: "finish", Arguments: `{"reason": "done"}`}))
	d, err = p.Next(ctx, testView(model, 9, nil))
	require.NoError(t, err)
	assert.True(t, d.Final)
	assert.Equal(t, "done", d.Answer)
	assert.Empty(t, d.Messages, "no text, no unanswered call")
	req = model.Requests()[0]
	require.Len(t, req.Tools, 1)
	assert.Equal(t, "finish", req.Tools[0].Name)
	assert.Contains(t, req.Messages[len(req.Messages)-1].Content, "Only the finish tool is allowed now: call it with your final answer as its reason.")

	// Malformed native arguments are repaired.
	model = llmtest.NewScript(llmtest.Calls(llm.ToolCall{ID: "c3", Name: "search", Arguments: `{"query": "go",}`}))
	d, err = p.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	assert.Equal(t, `{"query":"go"}`, d.ToolCalls[0].Arguments)
}

func TestAutoGPTReservesFinish(t *testing.T) {
	view := testView(llmtest.NewScript(), 0, nil)
	view.Tools = append(view.Tools, llm.ToolSpec{Name: "finish"})
	_, err := AutoGPT{}.Next(context.Background(), view)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reserves")
}

func TestAutoGPTModelError(t *testing.T) {
	boom := errors.New("boom")
	_, err := AutoGPT{}.Next(context.Background(), testView(llmtest.NewScript(llmtest.Fail(boom)), 0, nil))
	assert.ErrorIs(t, err, boom)
}

func TestAutoGPTObserve(t *testing.T) {
	msgs := AutoGPT{}.Observe(
		[]llm.ToolCall{{ID: "a", Name: "write_file"}, {ID: "b", Name: "search"}, {ID: "c", Name: "add"}},
		[]agent.ToolResult{{Content: "wrote 5 bytes"}, {Content: "no network", IsError: true}, {}})
	assert.Equal(t, []llm.Message{{Role: llm.RoleUser, Content: "Command write_file returned: wrote 5 bytes\n\n" +
		"Command search failed: no network\n\nCommand add returned: (no output)"}}, msgs)
}

func TestFormatErrorMessage(t *testing.T) {
	e := &FormatError{Planner: "react", Raw: strings.Repeat("é", 200), Reason: "it was empty", Failures: 2}
	msg := e.Error()
	assert.Contains(t, msg, "planner: react: model reply not in the expected format (2 in a row): it was empty")
	assert.Less(t, len(msg), 320, "the raw reply is clipped")
	assert.True(t, errors.Is(e, ErrFormat))
}
