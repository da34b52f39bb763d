package planner

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// fuzzSlow is how long one parse may take in a fuzz run before it is reported: the parsers are
// linear but for the bounded repair (see MaxRepairBytes), and fuzz inputs are small.
const fuzzSlow = 2 * time.Second

// echoModel answers every request with reply.
func echoModel(reply string) llm.Model {
	return llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: reply}, FinishReason: llm.FinishStop}, nil
	})
}

// checkDecision checks what every Next result must satisfy, whatever the reply.
func checkDecision(t *testing.T, d *agent.Decision, err error, last bool) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrFormat) && !(last && errors.Is(err, agent.ErrMaxSteps)) {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if d == nil {
		t.Fatal("nil decision without error")
	}
	switch {
	case d.Final:
		if len(d.ToolCalls) > 0 {
			t.Fatal("a final decision with tool calls")
		}
	case len(d.ToolCalls) == 1:
		if last {
			t.Fatal("a tool call on the last step")
		}
		if d.ToolCalls[0].ID == "" || d.ToolCalls[0].Name == "" {
			t.Fatalf("tool call without ID or name: %+v", d.ToolCalls[0])
		}
		if len(d.Messages) != 1 || d.Messages[0].Role != llm.RoleAssistant {
			t.Fatalf("a tool call needs exactly the assistant message: %+v", d.Messages)
		}
	default:
		if len(d.ToolCalls) != 0 || len(d.Messages) != 2 || d.Messages[1].Role != llm.RoleUser || d.Messages[0].Content == "" {
			t.Fatalf("a correction must be an assistant message and a user message: %+v", d)
		}
	}
	if d.State != nil && !json.Valid(d.State) {
		t.Fatalf("invalid state %q", d.State)
	}
}

func FuzzParseAutoGPT(f *testing.F) {
	for _, seed := range []string{
		agReply,
		"```json\n" + agReply + "\n```",
		"```\n" + agReply + "\n```",
		"Sure! Here is my next step:\n" + agReply + "\nI hope this helps.",
		`{"thoughts": {"text": "first"}}` + "\n" + `{"command": {"name": "search", "args": {"query": "go"}}}`,
		`{"thoughts": {"text": "t",}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hi",},},}`,
		`{'thoughts': {'text': 'fine'}, 'command': {'name': 'write_file', 'args': {'path': 'a.txt', 'content': 'hi'}}}`,
		`{thoughts: {text: "t"}, command: {name: "write_file", args: {path: "a.txt", content: "hi"}}}`,
		"{\n // my thoughts\n \"thoughts\": {\"text\": \"t\"}, /* the command */ \"command\": {\"name\": \"search\", \"args\": {\"query\": \"x\"}}\n}",
		`{"thoughts": {"text": "t"}, "command": {"name": "write_file", "args": {"path": "a.txt", "content": "hel`,
		"```json\n" + `{"thoughts": {"text": "t"}, "command": {"name": "search", "args": {"query": "go"` + "\n```",
		`{"command": {"name": "write_file", "args": "{\"path\": \"a.txt\", \"content\": \"hi\"}"}}`,
		`{"command": {"name": "search", "args": "golang generics"}}`,
		`{"thoughts": {"text": "t"}, "command": "search", "args": {"query": "x"}}`,
		`{"Thoughts": {"Text": "t", "Plan": ["a", "b"]}, "Command": {"Name": "Search", "Args": {"query": "x"}}}`,
		`{"thoughts": {"text": "hmm"}}`,
		`{"command": {"name": "browse", "args": {}}}`,
		`{"command": {"name": "finish", "args": {"reason": "The file is written."}}}`,
		`{"command": {"name": "add", "args": {"a": 1, "b": True, "c": None}}}`,
		`{"command": {"name": "write_file", "args": {"path": "m.go", "content": "func main() { if x { } }"}}}`,
		"I must use { carefully. " + agReply,
		"I think I should write the file now.",
		"",
		"{:::}",
		`{"command": {"name": "x", "args": ` + "[[[[[[[[[[[[",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		start := time.Now()
		r := parseAutoGPT(reply)
		name, spec, problem := resolveCommand(parseTools, r)
		switch {
		case problem != "":
		case name == FinishCommand:
			_ = finishAnswer(r.args, r.thoughts, false)
		default:
			if !r.hasCommand {
				t.Fatal("a command resolved without a command")
			}
			args := argsFromValue(r.args, spec)
			var m map[string]json.RawMessage
			if json.Unmarshal(r.args, &m) == nil && m != nil && !json.Valid([]byte(args)) {
				t.Fatalf("object args %q became invalid JSON %q", r.args, args)
			}
		}
		if el := time.Since(start); el > fuzzSlow {
			t.Fatalf("parsing %d bytes took %v", len(reply), el)
		}
		for _, step := range []int{0, 9} {
			d, err := AutoGPT{}.Next(context.Background(), testView(echoModel(reply), step, nil))
			checkDecision(t, d, err, step == 9)
		}
	})
}

func FuzzParseReAct(f *testing.F) {
	for _, seed := range []string{
		"Thought: I need to search.\nAction: search\nAction Input: {\"query\": \"go\"}",
		"Thought: search first\nAction: search\nAction Input: {\"query\": \"go\"}\nObservation: Go is a language.\nThought: I know it\nFinal Answer: Go is a language.",
		"Thought: write\nAction: write_file\nAction Input: {\n  \"path\": \"a.txt\",\n  \"content\": \"hi\"\n}\n",
		"Thought: t\nAction: search\nAction Input: {\"query\": \"go\"}\nObservation:",
		"Thought: t\nAction: search\nAction Input: {\"query\": \"go\"}\nObservation\n",
		"Action: search\nAction Input: weather in Paris",
		"Action: write_file\nAction Input: {'path': 'a.txt', content: 'hi',}",
		"Thought: t\nAction: search\nAction Input:\n```json\n{\"query\": \"go\"}\n```\nObservation: x",
		"Action: search\nAction Input: ```\nline one\nThought: part of the input\n```",
		"**Thought:** t\n**Action:** `search`\n**Action Input:** {\"query\": \"go\"}",
		"THOUGHT: t\r\nACTION: \"search\"\r\naction input: {\"query\": \"go\"}\r\n",
		"Thought: t\nAction: search[weather in Paris]",
		"Action: search({\"query\": \"go\"})",
		"Thought: I know it.\nFinal Answer: Paris",
		"Final Answer: Line one.\n\nLine two.",
		"Thought: no tool needed\nAction: None\nFinal Answer: 4",
		"The capital of France is Paris.",
		"Thought: The answer is 4.",
		"Thought:\nAction:\nAction Input:",
		"Action Input: {\"query\": \"go\"}",
		"Observation:",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		start := time.Now()
		r := parseReAct(reply, parseTools)
		if r.problem == "" && r.final == r.hasAction {
			t.Fatalf("a usable reply must be exactly one of final or action: %+v", r)
		}
		if r.hasAction {
			if r.action == "" {
				t.Fatal("an action without a name")
			}
			for i := range parseTools {
				_ = argsFromText(r.input, &parseTools[i])
			}
		}
		if len(r.used) > len(reply) {
			t.Fatal("the kept text is longer than the reply")
		}
		if el := time.Since(start); el > fuzzSlow {
			t.Fatalf("parsing %d bytes took %v", len(reply), el)
		}
		for _, step := range []int{0, 9} {
			d, err := ReAct{}.Next(context.Background(), testView(echoModel(reply), step, nil))
			checkDecision(t, d, err, step == 9)
		}
	})
}
