package llmtest_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// fakeTB records the failures that AssertComplete reports, so tests can check them without failing.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprint(args...))
}

func userRequest(text string) *llm.Request {
	return &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are terse."},
		{Role: llm.RoleUser, Content: text},
	}}
}

func TestReplyConstructors(t *testing.T) {
	r := llmtest.Text("hi")
	assert.Equal(t, &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "hi"}, FinishReason: llm.FinishStop}, r.Response)
	assert.NoError(t, r.Err)

	r = llmtest.Calls(llmtest.Call("calc", `{"x":1}`))
	assert.Equal(t, llm.FinishToolCalls, r.Response.FinishReason)
	assert.Equal(t, []llm.ToolCall{{Name: "calc", Arguments: `{"x":1}`}}, r.Response.Message.ToolCalls)
	assert.Empty(t, r.Response.Message.Content)

	r = llmtest.TextAndCalls("let me see", llmtest.Call("calc", `{}`))
	assert.Equal(t, "let me see", r.Response.Message.Content)
	assert.Len(t, r.Response.Message.ToolCalls, 1)
	assert.Equal(t, llm.FinishToolCalls, r.Response.FinishReason)

	boom := errors.New("boom")
	r = llmtest.Fail(boom)
	assert.Nil(t, r.Response)
	assert.Same(t, boom, r.Err)
	assert.Panics(t, func() { llmtest.Fail(nil) })

	base := llmtest.Text("x")
	withUsage := base.WithUsage(10, 3)
	assert.Equal(t, llm.Usage{InputTokens: 10, OutputTokens: 3}, withUsage.Response.Usage)
	assert.Equal(t, llm.Usage{}, base.Response.Usage, "WithUsage must not change the original")
	assert.Panics(t, func() { llmtest.Fail(boom).WithUsage(1, 1) })
}

func TestScriptOrder(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("rate limited")
	s := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("search", `{"q":"go"}`), llmtest.Call("calc", `{"e":"1+1"}`)).WithUsage(100, 20),
		llmtest.Fail(boom),
		llmtest.Text("done"),
	)
	assert.Equal(t, 3, s.Remaining())
	assert.Equal(t, 0, s.Calls())

	resp, err := s.Generate(ctx, userRequest("first"))
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "call_1", Name: "search", Arguments: `{"q":"go"}`},
			{ID: "call_2", Name: "calc", Arguments: `{"e":"1+1"}`},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 100, OutputTokens: 20},
	}, resp)

	_, err = s.Generate(ctx, userRequest("second"))
	assert.Same(t, boom, err, "a Fail reply returns its error as is")

	resp, err = s.Generate(ctx, userRequest("third"))
	require.NoError(t, err)
	assert.Equal(t, "done", resp.Message.Content)

	assert.Equal(t, 0, s.Remaining())
	assert.Equal(t, 3, s.Calls())
	reqs := s.Requests()
	require.Len(t, reqs, 3)
	for i, want := range []string{"first", "second", "third"} {
		assert.Equal(t, want, reqs[i].Messages[1].Content)
	}
	s.AssertComplete(t)
}

func TestScriptToolCallIDs(t *testing.T) {
	ctx := context.Background()
	s := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("a", `{}`), llm.ToolCall{ID: "call_2", Name: "b", Arguments: `{}`}),
		llmtest.Calls(llmtest.Call("c", `{}`), llmtest.Call("d", `{}`)),
	)
	var ids []string
	for range 2 {
		resp, err := s.Generate(ctx, userRequest("go"))
		require.NoError(t, err)
		for _, c := range resp.Message.ToolCalls {
			ids = append(ids, c.ID)
		}
	}
	assert.Equal(t, []string{"call_1", "call_2", "call_3", "call_4"}, ids, "unique across the script, explicit IDs kept and skipped")
}

