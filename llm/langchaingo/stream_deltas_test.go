package langchaingo

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/autogpt-go/agent/llm"
)

// Tests of the deltas Stream yields for models built by this package's constructors: tool-call
// fragments interleaved with text, indexed by position in the final message, and text and
// arguments that stay valid UTF-8 however the provider splits a character. Every scenario is
// served twice from one description, as an event stream and as the equivalent JSON reply, and the
// two answers must be equal.

// ---- scenarios ----

// oaFrag is one tool-call fragment of an OpenAI scenario event.
type oaFrag struct {
	call     int    // the position of the call it belongs to in the final message (not sent)
	index    int    // the provider's index; -1 leaves it out
	id, name string // "" leaves them out
	args     string // the body of the arguments JSON string as sent: raw bytes and escapes
	noArgs   bool   // leave "arguments" out
	typ      bool   // send "type": "function"
}

// oaEvent is one chat.completion.chunk of a scenario: a piece of content, tool-call fragments or
// both.
type oaEvent struct {
	text  string // the body of the content JSON string as sent; "" leaves content out
	frags []oaFrag
}

type oaScenario struct {
	name   string
	events []oaEvent
	want   llm.Message // the final message
	deltas []llm.Chunk // if not nil, the exact deltas (text and tool-call fragments) to yield
}

// sse returns the scenario as the data of an event stream.
func (sc oaScenario) sse() []string {
	const head = `{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":`
	out := []string{head + `{"role":"assistant"},"finish_reason":null}]}`}
	for _, ev := range sc.events {
		var members []string
		if ev.text != "" {
			members = append(members, `"content":"`+ev.text+`"`)
		}
		if len(ev.frags) > 0 {
			var frags []string
			for _, f := range ev.frags {
				var m, fn []string
				if f.index >= 0 {
					m = append(m, fmt.Sprintf(`"index":%d`, f.index))
				}
				if f.id != "" {
					m = append(m, `"id":"`+f.id+`"`)
				}
				if f.typ {
					m = append(m, `"type":"function"`)
				}
				if f.name != "" {
					fn = append(fn, `"name":"`+f.name+`"`)
				}
				if !f.noArgs {
					fn = append(fn, `"arguments":"`+f.args+`"`)
				}
				m = append(m, `"function":{`+strings.Join(fn, ",")+`}`)
				frags = append(frags, "{"+strings.Join(m, ",")+"}")
			}
			members = append(members, `"tool_calls":[`+strings.Join(frags, ",")+`]`)
		}
		out = append(out, head+"{"+strings.Join(members, ",")+`},"finish_reason":null}]}`)
	}
	return append(out,
		head+`{},"finish_reason":"`+sc.finish()+`"}]}`,
		`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`,
		`[DONE]`)
}

func (sc oaScenario) finish() string {
	for _, ev := range sc.events {
		if len(ev.frags) > 0 {
			return "tool_calls"
		}
	}
	return "stop"
}

// json returns the scenario as a non-streamed chat.completion: the content is the concatenated
// content bodies, each call has the first id and name of its fragments and their concatenated
// arguments bodies.
func (sc oaScenario) json() string {
	var text strings.Builder
	type call struct {
		id, name string
		args     strings.Builder
	}
	var calls []*call
	for _, ev := range sc.events {
		text.WriteString(ev.text)
		for _, f := range ev.frags {
			for len(calls) <= f.call {
				calls = append(calls, &call{})
			}
			c := calls[f.call]
			if c.id == "" {
				c.id = f.id
			}
			if c.name == "" {
				c.name = f.name
			}
			c.args.WriteString(f.args)
		}
	}
	content := "null"
	if text.Len() > 0 {
		content = `"` + text.String() + `"`
	}
	msg := `{"role":"assistant","content":` + content
	if len(calls) > 0 {
		var tcs []string
		for _, c := range calls {
			tcs = append(tcs, `{"id":"`+c.id+`","type":"function","function":{"name":"`+c.name+`","arguments":"`+c.args.String()+`"}}`)
		}
		msg += `,"tool_calls":[` + strings.Join(tcs, ",") + `]`
	}
	return `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":` + msg +
		`},"finish_reason":"` + sc.finish() + `"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`
}

// anBlock is one content block of an Anthropic scenario.
type anBlock struct {
	typ      string // "text" or "tool_use"
	id, name string
	pieces   []string // the bodies of the text_delta or input_json_delta strings as sent
}

type anScenario struct {
	name       string
	blocks     []anBlock
	want       llm.Message
	deltas     []llm.Chunk
	streamOnly bool // no equivalent JSON reply exists (the input is not a JSON object)
}

func (sc anScenario) stop() string {
	for _, b := range sc.blocks {
		if b.typ == "tool_use" {
			return "tool_use"
		}
	}
	return "end_turn"
}

