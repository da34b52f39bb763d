package llmtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func delta(i int, id, name, args string) llm.Chunk {
	return llm.Chunk{ToolCall: &llm.ToolCallDelta{Index: i, ID: id, Name: name, Arguments: args}}
}

// interleaved is a stream of two calls whose fragments alternate, with text split inside a rune
// sequence boundary-safe way, and a zero-argument call.
func interleaved() []llm.Chunk {
	return []llm.Chunk{
		{Text: "Twö "},
		delta(0, "c0", "add", ""),
		delta(1, "c1", "add", `{"a":`),
		{Text: "calls"},
		delta(0, "", "", `{"a":1,`),
		delta(1, "", "", `10,"b":20}`),
		delta(0, "", "", `"b":2}`),
		delta(2, "c2", "ping", ""),
	}
}

func TestAssemble(t *testing.T) {
	resp, err := llmtest.Assemble(interleaved())
	require.NoError(t, err)
	assert.Equal(t, "Twö calls", resp.Message.Content)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
	assert.Equal(t, []llm.ToolCall{
		{ID: "c0", Name: "add", Arguments: `{"a":1,"b":2}`},
		{ID: "c1", Name: "add", Arguments: `{"a":10,"b":20}`},
		{ID: "c2", Name: "ping", Arguments: ""},
	}, resp.Message.ToolCalls)

	final := &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "final"}, FinishReason: llm.FinishLength}
	resp, err = llmtest.Assemble([]llm.Chunk{{Text: "fin"}, {Response: final}})
	require.NoError(t, err)
	assert.Equal(t, final, resp, "the final chunk is authoritative")
	assert.NotSame(t, final, resp)

	for name, chunks := range map[string][]llm.Chunk{
		"negative index": {delta(-1, "x", "add", "")},
		"gap":            {delta(0, "a", "add", ""), delta(2, "b", "add", "")},
		"huge index":     {delta(1<<40, "a", "add", "")},
		"two ids":        {delta(0, "a", "add", ""), delta(0, "b", "", "")},
		"two names":      {delta(0, "a", "add", ""), delta(0, "", "sub", "")},
		"after final":    {{Response: final}, {Text: "late"}},
	} {
		_, err := llmtest.Assemble(chunks)
		assert.Error(t, err, name)
	}
	assert.Panics(t, func() { llmtest.Streamed(delta(0, "a", "add", ""), delta(0, "b", "", "")) })
}

func TestStreamedReplyIsYieldedExactly(t *testing.T) {
	chunks := interleaved()
	s := llmtest.NewScript(llmtest.Streamed(chunks...), llmtest.Streamed(chunks...))
	var got []llm.Chunk
	for c, err := range s.Stream(context.Background(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}}) {
		require.NoError(t, err)
		got = append(got, c)
	}
	assert.Equal(t, chunks, got, "no final chunk was scripted, none is invented")

	resp, err := s.Generate(context.Background(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	require.NoError(t, err)
	want, _ := llmtest.Assemble(chunks)
	assert.Equal(t, want, resp)
	s.AssertComplete(t)
}

func TestStreamedRunThroughAgent(t *testing.T) {
	var pinged int
	tools := []agent.Tool{
		agent.NewTool("add", "Adds.", func(ctx context.Context, in struct {
			A int `json:"a"`
			B int `json:"b"`
		}) (int, error) {
			return in.A + in.B, nil
		}),
		agent.NewTool("ping", "Pings.", func(ctx context.Context, in struct{}) (string, error) {
			pinged++
			return "pong", nil
		}),
	}
	chunks := interleaved()
	resp, err := llmtest.Assemble(chunks)
	require.NoError(t, err)
	model := llmtest.NewScript(
		llmtest.Streamed(append(chunks, llm.Chunk{Response: resp})...),
		llmtest.Text("3, 30, pong"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: tools})
	require.NoError(t, err)
	var deltas []llm.ToolCallDelta
	var results []string
	for e, err := range a.Stream(context.Background(), "go") {
		require.NoError(t, err)
		switch e.Kind {
		case agent.EventToolCallDelta:
			deltas = append(deltas, *e.ToolCallDelta)
		case agent.EventToolResult:
			results = append(results, e.ToolCallID+"="+e.ToolResult.Content)
		}
	}
	require.Len(t, deltas, 6, "every scripted fragment reaches the events, in order")
	assert.Equal(t, 1, deltas[1].Index)
	assert.Equal(t, []string{"c0=3", "c1=30", "c2=pong"}, results)
	assert.Equal(t, 1, pinged)
	model.AssertComplete(t)
}

func TestStreamedThenFail(t *testing.T) {
	boom := errors.New("connection reset")
	model := llmtest.NewScript(llmtest.StreamedThenFail(boom, llm.Chunk{Text: "partial ans"}))
	a, err := agent.New(agent.Config{Model: model})
	require.NoError(t, err)
	var text string
	var last agent.Event
	var lastErr error
	for e, err := range a.Stream(context.Background(), "go") {
		if e.Kind == agent.EventTextDelta {
			text += e.Text
		}
		last, lastErr = e, err
	}
	assert.Equal(t, "partial ans", text)
	assert.ErrorIs(t, lastErr, boom)
	assert.Equal(t, agent.EventError, last.Kind)
	assert.False(t, last.Result.Done, "text before a broken stream is not an answer")

	_, err = llmtest.NewScript(llmtest.StreamedThenFail(boom)).Generate(context.Background(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "x"}}})
	assert.ErrorIs(t, err, boom)
}
