package langchaingo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/autogpt-go/agent/llm"
)

// This file is the HTTP layer the provider constructors put under langchaingo's clients (which
// accept any Do(*http.Request) implementation). Per call, Model.run puts a *wire in the context;
// the langchaingo clients build their request with that context, so doer.Do finds it, rewrites the
// request body where langchaingo gets it wrong, and keeps a copy of the reply for the fixes that
// need the raw bytes.

// Limits on what the HTTP layer keeps of a reply.
const (
	maxCapture   = 32 << 20 // bytes of a 200 reply kept for raw parsing; beyond it the raw fixes are skipped
	maxErrorBody = 1 << 20  // bytes of a non-200 reply read for APIError
)

type wireKey struct{}

func withWire(ctx context.Context, w *wire) context.Context {
	return context.WithValue(ctx, wireKey{}, w)
}

// wire is one call's settings for the HTTP layer and what it saw of the exchange.
type wire struct {
	*call
	stream bool

	mu       sync.Mutex
	seen     bool // the request went through a doer
	status   int
	header   http.Header
	errBody  []byte
	body     []byte
	overflow bool
	doErr    error

	once sync.Once
	raw  rawReply
	ok   bool
}

func (c *call) newWire(stream bool) *wire { return &wire{call: c, stream: stream} }

// doer is the langchaingo clients' HTTP client (their Doer interface).
type doer struct {
	client *http.Client
	family string // ProviderOpenAI or ProviderAnthropic: the wire format it rewrites
	noAuth bool   // drop the Authorization header (OpenAICompatible with an empty key)
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
	resp, err := client.Do(req)
	if w != nil {
		w.record(resp, err)
	}
	return resp, err
}

func (w *wire) rewrite(req *http.Request) error {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	var out []byte
	switch w.family {
	case ProviderAnthropic:
		out, err = rewriteAnthropic(body, w.call)
	default:
		out, err = rewriteOpenAI(body, w.call)
	}
	if err != nil {
		return fmt.Errorf("rewriting request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(out))
	req.ContentLength = int64(len(out))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	return nil
}

func (w *wire) record(resp *http.Response, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = true
	if err != nil {
		w.doErr = err
		return
	}
	w.status, w.header = resp.StatusCode, resp.Header
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		w.errBody = b
		resp.Body = io.NopCloser(bytes.NewReader(b)) // langchaingo decodes it too
		return
	}
	resp.Body = &teeBody{rc: resp.Body, w: w, cutAfterError: w.family == ProviderAnthropic && w.stream}
}

// teeBody keeps a copy of what langchaingo reads of a 200 reply. Reads come from langchaingo's
// stream-reader goroutine while Close comes from the calling one, hence the lock and the atomic.
//
// For an Anthropic stream it also ends the body right after an "error" event, and reads after
// Close report io.EOF: langchaingo's reader goroutine keeps scanning after it has reported an
// error event, and blocks forever sending the next event or the read error of the closed body
// to a channel nobody reads any more (anthropicclient/messages.go, parseStreamingMessageResponse).
type teeBody struct {
	rc            io.ReadCloser
	w             *wire
	cutAfterError bool
	line          []byte // the current incomplete line, when cutAfterError
	ended         bool
	closed        atomic.Bool
}

func (t *teeBody) Read(p []byte) (int, error) {
	if t.ended || (t.cutAfterError && t.closed.Load()) {
		return 0, io.EOF
	}
	n, err := t.rc.Read(p)
	if t.cutAfterError {
		if err != nil && t.closed.Load() {
			err = io.EOF
		}
		if cut := t.errorEventEnd(p[:n]); cut >= 0 {
			n, err, t.ended = cut, io.EOF, true
		}
	}
	if n > 0 {
		t.w.mu.Lock()
		if !t.w.overflow {
			if len(t.w.body)+n > maxCapture {
				t.w.overflow, t.w.body = true, nil
			} else {
				t.w.body = append(t.w.body, p[:n]...)
			}
		}
		t.w.mu.Unlock()
	}
	return n, err
}

// errorEventEnd returns the offset in b just after the end of a "data:" line carrying an Anthropic
// error event, or -1.
func (t *teeBody) errorEventEnd(b []byte) int {
	start := 0
	for i, c := range b {
		if c != '\n' {
			continue
		}
		line := b[start:i]
		if len(t.line) > 0 {
			line = append(t.line, line...)
			t.line = t.line[:0]
		}
		if isErrorEvent(line) {
			return i + 1
		}
		start = i + 1
	}
	if len(t.line)+len(b)-start <= maxErrorBody { // longer lines are text, never error events
		t.line = append(t.line, b[start:]...)
	} else {
		t.line = t.line[:0]
	}
	return -1
}

func isErrorEvent(line []byte) bool {
	data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:"))
	if !ok || !bytes.Contains(data, []byte(`"error"`)) {
		return false
	}
	var ev struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(data, &ev) == nil && ev.Type == "error"
}

func (t *teeBody) Close() error {
	t.closed.Store(true)
	return t.rc.Close()
}

// apiError returns the *APIError for a non-200 reply the doer saw, or for an error event inside a
// 200 event stream; otherwise nil.
func (w *wire) apiError(provider string, err error) *APIError {
	w.mu.Lock()
	seen, doErr, status, header, errBody := w.seen, w.doErr, w.status, w.header, w.errBody
	w.mu.Unlock()
	if !seen || doErr != nil || status == 0 {
		return nil
	}
	if status != http.StatusOK {
		return newAPIError(provider, status, header, errBody, err)
	}
	if raw, ok := w.parsed(); ok && raw.streamErr != nil {
		return newAPIError(provider, status, header, raw.streamErr, err)
	}
	return nil
}

func (w *wire) transportError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.doErr
}

