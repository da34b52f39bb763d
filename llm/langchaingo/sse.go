package langchaingo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/autogpt-go/agent/llm"
)

// This file reads streamed replies. The HTTP layer reads a streamed reply itself, passes its text
// deltas and tool-call fragments to the streaming callback as they arrive, checks that the stream
// ended properly, and hands langchaingo the equivalent non-streaming reply (see wire.receive).
// langchaingo's own stream readers are not used by the models this package builds: they read with
// a bufio.Scanner, whose 64 KiB line limit fails any longer event; they assemble text and
// tool-call arguments by string concatenation, quadratic in the reply's size; the OpenAI one
// appends every fragment to the last call and starts a new call at every fragment that repeats
// "type": "function"; their JSON decoding turns a character split between two events into
// U+FFFD; and they accept a stream that ends without its terminator as a complete answer.

// capReader fails the read that would take more than limit bytes from r in all.
type capReader struct {
	r     io.Reader
	limit int64
	read  int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.read > c.limit {
		return 0, c.err()
	}
	if rest := c.limit - c.read + 1; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read > c.limit {
		return 0, c.err()
	}
	return n, err
}

func (c *capReader) err() error {
	return fmt.Errorf("%w: the reply exceeds %d bytes (see WithMaxResponseBytes)", ErrResponseTooLarge, c.limit)
}

// The event stream format is read as the WHATWG HTML standard specifies it ("Server-sent events",
// section 9.2.6, Interpreting an event stream: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
// a UTF-8 byte order mark at the start of the stream is dropped; lines end with CRLF, LF or CR; a
// line starting with a colon is a comment; any other line is a field, its name up to the first
// colon and its value after it (one space after the colon removed); the values of the "data"
// lines of an event are joined with a line feed; "event" names the event; a blank line dispatches
// the event (an event without data lines is not dispatched); "id", "retry" and unknown fields
// are ignored. One deviation: the spec discards an event the body ends inside, before its blank
// line; such a last event is dispatched when its data is complete ("[DONE]" or valid JSON), as
// some servers close the stream without the final blank line, and dropped otherwise (the
// stream is then complete only if its terminator came before).

// lineReader splits an event stream into lines of any length (the caller bounds the body's size).
type lineReader struct {
	r          io.Reader
	buf        []byte // buffered bytes: buf[start:end]
	start, end int
	scanned    int   // bytes of buf[start:end] known to hold no line end
	err        error // the error that ended reading r; reported once buf is consumed
	skipLF     bool  // the last line ended with CR: a LF right after it belongs to that line end
	bomDone    bool  // the start of the stream was checked for a byte order mark
}

// readSize is the initial buffer size; a read from the body has at least half of it to fill.
// The body itself is buffered (see wire.receive), so small reads cost no system calls.
const readSize = 8 << 10

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: r, buf: make([]byte, readSize)}
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// next returns the next line without its line end (CRLF, LF or CR), valid until the following
// call. The last line of a body that does not end with a line end is returned as a line too.
// At the end of the body it returns io.EOF, or the error that ended the body.
func (l *lineReader) next() ([]byte, error) {
	for {
		data := l.buf[l.start:l.end]
		if l.skipLF && len(data) > 0 {
			l.skipLF = false
			if data[0] == '\n' {
				l.start++
				data = data[1:]
			}
		}
		if !l.bomDone && (len(data) >= len(utf8BOM) || !bytes.HasPrefix(utf8BOM, data) || l.err != nil) {
			l.bomDone = true
			if bytes.HasPrefix(data, utf8BOM) {
				l.start += len(utf8BOM)
				data = data[len(utf8BOM):]
			}
		}
		if l.bomDone {
			if i := lineEnd(data[l.scanned:]); i >= 0 {
				i += l.scanned
				l.skipLF = data[i] == '\r'
				l.start += i + 1
				l.scanned = 0
				return data[:i], nil
			}
			l.scanned = len(data)
		}
		if l.err != nil {
			if len(data) > 0 {
				l.start, l.scanned = l.end, 0
				return data, nil
			}
			return nil, l.err
		}
		l.fill()
	}
}

// blankNext reports whether the line after the one next returned is blank and already read
// into the buffer (so the bytes of the line next returned stay in place until next is called).
func (l *lineReader) blankNext() bool {
	data := l.buf[l.start:l.end]
	if l.skipLF && len(data) > 0 && data[0] == '\n' {
		data = data[1:]
	}
	return len(data) > 0 && (data[0] == '\n' || data[0] == '\r')
}

// dataField returns the value of line when it is a "data" field.
func dataField(line []byte) ([]byte, bool) {
	value, ok := bytes.CutPrefix(line, []byte("data:"))
	if ok && len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return value, ok
}

// lineEnd returns the index of the first CR or LF in b, or -1.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	if i == len(b) {
		return -1
	}
	return i
}