func (sc anScenario) sse() []string {
	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data }
	out := []string{ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"usage":{"input_tokens":9,"output_tokens":1}}}`)}
	for i, b := range sc.blocks {
		start, kind, field := `{"type":"text","text":""}`, "text_delta", "text"
		if b.typ == "tool_use" {
			start, kind, field = `{"type":"tool_use","id":"`+b.id+`","name":"`+b.name+`","input":{}}`, "input_json_delta", "partial_json"
		}
		out = append(out, ev("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":%s}`, i, start)))
		for _, p := range b.pieces {
			out = append(out, ev("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"%s","%s":"%s"}}`, i, kind, field, p)))
		}
		out = append(out, ev("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i)))
	}
	return append(out,
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"`+sc.stop()+`","stop_sequence":null},"usage":{"output_tokens":7}}`),
		ev("message_stop", `{"type":"message_stop"}`))
}

func (sc anScenario) json(t *testing.T) string {
	var content []string
	for _, b := range sc.blocks {
		body := strings.Join(b.pieces, "")
		if b.typ == "text" {
			content = append(content, `{"type":"text","text":"`+body+`"}`)
			continue
		}
		var input string
		require.NoError(t, json.Unmarshal([]byte(`"`+body+`"`), &input))
		if strings.TrimSpace(input) == "" {
			input = "{}"
		}
		content = append(content, `{"type":"tool_use","id":"`+b.id+`","name":"`+b.name+`","input":`+input+`}`)
	}
	return `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[` + strings.Join(content, ",") +
		`],"stop_reason":"` + sc.stop() + `","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":7}}`
}

func text(s string) llm.Chunk { return llm.Chunk{Text: s} }

func tool(index int, id, name, args string) llm.Chunk {
	return llm.Chunk{ToolCall: &llm.ToolCallDelta{Index: index, ID: id, Name: name, Arguments: args}}
}

func assistant(content string, calls ...llm.ToolCall) llm.Message {
	return llm.Message{Role: llm.RoleAssistant, Content: content, ToolCalls: calls}
}

var openAIScenarios = []oaScenario{{
	name: "interleaved parallel calls",
	events: []oaEvent{
		{text: "Checking."},
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "search", typ: true}}},
		{frags: []oaFrag{{call: 1, index: 1, id: "call_b", name: "now", typ: true}}},
		{frags: []oaFrag{{call: 0, index: 0, args: `{\"query\": `}}},
		{frags: []oaFrag{{call: 1, index: 1, args: `{}`}}},
		{text: " More.", frags: []oaFrag{{call: 0, index: 0, args: `\"go\"}`}}},
	},
	want: assistant("Checking. More.",
		llm.ToolCall{ID: "call_a", Name: "search", Arguments: `{"query": "go"}`},
		llm.ToolCall{ID: "call_b", Name: "now", Arguments: `{}`}),
	deltas: []llm.Chunk{
		text("Checking."), tool(0, "call_a", "search", ""), tool(1, "call_b", "now", ""),
		tool(0, "", "", `{"query": `), tool(1, "", "", `{}`), text(" More."), tool(0, "", "", `"go"}`),
	},
}, {
	name: "two calls in one event",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "f", args: `{\"a\":`}, {call: 1, index: 1, id: "call_b", name: "g", args: `{\"b\":`}}},
		{frags: []oaFrag{{call: 1, index: 1, args: `2}`}, {call: 0, index: 0, args: `1}`}}},
	},
	want: assistant("", llm.ToolCall{ID: "call_a", Name: "f", Arguments: `{"a":1}`}, llm.ToolCall{ID: "call_b", Name: "g", Arguments: `{"b":2}`}),
	deltas: []llm.Chunk{
		tool(0, "call_a", "f", `{"a":`), tool(1, "call_b", "g", `{"b":`), tool(1, "", "", `2}`), tool(0, "", "", `1}`),
	},
}, {
	// langchaingo's own assembly starts a new call at every fragment that has a type.
	name: `"type":"function" on every chunk`,
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "search", typ: true, args: ``}}},
		{frags: []oaFrag{{call: 0, index: 0, typ: true, args: `{\"query\":`}}},
		{frags: []oaFrag{{call: 0, index: 0, typ: true, args: `\"go\"}`}}},
		{frags: []oaFrag{{call: 1, index: 1, id: "call_b", name: "now", typ: true, args: `{}`}}},
		{frags: []oaFrag{{call: 1, index: 1, typ: true, noArgs: true}}},
	},
	want: assistant("",
		llm.ToolCall{ID: "call_a", Name: "search", Arguments: `{"query":"go"}`},
		llm.ToolCall{ID: "call_b", Name: "now", Arguments: `{}`}),
	deltas: []llm.Chunk{
		tool(0, "call_a", "search", ""), tool(0, "", "", `{"query":`), tool(0, "", "", `"go"}`), tool(1, "call_b", "now", `{}`),
	},
}, {
	name: "the same id on every chunk",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "search", typ: true, args: `{\"q\":`}}},
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", typ: true, args: `1}`}}},
	},
	want:   assistant("", llm.ToolCall{ID: "call_a", Name: "search", Arguments: `{"q":1}`}),
	deltas: []llm.Chunk{tool(0, "call_a", "search", `{"q":`), tool(0, "", "", `1}`)},
}, {
	name: "zero-argument call without arguments",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "now", noArgs: true}}},
		{frags: []oaFrag{{call: 1, index: 1, id: "call_b", name: "search", noArgs: true}}},
		{frags: []oaFrag{{call: 1, index: 1, args: `{}`}}},
	},
	want:   assistant("", llm.ToolCall{ID: "call_a", Name: "now"}, llm.ToolCall{ID: "call_b", Name: "search", Arguments: `{}`}),
	deltas: []llm.Chunk{tool(0, "call_a", "now", ""), tool(1, "call_b", "search", ""), tool(1, "", "", `{}`)},
}, {
	name: "zero-argument call with empty arguments",
	events: []oaEvent{
		{text: "Now."},
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "now", typ: true, args: ``}}},
		{frags: []oaFrag{{call: 0, index: 0, args: ``}}},
	},
	want:   assistant("Now.", llm.ToolCall{ID: "call_a", Name: "now"}),
	deltas: []llm.Chunk{text("Now."), tool(0, "call_a", "now", "")},
}, {
	// Gemini's OpenAI-compatible endpoint, for one, sends each parallel call with index 0.
	name: "a new id on an index in use starts a new call",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "f", args: `{\"x\":1}`}}},
		{frags: []oaFrag{{call: 1, index: 0, id: "call_b", name: "g", args: `{\"y\":`}}},
		{frags: []oaFrag{{call: 1, index: 0, args: `2}`}}},
		{frags: []oaFrag{{call: 2, index: 0, id: "call_c", name: "h", noArgs: true}}},
	},
	want: assistant("",
		llm.ToolCall{ID: "call_a", Name: "f", Arguments: `{"x":1}`},
		llm.ToolCall{ID: "call_b", Name: "g", Arguments: `{"y":2}`},
		llm.ToolCall{ID: "call_c", Name: "h"}),
	deltas: []llm.Chunk{
		tool(0, "call_a", "f", `{"x":1}`), tool(1, "call_b", "g", `{"y":`), tool(1, "", "", `2}`), tool(2, "call_c", "h", ""),
	},
}, {
	name: "fragments without index",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: -1, id: "a", name: "f", args: `{\"x\":`}}},
		{frags: []oaFrag{{call: 0, index: -1, args: `1}`}}},
		{frags: []oaFrag{{call: 1, index: -1, id: "b", name: "g", args: `{}`}}},
	},
	want:   assistant("", llm.ToolCall{ID: "a", Name: "f", Arguments: `{"x":1}`}, llm.ToolCall{ID: "b", Name: "g", Arguments: `{}`}),
	deltas: []llm.Chunk{tool(0, "a", "f", `{"x":`), tool(0, "", "", `1}`), tool(1, "b", "g", `{}`)},
}, {
	// llama.cpp's server sends the bytes of a token that ends inside a character raw.
	name:   "text split between events as raw bytes",
	events: []oaEvent{{text: "caf\xc3"}, {text: "\xa9 \xf0\x9f"}, {text: "\x98"}, {text: "\x80!"}},
	want:   assistant("café 😀!"),
	deltas: []llm.Chunk{text("caf"), text("é "), text("😀!")},
}, {
	name:   "surrogate pair split between events in text",
	events: []oaEvent{{text: `smile \ud83d`}, {text: `\ude00 done`}},
	want:   assistant("smile 😀 done"),
	deltas: []llm.Chunk{text("smile "), text("😀 done")},
}, {
	name: "arguments split between events as raw bytes",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "say", args: "{\\\"q\\\":\\\"\xe6\x97"}}},
		{frags: []oaFrag{{call: 0, index: 0, args: "\xa5\xe6\x9c\xac"}}},
		{frags: []oaFrag{{call: 0, index: 0, args: `\"}`}}},
	},
	want:   assistant("", llm.ToolCall{ID: "call_a", Name: "say", Arguments: `{"q":"日本"}`}),
	deltas: []llm.Chunk{tool(0, "call_a", "say", `{"q":"`), tool(0, "", "", "日本"), tool(0, "", "", `"}`)},
}, {
	name: "surrogate pair split between events in arguments",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "call_a", name: "say", args: `{\"e\":\"\ud83d`}}},
		{frags: []oaFrag{{call: 0, index: 0, args: `\ude00\"}`}}},
	},
	want:   assistant("", llm.ToolCall{ID: "call_a", Name: "say", Arguments: `{"e":"😀"}`}),
	deltas: []llm.Chunk{tool(0, "call_a", "say", `{"e":"`), tool(0, "", "", `😀"}`)},
}, {
	name: "split characters in text and two calls at once",
	events: []oaEvent{
		{text: "\xe2\x82", frags: []oaFrag{{call: 0, index: 0, id: "a", name: "f", args: "\\\"\xe2"}, {call: 1, index: 1, id: "b", name: "g", args: `\"\ud83d`}}},
		{text: "\xac", frags: []oaFrag{{call: 1, index: 1, args: `\ude00\"`}, {call: 0, index: 0, args: "\x82\xac\\\""}}},
	},
	want:   assistant("€", llm.ToolCall{ID: "a", Name: "f", Arguments: `"€"`}, llm.ToolCall{ID: "b", Name: "g", Arguments: `"😀"`}),
	deltas: []llm.Chunk{tool(0, "a", "f", `"`), tool(1, "b", "g", `"`), text("€"), tool(1, "", "", `😀"`), tool(0, "", "", `€"`)},
}, {
	// What never completes is replaced as encoding/json replaces it: one U+FFFD per byte, one per
	// unpaired surrogate.
	name: "sequences that never complete",
	events: []oaEvent{
		{text: "end \xe2\x82", frags: []oaFrag{{call: 0, index: 0, id: "a", name: "f", args: `\"x\ud83d`}}},
	},
	want:   assistant("end \uFFFD\uFFFD", llm.ToolCall{ID: "a", Name: "f", Arguments: "\"x\uFFFD"}),
	deltas: []llm.Chunk{text("end "), tool(0, "a", "f", `"x`), text("\uFFFD\uFFFD"), tool(0, "", "", "\uFFFD")},
}, {
	name:   "invalid bytes and a lone low surrogate",
	events: []oaEvent{{text: "a\xffb\xc3("}, {text: `\ude00c\ud83d\ud83d`}, {text: `\ude00`}},
	want:   assistant("a\uFFFDb\uFFFD(\uFFFDc\uFFFD😀"),
}, {
	name:   "escaped text and a character outside the BMP as a pair in one event",
	events: []oaEvent{{text: `line\n\"quoted\" \\ \/ \t\u00e9\ud83d\ude00 <&>`}},
	want:   assistant("line\n\"quoted\" \\ / \té😀 <&>"),
}, {
	// The loop validates arguments before it calls a tool: the adapter passes them on as they are.
	name: "invalid JSON arguments",
	events: []oaEvent{
		{frags: []oaFrag{{call: 0, index: 0, id: "a", name: "f", args: `{\"path\": `}}},
		{frags: []oaFrag{{call: 0, index: 0, args: `\"x\",}`}}},
	},
	want:   assistant("", llm.ToolCall{ID: "a", Name: "f", Arguments: `{"path": "x",}`}),
	deltas: []llm.Chunk{tool(0, "a", "f", `{"path": `), tool(0, "", "", `"x",}`)},
}}

