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

// cutOff is reply with finish reason length: the model hit its output-token limit.
func cutOff(reply llmtest.Reply) llmtest.Reply {
	reply.Response.FinishReason = llm.FinishLength
	return reply
}

// A reply cut off at the output-token limit never runs, whatever it holds: it is a format problem.
func TestCutOffRepliesNeverRun(t *testing.T) {
	truncatedWrite := `{"thoughts": {"text": "write"}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hel`
	for _, tt := range []struct {
		name  string
		p     agent.Planner
		reply llmtest.Reply
	}{
		{"autogpt truncated write_file", AutoGPT{}, llmtest.Text(truncatedWrite)},
		{"autogpt complete command", AutoGPT{}, llmtest.Text(agReply + "\nAnd then I will")},
		{"autogpt finish", AutoGPT{}, llmtest.Text(`{"command": {"name": "finish", "args": {"reason": "The file holds hel`)},
		{"autogpt native call", AutoGPT{NativeTools: true}, llmtest.Calls(llm.ToolCall{ID: "c1", Name: "write_file", Arguments: `{"path": "a.txt", "content": "hel`})},
		{"react truncated input", ReAct{}, llmtest.Text("Action: write_file\nAction Input: {\"path\": \"a.txt\", \"content\": \"hel")},
		{"react complete action", ReAct{}, llmtest.Text(reactAction)},
		{"react final answer", ReAct{}, llmtest.Text("Thought: done\nFinal Answer: a.txt holds hel")},
		{"react plain text", ReAct{}, llmtest.Text("The file now holds hel")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			model := llmtest.NewScript(cutOff(tt.reply))
			d, err := tt.p.Next(context.Background(), testView(model, 0, nil))
			require.NoError(t, err)
			assert.Empty(t, d.ToolCalls, "a cut-off reply never runs its command")
			assert.False(t, d.Final, "nor ends the run")
			require.Len(t, d.Messages, 2)
			assert.Empty(t, d.Messages[0].ToolCalls)
			assert.Equal(t, llm.RoleUser, d.Messages[1].Role)
			assert.Contains(t, d.Messages[1].Content, "cut off at the output-token limit")
			assert.Contains(t, d.Messages[1].Content, "several steps")
			assert.Equal(t, 1, failures(t, d.State), "counted like other format failures")

			// On the last step no correction can follow.
			model = llmtest.NewScript(cutOff(tt.reply))
			_, err = tt.p.Next(context.Background(), testView(model, 9, nil))
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, cutOffProblem, fe.Reason)
		})
	}
}

func TestAutoGPTValidateTools(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"finish", false}, {"Finish", false}, {"FINISH", false}, {"fInIsH", false},
		{"finish_task", true}, {"finisher", true}, {"write_file", true},
	} {
		err := AutoGPT{}.ValidateTools([]llm.ToolSpec{{Name: "search"}, {Name: tt.name}})
		if tt.ok {
			assert.NoError(t, err, tt.name)
			continue
		}
		require.Error(t, err, tt.name)
		assert.Contains(t, err.Error(), `"`+tt.name+`"`)
		assert.Contains(t, err.Error(), "reserves")

		// A host that builds the view itself still gets the error, at any step.
		view := testView(llmtest.NewScript(), 3, nil)
		view.Tools = append(view.Tools, llm.ToolSpec{Name: tt.name})
		_, err = AutoGPT{}.Next(context.Background(), view)
		assert.ErrorContains(t, err, "reserves", tt.name)
	}
}

// A finish without any answer (no reason, no thoughts) is a format problem, not an empty answer.
func TestAutoGPTEmptyFinish(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     AutoGPT
		reply llmtest.Reply
	}{
		{"no args", AutoGPT{}, llmtest.Text(`{"command": {"name": "finish"}}`)},
		{"empty args", AutoGPT{}, llmtest.Text(`{"command": {"name": "finish", "args": {}}}`)},
		{"blank reason", AutoGPT{}, llmtest.Text(`{"command": {"name": "finish", "args": {"reason": "  "}}}`)},
		{"bare name", AutoGPT{}, llmtest.Text(`{"command": "finish"}`)},
		{"blank string args", AutoGPT{}, llmtest.Text(`{"command": {"name": "finish", "args": " "}}`)},
		{"empty thoughts", AutoGPT{}, llmtest.Text(`{"thoughts": {"text": ""}, "command": {"name": "FINISH", "args": {"reason": null}}}`)},
		{"native", AutoGPT{NativeTools: true}, llmtest.Calls(llm.ToolCall{ID: "c1", Name: "finish", Arguments: `{}`})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			model := llmtest.NewScript(tt.reply)
			d, err := tt.p.Next(context.Background(), testView(model, 0, nil))
			require.NoError(t, err)
			assert.False(t, d.Final, "an empty finish does not end the run")
			require.Len(t, d.Messages, 2)
			assert.Contains(t, d.Messages[1].Content, `finish command has no answer: give your final answer for the user as its "reason" argument`)
			assert.Equal(t, 1, failures(t, d.State))

			model = llmtest.NewScript(tt.reply)
			_, err = tt.p.Next(context.Background(), testView(model, 9, nil))
			var fe *FormatError
			require.ErrorAs(t, err, &fe, "on the last step")
			assert.NotErrorIs(t, err, agent.ErrMaxSteps)
		})
	}
}

