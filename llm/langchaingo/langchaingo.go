// Package langchaingo adapts any langchaingo model (github.com/tmc/langchaingo/llms.Model) to
// llm.Model and llm.Streamer, and builds ready-made models for OpenAI, OpenAI-compatible servers
// (vLLM, LM Studio, OpenRouter, Ollama's /v1 endpoint) and Anthropic, either explicitly (OpenAI,
// OpenAICompatible, Anthropic) or from the environment (FromEnv).
//
// # Two levels of fidelity
//
// New wraps any llms.Model: requests and responses are translated between the llm types and
// langchaingo's, and nothing more. The constructors of this package (OpenAI, OpenAICompatible,
// Anthropic, FromEnv) also put their own HTTP layer under the langchaingo client, which repairs
// what the langchaingo v0.1.14 clients get wrong on the wire:
//
//   - A nil Request.Temperature is not sent (langchaingo sends "temperature": 0 on every OpenAI and
//     Anthropic request), and no temperature is ever sent to OpenAI reasoning models (o1, o3, o4,
//     gpt-5 families), which reject it.
//   - Tool schemas (ToolSpec.Parameters) reach the provider byte for byte, whitespace and key order
//     included (encoding/json would compact them and escape <, > and &).
//   - Anthropic: tool choice is sent (langchaingo drops it); an assistant message with several tool
//     calls keeps all of them (langchaingo keeps the first part only); consecutive tool results go in
//     one user message; tool-call arguments are sent and returned verbatim (langchaingo decodes them
//     into a map, which sorts keys and rounds large numbers), matched to their calls by position,
//     never by id (two calls may share an id, or have none); llm.Message.IsError reaches the
//     provider as is_error; a reply with no content blocks is an empty answer, not an error.
//   - Streamed replies are read by the HTTP layer, not by langchaingo, which gets the equivalent
//     non-streaming reply: an event may be of any length (langchaingo's reader fails on lines
//     over 64 KiB); text and tool-call arguments are assembled in time linear in their size
//     (langchaingo's assembly is quadratic: a megabyte of arguments in small fragments took
//     seconds); OpenAI tool calls are assembled by tool-call index (langchaingo appends fragments
//     to the last call it saw); an error event fails the call (langchaingo's OpenAI client skips
//     it and returns the partial text as an answer; its Anthropic client's reader goroutine
//     blocks forever after one).
//   - The event stream is read as the WHATWG HTML standard specifies it ("Interpreting an event
//     stream"): a byte order mark before the first event is dropped; lines may end with CRLF, LF
//     or CR; an event ends at a blank line, and its data lines are joined with a line feed (a
//     JSON chunk may span several lines); comments and the id and retry fields are ignored. One
//     leniency: a last event the body ends inside, before its blank line, still counts when its
//     data is complete.
//   - An error event fails the call with an *APIError, whatever its shape: an event named "error"
//     (event: error) with any data, a chunk with an "error" member ({"error": {...}} or
//     {"error": "text"}), older vLLM's {"object": "error", "message": ...} chunk, Anthropic's
//     {"type": "error", ...} event. So does a 200 reply whose JSON body is such an error object
//     (StatusCode 200, its type, code and message kept), streamed request or not.
//   - Token counts that are not non-negative integers within int's range (1.5, 1e30, "12", -5)
//     count as 0 instead of failing the reply (langchaingo's decoder rejects them), and sums of
//     counts stop at the largest int.
//   - OpenAI: a legacy function_call (the functions API) is returned as one tool call without id,
//     streamed or not (langchaingo drops it, and crashes on a reply that finished with
//     "function_call" without one). A tool-call fragment that carries no id, name or arguments
//     (null, or an index alone) is ignored; a tool call that ends without a name, on either
//     wire, fails the call with ErrIncompleteResponse.
//   - An event whose data starts like JSON ("{" or "[") but is not valid JSON, or not an event of
//     the provider's format, fails the call with ErrIncompleteResponse ("malformed event"):
//     langchaingo skips it, and the text or tool call it carried is silently lost. Data that does
//     not start like JSON is skipped on the OpenAI wire, as keep-alive text some servers send (on
//     the Anthropic wire, whose events are all JSON objects, it is malformed too). Other than
//     "error", event names are not needed: an Anthropic event's "type" member says what it is.
//   - A reply counts only when complete: a stream that ends without its terminator (OpenAI: no
//     "data: [DONE]" and no finish_reason; Anthropic: no message_stop) or a JSON body cut short
//     fails with ErrIncompleteResponse (langchaingo returns what arrived as the answer).
//   - A reply larger than the response size cap (WithMaxResponseBytes, DefaultMaxResponseBytes)
//     fails with ErrResponseTooLarge as soon as its body passes the cap.
//   - An OpenAI reply with no choices fails with ErrEmptyResponse, streamed or not (langchaingo
//     fails Generate but returns an empty answer from a stream).
//   - Non-200 replies and error events in a stream become an *APIError with status, provider error
//     type and code, Retry-After and request id (langchaingo keeps only a string).
//   - OpenAICompatible with an empty API key sends no Authorization header at all.
//   - OpenAICompatible sends a history tool call whose arguments are not a JSON object (a
//     model's malformed call, which the agent answered with an error result) with {} as its
//     arguments: servers such as vLLM and Ollama decode history arguments and refuse the whole
//     request otherwise. OpenAI gets them verbatim; Anthropic, which wants an object, gets {}.
//   - Failed requests are retried with exponential backoff and the server's requested delay
//     (langchaingo retries nothing): see Retries below.
//   - In a test binary, a request to a real provider fails with ErrRealProviderInTest unless
//     allowed: see Tests below.
//
// The constructors never read the environment (langchaingo's own openai.New reads OPENAI_API_KEY,
// OPENAI_MODEL, OPENAI_BASE_URL, OPENAI_API_BASE and OPENAI_ORGANIZATION by itself; every one of
// these is overridden explicitly). Only FromEnv reads it.
//
// # Retries
//
// A model built by OpenAI, OpenAICompatible, Anthropic or FromEnv sends a request again when the
// reply or the failure says it may succeed later, at most RetryPolicy.MaxRetries times (default
// 2, as in the official OpenAI and Anthropic SDKs; WithRetry changes the policy or turns retries
// off). The decision is made from the status code, the headers and the error body's type and
// code, never from message text:
//
//   - Retried: 429 rate limit, 408 request timeout, 409 conflict (OpenAI: lock timeout), every
//     5xx (500, 502, 503, 504, Anthropic's 529 overloaded, ...); a connection reset, refused or
//     aborted, a broken pipe, EOF before a reply, another dial error, a transport timeout
//     (net.Error).
//   - Not retried: every other status (400, 401, 403, 404, 413, 422, ...), OpenAI's
//     insufficient_quota (a billing error sent as 429, recognised by its error code or type), a
//     reply with "x-should-retry: false" (the providers' own veto, which their SDKs honour), a
//     host name that does not exist, any other error of the Transport (a recorder's, a TLS
//     certificate's), and the end of ctx: its cancellation or deadline ends the call.
//   - The header "x-should-retry: true" makes any error status (400 and above) retried, as in
//     the official OpenAI and Anthropic SDKs, with one exception: insufficient_quota is never
//     retried, whatever the header says (the account is out of credit, which no wait within a
//     call repairs).
//
// The wait before a retry is the larger of an exponential backoff interval with jitter
// (github.com/cenkalti/backoff/v5; 500 ms doubling up to 8 s by default) and the delay the
// server asks for, read from retry-after-ms (OpenAI; milliseconds), else Retry-After (seconds or
// an HTTP date, RFC 9110 section 10.2.3), else, for a 429, the rate-limit reset headers (OpenAI's
// x-ratelimit-reset-requests and -tokens, durations such as "6m0s"; Anthropic's
// anthropic-ratelimit-*-reset, RFC 3339 times). When the server asks for more than
// RetryPolicy.MaxRetryAfter (default 60 s), the call fails at once with the reply's *APIError,
// its RetryAfter set, so the caller can decide. When ctx has a deadline that comes before the
// wait would end, the call does not wait: it fails at once with an error that matches both
// context.DeadlineExceeded (errors.Is) and the last reply's *APIError (errors.As), RetryAfter
// set. Every wait ends when ctx ends, and the call then fails with an error matching ctx.Err()
// that still carries the last reply's *APIError (or, after a transport failure, the transport's
// error). Every attempt sends the same request body.
//
// Only the status line, or the failure to get one, decides: a 200 reply is never retried. So a
// streamed reply that breaks after text reached the caller fails (ErrIncompleteResponse or the
// transport's error) and is never sent again behind the caller's back; nor is an error event
// inside a 200 stream retried, nor a 200 reply whose JSON body is an error object (its
// *APIError's Retryable reports whether a retry may succeed, for the caller to decide). When the retries run out, the call fails with the last attempt's
// error. For a non-200 reply that is an *APIError, whose Attempts field says how many requests
// were sent. For a transport failure it is the transport's error, still matched by errors.Is and
// errors.As (syscall.ECONNRESET, *net.OpError, *url.Error, ...), and when more than one request
// was sent its text ends with the count, for example "connection reset by peer (after 3
// attempts)"; no field carries it.
//
// # Tests
//
// In a test binary (testing.Testing reports true), a model built by this package refuses to send
// a request over the real network to a host that is not loopback: the call fails with
// ErrRealProviderInTest before anything is sent there, so a test never spends a developer's key
// nor depends on the network. Redirects are checked the same way, and so is the proxy the
// Transport would use (a loopback host reached through a proxy that is not loopback is the
// network). httptest servers (loopback) and custom RoundTrippers (llmtest.Replay, recorders,
// fakes) are not affected; nor, as it cannot be told from a fake, is a RoundTripper that wraps the
// network transport (otelhttp, a logging wrapper): see ErrRealProviderInTest. A deliberate
// recording run allows it with the option AllowRealProviderInTests (per model) or
// AUTOGPT_ALLOW_REAL_PROVIDER=1.
//
// # Errors
//
// Generate and Stream wrap provider errors with %w. When ctx is cancelled or its deadline passes
// before the call returns, the call fails with an error that matches ctx.Err() under errors.Is,
// whatever part of the reply had arrived (langchaingo itself replaces these errors with plain
// strings, and its OpenAI stream reader returns the partial reply as an answer); this holds for
// models wrapped by New too. From a model built by this package, a non-200 reply or an error event
// in a stream matches *APIError under errors.As, and a reply cut short (or with a malformed
// event), too large or without choices matches ErrIncompleteResponse, ErrResponseTooLarge or
// ErrEmptyResponse under errors.Is. A retry that ctx's deadline would not let happen fails with
// an error matching both context.DeadlineExceeded and the reply's *APIError (see Retries). The API key given to a constructor never appears in an error's text. Requests the
// adapter cannot translate match ErrInvalidRequest.
package langchaingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/http"
	"slices"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/autogpt-go/agent/llm"
)

