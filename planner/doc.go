// Package planner holds text-protocol planners for the agent loop, as alternatives to the default
// agent.ToolCallingPlanner (native tool calling):
//
//   - AutoGPT asks the model for one JSON object per step, with structured thoughts (text,
//     reasoning, plan, criticism, speak) and one command: a tool, or the built-in finish.
//   - ReAct asks for the Thought / Action / Action Input / Final Answer text protocol, with
//     "Observation:" as a stop sequence; tool results come back as "Observation: ..." messages.
//   - PlanExecute plans a task list first, then works through it (see its documentation).
//
// AutoGPT and ReAct implement agent.Planner and agent.Observer and keep no per-run state in the planner value: a
// count of consecutive badly formed replies lives in the run's planner slot (Decision.State), so a
// run stays serialisable and one planner value serves concurrent runs.
//
// Both parse what models really send, not only what the prompt asks for: code fences, prose around
// the JSON, trailing commas, single quotes, comments, truncated JSON (repaired with
// github.com/kaptinlin/jsonrepair, for inputs up to MaxRepairBytes), labels in any case. A reply
// they cannot use is fed back to the model with a short correction; after MaxFormatRetries
// consecutive failures the step fails with a *FormatError (errors.Is(err, ErrFormat)). A reply cut
// off at the output-token limit (llm.FinishLength) is never used, even when it can be repaired: it
// is fed back the same way, asking for shorter replies. One command runs per step; when a reply
// asks for more, the model is told, with the result, which were ignored. On a run's last step only
// a final answer is accepted: a command instead ends the run with an error wrapping
// agent.ErrMaxSteps, never with a made-up answer.
//
// Example:
//
//	a, err := agent.New(agent.Config{
//		Model:   model,
//		Tools:   tools,
//		Planner: &planner.AutoGPT{Name: "Scribe", Role: "a careful technical writer"},
//	})
package planner
