package llmtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm/llmtest"
)

const (
	calcTrace   = "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr"    // 2 chat calls, tool calculator
	searchTrace = "agents/testdata/TestExecutorWithOpenAIFunctionAgent.httprr"   // chat, serpapi GET, chat
	gzipTrace   = "vectorstores/chroma/testdata/TestChromaAsRetriever.httprr.gz" // embeddings
	ollamaTrace = "llms/ollama/testdata/TestWithStreaming.httprr"                // chunked ndjson stream
)

// send makes the recorded request again with client, against base (an origin such as a test
// server's URL; "" keeps the recorded URL).
func send(t *testing.T, client *http.Client, base string, rec *llmtest.RecordedRequest) (*http.Response, []byte, error) {
	t.Helper()
	u := rec.URL.String()
	if base != "" {
		u = base + rec.URL.RequestURI()
	}
	req, err := http.NewRequest(rec.Method, u, bytes.NewReader(rec.Body))
	require.NoError(t, err)
	req.Header = rec.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body, nil
}

func TestReadTrace(t *testing.T) {
	ex, err := llmtest.ReadTrace(llmtest.LangchaingoFile(t, calcTrace))
	require.NoError(t, err)
	require.Len(t, ex, 2)
	first := ex[0]
	assert.Equal(t, 0, first.Record)
	assert.Equal(t, "POST https://api.openai.com/v1/chat/completions", first.Request.String())
	model, err := first.Request.Lookup("model")
	require.NoError(t, err)
	assert.Equal(t, "gpt-4o", model)
	assert.Equal(t, 200, first.Response.StatusCode)
	assert.Equal(t, "200 OK", first.Response.Status)
	assert.Equal(t, "application/json", first.Response.Header.Get("Content-Type"))
	name, err := first.Response.Lookup("choices.0.message.tool_calls.0.function.name")
	require.NoError(t, err)
	assert.Equal(t, "calculator", name)

	// The second request carries the tool result; its response is the final answer.
	toolResult, err := ex[1].Request.Lookup("messages.-1.content")
	require.NoError(t, err)
	assert.Equal(t, "60", toolResult)
	var answer struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	require.NoError(t, ex[1].Response.JSON(&answer))
	assert.Contains(t, answer.Choices[0].Message.Content, "60")

	ex, err = llmtest.ReadTrace(llmtest.LangchaingoFile(t, gzipTrace))
	require.NoError(t, err)
	require.NotEmpty(t, ex)
	assert.Equal(t, "POST https://api.openai.com/v1/embeddings", ex[0].Request.String())

	ex, err = llmtest.ReadTrace(llmtest.LangchaingoFile(t, ollamaTrace))
	require.NoError(t, err)
	assert.Empty(t, ex[0].Response.Header.Get("Transfer-Encoding"))
	assert.True(t, bytes.HasPrefix(ex[0].Response.Body, []byte(`{"model":"gemma3:1b"`)))

	_, err = llmtest.ReadTrace(filepath.Join(t.TempDir(), "missing.httprr"))
	assert.Error(t, err)
}

func TestReadTraceErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.httprr")
	raw, err := os.ReadFile(llmtest.LangchaingoFile(t, calcTrace))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw[:len(raw)-100], 0o644))
	_, err = llmtest.OpenReplay(path)
	require.ErrorIs(t, err, httprr.ErrTruncated)
	assert.Contains(t, err.Error(), "cut.httprr: record 2")
}

func TestReplayClient(t *testing.T) {
	path := llmtest.LangchaingoFile(t, calcTrace)
	r, err := llmtest.OpenReplay(path)
	require.NoError(t, err)
	recorded := r.Exchanges()
	require.Len(t, recorded, 2)
	assert.Equal(t, 2, r.Remaining())
	assert.Error(t, r.Err(), "nothing played yet")

	client := r.Client()
	for i, ex := range recorded {
		resp, body, err := send(t, client, "", ex.Request)
		require.NoError(t, err, "exchange %d", i)
		assert.Equal(t, ex.Response.StatusCode, resp.StatusCode)
		assert.Equal(t, ex.Response.Body, body)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Equal(t, ex.Response.Header.Get("X-Request-Id"), resp.Header.Get("X-Request-Id"))
		assert.EqualValues(t, len(body), resp.ContentLength)
		assert.Equal(t, i+1, r.Played())
	}
	assert.Equal(t, 0, r.Remaining())
	require.NoError(t, r.Err())
	r.AssertComplete(t)

	got := r.Requests()
	require.Len(t, got, 2)
	assert.Equal(t, recorded[1].Request.Body, got[1].Body)

	// One more request is past the end: an error from the client, kept for Err.
	_, _, err = send(t, client, "", recorded[0].Request)
	require.ErrorIs(t, err, llmtest.ErrReplayExtra)
	assert.ErrorContains(t, err, "llmtest: replay TestOpenAIFunctionsAgentWithHTTPRR.httprr: request 3 (POST https://api.openai.com/v1/chat/completions): past the end of the recording (2 exchanges)")
	assert.Len(t, r.Requests(), 3, "the extra request is recorded")
	require.ErrorIs(t, r.Err(), llmtest.ErrReplayExtra)
	ft := &fakeTB{}
	r.AssertComplete(ft)
	require.Len(t, ft.errors, 1)
	assert.Contains(t, ft.errors[0], "request 3")
}