// Provider names reported by (*Model).Provider.
const (
	ProviderOpenAI           = "openai"            // api.openai.com through OpenAI (or a wrapped *openai.LLM)
	ProviderOpenAICompatible = "openai-compatible" // any other chat-completions server, through OpenAICompatible
	ProviderAnthropic        = "anthropic"         // the Anthropic Messages API (or a wrapped *anthropic.LLM)
)

// ErrInvalidRequest is matched (errors.Is) by the error Generate and Stream return for an
// llm.Request the adapter cannot translate: a nil request, an unknown role, a tool message without
// ToolCallID, a tool without a name, a tool schema that is not valid JSON, or a tool choice naming
// no offered tool. No request is sent in that case.
var ErrInvalidRequest = errors.New("langchaingo: invalid request")

// Model is an llm.Model and llm.Streamer backed by a langchaingo llms.Model. Build one with New
// (any llms.Model) or with OpenAI, OpenAICompatible, Anthropic or FromEnv. A Model is immutable and
// safe for concurrent use if the wrapped llms.Model is (langchaingo's OpenAI and Anthropic models
// are).
type Model struct {
	lc       llms.Model
	name     string
	provider string // a Provider... constant, or "" for an llms.Model of unknown kind
	family   string // wire family: ProviderOpenAI, ProviderAnthropic or ""
	legacyMT bool   // send the output cap as max_tokens instead of max_completion_tokens
	wired    bool   // requests go through this package's HTTP layer (doer), which reads streams
	key      *secret
}

