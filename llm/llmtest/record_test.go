package llmtest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/langchaingo"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// The key the fake provider accepts; set in a variable no developer has.
const (
	fakeKeyEnv = "LLMTEST_TEST_PROVIDER_KEY"
	liveKey    = "sk-live-0123456789abcdefSECRET"
)

// fakeOpenAI is a loopback stand-in for api.openai.com that checks the key and, carelessly, echoes
// it back in a header and in the body, beside an organization header and a cookie.
func fakeOpenAI(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+liveKey {
			http.Error(w, `{"error":{"message":"bad key or path","type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(`"gpt-4o"`)) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Openai-Organization", "org-private")
		w.Header().Set("Set-Cookie", "session=abc; Path=/")
		w.Header().Set("X-Echo", "key="+liveKey)
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",`+
			`"system_fingerprint":"fp_%s","choices":[{"index":0,"message":{"role":"assistant","content":"Recorded answer."},`+
			`"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`, liveKey)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func askOpenAI(t *testing.T, client *http.Client, key, baseURL string) *llm.Response {
	t.Helper()
	m, err := langchaingo.OpenAI("gpt-4o", key, langchaingo.WithHTTPClient(client), langchaingo.WithBaseURL(baseURL))
	require.NoError(t, err)
	resp, err := llm.NonStreaming(m).Generate(context.Background(), &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Answer briefly."}},
	})
	require.NoError(t, err)
	return resp
}

func TestRecordOrReplay(t *testing.T) {
	srv := fakeOpenAI(t)
	path := filepath.Join(t.TempDir(), "testdata", "TestX.httprr")

	t.Setenv(llmtest.RecordEnv, "1")
	t.Setenv(fakeKeyEnv, liveKey)
	var recorded *llm.Response
	t.Run("record", func(t *testing.T) {
		client, key := llmtest.RecordOrReplay(t, path, fakeKeyEnv, llmtest.WithRecordTransport(srv.Client().Transport))
		assert.Equal(t, liveKey, key, "recording uses the real key")
		recorded = askOpenAI(t, client, key, srv.URL+"/v1")
		assert.Equal(t, "Recorded answer.", recorded.Message.Content)
		assert.NoFileExists(t, path, "written when the test ends")
	})
	require.FileExists(t, path)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), liveKey)
	assert.NotContains(t, string(raw), "Bearer")
	assert.NotContains(t, string(raw), "org-private")
	assert.NotContains(t, string(raw), "session=abc")
	recs, err := httprr.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, llmtest.Redacted, recs[0].Request.Header.Get("Authorization"))
	resp, err := recs[0].Response()
	require.NoError(t, err)
	assert.Equal(t, llmtest.Redacted, resp.Header.Get("Set-Cookie"))
	assert.Equal(t, llmtest.Redacted, resp.Header.Get("Openai-Organization"))
	assert.Equal(t, "key="+llmtest.Redacted, resp.Header.Get("X-Echo"))
	body, err := recs[0].ResponseBody()
	require.NoError(t, err)
	assert.Contains(t, string(body), `"system_fingerprint":"fp_REDACTED"`)
	ex, err := llmtest.ReadTrace(path)
	require.NoError(t, err)
	assert.Equal(t, "POST "+srv.URL+"/v1/chat/completions", ex[0].Request.String())

	// Replaying needs neither the network nor a key.
	srv.Close()
	t.Setenv(llmtest.RecordEnv, "")
	t.Run("replay", func(t *testing.T) {
		client, key := llmtest.RecordOrReplay(t, path, fakeKeyEnv)
		assert.Equal(t, llmtest.FakeAPIKey, key, "replaying never hands out the real key")
		got := askOpenAI(t, client, key, "https://api.openai.com/v1")
		assert.Equal(t, recorded, got)
	})
	rp, err := llmtest.OpenReplay(path)
	require.NoError(t, err)
	assert.Equal(t, recorded, askOpenAI(t, rp.Client(), "any-key", "https://api.openai.com/v1"))
	rp.AssertComplete(t)
}

// cleanupTB is a testing.TB whose Cleanup functions run when the test calls them, and which can
// pretend to have failed.
type cleanupTB struct {
	testing.TB
	failed   bool
	cleanups []func()
	logs     []string
	errs     []string
	fatal    string
}

