package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

type sumReport struct {
	Sum         int    `json:"sum"`
	Explanation string `json:"explanation"`
}

func TestRunTypedWithToolsAndRetries(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a":2,"b":3}`)),
		llmtest.Calls(llmtest.Call(agent.OutputToolName, `{"sum":"five","explanation":"2+3"}`)), // invalid: fed back
		llmtest.Text("The sum is 5."),                                                           // not JSON: fed back
		llmtest.Calls(llmtest.Call(agent.OutputToolName, `{"sum":5,"explanation":"2+3"}`)),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{addTool()}})
	out, res, err := agent.RunTyped[sumReport](context.Background(), a, "Add 2 and 3.")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, sumReport{Sum: 5, Explanation: "2+3"}, out)
	assert.True(t, res.Done)

	reqs := model.Requests()
	var names []string
	for _, tl := range reqs[0].Tools {
		names = append(names, tl.Name)
	}
	assert.Equal(t, []string{"add", agent.OutputToolName}, names, "the output tool is offered beside the agent's tools")
	assert.Contains(t, reqs[0].Messages[0].Content, agent.OutputToolName)
	tm := toolMessages(reqs[2].Messages)
	require.Len(t, tm, 2)
	assert.Contains(t, tm[1].Content, `field "sum": expected integer, got string`)
	last := reqs[3].Messages[len(reqs[3].Messages)-1]
	assert.Contains(t, last.Content, "not accepted")
	assert.Contains(t, last.Content, "JSON Schema")

	// The Agent itself is unchanged: after a typed run, a plain run offers only its own tools.
	var lastTools []string
	hi := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		lastTools = lastTools[:0]
		for _, tl := range req.Tools {
			lastTools = append(lastTools, tl.Name)
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "hi"}}, nil
	})
	b := newAgent(t, agent.Config{Model: hi, Tools: []agent.Tool{addTool()}})
	_, _, err = agent.RunTyped[sumReport](context.Background(), b, "x")
	require.ErrorIs(t, err, agent.ErrOutputInvalid)
	res, err = b.Run(context.Background(), "y")
	require.NoError(t, err)
	assert.Equal(t, "hi", res.Answer)
	assert.Equal(t, []string{"add"}, lastTools)
}

func TestRunTypedAcceptsFencedJSONTextAndNonObjects(t *testing.T) {
	model := llmtest.NewScript(llmtest.Text("```json\n[\"a\", \"b\"]\n```"))
	a := newAgent(t, agent.Config{Model: model})
	out, _, err := agent.RunTyped[[]string](context.Background(), a, "List two letters.")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, out)
	assert.Contains(t, string(model.Requests()[0].Tools[0].Parameters), `"value"`)
}

func TestRunTypedStopsAfterTooManyInvalidAnswers(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Text("nope"), llmtest.Text("still no"), llmtest.Text("{}"), llmtest.Text("{\"sum\": 1}"),
	)
	a := newAgent(t, agent.Config{Model: model})
	_, res, err := agent.RunTyped[sumReport](context.Background(), a, "g")
	require.ErrorIs(t, err, agent.ErrOutputInvalid)
	require.NotNil(t, res)
	assert.Len(t, res.Steps, 4)
	assert.Contains(t, err.Error(), `"explanation"`)
}

func TestRunTypedLastStepAsksForJSON(t *testing.T) {
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a":1,"b":1}`)),
		llmtest.Text(`{"sum": 2, "explanation": "1+1"}`),
	)
	a := newAgent(t, agent.Config{Model: model, Tools: []agent.Tool{addTool()}, MaxSteps: 2})
	out, _, err := agent.RunTyped[sumReport](context.Background(), a, "g")
	require.NoError(t, err)
	assert.Equal(t, 2, out.Sum)
	req := model.Requests()[1]
	assert.Empty(t, req.Tools)
	assert.True(t, strings.HasPrefix(req.Messages[len(req.Messages)-1].Content, agent.FinalStepPrompt))
	assert.Contains(t, req.Messages[len(req.Messages)-1].Content, "JSON Schema")
}

func TestRunTypedNonObjectAcceptsWrapperAndBareValue(t *testing.T) {
	for _, answer := range []string{`{"value": 42}`, `42`, "```json\n{\"value\":42}\n```"} {
		model := llmtest.NewScript(llmtest.Text(answer))
		a := newAgent(t, agent.Config{Model: model, MaxSteps: 1})
		out, _, err := agent.RunTyped[int](context.Background(), a, "g")
		require.NoError(t, err, answer)
		assert.Equal(t, 42, out, answer)
	}
}