// parsed returns the raw reply, parsed once, when the doer captured all of a 200 reply. Call it
// only after the langchaingo call returned: its reader goroutine has then read all it will keep.
func (w *wire) parsed() (rawReply, bool) {
	w.once.Do(func() {
		w.mu.Lock()
		body, ok := w.body, w.seen && w.status == http.StatusOK && !w.overflow && w.doErr == nil
		w.mu.Unlock()
		if !ok {
			return
		}
		switch {
		case w.family == ProviderAnthropic && w.stream:
			w.raw, w.ok = parseAnthropicSSE(body)
		case w.family == ProviderAnthropic:
			w.raw, w.ok = parseAnthropicJSON(body)
		case w.stream:
			w.raw, w.ok = parseOpenAISSE(body)
		default:
			w.raw, w.ok = parseOpenAIJSON(body)
		}
	})
	return w.raw, w.ok
}

// ---- request rewriting ----

func rewriteOpenAI(body []byte, c *call) ([]byte, error) {
	o, err := decodeObject(body)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	return o.encode(), nil
}

func rewriteAnthropic(body []byte, c *call) ([]byte, error) {
	o, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if c.omitTemperature {
		o.del("temperature")
	}
	if err := o.editTools(c.schemas, func(tool *object, schema json.RawMessage) error {
		tool.set("input_schema", schema)
		return nil
	}); err != nil {
		return nil, err
	}
	if c.toolChoice != nil && o.get("tools") != nil {
		o.insertAfter("tools", "tool_choice", c.toolChoice)
	}
	if msgs := o.get("messages"); msgs != nil {
		fixed, err := fixAnthropicMessages(msgs, c)
		if err != nil {
			return nil, err
		}
		o.set("messages", fixed)
	}
	return o.encode(), nil
}

// fixAnthropicMessages joins consecutive messages of the same role into one (so parallel tool calls
// and their results travel as one assistant and one user turn, as the Messages API documents),
// puts the verbatim arguments into tool_use blocks and marks failed tool results with is_error.
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
				if blocks[i], err = fixAnthropicBlock(b, c); err != nil {
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
	out := make([]json.RawMessage, len(turns))
	for i, t := range turns {
		if t.blocks != nil {
			t.obj.set("content", encodeArray(t.blocks))
		}
		out[i] = t.obj.encode()
	}
	return encodeArray(out), nil
}

