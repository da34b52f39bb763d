// Package llmtest provides test doubles for llm.Model and tools for recorded provider traffic, in
// the spirit of net/http/httptest.
//
// # Which double to pick
//
//   - Script: the test knows the conversation. It answers calls from a fixed list of replies, in
//     order, and fails loudly when it runs out (ErrScriptExhausted) or when a test ends with replies
//     left over (AssertComplete). Use it to pin down exactly what the agent does with given answers.
//   - Func: the answer depends on the request (echo the prompt, react to tool results, fail on the
//     third call). The test writes the function.
//   - Auto: the test cares that the tools work, not what the model says. It calls every offered
//     tool once with arguments generated from the tool's JSON Schema (GenerateArguments: valid,
//     deterministic for a seed), then answers with a summary of the results. Use it for smoke tests
//     of a whole agent and its tools, and to find schemas the tools cannot actually accept.
//   - Capture: the test wants to see what the agent sent. It wraps any model (one of the above, or
//     a real provider model over a Replay) and records every request with its response or error;
//     SystemPrompt, ToolNames, ToolResults and LastUserText read the recorded requests.
//   - Replay: the test runs the real provider client (llm/langchaingo) against recorded HTTP
//     traffic, as an http.RoundTripper or an httptest server, checking that every request matches
//     the recorded one; it never makes a network call. OpenReplay reads httprr traces (the format
//     langchaingo's tests record), OpenCassette reads go-vcr cassettes.
//   - RecordOrReplay: the test records real traffic once (LLMTEST_RECORD=1 and a key in the
//     environment), with credentials scrubbed by an HTTPRecorder, and replays it ever after with
//     no network and no key.
//
// Script, Func and Auto implement both llm.Model and llm.Streamer, and so does a Recorder. Their
// streams yield small text fragments (never splitting a UTF-8 sequence), then tool-call fragments,
// then a final chunk whose Response equals what Generate returns, so code under test sees realistic
// streaming (see Chunks).
//
// LangchaingoDir finds the langchaingo module in the module cache, whose testdata folders hold real
// recorded OpenAI, Anthropic, Ollama and Google traffic to replay: tests read those files in place.
package llmtest