// fill reads more of the body into the buffer, moving the unread bytes to its start or growing it
// (doubling: a line costs time linear in its length).
func (l *lineReader) fill() {
	if l.start > 0 {
		l.end = copy(l.buf, l.buf[l.start:l.end])
		l.start = 0
	}
	if len(l.buf)-l.end < readSize/2 {
		grown := make([]byte, 2*len(l.buf))
		copy(grown, l.buf[:l.end])
		l.buf = grown
	}
	n, err := l.r.Read(l.buf[l.end:])
	l.end += n
	if err != nil {
		l.err = err
	}
}

// sseEvent gathers the fields of one event until the blank line that dispatches it.
type sseEvent struct {
	name    []byte // the "event" field: the event type, "" for the default ("message")
	data    []byte // the "data" lines' values joined with line feeds
	hasData bool   // a "data" line came (its value may be empty)
}

// field handles one non-blank line of the stream.
func (e *sseEvent) field(line []byte) {
	if line[0] == ':' {
		return // a comment (keep-alive)
	}
	name, value, found := bytes.Cut(line, []byte(":"))
	if found && len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	switch string(name) {
	case "data":
		if e.hasData {
			e.data = append(e.data, '\n')
		}
		e.data = append(e.data, value...)
		e.hasData = true
	case "event":
		e.name = append(e.name[:0], value...)
	}
	// "id", "retry" and other fields carry nothing this reader needs.
}

func (e *sseEvent) reset() {
	e.name, e.data, e.hasData = e.name[:0], e.data[:0], false
}

// completeData reports whether data, the data of an event the body ended inside, is whole: the
// OpenAI terminator or valid JSON.
func completeData(data []byte) bool {
	return isDone(data) || json.Valid(data)
}

// isDone reports whether data is OpenAI's terminator, "[DONE]" (white space around it allowed).
func isDone(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "[DONE]"
}

// looksJSON reports whether data starts (after white space) like a JSON object or array: data
// that does and does not decode is a malformed event, not keep-alive text.
func looksJSON(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}

// delta is one piece of a streamed reply for the streaming callback: assistant text, or (when tool
// is not nil) a fragment of a tool call.
type delta struct {
	text string
	tool *llm.ToolCallDelta
}

// streamReader is the state of one streamed reply, fed the data of each event in turn.
type streamReader interface {
	// event handles the data of one event and returns the deltas it releases, in order (the
	// slice is valid until the next call). It returns errErrorEvent for an error event (the reply
	// then has streamErr set), and an error matching errMalformedEvent for data it cannot read.
	event(data []byte) ([]delta, error)
	// errorEvent handles an event named "error" (event: error), whatever its data: it sets the
	// reply's streamErr and returns errErrorEvent.
	errorEvent(data []byte) error
	// finish releases what was held back (incomplete UTF-8 at the end of a piece of text or of
	// arguments, the arguments of a tool call that sent none): called once the stream is complete.
	// Later calls return nothing.
	finish() []delta
	// ended reports that the stream's terminator arrived: nothing that follows it is read.
	ended() bool
	// complete reports whether what arrived so far is a whole reply.
	complete() bool
	// received describes what arrived, for the error of an incomplete stream.
	received() string
	// reply returns what the fixes need from the reply and the equivalent non-streaming body.
	reply() (rawReply, []byte, error)
}

var errErrorEvent = errors.New("error event in the response stream")

// errMalformedEvent is matched by the error of an event whose data cannot be read: data that
// starts like JSON but is not valid JSON (a truncated event) or not an event of the provider's
// format. Part of the reply is lost, so it matches ErrIncompleteResponse too.
var errMalformedEvent = fmt.Errorf("%w: malformed event in the response stream", ErrIncompleteResponse)

// readStream reads an event stream to its end (or its terminator), calling onDelta with each
// piece of assistant text and each tool-call fragment as it arrives, and with what the stream
// held back once the stream is complete.
func readStream(body io.Reader, s streamReader, onDelta func(delta) error) error {
	lines := newLineReader(body)
	var ev sseEvent
	var bodyErr error
	for !s.ended() {
		line, err := lines.next()
		if err != nil {
			bodyErr = err
			break
		}
		if len(line) > 0 {
			if value, ok := dataField(line); ok && !ev.hasData && lines.blankNext() {
				// The event's only data line, and the blank line that ends it is already read:
				// dispatch the data where it lies, without a copy (an event may be long).
				buf := ev.data
				ev.data, ev.hasData = value, true
				err := dispatch(s, &ev, onDelta)
				ev.data = buf[:0]
				if err != nil {
					return err
				}
				continue // the blank line that follows dispatches nothing
			}
			ev.field(line)
			continue
		}
		if err := dispatch(s, &ev, onDelta); err != nil {
			return err
		}
	}
	ended := errors.Is(bodyErr, io.EOF) || errors.Is(bodyErr, io.ErrUnexpectedEOF)
	if ended && !s.ended() && ev.hasData && (string(ev.name) == "error" || completeData(ev.data)) {
		// The body ended inside an event, before its blank line, but its data is whole.
		if err := dispatch(s, &ev, onDelta); err != nil {
			return err
		}
	}
	switch {
	case bodyErr == nil || errors.Is(bodyErr, io.EOF) || s.complete() && errors.Is(bodyErr, io.ErrUnexpectedEOF):
		// the end of the body, or (OpenAI) the connection ended after a finish_reason
	case errors.Is(bodyErr, io.ErrUnexpectedEOF): // the connection ended inside the body
		return fmt.Errorf("%w: %s; the connection closed early (%w)", ErrIncompleteResponse, s.received(), bodyErr)
	default:
		return bodyErr
	}
	if !s.complete() {
		return fmt.Errorf("%w: %s", ErrIncompleteResponse, s.received())
	}
	for _, d := range s.finish() {
		if err := onDelta(d); err != nil {
			return err
		}
	}
	return nil
}

