package llmtest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// A cassette as go-vcr v4 writes it (format version 2), with one OpenAI chat exchange.
const chatCassette = `---
version: 2
interactions:
    - id: 0
      request:
        proto: HTTP/1.1
        proto_major: 1
        proto_minor: 1
        content_length: 0
        host: api.openai.com
        body: '{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello in French."}]}'
        headers:
            Authorization:
                - Bearer REDACTED
            Content-Type:
                - application/json
        url: https://api.openai.com/v1/chat/completions
        method: POST
      response:
        proto: HTTP/2.0
        proto_major: 2
        proto_minor: 0
        content_length: -1
        uncompressed: true
        body: |
            {"id":"chatcmpl-llmtest1","object":"chat.completion","created":1735689600,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour !"},"finish_reason":"stop"}],"usage":{"prompt_tokens":13,"completion_tokens":3,"total_tokens":16}}
        headers:
            Content-Type:
                - application/json
            X-Request-Id:
                - req_llmtest1
        status: 200 OK
        code: 200
        duration: 412ms
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestOpenCassetteWithLangchaingo(t *testing.T) {
	for _, name := range []string{"chat.yaml", "chat.yml", "chat"} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, name, chatCassette)
			rp, err := llmtest.OpenCassette(path)
			require.NoError(t, err)
			model, err := langchaingo.OpenAI("gpt-4o", "sk-test", langchaingo.WithHTTPClient(rp.Client()))
			require.NoError(t, err)
			resp, err := llm.NonStreaming(model).Generate(context.Background(), &llm.Request{
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "Say hello in French."}},
			})
			require.NoError(t, err)
			assert.Equal(t, "Bonjour !", resp.Message.Content)
			assert.Equal(t, llm.FinishStop, resp.FinishReason)
			assert.Equal(t, 16, resp.Usage.TotalTokens())
			assert.Equal(t, "gpt-4o-2024-08-06", resp.Model)
			rp.AssertComplete(t)

			// What the client sent is what a matcher sees.
			sent := rp.Requests()
			require.Len(t, sent, 1)
			text, err := sent[0].Lookup("messages.0.content")
			require.NoError(t, err)
			assert.Equal(t, "Say hello in French.", text)
		})
	}
}

func TestReadCassette(t *testing.T) {
	ex, err := llmtest.ReadCassette(writeFile(t, "c.yaml", chatCassette))
	require.NoError(t, err)
	require.Len(t, ex, 1)
	e := ex[0]
	assert.Equal(t, 0, e.Record)
	assert.Equal(t, "POST https://api.openai.com/v1/chat/completions", e.Request.String())
	assert.Equal(t, "application/json", e.Request.Header.Get("Content-Type"))
	assert.Equal(t, 200, e.Response.StatusCode)
	assert.Equal(t, "200 OK", e.Response.Status)
	assert.Equal(t, "req_llmtest1", e.Response.Header.Get("X-Request-Id"))
	content, err := e.Response.Lookup("choices.0.message.content")
	require.NoError(t, err)
	assert.Equal(t, "Bonjour !", content)

	// A status text is filled in from the code.
	noStatus := strings.Replace(chatCassette, "        status: 200 OK\n", "", 1)
	ex, err = llmtest.ReadCassette(writeFile(t, "s.yaml", noStatus))
	require.NoError(t, err)
	assert.Equal(t, "200 OK", ex[0].Response.Status)

	// A format-1 cassette (go-vcr v1/v2) is refused with go-vcr's error.
	_, err = llmtest.ReadCassette(writeFile(t, "old.yaml", strings.Replace(chatCassette, "version: 2", "version: 1", 1)))
	require.ErrorIs(t, err, cassette.ErrUnsupportedCassetteFormat)
	assert.Contains(t, err.Error(), "llmtest: cassette ")

	_, err = llmtest.OpenCassette(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = llmtest.ReadCassette(writeFile(t, "bad.yaml", "version: [2\n"))
	assert.Error(t, err)
	_, err = llmtest.ReadCassette(writeFile(t, "nocode.yaml", strings.Replace(chatCassette, "        code: 200\n", "", 1)))
	assert.ErrorContains(t, err, "interaction 1: response has no status code")
}

// calcConversation replays langchaingo's recorded calculator run through model: the question,
// then the question with the tool call and its result. It returns both answers.
func calcConversation(t *testing.T, model llm.Model) (first, second *llm.Response) {
	t.Helper()
	ctx := context.Background()
	zero := 0.0
	req := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are a helpful assistant that can perform calculations."},
			{Role: llm.RoleUser, Content: "What is 15 multiplied by 4?"},
		},
		Tools: []llm.ToolSpec{{
			Name:        calculatorTool.Function.Name,
			Description: calculatorTool.Function.Description,
			Parameters:  calculatorTool.Function.Parameters.(json.RawMessage),
		}},
		Temperature: &zero,
	}
	first, err := model.Generate(ctx, req)
	require.NoError(t, err)
	require.Len(t, first.Message.ToolCalls, 1)
	call := first.Message.ToolCalls[0]
	req.Messages = append(req.Messages, first.Message, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: "60"})
	second, err = model.Generate(ctx, req)
	require.NoError(t, err)
	return first, second
}

func openAIOver(t *testing.T, client *http.Client) llm.Model {
	t.Helper()
	m, err := langchaingo.OpenAI("gpt-4o", "sk-test", langchaingo.WithHTTPClient(client))
	require.NoError(t, err)
	return llm.NonStreaming(m)
}

// A cassette built with go-vcr's cassette API from a real recorded httprr trace replays to the
// same answers as the trace itself.
func TestCassetteFromRecordedTrace(t *testing.T) {
	tracePath := llmtest.LangchaingoFile(t, calcTrace)

	// The reference: the httprr trace replayed directly.
	direct, err := llmtest.OpenReplay(tracePath)
	require.NoError(t, err)
	wantCall, wantAnswer := calcConversation(t, openAIOver(t, direct.Client()))
	direct.AssertComplete(t)
	assert.Contains(t, wantAnswer.Message.Content, "60")

	// The same exchanges as a go-vcr cassette.
	ex, err := llmtest.ReadTrace(tracePath)
	require.NoError(t, err)
	name := filepath.Join(t.TempDir(), "calc")
	c := cassette.New(name)
	c.MarshalFunc = yaml.Marshal
	for _, e := range ex {
		c.AddInteraction(&cassette.Interaction{
			Request: cassette.Request{
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Method: e.Request.Method, URL: e.Request.URL.String(), Host: e.Request.URL.Host,
				Headers: e.Request.Header, Body: string(e.Request.Body), ContentLength: int64(len(e.Request.Body)),
			},
			Response: cassette.Response{
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Code: e.Response.StatusCode, Status: e.Response.Status,
				Headers: e.Response.Header, Body: string(e.Response.Body), ContentLength: int64(len(e.Response.Body)),
			},
		})
	}
	require.NoError(t, c.Save())
	require.FileExists(t, name+".yaml")

	rp, err := llmtest.OpenCassette(name + ".yaml")
	require.NoError(t, err)
	assert.Len(t, rp.Exchanges(), len(ex))
	gotCall, gotAnswer := calcConversation(t, openAIOver(t, rp.Client()))
	rp.AssertComplete(t)
	assert.Equal(t, wantCall, gotCall)
	assert.Equal(t, wantAnswer, gotAnswer)
	assert.Equal(t, "calculator", gotCall.Message.ToolCalls[0].Name)

	// The recorded bodies survive the YAML round trip byte for byte.
	for i, e := range rp.Exchanges() {
		assert.Equal(t, ex[i].Request.Body, e.Request.Body, "request %d", i)
		assert.Equal(t, ex[i].Response.Body, e.Response.Body, "response %d", i)
	}
}

// A cassette recorded by go-vcr's own recorder (with the httprr replay standing in for the
// network) replays through OpenCassette to the same answers.
func TestCassetteFromGoVCRRecorder(t *testing.T) {
	tracePath := llmtest.LangchaingoFile(t, calcTrace)
	upstream, err := llmtest.OpenReplay(tracePath)
	require.NoError(t, err)
	name := filepath.Join(t.TempDir(), "recorded")
	rec, err := recorder.New(name, recorder.WithMode(recorder.ModeRecordOnly), recorder.WithRealTransport(upstream),
		recorder.WithSkipRequestLatency(true))
	require.NoError(t, err)
	wantCall, wantAnswer := calcConversation(t, openAIOver(t, rec.GetDefaultClient()))
	require.NoError(t, rec.Stop())
	upstream.AssertComplete(t)

	rp, err := llmtest.OpenCassette(name + ".yaml")
	require.NoError(t, err)
	gotCall, gotAnswer := calcConversation(t, openAIOver(t, rp.Client()))
	rp.AssertComplete(t)
	assert.Equal(t, wantCall, gotCall)
	assert.Equal(t, wantAnswer, gotAnswer)
}

// gzipCassette is chatCassette with its response body stored compressed, as a cassette holds it
// when recorded below the client's decompression: a YAML !!binary of gzip bytes, with the
// Content-Encoding header that came with them.
func gzipCassette(t *testing.T) string {
	t.Helper()
	const answer = `{"id":"chatcmpl-llmtest1","object":"chat.completion","created":1735689600,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour !"},"finish_reason":"stop"}],"usage":{"prompt_tokens":13,"completion_tokens":3,"total_tokens":16}}`
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, err := zw.Write([]byte(answer))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	start := strings.Index(chatCassette, "        body: |\n")
	end := strings.Index(chatCassette, "        headers:\n            Content-Type:\n                - application/json\n            X-Request-Id")
	require.True(t, start > 0 && end > start)
	return chatCassette[:start] +
		"        body: !!binary " + base64.StdEncoding.EncodeToString(zipped.Bytes()) + "\n" +
		"        headers:\n            Content-Encoding:\n                - gzip\n" +
		chatCassette[end+len("        headers:\n"):]
}