func TestScriptCopies(t *testing.T) {
	ctx := context.Background()
	reply := llmtest.Calls(llm.ToolCall{ID: "fixed", Name: "calc", Arguments: `{"e":"2*3"}`})
	s := llmtest.NewScript(reply, reply)
	// Changing the Reply after NewScript does not change the script.
	reply.Response.Message.ToolCalls[0].Name = "changed"

	req := userRequest("hello")
	temp := 0.5
	req.Temperature = &temp
	req.Tools = []llm.ToolSpec{{Name: "calc", Parameters: []byte(`{"type":"object"}`)}}
	req.Stop = []string{"END"}

	first, err := s.Generate(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "calc", first.Message.ToolCalls[0].Name)
	first.Message.ToolCalls[0].Arguments = "mutated"
	first.Message.Content = "mutated"

	// The caller changes its request after the call.
	req.Messages[1].Content = "changed"
	req.Tools[0].Parameters[2] = 'X'
	*req.Temperature = 2
	req.Stop[0] = "changed"

	second, err := s.Generate(ctx, userRequest("again"))
	require.NoError(t, err)
	assert.Equal(t, `{"e":"2*3"}`, second.Message.ToolCalls[0].Arguments, "responses are independent copies")
	assert.Empty(t, second.Message.Content)

	got := s.Requests()[0]
	assert.Equal(t, "hello", got.Messages[1].Content)
	assert.Equal(t, `{"type":"object"}`, string(got.Tools[0].Parameters))
	assert.InDelta(t, 0.5, *got.Temperature, 0)
	assert.Equal(t, []string{"END"}, got.Stop)

	// Changing what Requests returned does not change the script's record.
	got.Messages[1].Content = "scribbled"
	assert.Equal(t, "hello", s.Requests()[0].Messages[1].Content)
}

func TestScriptExhausted(t *testing.T) {
	ctx := context.Background()
	s := llmtest.NewScript(llmtest.Text("only"))
	_, err := s.Generate(ctx, userRequest("one"))
	require.NoError(t, err)

	_, err = s.Generate(ctx, userRequest("What is 2+2?"))
	require.ErrorIs(t, err, llmtest.ErrScriptExhausted)
	assert.EqualError(t, err, `llmtest: script exhausted: call 2, but 1 reply was scripted; last message: user "What is 2+2?"`)

	req := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "go"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "calc"}}},
		{Role: llm.RoleTool, ToolCallID: "call_1", Name: "calc", Content: strings.Repeat("long result ", 10)},
	}}
	_, err = s.Generate(ctx, req)
	require.ErrorIs(t, err, llmtest.ErrScriptExhausted)
	assert.EqualError(t, err, `llmtest: script exhausted: call 3, but 1 reply was scripted; last message: tool (result of calc call_1) "long result long result long result long result long result ..."`)

	_, err = llmtest.NewScript().Generate(ctx, &llm.Request{})
	assert.EqualError(t, err, `llmtest: script exhausted: call 1, but 0 replies were scripted; last message: (no messages)`)

	_, err = llmtest.NewScript().Generate(ctx, &llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{Name: "a"}, {Name: "b"}}}}})
	assert.EqualError(t, err, `llmtest: script exhausted: call 1, but 0 replies were scripted; last message: assistant calling a, b`)

	assert.Equal(t, 3, s.Calls(), "calls past the end count")
	assert.Len(t, s.Requests(), 3)

	// Every reply was used, but the calls past the end still fail AssertComplete.
	ft := &fakeTB{}
	s.AssertComplete(ft)
	require.Len(t, ft.errors, 2)
	assert.Contains(t, ft.errors[0], "call 2, but 1 reply was scripted")
	assert.Contains(t, ft.errors[1], "call 3, but 1 reply was scripted")
}

func TestScriptAssertComplete(t *testing.T) {
	ctx := context.Background()
	s := llmtest.NewScript(llmtest.Text("a"), llmtest.Text("b"), llmtest.Text("c"))
	_, err := s.Generate(ctx, userRequest("x"))
	require.NoError(t, err)

	ft := &fakeTB{}
	s.AssertComplete(ft)
	assert.Equal(t, []string{"llmtest: script not complete: 2 of 3 replies not used (1 call made)"}, ft.errors)

	for range 2 {
		_, err := s.Generate(ctx, userRequest("x"))
		require.NoError(t, err)
	}
	ft = &fakeTB{}
	s.AssertComplete(ft)
	assert.Empty(t, ft.errors)
}

