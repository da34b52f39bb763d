// Package otel traces agent runs with OpenTelemetry: New returns an agent.Tracer to set as
// agent.Config.Tracer. The agent package itself imports no tracing library; only programs that
// import this package depend on OpenTelemetry.
//
//	tr := otel.New(otel.WithTracerProvider(tp)) // tp: your SDK TracerProvider
//	a, err := agent.New(agent.Config{Model: model, Tools: tools, Name: "researcher", Tracer: tr})
//
// # Spans
//
// Spans follow the OpenTelemetry GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/ and
// https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), with the attribute keys of
// go.opentelemetry.io/otel/semconv/v1.41.0. A run makes this tree:
//
//	invoke_agent {agent name}      INTERNAL  Run, Resume, Stream, StreamState
//	└─ step                        INTERNAL  every Agent.Step (a host calling Step gets these as roots)
//	   ├─ chat {model}             CLIENT    every model call (planner, compactor)
//	   └─ execute_tool {tool name} INTERNAL  every executed tool call; parallel calls are siblings
//
// invoke_agent (without the suffix when the agent has no Config.Name): gen_ai.operation.name
// "invoke_agent", gen_ai.agent.name, gen_ai.conversation.id (the run's ID, RunState.ID, which a
// resumed run keeps, so the spans of all its sessions share it), gen_ai.request.model,
// gen_ai.provider.name (when known), autogpt.run.max_steps; at the end gen_ai.usage.input_tokens
// and gen_ai.usage.output_tokens (the run's totals, earlier sessions of a resumed run included;
// gen_ai.usage.cache_read.input_tokens and gen_ai.usage.reasoning.output_tokens when not 0),
// autogpt.run.steps, autogpt.run.done and autogpt.cost_usd (USD, when not 0).
//
// step (this package's own span; the conventions have no step): autogpt.step.index,
// gen_ai.conversation.id, gen_ai.agent.name; at the end autogpt.usage.input_tokens,
// autogpt.usage.output_tokens, autogpt.step.model_calls, autogpt.step.tool_calls,
// autogpt.step.finish_reason, autogpt.cost_usd, autogpt.step.usage_estimated and
// autogpt.step.dropped_messages. Step usage is not under gen_ai.usage.* so that backends summing
// those over chat spans do not count it twice.
//
// chat {model} (without the suffix when the model name is unknown): gen_ai.operation.name "chat",
// gen_ai.provider.name, gen_ai.request.model, gen_ai.request.max_tokens, gen_ai.request.temperature,
// gen_ai.request.stop_sequences (each when set), gen_ai.request.stream, gen_ai.output.type (when the
// request asks for a response format), gen_ai.conversation.id, autogpt.step.index; at the end
// gen_ai.response.model (when the provider reported one), gen_ai.usage.* as above and
// gen_ai.response.finish_reasons (llm.FinishReason's values, such as "stop" and "tool_calls").
// llm.Response carries no response id, so gen_ai.response.id is never set.
//
// execute_tool {tool name}: gen_ai.operation.name "execute_tool", gen_ai.tool.name,
// gen_ai.tool.call.id, gen_ai.tool.description, gen_ai.tool.type "function",
// gen_ai.conversation.id, autogpt.step.index. A result with IsError (the tool failed, panicked,
// timed out or was abandoned) sets status Error and error.type "tool_error".
//
// A run, step or model call that ends with an error gets status Error with the error's message
// and error.type (see ErrorType). Errors are not recorded as exception events.
//
// # Content
//
// By default no content is recorded: no goal, answer, prompt, model output, tool arguments or tool
// results, because they may hold personal data and secrets. WithContent(true) records them as the
// conventions' opt-in attributes; see WithContent.
//
// # Contract
//
// A Tracer is safe for concurrent use: the execute_tool spans of one step start and end on several
// goroutines. Each end function the Tracer returns acts once; later calls do nothing. The Tracer
// keeps no pointer it was given (request, response, result) after the call that received it.
package otel
