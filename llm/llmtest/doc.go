// Package llmtest provides test doubles for llm.Model, in the spirit of net/http/httptest.
//
//   - Script answers calls from a fixed list of replies, in order, and fails loudly when it runs out
//     (ErrScriptExhausted) or when a test ends with replies left over (AssertComplete).
//   - Func computes each answer from the request with a function the test writes.
//   - Replay serves recorded HTTP traffic (httprr traces, the format langchaingo's tests record) to a
//     real provider client, as an http.RoundTripper or an httptest server, checking that every
//     request matches the recorded one; it never makes a network call.
//
// Script and Func implement both llm.Model and llm.Streamer. Their streams yield small text
// fragments (never splitting a UTF-8 sequence), then tool-call fragments, then a final chunk whose
// Response equals what Generate returns, so code under test sees realistic streaming.
//
// LangchaingoDir finds the langchaingo module in the module cache, whose testdata folders hold real
// recorded OpenAI, Anthropic, Ollama and Google traffic to replay: tests read those files in place.
package llmtest
