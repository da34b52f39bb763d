package testkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

func addTool() agent.Tool {
	return agent.NewTool("add", "Adds two integers.", func(ctx context.Context, in addArgs) (int, error) {
		return in.A + in.B, nil
	})
}

// guide:script
func TestScriptedModel(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a": 2, "b": 40}`)),
		llmtest.Text("2 + 40 = 42"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{addTool()}})
	require.NoError(t, err)

	res, err := a.Run(context.Background(), "What is 2 + 40?")
	require.NoError(t, err)
	assert.Equal(t, "2 + 40 = 42", res.Answer)
	model.AssertComplete(t) // every scripted reply was used

	second := model.Requests()[1] // the request that carried the tool result
	last := second.Messages[len(second.Messages)-1]
	assert.Equal(t, llm.RoleTool, last.Role)
	assert.Equal(t, "42", last.Content)
}

// guide:end

// guide:func
func TestFunctionModel(t *testing.T) {
	// Answer from the request: call the tool once, then repeat its result.
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == llm.RoleTool {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "sum: " + last.Content}}, nil
		}
		call := llm.ToolCall{ID: "c1", Name: "add", Arguments: `{"a": 1, "b": 2}`}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{call}}}, nil
	})
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{addTool()}})
	require.NoError(t, err)

	res, err := a.Run(context.Background(), "add 1 and 2")
	require.NoError(t, err)
	assert.Equal(t, "sum: 3", res.Answer)
}

// guide:end

// guide:auto
func TestEveryToolWithGeneratedArguments(t *testing.T) {
	type booking struct {
		Guests int    `json:"guests" jsonschema:"number of guests"`
		Date   string `json:"date" jsonschema:"day of the booking, YYYY-MM-DD"`
	}
	var got []booking
	book := agent.NewTool("book_table", "Books a table.", func(ctx context.Context, in booking) (string, error) {
		got = append(got, in)
		return "booked table 12", nil
	})
	// Auto calls every offered tool once with arguments generated from its JSON Schema (valid by
	// construction, the same for the same seed), then answers with a summary of the results.
	model := llmtest.NewAuto(llmtest.WithSeed(42))
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{book, addTool()}})
	require.NoError(t, err)

	res, err := a.Run(context.Background(), "Book a table and add two numbers.")
	require.NoError(t, err)
	assert.Len(t, got, 1, "the tool ran once, with arguments its schema accepts")
	assert.Contains(t, res.Answer, "book_table: booked table 12")
	assert.Equal(t, 2, model.Calls())
}

// guide:end

// guide:stream
func TestStreamedEvents(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.TextAndCalls("Adding.", llmtest.Call("add", `{"a": 20, "b": 22}`)),
		llmtest.Text("42"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{addTool()}})
	require.NoError(t, err)

	var text, args strings.Builder
	for e, err := range a.Stream(context.Background(), "add 20 and 22") {
		require.NoError(t, err)
		switch e.Kind {
		case agent.EventTextDelta: // scripted replies stream in small fragments
			text.WriteString(e.Text)
		case agent.EventToolCallDelta:
			args.WriteString(e.ToolCallDelta.Arguments)
		case agent.EventFinal:
			assert.Equal(t, "42", e.Text)
		}
	}
	assert.Equal(t, "Adding.42", text.String())
	assert.Equal(t, `{"a": 20, "b": 22}`, args.String())
}

// guide:end

// guide:shape
func TestRequestsHaveAValidShape(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a": 1, "b": 1}`), llmtest.Call("add", `{"a": 2, "b": 2}`)),
		llmtest.Text("2 and 4"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{addTool()}})
	require.NoError(t, err)
	_, err = a.Run(context.Background(), "add twice")
	require.NoError(t, err)

	// Leading roles, every tool call answered once, JSON-object arguments, content present.
	for _, req := range model.Requests() {
		assert.NoError(t, llmtest.CheckRequest(&req))
	}
	bad := llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "hi"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "add", Arguments: `{}`}}},
		{Role: llm.RoleUser, Content: "the tool result is missing"},
	}}
	assert.ErrorIs(t, llmtest.CheckRequest(&bad), llmtest.ErrBadShape)
}

// guide:end

// guide:replay
func TestReplayRecordedOpenAITraffic(t *testing.T) {
	// A real gpt-3.5-turbo exchange that langchaingo ships in its module, read where it lies.
	trace := llmtest.LangchaingoFile(t, "llms/openai/testdata/TestMultiContentText.httprr")
	rp, err := llmtest.OpenReplay(trace)
	require.NoError(t, err)

	// The real langchaingo OpenAI client, with the replay as its HTTP transport.
	model, err := langchaingo.OpenAI("gpt-3.5-turbo", "test-key", langchaingo.WithHTTPClient(rp.Client()))
	require.NoError(t, err)
	a, err := agent.New(agent.Config{Model: model, SystemPrompt: " "})
	require.NoError(t, err)

	res, err := a.Run(context.Background(), "I'm a pomeranian. What kind of mammal am I?")
	if err != nil {
		t.Fatalf("%v\n%v", err, rp.Err()) // rp.Err says how our request differs from the recording
	}
	assert.Contains(t, strings.ToLower(res.Answer), "dog")
	rp.AssertComplete(t)
}

// guide:end
