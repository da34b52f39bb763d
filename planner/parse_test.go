package planner

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

// Tools the parse tests resolve against: write_file has two properties, search a single string one.
var parseTools = []llm.ToolSpec{
	{Name: "write_file", Description: "Writes a file.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}`)},
	{Name: "search", Description: "Searches the web.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}`)},
	{Name: "add", Description: "Adds.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"a":{"type":"integer"}}}`)},
}

// A well-formed AutoGPT reply and its parts.
const (
	agThoughts = `"thoughts": {"text": "I will write the file.", "reasoning": "The goal asks for it.", "plan": "- write\n- finish", "criticism": "none", "speak": "Writing."}`
	agCommand  = `"command": {"name": "write_file", "args": {"path": "a.txt", "content": "hi"}}`
	agReply    = "{" + agThoughts + ", " + agCommand + "}"
	agArgs     = `{"path":"a.txt","content":"hi"}`
)

func TestParseAutoGPT(t *testing.T) {
	tests := []struct {
		name     string
		reply    string
		command  string // resolved name; "" when a problem is expected
		args     string // the tool call's Arguments
		thought  string // Thoughts.Text; "" for nil thoughts
		problem  string // substring of the problem; "" for none
		finishes string // finish answer, when command is finish
	}{
		{name: "plain JSON", reply: agReply, command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "json code fence", reply: "```json\n" + agReply + "\n```", command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "fence without language", reply: "```\n" + agReply + "\n```", command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "prose before", reply: "Sure! Here is my next step:\n" + agReply, command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "prose after", reply: agReply + "\nI hope this helps {really}.", command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "prose around a fence", reply: "Let me think.\n```json\n" + agReply + "\n```\nDone.", command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "stray brace in prose before", reply: "I must use { carefully. " + agReply, command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "first object has no command", reply: `{"thoughts": {"text": "first"}}` + "\n" + `{"command": {"name": "search", "args": {"query": "go"}}}`,
			command: "search", args: `{"query":"go"}`, thought: "first"},
		{name: "two commands: the first wins", reply: `{"command": {"name": "search", "args": {"query": "one"}}} {"command": {"name": "search", "args": {"query": "two"}}}`,
			command: "search", args: `{"query":"one"}`},
		{name: "example object then answer", reply: "The format is {\"example\": true}.\n" + agReply, command: "write_file", args: agArgs, thought: "I will write the file."},
		{name: "trailing commas", reply: `{"thoughts": {"text": "t",}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hi",},},}`,
			command: "write_file", args: agArgs, thought: "t"},
		{name: "single quotes", reply: `{'thoughts': {'text': 'fine'}, 'command': {'name': 'write_file', 'args': {'path': 'a.txt', 'content': 'hi'}}}`,
			command: "write_file", args: agArgs, thought: "fine"},
		{name: "unquoted keys", reply: `{thoughts: {text: "t"}, command: {name: "write_file", args: {path: "a.txt", content: "hi"}}}`,
			command: "write_file", args: agArgs, thought: "t"},
		{name: "comments", reply: "{\n // my thoughts\n \"thoughts\": {\"text\": \"t\"}, /* the command */ \"command\": {\"name\": \"write_file\", \"args\": {\"path\": \"a.txt\", \"content\": \"hi\"}}\n}",
			command: "write_file", args: agArgs, thought: "t"},
		{name: "python constants", reply: `{"command": {"name": "add", "args": {"a": 1, "b": True, "c": None}}}`,
			command: "add", args: `{"a":1,"b":true,"c":null}`},
		{name: "truncated in the args", reply: `{"thoughts": {"text": "t"}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hel`,
			command: "write_file", args: `{"path":"a.txt","content":"hel"}`, thought: "t"},
		{name: "truncated in a fence", reply: "```json\n" + `{"thoughts": {"text": "t"}, "command": {"name": "search", "args": {"query": "go`,
			command: "search", args: `{"query":"go"}`, thought: "t"},
		{name: "truncated with the closing fence", reply: "```json\n" + `{"thoughts": {"text": "t"}, "command": {"name": "search", "args": {"query": "go"` + "\n```",
			command: "search", args: `{"query":"go"}`, thought: "t"},
		{name: "truncated in the thoughts", reply: `{"thoughts": {"text": "I will`, problem: "no command", thought: "I will"},
		{name: "args as a JSON string holding an object", reply: `{"command": {"name": "write_file", "args": "{\"path\": \"a.txt\", \"content\": \"hi\"}"}}`,
			command: "write_file", args: agArgs},
		{name: "args string holding malformed JSON", reply: `{"command": {"name": "write_file", "args": "{'path': 'a.txt', 'content': 'hi',}"}}`,
			command: "write_file", args: agArgs},
		{name: "args as plain text for a one-string tool", reply: `{"command": {"name": "search", "args": "golang generics"}}`,
			command: "search", args: `{"query":"golang generics"}`},
		{name: "args as plain text for another tool", reply: `{"command": {"name": "write_file", "args": "a.txt"}}`,
			command: "write_file", args: `a.txt`},
		{name: "args missing", reply: `{"command": {"name": "search"}}`, command: "search", args: `{}`},
		{name: "args null", reply: `{"command": {"name": "search", "args": null}}`, command: "search", args: `{}`},
		{name: "args under arguments", reply: `{"command": {"name": "search", "arguments": {"query": "x"}}}`, command: "search", args: `{"query":"x"}`},
		{name: "command as a bare string", reply: `{"thoughts": {"text": "t"}, "command": "search", "args": {"query": "x"}}`,
			command: "search", args: `{"query":"x"}`, thought: "t"},
		{name: "command as a bare string without args", reply: `{"command": "search"}`, command: "search", args: `{}`},
		{name: "keys in other case", reply: `{"Thoughts": {"Text": "t"}, "Command": {"Name": "search", "Args": {"query": "x"}}}`,
			command: "search", args: `{"query":"x"}`, thought: "t"},
		{name: "command name in other case", reply: `{"command": {"name": "Write_File", "args": {"path": "a.txt", "content": "hi"}}}`,
			command: "write_file", args: agArgs},
		{name: "missing thoughts", reply: "{" + agCommand + "}", command: "write_file", args: agArgs},
		{name: "thoughts as a string", reply: `{"thoughts": "just do it", "command": {"name": "search", "args": {"query": "x"}}}`,
			command: "search", args: `{"query":"x"}`, thought: "just do it"},
		{name: "braces inside strings", reply: `{"command": {"name": "write_file", "args": {"path": "m.go", "content": "func main() { if x { } }"}}}`,
			command: "write_file", args: `{"path":"m.go","content":"func main() { if x { } }"}`},
		{name: "missing command", reply: `{"thoughts": {"text": "hmm"}}`, problem: "it has no command", thought: "hmm"},
		{name: "null command", reply: `{"thoughts": {"text": "hmm"}, "command": null}`, problem: "it has no command", thought: "hmm"},
		{name: "command without name", reply: `{"command": {"args": {"query": "x"}}}`, problem: "its command has no name"},
		{name: "unknown command", reply: `{"command": {"name": "browse", "args": {}}}`, problem: `"browse" is not a command; the commands are: write_file, search, add, finish`},
		{name: "empty reply", reply: "", problem: "it was empty"},
		{name: "blank reply", reply: " \n\t", problem: "it was empty"},
		{name: "prose only", reply: "I think I should write the file now.", problem: "it holds no JSON object"},
		{name: "unrepairable", reply: "{:::}", problem: "it holds no JSON object"},
		{name: "finish", reply: `{"thoughts": {"text": "done"}, "command": {"name": "finish", "args": {"reason": "The file is written."}}}`,
			command: "finish", finishes: "The file is written.", thought: "done"},
		{name: "finish in other case, answer key", reply: `{"command": {"name": "FINISH", "args": {"answer": "42"}}}`, command: "finish", finishes: "42"},
		{name: "finish without reason takes the thoughts", reply: `{"thoughts": {"text": "All done."}, "command": {"name": "finish", "args": {}}}`,
			command: "finish", finishes: "All done.", thought: "All done."},
		{name: "finish with a string reason", reply: `{"command": {"name": "finish", "args": "Nothing more to do."}}`, command: "finish", finishes: "Nothing more to do."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseAutoGPT(tt.reply)
			name, spec, problem := resolveCommand(parseTools, r)
			if tt.problem != "" {
				assert.Contains(t, problem, tt.problem)
				assert.Empty(t, name)
			} else {
				require.Empty(t, problem)
				assert.Equal(t, tt.command, name)
				if name == FinishCommand {
					assert.Equal(t, tt.finishes, finishAnswer(r.args, r.thoughts, false))
				} else {
					assert.Equal(t, tt.args, argsFromValue(r.args, spec))
				}
			}
			if tt.thought == "" {
				if r.thoughts != nil {
					assert.Empty(t, r.thoughts.Text)
				}
			} else {
				require.NotNil(t, r.thoughts)
				assert.Equal(t, tt.thought, r.thoughts.Text)
			}
		})
	}
}

func TestParseAutoGPTThoughtsParts(t *testing.T) {
	r := parseAutoGPT(agReply)
	require.NotNil(t, r.thoughts)
	assert.Equal(t, "The goal asks for it.", r.thoughts.Reasoning)
	assert.Equal(t, "- write\n- finish", r.thoughts.Plan)
	assert.Equal(t, "none", r.thoughts.Criticism)
	assert.Equal(t, "Writing.", r.thoughts.Speak)

	r = parseAutoGPT(`{"thoughts": {"text": "t", "plan": ["look", "write"], "reasoning": 42}, "command": "search"}`)
	require.NotNil(t, r.thoughts)
	assert.Equal(t, "- look\n- write", r.thoughts.Plan, "a plan given as a list")
	assert.Equal(t, "42", r.thoughts.Reasoning)
}

func TestParseReAct(t *testing.T) {
	tests := []struct {
		name    string
		reply   string
		action  string // tool call name; "" for a final answer or a problem
		args    string
		answer  string
		thought string
		used    string // the text kept in the history; "" means the reply trimmed
		problem string
	}{
		{name: "action", reply: "Thought: I need to search.\nAction: search\nAction Input: {\"query\": \"go\"}",
			action: "search", args: `{"query":"go"}`, thought: "I need to search."},
		{name: "invented observation and final answer dropped",
			reply:  "Thought: search first\nAction: search\nAction Input: {\"query\": \"go\"}\nObservation: Go is a language.\nThought: I know it\nFinal Answer: Go is a language.",
			action: "search", args: `{"query":"go"}`, thought: "search first", used: "Thought: search first\nAction: search\nAction Input: {\"query\": \"go\"}"},
		{name: "multi-line action input", reply: "Thought: write\nAction: write_file\nAction Input: {\n  \"path\": \"a.txt\",\n  \"content\": \"hi\"\n}\n",
			action: "write_file", args: agArgs, thought: "write"},
		{name: "multi-line input with a label-like line inside", reply: "Action: search\nAction Input: {\"query\":\n\"Thought: x\"}\nObservation: made up",
			action: "search", args: `{"query":"Thought: x"}`, used: "Action: search\nAction Input: {\"query\":\n\"Thought: x\"}"},
		{name: "trailing Observation label stripped", reply: "Thought: t\nAction: search\nAction Input: {\"query\": \"go\"}\nObservation:",
			action: "search", args: `{"query":"go"}`, thought: "t", used: "Thought: t\nAction: search\nAction Input: {\"query\": \"go\"}"},
		{name: "trailing bare Observation stripped", reply: "Thought: t\nAction: search\nAction Input: {\"query\": \"go\"}\nObservation\n",
			action: "search", args: `{"query":"go"}`, thought: "t", used: "Thought: t\nAction: search\nAction Input: {\"query\": \"go\"}"},
		{name: "text input for a one-string tool", reply: "Action: search\nAction Input: weather in Paris",
			action: "search", args: `{"query":"weather in Paris"}`},
		{name: "quoted text input for a one-string tool", reply: "Action: search\nAction Input: \"weather in Paris\"",
			action: "search", args: `{"query":"weather in Paris"}`},
		{name: "text input for another tool passes as is", reply: "Action: write_file\nAction Input: a.txt hi",
			action: "write_file", args: `a.txt hi`},
		{name: "number input passes as is", reply: "Action: add\nAction Input: 42", action: "add", args: `42`},
		{name: "malformed JSON input repaired", reply: "Action: write_file\nAction Input: {'path': 'a.txt', content: 'hi',}",
			action: "write_file", args: agArgs},
		{name: "truncated JSON input repaired", reply: "Action: search\nAction Input: {\"query\": \"go", action: "search", args: `{"query":"go"}`},
		{name: "input in a json fence", reply: "Thought: t\nAction: search\nAction Input:\n```json\n{\"query\": \"go\"}\n```\nObservation: x",
			action: "search", args: `{"query":"go"}`, thought: "t", used: "Thought: t\nAction: search\nAction Input:\n```json\n{\"query\": \"go\"}\n```"},
		{name: "text input in a fence keeps label-like lines", reply: "Action: search\nAction Input: ```\nline one\nThought: part of the input\n```",
			action: "search", args: `{"query":"line one\nThought: part of the input"}`},
		{name: "no action input", reply: "Action: search", action: "search", args: `{}`},
		{name: "labels in other case", reply: "THOUGHT: t\nACTION: search\naction input: {\"query\": \"go\"}",
			action: "search", args: `{"query":"go"}`, thought: "t"},
		{name: "name in backticks", reply: "Action: `search`\nAction Input: {\"query\": \"go\"}", action: "search", args: `{"query":"go"}`},
		{name: "name in quotes", reply: "Action: \"search\"\nAction Input: {\"query\": \"go\"}", action: "search", args: `{"query":"go"}`},
		{name: "name in other case", reply: "Action: Search\nAction Input: {\"query\": \"go\"}", action: "search", args: `{"query":"go"}`},
		{name: "markdown bold labels", reply: "**Thought:** t\n**Action:** search\n**Action Input:** {\"query\": \"go\"}",
			action: "search", args: `{"query":"go"}`, thought: "t"},
		{name: "underscore label", reply: "Action: search\nAction_Input: {\"query\": \"go\"}", action: "search", args: `{"query":"go"}`},
		{name: "inline brackets", reply: "Thought: t\nAction: search[weather in Paris]", action: "search", args: `{"query":"weather in Paris"}`, thought: "t"},
		{name: "inline call with JSON", reply: "Action: search({\"query\": \"go\"})", action: "search", args: `{"query":"go"}`},
		{name: "unknown tool passes to the loop", reply: "Action: browse\nAction Input: {\"url\": \"x\"}", action: "browse", args: `{"url":"x"}`},
		{name: "CRLF line endings", reply: "Thought: t\r\nAction: search\r\nAction Input: {\"query\": \"go\"}\r\n",
			action: "search", args: `{"query":"go"}`, thought: "t"},
		{name: "untagged thought before the action", reply: "Let me look it up.\nAction: search\nAction Input: {\"query\": \"go\"}",
			action: "search", args: `{"query":"go"}`, thought: "Let me look it up."},
		{name: "final answer", reply: "Thought: I know it.\nFinal Answer: Paris", answer: "Paris", thought: "I know it."},
		{name: "multi-line final answer", reply: "Final Answer: Line one.\n\nLine two.", answer: "Line one.\n\nLine two."},
		{name: "final answer label in other case", reply: "final answer: 4", answer: "4"},
		{name: "final answer before an action wins", reply: "Final Answer: 4\nAction: search\nAction Input: {\"query\": \"x\"}",
			answer: "4", used: "Final Answer: 4"},
		{name: "final answer then invented observation", reply: "Final Answer: 4\nObservation: nothing", answer: "4", used: "Final Answer: 4"},
		{name: "action none then final answer", reply: "Thought: no tool needed\nAction: None\nFinal Answer: 4", answer: "4", thought: "no tool needed"},
		{name: "plain text is the answer", reply: "The capital of France is Paris.", answer: "The capital of France is Paris."},
		{name: "thought only is the answer", reply: "Thought: The answer is 4.", answer: "The answer is 4."},
		{name: "empty", reply: "", problem: "it was empty"},
		{name: "blank", reply: "\n  \n", problem: "it was empty"},
		{name: "only a trailing observation label", reply: "Observation:", problem: "it was empty"},
		{name: "labels without content", reply: "Thought:\nAction:\nAction Input:", problem: "the Action has no tool name"},
		{name: "thought label only", reply: "Thought:", problem: "it has labels but no content"},
		{name: "empty final answer", reply: "Thought: done\nFinal Answer:", problem: "the Final Answer is empty"},
		{name: "input without action", reply: "Action Input: {\"query\": \"go\"}", problem: "it has an Action Input but no Action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseReAct(tt.reply, parseTools)
			if tt.problem != "" {
				assert.Contains(t, r.problem, tt.problem)
				assert.False(t, r.final)
				assert.False(t, r.hasAction)
				return
			}
			require.Empty(t, r.problem)
			used := tt.used
			if used == "" {
				used = strings.TrimSpace(tt.reply)
			}
			assert.Equal(t, used, r.used, "history text")
			assert.Equal(t, tt.thought, r.thought, "thought")
			if tt.action == "" {
				assert.True(t, r.final)
				assert.Equal(t, tt.answer, r.answer)
				return
			}
			require.True(t, r.hasAction)
			spec, ok := findTool(parseTools, r.action)
			name := r.action
			if ok {
				name = spec.Name
			}
			assert.Equal(t, tt.action, name)
			assert.Equal(t, tt.args, argsFromText(r.input, spec))
		})
	}
}

func TestStripFence(t *testing.T) {
	for in, want := range map[string]string{
		"```json\n{\"a\":1}\n```": `{"a":1}`,
		"```\n{\"a\":1}\n```":     `{"a":1}`,
		"```{\"a\":1}```":         `{"a":1}`,
		"```json\n{\"a\":1}":      `{"a":1}`,
		"`x`":                     "x",
		"plain":                   "plain",
	} {
		assert.Equal(t, want, stripFence(in), in)
	}
}

func TestSingleStringProperty(t *testing.T) {
	for raw, want := range map[string]string{
		`{"type":"object","properties":{"q":{"type":"string"}}}`:                       "q",
		`{"type":"object","properties":{"q":{"type":["string","null"]}}}`:              "q",
		`{"type":"object","properties":{"q":{"type":"integer"}}}`:                      "",
		`{"type":"object","properties":{"q":{"type":"string"},"r":{"type":"string"}}}`: "",
		`{"type":"object"}`: "",
		`not json`:          "",
	} {
		name, ok := singleStringProperty(&llm.ToolSpec{Parameters: json.RawMessage(raw)})
		assert.Equal(t, want, name, raw)
		assert.Equal(t, want != "", ok, raw)
	}
	_, ok := singleStringProperty(nil)
	assert.False(t, ok)
}

// hostile are replies built to make a careless parser slow or deep: they must parse fast.
func hostile() map[string]string {
	return map[string]string{
		"many opening braces":       strings.Repeat("{", 1<<20),
		"deep nesting, closed":      strings.Repeat("{\"a\":", 5000) + "1" + strings.Repeat("}", 5000),
		"deep arrays in a command":  `{"command": {"name": "x", "args": ` + strings.Repeat("[", 100000),
		"long unterminated string":  `{"command": {"name": "x", "args": {"a": "` + strings.Repeat(`x\"`, 200000),
		"many small objects":        strings.Repeat(`{"a": 1} `, 100000),
		"many broken objects":       strings.Repeat(`{a: 'b', `, 100000),
		"quotes and braces":         strings.Repeat(`"{'`, 200000),
		"many labels":               strings.Repeat("Thought: x\nAction Input: {\n", 50000),
		"many fences":               strings.Repeat("Action Input: ```\n", 50000),
		"one long line":             "Action: " + strings.Repeat("a", 1<<20),
		"big valid reply":           `{"command": {"name": "write_file", "args": {"path": "a", "content": "` + strings.Repeat("x", 4<<20) + `"}}}`,
		"big malformed reply":       `{command: {name: 'write_file', args: {path: 'a', content: '` + strings.Repeat("x", 1<<20) + `'}}}`,
		"observation labels at end": "Final Answer: x" + strings.Repeat("\nObservation:", 100000),
		"many no-actions":           strings.Repeat("Thought: t Observation: x\nAction: none\nAction Input: none\n", 50000),
		"many inline observations":  strings.Repeat("Observation Observation: ", 100000),
		"many duplicate commands":   "{" + strings.Repeat(`"command": {"name": "search"}, `, 50000) + `"x": 1}`,
	}
}

func TestParsersAreFastOnHostileInput(t *testing.T) {
	for name, in := range hostile() {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := parseAutoGPT(in)
			_, spec, _ := resolveCommand(parseTools, r)
			_ = argsFromValue(r.args, spec)
			rr := parseReAct(in, parseTools)
			_ = argsFromText(rr.input, &parseTools[1])
			// Generous for -race on a loaded machine; these take milliseconds without it.
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestRepairBudget(t *testing.T) {
	// A malformed object larger than the budget is not repaired...
	big := `{command: 'search', args: {query: '` + strings.Repeat("x", MaxRepairBytes) + `'}}`
	assert.False(t, parseAutoGPT(big).hasCommand)
	// ...but valid JSON of any size is read.
	valid := `{"command": "search", "args": {"query": "` + strings.Repeat("x", 2*MaxRepairBytes) + `"}}`
	assert.True(t, parseAutoGPT(valid).hasCommand)
	// Too deep to repair.
	deep := `{command: 'x', args: ` + strings.Repeat("[", maxRepairDepth+1)
	assert.False(t, parseAutoGPT(deep).hasCommand)
}

func TestLowerKeysIsDeterministic(t *testing.T) {
	for range 20 {
		m := lowerKeys(map[string]json.RawMessage{"Command": json.RawMessage(`1`), "COMMAND": json.RawMessage(`2`), "command": json.RawMessage(`3`)})
		assert.Equal(t, `3`, string(m["command"]), "an exact lower-case key wins")
		m = lowerKeys(map[string]json.RawMessage{"Command": json.RawMessage(`1`), "COMMAND": json.RawMessage(`2`)})
		assert.Equal(t, `2`, string(m["command"]), "else the first in sorted order")
	}
}
