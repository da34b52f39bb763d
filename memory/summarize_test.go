package memory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/autogpt-go/agent/memory"
)

func TestSummarizerChunksLargeTranscripts(t *testing.T) {
	var mu sync.Mutex
	var prompts []string
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		prompts = append(prompts, req.Messages[1].Content)
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: fmt.Sprintf("S%d", len(prompts))}}, nil
	})
	var dropped []llm.Message
	dropped = append(dropped, llm.Message{Role: llm.RoleUser, Content: memory.SummaryPrefix + "an earlier summary"})
	for i := range 30 {
		dropped = append(dropped,
			llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: fmt.Sprint(i), Name: "fetch", Arguments: `{"n":1}`}}},
			llm.Message{Role: llm.RoleTool, ToolCallID: fmt.Sprint(i), Name: "fetch", Content: strings.Repeat("data ", 100)})
	}
	s := &memory.Summarizer{ChunkTokens: 500}
	msg, err := s.Compact(context.Background(), agent.CompactInput{Goal: "collect data", Dropped: dropped, Model: model, MaxTokens: 200})
	require.NoError(t, err)
	assert.Equal(t, llm.RoleUser, msg.Role)
	assert.True(t, strings.HasPrefix(msg.Content, memory.SummaryPrefix))
	require.Greater(t, len(prompts), 3, "a transcript over ChunkTokens is summarised in chunks, then merged")
	assert.Contains(t, prompts[0], "[earlier summary] an earlier summary", "the earlier summary is carried on")
	assert.Contains(t, prompts[0], "The agent's goal: collect data")
	assert.Contains(t, prompts[len(prompts)-1], "Partial summaries")
	assert.Equal(t, memory.SummaryPrefix+fmt.Sprintf("S%d", len(prompts)), msg.Content)
	counter, _ := llm.NewCounter("")
	for _, p := range prompts[:len(prompts)-1] {
		n, _ := counter.Tokenizer().Count(p)
		assert.LessOrEqual(t, n, 500+100, "each call stays within its chunk (plus the instructions)")
	}
}

func TestSummarizerInAnAgentKeepsOrderAndCountsUsage(t *testing.T) {
	calls := 0
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		if req.ToolChoice == llm.ToolChoiceNone { // a summarisation call
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "echoed many words"}, Usage: llm.Usage{InputTokens: 1000, OutputTokens: 7}}, nil
		}
		calls++
		if calls == 30 {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "done: " + req.Messages[2].Content}}, nil
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: fmt.Sprint("c", calls), Name: "echo",
			Arguments: fmt.Sprintf(`{"text":"%d %s"}`, calls, strings.Repeat("word ", 300))}}}}, nil
	})
	echo := agent.NewTool("echo", "Echoes.", func(ctx context.Context, in struct {
		Text string `json:"text"`
	}) (string, error) {
		return in.Text, nil
	})
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{echo}, ModelName: "gpt-4o",
		ContextWindow: 5000, ReservedOutputTokens: 500, MaxSteps: 30, Compactor: &memory.Summarizer{}})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "Echo a lot.")
	require.NoError(t, err)
	assert.Equal(t, "done: "+memory.SummaryPrefix+"echoed many words", res.Answer, "system, goal, then the summary")
	assert.GreaterOrEqual(t, res.Usage.InputTokens, 1000, "summarisation calls count to the run's usage")
}

func TestSummarizerKeepsEveryCharacterAndFitsTheWindow(t *testing.T) {
	var got strings.Builder
	var mu sync.Mutex
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(req.Messages[1].Content, "Partial summaries") {
			_, transcript, _ := strings.Cut(req.Messages[1].Content, "Transcript of the earlier steps:\n\n")
			got.WriteString(strings.TrimPrefix(transcript, "[user] "))
		}
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "ok"}}, nil
	})
	text := strings.Repeat("🦜", 40) + strings.Repeat("漢", 30)
	s := &memory.Summarizer{ChunkTokens: 7}
	_, err := s.Compact(context.Background(), agent.CompactInput{Goal: "g", Dropped: []llm.Message{{Role: llm.RoleUser, Content: text}}, Model: model, MaxTokens: 50})
	require.NoError(t, err)
	assert.Equal(t, text, got.String(), "a long message split by tokens loses no character")

	// The window bounds every summarisation request.
	counter, _ := llm.NewCounter("")
	var maxSeen int
	model2 := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		n, _ := counter.Count(req)
		maxSeen = max(maxSeen, n.Tokens)
		return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "ok"}}, nil
	})
	var dropped []llm.Message
	for range 40 {
		dropped = append(dropped, llm.Message{Role: llm.RoleUser, Content: strings.Repeat("lorem ipsum ", 100)})
	}
	_, err = (&memory.Summarizer{}).Compact(context.Background(), agent.CompactInput{Goal: "g", Dropped: dropped, Model: model2, MaxTokens: 100, MaxInputTokens: 3000})
	require.NoError(t, err)
	assert.LessOrEqual(t, maxSeen, 3000)
}