var (
	_ llm.Model    = (*Model)(nil)
	_ llm.Streamer = (*Model)(nil)
)

// Option configures New and the provider constructors. Options that do not apply to a constructor
// are ignored by it (for example WithBaseURL by New and OpenAICompatible).
//
// Options rather than a Config struct, because each constructor takes its required settings as
// arguments and the options are the few rarely changed ones.
type Option func(*options)

type options struct {
	httpClient  *http.Client
	baseURL     string
	modelName   string
	legacyMT    *bool
	maxResponse int64
	retry       RetryPolicy // WithRetry (retry.go)
	allowReal   bool        // AllowRealProviderInTests (guard.go)
}

func collect(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithHTTPClient sets the HTTP client the provider constructors (and FromEnv) send requests with;
// nil, the default, means http.DefaultClient. Its Transport is the place for proxies, recorders
// and test doubles; retries are made above it by this package's HTTP layer (WithRetry), so a
// Transport that retries too multiplies the attempts. In a test binary, a client that reaches
// the real network may only talk to loopback hosts, redirects and proxies included (see
// ErrRealProviderInTest); the client is then used through a shallow copy whose CheckRedirect
// checks each redirect before calling the client's own. New ignores it: the wrapped llms.Model
// already has its client.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithBaseURL sets the API base URL of OpenAI (default DefaultOpenAIBaseURL) and Anthropic
// (default DefaultAnthropicBaseURL, which must include the /v1 path: requests go to base +
// "/messages"). OpenAICompatible takes its base URL as an argument and ignores this option.
func WithBaseURL(u string) Option {
	return func(o *options) { o.baseURL = u }
}

// WithModelName sets the name ModelName reports for a model wrapped with New (langchaingo models do
// not expose theirs). It is also used to recognise OpenAI reasoning models, to which no temperature
// is sent. It is not sent to the provider. The provider constructors set it from their model
// argument and ignore this option.
func WithModelName(name string) Option {
	return func(o *options) { o.modelName = name }
}

// WithLegacyMaxTokens chooses the request field that carries Request.MaxOutputTokens on the
// chat-completions wire: true sends "max_tokens" (understood by every OpenAI-compatible server),
// false sends "max_completion_tokens" (what OpenAI requires for reasoning models). The default is
// false for OpenAI and for a wrapped *openai.LLM, true for OpenAICompatible. Anthropic ignores it.
func WithLegacyMaxTokens(on bool) Option {
	return func(o *options) { o.legacyMT = &on }
}

// WithMaxResponseBytes sets the cap on the size of one reply's body, in bytes as read from the
// connection (for a streamed reply, the whole event stream, framing included). A call whose reply
// passes it fails with ErrResponseTooLarge as soon as it does; n <= 0 means the default,
// DefaultMaxResponseBytes (64 MiB). The default leaves room for the longest replies models write:
// streamed at one token per event, 128K output tokens take about 36 MiB of OpenAI events. It
// applies to the provider constructors and FromEnv; New ignores it.
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) { o.maxResponse = n }
}

