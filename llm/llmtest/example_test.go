package llmtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