// dispatch hands the event ev to s, passes on the deltas it releases and empties ev. An event
// without data lines is not dispatched.
func dispatch(s streamReader, ev *sseEvent, onDelta func(delta) error) error {
	if !ev.hasData {
		ev.reset()
		return nil
	}
	var deltas []delta
	var err error
	if string(ev.name) == "error" {
		err = s.errorEvent(ev.data)
	} else {
		deltas, err = s.event(ev.data)
	}
	ev.reset()
	if err != nil {
		return err
	}
	for _, d := range deltas {
		if err := onDelta(d); err != nil {
			return err
		}
	}
	return nil
}

// errorEventData returns what an error event's data becomes in rawReply.streamErr: the data as
// sent, or a message when there is none.
func errorEventData(data []byte) json.RawMessage {
	if len(bytes.TrimSpace(data)) == 0 {
		return json.RawMessage(`{"message":"an error event without data"}`)
	}
	return bytes.Clone(data)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ---- OpenAI chat-completion chunks ----

// openAIStream assembles chat-completion chunks (the first choice only, as langchaingo does).
//
// Tool calls are assembled by the fragments' index: fragments with the same index belong to one
// call (id and name on its first fragment, arguments to concatenate), except that a fragment whose
// id differs from the one the call at that index already has starts a new call (some compatible
// servers send every call with index 0). A fragment without index continues the last call unless
// it carries an id other than that call's (some compatible servers omit the index). Other fields
// of a fragment ("type": "function", repeated by some servers on every fragment) play no part, and
// a fragment that carries no id, no name and no arguments (null, or {"index": 0} alone) is
// ignored: it never starts a call. A legacy function_call (the functions API) is one more call,
// without id, started by its first fragment. Calls are numbered in the order they start: the
// number is the call's position in the reply and the Index of its deltas.
//
// Text and arguments are kept byte for byte as sent (see wireString) and released through a
// utf8Hold, so that a character split across two events arrives whole.
type openAIStream struct {
	id, model    string
	events       int
	choice       bool // some event carried the first choice
	done         bool // "data: [DONE]"
	finished     bool // finish ran
	finishReason string
	text         pieces
	textHold     utf8Hold
	fnCall       int // position in calls of the legacy function_call, -1 before it starts
	calls        []*openAICall
	byIndex      map[int]int // the provider's index -> position in calls of its latest call
	usage        json.RawMessage
	streamErr    json.RawMessage
	out          []delta
}

type openAICall struct {
	id, name string
	args     pieces
	hold     utf8Hold
}

type openAIFrag struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string     `json:"name"`
		Arguments wireString `json:"arguments"`
	} `json:"function"`
}

type openAIChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content      wireString   `json:"content"`
			ToolCalls    []openAIFrag `json:"tool_calls"`
			FunctionCall *struct {
				Name      string     `json:"name"`
				Arguments wireString `json:"arguments"`
			} `json:"function_call"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage  json.RawMessage `json:"usage"`
	Error  json.RawMessage `json:"error"`
	Object errorObject     `json:"object"`
}

// errorObject decodes an event's "object" member: true for "error", the error chunk of older
// vLLM servers ({"object": "error", "message": ..., "type": ..., "code": ...}). It allocates
// nothing for the usual "chat.completion.chunk".
type errorObject bool

// UnmarshalJSON sets o from b, the member's JSON value.
func (o *errorObject) UnmarshalJSON(b []byte) error {
	*o = string(b) == `"error"`
	return nil
}

func newOpenAIStream() *openAIStream { return &openAIStream{byIndex: map[int]int{}, fnCall: -1} }

func (s *openAIStream) event(data []byte) ([]delta, error) {
	s.out = s.out[:0]
	if isDone(data) {
		s.done = true
		return nil, nil
	}
	var ev openAIChunk
	if err := json.Unmarshal(data, &ev); err != nil {
		if !looksJSON(data) {
			return nil, nil // text that is not JSON: some servers send keep-alive lines as data
		}
		return nil, fmt.Errorf("%w: event %d (%s) is not a chat-completion chunk: %w", errMalformedEvent, s.events+1, plural(len(data), "byte"), err)
	}
	s.events++
	if len(ev.Error) > 0 && string(ev.Error) != "null" || ev.Object {
		s.streamErr = bytes.Clone(data)
		return nil, errErrorEvent
	}
	if s.id == "" {
		s.id = ev.ID
	}
	if s.model == "" {
		s.model = ev.Model
	}
	if len(ev.Usage) > 0 && ev.Usage[0] == '{' {
		s.usage = cleanOpenAIUsage(ev.Usage)
	}
	for _, ch := range ev.Choices {
		if ch.Index != 0 {
			continue
		}
		s.choice = true
		if ch.FinishReason != "" {
			s.finishReason = ch.FinishReason
		}
		if text := s.textHold.push(string(ch.Delta.Content)); text != "" {
			s.text.WriteString(text)
			s.out = append(s.out, delta{text: text})
		}
		if fc := ch.Delta.FunctionCall; fc != nil && (fc.Name != "" || fc.Arguments != "") {
			if s.fnCall < 0 {
				s.fnCall = s.startCall(nil)
			}
			s.addToCall(s.fnCall, "", fc.Name, fc.Arguments, false)
		}
		for _, f := range ch.Delta.ToolCalls {
			s.toolFragment(f)
		}
	}
	return s.out, nil
}

// toolFragment adds a tool-call fragment to its call and queues the delta it amounts to: one
// for every fragment that starts a call, and one for every later fragment that brings an id, a
// name or a complete piece of arguments. A fragment that carries nothing is ignored.
func (s *openAIStream) toolFragment(f openAIFrag) {
	if f.ID == "" && f.Function.Name == "" && f.Function.Arguments == "" {
		return
	}
	pos := -1
	last := len(s.calls) - 1
	switch {
	case f.Index != nil:
		if p, ok := s.byIndex[*f.Index]; ok && (f.ID == "" || s.calls[p].id == "" || s.calls[p].id == f.ID) {
			pos = p
		}
	case last >= 0 && last != s.fnCall && (f.ID == "" || s.calls[last].id == "" || s.calls[last].id == f.ID):
		pos = last
	}
	started := pos < 0
	if started {
		pos = s.startCall(f.Index)
	}
	s.addToCall(pos, f.ID, f.Function.Name, f.Function.Arguments, started)
}

// startCall adds a call, reached by the provider's index when index is not nil, and returns its
// position.
func (s *openAIStream) startCall(index *int) int {
	s.calls = append(s.calls, &openAICall{})
	pos := len(s.calls) - 1
	if index != nil {
		s.byIndex[*index] = pos
	}
	return pos
}

// addToCall adds a fragment's id, name and arguments to the call at pos and queues the delta
// they amount to (always one for a call that starts).
func (s *openAIStream) addToCall(pos int, id, name string, args wireString, started bool) {
	tc := s.calls[pos]
	d := &llm.ToolCallDelta{Index: pos}
	if tc.id == "" && id != "" {
		tc.id, d.ID = id, id
	}
	if tc.name == "" && name != "" {
		tc.name, d.Name = name, name
	}
	if piece := tc.hold.push(string(args)); piece != "" {
		tc.args.WriteString(piece)
		d.Arguments = piece
	}
	if started || d.ID != "" || d.Name != "" || d.Arguments != "" {
		s.out = append(s.out, delta{tool: d})
	}
}

func (s *openAIStream) finish() []delta {
	if s.finished {
		return nil
	}
	s.finished = true
	s.out = s.out[:0]
	if text := s.textHold.flush(); text != "" {
		s.text.WriteString(text)
		s.out = append(s.out, delta{text: text})
	}
	for i, c := range s.calls {
		if args := c.hold.flush(); args != "" {
			c.args.WriteString(args)
			s.out = append(s.out, delta{tool: &llm.ToolCallDelta{Index: i, Arguments: args}})
		}
	}
	return s.out
}

func (s *openAIStream) errorEvent(data []byte) error {
	s.events++
	s.streamErr = errorEventData(data)
	return errErrorEvent
}

func (s *openAIStream) ended() bool { return s.done }

// complete: either terminator will do, as some compatible servers omit one or the other.
func (s *openAIStream) complete() bool { return s.done || s.finishReason != "" }

func (s *openAIStream) received() string {
	var b strings.Builder
	fmt.Fprintf(&b, `event stream ended without "data: [DONE]" or a finish_reason after %s`, plural(s.events, "event"))
	var got []string
	if n := s.text.Len(); n > 0 {
		got = append(got, plural(n, "byte")+" of text")
	}
	for _, c := range s.calls {
		got = append(got, fmt.Sprintf("tool call %q with %s of arguments", c.name, plural(c.args.Len(), "byte")))
	}
	if len(got) > 0 {
		b.WriteString(" (received " + strings.Join(got, ", ") + ")")
	}
	return b.String()
}

// reply returns what the stream amounts to: the text and tool calls in the rawReply (the answer
// is built from them), and for langchaingo a chat.completion object with one choice, or none
// when no event carried one, that carries the rest: its content is left empty and its tool calls
// out, so that a long reply is not encoded and decoded once more.
func (s *openAIStream) reply() (rawReply, []byte, error) {
	s.finish()
	r := rawReply{model: s.model, stop: s.finishReason, noChoices: !s.choice, streamErr: s.streamErr}
	type function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type message struct {
		Role         string    `json:"role"`
		Content      string    `json:"content"`
		FunctionCall *function `json:"function_call,omitempty"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	}
	out := struct {
		ID      string          `json:"id"`
		Object  string          `json:"object"`
		Model   string          `json:"model"`
		Choices []choice        `json:"choices"`
		Usage   json.RawMessage `json:"usage,omitempty"`
	}{ID: s.id, Object: "chat.completion", Model: s.model, Choices: []choice{}, Usage: s.usage}
	if s.choice {
		r.text, r.hasText = s.text.String(), true
		for _, c := range s.calls {
			r.toolCalls = append(r.toolCalls, llm.ToolCall{ID: c.id, Name: c.name, Arguments: c.args.String()})
		}
		msg := message{Role: "assistant"}
		// langchaingo dereferences the function call of a reply that finished with "function_call".
		if s.finishReason == "function_call" {
			msg.FunctionCall = &function{}
		}
		out.Choices = append(out.Choices, choice{Message: msg, FinishReason: s.finishReason})
	}
	body, err := json.Marshal(out)
	return r, body, err
}