func TestReplayServer(t *testing.T) {
	r, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, searchTrace))
	require.NoError(t, err)
	srv := r.Server(t)
	for i, ex := range r.Exchanges() {
		resp, body, err := send(t, srv.Client(), srv.URL, ex.Request)
		require.NoError(t, err, "exchange %d", i)
		assert.Equal(t, ex.Response.StatusCode, resp.StatusCode)
		assert.Equal(t, ex.Response.Body, body, "exchange %d", i)
		assert.Equal(t, ex.Response.Header.Get("Content-Type"), resp.Header.Get("Content-Type"))
		assert.Empty(t, resp.Header.Get(llmtest.ReplayErrorHeader))
	}
	r.AssertComplete(t)
	got := r.Requests()
	require.Len(t, got, 3)
	assert.Equal(t, "http", got[0].URL.Scheme)
	assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), got[0].URL.Host)
	assert.Equal(t, "/search", got[1].URL.Path)

	// Past the end: 400 with the marker header and the error as body.
	resp, body, err := send(t, srv.Client(), srv.URL, r.Exchanges()[0].Request)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get(llmtest.ReplayErrorHeader))
	assert.Contains(t, string(body), "past the end of the recording")
	assert.ErrorIs(t, r.Err(), llmtest.ErrReplayExtra)
}

// A chunked, streamed recording is served whole, with a Content-Length.
func TestReplayStreamedResponse(t *testing.T) {
	r, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, ollamaTrace))
	require.NoError(t, err)
	ex := r.Exchanges()[0]
	srv := r.Server(t)
	resp, body, err := send(t, srv.Client(), srv.URL, ex.Request)
	require.NoError(t, err)
	assert.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	assert.Equal(t, ex.Response.Body, body)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	assert.Greater(t, len(lines), 10)
	for _, l := range lines {
		assert.True(t, json.Valid([]byte(l)), "%q", l)
	}
}

func TestReplayMismatch(t *testing.T) {
	r, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, searchTrace))
	require.NoError(t, err)
	ex := r.Exchanges()
	first := ex[0].Request

	// Offer only one of the two recorded tools.
	var body map[string]any
	require.NoError(t, json.Unmarshal(first.Body, &body))
	tools := body["tools"].([]any)
	require.Len(t, tools, 2)
	body["tools"] = tools[1:]
	changed := *first
	changed.Body, err = json.Marshal(body)
	require.NoError(t, err)

	_, _, err = send(t, r.Client(), "", &changed)
	require.ErrorIs(t, err, llmtest.ErrReplayMismatch)
	assert.ErrorContains(t, err, "llmtest: replay TestExecutorWithOpenAIFunctionAgent.httprr: request 1: tools differ: got [calculator] want [GoogleSearch calculator]")
	assert.Equal(t, 0, r.Played(), "a mismatch plays nothing")

	// The recorded request is still next; the right one plays it.
	_, _, err = send(t, r.Client(), "", first)
	require.NoError(t, err)
	// The next request is numbered 3 but is compared with recorded request 2.
	wrongPath := *ex[1].Request
	u := *wrongPath.URL
	u.Path = "/other"
	wrongPath.URL = &u
	_, _, err = send(t, r.Client(), "", &wrongPath)
	require.ErrorIs(t, err, llmtest.ErrReplayMismatch)
	assert.ErrorContains(t, err, "request 3 (against recorded request 2): URL path differs: got /other want /search")

	err = r.Err()
	require.Error(t, err)
	assert.ErrorIs(t, err, llmtest.ErrReplayMismatch)
	assert.ErrorIs(t, err, llmtest.ErrReplayUnplayed)
	assert.Contains(t, err.Error(), "2 of 3 recorded requests not played; next: GET https://serpapi.com/search?")

	ft := &fakeTB{}
	r.AssertComplete(ft)
	require.Len(t, ft.errors, 3)
	assert.Contains(t, ft.errors[0], "tools differ")
	assert.Contains(t, ft.errors[1], "URL path differs")
	assert.Contains(t, ft.errors[2], "not played")
}

