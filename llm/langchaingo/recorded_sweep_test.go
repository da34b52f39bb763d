package langchaingo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// TestRecordedSweep replays every recorded chat exchange in langchaingo's module (its *.httprr
// and *.httprr.gz traces, read where they lie) that went to an OpenAI-compatible
// /chat/completions endpoint or to Anthropic's /v1/messages and got a 200 reply. Each reply,
// headers and body as recorded, is served to a model built by this package's constructors;
// Generate reads a JSON reply, Stream an event stream. The answer is checked against the test's
// own decoding of the recorded body (encoding/json over the provider's documented shape, the
// stream's chunks assembled here by index): text, every tool call's id, name and arguments
// byte for byte, finish reason, usage and model name; for streams, also that the Text deltas
// join to the final text and the ToolCall deltas of each Index to that call.
//
// A recorded exchange this package cannot handle is a failure, unless it is listed in
// knownGaps with the reason.
func TestRecordedSweep(t *testing.T) {
	dir, err := llmtest.LangchaingoDir()
	if err != nil {
		t.Skipf("langchaingo module directory not found: %v", err)
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".httprr") || strings.HasSuffix(p, ".httprr.gz")) {
			files = append(files, p)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files, "no httprr traces in %s", dir)
	sort.Strings(files)

	counts := map[string]int{} // provider -> exchanges checked
	hosts := map[string]int{}  // host -> exchanges checked
	seen := map[string]bool{}  // names of the exchanges swept, to find stale knownGaps entries
	for _, path := range files {
		rel, err := filepath.Rel(dir, path)
		require.NoError(t, err)
		rel = filepath.ToSlash(rel)
		recs, err := httprr.ReadFile(path)
		require.NoError(t, err, "trace %s", rel)
		for i := range recs {
			rec := &recs[i]
			provider := sweepProvider(rec)
			if provider == "" {
				continue
			}
			resp, err := rec.Response()
			require.NoError(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				continue
			}
			name := fmt.Sprintf("%s#%d", rel, rec.Index)
			seen[name] = true
			counts[provider]++
			hosts[rec.Request.URL.Host]++
			t.Run(name, func(t *testing.T) {
				var c problems
				checkRecordedExchange(t, &c, provider, rec)
				reportProblems(t, name, c)
			})
		}
	}
	for name := range knownGaps {
		assert.True(t, seen[name], "knownGaps lists %s, which the sweep no longer finds", name)
	}
	total := 0
	for _, p := range []string{ProviderOpenAI, ProviderOpenAICompatible, ProviderAnthropic} {
		t.Logf("recorded exchanges checked for %s: %d", p, counts[p])
		total += counts[p]
	}
	for h, n := range hosts {
		t.Logf("  host %s: %d", h, n)
	}
	t.Logf("recorded exchanges checked in all: %d (known gaps: %d)", total, len(knownGaps))
	// langchaingo v0.1.14 holds 108 OpenAI, 6 OpenAI-compatible and 3 Anthropic exchanges: fewer
	// means the sweep stopped finding some.
	assert.GreaterOrEqual(t, counts[ProviderOpenAI], 100)
	assert.GreaterOrEqual(t, counts[ProviderOpenAICompatible], 1)
	assert.GreaterOrEqual(t, counts[ProviderAnthropic], 1)
}

// knownGaps lists, by subtest name ("<trace path in the module>#<exchange index>"), the recorded
// exchanges this package does not handle yet, with the reason. Their failures are logged, not
// reported; an entry whose exchange passes fails the test, so that it is removed.
var knownGaps = map[string]string{}

// problems collects the failures of one exchange (it is testify's TestingT), so that a known
// gap's failures can be logged rather than reported.
type problems []string

func (p *problems) Errorf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func reportProblems(t *testing.T, name string, c problems) {
	t.Helper()
	reason, known := knownGaps[name]
	switch {
	case known && len(c) == 0:
		t.Errorf("listed in knownGaps (%s) but handled correctly now: remove the entry", reason)
	case known:
		t.Logf("known gap: %s", reason)
		for _, p := range c {
			t.Logf("%s", p)
		}
	default:
		for _, p := range c {
			t.Error(p)
		}
	}
}

