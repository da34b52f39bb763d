package llm_test

import (
	"encoding/json"
	"fmt"
	"strings"
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

// typeListSchema nests depth objects whose "type" lists repeat "object" k times (each repeat
// renders the whole sub-schema again: the rendered text grows as k^depth until the cap).
func typeListSchema(depth, k int) string {
	inner := `{"type":"string","description":"leaf value"}`
	for range depth {
		types := strings.Repeat(`"object",`, k) + `"null"`
		inner = `{"type":[` + types + `],"description":"a level","properties":{"a":` + inner + `,"b":{"type":"integer"}}}`
	}
	return `{"type":"object","properties":{"root":` + inner + `}}`
}

// nestedSchema is a response-format schema of depth objects nested through "properties".
func nestedSchema(depth int) string {
	s := `{"type":"string"}`
	for i := range depth {
		s = fmt.Sprintf(`{"type":"object","title":"T%d","properties":{"k%d":%s,"x":{"type":"integer"}},"required":["k%d"]}`, i, i, s, i)
	}
	return s
}

// BenchmarkCountPathologicalSchemas measures the first count of a request (a fresh Counter, so
// nothing is cached) whose schema expands a lot (type lists) or nests deeply (response format).
func BenchmarkCountPathologicalSchemas(b *testing.B) {
	cases := []struct {
		name string
		req  *llm.Request
	}{
		{"typelist-1KB", &llm.Request{Tools: []llm.ToolSpec{{Name: "f", Parameters: json.RawMessage(typeListSchema(10, 3))}}}},
		{"typelist-10KB", &llm.Request{Tools: []llm.ToolSpec{{Name: "f", Parameters: json.RawMessage(typeListSchema(100, 2))}}}},
		{"nested-format-20KB", &llm.Request{ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: "x", Schema: json.RawMessage(nestedSchema(200))}}},
		{"nested-format-60KB", &llm.Request{ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: "x", Schema: json.RawMessage(nestedSchema(600))}}},
		{"nested-format-150KB", &llm.Request{ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: "x", Schema: json.RawMessage(nestedSchema(1500))}}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n llm.TokenCount
			for b.Loop() {
				c, err := llm.NewCounter("gpt-4o")
				if err != nil {
					b.Fatal(err)
				}
				n, _ = c.Count(bc.req)
			}
			b.ReportMetric(float64(n.Tokens), "tokens")
		})
	}
}
