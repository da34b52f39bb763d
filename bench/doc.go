// Package bench compares the agent loop of github.com/autogpt-go/agent with two peer Go agent
// frameworks, langchaingo (agents.Executor with an OpenAI-functions agent) and eino (the ReAct agent
// of flow/agent/react), on the same scripted scenario. It lives in its own module so that the SDK's
// dependency graph does not carry the peers. The benchmarks are in run_test.go; see README.md.
package bench