// sweepProvider returns the provider whose wire format the recorded request speaks, or "" for an
// exchange the sweep does not cover.
func sweepProvider(rec *httprr.Record) string {
	u := rec.Request.URL
	switch {
	case rec.Request.Method != http.MethodPost:
		return ""
	case u.Host == "api.anthropic.com" && u.Path == "/v1/messages":
		return ProviderAnthropic
	case u.Host == "api.openai.com" && u.Path == "/v1/chat/completions":
		return ProviderOpenAI
	case strings.HasSuffix(u.Path, "/chat/completions"):
		return ProviderOpenAICompatible
	}
	return ""
}

// replayTransport answers every request with a fresh copy of the recorded response, headers and
// body as recorded, and keeps the bodies of the requests it got.
type replayTransport struct {
	rec *httprr.Record

	mu     sync.Mutex
	bodies [][]byte
}

func (rt *replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	rt.mu.Lock()
	rt.bodies = append(rt.bodies, body)
	rt.mu.Unlock()
	resp, err := rt.rec.Response()
	if err != nil {
		return nil, err
	}
	resp.Request = req
	return resp, nil
}

func (rt *replayTransport) requests() [][]byte {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.bodies)
}

// expected is the answer the test reads from a recorded reply on its own.
type expected struct {
	text      string
	toolCalls []llm.ToolCall
	finish    llm.FinishReason
	usage     llm.Usage
	model     string
}

func checkRecordedExchange(t *testing.T, c *problems, provider string, rec *httprr.Record) {
	resp, err := rec.Response()
	require.NoError(t, err)
	contentType := resp.Header.Get("Content-Type")
	resp.Body.Close()
	body, err := rec.ResponseBody()
	require.NoError(t, err)
	streamed := strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/event-stream")

	var want expected
	switch {
	case provider == ProviderAnthropic && streamed:
		want, err = decodeAnthropicStream(body)
	case provider == ProviderAnthropic:
		want, err = decodeAnthropicJSON(body)
	case streamed:
		want, err = decodeOpenAIStream(body)
	default:
		want, err = decodeOpenAIJSON(body)
	}
	require.NoError(t, err, "the test's own decoding of the recorded reply")

	var reqModel struct {
		Model string `json:"model"`
	}
	require.NoError(t, json.Unmarshal(rec.Request.Body, &reqModel), "recorded request body")
	rt := &replayTransport{rec: rec}
	client := &http.Client{Transport: rt}
	var m *Model
	switch provider {
	case ProviderOpenAI:
		m, err = OpenAI(reqModel.Model, "test-key", WithHTTPClient(client))
	case ProviderAnthropic:
		m, err = Anthropic(reqModel.Model, "test-key", WithHTTPClient(client))
	default:
		u := *rec.Request.URL
		u.Path = strings.TrimSuffix(u.Path, "/chat/completions")
		u.RawQuery = ""
		m, err = OpenAICompatible(u.String(), reqModel.Model, "test-key", WithHTTPClient(client))
	}
	require.NoError(t, err)

	req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello."}}}
	if len(want.toolCalls) > 0 {
		req.Tools = recordedTools(t, provider, rec.Request.Body)
		for _, tc := range want.toolCalls {
			if !slices.ContainsFunc(req.Tools, func(s llm.ToolSpec) bool { return s.Name == tc.Name }) {
				c.Errorf("the reply calls %q, which the recorded request did not offer", tc.Name)
			}
		}
	}

	var got *llm.Response
	if streamed {
		var text strings.Builder
		args := map[int]*strings.Builder{}
		ids, names := map[int]string{}, map[int]string{}
		for chunk, err := range m.Stream(t.Context(), req) {
			if err != nil {
				c.Errorf("Stream: %v", err)
				return
			}
			switch {
			case chunk.Response != nil:
				got = chunk.Response
			case chunk.ToolCall != nil:
				d := chunk.ToolCall
				if args[d.Index] == nil {
					args[d.Index] = &strings.Builder{}
				}
				args[d.Index].WriteString(d.Arguments)
				if d.ID != "" {
					ids[d.Index] = d.ID
				}
				if d.Name != "" {
					names[d.Index] = d.Name
				}
			default:
				text.WriteString(chunk.Text)
			}
		}
		if got == nil {
			c.Errorf("Stream ended without a final Response")
			return
		}
		assert.Equal(c, got.Message.Content, text.String(), "the Text deltas must join to the final content")
		assert.Len(c, args, len(got.Message.ToolCalls), "one Index of ToolCall deltas per final tool call")
		for i, tc := range got.Message.ToolCalls {
			if args[i] == nil {
				c.Errorf("tool call %d (%s) had no ToolCall delta", i, tc.Name)
				continue
			}
			assert.Equal(c, tc.Arguments, args[i].String(), "tool call %d: the ToolCall deltas' arguments must join to the call's", i)
			assert.Equal(c, tc.ID, ids[i], "tool call %d: id in the deltas", i)
			assert.Equal(c, tc.Name, names[i], "tool call %d: name in the deltas", i)
		}
	} else {
		got, err = m.Generate(t.Context(), req)
		if err != nil {
			c.Errorf("Generate: %v", err)
			return
		}
	}

	sent := rt.requests()
	if assert.Len(c, sent, 1, "requests sent") {
		var flags struct {
			Stream bool `json:"stream"`
		}
		if err := json.Unmarshal(sent[0], &flags); err != nil {
			c.Errorf("the request body is not JSON: %v", err)
		}
		assert.Equal(c, streamed, flags.Stream, `the request's "stream" flag`)
	}

	assert.Equal(c, llm.RoleAssistant, got.Message.Role, "role")
	assert.Equal(c, want.text, got.Message.Content, "message text")
	if assert.Len(c, got.Message.ToolCalls, len(want.toolCalls), "tool calls") {
		for i, w := range want.toolCalls {
			g := got.Message.ToolCalls[i]
			assert.Equal(c, w.ID, g.ID, "tool call %d: id", i)
			assert.Equal(c, w.Name, g.Name, "tool call %d: name", i)
			assert.Equal(c, w.Arguments, g.Arguments, "tool call %d: arguments, byte for byte", i)
		}
	}
	assert.Equal(c, want.finish, got.FinishReason, "finish reason")
	assert.Equal(c, want.usage, got.Usage, "usage")
	assert.Equal(c, want.model, got.Model, "model")
}

