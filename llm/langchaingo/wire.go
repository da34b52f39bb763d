package langchaingo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"

	"github.com/autogpt-go/agent/llm"
)

// This file is the HTTP layer the provider constructors put under langchaingo's clients (which
// accept any Do(*http.Request) implementation). Per call, Model.run puts a *wire in the context;
// the langchaingo clients build their request with that context, so doer.Do finds it, rewrites the
// request body where langchaingo gets it wrong, and reads the whole reply itself before langchaingo
// sees it: a streamed reply is read event by event (sse.go), its text passed to the streaming
// callback as it arrives, and langchaingo gets the equivalent non-streaming reply; a JSON reply is
// checked to be complete. Either is bounded by the response size cap as it is read.

// Limits on what the HTTP layer reads of a reply.
const (
	// DefaultMaxResponseBytes is the default cap on the size of one reply's body, streamed or not
	// (see WithMaxResponseBytes).
	DefaultMaxResponseBytes = 64 << 20
	maxErrorBody            = 1 << 20 // bytes of a non-200 reply read for APIError
)

type wireKey struct{}

func withWire(ctx context.Context, w *wire) context.Context {
	return context.WithValue(ctx, wireKey{}, w)
}

// wire is one call's settings for the HTTP layer and what it saw of the exchange.
type wire struct {
	*call
	stream   bool                               // ask for a streamed reply and read it here
	onChunk  func(context.Context, delta) error // streaming callback, given each text delta and tool-call fragment
	lcStream bool                               // langchaingo asked for a streamed reply itself

	mu      sync.Mutex
	seen    bool // the request went through a doer
	status  int
	header  http.Header
	errBody []byte   // a non-200 reply's body
	doErr   error    // the round trip's error
	readErr error    // reading or checking a 200 reply failed
	raw     rawReply // what the fixes need from a 200 reply
	ok      bool     // raw is set

	attempts  int   // requests the doer sent, retries included (under mu too)
	retryStop error // why the last, retryable reply was not retried (sent.stop; under mu too)
}

func (c *call) newWire(stream bool) *wire { return &wire{call: c, stream: stream} }

// doer is the langchaingo clients' HTTP client (their Doer interface).
type doer struct {
	client    *http.Client
	family    string      // ProviderOpenAI or ProviderAnthropic: the wire format it rewrites
	noAuth    bool        // drop the Authorization header (OpenAICompatible with an empty key)
	maxBody   int64       // cap on a reply's body; DefaultMaxResponseBytes when 0
	retry     RetryPolicy // retries of a failed round trip or a retryable reply (retry.go)
	allowReal bool        // AllowRealProviderInTests: skip the guard (guard.go)
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	if d.noAuth {
		req.Header.Del("Authorization")
	}
	w, _ := req.Context().Value(wireKey{}).(*wire)
	if w != nil && w.family != d.family {
		w = nil // a call of another model that happens to share the context
	}
	if w != nil && req.Body != nil {
		if err := w.rewrite(req); err != nil {
			return nil, err
		}
	}
	client := d.client
	if client == nil {
		client = http.DefaultClient
	}
	limit := d.maxBody
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	var res sent
	client, err := d.guard(client, req) // guard.go
	if err != nil {
		res.err = err
	} else {
		res = d.retry.send(client, req) // retry.go
	}
	if w == nil {
		if res.stop != nil { // nowhere to keep the reply for the APIError: the reason will do
			res.resp.Body.Close()
			return nil, res.stop
		}
		if res.err == nil && res.resp.StatusCode == http.StatusOK {
			res.resp.Body = capBody{&capReader{r: res.resp.Body, limit: limit}, res.resp.Body}
		}
		return res.resp, res.err
	}
	w.mu.Lock()
	w.attempts = res.attempts
	w.retryStop = res.stop
	w.mu.Unlock()
	// With res.stop, langchaingo gets the last reply, so that the call's error carries its APIError.
	return w.receive(req.Context(), res.resp, res.err, limit)
}

// capBody is a reply body read through a capReader.
type capBody struct {
	io.Reader
	io.Closer
}

func (w *wire) rewrite(req *http.Request) error {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	o, err := decodeObject(body)
	if err == nil {
		w.lcStream = string(o.get("stream")) == "true"
		switch w.family {
		case ProviderAnthropic:
			err = rewriteAnthropic(&o, w.call, w.stream)
		default:
			err = rewriteOpenAI(&o, w.call, w.stream)
		}
	}
	if err != nil {
		return fmt.Errorf("rewriting request body: %w", err)
	}
	out := o.encode()
	req.Body = io.NopCloser(bytes.NewReader(out))
	req.ContentLength = int64(len(out))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	return nil
}