func fixAnthropicBlock(b json.RawMessage, c *call) (json.RawMessage, error) {
	if len(c.toolArgs) == 0 && len(c.toolErrors) == 0 {
		return b, nil
	}
	var head struct {
		Type      string `json:"type"`
		ID        string `json:"id"`
		ToolUseID string `json:"tool_use_id"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, err
	}
	switch {
	case head.Type == "tool_use" && c.toolArgs[head.ID] != "":
		obj, err := decodeObject(b)
		if err != nil {
			return nil, err
		}
		obj.set("input", json.RawMessage(c.toolArgs[head.ID]))
		return obj.encode(), nil
	case head.Type == "tool_result" && c.toolErrors[head.ToolUseID]:
		obj, err := decodeObject(b)
		if err != nil {
			return nil, err
		}
		obj.set("is_error", json.RawMessage("true"))
		return obj.encode(), nil
	}
	return b, nil
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
	toolCalls []llm.ToolCall    // OpenAI stream: tool calls assembled by index; nil otherwise
	args      map[string]string // Anthropic: tool_use id -> input, verbatim
	empty     bool              // Anthropic: the message has no content blocks
	usage     llm.Usage         // Anthropic: usage, for an empty reply
	streamErr json.RawMessage   // an error event in a stream: its data, {"error": {...}}
}

// sseData yields the payload of each "data:" line of an event stream.
func sseData(body []byte, fn func(data []byte) bool) {
	for line := range bytes.Lines(body) {
		line = bytes.TrimSpace(line)
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			return
		}
		if !fn(data) {
			return
		}
	}
}

func parseOpenAIJSON(body []byte) (rawReply, bool) {
	var r struct {
		Model string `json:"model"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return rawReply{}, false
	}
	return rawReply{model: r.Model}, true
}

