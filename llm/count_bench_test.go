package llm_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/autogpt-go/agent/llm"
)

// agentRequest is a typical agent step: a system prompt, three tools, the goal and four rounds
// of tool calls and results (577 tokens on gpt-4o).
func agentRequest() *llm.Request {
	req := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are an autonomous research agent. Work step by step: plan, call tools, observe " +
				"their results, and stop with a concise answer that cites the files you read. Never invent file contents."},
			{Role: llm.RoleUser, Content: "Summarise the quarterly reports in the workspace and list the three largest risks."},
		},
		Tools: []llm.ToolSpec{
			{Name: "read_file", Description: "Read a text file from the workspace.", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string","description":"Path relative to the workspace root."},"max_bytes":{"type":"integer","description":"Read at most this many bytes.","default":65536}},"required":["path"],"additionalProperties":false}`)},
			{Name: "list_dir", Description: "List the entries of a workspace directory.", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}`)},
			{Name: "web_search", Description: "Search the web.\nReturns titles, links and snippets.", Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"count":{"type":"integer","enum":[5,10,20]}},"required":["query"]}`)},
		},
	}
	for i := range 4 {
		id := fmt.Sprintf("call_%d", i)
		req.Messages = append(req.Messages,
			llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: id, Name: "read_file", Arguments: fmt.Sprintf(`{"path": "reports/q%d.md"}`, i+1)}}},
			llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: fmt.Sprintf("# Q%d report\n\nRevenue grew 12%% to $4.2M; churn rose to 3.1%%. "+
				"Risks: supplier concentration (62%% from one vendor), FX exposure in EUR, a pending licence audit. "+
				"Headcount 48 → 53. Cash runway 19 months. Next steps: diversify suppliers, hedge EUR, settle the audit.", i+1)},
		)
	}
	return req
}

func BenchmarkCounterCount(b *testing.B) {
	c, err := llm.NewCounter("gpt-4o")
	if err != nil {
		b.Fatal(err)
	}
	req := agentRequest()
	n, err := c.Count(req)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Count(req)
	}
	b.ReportMetric(float64(n.Tokens), "tokens")
}

func BenchmarkCounterUpperBound(b *testing.B) {
	c, err := llm.NewCounter("gpt-4o")
	if err != nil {
		b.Fatal(err)
	}
	req := agentRequest()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.UpperBound(req)
	}
}
