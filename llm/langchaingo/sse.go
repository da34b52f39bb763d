package langchaingo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/autogpt-go/agent/llm"
)

// This file reads streamed replies. The HTTP layer reads a streamed reply itself, passes its text
// to the streaming callback as it arrives, checks that the stream ended properly, and hands
// langchaingo the equivalent non-streaming reply (see wire.receive). langchaingo's own stream
// readers are not used by the models this package builds: they read with a bufio.Scanner, whose
// 64 KiB line limit fails any longer event; they assemble text and tool-call arguments by string
// concatenation, quadratic in the reply's size; and they accept a stream that ends without its
// terminator as a complete answer.

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

// lineReader splits an event stream into lines of any length (the caller bounds the body's size).
type lineReader struct {
	br   *bufio.Reader
	line []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 32<<10)} // r itself if it is such a reader
}

// next returns the next line without its line feed or CRLF, valid until the following call. cut
// reports a last line that the body ended without a line feed. At the end of the body it returns
// io.EOF.
func (l *lineReader) next() (line []byte, cut bool, err error) {
	l.line = l.line[:0]
	for {
		frag, err := l.br.ReadSlice('\n')
		l.line = append(l.line, frag...)
		switch {
		case err == nil:
			line = bytes.TrimSuffix(l.line[:len(l.line)-1], []byte("\r"))
			return line, false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(l.line) == 0 {
				return nil, false, io.EOF
			}
			return l.line, true, nil
		default:
			return nil, false, err
		}
	}
}

// dataField returns the value of a "data:" line (the field name, then spaces, trimmed), or false
// for any other line: comments, "event:", "id:", "retry:", blank lines.
func dataField(line []byte) ([]byte, bool) {
	data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:"))
	if !ok {
		return nil, false
	}
	return bytes.TrimSpace(data), true
}