// New wraps a langchaingo model. The provider is recognised from the dynamic type of m:
// *anthropic.LLM gets the Anthropic message layout (see the package documentation), *openai.LLM
// and anything else the chat-completions layout (one assistant message carrying text and tool
// calls). Options used: WithModelName, WithLegacyMaxTokens.
//
// The wire fixes listed in the package documentation need this package's HTTP layer under the
// client, so they apply only to models built by OpenAI, OpenAICompatible, Anthropic and FromEnv:
// in particular, a wrapped model's stream is read by langchaingo, whose reader cannot tell a
// stream cut short from a complete one. A wrapped model still gets the request and response
// translation, usage and finish-reason normalisation, merged Anthropic choices, streaming, error
// wrapping and the context check (see Errors in the package documentation). New panics if m is
// nil.
func New(m llms.Model, opts ...Option) *Model {
	if m == nil {
		panic("langchaingo: New with a nil llms.Model")
	}
	o := collect(opts)
	model := &Model{lc: m, name: o.modelName, key: newSecret("")}
	switch m.(type) {
	case *anthropic.LLM:
		model.provider, model.family = ProviderAnthropic, ProviderAnthropic
	case *openai.LLM:
		model.provider, model.family = ProviderOpenAI, ProviderOpenAI
	}
	if o.legacyMT != nil {
		model.legacyMT = *o.legacyMT
	}
	return model
}

