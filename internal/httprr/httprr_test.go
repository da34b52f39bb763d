package httprr_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// A small valid trace with two exchanges, built by hand.
const (
	req1 = "POST https://api.example.com/v1/chat/completions HTTP/1.1\r\n" +
		"Host: api.example.com\r\n" +
		"Content-Length: 17\r\n" +
		"Content-Type: application/json\r\n" +
		"\r\n" +
		`{"model":"m-1"}` + "\n\n"
	resp1 = "HTTP/2.0 200 OK\r\n" +
		"Content-Length: 11\r\n" +
		"Content-Type: application/json\r\n" +
		"\r\n" +
		`{"ok":true}`
	req2 = "GET https://search.example.com/q?x=1 HTTP/1.1\n" +
		"Host: search.example.com\n" +
		"User-Agent: test\n" +
		"\n"
	resp2 = "HTTP/1.1 404 Not Found\n" +
		"Transfer-Encoding: chunked\n" +
		"\n" +
		"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
)

func smallTrace() []byte {
	var b bytes.Buffer
	b.WriteString(httprr.Magic)
	for _, rr := range [][2]string{{req1, resp1}, {req2, resp2}} {
		b.WriteString(itoa(len(rr[0])) + " " + itoa(len(rr[1])) + "\n")
		b.WriteString(rr[0])
		b.WriteString(rr[1])
	}
	return b.Bytes()
}

func itoa(n int) string { return strconv.Itoa(n) }

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestParseSmallTrace(t *testing.T) {
	recs, err := httprr.Parse(smallTrace())
	require.NoError(t, err)
	require.Len(t, recs, 2)

	r := recs[0]
	assert.Equal(t, 0, r.Index)
	assert.Equal(t, int64(len(httprr.Magic)), r.Offset)
	assert.Equal(t, "POST", r.Request.Method)
	assert.Equal(t, "https://api.example.com/v1/chat/completions", r.Request.URL.String())
	assert.Equal(t, "api.example.com", r.Request.Host)
	assert.Equal(t, "HTTP/1.1", r.Request.Proto)
	assert.Equal(t, "application/json", r.Request.Header.Get("Content-Type"))
	assert.Equal(t, `{"model":"m-1"}`+"\n\n", string(r.Request.Body))
	assert.Equal(t, req1, string(r.RawRequest))
	assert.Equal(t, resp1, string(r.RawResponse))
	resp, err := r.Response()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, `{"ok":true}`, string(body))

	r = recs[1]
	assert.Equal(t, 1, r.Index)
	assert.Equal(t, "GET", r.Request.Method)
	assert.Equal(t, "x=1", r.Request.URL.RawQuery)
	assert.Equal(t, "test", r.Request.Header.Get("User-Agent"))
	assert.Equal(t, []byte{}, r.Request.Body)
	resp, err = r.Response()
	require.NoError(t, err)
	assert.Equal(t, 404, resp.StatusCode)
	body, err = r.ResponseBody()
	require.NoError(t, err)
	assert.Equal(t, "abcde", string(body), "chunked transfer coding removed")
}

func TestParseEmptyAndGzip(t *testing.T) {
	recs, err := httprr.Parse([]byte(httprr.Magic))
	require.NoError(t, err)
	assert.Empty(t, recs)

	recs, err = httprr.Parse(gz(t, smallTrace()))
	require.NoError(t, err)
	assert.Len(t, recs, 2)
}

func TestWriteRoundTrip(t *testing.T) {
	recs, err := httprr.Parse(smallTrace())
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, httprr.Write(&b, recs))
	assert.Equal(t, smallTrace(), b.Bytes())
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.httprr")
	require.NoError(t, os.WriteFile(plain, smallTrace(), 0o644))
	recs, err := httprr.ReadFile(plain)
	require.NoError(t, err)
	assert.Len(t, recs, 2)

	zipped := filepath.Join(dir, "a.httprr.gz")
	require.NoError(t, os.WriteFile(zipped, gz(t, smallTrace()), 0o644))
	recs, err = httprr.ReadFile(zipped)
	require.NoError(t, err)
	assert.Len(t, recs, 2)

	// gzip content under a plain name is recognised by its magic bytes.
	sneaky := filepath.Join(dir, "b.httprr")
	require.NoError(t, os.WriteFile(sneaky, gz(t, smallTrace()), 0o644))
	recs, err = httprr.ReadFile(sneaky)
	require.NoError(t, err)
	assert.Len(t, recs, 2)

	notGz := filepath.Join(dir, "c.httprr.gz")
	require.NoError(t, os.WriteFile(notGz, smallTrace(), 0o644))
	_, err = httprr.ReadFile(notGz)
	require.ErrorIs(t, err, httprr.ErrMalformed)
	assert.Contains(t, err.Error(), "c.httprr.gz")
	assert.Contains(t, err.Error(), "not gzip")

	_, err = httprr.ReadFile(filepath.Join(dir, "missing.httprr"))
	require.ErrorIs(t, err, fs.ErrNotExist)

	// A content error names the file.
	bad := filepath.Join(dir, "bad.httprr")
	require.NoError(t, os.WriteFile(bad, []byte("httprr trace v2\n"), 0o644))
	_, err = httprr.ReadFile(bad)
	require.ErrorIs(t, err, httprr.ErrMalformed)
	assert.True(t, strings.HasPrefix(err.Error(), bad+": "), err.Error())
}