func (c *cleanupTB) Helper()                    {}
func (c *cleanupTB) Failed() bool               { return c.failed }
func (c *cleanupTB) Cleanup(f func())           { c.cleanups = append(c.cleanups, f) }
func (c *cleanupTB) Logf(f string, args ...any) { c.logs = append(c.logs, fmt.Sprintf(f, args...)) }
func (c *cleanupTB) Errorf(f string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(f, args...))
}
func (c *cleanupTB) Name() string { return "TestFake" }
func (c *cleanupTB) Fatalf(f string, args ...any) {
	c.fatal = fmt.Sprintf(f, args...)
	runtime.Goexit()
}

// run calls fn on a goroutine of its own, which Fatalf may end.
func (c *cleanupTB) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}
func (c *cleanupTB) runCleanups() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

func TestRecordOrReplayFailedTestWritesNothing(t *testing.T) {
	srv := fakeOpenAI(t)
	path := filepath.Join(t.TempDir(), "x.httprr")
	t.Setenv(llmtest.RecordEnv, "1")
	t.Setenv(fakeKeyEnv, liveKey)
	tb := &cleanupTB{failed: true}
	client, key := llmtest.RecordOrReplay(tb, path, fakeKeyEnv, llmtest.WithRecordTransport(srv.Client().Transport))
	askOpenAI(t, client, key, srv.URL+"/v1")
	tb.runCleanups()
	assert.NoFileExists(t, path)
	require.Len(t, tb.logs, 1)
	assert.Contains(t, tb.logs[0], "test failed: 1 recorded exchange NOT written to "+path)
}

func TestRecordOrReplayMissingTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "TestFake.httprr")
	t.Setenv(llmtest.RecordEnv, "")
	t.Setenv(fakeKeyEnv, liveKey)
	msg := fatalOf(func(tb testing.TB) { llmtest.RecordOrReplay(tb, path, fakeKeyEnv) })
	assert.Contains(t, msg, "llmtest: no recording to replay")
	assert.Contains(t, msg, "LLMTEST_RECORD=1 "+fakeKeyEnv+"=<key> go test -run '^TestFake$'")
	assert.NotContains(t, msg, liveKey)

	// LLMTEST_RECORD=1 without a key replays (and says so).
	t.Setenv(llmtest.RecordEnv, "1")
	t.Setenv(fakeKeyEnv, "")
	tb := &cleanupTB{}
	tb.run(func() { llmtest.RecordOrReplay(tb, path, fakeKeyEnv) })
	assert.Contains(t, tb.fatal, "no recording to replay")
	require.NotEmpty(t, tb.logs)
	assert.Contains(t, tb.logs[0], "LLMTEST_RECORD=1 but $"+fakeKeyEnv+" is empty")
}

func TestHTTPRecorder(t *testing.T) {
	const key = "AIzaSECRET-KEY-42"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "you sent %d bytes to %s", len(body), r.URL.RawQuery)
	}))
	defer srv.Close()
	rec := llmtest.NewHTTPRecorder(srv.Client().Transport, key, "")
	client := rec.Client()

	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			req, err := http.NewRequest("POST", srv.URL+"/v1/generate?key="+key, strings.NewReader(fmt.Sprintf(`{"n":%d,"api_key":"%s"}`, i, key)))
			require.NoError(t, err)
			req.Header.Set("X-Goog-Api-Key", key)
			req.Header.Set("Api-Key", key)
			req.Header.Set("Cookie", "a=b")
			req.Header.Set("X-Custom", "prefix-"+key)
			resp, err := client.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Contains(t, string(b), "key="+key, "the client sees the real response")
		})
	}
	wg.Wait()
	resp, err := client.Get(srv.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()

	ex := rec.Exchanges()
	require.Len(t, ex, 6)
	for _, e := range ex[:5] {
		assert.Equal(t, "POST", e.Request.Method)
		assert.Equal(t, "key="+llmtest.Redacted, e.Request.URL.RawQuery)
		for _, h := range []string{"X-Goog-Api-Key", "Api-Key", "Cookie"} {
			assert.Equal(t, llmtest.Redacted, e.Request.Header.Get(h), h)
		}
		assert.Equal(t, "prefix-"+llmtest.Redacted, e.Request.Header.Get("X-Custom"))
		assert.Contains(t, string(e.Request.Body), `"api_key":"REDACTED"`)
		assert.Contains(t, string(e.Response.Body), "to key=REDACTED")
	}
	assert.Equal(t, "GET", ex[5].Request.Method)
	assert.Empty(t, ex[5].Request.Body)

	path := filepath.Join(t.TempDir(), "a", "b", "trace.httprr")
	require.NoError(t, rec.WriteTrace(path))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), key)
	assert.True(t, bytes.HasPrefix(raw, []byte(httprr.Magic)))
	rp, err := llmtest.OpenReplay(path, llmtest.WithMatcher(llmtest.MatchAll(llmtest.DefaultMatcher, llmtest.MatchBody)))
	require.NoError(t, err)
	assert.Len(t, rp.Exchanges(), 6)
	entries, _ := os.ReadDir(filepath.Dir(path))
	assert.Len(t, entries, 1, "no temporary file left behind")

	// A request that fails in the transport is returned as is and not recorded.
	failing := llmtest.NewHTTPRecorder(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	}))
	_, err = failing.Client().Get("http://127.0.0.1:1/")
	assert.ErrorContains(t, err, "connection refused")
	assert.Empty(t, failing.Exchanges())
	require.NoError(t, failing.WriteTrace(filepath.Join(t.TempDir(), "empty.httprr")))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The recorder scrubs every cheap encoding of a key, credential headers whatever the case of their