var anthropicScenarios = []anScenario{{
	name: "text and parallel calls, one without input",
	blocks: []anBlock{
		{typ: "text", pieces: []string{"Let me ", "check."}},
		{typ: "tool_use", id: "toolu_a", name: "search", pieces: []string{"", `{\"z\": 1, `, `\"a\": [1,2]}`}},
		{typ: "tool_use", id: "toolu_b", name: "now"},
	},
	want: assistant("Let me check.",
		llm.ToolCall{ID: "toolu_a", Name: "search", Arguments: `{"z": 1, "a": [1,2]}`},
		llm.ToolCall{ID: "toolu_b", Name: "now", Arguments: `{}`}),
	deltas: []llm.Chunk{
		text("Let me "), text("check."), tool(0, "toolu_a", "search", ""), tool(0, "", "", `{"z": 1, `),
		tool(0, "", "", `"a": [1,2]}`), tool(1, "toolu_b", "now", ""), tool(1, "", "", "{}"),
	},
}, {
	name:   "input of white space only",
	blocks: []anBlock{{typ: "tool_use", id: "toolu_a", name: "now", pieces: []string{" ", `\n`}}},
	want:   assistant("", llm.ToolCall{ID: "toolu_a", Name: "now", Arguments: `{}`}),
	deltas: []llm.Chunk{tool(0, "toolu_a", "now", ""), tool(0, "", "", "{}")},
}, {
	name:   "text split between events as raw bytes",
	blocks: []anBlock{{typ: "text", pieces: []string{"caf\xc3", "\xa9 \xf0\x9f", "\x98\x80!"}}},
	want:   assistant("café 😀!"),
	deltas: []llm.Chunk{text("caf"), text("é "), text("😀!")},
}, {
	name:   "surrogate pair split between events in text",
	blocks: []anBlock{{typ: "text", pieces: []string{`smile \ud83d`, `\ude00`}}},
	want:   assistant("smile 😀"),
	deltas: []llm.Chunk{text("smile "), text("😀")},
}, {
	name: "input split between events as raw bytes and as a surrogate pair",
	blocks: []anBlock{{typ: "tool_use", id: "toolu_a", name: "say",
		pieces: []string{"{\\\"q\\\": \\\"\xe6\x97", "\xa5\xe6\x9c\xac", `\", \"e\": \"\ud83d`, `\ude00\"}`}}},
	want: assistant("", llm.ToolCall{ID: "toolu_a", Name: "say", Arguments: `{"q": "日本", "e": "😀"}`}),
	deltas: []llm.Chunk{
		tool(0, "toolu_a", "say", ""), tool(0, "", "", `{"q": "`), tool(0, "", "", "日本"), tool(0, "", "", `", "e": "`), tool(0, "", "", `😀"}`),
	},
}, {
	// Each text block is a string of its own: bytes left over at the end of one are not joined
	// with the next block's.
	name: "a block ending inside a character",
	blocks: []anBlock{
		{typ: "text", pieces: []string{"ab\xe2\x82"}},
		{typ: "text", pieces: []string{"\xaccd"}},
	},
	want:   assistant("ab\uFFFD\uFFFD\uFFFDcd"),
	deltas: []llm.Chunk{text("ab"), text("\uFFFD\uFFFD"), text("\uFFFDcd")},
}, {
	// The loop validates arguments before it calls a tool: the adapter passes them on as they are.
	name:       "invalid JSON input",
	blocks:     []anBlock{{typ: "tool_use", id: "toolu_a", name: "f", pieces: []string{`{\"path\": `, `\"x\",`}}},
	want:       assistant("", llm.ToolCall{ID: "toolu_a", Name: "f", Arguments: `{"path": "x",`}),
	deltas:     []llm.Chunk{tool(0, "toolu_a", "f", ""), tool(0, "", "", `{"path": `), tool(0, "", "", `"x",`)},
	streamOnly: true,
}}