// ---- Anthropic message events ----

// anthropicStream assembles Messages API events into the message they describe. Tool calls are
// numbered in the order their tool_use blocks start: the number is the call's position in the
// reply and the Index of its deltas. Text, thinking and input JSON are kept byte for byte as sent
// (see wireString) and released through a utf8Hold per block; a block's held-back bytes are
// released when it stops (or the stream ends).
//
// The deltas match the message: text is released in block order (the text of a block that
// started while an earlier text block is still open waits until that one stops), so that the
// text deltas join to the message's content even when blocks interleave; a tool_use block's
// arguments placeholder (its start input, or {}) goes out only when the block stops without
// input deltas. A delta of the wrong type for its block (text_delta on a tool_use block,
// input_json_delta on a text block, ...) and a delta for a block already stopped are ignored,
// in the deltas and in the message alike.
type anthropicStream struct {
	events    int
	msg       object // message_start's message, without content
	model     string
	usage     anthropicUsage
	stop      json.RawMessage // stop_reason
	stopSeq   json.RawMessage // stop_sequence
	blocks    []*anthropicBlock
	byIndex   map[int]*anthropicBlock
	tools     int  // tool_use blocks started
	textNext  int  // position in blocks of the first block whose text may not all be out yet
	done      bool // message_stop
	finished  bool // finish ran
	streamErr json.RawMessage
	out       []delta
}

type anthropicBlock struct {
	start         object // the content_block of content_block_start
	typ, id, name string
	tool          int // tool_use: the call's position among the tool calls
	stopped       bool
	text          pieces
	textOut       int // bytes of text that went out in deltas
	textHold      utf8Hold
	input         pieces // input_json_delta
	inputHold     utf8Hold
	inputShown    bool // input has more than white space, and went out in deltas
	argsShown     bool // tool_use without input deltas: its arguments went out in a delta
	thinking      pieces
	thinkingHold  utf8Hold
	signature     strings.Builder
}