// receive reads a 200 reply whole and returns it with the body langchaingo is to decode: for a
// streamed reply, the equivalent non-streaming reply. The error of a reply that cannot be read, is
// incomplete, is larger than limit or carries an error event is returned to langchaingo and kept
// for Model.run, which reports it (langchaingo replaces some errors with fixed strings).
func (w *wire) receive(ctx context.Context, resp *http.Response, err error, limit int64) (*http.Response, error) {
	w.mu.Lock()
	w.seen = true
	w.doErr = err
	if err == nil {
		w.status, w.header = resp.StatusCode, resp.Header
	}
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		w.mu.Lock()
		w.errBody = b
		w.mu.Unlock()
		resp.Body = io.NopCloser(bytes.NewReader(b)) // langchaingo decodes it too
		return resp, nil
	}

	if w.lcStream && !w.stream {
		// langchaingo streams itself: a model wrapped by New whose llms.Model was built by this
		// package's constructors. It reads the stream; only the size cap applies.
		resp.Body = capBody{&capReader{r: resp.Body, limit: limit}, resp.Body}
		return resp, nil
	}
	// The callback runs while the body is read (it waits for the consumer), so without the lock.
	body := bufio.NewReaderSize(&capReader{r: resp.Body, limit: limit}, 32<<10)
	var out []byte
	var raw rawReply
	var ok bool
	if w.stream && !startsJSON(body) { // a server that ignores "stream" replies with JSON
		out, raw, err = w.readStream(ctx, body)
		ok = err == nil || raw.streamErr != nil
	} else {
		out, raw, ok, err = w.readJSON(body)
	}
	resp.Body.Close()
	w.mu.Lock()
	w.raw, w.ok, w.readErr = raw, ok, err
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	return resp, nil
}

// startsJSON reports whether the body's first byte after white space opens a JSON object, as
// an event stream's never does (its lines start with a field name or a colon). A read error is
// left for the reader that follows.
func startsJSON(br *bufio.Reader) bool {
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3) // a byte-order mark starts neither form (both readers would drop it)
	}
	for n := 1; n <= br.Size(); n++ {
		b, _ := br.Peek(n)
		if len(b) < n {
			return false
		}
		switch b[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

func (w *wire) readStream(ctx context.Context, body io.Reader) ([]byte, rawReply, error) {
	var s streamReader = newOpenAIStream()
	if w.family == ProviderAnthropic {
		s = newAnthropicStream()
	}
	err := readStream(body, s, func(d delta) error {
		if w.onChunk == nil {
			return nil
		}
		return w.onChunk(ctx, d)
	})
	if errors.Is(err, errErrorEvent) {
		raw, _, _ := s.reply()
		return nil, raw, err
	}
	if err != nil {
		return nil, rawReply{}, readError(err)
	}
	raw, out, err := s.reply()
	if err != nil {
		return nil, rawReply{}, err
	}
	return out, raw, nil
}

func (w *wire) readJSON(body io.Reader) ([]byte, rawReply, bool, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, rawReply{}, false, readError(err)
	}
	// A byte-order mark is not JSON (RFC 8259 section 8.1 lets a parser ignore it; Go's does not).
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if cutShort(b) {
		return nil, rawReply{}, false, fmt.Errorf("%w: the JSON body ends after %s, inside its value", ErrIncompleteResponse, plural(len(b), "byte"))
	}
	var raw rawReply
	var ok bool
	var fixed []byte
	if w.family == ProviderAnthropic {
		raw, ok, fixed = parseAnthropicJSON(b)
	} else {
		raw, ok, fixed = parseOpenAIJSON(b)
	}
	if raw.streamErr != nil {
		return nil, raw, ok, errErrorBody
	}
	if fixed != nil {
		b = fixed
	}
	return b, raw, ok, nil
}

// readError adds context to an error reading a reply; the size cap's, the stream reader's and the
// callback's errors need none.
func readError(err error) error {
	if errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrIncompleteResponse) ||
		errors.Is(err, errMalformedEvent) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) { // the connection ended inside the body
		return fmt.Errorf("%w: the connection closed before the end of the reply (%w)", ErrIncompleteResponse, err)
	}
	return fmt.Errorf("reading the reply: %w", err)
}