func TestScriptContext(t *testing.T) {
	s := llmtest.NewScript(llmtest.Text("a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Generate(ctx, userRequest("x"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, s.Remaining(), "a done context consumes nothing")
	assert.Equal(t, 0, s.Calls())
	assert.Empty(t, s.Requests())

	for _, err := range s.Stream(ctx, userRequest("x")) {
		assert.ErrorIs(t, err, context.Canceled)
	}
	assert.Equal(t, 1, s.Remaining())

	_, err = s.Generate(context.Background(), nil)
	assert.Error(t, err)
	assert.Equal(t, 1, s.Remaining(), "a nil request consumes nothing")
}

func TestScriptConcurrent(t *testing.T) {
	const n = 50
	replies := make([]llmtest.Reply, n)
	for i := range replies {
		replies[i] = llmtest.Calls(llmtest.Call("tool", fmt.Sprintf(`{"i":%d}`, i)))
	}
	s := llmtest.NewScript(replies...)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		args []string
		ids  []string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp *llm.Response
			if i%2 == 0 {
				r, err := s.Generate(context.Background(), userRequest("go"))
				assert.NoError(t, err)
				resp = r
			} else {
				for c, err := range s.Stream(context.Background(), userRequest("go")) {
					assert.NoError(t, err)
					if c.Response != nil {
						resp = c.Response
					}
				}
			}
			_ = s.Remaining()
			_ = s.Requests()
			mu.Lock()
			args = append(args, resp.Message.ToolCalls[0].Arguments)
			ids = append(ids, resp.Message.ToolCalls[0].ID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Strings(args)
	want := make([]string, n)
	wantIDs := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf(`{"i":%d}`, i)
		wantIDs[i] = fmt.Sprintf("call_%d", i+1)
	}
	sort.Strings(want)
	sort.Strings(ids)
	sort.Strings(wantIDs)
	assert.Equal(t, want, args, "every reply used exactly once")
	assert.Equal(t, wantIDs, ids)
	assert.Equal(t, n, s.Calls())
	s.AssertComplete(t)
}

// assemble rebuilds a response from stream chunks the way a consumer would, checking each chunk.
func assemble(t *testing.T, seq func(func(llm.Chunk, error) bool)) (text string, calls []llm.ToolCall, final *llm.Response, textChunks int) {
	t.Helper()
	var b strings.Builder
	for c, err := range seq {
		require.NoError(t, err)
		require.Nil(t, final, "nothing may follow the final chunk")
		switch {
		case c.Response != nil:
			assert.Empty(t, c.Text)
			assert.Nil(t, c.ToolCall)
			final = c.Response
		case c.ToolCall != nil:
			d := c.ToolCall
			assert.Empty(t, c.Text)
			assert.True(t, utf8.ValidString(d.Arguments), "argument fragment %q splits a rune", d.Arguments)
			if d.Index == len(calls) {
				require.NotEmpty(t, d.ID, "first fragment of a call has its ID")
				require.NotEmpty(t, d.Name, "first fragment of a call has its name")
				assert.Empty(t, d.Arguments, "first fragment of a call carries no arguments")
				calls = append(calls, llm.ToolCall{ID: d.ID, Name: d.Name})
				continue
			}
			require.Equal(t, len(calls)-1, d.Index, "fragments arrive call by call")
			assert.Empty(t, d.ID)
			calls[d.Index].Arguments += d.Arguments
		default:
			require.Empty(t, calls, "text comes before tool calls")
			require.NotEmpty(t, c.Text)
			assert.True(t, utf8.ValidString(c.Text), "text fragment %q splits a rune", c.Text)
			b.WriteString(c.Text)
			textChunks++
		}
	}
	require.NotNil(t, final, "the stream ends with the full response")
	return b.String(), calls, final, textChunks
}

func TestScriptStream(t *testing.T) {
	ctx := context.Background()
	text := "Grüße aus 東京 🙂🎉 — naïve café, ok?"
	replies := []llmtest.Reply{
		llmtest.TextAndCalls(text,
			llmtest.Call("translate", `{"text":"日本語のテキスト","to":"fr"}`),
			llmtest.Call("calc", `{"e":"15*4"}`),
		).WithUsage(42, 7),
		llmtest.Text("plain"),
		llmtest.Calls(llmtest.Call("noargs", "")),
	}
	streamed := llmtest.NewScript(replies...)
	generated := llmtest.NewScript(replies...)

	for i := range replies {
		want, err := generated.Generate(ctx, userRequest("go"))
		require.NoError(t, err)
		gotText, gotCalls, final, textChunks := assemble(t, streamed.Stream(ctx, userRequest("go")))
		assert.Equal(t, want, final, "reply %d: final chunk equals Generate's response", i)
		assert.Equal(t, want.Message.Content, gotText, "reply %d", i)
		if len(want.Message.ToolCalls) > 0 {
			assert.Equal(t, want.Message.ToolCalls, gotCalls, "reply %d", i)
		} else {
			assert.Empty(t, gotCalls)
		}
		if i == 0 {
			assert.Greater(t, textChunks, 5, "text arrives in several small chunks")
		}
		assert.Equal(t, len(replies)-i-1, streamed.Remaining(), "one reply per stream")
	}
	streamed.AssertComplete(t)
}

func TestScriptStreamErrorsAndEarlyStop(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	s := llmtest.NewScript(llmtest.Text("a long answer that streams in many chunks"), llmtest.Fail(boom))

	n := 0
	for c, err := range s.Stream(ctx, userRequest("x")) {
		require.NoError(t, err)
		assert.NotEmpty(t, c.Text)
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, s.Remaining(), "stopping early still consumed the reply")

	var errs []error
	for c, err := range s.Stream(ctx, userRequest("x")) {
		assert.Equal(t, llm.Chunk{}, c)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.Same(t, boom, errs[0])

	errs = nil
	for _, err := range s.Stream(ctx, userRequest("x")) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], llmtest.ErrScriptExhausted)

	// Cancelling during the stream ends it with the context's error.
	s = llmtest.NewScript(llmtest.Text("a long answer that streams in many chunks"))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last error
	chunks := 0
	for _, err := range s.Stream(cctx, userRequest("x")) {
		if err != nil {
			last = err
			continue
		}
		chunks++
		cancel()
	}
	assert.Equal(t, 1, chunks)
	assert.ErrorIs(t, last, context.Canceled)
}

func TestChunks(t *testing.T) {
	resp := &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "日本語のテキスト"}, FinishReason: llm.FinishStop}
	chunks := llmtest.Chunks(resp)
	require.Len(t, chunks, 3)
	assert.Equal(t, "日本語の", chunks[0].Text)
	assert.Equal(t, "テキスト", chunks[1].Text)
	assert.Equal(t, resp, chunks[2].Response)
	assert.NotSame(t, resp, chunks[2].Response)

	// Invalid UTF-8 is passed through byte for byte.
	bad := "ab\xffcd\xfe"
	chunks = llmtest.Chunks(&llm.Response{Message: llm.Message{Content: bad}})
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.Text)
	}
	assert.Equal(t, bad, b.String())
}