func TestReplayUnplayed(t *testing.T) {
	r, err := llmtest.OpenReplay(llmtest.LangchaingoFile(t, calcTrace))
	require.NoError(t, err)
	_, _, err = send(t, r.Client(), "", r.Exchanges()[0].Request)
	require.NoError(t, err)
	err = r.Err()
	require.ErrorIs(t, err, llmtest.ErrReplayUnplayed)
	assert.EqualError(t, err, "llmtest: replay TestOpenAIFunctionsAgentWithHTTPRR.httprr: 1 of 2 recorded requests not played; next: POST https://api.openai.com/v1/chat/completions")
	ft := &fakeTB{}
	r.AssertComplete(ft)
	assert.Equal(t, []string{err.Error()}, ft.errors)
}

func TestReplayFilter(t *testing.T) {
	path := llmtest.LangchaingoFile(t, searchTrace)
	r, err := llmtest.OpenReplay(path, llmtest.OnlyHosts("api.openai.com"))
	require.NoError(t, err)
	ex := r.Exchanges()
	require.Len(t, ex, 2)
	assert.Equal(t, 0, ex[0].Record)
	assert.Equal(t, 2, ex[1].Record, "Record is the position in the trace before filtering")
	for _, e := range ex {
		assert.Equal(t, "api.openai.com", e.Request.URL.Host)
		_, _, err := send(t, r.Client(), "", e.Request)
		require.NoError(t, err)
	}
	r.AssertComplete(t)

	// The search GET alone, by a custom filter; filters combine.
	r, err = llmtest.OpenReplay(path, llmtest.WithFilter(func(q *llmtest.RecordedRequest) bool { return q.Method == http.MethodGet }))
	require.NoError(t, err)
	require.Len(t, r.Exchanges(), 1)
	assert.Equal(t, "serpapi.com", r.Exchanges()[0].Request.URL.Host)
	r, err = llmtest.OpenReplay(path, llmtest.OnlyHosts("serpapi.com", "api.openai.com"), llmtest.WithFilter(func(q *llmtest.RecordedRequest) bool { return q.Method == http.MethodPost }))
	require.NoError(t, err)
	assert.Len(t, r.Exchanges(), 2)

	// host:port works for local servers.
	r, err = llmtest.OpenReplay(llmtest.LangchaingoFile(t, ollamaTrace), llmtest.OnlyHosts("localhost:11434"))
	require.NoError(t, err)
	assert.NotEmpty(t, r.Exchanges())
	r, err = llmtest.OpenReplay(llmtest.LangchaingoFile(t, ollamaTrace), llmtest.OnlyHosts("api.openai.com"))
	require.NoError(t, err)
	assert.Empty(t, r.Exchanges())
	require.NoError(t, r.Err(), "an empty replay with no requests is complete")
}