// cutShort reports whether b is the start of a JSON value that the body ended inside (or empty).
// Other invalid bodies are left to langchaingo's decoder and its error.
func cutShort(b []byte) bool {
	if json.Valid(b) {
		return false
	}
	var v json.RawMessage
	err := json.NewDecoder(bytes.NewReader(b)).Decode(&v)
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// apiError returns the *APIError for a non-200 reply the doer saw, or for an error object in a 200
// reply (an error event in its stream, or its whole JSON body); otherwise nil.
func (w *wire) apiError(provider string, err error) *APIError {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen || w.doErr != nil || w.status == 0 {
		return nil
	}
	var e *APIError
	switch {
	case w.status != http.StatusOK:
		e = newAPIError(provider, w.status, w.header, w.errBody, err)
	case w.ok && w.raw.streamErr != nil:
		e = newAPIError(provider, w.status, w.header, w.raw.streamErr, err)
		e.inBody = errors.Is(w.readErr, errErrorBody)
	default:
		return nil
	}
	e.Attempts = w.attempts
	return e
}

// failure returns the error of the round trip or of reading the reply, if any, and why the last
// reply was not retried although it could have been (ctx ended, or would before the retry).
func (w *wire) failure() (doErr, readErr, retryStop error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.doErr, w.readErr, w.retryStop
}

// parsed returns what the fixes need from a 200 reply the doer read.
func (w *wire) parsed() (rawReply, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.raw, w.ok
}

// ---- request rewriting ----

// streamOptions asks OpenAI for the usage in a last chunk; langchaingo sends it with every streamed
// request too.
var streamOptions = json.RawMessage(`{"include_usage":true}`)

// rewriteOpenAI fixes a chat-completions request; with stream, it asks for a streamed reply (the
// HTTP layer reads it: langchaingo sent a non-streaming request).
func rewriteOpenAI(o *object, c *call, stream bool) error {
	if stream {
		o.set("stream", json.RawMessage("true"))
		if o.get("stream_options") == nil {
			o.set("stream_options", streamOptions)
		}
	}
	if c.omitTemperature {
		o.del("temperature")
	}
	if err := o.editTools(c.schemas, func(tool *object, schema json.RawMessage) error {
		fn, err := decodeObject(tool.get("function"))
		if err != nil {
			return err
		}
		fn.set("parameters", schema)
		tool.set("function", fn.encode())
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// rewriteAnthropic fixes a Messages API request; with stream, it asks for a streamed reply.
func rewriteAnthropic(o *object, c *call, stream bool) error {
	if stream {
		o.set("stream", json.RawMessage("true"))
	}
	if c.omitTemperature {
		o.del("temperature")
	}
	if err := o.editTools(c.schemas, func(tool *object, schema json.RawMessage) error {
		tool.set("input_schema", schema)
		return nil
	}); err != nil {
		return err
	}
	if c.toolChoice != nil && o.get("tools") != nil {
		o.insertAfter("tools", "tool_choice", c.toolChoice)
	}
	if msgs := o.get("messages"); msgs != nil {
		fixed, err := fixAnthropicMessages(msgs, c)
		if err != nil {
			return err
		}
		o.set("messages", fixed)
	}
	return nil
}

// fixAnthropicMessages joins consecutive messages of the same role into one (so parallel tool calls
// and their results travel as one assistant and one user turn, as the Messages API documents),
// puts the verbatim arguments into tool_use blocks and marks failed tool results with is_error.
// Blocks are matched to the request's tool calls and results by position, never by id (two
// calls may share an id, or have none): langchaingo writes one block per call and per result, in
// order. If the counts differ, the request is not sent.
func fixAnthropicMessages(raw json.RawMessage, c *call) (json.RawMessage, error) {
	msgs, err := decodeArray(raw)
	if err != nil {
		return nil, err
	}
	type turn struct {
		obj    object
		role   string
		blocks []json.RawMessage // nil when content is not an array
	}
	var turns []turn
	var uses, results int // tool_use and tool_result blocks seen
	for _, m := range msgs {
		obj, err := decodeObject(m)
		if err != nil {
			return nil, err
		}
		var role string
		_ = json.Unmarshal(obj.get("role"), &role)
		var blocks []json.RawMessage
		if content := obj.get("content"); bytes.HasPrefix(bytes.TrimSpace(content), []byte("[")) {
			if blocks, err = decodeArray(content); err != nil {
				return nil, err
			}
			for i, b := range blocks {
				if blocks[i], err = fixAnthropicBlock(b, c, &uses, &results); err != nil {
					return nil, err
				}
			}
		}
		if n := len(turns); n > 0 && turns[n-1].role == role && turns[n-1].blocks != nil && blocks != nil {
			turns[n-1].blocks = append(turns[n-1].blocks, blocks...)
			continue
		}
		turns = append(turns, turn{obj: obj, role: role, blocks: blocks})
	}
	if c.fixBlocks && (uses != len(c.toolArgs) || results != len(c.toolErrors)) {
		return nil, fmt.Errorf("the request has %s and %s for %s and %s",
			plural(uses, "tool_use block"), plural(results, "tool_result block"),
			plural(len(c.toolArgs), "tool call"), plural(len(c.toolErrors), "tool result"))
	}
	out := make([]json.RawMessage, len(turns))
	for i, t := range turns {
		if t.blocks != nil {
			t.obj.set("content", encodeArray(t.blocks))
		}
		out[i] = t.obj.encode()
	}
	return encodeArray(out), nil
}

// fixAnthropicBlock fixes one content block: the uses-th tool_use block of the request gets the
// verbatim arguments of the uses-th tool call, the results-th tool_result block is_error when
// the results-th tool result is an error. It counts the blocks in uses and results.
func fixAnthropicBlock(b json.RawMessage, c *call, uses, results *int) (json.RawMessage, error) {
	if !c.fixBlocks {
		return b, nil
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, err
	}
	var key string
	var val json.RawMessage
	switch head.Type {
	case "tool_use":
		n := *uses
		*uses++
		if n < len(c.toolArgs) && c.toolArgs[n] != "" {
			key, val = "input", json.RawMessage(c.toolArgs[n])
		}
	case "tool_result":
		n := *results
		*results++
		if n < len(c.toolErrors) && c.toolErrors[n] {
			key, val = "is_error", json.RawMessage("true")
		}
	}
	if key == "" {
		return b, nil
	}
	obj, err := decodeObject(b)
	if err != nil {
		return nil, err
	}
	obj.set(key, val)
	return obj.encode(), nil
}

// editTools calls edit on each element of the "tools" array with the schema of the same index.
// It does nothing when the counts differ (the request was not built from this call).
func (o *object) editTools(schemas []json.RawMessage, edit func(tool *object, schema json.RawMessage) error) error {
	raw := o.get("tools")
	if raw == nil || len(schemas) == 0 {
		return nil
	}
	tools, err := decodeArray(raw)
	if err != nil {
		return err
	}
	if len(tools) != len(schemas) {
		return nil
	}
	for i := range tools {
		tool, err := decodeObject(tools[i])
		if err != nil {
			return err
		}
		if err := edit(&tool, schemas[i]); err != nil {
			return err
		}
		tools[i] = tool.encode()
	}
	o.set("tools", encodeArray(tools))
	return nil
}

// ---- order-keeping JSON editing ----

// object is a JSON object as its members in order, each value kept as its exact bytes.
type object []member

type member struct {
	key string
	val json.RawMessage
}

func decodeObject(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	o := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		o = append(o, member{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o object) get(key string) json.RawMessage {
	for _, m := range o {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// set replaces key's value in place, or appends the member.
func (o *object) set(key string, val json.RawMessage) {
	for i := range *o {
		if (*o)[i].key == key {
			(*o)[i].val = val
			return
		}
	}
	*o = append(*o, member{key, val})
}

func (o *object) del(key string) {
	for i := range *o {
		if (*o)[i].key == key {
			*o = append((*o)[:i], (*o)[i+1:]...)
			return
		}
	}
}

// insertAfter sets key, placing a new member right after the member named after (or last).
func (o *object) insertAfter(after, key string, val json.RawMessage) {
	if o.get(key) != nil {
		o.set(key, val)
		return
	}
	for i := range *o {
		if (*o)[i].key == after {
			*o = append((*o)[:i+1], append(object{{key, val}}, (*o)[i+1:]...)...)
			return
		}
	}
	*o = append(*o, member{key, val})
}

func (o object) encode() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func decodeArray(b []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("not a JSON array")
	}
	items := []json.RawMessage{}
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return items, nil
}

func encodeArray(items []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// ---- raw replies ----

// rawReply is what the fixes need from a raw 200 reply.
type rawReply struct {
	model     string
	stop      string
	noChoices bool   // OpenAI: the reply has no choices
	text      string // a stream: the text, as its deltas carried it (hasText)
	hasText   bool   // text is the answer's text (langchaingo got an empty one)
	// The tool calls, in order (a stream's, assembled by index or block; an Anthropic message's,
	// their input verbatim); nil to take langchaingo's.
	toolCalls []llm.ToolCall
	fnCalls   []*llm.ToolCall // OpenAI JSON: per choice, its legacy function_call, if any
	empty     bool            // Anthropic: the message has no content blocks
	usage     llm.Usage       // Anthropic: usage, for an empty reply
	// An error object: an error event in a stream (its data), or a 200 JSON body that is an
	// error ({"error": {...}}, Anthropic's {"type": "error", ...}, {"object": "error", ...}).
	streamErr json.RawMessage
}

// errErrorBody is the error of a 200 reply whose JSON body is an error object.
var errErrorBody = errors.New("error object in the response body")

// isErrorBody reports whether a 200 JSON body is an error object rather than a reply: a non-null
// "error" member, "type": "error" (Anthropic) or "object": "error" (older vLLM).
func isErrorBody(typ string, object errorObject, errMember json.RawMessage) bool {
	return typ == "error" || bool(object) || len(errMember) > 0 && string(errMember) != "null"
}

// parseOpenAIJSON reads a chat.completion object; false when it is not one (langchaingo reports
// the body it cannot decode). fixed, when not nil, is the body to give langchaingo instead:
// usage it could not decode made clean, and the function_call it dereferences added to a choice
// that finished with "function_call" without one.
func parseOpenAIJSON(body []byte) (r rawReply, ok bool, fixed []byte) {
	var m struct {
		Model   string `json:"model"`
		Type    string `json:"type"`
		Choices []struct {
			Message struct {
				FunctionCall *struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function_call"`
				ToolCalls []struct{} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage  json.RawMessage `json:"usage"`
		Error  json.RawMessage `json:"error"`
		Object errorObject     `json:"object"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return rawReply{}, false, nil
	}
	if isErrorBody(m.Type, m.Object, m.Error) {
		return rawReply{streamErr: body}, true, nil
	}
	r = rawReply{model: m.Model, noChoices: len(m.Choices) == 0}
	var patch []int // choices that need a function_call for langchaingo
	for i, ch := range m.Choices {
		fc := ch.Message.FunctionCall
		if fc != nil && len(ch.Message.ToolCalls) == 0 && (fc.Name != "" || fc.Arguments != "") {
			if r.fnCalls == nil {
				r.fnCalls = make([]*llm.ToolCall, len(m.Choices))
			}
			r.fnCalls[i] = &llm.ToolCall{Name: fc.Name, Arguments: fc.Arguments}
		}
		if fc == nil && ch.FinishReason == "function_call" {
			patch = append(patch, i)
		}
	}
	dirtyUsage := len(m.Usage) > 0 && m.Usage[0] == '{' && !cleanUsage(m.Usage, &struct {
		PromptTokens            *int             `json:"prompt_tokens"`
		CompletionTokens        *int             `json:"completion_tokens"`
		TotalTokens             *int             `json:"total_tokens"`
		PromptTokensDetails     *map[string]*int `json:"prompt_tokens_details"`
		CompletionTokensDetails *map[string]*int `json:"completion_tokens_details"`
	}{})
	if !dirtyUsage && len(patch) == 0 {
		return r, true, nil
	}
	o, err := decodeObject(body)
	if err != nil {
		return r, true, nil
	}
	if dirtyUsage {
		o.set("usage", cleanOpenAIUsage(m.Usage))
	}
	if len(patch) > 0 {
		choices, err := decodeArray(o.get("choices"))
		if err != nil {
			return r, true, nil
		}
		for _, i := range patch {
			ch, err1 := decodeObject(choices[i])
			msg, err2 := decodeObject(ch.get("message"))
			if err1 != nil || err2 != nil {
				return r, true, nil
			}
			msg.set("function_call", json.RawMessage(`{"name":"","arguments":""}`))
			ch.set("message", msg.encode())
			choices[i] = ch.encode()
		}
		o.set("choices", encodeArray(choices))
	}
	return r, true, o.encode()
}

// cleanUsage reports whether a usage object decodes into strict, a pointer to a struct of int
// counts (pointers to them, or maps of them), with no negative count: langchaingo decodes it
// as it is.
func cleanUsage(raw json.RawMessage, strict any) bool {
	if json.Unmarshal(raw, strict) != nil {
		return false
	}
	return !bytes.Contains(raw, []byte("-")) // a negative count (keys and counts have no other '-')
}

// count is a token count read leniently: anything but a non-negative integer within int's range
// (a fraction, 1e30, a negative number, a string, null) counts as 0.
type count int

// UnmarshalJSON sets c from b, never failing.
func (c *count) UnmarshalJSON(b []byte) error {
	*c = count(tokenCount(b))
	return nil
}

func tokenCount(b []byte) int {
	if n, err := strconv.ParseInt(string(b), 10, 0); err == nil {
		return max(int(n), 0)
	}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f >= 0 && f < math.MaxInt && f == math.Trunc(f) {
		return int(f)
	}
	return 0
}

// addCounts returns a + b for counts (never negative), at most math.MaxInt.
func addCounts(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// cleanOpenAIUsage returns the usage object langchaingo reads (ChatUsage), its counts read
// leniently (see count), so that a count it cannot decode does not fail the reply.
func cleanOpenAIUsage(raw json.RawMessage) json.RawMessage {
	var u struct {
		PromptTokens        count `json:"prompt_tokens"`
		CompletionTokens    count `json:"completion_tokens"`
		TotalTokens         count `json:"total_tokens"`
		PromptTokensDetails struct {
			CachedTokens count `json:"cached_tokens"`
			AudioTokens  count `json:"audio_tokens"`
		} `json:"prompt_tokens_details"`
		CompletionTokensDetails struct {
			ReasoningTokens          count `json:"reasoning_tokens"`
			AudioTokens              count `json:"audio_tokens"`
			AcceptedPredictionTokens count `json:"accepted_prediction_tokens"`
			RejectedPredictionTokens count `json:"rejected_prediction_tokens"`
		} `json:"completion_tokens_details"`
	}
	_ = json.Unmarshal(raw, &u) // a member of the wrong shape is skipped; the others are read
	b, _ := json.Marshal(u)     // ints always encode
	return b
}

type anthropicUsage struct {
	InputTokens              *count `json:"input_tokens"`
	OutputTokens             *count `json:"output_tokens"`
	CacheCreationInputTokens *count `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *count `json:"cache_read_input_tokens"`
}

// merge overwrites the counts u reports into dst (a stream reports input tokens at the start and
// output tokens at the end).
func (u *anthropicUsage) merge(dst *anthropicUsage) {
	if u == nil {
		return
	}
	for _, p := range []struct{ src, dst **count }{
		{&u.InputTokens, &dst.InputTokens}, {&u.OutputTokens, &dst.OutputTokens},
		{&u.CacheCreationInputTokens, &dst.CacheCreationInputTokens}, {&u.CacheReadInputTokens, &dst.CacheReadInputTokens},
	} {
		if *p.src != nil {
			*p.dst = *p.src
		}
	}
}

func (u anthropicUsage) usage() llm.Usage {
	v := func(p *count) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	read := v(u.CacheReadInputTokens)
	return llm.Usage{
		InputTokens:       addCounts(addCounts(v(u.InputTokens), v(u.CacheCreationInputTokens)), read),
		OutputTokens:      v(u.OutputTokens),
		CachedInputTokens: read,
	}
}

// parseAnthropicJSON reads a message object; false when it is not one (langchaingo reports the
// body it cannot decode). fixed, when not nil, is the body to give langchaingo instead, its usage
// made clean.
func parseAnthropicJSON(body []byte) (r rawReply, ok bool, fixed []byte) {
	var m struct {
		Type       string `json:"type"`
		Model      string `json:"model"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type  string          `json:"type"`
			ID    string          `json:"id"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		Usage json.RawMessage `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return rawReply{}, false, nil
	}
	if isErrorBody(m.Type, false, m.Error) {
		return rawReply{streamErr: body}, true, nil
	}
	var usage anthropicUsage
	_ = json.Unmarshal(m.Usage, &usage) // counts are read leniently; a usage of another shape is none
	r = rawReply{model: m.Model, stop: m.StopReason, empty: len(m.Content) == 0, usage: usage.usage()}
	for _, b := range m.Content {
		if b.Type == "tool_use" {
			args := string(b.Input)
			if len(b.Input) == 0 {
				args = "{}"
			}
			r.toolCalls = append(r.toolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		}
	}
	if len(m.Usage) == 0 || m.Usage[0] != '{' || cleanUsage(m.Usage, &struct {
		InputTokens              *int `json:"input_tokens"`
		OutputTokens             *int `json:"output_tokens"`
		CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
	}{}) {
		return r, true, nil
	}
	o, err := decodeObject(body)
	if err != nil {
		return r, true, nil
	}
	clean, _ := json.Marshal(usage)
	o.set("usage", clean)
	return r, true, o.encode()
}
