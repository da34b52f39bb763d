package otel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/autogpt-go/agent/otel"
)

// Tracing a run: the spans of a run, each printed under its parent.
// A real program would export to a collector (for example with otlptracegrpc) instead of memory.
func ExampleNew() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	type AddArgs struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	add := agent.NewTool("add", "Adds two integers.",
		func(ctx context.Context, in AddArgs) (int, error) { return in.A + in.B, nil })
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("add", `{"a": 2, "b": 40}`)).WithUsage(50, 10),
		llmtest.Text("42").WithUsage(70, 2),
	)
	a, err := agent.New(agent.Config{
		Model: model, ModelName: "gpt-4o-mini", Tools: []agent.Tool{add}, Name: "calculator",
		Tracer: otel.New(otel.WithTracerProvider(tp)),
	})
	if err != nil {
		panic(err)
	}
	if _, err := a.Run(context.Background(), "What is 2 + 40?"); err != nil {
		panic(err)
	}

	// Print the tree: children in the order they ended.
	spans := exp.GetSpans()
	var walk func(parent trace.SpanID, depth int)
	walk = func(parent trace.SpanID, depth int) {
		for _, s := range spans {
			if s.Parent.SpanID() == parent {
				fmt.Printf("%*s%s\n", 2*depth, "", s.Name)
				walk(s.SpanContext.SpanID(), depth+1)
			}
		}
	}
	walk(trace.SpanID{}, 0)
	// Output:
	// invoke_agent calculator
	//   step
	//     chat gpt-4o-mini
	//     execute_tool add
	//   step
	//     chat gpt-4o-mini
}