func TestParseReActInventedText(t *testing.T) {
	search := `Action: search` + "\n" + `Action Input: {"query": "go"}`
	tools := append(append([]llm.ToolSpec(nil), parseTools...), llm.ToolSpec{Name: "finish"})
	for _, tt := range []struct {
		name    string
		reply   string
		tools   []llm.ToolSpec // nil: parseTools
		action  string         // "" for a final answer
		input   string
		answer  string
		thought string
		used    string
		extra   []string
	}{
		{name: "observation between thoughts", reply: "Thought: a\nObservation: FAKE\nmore fake\nThought: b\n" + search,
			action: "search", input: `{"query": "go"}`, thought: "a\nb", used: "Thought: a\nThought: b\n" + search},
		{name: "observation first", reply: "Observation: FAKE\n" + search, action: "search", input: `{"query": "go"}`, used: search},
		{name: "inline observation in unlabelled text", reply: "I think. Observation: FAKE\n" + search,
			action: "search", input: `{"query": "go"}`, thought: "I think.", used: "I think.\n" + search},
		{name: "inline observation in a thought", reply: "Thought: I looked. **Observation:** FAKE\n" + search,
			action: "search", input: `{"query": "go"}`, thought: "I looked.", used: "Thought: I looked.\n" + search},
		{name: "inline observation after a JSON input", reply: "Action: search\nAction Input: {\"s\":\"a\"} Observation: FAKE3",
			action: "search", input: `{"s":"a"}`, used: "Action: search\nAction Input: {\"s\":\"a\"}"},
		{name: "inline observation after a text input", reply: "Action: search\nAction Input: weather in Paris Observation: sunny",
			action: "search", input: "weather in Paris", used: "Action: search\nAction Input: weather in Paris"},
		{name: "inline observation after a fenced input", reply: "Action: search\nAction Input: ```json\n{\"query\": \"go\"}\n``` Observation: x",
			action: "search", input: "```json\n{\"query\": \"go\"}\n```", used: "Action: search\nAction Input: ```json\n{\"query\": \"go\"}\n```"},
		{name: "inline observation on the action line", reply: "Action: search Observation: x",
			action: "search", used: "Action: search"},
		{name: "observation inside a JSON string stays", reply: "Action: search\nAction Input: {\"query\": \"Observation: keep\"}",
			action: "search", input: `{"query": "Observation: keep"}`},
		{name: "a lower-case observation in prose stays", reply: "Thought: my observation: it is big\n" + search,
			action: "search", input: `{"query": "go"}`, thought: "my observation: it is big"},
		{name: "final answer drops an earlier observation", reply: "Thought: a\nObservation: FAKE\nThought: b\nFinal Answer: 4",
			answer: "4", thought: "a\nb", used: "Thought: a\nThought: b\nFinal Answer: 4"},
		{name: "final answer keeps an Observation inside it", reply: "Final Answer: the Observation: field is required",
			answer: "the Observation: field is required"},
		{name: "plain answer drops an observation", reply: "It is 4.\nObservation: FAKE", answer: "It is 4.", used: "It is 4."},
		{name: "action Final Answer", reply: "Thought: t\nAction: Final Answer\nAction Input: 42", answer: "42", thought: "t"},
		{name: "action final answer, quoted", reply: "Action: final answer\nAction Input: \"42\"", answer: "42"},
		{name: "action final_answer without such a tool", reply: "Action: final_answer\nAction Input: 42", answer: "42"},
		{name: "action Finish with an answer object", reply: "Action: Finish\nAction Input: {\"answer\": \"42\"}", answer: "42"},
		{name: "action Finish with another object", reply: "Action: Finish\nAction Input: {\"x\": 1}", answer: `{"x": 1}`},
		{name: "action Finish[...]", reply: "Action: Finish[42]", answer: "42"},
		{name: "action Final Answer: inline", reply: "Action: Final Answer: 42", answer: "42"},
		{name: "action None with an input", reply: "Action: None\nAction Input: the answer is 42", answer: "the answer is 42"},
		{name: "action None with a none input, then an answer", reply: "Action: None\nAction Input: N/A\nFinal Answer: 4", answer: "4"},
		{name: "action Final Answer with an observation before", reply: "Observation: FAKE\nAction: Final Answer\nAction Input: 42",
			answer: "42", used: "Action: Final Answer\nAction Input: 42"},
		{name: "a tool named finish is a tool", reply: "Action: finish\nAction Input: {}", tools: tools, action: "finish", input: "{}"},
		{name: "further actions are extra", reply: search + "\nObservation: x\nAction: write_file\nAction Input: {}\nAction: Add\nAction: browse",
			action: "search", input: `{"query": "go"}`, used: search, extra: []string{"write_file", "add"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tools := tt.tools
			if tools == nil {
				tools = parseTools
			}
			r := parseReAct(tt.reply, tools)
			require.Empty(t, r.problem)
			used := tt.used
			if used == "" {
				used = strings.TrimSpace(tt.reply)
			}
			assert.Equal(t, used, r.used, "history text")
			assert.Equal(t, tt.thought, r.thought, "thought")
			assert.Equal(t, tt.extra, r.extra, "extra")
			if tt.action == "" {
				assert.True(t, r.final)
				assert.False(t, r.hasAction)
				assert.Equal(t, tt.answer, r.answer)
				return
			}
			assert.True(t, r.hasAction)
			assert.Equal(t, tt.action, r.action)
			assert.Equal(t, tt.input, r.input)
		})
	}
}