// ---- serving and checking ----

// byteServer serves an event stream one byte per write, flushing after each, so that characters
// are split between writes (and, with oneByteReads, between reads) inside an event.
func byteServer(events ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		var body strings.Builder
		for _, e := range events {
			if !strings.HasPrefix(e, "event:") {
				e = "data: " + e
			}
			body.WriteString(e + "\n\n")
		}
		b := []byte(body.String())
		for i := range b {
			if _, err := w.Write(b[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

// oneByteReads is a transport whose response bodies return at most one byte per read.
type oneByteReads struct{ rt http.RoundTripper }

func (o oneByteReads) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.rt.RoundTrip(r)
	if err == nil {
		resp.Body = oneByteBody{iotest.OneByteReader(resp.Body), resp.Body}
	}
	return resp, err
}

type oneByteBody struct {
	io.Reader
	io.Closer
}

type streamed struct {
	deltas []llm.Chunk // text and tool-call chunks, in order
	final  *llm.Response
}

// runStream consumes a stream and checks what holds for every stream: each delta is text or a
// tool-call fragment, valid UTF-8; the final chunk comes last.
func runStream(t *testing.T, m llm.Streamer, req *llm.Request) streamed {
	t.Helper()
	var s streamed
	for c, err := range m.Stream(t.Context(), req) {
		require.NoError(t, err)
		require.Nil(t, s.final, "nothing may follow the final chunk")
		switch {
		case c.Response != nil:
			require.Empty(t, c.Text)
			require.Nil(t, c.ToolCall)
			s.final = c.Response
			continue
		case c.ToolCall != nil:
			require.Empty(t, c.Text)
			require.True(t, utf8.ValidString(c.ToolCall.Arguments), "arguments piece %q", c.ToolCall.Arguments)
		default:
			require.NotEmpty(t, c.Text)
			require.True(t, utf8.ValidString(c.Text), "text delta %q", c.Text)
		}
		s.deltas = append(s.deltas, c)
	}
	require.NotNil(t, s.final, "the stream ended without its final chunk")
	return s
}

// assembled joins the deltas: the text, and the tool calls by Index. Calls must start in order of
// Index, and a call's ID and Name must not change once set.
func assembled(t *testing.T, deltas []llm.Chunk) (string, []llm.ToolCall) {
	t.Helper()
	var text strings.Builder
	var calls []llm.ToolCall
	for _, c := range deltas {
		d := c.ToolCall
		if d == nil {
			text.WriteString(c.Text)
			continue
		}
		require.LessOrEqual(t, d.Index, len(calls), "call %d starts before call %d", d.Index, len(calls))
		if d.Index == len(calls) {
			calls = append(calls, llm.ToolCall{})
		}
		tc := &calls[d.Index]
		if d.ID != "" {
			require.True(t, tc.ID == "" || tc.ID == d.ID, "call %d changes id", d.Index)
			tc.ID = d.ID
		}
		if d.Name != "" {
			require.True(t, tc.Name == "" || tc.Name == d.Name, "call %d changes name", d.Index)
			tc.Name = d.Name
		}
		tc.Arguments += d.Arguments
	}
	return text.String(), calls
}

// checkStream checks a stream against its final answer, the scenario's and the non-streamed one.
func checkStream(t *testing.T, got streamed, want llm.Message, deltas []llm.Chunk, generated *llm.Response) {
	t.Helper()
	assert.Equal(t, want, got.final.Message)
	text, calls := assembled(t, got.deltas)
	assert.Equal(t, got.final.Message.Content, text, "the text deltas make the content")
	assert.Equal(t, got.final.Message.ToolCalls, calls, "the tool-call deltas make the calls")
	if deltas != nil {
		assert.Equal(t, deltas, got.deltas)
	}
	if generated != nil {
		assert.Equal(t, generated, got.final, "the streamed and the non-streamed reply give one answer")
	}
}

func TestOpenAIStreamDeltas(t *testing.T) {
	for _, sc := range openAIScenarios {
		t.Run(sc.name, func(t *testing.T) {
			jsrv := newServer(t, jsonReply(200, sc.json()))
			generated, err := openAIModel(t, jsrv, "gpt-4o").Generate(t.Context(), conversation())
			require.NoError(t, err)
			assert.Equal(t, sc.want, generated.Message, "the non-streamed reply")

			for _, mode := range []string{"event per write", "byte per write"} { // byte per write: and per read
				t.Run(mode, func(t *testing.T) {
					srv := newServer(t, sseReply(sc.sse()...))
					client := srv.Client()
					if mode == "byte per write" {
						srv.reply = byteServer(sc.sse()...)
						client = &http.Client{Transport: oneByteReads{client.Transport}}
					}
					models := map[string]*Model{"OpenAI": openAIModel(t, srv, "gpt-4o", WithHTTPClient(client))}
					compat, err := OpenAICompatible(srv.URL+"/v1", "gpt-4o", "", WithHTTPClient(client))
					require.NoError(t, err)
					models["OpenAICompatible"] = compat
					for name, m := range models {
						t.Log(name)
						checkStream(t, runStream(t, m, conversation()), sc.want, sc.deltas, generated)
					}
				})
			}
		})
	}
}

func TestAnthropicStreamDeltas(t *testing.T) {
	for _, sc := range anthropicScenarios {
		t.Run(sc.name, func(t *testing.T) {
			var generated *llm.Response
			if !sc.streamOnly {
				jsrv := newServer(t, jsonReply(200, sc.json(t)))
				var err error
				generated, err = anthropicModel(t, jsrv, "claude-sonnet-4-5").Generate(t.Context(), conversation())
				require.NoError(t, err)
				assert.Equal(t, sc.want, generated.Message, "the non-streamed reply")
			}
			for _, mode := range []string{"event per write", "byte per write"} { // byte per write: and per read
				t.Run(mode, func(t *testing.T) {
					srv := newServer(t, sseReply(sc.sse()...))
					client := srv.Client()
					if mode == "byte per write" {
						srv.reply = byteServer(sc.sse()...)
						client = &http.Client{Transport: oneByteReads{client.Transport}}
					}
					got := runStream(t, anthropicModel(t, srv, "claude-sonnet-4-5", WithHTTPClient(client)), conversation())
					checkStream(t, got, sc.want, sc.deltas, generated)
					if sc.streamOnly {
						assert.Equal(t, llm.FinishToolCalls, got.final.FinishReason)
					}
				})
			}
		})
	}
}

// A server that answers a streaming request with a whole JSON reply: its calls come as one
// fragment each, before the final chunk.
func TestStreamAnsweredWithJSONYieldsToolCalls(t *testing.T) {
	sc := openAIScenarios[0]
	srv := newServer(t, jsonReply(200, sc.json()))
	got := runStream(t, openAIModel(t, srv, "gpt-4o"), conversation())
	checkStream(t, got, sc.want, []llm.Chunk{
		text("Checking. More."), tool(0, "call_a", "search", `{"query": "go"}`), tool(1, "call_b", "now", `{}`),
	}, nil)
}

// A model wrapped by New streams through langchaingo: text deltas only, tool calls in the final
// Response.
func TestWrappedModelYieldsNoToolDeltas(t *testing.T) {
	sc := openAIScenarios[0]
	srv := newServer(t, sseReply(sc.sse()...))
	m := New(openAIModel(t, srv, "gpt-4o").LLM(), WithModelName("gpt-4o"))
	got := runStream(t, m, conversation())
	for _, c := range got.deltas {
		assert.Nil(t, c.ToolCall)
	}
	text, _ := assembled(t, got.deltas)
	assert.Equal(t, got.final.Message.Content, text)
	assert.NotEmpty(t, got.final.Message.ToolCalls)
}

// Breaking out of the loop at a tool-call fragment cancels the request, and nothing is left
// running.
func TestStreamBreakAtToolDelta(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model func(*testing.T, *fakeServer) *Model
		head  string // the events before the server holds the connection
		want  llm.Chunk
	}{{
		name:  "openai",
		model: func(t *testing.T, srv *fakeServer) *Model { return openAIModel(t, srv, "gpt-4o") },
		head:  sseEvents(openAIScenarios[0].sse()[:3]...),
		want:  tool(0, "call_a", "search", ""),
	}, {
		name:  "anthropic",
		model: func(t *testing.T, srv *fakeServer) *Model { return anthropicModel(t, srv, "claude-sonnet-4-5") },
		head:  sseEvents(anthropicScenarios[0].sse()[:6]...),
		want:  tool(0, "toolu_a", "search", ""),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			gone := make(chan struct{})
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = w.Write([]byte(tc.head))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					close(gone)
				case <-time.After(10 * time.Second):
				}
			})
			var got []llm.Chunk
			for c, err := range tc.model(t, srv).Stream(t.Context(), conversation()) {
				require.NoError(t, err)
				got = append(got, c)
				if c.ToolCall != nil {
					break
				}
			}
			require.NotEmpty(t, got)
			assert.Equal(t, tc.want, got[len(got)-1])
			select {
			case <-gone:
			case <-time.After(2 * time.Second):
				t.Fatal("the server still holds the request after the consumer stopped")
			}
			srv.Close()
			goleak.VerifyNone(t)
		})
	}
}