func TestFunc(t *testing.T) {
	ctx := context.Background()
	calls := 0
	var f llmtest.Func = func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		calls++
		last := req.Messages[len(req.Messages)-1]
		req.Messages[0].Content = "scribbled" // must not reach the caller
		if last.Role == llm.RoleTool {
			return llmtest.Text("the answer is " + last.Content).Response, nil
		}
		if last.Content == "fail" {
			return nil, errors.New("asked to fail")
		}
		if last.Content == "nil" {
			return nil, nil
		}
		return llmtest.Calls(llm.ToolCall{ID: "c1", Name: "calc", Arguments: `{"e":"` + last.Content + `"}`}).Response, nil
	}
	var m llm.Model = f
	req := userRequest("6*7")
	resp, err := m.Generate(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, `{"e":"6*7"}`, resp.Message.ToolCalls[0].Arguments)
	assert.Equal(t, "You are terse.", req.Messages[0].Content, "Func gets a copy of the request")

	req.Messages = append(req.Messages, resp.Message, llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Content: "42"})
	_, _, final, _ := assemble(t, f.Stream(ctx, req))
	assert.Equal(t, "the answer is 42", final.Message.Content)

	_, err = f.Generate(ctx, userRequest("fail"))
	assert.EqualError(t, err, "asked to fail")
	_, err = f.Generate(ctx, userRequest("nil"))
	assert.ErrorContains(t, err, "nil response")
	_, err = f.Generate(ctx, nil)
	assert.Error(t, err)

	done, cancel := context.WithCancel(ctx)
	cancel()
	before := calls
	_, err = f.Generate(done, userRequest("x"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, before, calls, "f is not called with a done context")
}
