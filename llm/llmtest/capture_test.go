package llmtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// fatalTB records a Fatal call and ends its goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper()      {}
func (f *fatalTB) Name() string { return "TestFake" }
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs fn with a fatalTB in its own goroutine and returns what Fatal said ("" if nothing).
func fatalOf(fn func(tb testing.TB)) string {
	tb := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	return tb.msg
}

func TestCapture(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	script := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("clock", "{}")),
		llmtest.Text("It is noon."),
		llmtest.Fail(boom),
		llmtest.Text("streamed answer"),
	)
	rec := llmtest.Capture(script)
	assert.Zero(t, rec.Len())
	assert.Contains(t, fatalOf(func(tb testing.TB) { rec.Last(tb) }), "llmtest: Recorder.Last: the model was never called")

	req := &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleSystem, Content: "Be brief."}, {Role: llm.RoleUser, Content: "Time?"}},
		Tools:    []llm.ToolSpec{clockSpec, weatherSpec},
	}
	resp, err := rec.Generate(ctx, req)
	require.NoError(t, err)
	req.Messages = append(req.Messages, resp.Message, llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", Name: "clock", Content: "12:00"})
	_, err = rec.Generate(ctx, req)
	require.NoError(t, err)
	_, err = rec.Generate(ctx, req)
	require.ErrorIs(t, err, boom)
	for _, err := range rec.Stream(ctx, toolRequest("stream please")) {
		require.NoError(t, err)
	}

	require.Equal(t, 4, rec.Len())
	ex := rec.Exchanges()
	require.Len(t, ex, 4)
	assert.Equal(t, "call_1", ex[0].Response.Message.ToolCalls[0].ID)
	assert.Equal(t, "It is noon.", ex[1].Response.Message.Content)
	assert.Nil(t, ex[2].Response)
	assert.ErrorIs(t, ex[2].Err, boom)
	assert.True(t, ex[3].Streamed)
	assert.False(t, ex[0].Streamed)
	assert.Equal(t, "streamed answer", ex[3].Response.Message.Content)

	// Deep copies: changing what the test passed or got does not change the record.
	req.Messages[0].Content = "changed"
	ex[0].Response.Message.ToolCalls[0].ID = "changed"
	first := rec.Requests()[0]
	assert.Equal(t, "Be brief.", first.Messages[0].Content)
	assert.Len(t, first.Messages, 2)
	assert.Equal(t, "call_1", rec.Exchanges()[0].Response.Message.ToolCalls[0].ID)

	// The helpers.
	assert.Equal(t, "Be brief.", llmtest.SystemPrompt(first))
	assert.Equal(t, []string{"clock", "weather"}, llmtest.ToolNames(first))
	assert.Equal(t, "Time?", llmtest.LastUserText(first))
	assert.Nil(t, llmtest.ToolResults(first))
	second := rec.Requests()[1]
	results := llmtest.ToolResults(second)
	require.Len(t, results, 1)
	assert.Equal(t, "12:00", results[0].Content)
	last := rec.Last(t)
	assert.Equal(t, "stream please", llmtest.LastUserText(last))
	assert.Empty(t, llmtest.SystemPrompt(last))
	assert.Nil(t, llmtest.ToolNames(last))
	assert.Empty(t, llmtest.LastUserText(llm.Request{}))
	assert.Equal(t, "a\n\nb", llmtest.SystemPrompt(llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "a"}, {Role: llm.RoleSystem, Content: "b"}, {Role: llm.RoleUser, Content: "c"}}}))
	script.AssertComplete(t)
}

func TestCaptureStream(t *testing.T) {
	ctx := context.Background()
	// A model that only generates: Stream is synthesised from Generate.
	plain := llmtest.Capture(llm.NonStreaming(llmtest.NewScript(llmtest.Text("hello there"), llmtest.Text("again"))))
	var text string
	var final *llm.Response
	for c, err := range plain.Stream(ctx, toolRequest("x")) {
		require.NoError(t, err)
		text += c.Text
		if c.Response != nil {
			final = c.Response
		}
	}
	assert.Equal(t, "hello there", text)
	assert.Equal(t, "hello there", final.Message.Content)
	assert.True(t, plain.Exchanges()[0].Streamed)

	// A consumer that stops a streaming model early leaves neither response nor error.
	streaming := llmtest.Capture(llmtest.NewScript(llmtest.Text("a long answer")))
	for range streaming.Stream(ctx, toolRequest("y")) {
		break
	}
	ex := streaming.Exchanges()[0]
	assert.Nil(t, ex.Response)
	assert.NoError(t, ex.Err)

	// A streaming model's errors are recorded.
	boom := errors.New("boom")
	rec := llmtest.Capture(llmtest.NewScript(llmtest.Fail(boom)))
	for _, err := range rec.Stream(ctx, toolRequest("z")) {
		assert.ErrorIs(t, err, boom)
	}
	assert.ErrorIs(t, rec.Exchanges()[0].Err, boom)

	assert.Panics(t, func() { llmtest.Capture(nil) })
}

type namedModel struct{ llm.Model }

func (namedModel) ModelName() string { return "gpt-4o" }
func (namedModel) Provider() string  { return "openai" }
func (namedModel) Secrets() []string { return []string{"sk-secret"} }

func TestCaptureForwardsOptionalMethods(t *testing.T) {
	rec := llmtest.Capture(namedModel{llmtest.NewScript()})
	assert.Equal(t, "gpt-4o", rec.ModelName())
	assert.Equal(t, "openai", rec.Provider())
	assert.Equal(t, []string{"sk-secret"}, rec.Secrets())
	bare := llmtest.Capture(llmtest.NewScript())
	assert.Empty(t, bare.ModelName())
	assert.Empty(t, bare.Provider())
	assert.Nil(t, bare.Secrets())
}

func TestCaptureConcurrent(t *testing.T) {
	rec := llmtest.Capture(llmtest.NewAuto())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := rec.Generate(context.Background(), toolRequest(fmt.Sprint(i), clockSpec))
			assert.NoError(t, err)
			_ = rec.Exchanges()
		})
	}
	wg.Wait()
	assert.Equal(t, 20, rec.Len())
	for _, e := range rec.Exchanges() {
		require.NotNil(t, e.Response)
	}
}