func TestParseAutoGPTExtraCommands(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply string
		first string
		args  string
		extra []string
	}{
		{name: "two objects", reply: `{"command": {"name": "search", "args": {"query": "one"}}} {"command": {"name": "write_file", "args": {}}}`,
			first: "search", args: `{"query": "one"}`, extra: []string{"write_file"}},
		{name: "three objects, a bare name", reply: "{\"command\": \"search\", \"args\": {\"query\": \"1\"}}\n```json\n{\"command\": \"add\"}\n```\n{\"command\": {\"name\": \"finish\"}}",
			first: "search", args: `{"query": "1"}`, extra: []string{"add", "finish"}},
		{name: "duplicate command keys: the first written runs", reply: `{"command": {"name": "search", "args": {"query": "a"}}, "command": {"name": "add", "args": {"a": 1}}}`,
			first: "search", args: `{"query": "a"}`, extra: []string{"add"}},
		{name: "command keys in two cases", reply: `{"Command": {"name": "search"}, "command": {"name": "add"}}`,
			first: "search", extra: []string{"add"}},
		{name: "a thoughts-only object after is no command", reply: agReply + ` {"thoughts": {"text": "later"}}`, first: "write_file", args: `{"path": "a.txt", "content": "hi"}`},
		{name: "a command key inside the args is not a command", reply: `{"command": {"name": "search", "args": {"query": {"command": "ls"}}}}`,
			first: "search", args: `{"query": {"command": "ls"}}`},
		{name: "objects inside a truncated command are not commands", reply: `{"command": {"name": "search", "args": {"query": "x", "more": {"command": "add"`,
			first: "search", args: `{"query": "x", "more": {"command": "add"}}`},
		{name: "null duplicate is no command", reply: `{"command": {"name": "search"}, "command": null}`, first: "search"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := parseAutoGPT(tt.reply)
			require.True(t, r.hasCommand)
			assert.Equal(t, tt.first, r.name)
			if tt.args != "" {
				assert.Equal(t, tt.args, string(r.args))
			}
			assert.Equal(t, tt.extra, r.extra)
		})
	}
}