// Every proper prefix of a valid trace is either a valid trace with fewer records (cut at a record
// boundary) or reported as truncated.
func TestTruncatedPrefixes(t *testing.T) {
	full := smallTrace()
	recs, err := httprr.Parse(full)
	require.NoError(t, err)
	boundaries := map[int]int{len(httprr.Magic): 0}
	for i, r := range recs {
		end := len(full)
		if i+1 < len(recs) {
			end = int(recs[i+1].Offset)
		}
		boundaries[end] = i + 1
		_ = r
	}
	for n := 0; n < len(full); n++ {
		got, err := httprr.Parse(full[:n])
		if want, ok := boundaries[n]; ok {
			require.NoError(t, err, "prefix %d", n)
			assert.Len(t, got, want, "prefix %d", n)
			continue
		}
		require.Error(t, err, "prefix %d", n)
		assert.ErrorIs(t, err, httprr.ErrTruncated, "prefix %d: %v", n, err)
		var e *httprr.Error
		require.ErrorAs(t, err, &e)
	}
	// A truncated gzip stream is truncated too.
	z := gz(t, full)
	_, err = httprr.Parse(z[:len(z)-10])
	assert.ErrorIs(t, err, httprr.ErrTruncated)
}

func TestErrorMessages(t *testing.T) {
	full := string(smallTrace())
	secondLine := strings.Index(full[len(httprr.Magic):], "\n") + len(httprr.Magic) + 1
	firstRecordEnd := secondLine + len(req1) + len(resp1)
	tests := []struct {
		name  string
		data  string
		kind  error
		msg   string
		count int // records before the fault
	}{
		{"empty", "", httprr.ErrTruncated, `byte 0: truncated httprr trace: want first line "httprr trace v1\n", have ""`, 0},
		{"wrong version", "httprr trace v2\n", httprr.ErrMalformed, `byte 0: malformed httprr trace: want first line "httprr trace v1\n", have "httprr trace v2"`, 0},
		{"not a trace", "HTTP/1.1 200 OK\r\n\r\n", httprr.ErrMalformed, `have "HTTP/1.1 200 OK\r"`, 0},
		{"counts not numbers", httprr.Magic + "abc 12\n", httprr.ErrMalformed, `record 1 (byte 16): malformed httprr trace: want a line "N M" of two byte counts, have "abc 12"`, 0},
		{"negative count", httprr.Magic + "-1 5\n", httprr.ErrMalformed, `have "-1 5"`, 0},
		{"three counts", httprr.Magic + "1 2 3\n", httprr.ErrMalformed, `have "1 2 3"`, 0},
		{"one count", httprr.Magic + "12\n", httprr.ErrMalformed, `have "12"`, 0},
		{"huge count", httprr.Magic + "99999999999999999999 1\n", httprr.ErrMalformed, `two byte counts`, 0},
		{"request truncated", httprr.Magic + "100 10\nPOST /", httprr.ErrTruncated, `record 1 (byte 16): truncated httprr trace: request: want 100 bytes, have 6`, 0},
		{"response truncated", full[:firstRecordEnd-3], httprr.ErrTruncated, `record 1 (byte 16): truncated httprr trace: response: want ` + itoa(len(resp1)) + ` bytes, have ` + itoa(len(resp1)-3), 0},
		{"second record truncated", full[:firstRecordEnd+3], httprr.ErrTruncated, `record 2 (byte ` + itoa(firstRecordEnd) + `): truncated httprr trace: want a line "N M", have "` + itoa(len(req2))[:2] + ` " without a newline`, 1},
		{"garbage line", httprr.Magic + strings.Repeat("x", 100), httprr.ErrMalformed, `without a newline`, 0},
		{"request garbage", httprr.Magic + "5 0\nhello", httprr.ErrMalformed, `record 1 (byte 16): malformed httprr trace: request: malformed HTTP request "hello"`, 0},
		{"response garbage", httprr.Magic + itoa(len(req2)) + " 5\n" + req2 + "hello", httprr.ErrMalformed, `malformed httprr trace: response: malformed HTTP response "hello"`, 0},
		{"content-length short", httprr.Magic + itoa(len(req1)+2) + " " + itoa(len(resp1)) + "\n" + req1 + "xx" + resp1, httprr.ErrMalformed, `request: Content-Length is 17 but the body has 19 bytes`, 0},
		{"bytes after response", httprr.Magic + itoa(len(req2)) + " " + itoa(len(resp1)+4) + "\n" + req2 + resp1 + "more", httprr.ErrMalformed, `response: 4 bytes after the body`, 0},
		{"bad chunked body", httprr.Magic + itoa(len(req2)) + " 47\n" + req2 + "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nzz\r\n", httprr.ErrMalformed, `response: body:`, 0},
		{"gzip garbage", "\x1f\x8bnot really gzip", httprr.ErrMalformed, `malformed httprr trace: gzip`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := httprr.Parse([]byte(tt.data))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			assert.Contains(t, err.Error(), tt.msg)
			var e *httprr.Error
			require.ErrorAs(t, err, &e)
			if tt.count > 0 {
				assert.Equal(t, tt.count+1, e.Record)
			}
		})
	}
}