// names, and credential query parameters whatever their values.
func TestHTTPRecorderScrubsEncodings(t *testing.T) {
	const key = "sk-Secret+Key/With=Chars<&>"
	var jsonHTML, jsonPlain bytes.Buffer
	require.NoError(t, json.NewEncoder(&jsonHTML).Encode(key))
	enc := json.NewEncoder(&jsonPlain)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(key))
	forms := map[string]string{
		"raw":             key,
		"QueryEscape":     url.QueryEscape(key),
		"PathEscape":      url.PathEscape(key),
		"JSON, HTML-safe": strings.Trim(strings.TrimSpace(jsonHTML.String()), `"`),
		"JSON":            strings.Trim(strings.TrimSpace(jsonPlain.String()), `"`),
		"base64":          base64.StdEncoding.EncodeToString([]byte(key)),
		"base64 URL":      base64.URLEncoding.EncodeToString([]byte(key)),
		"base64 raw":      base64.RawStdEncoding.EncodeToString([]byte(key)),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.URL.Query().Get("key")
		w.Header().Set("X-Echo-B64", base64.StdEncoding.EncodeToString([]byte(k)))
		w.Header().Set("X-Echo-B64url", base64.URLEncoding.EncodeToString([]byte(k)))
		w.Header().Set("Location", "https://x/?k="+url.QueryEscape(k))
		w.Header()["openai-organization"] = []string{"org-SECRETORG"}
		w.Header()["set-cookie"] = []string{"session=sess-SECRET"}
		var body bytes.Buffer
		for _, f := range forms {
			body.WriteString(f + "\n")
		}
		b, _ := json.Marshal(map[string]string{"echo": k})
		body.Write(b)
		w.Write(body.Bytes())
	}))
	defer srv.Close()

	rec := llmtest.NewHTTPRecorder(srv.Client().Transport, key)
	target := srv.URL + "/v1/models/" + url.PathEscape(key) + "?key=" + url.QueryEscape(key) +
		"&API_KEY=other-SECRET1&Access_Token=other-SECRET2&token=other-SECRET3&api-key=other-SECRET4&apikey=other-SECRET5&keep=me"
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(`{"k":"`+forms["JSON, HTML-safe"]+`"}`))
	require.NoError(t, err)
	req.Header["openai-organization"] = []string{"org-SECRETORG"}
	req.Header["cookie"] = []string{"sess=sess-cookie-SECRET"}
	req.Header["x-goog-api-key"] = []string{"goog-SECRET"}
	req.Header.Set("X-Custom", forms["base64 URL"])
	resp, err := rec.Client().Do(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, string(got), key, "the client still receives the real response")

	path := filepath.Join(t.TempDir(), "t.httprr")
	require.NoError(t, rec.WriteTrace(path))
	trace, err := os.ReadFile(path)
	require.NoError(t, err)
	for name, f := range forms {
		assert.NotContains(t, string(trace), f, "the %s form of the key is in the trace", name)
	}
	assert.NotContains(t, string(trace), "SECRET", "credential headers and query parameters are redacted")
	assert.Contains(t, string(trace), "keep=me", "other query parameters stay")
	ex := rec.Exchanges()
	require.Len(t, ex, 1)
	assert.Equal(t, llmtest.Redacted, ex[0].Request.URL.Query().Get("key"))
	assert.Equal(t, llmtest.Redacted, ex[0].Request.URL.Query().Get("API_KEY"))
	assert.Equal(t, llmtest.Redacted, ex[0].Request.Header.Get("Cookie"))
}