// ModelName returns the model name the Model was built with (for example "gpt-4o-mini" or
// "claude-sonnet-4-5"), or "" for a model wrapped by New without WithModelName. The name a
// provider reports for a call (which may carry a date suffix) is in llm.Response.Model.
func (m *Model) ModelName() string { return m.name }

// Provider returns ProviderOpenAI, ProviderOpenAICompatible or ProviderAnthropic, or "" for a
// wrapped llms.Model of another kind.
func (m *Model) Provider() string { return m.provider }

// LLM returns the wrapped langchaingo model, for the features this adapter does not cover (for
// example embeddings). Calls made on it directly bypass the adapter's fixes.
func (m *Model) LLM() llms.Model { return m.lc }

// Generate sends req to the model and returns its answer: one assistant message merged from all
// the choices langchaingo returns (Anthropic returns one choice per content block), the normalised
// finish reason, the token usage of the call counted once, and the model name the provider
// reported when this package's HTTP layer or the llms.Model's GenerationInfo exposes it.
//
// Errors: ErrInvalidRequest for a request that cannot be translated; an error matching ctx.Err()
// when ctx ends before the call returns; for a model built by this package's constructors,
// *APIError (errors.As) for a non-200 reply (or, when streaming, an error event), and
// ErrIncompleteResponse, ErrResponseTooLarge or ErrEmptyResponse for a reply cut short, too large
// or without choices; otherwise langchaingo's error, wrapped. It does not modify req.
func (m *Model) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	c, err := m.prepare(req)
	if err != nil {
		return nil, err
	}
	return m.run(ctx, c, nil)
}

// Stream sends req with streaming on and yields the answer as it arrives: text deltas (a Chunk
// with Text set) and, for a model built by OpenAI, OpenAICompatible, Anthropic or FromEnv,
// tool-call fragments (a Chunk with ToolCall set), interleaved in the order the provider sent
// them; then one final Chunk whose Response is the assembled answer, as Generate would return it.
//
// Text: the concatenated Text deltas equal the final message's Content, and each delta is valid
// UTF-8 (Anthropic text blocks that interleave are yielded in block order; deltas the final
// message ignores, such as text on a tool_use block or a delta after its block stopped, are not
// yielded). A character whose bytes (or whose escaped UTF-16 surrogate pair) the provider split
// between two events is yielded whole, in the later delta; bytes that never make a valid character
// come out as U+FFFD, one per byte (one per unpaired surrogate), in the deltas and in Content
// alike, as Generate gives them for the same reply. Text the llms.Model did not stream is yielded
// as one delta before the final chunk.
//
// Tool calls: ToolCall.Index is the position of the call in the final Response.Message.ToolCalls
// (not the provider's own index), so assembling the fragments by Index gives exactly the final
// calls. The first fragment of a call carries its ID and Name (both as the provider gave them;
// a later fragment carries them if the provider sent them late), later ones pieces of Arguments,
// each valid UTF-8 (same rule as for text), whose concatenation is the call's final Arguments. A
// call without arguments still gets its fragment with ID and Name; for Anthropic, whose final
// arguments are then "{}", a fragment carries those. Arguments are passed on as the model wrote
// them, invalid JSON included: the final Response is authoritative, and the caller validates. On
// the OpenAI wire a fragment whose id differs from the id of the call its index already holds
// starts a new call; fragments without index continue the last call unless their id is another.
// A server that answers a streaming request with a whole JSON reply gets its calls yielded as one
// fragment each before the final chunk.
//
// A model wrapped by New yields text deltas only (its stream is read by langchaingo, whose
// assembly of tool-call fragments cannot be trusted): its tool calls arrive in the final
// Response.
//
// An error is yielded once, as the last element, with the errors Generate returns. Deltas
// yielded before an error are not an answer (for example, the stream was cut off, or ctx ended):
// only the final Chunk's Response is. The call waits for the consumer: the next event is not
// read before the loop body has handled the current delta. A consumer that stops early (break)
// cancels the HTTP request; Stream returns only after the langchaingo call has returned, so no
// goroutine it started outlives the loop. The call runs on one extra goroutine because the
// streaming callback is invoked from inside the call (by langchaingo's Anthropic client, for a
// wrapped model, from a reader goroutine of its own); the loop body always runs on the
// consumer's goroutine.
func (m *Model) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return func(yield func(llm.Chunk, error) bool) {
		c, err := m.prepare(req)
		if err != nil {
			yield(llm.Chunk{}, err)
			return
		}
		m.stream(ctx, c, yield)
	}
}

