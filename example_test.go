package agent_test

import (
	"context"
	"fmt"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// A custom tool is a typed Go function: the JSON Schema of its arguments is inferred from the
// struct, and the arguments are validated before the function runs.
func ExampleNewTool() {
	type WeatherArgs struct {
		City string `json:"city" jsonschema:"the city name, in English"`
	}
	weather := agent.NewTool("weather", "Returns today's weather for a city.",
		func(ctx context.Context, in WeatherArgs) (string, error) {
			return "sunny in " + in.City, nil
		})
	fmt.Println(string(weather.Schema()))

	_, err := weather.Call(context.Background(), []byte(`{"city": 42}`))
	fmt.Println(err)
	// Output:
	// {"type":"object","properties":{"city":{"type":"string","description":"the city name, in English"}},"required":["city"],"additionalProperties":false}
	// invalid arguments: field "city": expected string, got integer
}

// Unit-testing an agent: a scripted model stands in for the provider, and records every request.
func ExampleAgent_Run() {
	type AddArgs struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	add := agent.NewTool("add", "Adds two integers.",
		func(ctx context.Context, in AddArgs) (int, error) { return in.A + in.B, nil })

	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a": 2, "b": 40}`)),
		llmtest.Text("2 + 40 = 42"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: []agent.Tool{add}})
	if err != nil {
		panic(err)
	}
	res, err := a.Run(context.Background(), "What is 2 + 40?")
	fmt.Println(res.Answer, err)

	// The second request carried the tool result.
	second := model.Requests()[1]
	last := second.Messages[len(second.Messages)-1]
	fmt.Println(last.Role, last.Content)
	// Output:
	// 2 + 40 = 42 <nil>
	// tool 42
}

// A host program can own the loop: Step runs one plan → act → observe cycle and reports events.
func ExampleAgent_Step() {
	model := llmtest.NewScript(llmtest.Text("Paris"))
	a, _ := agent.New(agent.Config{Model: model})
	st := a.Start("What is the capital of France?")
	for {
		done, err := a.Step(context.Background(), st, func(e agent.Event) {
			if e.Kind == agent.EventFinal {
				fmt.Println("final:", e.Text)
			}
		})
		if err != nil || done {
			break
		}
	}
	fmt.Println(st.Done, st.Step)
	// Output:
	// final: Paris
	// true 1
}