// parseOpenAISSE assembles the first choice's tool calls from chat-completion chunks: fragments
// with the same index belong to one call (id and name on its first fragment, arguments to
// concatenate). A fragment without index starts a new call when it has an id, else continues the
// last one.
func parseOpenAISSE(body []byte) (rawReply, bool) {
	var r rawReply
	type frag struct {
		Index    *int   `json:"index"`
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	type event struct {
		Model   string `json:"model"`
		Choices []struct {
			Index int `json:"index"`
			Delta struct {
				ToolCalls []frag `json:"tool_calls"`
			} `json:"delta"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Error json.RawMessage `json:"error"`
	}
	calls := []llm.ToolCall{}
	byIndex := map[int]int{}
	sseData(body, func(data []byte) bool {
		var ev event
		if json.Unmarshal(data, &ev) != nil {
			return true // langchaingo skips such lines too
		}
		if len(ev.Error) > 0 && string(ev.Error) != "null" { // langchaingo ignores these
			r.streamErr = bytes.Clone(data)
			return false
		}
		if r.model == "" {
			r.model = ev.Model
		}
		for _, ch := range ev.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.FinishReason != "" {
				r.stop = ch.FinishReason
			}
			for _, f := range ch.Delta.ToolCalls {
				pos := -1
				switch {
				case f.Index != nil:
					if p, ok := byIndex[*f.Index]; ok {
						pos = p
					} else {
						byIndex[*f.Index] = len(calls)
					}
				case f.ID == "" && len(calls) > 0:
					pos = len(calls) - 1
				}
				if pos < 0 {
					calls = append(calls, llm.ToolCall{})
					pos = len(calls) - 1
				}
				tc := &calls[pos]
				if tc.ID == "" {
					tc.ID = f.ID
				}
				if tc.Name == "" {
					tc.Name = f.Function.Name
				}
				tc.Arguments += f.Function.Arguments
			}
		}
		return true
	})
	if len(calls) > 0 {
		r.toolCalls = calls
	}
	return r, true
}

type anthropicUsage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// merge overwrites the counts u reports into dst (a stream reports input tokens at the start and
// output tokens at the end).
func (u *anthropicUsage) merge(dst *anthropicUsage) {
	if u == nil {
		return
	}
	for _, p := range []struct{ src, dst **int }{
		{&u.InputTokens, &dst.InputTokens}, {&u.OutputTokens, &dst.OutputTokens},
		{&u.CacheCreationInputTokens, &dst.CacheCreationInputTokens}, {&u.CacheReadInputTokens, &dst.CacheReadInputTokens},
	} {
		if *p.src != nil {
			*p.dst = *p.src
		}
	}
}

func (u anthropicUsage) usage() llm.Usage {
	v := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	read := v(u.CacheReadInputTokens)
	return llm.Usage{
		InputTokens:       v(u.InputTokens) + v(u.CacheCreationInputTokens) + read,
		OutputTokens:      v(u.OutputTokens),
		CachedInputTokens: read,
	}
}

func parseAnthropicJSON(body []byte) (rawReply, bool) {
	var m struct {
		Model      string `json:"model"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type  string          `json:"type"`
			ID    string          `json:"id"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		Usage anthropicUsage `json:"usage"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return rawReply{}, false
	}
	r := rawReply{model: m.Model, stop: m.StopReason, empty: len(m.Content) == 0, usage: m.Usage.usage(), args: map[string]string{}}
	for _, b := range m.Content {
		if b.Type == "tool_use" && b.ID != "" && len(b.Input) > 0 {
			r.args[b.ID] = string(b.Input)
		}
	}
	return r, true
}

func parseAnthropicSSE(body []byte) (rawReply, bool) {
	type block struct {
		id    string
		input string
		delta strings.Builder
	}
	type event struct {
		Type    string `json:"type"`
		Index   int    `json:"index"`
		Message struct {
			Model string          `json:"model"`
			Usage *anthropicUsage `json:"usage"`
		} `json:"message"`
		ContentBlock struct {
			Type  string          `json:"type"`
			ID    string          `json:"id"`
			Input json.RawMessage `json:"input"`
		} `json:"content_block"`
		Delta struct {
			Type        string `json:"type"`
			PartialJSON string `json:"partial_json"`
			StopReason  string `json:"stop_reason"`
		} `json:"delta"`
		Usage *anthropicUsage `json:"usage"`
	}
	var r rawReply
	var usage anthropicUsage
	blocks := map[int]*block{}
	var order []int
	count := 0
	ok := true
	sseData(body, func(data []byte) bool {
		var ev event
		if err := json.Unmarshal(data, &ev); err != nil {
			ok = false
			return false
		}
		switch ev.Type {
		case "message_start":
			r.model = ev.Message.Model
			ev.Message.Usage.merge(&usage)
		case "content_block_start":
			count++
			if ev.ContentBlock.Type == "tool_use" {
				blocks[ev.Index] = &block{id: ev.ContentBlock.ID, input: string(ev.ContentBlock.Input)}
				order = append(order, ev.Index)
			}
		case "content_block_delta":
			if b := blocks[ev.Index]; b != nil && ev.Delta.Type == "input_json_delta" {
				b.delta.WriteString(ev.Delta.PartialJSON)
			}
		case "error":
			r.streamErr = bytes.Clone(data)
			return false
		case "message_delta":
			if ev.Delta.StopReason != "" {
				r.stop = ev.Delta.StopReason
			}
			ev.Usage.merge(&usage)
		}
		return true
	})
	if !ok {
		return rawReply{}, false
	}
	r.empty, r.usage, r.args = count == 0, usage.usage(), map[string]string{}
	for _, i := range order {
		b := blocks[i]
		args := b.delta.String()
		if strings.TrimSpace(args) == "" {
			args = b.input
		}
		if args == "" {
			args = "{}"
		}
		r.args[b.id] = args
	}
	return r, true
}