// ---- the UTF-8 machinery ----

// For valid JSON strings, wireString decodes as encoding/json does; it differs only for invalid
// UTF-8 and unpaired surrogates, which it keeps.
func TestWireStringMatchesEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"é😀 <&>"`, `"\"\\\/\b\f\n\r\t"`, `"\u0000\u001f\u00e9\u20ac\uFFFD"`, `"\ud83d\ude00\uD83D\uDE00"`,
		`"a\u0041\\u0041"`, `"\\"`, `"x\\"`, `"\\\ud83d\ude00\\"`,
	} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(lit), &want), lit)
		var got wireString
		require.NoError(t, json.Unmarshal([]byte(lit), &got), lit)
		assert.Equal(t, want, string(got), lit)
	}
	for lit, want := range map[string]string{
		`"\ud83d"`:             "\xed\xa0\xbd",
		`"\ude00x"`:            "\xed\xb8\x80x",
		`"\ud83d\ud83d\ude00"`: "\xed\xa0\xbd😀",
		`"\ud83dA"`:            "\xed\xa0\xbdA",
		"\"a\xffb\xe2\x82\"":   "a\xffb\xe2\x82",
	} {
		var got wireString
		require.NoError(t, json.Unmarshal([]byte(lit), &got), lit)
		assert.Equal(t, want, string(got), lit)
		fixed, _ := fixUTF8([]byte(got), true)
		var std string
		require.NoError(t, json.Unmarshal([]byte(lit), &std))
		assert.Equal(t, std, fixed, "made valid, %s reads as encoding/json reads it", lit)
	}
	var s struct{ A, B wireString }
	s.A = "kept"
	require.NoError(t, json.Unmarshal([]byte(`{"A":null,"B":"x"}`), &s))
	assert.Equal(t, wireString("kept"), s.A)
	assert.Error(t, json.Unmarshal([]byte(`{"A":1}`), &s))
}

// holdAll pushes the pieces through a utf8Hold and returns what it released.
func holdAll(t testing.TB, pieces [][]byte) []string {
	var h utf8Hold
	var out []string
	for _, p := range pieces {
		if s := h.push(string(p)); s != "" {
			out = append(out, s)
		}
	}
	if s := h.flush(); s != "" {
		out = append(out, s)
	}
	return out
}

// However a byte string is split, the released pieces are valid UTF-8 and make the valid form of
// the whole.
func TestUTF8HoldAnySplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := [][]byte{
		[]byte("a"), []byte("é"), []byte("€"), []byte("😀"), []byte("\xed\xa0\xbd"), []byte("\xed\xb8\x80"),
		{0xff}, {0xe2, 0x82}, {0xf0}, {0x80}, {0xed}, {0xed, 0xa0}, []byte("\uFFFD"),
	}
	for range 3000 {
		var whole []byte
		for range rng.IntN(12) {
			whole = append(whole, alphabet[rng.IntN(len(alphabet))]...)
		}
		var pieces [][]byte
		for rest := whole; len(rest) > 0; {
			n := rng.IntN(len(rest) + 1)
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		want, _ := fixUTF8(whole, true)
		got := holdAll(t, pieces)
		for _, p := range got {
			require.True(t, utf8.ValidString(p), "%q split as %q", whole, pieces)
		}
		require.Equal(t, want, strings.Join(got, ""), "%q split as %q", whole, pieces)
	}
}

func FuzzUTF8Hold(f *testing.F) {
	f.Add([]byte("caf\xc3\xa9 \xf0\x9f\x98\x80"), uint8(4))
	f.Add([]byte("\xed\xa0\xbd\xed\xb8\x80\xed\xa0"), uint8(2))
	f.Fuzz(func(t *testing.T, whole []byte, step uint8) {
		n := int(step%7) + 1
		var pieces [][]byte
		for i := 0; i < len(whole); i += n {
			pieces = append(pieces, whole[i:min(i+n, len(whole))])
		}
		want, _ := fixUTF8(whole, true)
		require.True(t, utf8.ValidString(want))
		got := holdAll(t, pieces)
		for _, p := range got {
			require.True(t, utf8.ValidString(p))
		}
		require.Equal(t, want, strings.Join(got, ""))
		if utf8.Valid(whole) {
			require.Equal(t, string(whole), want)
		}
	})
}

func TestFixUTF8(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		final    bool
		n        int
	}{
		{"abc", "abc", false, 3},
		{"ab\xe2\x82", "ab", false, 2},
		{"ab\xe2\x82", "ab\uFFFD\uFFFD", true, 4},
		{"ab\xe2\x41", "ab\uFFFDA", false, 4},
		{"\xed\xa0\xbd", "", false, 0},                // a high surrogate waits for its pair
		{"\xed\xa0\xbd\xed", "", false, 0},            // the pair may still come
		{"\xed\xa0\xbd\xed\x80", "\uFFFD", false, 3},  // ED 80 starts no low surrogate
		{"\xed\xa0\xbd\xed\xb8\x80", "😀", false, 6},   // a pair
		{"\xed\xa0\xbd", "\uFFFD", true, 3},           // unpaired
		{"\xed\xb8\x80x", "\uFFFDx", false, 4},        // a low surrogate alone
		{"\xed\xa0", "", false, 0},                    // may still be a surrogate
		{"\xed\xa0", "\uFFFD\uFFFD", true, 2},         // per byte, as encoding/json
		{"\xed\xa0x", "\uFFFD\uFFFDx", false, 3},      // not a surrogate after all
		{"\xed\x9f\xbf", "\ud7ff", false, 3},          // the last character before the surrogates
		{"\xed\xc0", "\uFFFD\uFFFD", false, 2},        // no sequence: nothing to wait for
		{"\xf0\x9f\x98", "", false, 0},                // three bytes of four
		{"\xf0\x9f\x98\x80\xff", "😀\uFFFD", false, 5}, // a byte that starts nothing
		{"\xc0\xaf", "\uFFFD\uFFFD", false, 2},        // overlong
		{"\xef\xbf\xbd", "\uFFFD", false, 3},          // U+FFFD itself is valid
		{"\xed\xa0\xbd\xed\xa0\xbd\xed\xb8\x80", "\uFFFD😀", true, 9},
	} {
		got, n := fixUTF8([]byte(tc.in), tc.final)
		assert.Equal(t, tc.want, got, "%q final=%v", tc.in, tc.final)
		assert.Equal(t, tc.n, n, "%q final=%v", tc.in, tc.final)
	}
}

// ---- cost ----

// The chunk as it was decoded before wireString: plain strings.
type plainOpenAIChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			ToolCalls        []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// BenchmarkOpenAIEvent compares decoding a typical event with plain strings (encoding/json's own
// string decoding, as before) and with wireString, and the whole event handling, for valid
// events and for events that end inside a character.
func BenchmarkOpenAIEvent(b *testing.B) {
	events := map[string]string{
		"text":            `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" the quick brown fox"},"logprobs":null,"finish_reason":null}],"usage":null}`,
		"escaped text":    `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"\n\n\"café\" \u00e9 😀 \ud83d\ude00"},"logprobs":null,"finish_reason":null}],"usage":null}`,
		"arguments":       `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\": \"src/main"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
		"split character": "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the quick \xe2\x82\"},\"finish_reason\":null}]}",
	}
	for name, ev := range events {
		data := []byte(ev)
		b.Run(name+"/unmarshal plain strings", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var c plainOpenAIChunk
				if err := json.Unmarshal(data, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/unmarshal wireString", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var c openAIChunk
				if err := json.Unmarshal(data, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/event", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			s := newOpenAIStream()
			for b.Loop() {
				if _, err := s.event(data); err != nil {
					b.Fatal(err)
				}
				if s.text.Len() > 1<<20 {
					s = newOpenAIStream()
				}
			}
		})
	}
}