func TestAutoGPTExtraCommands(t *testing.T) {
	ctx := context.Background()
	two := `{"command": {"name": "search", "args": {"query": "go"}}}` + "\n" + `{"command": {"name": "write_file", "args": {"path": "a", "content": "b"}}}`

	// The first command runs; the state remembers the others for the next request.
	model := llmtest.NewScript(llmtest.Text(two))
	d, err := AutoGPT{}.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	require.Len(t, d.ToolCalls, 1)
	assert.Equal(t, "search", d.ToolCalls[0].Name)
	assert.JSONEq(t, `{"format_failures": 0, "ran": "search", "ignored": ["write_file"]}`, string(d.State))

	// The next request tells the model with the result, and its state forgets.
	view := testView(llmtest.NewScript(llmtest.Text(agReply)), 1, d.State)
	view.Messages = append(view.Messages, llm.Message{Role: llm.RoleAssistant, Content: two},
		llm.Message{Role: llm.RoleUser, Content: "Command search returned: Go is a language."})
	d, err = AutoGPT{}.Next(ctx, view)
	require.NoError(t, err)
	last := view.Model.(*llmtest.Script).Requests()[0].Messages
	obs := last[len(last)-1].Content
	assert.True(t, strings.HasPrefix(obs, "Command search returned: Go is a language.\n\n"), obs)
	assert.Contains(t, obs, "Only the first, search, was run; the other command (write_file) was ignored.")
	assert.Equal(t, "Command search returned: Go is a language.", view.Messages[2].Content, "the history is not changed")
	assert.JSONEq(t, `{"format_failures": 0}`, string(d.State))

	// Unknown names in later objects are prose, not commands.
	model = llmtest.NewScript(llmtest.Text(agReply + ` Example: {"command": "ls -la"}`))
	d, err = AutoGPT{}.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	assert.JSONEq(t, `{"format_failures": 0}`, string(d.State))

	// finish with other commands: the others would never run, so it is sent back.
	model = llmtest.NewScript(llmtest.Text(`{"command": {"name": "finish", "args": {"reason": "written"}}} {"command": {"name": "write_file", "args": {}}}`))
	d, err = AutoGPT{}.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	assert.False(t, d.Final)
	require.Len(t, d.Messages, 2)
	assert.Contains(t, d.Messages[1].Content, "it has the command finish and also write_file, which would not run: run it first")

	// ...but on the last step, finish is the answer.
	model = llmtest.NewScript(llmtest.Text(`{"command": {"name": "finish", "args": {"reason": "written"}}} {"command": {"name": "write_file", "args": {}}}`))
	d, err = AutoGPT{}.Next(ctx, testView(model, 9, nil))
	require.NoError(t, err)
	assert.Equal(t, "written", d.Answer)

	// Several native calls: the first runs, and only it stays in the history.
	model = llmtest.NewScript(llmtest.Calls(
		llm.ToolCall{ID: "c1", Name: "search", Arguments: `{"query": "go"}`},
		llm.ToolCall{ID: "c2", Name: "add", Arguments: `{"a": 1}`},
		llm.ToolCall{ID: "c3", Name: "search", Arguments: `{"query": "rust"}`}))
	d, err = AutoGPT{NativeTools: true}.Next(ctx, testView(model, 0, nil))
	require.NoError(t, err)
	require.Len(t, d.ToolCalls, 1)
	assert.Equal(t, "c1", d.ToolCalls[0].ID)
	assert.Equal(t, d.ToolCalls, d.Messages[0].ToolCalls)
	assert.JSONEq(t, `{"format_failures": 0, "ran": "search", "ignored": ["add", "search"]}`, string(d.State))
}

func TestFinishAnswerTyped(t *testing.T) {
	for _, tt := range []struct{ args, want string }{
		{`{"answer": {"title": "Go"}}`, `{"title":"Go"}`},
		{`{"reason": {"title": "Go"}}`, `{"title":"Go"}`},
		{`{"answer": "{\"title\": \"Go\"}"}`, `{"title": "Go"}`},
		{`{"reason": "prose", "answer": {"title": "Go"}}`, `{"title":"Go"}`},
		{`{"title": "Go"}`, `{"title":"Go"}`},
		{`"{\"title\": \"Go\"}"`, `{"title":"Go"}`},
		{`{"answer": [1, 2]}`, `[1,2]`},
		{`{}`, ``},
		{``, ``},
	} {
		assert.Equal(t, tt.want, finishAnswer(json.RawMessage(tt.args), &agent.Thoughts{Text: "prose"}, true), tt.args)
	}
}

func TestFinalStepMessage(t *testing.T) {
	user := func(s string) []llm.Message { return []llm.Message{{Role: llm.RoleUser, Content: s}} }
	at, form := finalStepMessage(user(agent.FinalStepPrompt))
	assert.Equal(t, 0, at)
	assert.Empty(t, form)
	at, form = finalStepMessage(user(agent.FinalStepPrompt + " Answer with a JSON object matching this JSON Schema: {} and nothing else."))
	assert.Equal(t, 0, at)
	assert.Equal(t, "a JSON object matching this JSON Schema: {}", form)
	_, form = finalStepMessage(user(agent.FinalStepPrompt + " Reply in French."))
	assert.Equal(t, "Reply in French.", form, "another form is passed on")
	at, _ = finalStepMessage(user("hello"))
	assert.Equal(t, -1, at)
	at, _ = finalStepMessage(nil)
	assert.Equal(t, -1, at)
}

func TestAutoGPTResourcesPointAtTheCommands(t *testing.T) {
	sys := AutoGPT{}.Prompt(testView(nil, 0, nil))
	res := strings.Index(sys, "RESOURCES:")
	require.Greater(t, res, strings.Index(sys, "COMMANDS:"), "the commands come before the resources")
	resources := sys[res:strings.Index(sys, "PERFORMANCE EVALUATION:")]
	assert.Contains(t, resources, "The commands listed above")
	assert.NotContains(t, resources, "below", "the commands come before the resources")
}