func langchaingoFile(t *testing.T, rel string) string {
	return llmtest.LangchaingoFile(t, rel)
}

func TestLangchaingoTrace(t *testing.T) {
	recs, err := httprr.ReadFile(langchaingoFile(t, "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr"))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	first := recs[0].Request
	assert.Equal(t, "POST", first.Method)
	assert.Equal(t, "https://api.openai.com/v1/chat/completions", first.URL.String())
	var body struct {
		Model string `json:"model"`
	}
	require.NoError(t, json.Unmarshal(first.Body, &body))
	assert.Equal(t, "gpt-4o", body.Model)
	resp, err := recs[0].Response()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	rb, err := recs[0].ResponseBody()
	require.NoError(t, err)
	assert.Contains(t, string(rb), `"name": "calculator"`)

	// Three exchanges, the middle one a web search GET.
	recs, err = httprr.ReadFile(langchaingoFile(t, "agents/testdata/TestExecutorWithOpenAIFunctionAgent.httprr"))
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, "GET", recs[1].Request.Method)
	assert.Equal(t, "serpapi.com", recs[1].Request.URL.Host)
}

func TestLangchaingoGzipTrace(t *testing.T) {
	recs, err := httprr.ReadFile(langchaingoFile(t, "vectorstores/chroma/testdata/TestChromaAsRetriever.httprr.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	first := recs[0].Request
	assert.Equal(t, "POST", first.Method)
	assert.Equal(t, "https://api.openai.com/v1/embeddings", first.URL.String())
	var body struct {
		Model string `json:"model"`
	}
	require.NoError(t, json.Unmarshal(first.Body, &body))
	assert.Equal(t, "text-embedding-ada-002", body.Model)
}

func TestLangchaingoChunkedResponse(t *testing.T) {
	recs, err := httprr.ReadFile(langchaingoFile(t, "llms/ollama/testdata/TestWithStreaming.httprr"))
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, "http://localhost:11434/api/chat", recs[0].Request.URL.String())
	body, err := recs[0].ResponseBody()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(body), `{"model":"gemma3:1b"`), "%.80q", body)
	assert.NotContains(t, string(body), "\r\n6407\r\n", "chunk sizes removed")
}

// Every trace langchaingo ships parses, and writing it back gives the same bytes.
func TestAllLangchaingoTraces(t *testing.T) {
	dir, err := llmtest.LangchaingoDir()
	require.NoError(t, err)
	files, total := 0, 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".httprr") || strings.HasSuffix(p, ".httprr.gz")) {
			return err
		}
		files++
		recs, err := httprr.ReadFile(p)
		if !assert.NoError(t, err) {
			return nil
		}
		total += len(recs)
		for _, r := range recs {
			_, err := r.ResponseBody()
			assert.NoError(t, err, "%s record %d", p, r.Index)
		}
		if !strings.HasSuffix(p, ".gz") {
			var b bytes.Buffer
			require.NoError(t, httprr.Write(&b, recs))
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(raw, b.Bytes()), "%s: Write(Parse(file)) differs from the file", p)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 100)
	t.Logf("%d traces, %d records", files, total)
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("boom")
	e := &httprr.Error{Path: "x.httprr", Record: 2, Offset: 40, Kind: httprr.ErrMalformed, Detail: "request", Err: cause}
	assert.ErrorIs(t, e, cause)
	assert.ErrorIs(t, e, httprr.ErrMalformed)
	assert.NotErrorIs(t, e, httprr.ErrTruncated)
	assert.Equal(t, "x.httprr: record 2 (byte 40): malformed httprr trace: request: boom", e.Error())
}