// streamReader is the state of one streamed reply, fed the data of each event in turn.
type streamReader interface {
	// event handles the data of one event and returns the assistant text it carries, if any. It
	// returns errErrorEvent for an error event (the reply then has streamErr set).
	event(data []byte) (text string, err error)
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

// readStream reads an event stream to its end (or its terminator), calling onText with each piece
// of assistant text as it arrives.
func readStream(body io.Reader, s streamReader, onText func(string) error) error {
	lines := newLineReader(body)
	for !s.ended() {
		line, cut, err := lines.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) { // the connection ended inside the body
			if s.complete() {
				break // after the terminator (OpenAI: a finish_reason, before the usage chunk)
			}
			return fmt.Errorf("%w: %s; the connection closed early (%w)", ErrIncompleteResponse, s.received(), err)
		}
		if err != nil {
			return err
		}
		data, ok := dataField(line)
		if !ok {
			continue
		}
		if cut && string(data) != "[DONE]" && !json.Valid(data) {
			break // the body ended inside an event
		}
		text, err := s.event(data)
		if err != nil {
			return err
		}
		if text != "" {
			if err := onText(text); err != nil {
				return err
			}
		}
	}
	if !s.complete() {
		return fmt.Errorf("%w: %s", ErrIncompleteResponse, s.received())
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ---- OpenAI chat-completion chunks ----

// openAIStream assembles chat-completion chunks (the first choice only, as langchaingo does). Tool
// calls are assembled by index: fragments with the same index belong to one call (id and name on
// its first fragment, arguments to concatenate). A fragment without index starts a new call when
// it has an id, else continues the last one (some compatible servers omit the index).
type openAIStream struct {
	id, model string
	events    int
	choice    bool // some event carried the first choice
	done      bool // "data: [DONE]"
	finish    string
	text      strings.Builder
	reasoning strings.Builder
	fnName    string
	fnArgs    strings.Builder
	hasFn     bool
	calls     []*openAICall
	byIndex   map[int]int
	usage     json.RawMessage
	streamErr json.RawMessage
}

type openAICall struct {
	id, name string
	args     strings.Builder
}

type openAIFrag struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type openAIChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content          string       `json:"content"`
			ReasoningContent string       `json:"reasoning_content"`
			ToolCalls        []openAIFrag `json:"tool_calls"`
			FunctionCall     *struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function_call"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
	Error json.RawMessage `json:"error"`
}

func newOpenAIStream() *openAIStream { return &openAIStream{byIndex: map[int]int{}} }

func (s *openAIStream) event(data []byte) (string, error) {
	if string(data) == "[DONE]" {
		s.done = true
		return "", nil
	}
	var ev openAIChunk
	if json.Unmarshal(data, &ev) != nil {
		return "", nil // langchaingo skips data that is not JSON too: some servers send such lines
	}
	s.events++
	if len(ev.Error) > 0 && string(ev.Error) != "null" {
		s.streamErr = bytes.Clone(data)
		return "", errErrorEvent
	}
	if s.id == "" {
		s.id = ev.ID
	}
	if s.model == "" {
		s.model = ev.Model
	}
	if len(ev.Usage) > 0 && ev.Usage[0] == '{' {
		s.usage = ev.Usage
	}
	var text string
	for _, ch := range ev.Choices {
		if ch.Index != 0 {
			continue
		}
		s.choice = true
		if ch.FinishReason != "" {
			s.finish = ch.FinishReason
		}
		text += ch.Delta.Content
		s.text.WriteString(ch.Delta.Content)
		s.reasoning.WriteString(ch.Delta.ReasoningContent)
		if fc := ch.Delta.FunctionCall; fc != nil {
			s.hasFn = true
			if s.fnName == "" {
				s.fnName = fc.Name
			}
			s.fnArgs.WriteString(fc.Arguments)
		}
		for _, f := range ch.Delta.ToolCalls {
			s.toolFragment(f)
		}
	}
	return text, nil
}

func (s *openAIStream) toolFragment(f openAIFrag) {
	pos := -1
	switch {
	case f.Index != nil:
		if p, ok := s.byIndex[*f.Index]; ok {
			pos = p
		} else {
			s.byIndex[*f.Index] = len(s.calls)
		}
	case f.ID == "" && len(s.calls) > 0:
		pos = len(s.calls) - 1
	}
	if pos < 0 {
		s.calls = append(s.calls, &openAICall{})
		pos = len(s.calls) - 1
	}
	tc := s.calls[pos]
	if tc.id == "" {
		tc.id = f.ID
	}
	if tc.name == "" {
		tc.name = f.Function.Name
	}
	tc.args.WriteString(f.Function.Arguments)
}

func (s *openAIStream) ended() bool { return s.done }

// complete: either terminator will do, as some compatible servers omit one or the other.
func (s *openAIStream) complete() bool { return s.done || s.finish != "" }

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

// reply returns the chat.completion object the stream amounts to: one choice, or none when no
// event carried one.
func (s *openAIStream) reply() (rawReply, []byte, error) {
	r := rawReply{model: s.model, stop: s.finish, noChoices: !s.choice, streamErr: s.streamErr}
	type function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type toolCall struct {
		ID       string   `json:"id"`
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	type message struct {
		Role             string     `json:"role"`
		Content          string     `json:"content"`
		ReasoningContent string     `json:"reasoning_content,omitempty"`
		ToolCalls        []toolCall `json:"tool_calls,omitempty"`
		FunctionCall     *function  `json:"function_call,omitempty"`
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
		msg := message{Role: "assistant", Content: s.text.String(), ReasoningContent: s.reasoning.String()}
		for _, c := range s.calls {
			tc := toolCall{ID: c.id, Type: "function", Function: function{Name: c.name, Arguments: c.args.String()}}
			msg.ToolCalls = append(msg.ToolCalls, tc)
			r.toolCalls = append(r.toolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		// langchaingo dereferences the function call of a reply that finished with "function_call".
		if s.hasFn || s.finish == "function_call" {
			msg.FunctionCall = &function{Name: s.fnName, Arguments: s.fnArgs.String()}
		}
		out.Choices = append(out.Choices, choice{Message: msg, FinishReason: s.finish})
	}
	body, err := json.Marshal(out)
	return r, body, err
}

// ---- Anthropic message events ----

// anthropicStream assembles Messages API events into the message they describe.
type anthropicStream struct {
	events    int
	msg       object // message_start's message, without content
	model     string
	usage     anthropicUsage
	stop      json.RawMessage // stop_reason
	stopSeq   json.RawMessage // stop_sequence
	blocks    []*anthropicBlock
	byIndex   map[int]*anthropicBlock
	done      bool // message_stop
	streamErr json.RawMessage
}

type anthropicBlock struct {
	start         object // the content_block of content_block_start
	typ, id, name string
	text          strings.Builder
	input         strings.Builder // input_json_delta
	thinking      strings.Builder
	signature     strings.Builder
}

type anthropicEvent struct {
	Type         string          `json:"type"`
	Index        *int            `json:"index"`
	Message      json.RawMessage `json:"message"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        struct {
		Type         string          `json:"type"`
		Text         string          `json:"text"`
		PartialJSON  string          `json:"partial_json"`
		Thinking     string          `json:"thinking"`
		Signature    string          `json:"signature"`
		StopReason   json.RawMessage `json:"stop_reason"`
		StopSequence json.RawMessage `json:"stop_sequence"`
	} `json:"delta"`
	Usage *anthropicUsage `json:"usage"`
}

func newAnthropicStream() *anthropicStream {
	return &anthropicStream{byIndex: map[int]*anthropicBlock{}}
}

var errMalformedEvent = errors.New("malformed event in the response stream")

func (s *anthropicStream) event(data []byte) (string, error) {
	var ev anthropicEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return "", fmt.Errorf("%w: %w", errMalformedEvent, err)
	}
	s.events++
	switch ev.Type {
	case "message_start":
		msg, err := decodeObject(ev.Message)
		if err != nil {
			return "", fmt.Errorf("%w: message_start: %w", errMalformedEvent, err)
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
			return "", fmt.Errorf("%w: content_block_start without index or block", errMalformedEvent)
		}
		var head struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		_ = json.Unmarshal(ev.ContentBlock, &head)
		b := &anthropicBlock{start: start, typ: head.Type, id: head.ID, name: head.Name}
		if s.byIndex[*ev.Index] != nil {
			return "", fmt.Errorf("%w: block %d started twice", errMalformedEvent, *ev.Index)
		}
		s.byIndex[*ev.Index] = b
		s.blocks = append(s.blocks, b)
	case "content_block_delta":
		if ev.Index == nil || s.byIndex[*ev.Index] == nil {
			return "", fmt.Errorf("%w: delta for a block that did not start", errMalformedEvent)
		}
		b := s.byIndex[*ev.Index]
		switch ev.Delta.Type {
		case "text_delta":
			b.text.WriteString(ev.Delta.Text)
			return ev.Delta.Text, nil
		case "input_json_delta":
			b.input.WriteString(ev.Delta.PartialJSON)
		case "thinking_delta":
			b.thinking.WriteString(ev.Delta.Thinking)
		case "signature_delta":
			b.signature.WriteString(ev.Delta.Signature)
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
		return "", errErrorEvent
	}
	// content_block_stop, ping and event types added later carry nothing to keep.
	return "", nil
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

// reply returns the message the events describe, as the non-streaming Messages API returns it.
func (s *anthropicStream) reply() (rawReply, []byte, error) {
	var stop string
	_ = json.Unmarshal(s.stop, &stop)
	r := rawReply{model: s.model, stop: stop, empty: len(s.blocks) == 0, usage: s.usage.usage(),
		args: map[string]string{}, streamErr: s.streamErr}
	content := make([]json.RawMessage, 0, len(s.blocks))
	for _, b := range s.blocks {
		obj := b.start
		switch b.typ {
		case "text":
			obj.set("text", jsonString(b.text.String()))
		case "thinking":
			obj.set("thinking", jsonString(b.thinking.String()))
			if b.signature.Len() > 0 {
				obj.set("signature", jsonString(b.signature.String()))
			}
		case "tool_use":
			args := b.input.String()
			if strings.TrimSpace(args) == "" {
				args = string(obj.get("input"))
			}
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			if !json.Valid([]byte(args)) {
				return rawReply{}, nil, fmt.Errorf("%w: the input of tool call %q is not valid JSON", errMalformedEvent, b.id)
			}
			r.args[b.id] = args
			obj.set("input", json.RawMessage(args))
		}
		content = append(content, obj.encode())
	}
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