type result struct {
	resp *llm.Response
	err  error
}

func (m *Model) stream(parent context.Context, c *call, yield func(llm.Chunk, error) bool) {
	ctx, cancel := context.WithCancel(parent)
	deltas := make(chan delta)
	acks := make(chan struct{})
	done := make(chan result, 1)
	go func() {
		onChunk := func(_ context.Context, d delta) error {
			if d.text == "" && d.tool == nil {
				return nil
			}
			select {
			case deltas <- d:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			select { // wait until the consumer's loop body has run
			case <-acks:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		resp, err := m.run(ctx, c, onChunk)
		done <- result{resp, err}
	}()
	finished := false
	defer func() {
		if !finished { // consumer stopped, or its loop body panicked: end the call and wait for it
			cancel()
			<-done
		}
		cancel()
	}()

	// The text yielded so far, as its length and hash (a copy of a long reply would double the
	// memory it takes): the final Content's rest is yielded when Content starts with it.
	var streamed maphash.Hash
	streamedLen := 0
	calls := 0 // tool calls that had a fragment yielded: Index < calls
	for {
		select {
		case d := <-deltas:
			chunk := llm.Chunk{Text: d.text, ToolCall: d.tool}
			if d.tool != nil {
				chunk.Text = ""
				calls = max(calls, d.tool.Index+1)
			} else {
				streamed.WriteString(d.text)
				streamedLen += len(d.text)
			}
			if !yield(chunk, nil) {
				return
			}
			select {
			case acks <- struct{}{}:
			case <-ctx.Done():
			}
		case r := <-done:
			finished = true
			if r.err != nil {
				yield(llm.Chunk{}, r.err)
				return
			}
			if content := r.resp.Message.Content; len(content) > streamedLen && startsWith(content, streamedLen, &streamed) {
				if !yield(llm.Chunk{Text: content[streamedLen:]}, nil) {
					return
				}
			}
			if m.wired { // calls of a reply that was not streamed after all (a JSON body)
				for i := calls; i < len(r.resp.Message.ToolCalls); i++ {
					tc := r.resp.Message.ToolCalls[i]
					if !yield(llm.Chunk{ToolCall: &llm.ToolCallDelta{Index: i, ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments}}, nil) {
						return
					}
				}
			}
			yield(llm.Chunk{Response: r.resp}, nil)
			return
		}
	}
}

// startsWith reports whether the first n bytes of s hash to h's sum (h has been fed n bytes).
func startsWith(s string, n int, h *maphash.Hash) bool {
	var prefix maphash.Hash
	prefix.SetSeed(h.Seed())
	prefix.WriteString(s[:n])
	return prefix.Sum64() == h.Sum64()
}

// streamText returns the text delta carried by a chunk langchaingo passed to the streaming
// callback. langchaingo's OpenAI client passes tool-call fragments through the same callback, as
// the JSON encoding of its delta array; those are recognised (they decode to tool-call deltas and
// re-encode to the same bytes) and dropped.
func (m *Model) streamText(c *call, chunk []byte) string {
	if len(chunk) == 0 {
		return ""
	}
	if c.hasTools && m.family != ProviderAnthropic && isToolDeltaChunk(chunk) {
		return ""
	}
	return string(chunk)
}

// lcToolDelta mirrors the JSON encoding of langchaingo's openaiclient.ToolCall (field order and
// tags included), which its stream assembly hands to the streaming callback.
type lcToolDelta struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func isToolDeltaChunk(chunk []byte) bool {
	if chunk[0] != '[' {
		return false
	}
	var deltas []lcToolDelta
	if err := json.Unmarshal(chunk, &deltas); err != nil || len(deltas) == 0 {
		return false
	}
	again, err := json.Marshal(deltas)
	return err == nil && string(again) == string(chunk)
}

// run performs one call; onChunk, if not nil, turns streaming on. For a model built by this
// package's constructors, the HTTP layer reads the stream and calls onChunk with its text deltas
// and tool-call fragments, and langchaingo makes (as far as it knows) a non-streaming call;
// otherwise langchaingo streams, and onChunk gets the text deltas of its streaming callback.
func (m *Model) run(ctx context.Context, c *call, onChunk func(context.Context, delta) error) (*llm.Response, error) {
	w := c.newWire(onChunk != nil && m.wired)
	opts := c.opts
	if onChunk != nil {
		if m.wired {
			w.onChunk = onChunk
		} else {
			opts = append(slices.Clip(opts), llms.WithStreamingFunc(func(ctx context.Context, chunk []byte) error {
				text := m.streamText(c, chunk)
				if text == "" {
					return nil
				}
				return onChunk(ctx, delta{text: text})
			}))
		}
	}
	resp, err := m.lc.GenerateContent(withWire(ctx, w), c.msgs, opts...)
	if ctx.Err() != nil {
		// Whatever arrived is not the answer: langchaingo's OpenAI stream reader, for one, returns
		// the partial reply without error when the connection fails because ctx ended.
		if err == nil {
			err = ctx.Err()
		}
		return nil, m.wrapError(ctx, w, err)
	}
	if err != nil {
		if r, ok := m.recoverEmpty(w, err); ok {
			return r, nil
		}
		return nil, m.wrapError(ctx, w, err)
	}
	out, err := m.convertResponse(resp, w)
	if err != nil {
		return nil, m.wrapError(ctx, w, err)
	}
	return out, nil
}

// label names the model in error texts.
func (m *Model) label() string {
	p := m.provider
	if p == "" {
		p = "model"
	}
	if m.name != "" {
		return p + " " + m.name
	}
	return p
}

// wrapError builds the error of a failed call from langchaingo's error err and what the HTTP
// layer saw, which is more precise: the provider's error, then the HTTP layer's own failure
// (incomplete or too large a reply), then the transport's error. Whenever ctx has ended, the
// result matches ctx.Err() and its text starts with it.
func (m *Model) wrapError(ctx context.Context, w *wire, err error) error {
	doErr, readErr, retryStop := w.failure()
	raw, parsed := w.parsed()
	switch apiErr := w.apiError(m.provider, err); {
	case apiErr != nil:
		apiErr.Message = m.key.redactString(apiErr.Message)
		err = apiErr
	case readErr != nil:
		err = readErr // langchaingo's error is this one, possibly replaced by a fixed string
	case doErr != nil && !errors.Is(err, doErr):
		// langchaingo replaces transport errors with fixed strings; keep the original for errors.As.
		err = fmt.Errorf("%w (%w)", err, doErr)
	case parsed && raw.noChoices:
		err = ErrEmptyResponse // langchaingo's error says no more
	}
	if retryStop != nil { // the reason the reply's error was not retried comes first
		err = fmt.Errorf("%w: %w", retryStop, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !(errors.Is(err, ctxErr) && strings.HasPrefix(err.Error(), ctxErr.Error())) {
		err = fmt.Errorf("%w: %w", ctxErr, err) // the reason first: the rest is its consequence
	}
	return m.key.redact(fmt.Errorf("langchaingo %s: %w", m.label(), err))
}
