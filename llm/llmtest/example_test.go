package llmtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// A Script plays a tool-calling conversation: the model first calls a tool, then answers. In a test,
// finish with s.AssertComplete(t) to check that every scripted reply was used.
func ExampleScript() {
	ctx := context.Background()
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("calculator", `{"expression":"15*4"}`)).WithUsage(94, 19),
		llmtest.Text("15 multiplied by 4 is 60."),
	)

	req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "What is 15 multiplied by 4?"}}}
	resp, _ := model.Generate(ctx, req)
	call := resp.Message.ToolCalls[0]
	fmt.Println(resp.FinishReason, call.ID, call.Name, call.Arguments, resp.Usage.TotalTokens())

	req.Messages = append(req.Messages, resp.Message,
		llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: "60"})
	resp, _ = model.Generate(ctx, req)
	fmt.Println(resp.FinishReason, resp.Message.Content)

	// One call too many.
	_, err := model.Generate(ctx, req)
	fmt.Println(errors.Is(err, llmtest.ErrScriptExhausted))
	fmt.Println(err)
	fmt.Println(model.Calls(), model.Remaining(), len(model.Requests()[1].Messages))
	// Output:
	// tool_calls call_1 calculator {"expression":"15*4"} 113
	// stop 15 multiplied by 4 is 60.
	// true
	// llmtest: script exhausted: call 3, but 2 replies were scripted; last message: tool (result of calculator call_1) "60"
	// 3 0 3
}

// A Func answers from the request: here it echoes the last message in capitals.
func ExampleFunc() {
	model := llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		last := req.Messages[len(req.Messages)-1]
		return llmtest.Text(strings.ToUpper(last.Content)).Response, nil
	})
	var text strings.Builder
	for chunk, err := range model.Stream(context.Background(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello, world"}}}) {
		if err != nil {
			panic(err)
		}
		if chunk.Response == nil {
			text.WriteString(chunk.Text + "|")
		}
	}
	fmt.Println(text.String())
	// Output:
	// HELL|O, W|ORLD|
}

// A Replay serves recorded exchanges to a real HTTP client. Recordings usually come from a trace
// file (OpenReplay); here one exchange is built in memory.
func ExampleReplay() {
	u, _ := url.Parse("https://api.openai.com/v1/chat/completions")
	replay := llmtest.NewReplay([]llmtest.Exchange{{
		Request: &llmtest.RecordedRequest{Method: "POST", URL: u, Body: []byte(`{"model":"gpt-4o","messages":[]}`)},
		Response: &llmtest.RecordedResponse{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"choices":[{"message":{"content":"Hi!"}}]}`)},
	}})

	client := replay.Client()
	resp, err := client.Post(u.String(), "application/json", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`))
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	// A second request has nothing left to replay.
	_, err = client.Post(u.String(), "application/json", strings.NewReader(`{"model":"gpt-4o"}`))
	fmt.Println(errors.Is(err, llmtest.ErrReplayExtra))
	fmt.Println(replay.Err())
	// Output:
	// 200 {"choices":[{"message":{"content":"Hi!"}}]}
	// true
	// llmtest: replay: request 2 (POST https://api.openai.com/v1/chat/completions): past the end of the recording (1 exchange)
}

// Auto calls every offered tool with arguments generated from its schema, then summarises the
// results it is given.
func ExampleAuto() {
	ctx := context.Background()
	model := llmtest.NewAuto(llmtest.WithSeed(7))
	req := &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Book a table."}},
		Tools: []llm.ToolSpec{{
			Name: "book_table",
			Parameters: json.RawMessage(`{"type":"object","properties":{
				"restaurant":{"type":"string","enum":["Chez Nous","Sakura"]},
				"guests":{"type":"integer","minimum":1,"maximum":8},
				"date":{"type":"string","format":"date"}},
				"required":["restaurant","guests","date"],"additionalProperties":false}`),
		}},
	}
	resp, _ := model.Generate(ctx, req)
	call := resp.Message.ToolCalls[0]
	fmt.Println(resp.FinishReason, call.ID, call.Name)
	var args struct {
		Restaurant string `json:"restaurant"`
		Guests     int    `json:"guests"`
		Date       string `json:"date"`
	}
	fmt.Println(json.Unmarshal([]byte(call.Arguments), &args) == nil && args.Guests >= 1 && args.Guests <= 8)

	req.Messages = append(req.Messages, resp.Message,
		llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: "Booked: table 12"})
	resp, _ = model.Generate(ctx, req)
	fmt.Println(resp.FinishReason, resp.Message.Content)
	// Output:
	// tool_calls auto_1 book_table
	// true
	// stop book_table: Booked: table 12
}

// GenerateArguments gives the same valid value for the same schema and seed.
func ExampleGenerateArguments() {
	schema := json.RawMessage(`{"type":"object","properties":{"city":{"const":"Paris"},"days":{"type":"integer","minimum":3,"maximum":3}},"required":["city","days"]}`)
	args, err := llmtest.GenerateArguments(schema, 1)
	fmt.Println(string(args), err)

	_, err = llmtest.GenerateArguments(json.RawMessage(`{"properties":{"n":{"type":"integer","minimum":5,"maximum":1}},"required":["n"]}`), 1)
	fmt.Println(errors.Is(err, llmtest.ErrUnsatisfiable), err)
	// Output:
	// {"city":"Paris","days":3} <nil>
	// true llmtest: schema at #/properties/n: minimum 5 is not below maximum 1
}

// Capture records what the code under test sent to the model.
func ExampleCapture() {
	ctx := context.Background()
	rec := llmtest.Capture(llmtest.NewScript(llmtest.Text("Paris.")))
	rec.Generate(ctx, &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Answer in one word."},
			{Role: llm.RoleUser, Content: "Capital of France?"},
		},
		Tools: []llm.ToolSpec{{Name: "search"}, {Name: "calculator"}},
	})
	ex := rec.Exchanges()[0]
	fmt.Println(rec.Len(), ex.Response.Message.Content)
	fmt.Println(llmtest.SystemPrompt(ex.Request))
	fmt.Println(llmtest.LastUserText(ex.Request))
	fmt.Println(llmtest.ToolNames(ex.Request))
	// Output:
	// 1 Paris.
	// Answer in one word.
	// Capital of France?
	// [search calculator]
}

// OpenCassette replays a go-vcr cassette to any HTTP client.
func ExampleOpenCassette() {
	dir, _ := os.MkdirTemp("", "llmtest")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.yaml")
	os.WriteFile(path, []byte(`---
version: 2
interactions:
  - id: 0
    request:
      method: POST
      url: https://api.openai.com/v1/chat/completions
      body: '{"model":"gpt-4o","messages":[]}'
    response:
      code: 200
      status: 200 OK
      headers:
        Content-Type: [application/json]
      body: '{"choices":[{"message":{"content":"Hello!"}}]}'
`), 0o644)

	replay, err := llmtest.OpenCassette(path)
	if err != nil {
		panic(err)
	}
	resp, err := replay.Client().Post("https://api.openai.com/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println(replay.Err())
	// Output:
	// 200 {"choices":[{"message":{"content":"Hello!"}}]}
	// <nil>
}