type anthropicEvent struct {
	Type         string          `json:"type"`
	Index        *int            `json:"index"`
	Message      json.RawMessage `json:"message"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        struct {
		Type         string          `json:"type"`
		Text         wireString      `json:"text"`
		PartialJSON  wireString      `json:"partial_json"`
		Thinking     wireString      `json:"thinking"`
		Signature    string          `json:"signature"`
		StopReason   json.RawMessage `json:"stop_reason"`
		StopSequence json.RawMessage `json:"stop_sequence"`
	} `json:"delta"`
	Usage *anthropicUsage `json:"usage"`
}

func newAnthropicStream() *anthropicStream {
	return &anthropicStream{byIndex: map[int]*anthropicBlock{}}
}

func (s *anthropicStream) event(data []byte) ([]delta, error) {
	s.out = s.out[:0]
	var ev anthropicEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%w: event %d (%s) is not a Messages API event: %w", errMalformedEvent, s.events+1, plural(len(data), "byte"), err)
	}
	s.events++
	switch ev.Type {
	case "message_start":
		msg, err := decodeObject(ev.Message)
		if err != nil {
			return nil, fmt.Errorf("%w: message_start: %w", errMalformedEvent, err)
		}
		var head struct {
			Model string          `json:"model"`
			Usage *anthropicUsage `json:"usage"`
		}
		_ = json.Unmarshal(ev.Message, &head)
		s.model = head.Model
		head.Usage.merge(&s.usage)
		msg.del("content")
		s.msg = msg
	case "content_block_start":
		start, err := decodeObject(ev.ContentBlock)
		if err != nil || ev.Index == nil {
			return nil, fmt.Errorf("%w: content_block_start without index or block", errMalformedEvent)
		}
		var head struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		_ = json.Unmarshal(ev.ContentBlock, &head)
		b := &anthropicBlock{start: start, typ: head.Type, id: head.ID, name: head.Name}
		if s.byIndex[*ev.Index] != nil {
			return nil, fmt.Errorf("%w: block %d started twice", errMalformedEvent, *ev.Index)
		}
		s.byIndex[*ev.Index] = b
		s.blocks = append(s.blocks, b)
		if b.typ == "tool_use" {
			b.tool = s.tools
			s.tools++
			s.out = append(s.out, delta{tool: &llm.ToolCallDelta{Index: b.tool, ID: b.id, Name: b.name}})
		}
	case "content_block_delta":
		if ev.Index == nil || s.byIndex[*ev.Index] == nil {
			return nil, fmt.Errorf("%w: delta for a block that did not start", errMalformedEvent)
		}
		b := s.byIndex[*ev.Index]
		if b.stopped {
			break // too late: the block's content is final
		}
		switch {
		case ev.Delta.Type == "text_delta" && b.typ == "text":
			b.text.WriteString(b.textHold.push(string(ev.Delta.Text)))
			s.pumpText()
		case ev.Delta.Type == "input_json_delta" && b.typ == "tool_use":
			s.addInput(b, b.inputHold.push(string(ev.Delta.PartialJSON)))
		case ev.Delta.Type == "thinking_delta" && b.typ == "thinking":
			b.thinking.WriteString(b.thinkingHold.push(string(ev.Delta.Thinking)))
		case ev.Delta.Type == "signature_delta" && b.typ == "thinking":
			b.signature.WriteString(ev.Delta.Signature)
		}
	case "content_block_stop":
		if ev.Index != nil && s.byIndex[*ev.Index] != nil {
			s.stopBlock(s.byIndex[*ev.Index])
		}
	case "message_delta":
		if len(ev.Delta.StopReason) > 0 {
			s.stop = ev.Delta.StopReason
		}
		if len(ev.Delta.StopSequence) > 0 {
			s.stopSeq = ev.Delta.StopSequence
		}
		ev.Usage.merge(&s.usage)
	case "message_stop":
		s.done = true
	case "error":
		s.streamErr = bytes.Clone(data)
		return nil, errErrorEvent
	}
	// ping and event types added later carry nothing to keep.
	return s.out, nil
}

// pumpText queues the text that may go out: the new text of the first text block not yet
// stopped, after the rest of the text of the blocks before it.
func (s *anthropicStream) pumpText() {
	for ; s.textNext < len(s.blocks); s.textNext++ {
		b := s.blocks[s.textNext]
		if b.typ != "text" {
			continue
		}
		if text := b.text.String(); len(text) > b.textOut {
			s.out = append(s.out, delta{text: text[b.textOut:]})
			b.textOut = len(text)
		}
		if !b.stopped {
			return
		}
	}
}

// addInput adds a piece of a tool_use block's input JSON. The pieces go out as deltas once the
// input has more than white space: input that is only white space is replaced by the block's
// start input, or {} (see anthropicBlock.args).
func (s *anthropicStream) addInput(b *anthropicBlock, piece string) {
	if piece == "" {
		return
	}
	b.input.WriteString(piece)
	switch {
	case b.inputShown:
		s.out = append(s.out, delta{tool: &llm.ToolCallDelta{Index: b.tool, Arguments: piece}})
	case strings.TrimSpace(piece) != "": // the first piece with more than white space
		b.inputShown = true
		s.out = append(s.out, delta{tool: &llm.ToolCallDelta{Index: b.tool, Arguments: b.input.String()}})
	}
}

// stopBlock ends block b (later deltas for it are ignored) and queues what it held back: the
// incomplete end of its text or input, the text it unblocks and, for a tool_use block whose
// input deltas were only white space (or none), its arguments.
func (s *anthropicStream) stopBlock(b *anthropicBlock) {
	if b.stopped {
		return
	}
	b.stopped = true
	b.text.WriteString(b.textHold.flush())
	if b.typ == "tool_use" {
		s.addInput(b, b.inputHold.flush())
		if !b.inputShown && !b.argsShown {
			b.argsShown = true
			s.out = append(s.out, delta{tool: &llm.ToolCallDelta{Index: b.tool, Arguments: b.args()}})
		}
	}
	b.thinking.WriteString(b.thinkingHold.flush())
	s.pumpText()
}

// args returns a tool_use block's arguments: its input deltas; when they are only white space,
// the input of content_block_start; when that is empty too, {}.
func (b *anthropicBlock) args() string {
	args := b.input.String()
	if strings.TrimSpace(args) == "" {
		args = string(b.start.get("input"))
	}
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	return args
}

func (s *anthropicStream) finish() []delta {
	if s.finished {
		return nil
	}
	s.finished = true
	s.out = s.out[:0]
	for _, b := range s.blocks {
		s.stopBlock(b)
	}
	return s.out
}

func (s *anthropicStream) errorEvent(data []byte) error {
	s.events++
	s.streamErr = errorEventData(data)
	return errErrorEvent
}

func (s *anthropicStream) ended() bool    { return s.done }
func (s *anthropicStream) complete() bool { return s.done }

func (s *anthropicStream) received() string {
	var b strings.Builder
	fmt.Fprintf(&b, "event stream ended without message_stop after %s", plural(s.events, "event"))
	var got []string
	for _, bl := range s.blocks {
		switch bl.typ {
		case "text":
			got = append(got, plural(bl.text.Len(), "byte")+" of text")
		case "tool_use":
			got = append(got, fmt.Sprintf("tool call %q with %s of input", bl.name, plural(bl.input.Len(), "byte")))
		default:
			got = append(got, "a "+bl.typ+" block")
		}
	}
	if len(got) > 0 {
		b.WriteString(" (received " + strings.Join(got, ", ") + ")")
	}
	return b.String()
}

// reply returns what the events describe: the text and tool calls in the rawReply (the answer is
// built from them), and for langchaingo the message as the non-streaming Messages API returns
// it, with its blocks in order but their text left empty and their input {}, so that a long
// reply is not encoded and decoded once more (and arguments that are not a JSON object, which
// langchaingo cannot decode, reach the answer all the same).
func (s *anthropicStream) reply() (rawReply, []byte, error) {
	s.finish()
	var stop string
	_ = json.Unmarshal(s.stop, &stop)
	r := rawReply{model: s.model, stop: stop, empty: len(s.blocks) == 0, usage: s.usage.usage(),
		streamErr: s.streamErr, hasText: true}
	var text pieces
	content := make([]json.RawMessage, 0, len(s.blocks))
	for _, b := range s.blocks {
		obj := b.start
		switch b.typ {
		case "text":
			text.WriteString(b.text.String())
			obj.set("text", json.RawMessage(`""`))
		case "thinking":
			obj.set("thinking", jsonString(b.thinking.String()))
			if b.signature.Len() > 0 {
				obj.set("signature", jsonString(b.signature.String()))
			}
		case "tool_use":
			r.toolCalls = append(r.toolCalls, llm.ToolCall{ID: b.id, Name: b.name, Arguments: b.args()})
			obj.set("input", json.RawMessage("{}"))
		}
		content = append(content, obj.encode())
	}
	r.text = text.String()
	msg := s.msg
	if msg == nil {
		msg = object{{"type", json.RawMessage(`"message"`)}, {"role", json.RawMessage(`"assistant"`)}}
	}
	msg.set("content", encodeArray(content))
	if s.stop != nil {
		msg.set("stop_reason", s.stop)
	}
	if s.stopSeq != nil {
		msg.set("stop_sequence", s.stopSeq)
	}
	usage, err := json.Marshal(s.usage)
	if err != nil {
		return rawReply{}, nil, err
	}
	msg.set("usage", usage)
	return r, msg.encode(), nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// pieces assembles a string from pieces, as a strings.Builder does, but keeps a string that
// arrives in one piece as it is, without a copy (a long reply may come in one event).
type pieces struct {
	one string // the only piece, while there is one
	b   strings.Builder
	n   int // pieces written
}

// WriteString appends s.
func (p *pieces) WriteString(s string) {
	if s == "" {
		return
	}
	switch p.n {
	case 0:
		p.one = s
	case 1:
		p.b.Grow(len(p.one) + len(s))
		p.b.WriteString(p.one)
		p.one = ""
		p.b.WriteString(s)
	default:
		p.b.WriteString(s)
	}
	p.n++
}

// String returns the pieces joined.
func (p *pieces) String() string {
	if p.n <= 1 {
		return p.one
	}
	return p.b.String()
}

// Len returns the length of the pieces joined.
func (p *pieces) Len() int {
	if p.n <= 1 {
		return len(p.one)
	}
	return p.b.Len()
}

// ---- text as the provider sent it ----

// Providers stream text in pieces that need not end on a character boundary: some
// OpenAI-compatible servers (llama.cpp's, for one) put the raw bytes of a partial UTF-8 sequence in
// an event's JSON string and the rest in the next event's, and a character outside the Basic
// Multilingual Plane may be sent as an escaped UTF-16 surrogate pair split across two events
// ("\ud83d" ending one event's string, "\ude00" starting the next). encoding/json would turn
// each half into U+FFFD. So the stream readers decode the strings that carry text and arguments
// as wireString, which keeps the bytes as sent (a lone escaped surrogate becomes its three-byte
// generalised UTF-8 form, as in WTF-8), and pass each piece through a utf8Hold, which releases
// only complete, valid UTF-8: a sequence split between two pieces is held back until it
// completes, and a surrogate pair split between two pieces is joined into its character.
//
// What never completes is replaced as encoding/json replaces it in a non-streamed reply: each
// byte of an invalid or unfinished UTF-8 sequence becomes U+FFFD, and so does each unpaired
// surrogate. (One difference: the raw bytes of a surrogate's three-byte form, which no valid UTF-8
// contains, are read as that surrogate, so a server that sends CESU-8 gets its characters back,
// where encoding/json would give three U+FFFD per surrogate.)

// wireString is a JSON string value decoded without loss: escapes are decoded, other bytes are
// kept as they are (invalid UTF-8 included), and an escaped surrogate that is not part of a pair
// is written in its three-byte generalised UTF-8 form. It is meant to go through a utf8Hold.
type wireString string

var errNotString = errors.New("not a JSON string")

// UnmarshalJSON decodes b, a JSON string literal that encoding/json has already checked (or
// null, which leaves s alone).
func (s *wireString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errNotString
	}
	b = b[1 : len(b)-1]
	i := bytes.IndexByte(b, '\\')
	if i < 0 { // the common case: no escapes
		*s = wireString(b)
		return nil
	}
	out := make([]byte, 0, len(b))
	for {
		out = append(out, b[:i]...)
		b = b[i:]
		if len(b) < 2 {
			return errNotString
		}
		switch c := b[1]; c {
		case '"', '\\', '/':
			out = append(out, c)
			b = b[2:]
		case 'b':
			out, b = append(out, '\b'), b[2:]
		case 'f':
			out, b = append(out, '\f'), b[2:]
		case 'n':
			out, b = append(out, '\n'), b[2:]
		case 'r':
			out, b = append(out, '\r'), b[2:]
		case 't':
			out, b = append(out, '\t'), b[2:]
		case 'u':
			r, ok := hex4(b[2:])
			if !ok {
				return errNotString
			}
			b = b[6:]
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && len(b) >= 6 && b[0] == '\\' && b[1] == 'u' {
					if lo, ok := hex4(b[2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						out = utf8.AppendRune(out, utf16.DecodeRune(r, lo))
						b = b[6:]
						break
					}
				}
				out = appendSurrogate(out, r)
				break
			}
			out = utf8.AppendRune(out, r)
		default:
			return errNotString
		}
		if i = bytes.IndexByte(b, '\\'); i < 0 {
			out = append(out, b...)
			break
		}
	}
	*s = wireString(out)
	return nil
}

// hex4 decodes the four hexadecimal digits that start b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendSurrogate appends the three-byte generalised UTF-8 form of the surrogate r (U+D800 to
// U+DFFF), which utf8.AppendRune refuses to write: ED A0..BF 80..BF.
func appendSurrogate(b []byte, r rune) []byte {
	return append(b, 0xED, 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
}

// utf8Hold turns a stream of byte pieces (wireString values) into pieces of valid UTF-8 whose
// concatenation is the valid form of the whole stream (see fixUTF8): push releases all but an
// incomplete sequence at the end, which it holds back until the next piece completes it or flush
// releases it, replaced.
type utf8Hold struct {
	held []byte
}

// push adds piece and returns what can be released.
func (h *utf8Hold) push(piece string) string {
	if len(h.held) == 0 && utf8.ValidString(piece) {
		return piece // valid UTF-8 ends on a character boundary and holds no surrogate
	}
	h.held = append(h.held, piece...)
	out, n := fixUTF8(h.held, false)
	h.held = h.held[:copy(h.held, h.held[n:])]
	return out
}

// flush returns what is held back, replaced, and empties h.
func (h *utf8Hold) flush() string {
	if len(h.held) == 0 {
		return ""
	}
	out, _ := fixUTF8(h.held, true)
	h.held = h.held[:0]
	return out
}

// fixUTF8 returns b as valid UTF-8 and the number of bytes of b it covers: a surrogate pair in
// generalised UTF-8 becomes its character; an unpaired surrogate U+FFFD; any other byte that does
// not start a valid sequence U+FFFD, as encoding/json does. Unless final, it stops before a
// sequence at the end of b that more bytes could complete (or, after a high surrogate, pair).
func fixUTF8(b []byte, final bool) (string, int) {
	out := make([]byte, 0, len(b)+8)
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		if c == 0xED && i+1 < len(b) && b[i+1] >= 0xA0 && b[i+1] <= 0xBF { // a surrogate: ED A0..BF 80..BF
			if i+2 == len(b) && !final {
				break // wait for the third byte
			}
			if hi, n := surrogateAt(b[i:]); n == 3 {
				if hi < 0xDC00 {
					lo, m := surrogateAt(b[i+3:])
					if m == 3 && lo >= 0xDC00 {
						out = utf8.AppendRune(out, utf16.DecodeRune(hi, lo))
						i += 6
						continue
					}
					if !final && m == 0 && surrogatePrefix(b[i+3:]) {
						break // the low surrogate may follow
					}
				}
				out = utf8.AppendRune(out, utf8.RuneError)
				i += 3
				continue
			}
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if !final && !utf8.FullRune(b[i:]) {
				break // the start of a sequence that more bytes may complete
			}
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
			continue
		}
		out = append(out, b[i:i+size]...)
		i += size
	}
	return string(out), i
}

// surrogateAt decodes the surrogate whose three-byte generalised UTF-8 form starts b: n is 3, or
// 0 when b does not start with one.
func surrogateAt(b []byte) (r rune, n int) {
	if len(b) < 3 || b[0] != 0xED || b[1] < 0xA0 || b[1] > 0xBF || b[2]&0xC0 != 0x80 {
		return 0, 0
	}
	return 0xD000 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F), 3
}

// surrogatePrefix reports whether b (shorter than three bytes) is empty or the start of a low
// surrogate's generalised UTF-8 form.
func surrogatePrefix(b []byte) bool {
	switch len(b) {
	case 0:
		return true
	case 1:
		return b[0] == 0xED
	case 2:
		return b[0] == 0xED && b[1] >= 0xB0 && b[1] <= 0xBF
	}
	return false
}