func jsonRequest(method, rawURL, body string) *llmtest.RecordedRequest {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return &llmtest.RecordedRequest{Method: method, URL: u, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func TestNewReplay(t *testing.T) {
	ex := []llmtest.Exchange{{
		Request:  jsonRequest("POST", "https://api.example.com/v1/chat/completions", `{"model":"m","messages":[]}`),
		Response: &llmtest.RecordedResponse{StatusCode: 429, Header: http.Header{"Retry-After": {"1"}}, Body: []byte(`{"error":"slow down"}`)},
	}}
	r := llmtest.NewReplay(ex, llmtest.WithMatcher(llmtest.MatchAll(llmtest.DefaultMatcher, llmtest.MatchBody)))
	ex[0].Response.StatusCode = 500 // NewReplay copied the exchanges

	// A request whose context is already done plays nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", "https://api.example.com/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[]}`))
	require.NoError(t, err)
	_, err = r.RoundTrip(req)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, r.Requests())

	// MatchBody is in force: a different message list does not match.
	req, err = http.NewRequest("POST", "https://api.example.com/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user"}]}`))
	require.NoError(t, err)
	_, err = r.RoundTrip(req)
	require.ErrorIs(t, err, llmtest.ErrReplayMismatch)
	assert.ErrorContains(t, err, "llmtest: replay: request 1: body differs at messages: got 1 elements want 0")

	req, err = http.NewRequest("POST", "https://api.example.com/v1/chat/completions", strings.NewReader(`{"messages":[], "model":"m"}`))
	require.NoError(t, err)
	resp, err := r.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "429 Too Many Requests", resp.Status)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Same(t, req, resp.Request)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, `{"error":"slow down"}`, string(body))
	assert.ErrorIs(t, r.Err(), llmtest.ErrReplayMismatch, "the earlier mismatch is still reported")

	assert.Panics(t, func() { llmtest.NewReplay([]llmtest.Exchange{{}}) })
}

func TestReplayConcurrent(t *testing.T) {
	const n = 20
	ex := make([]llmtest.Exchange, n)
	for i := range ex {
		ex[i] = llmtest.Exchange{
			Request:  jsonRequest("POST", "https://api.example.com/v1/embeddings", `{"model":"e"}`),
			Response: &llmtest.RecordedResponse{StatusCode: 200, Body: []byte(`{}`)},
		}
	}
	r := llmtest.NewReplay(ex)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := send(t, r.Client(), "", ex[0].Request)
			assert.NoError(t, err)
			_ = r.Remaining()
			_ = r.Exchanges()
		})
	}
	wg.Wait()
	r.AssertComplete(t)
	assert.Len(t, r.Requests(), n)
}

func TestRecordedHelpers(t *testing.T) {
	q := jsonRequest("POST", "https://x/y", `{"messages":[{"content":"a"},{"content":"b"}],"n":1.5}`)
	v, err := q.Lookup("messages.-1.content")
	require.NoError(t, err)
	assert.Equal(t, "b", v)
	v, err = q.Lookup("n")
	require.NoError(t, err)
	assert.Equal(t, json.Number("1.5"), v)
	v, err = q.Lookup("")
	require.NoError(t, err)
	assert.IsType(t, map[string]any{}, v)

	_, err = q.Lookup("messages.2.content")
	assert.EqualError(t, err, `llmtest: lookup "messages.2.content": index 2 out of range of the array at "messages" (2 elements)`)
	_, err = q.Lookup("messages.x")
	assert.EqualError(t, err, `llmtest: lookup "messages.x": "x" is not an index of the array at "messages"`)
	_, err = q.Lookup("choices")
	assert.EqualError(t, err, `llmtest: lookup "choices": no key "choices" in the object at ""`)
	_, err = q.Lookup("n.x")
	assert.EqualError(t, err, `llmtest: lookup "n.x": the value at "n" is a number, not an object or array`)
	_, err = llmtest.LookupJSON([]byte("data: {}\n\n"), "x")
	assert.ErrorContains(t, err, "body is not JSON")

	var m map[string]any
	require.NoError(t, q.JSON(&m))
	assert.Len(t, m, 2)
	bad := jsonRequest("GET", "https://x/y", "")
	assert.ErrorContains(t, bad.JSON(&m), "llmtest: request body of GET https://x/y")
	assert.ErrorContains(t, (&llmtest.RecordedResponse{Body: []byte("nope")}).JSON(&m), "recorded response body")
}

func TestLangchaingoDir(t *testing.T) {
	dir, err := llmtest.LangchaingoDir()
	require.NoError(t, err)
	assert.True(t, strings.Contains(filepath.ToSlash(dir), "github.com/tmc/langchaingo@"), dir)
	_, err = os.Stat(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	again, err := llmtest.LangchaingoDir()
	require.NoError(t, err)
	assert.Equal(t, dir, again)
}

func TestErrorsAreDistinct(t *testing.T) {
	for _, a := range []error{llmtest.ErrReplayMismatch, llmtest.ErrReplayExtra, llmtest.ErrReplayUnplayed, llmtest.ErrScriptExhausted} {
		n := 0
		for _, b := range []error{llmtest.ErrReplayMismatch, llmtest.ErrReplayExtra, llmtest.ErrReplayUnplayed, llmtest.ErrScriptExhausted} {
			if errors.Is(a, b) {
				n++
			}
		}
		assert.Equal(t, 1, n, a.Error())
	}
}
