package llmtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/internal/redact"
)

// RecordEnv is the environment variable that switches RecordOrReplay to recording: set it to "1".
const RecordEnv = "LLMTEST_RECORD"

// FakeAPIKey is the API key RecordOrReplay returns when replaying: give it to the provider client,
// so that no real key is ever used or needed.
const FakeAPIKey = "llmtest-fake-key"

// Redacted replaces credentials in recorded traffic (see HTTPRecorder).
const Redacted = "REDACTED"

// credentialHeaders are the headers whose values an HTTPRecorder replaces with Redacted, in requests
// and responses alike (OpenAI echoes the organization in its replies). Names are compared
// case-insensitively.
var credentialHeaders = []string{
	"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key",
	"Openai-Organization", "Openai-Project", "Cookie", "Set-Cookie",
}

// credentialParams are the URL query parameters whose values an HTTPRecorder replaces with
// Redacted in the request URL, whatever the value. Names are compared case-insensitively.
var credentialParams = []string{"key", "api_key", "api-key", "apikey", "access_token", "token"}

func isCredentialHeader(name string) bool {
	for _, h := range credentialHeaders {
		if strings.EqualFold(h, strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

func isCredentialParam(name string) bool {
	for _, p := range credentialParams {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// secretForms returns the encodings of secret an HTTPRecorder scrubs (redact.Encodings): the
// secret itself, its url.QueryEscape and url.PathEscape forms, its JSON string escapes (with and
// without HTML escaping, quotes left out), and its standard and URL base64 encodings (padded and
// unpadded); without duplicates, longest first.
func secretForms(secret string) [][]byte {
	var out [][]byte
	for _, f := range redact.Encodings(secret) {
		out = append(out, []byte(f))
	}
	return out
}

// scrubQuery returns rawQuery with the value of every credential parameter replaced by Redacted,
// the other parameters and their order kept byte for byte.
func scrubQuery(rawQuery string) string {
	if rawQuery == "" {
		return rawQuery
	}
	parts := strings.Split(rawQuery, "&")
	for i, part := range parts {
		rawName, _, _ := strings.Cut(part, "=")
		name := rawName
		if n, err := url.QueryUnescape(rawName); err == nil {
			name = n
		}
		if isCredentialParam(strings.TrimSpace(name)) {
			parts[i] = rawName + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// RecordOrReplay returns an HTTP client for a provider client under test, and the API key to give
// that provider client, so that one test both records real traffic once and replays it ever after.
//
// When the environment variable LLMTEST_RECORD is "1" and the variable named keyEnv (such as
// "OPENAI_API_KEY") holds a key, it records: the client sends every request to the real network
// (http.DefaultTransport, or the one given by WithRecordTransport) through an HTTPRecorder that
// scrubs credentials, the key returned is the real one, and when the test ends the httprr trace is
// written to path (directories created; an existing file replaced). A test that failed writes
// nothing, so a good recording is never replaced by a broken one.
//
// Otherwise it replays: the trace at path is opened with OpenReplay(path, opts...), the client is
// the Replay's, the key returned is FakeAPIKey, and the test fails at its end unless every
// recorded exchange was played and nothing else was asked (Replay.AssertComplete). A missing trace
// stops the test with t.Fatal and the command that records it. No real key is read in this mode
// except to say, with LLMTEST_RECORD=1, that it was empty.
//
// The workflow, for a test TestX using path "testdata/TestX.httprr":
//
//	LLMTEST_RECORD=1 OPENAI_API_KEY=sk-... go test -run '^TestX$' ./mypkg
//	git add mypkg/testdata/TestX.httprr   # review it first: no key should be in it
//	go test ./mypkg                       # replays, no network, no key
//
// The client's transport is a custom http.RoundTripper in both modes, so llm/langchaingo's guard
// against real provider traffic inside tests (which otherwise asks for
// AUTOGPT_ALLOW_REAL_PROVIDER=1) lets it through.
func RecordOrReplay(t testing.TB, path, keyEnv string, opts ...ReplayOption) (*http.Client, string) {
	t.Helper()
	cfg := replayOptions(opts)
	key := ""
	if keyEnv != "" {
		key = os.Getenv(keyEnv)
	}
	if os.Getenv(RecordEnv) == "1" {
		if key != "" {
			next := cfg.recordTransport
			if next == nil {
				next = http.DefaultTransport
			}
			rec := NewHTTPRecorder(next, key)
			t.Cleanup(func() {
				n := len(rec.Exchanges())
				if t.Failed() {
					t.Logf("llmtest: test failed: %d recorded %s NOT written to %s", n, plural(n, "exchange", "exchanges"), path)
					return
				}
				if err := rec.WriteTrace(path); err != nil {
					t.Errorf("llmtest: writing the recording: %v", err)
					return
				}
				t.Logf("llmtest: recorded %d %s to %s", n, plural(n, "exchange", "exchanges"), path)
			})
			return rec.Client(), key
		}
		t.Logf("llmtest: %s=1 but $%s is empty: replaying %s instead of recording", RecordEnv, keyEnv, path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("llmtest: no recording to replay: %v\nRecord it against the real provider with:\n\t%s=1 %s=<key> go test -run '^%s$' <this package>",
			err, RecordEnv, keyEnv, t.Name())
	}
	rp, err := OpenReplay(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rp.AssertComplete(t) })
	return rp.Client(), FakeAPIKey
}

// WithRecordTransport sets the transport RecordOrReplay sends real requests through when
// recording (default http.DefaultTransport): a proxy, or a test server's transport. Replaying
// ignores it.
func WithRecordTransport(rt http.RoundTripper) ReplayOption {
	return func(c *replayConfig) { c.recordTransport = rt }
}

// HTTPRecorder is an http.RoundTripper that sends each request through another transport and
// records the exchange, with credentials scrubbed, for writing as an httprr trace that OpenReplay
// (and RecordOrReplay) replay.
//
// Scrubbing, in what is recorded (never in what the client receives):
//   - the values of the headers Authorization, Proxy-Authorization, X-Api-Key, Api-Key,
//     X-Goog-Api-Key, OpenAI-Organization, OpenAI-Project, Cookie and Set-Cookie, in requests and
//     responses, whatever the case of the name (also names set straight into the map, such as
//     req.Header["cookie"]), become Redacted;
//   - the values of the request URL's query parameters key, api_key, api-key, apikey,
//     access_token and token, whatever the case of the name and whatever the value, become
//     Redacted;
//   - every occurrence of each secret given to NewHTTPRecorder, in the URL, any header or either
//     body, becomes Redacted, in each of these forms: as given, url.QueryEscape'd,
//     url.PathEscape'd, JSON-string-escaped (with and without HTML escaping), and base64-encoded
//     on its own (standard and URL alphabets, padded or not).
//
// Other encodings are not found: a secret inside a larger base64 or otherwise transformed value
// (for example HTTP Basic credentials outside the headers above), split across lines, or inside a
// body the server compressed (Content-Encoding kept because the client asked for it: such a body
// is recorded as received). Review a recording before committing it.
//
// Each response body is read whole before RoundTrip returns (a streamed reply arrives at once);
// the client reads it from memory. Requests that fail in the transport are not recorded. An
// HTTPRecorder is safe for concurrent use; exchanges are kept in the order their responses
// arrived.
type HTTPRecorder struct {
	next    http.RoundTripper
	secrets [][]byte

	mu   sync.Mutex
	recs []httprr.Record
}

// NewHTTPRecorder returns an HTTPRecorder sending through next (nil means http.DefaultTransport)
// that scrubs secrets (API keys; empty strings are ignored) from what it records.
func NewHTTPRecorder(next http.RoundTripper, secrets ...string) *HTTPRecorder {
	if next == nil {
		next = http.DefaultTransport
	}
	r := &HTTPRecorder{next: next}
	var forms [][]byte
	for _, s := range secrets {
		if s != "" {
			forms = append(forms, secretForms(s)...)
		}
	}
	// Longest first, so that no form is cut by a shorter one it contains.
	slices.SortStableFunc(forms, func(a, b []byte) int { return len(b) - len(a) })
	r.secrets = slices.CompactFunc(forms, bytes.Equal)
	return r
}

// Client returns an *http.Client whose transport is r.
func (r *HTTPRecorder) Client() *http.Client {
	return &http.Client{Transport: r}
}

// RoundTrip implements http.RoundTripper: it sends req through the next transport, records the
// scrubbed exchange and returns the response (unscrubbed) with its body in memory. It reads and
// closes req.Body.
func (r *HTTPRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	if req.Body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}
	resp, err := r.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("llmtest: recorder: reading the response body: %w", err)
	}
	rawReq, err := r.rawRequest(req, body)
	if err != nil {
		return nil, err
	}
	rawResp, err := r.rawResponse(resp, respBody)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.recs = append(r.recs, httprr.Record{Index: len(r.recs), RawRequest: rawReq, RawResponse: rawResp})
	r.mu.Unlock()

	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	resp.ContentLength = int64(len(respBody))
	resp.TransferEncoding = nil
	return resp, nil
}

// scrub replaces every form of every secret in b with Redacted.
func (r *HTTPRecorder) scrub(b []byte) []byte {
	for _, s := range r.secrets {
		b = bytes.ReplaceAll(b, s, []byte(Redacted))
	}
	return b
}

func (r *HTTPRecorder) scrubHeader(h http.Header) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	for k, vs := range h {
		if isCredentialHeader(k) {
			h[k] = []string{Redacted}
			continue
		}
		for i, v := range vs {
			vs[i] = string(r.scrub([]byte(v)))
		}
		h[k] = vs
	}
	return h
}

// rawRequest returns the scrubbed request as written on the wire with an absolute URL.
func (r *HTTPRecorder) rawRequest(req *http.Request, body []byte) ([]byte, error) {
	body = r.scrub(bytes.Clone(body))
	u := *req.URL
	u.User = nil
	u.RawQuery = scrubQuery(u.RawQuery)
	w := &http.Request{
		Method:        req.Method,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.scrubHeader(req.Header),
		Host:          req.Host,
		ContentLength: int64(len(body)),
	}
	if len(body) > 0 {
		w.Body = io.NopCloser(bytes.NewReader(body))
	}
	var buf bytes.Buffer
	if err := w.WriteProxy(&buf); err != nil {
		return nil, fmt.Errorf("llmtest: recorder: writing the request: %w", err)
	}
	// The body holds no secret any more, so this only changes the request line and headers.
	return r.scrub(buf.Bytes()), nil
}

// rawResponse returns the scrubbed response as written on the wire, with a Content-Length.
func (r *HTTPRecorder) rawResponse(resp *http.Response, body []byte) ([]byte, error) {
	body = r.scrub(bytes.Clone(body))
	h := r.scrubHeader(resp.Header)
	h.Del("Transfer-Encoding")
	h.Del("Content-Length")
	w := &http.Response{
		Status:        resp.Status,
		StatusCode:    resp.StatusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
	var buf bytes.Buffer
	if err := w.Write(&buf); err != nil {
		return nil, fmt.Errorf("llmtest: recorder: writing the response: %w", err)
	}
	head, rest, ok := bytes.Cut(buf.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New("llmtest: recorder: response without a header end")
	}
	return append(append(r.scrub(head), "\r\n\r\n"...), rest...), nil
}

// Exchanges returns the recorded exchanges, scrubbed, in order: what WriteTrace writes, as
// ReadTrace would read it back.
func (r *HTTPRecorder) Exchanges() []Exchange {
	r.mu.Lock()
	recs := append([]httprr.Record(nil), r.recs...)
	r.mu.Unlock()
	var buf bytes.Buffer
	if err := httprr.Write(&buf, recs); err != nil {
		panic("llmtest: HTTPRecorder: " + err.Error()) // writing to memory does not fail
	}
	parsed, err := httprr.Parse(buf.Bytes())
	if err != nil {
		panic("llmtest: HTTPRecorder: recorded traffic does not parse: " + err.Error())
	}
	ex, err := exchangesOf("", parsed)
	if err != nil {
		panic("llmtest: HTTPRecorder: " + err.Error())
	}
	return ex
}

// WriteTrace writes the recorded exchanges to path as an httprr trace (uncompressed, whatever the
// name), replacing any file there: it writes a temporary file in the same directory, creating the
// directory if needed, and renames it into place.
func (r *HTTPRecorder) WriteTrace(path string) error {
	r.mu.Lock()
	recs := append([]httprr.Record(nil), r.recs...)
	r.mu.Unlock()
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("llmtest: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+strings.TrimPrefix(filepath.Base(path), ".")+".tmp*")
	if err != nil {
		return fmt.Errorf("llmtest: %w", err)
	}
	werr := httprr.Write(f, recs)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("llmtest: writing %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("llmtest: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("llmtest: %w", err)
	}
	return nil
}