// A cassette whose response body really is gzip replays through langchaingo's real OpenAI client
// both as a transport and as a server, and raw to a client that asked for gzip itself.
func TestOpenCassetteGzipBody(t *testing.T) {
	path := writeFile(t, "gz.yaml", gzipCassette(t))
	ex, err := llmtest.ReadCassette(path)
	require.NoError(t, err)
	require.Len(t, ex, 1)
	require.True(t, bytes.HasPrefix(ex[0].Response.Body, []byte{0x1f, 0x8b}), "the body stays compressed in the Exchange")
	ask := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Say hello in French."}}}

	t.Run("transport", func(t *testing.T) {
		rp, err := llmtest.OpenCassette(path)
		require.NoError(t, err)
		resp, err := openAIOver(t, rp.Client()).Generate(context.Background(), ask)
		require.NoError(t, err)
		assert.Equal(t, "Bonjour !", resp.Message.Content)
		require.NoError(t, rp.Err())
	})
	t.Run("server", func(t *testing.T) {
		rp, err := llmtest.OpenCassette(path)
		require.NoError(t, err)
		srv := rp.Server(t)
		m, err := langchaingo.OpenAI("gpt-4o", "sk-test", langchaingo.WithBaseURL(srv.URL+"/v1"), langchaingo.WithHTTPClient(srv.Client()))
		require.NoError(t, err)
		resp, err := llm.NonStreaming(m).Generate(context.Background(), ask)
		require.NoError(t, err)
		assert.Equal(t, "Bonjour !", resp.Message.Content)
		require.NoError(t, rp.Err())
	})
	t.Run("explicit Accept-Encoding", func(t *testing.T) {
		rp, err := llmtest.OpenCassette(path)
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello in French."}]}`))
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := rp.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		assert.Equal(t, ex[0].Response.Body, raw, "a client that asked for gzip gets the bytes as recorded")
		assert.False(t, resp.Uncompressed)
	})
	// A gzip header over a plain body (stored after decoding) is dropped on both paths.
	plainPath := writeFile(t, "plain.yaml", strings.Replace(chatCassette, "            X-Request-Id:", "            Content-Encoding:\n                - gzip\n            X-Request-Id:", 1))
	t.Run("header over plain body, server", func(t *testing.T) {
		rp, err := llmtest.OpenCassette(plainPath)
		require.NoError(t, err)
		srv := rp.Server(t)
		m, err := langchaingo.OpenAI("gpt-4o", "sk-test", langchaingo.WithBaseURL(srv.URL+"/v1"), langchaingo.WithHTTPClient(srv.Client()))
		require.NoError(t, err)
		resp, err := llm.NonStreaming(m).Generate(context.Background(), ask)
		require.NoError(t, err)
		assert.Equal(t, "Bonjour !", resp.Message.Content)
	})
	t.Run("header over plain body, transport", func(t *testing.T) {
		rp, err := llmtest.OpenCassette(plainPath)
		require.NoError(t, err)
		resp, err := openAIOver(t, rp.Client()).Generate(context.Background(), ask)
		require.NoError(t, err)
		assert.Equal(t, "Bonjour !", resp.Message.Content)
	})
	// The httprr path serves the same way: NewReplay of the same exchange.
	t.Run("NewReplay", func(t *testing.T) {
		rp := llmtest.NewReplay(ex)
		resp, err := openAIOver(t, rp.Client()).Generate(context.Background(), ask)
		require.NoError(t, err)
		assert.Equal(t, "Bonjour !", resp.Message.Content)
	})
}

// Files that hold no cassette are errors naming the file, not replays of nothing.
func TestReadCassetteRefusesEmpty(t *testing.T) {
	for name, content := range map[string]string{
		"empty.yaml":           "",
		"blank.yaml":           "\n  \n",
		"noversion.yaml":       strings.Replace(chatCassette, "version: 2\n", "", 1),
		"nointeractions.yaml":  "---\nversion: 2\ninteractions: []\n",
		"nointeractions2.yaml": "---\nversion: 2\n",
	} {
		path := writeFile(t, name, content)
		_, err := llmtest.ReadCassette(path)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), path, name)
		_, err = llmtest.OpenCassette(path)
		assert.Error(t, err, name)
	}
	_, err := llmtest.ReadCassette(writeFile(t, "v1.yaml", strings.Replace(chatCassette, "version: 2", "version: 1", 1)))
	require.ErrorIs(t, err, cassette.ErrUnsupportedCassetteFormat)
	assert.Contains(t, err.Error(), "format version 1")
}