// recordedTools returns the tools the recorded request offered, by name, with a permissive schema:
// OpenAI's tools[].function.name and legacy functions[].name, Anthropic's tools[].name.
func recordedTools(t *testing.T, provider string, body []byte) []llm.ToolSpec {
	var r struct {
		Tools []struct {
			Name     string `json:"name"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
		Functions []struct {
			Name string `json:"name"`
		} `json:"functions"`
	}
	require.NoError(t, json.Unmarshal(body, &r), "recorded request body")
	var names []string
	for _, tool := range r.Tools {
		if provider == ProviderAnthropic {
			names = append(names, tool.Name)
		} else {
			names = append(names, tool.Function.Name)
		}
	}
	for _, f := range r.Functions {
		names = append(names, f.Name)
	}
	var specs []llm.ToolSpec
	for _, n := range names {
		if n != "" && !slices.ContainsFunc(specs, func(s llm.ToolSpec) bool { return s.Name == n }) {
			specs = append(specs, llm.ToolSpec{Name: n, Parameters: json.RawMessage(`{"type":"object","additionalProperties":true}`)})
		}
	}
	return specs
}

// ---- the test's own reading of the recorded replies ----

// openAIFinish maps a chat-completions finish_reason as OpenAI documents it.
func openAIFinish(reason string, toolCalls bool) llm.FinishReason {
	var r llm.FinishReason
	switch reason {
	case "stop":
		r = llm.FinishStop
	case "length":
		r = llm.FinishLength
	case "tool_calls", "function_call":
		r = llm.FinishToolCalls
	case "content_filter":
		r = llm.FinishContentFilter
	default:
		r = llm.FinishReason(reason)
	}
	if toolCalls && (r == llm.FinishStop || r == llm.FinishUnknown) {
		r = llm.FinishToolCalls
	}
	return r
}

// anthropicFinish maps a Messages API stop_reason as Anthropic documents it.
func anthropicFinish(reason string) llm.FinishReason {
	switch reason {
	case "end_turn", "stop_sequence":
		return llm.FinishStop
	case "tool_use":
		return llm.FinishToolCalls
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "refusal":
		return llm.FinishContentFilter
	}
	return llm.FinishReason(reason)
}

type openAIUsageJSON struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (u openAIUsageJSON) usage() llm.Usage {
	return llm.Usage{
		InputTokens:       u.PromptTokens,
		OutputTokens:      u.CompletionTokens,
		CachedInputTokens: u.PromptTokensDetails.CachedTokens,
		ReasoningTokens:   u.CompletionTokensDetails.ReasoningTokens,
	}
}

type openAIToolCallJSON struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// decodeOpenAIJSON reads a chat.completion object: the choices' text and tool calls (a legacy
// function_call counts as a call without id), in order.
func decodeOpenAIJSON(body []byte) (expected, error) {
	var r struct {
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content      *string              `json:"content"`
				ToolCalls    []openAIToolCallJSON `json:"tool_calls"`
				FunctionCall *struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function_call"`
			} `json:"message"`
			FinishReason *string `json:"finish_reason"`
		} `json:"choices"`
		Usage *openAIUsageJSON `json:"usage"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return expected{}, err
	}
	if len(r.Choices) == 0 {
		return expected{}, fmt.Errorf("no choices")
	}
	e := expected{model: r.Model}
	var finish string
	for _, ch := range r.Choices {
		if ch.Message.Content != nil {
			e.text += *ch.Message.Content
		}
		for _, tc := range ch.Message.ToolCalls {
			e.toolCalls = append(e.toolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		if fc := ch.Message.FunctionCall; fc != nil && len(ch.Message.ToolCalls) == 0 {
			e.toolCalls = append(e.toolCalls, llm.ToolCall{Name: fc.Name, Arguments: fc.Arguments})
		}
		if finish == "" && ch.FinishReason != nil {
			finish = *ch.FinishReason
		}
	}
	e.finish = openAIFinish(finish, len(e.toolCalls) > 0)
	if r.Usage != nil {
		e.usage = r.Usage.usage()
	}
	return e, nil
}

// sseData splits an event stream into the data of its events (the "data" lines of an event
// joined with line feeds; comments and other fields dropped).
func sseData(body []byte) []string {
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	var events []string
	var data []string
	flush := func() {
		if data != nil {
			events = append(events, strings.Join(data, "\n"))
		}
		data = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "data:"):
			v := strings.TrimPrefix(line, "data:")
			data = append(data, strings.TrimPrefix(v, " "))
		}
	}
	flush()
	return events
}

// decodeOpenAIStream assembles chat.completion.chunk events: the first choice's content deltas
// in order, its tool-call fragments by index, the last finish_reason and the last usage.
func decodeOpenAIStream(body []byte) (expected, error) {
	var e expected
	var finish string
	type call struct {
		id, name string
		args     strings.Builder
	}
	var order []int
	calls := map[int]*call{}
	var text strings.Builder
	done := false
	for _, data := range sseData(body) {
		if strings.TrimSpace(data) == "[DONE]" {
			done = true
			break
		}
		var ch struct {
			Model   string `json:"model"`
			Choices []struct {
				Index int `json:"index"`
				Delta struct {
					Content   *string              `json:"content"`
					ToolCalls []openAIToolCallJSON `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *openAIUsageJSON `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			return expected{}, fmt.Errorf("event %q: %w", data, err)
		}
		if e.model == "" {
			e.model = ch.Model
		}
		if ch.Usage != nil {
			e.usage = ch.Usage.usage()
		}
		for _, c := range ch.Choices {
			if c.Index != 0 {
				continue
			}
			if c.Delta.Content != nil {
				text.WriteString(*c.Delta.Content)
			}
			for _, f := range c.Delta.ToolCalls {
				if f.Index == nil {
					return expected{}, fmt.Errorf("a tool-call fragment without index")
				}
				tc := calls[*f.Index]
				if tc == nil {
					tc = &call{}
					calls[*f.Index] = tc
					order = append(order, *f.Index)
				}
				if tc.id == "" {
					tc.id = f.ID
				}
				if tc.name == "" {
					tc.name = f.Function.Name
				}
				tc.args.WriteString(f.Function.Arguments)
			}
			if c.FinishReason != nil && *c.FinishReason != "" {
				finish = *c.FinishReason
			}
		}
	}
	if !done && finish == "" {
		return expected{}, fmt.Errorf("the stream has neither [DONE] nor a finish_reason")
	}
	e.text = text.String()
	for _, i := range order {
		tc := calls[i]
		e.toolCalls = append(e.toolCalls, llm.ToolCall{ID: tc.id, Name: tc.name, Arguments: tc.args.String()})
	}
	e.finish = openAIFinish(finish, len(e.toolCalls) > 0)
	return e, nil
}

type anthropicUsageJSON struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// add overwrites dst's counts with those u reports.
func (u *anthropicUsageJSON) add(dst *anthropicUsageJSON) {
	if u == nil {
		return
	}
	if u.InputTokens != nil {
		dst.InputTokens = u.InputTokens
	}
	if u.OutputTokens != nil {
		dst.OutputTokens = u.OutputTokens
	}
	if u.CacheCreationInputTokens != nil {
		dst.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
	if u.CacheReadInputTokens != nil {
		dst.CacheReadInputTokens = u.CacheReadInputTokens
	}
}

// usage: Anthropic's input_tokens leaves out cache writes and reads; llm.Usage's InputTokens
// counts every prompt token.
func (u anthropicUsageJSON) usage() llm.Usage {
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return llm.Usage{
		InputTokens:       n(u.InputTokens) + n(u.CacheCreationInputTokens) + n(u.CacheReadInputTokens),
		OutputTokens:      n(u.OutputTokens),
		CachedInputTokens: n(u.CacheReadInputTokens),
	}
}

// decodeAnthropicJSON reads a message object: its text blocks joined, its tool_use blocks with
// their input as recorded.
func decodeAnthropicJSON(body []byte) (expected, error) {
	var r struct {
		Model   string `json:"model"`
		Content []struct {
			Type  string          `json:"type"`
			Text  string          `json:"text"`
			ID    string          `json:"id"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		StopReason string             `json:"stop_reason"`
		Usage      anthropicUsageJSON `json:"usage"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return expected{}, err
	}
	e := expected{model: r.Model, finish: anthropicFinish(r.StopReason), usage: r.Usage.usage()}
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			e.text += b.Text
		case "tool_use":
			e.toolCalls = append(e.toolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: string(b.Input)})
		}
	}
	return e, nil
}

// decodeAnthropicStream assembles Messages API events: blocks by index, text deltas and input
// JSON deltas appended to their block, stop reason and usage from message_start and
// message_delta.
func decodeAnthropicStream(body []byte) (expected, error) {
	type block struct {
		typ, id, name string
		text, input   strings.Builder
		startInput    json.RawMessage
	}
	var order []int
	blocks := map[int]*block{}
	var usage anthropicUsageJSON
	var e expected
	var stop string
	done := false
	for _, data := range sseData(body) {
		var ev struct {
			Type    string `json:"type"`
			Index   int    `json:"index"`
			Message struct {
				Model string              `json:"model"`
				Usage *anthropicUsageJSON `json:"usage"`
			} `json:"message"`
			ContentBlock struct {
				Type  string          `json:"type"`
				ID    string          `json:"id"`
				Name  string          `json:"name"`
				Text  string          `json:"text"`
				Input json.RawMessage `json:"input"`
			} `json:"content_block"`
			Delta struct {
				Type        string `json:"type"`
				Text        string `json:"text"`
				PartialJSON string `json:"partial_json"`
				StopReason  string `json:"stop_reason"`
			} `json:"delta"`
			Usage *anthropicUsageJSON `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return expected{}, fmt.Errorf("event %q: %w", data, err)
		}
		switch ev.Type {
		case "message_start":
			e.model = ev.Message.Model
			ev.Message.Usage.add(&usage)
		case "content_block_start":
			b := &block{typ: ev.ContentBlock.Type, id: ev.ContentBlock.ID, name: ev.ContentBlock.Name, startInput: ev.ContentBlock.Input}
			b.text.WriteString(ev.ContentBlock.Text)
			blocks[ev.Index] = b
			order = append(order, ev.Index)
		case "content_block_delta":
			b := blocks[ev.Index]
			if b == nil {
				return expected{}, fmt.Errorf("a delta for block %d, which did not start", ev.Index)
			}
			switch ev.Delta.Type {
			case "text_delta":
				b.text.WriteString(ev.Delta.Text)
			case "input_json_delta":
				b.input.WriteString(ev.Delta.PartialJSON)
			}
		case "message_delta":
			if ev.Delta.StopReason != "" {
				stop = ev.Delta.StopReason
			}
			ev.Usage.add(&usage)
		case "message_stop":
			done = true
		case "error":
			return expected{}, fmt.Errorf("error event %s", data)
		}
	}
	if !done {
		return expected{}, fmt.Errorf("the stream has no message_stop")
	}
	var text strings.Builder
	for _, i := range order {
		b := blocks[i]
		switch b.typ {
		case "text":
			text.WriteString(b.text.String())
		case "tool_use":
			args := b.input.String()
			if strings.TrimSpace(args) == "" { // no input deltas: the start's input, else {}
				args = string(b.startInput)
			}
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			e.toolCalls = append(e.toolCalls, llm.ToolCall{ID: b.id, Name: b.name, Arguments: args})
		}
	}
	e.text = text.String()
	e.finish = anthropicFinish(stop)
	e.usage = usage.usage()
	return e, nil
}
