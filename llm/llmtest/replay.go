package llmtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/autogpt-go/agent/internal/httprr"
)

// Errors a Replay reports, wrapped with the details; test with errors.Is.
var (
	// ErrReplayMismatch reports a request that did not match the next recorded request (see Matcher).
	ErrReplayMismatch = errors.New("llmtest: request does not match the recording")
	// ErrReplayExtra reports a request that came after every recorded exchange had been played.
	ErrReplayExtra = errors.New("llmtest: request past the end of the recording")
	// ErrReplayUnplayed reports recorded requests that were never made (by Err and AssertComplete).
	ErrReplayUnplayed = errors.New("llmtest: recorded requests not played")
)

// ReplayErrorHeader is the header that Replay's HTTP handler sets (to "1") on the 400 Bad Request
// response it sends instead of a recorded one when a request does not match or comes past the end.
const ReplayErrorHeader = "Llmtest-Replay-Error"

// RecordedRequest is an HTTP request as a Matcher sees it: one from a recording, or one the code
// under test made.
type RecordedRequest struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// URL is the request URL. A recorded one is absolute as recorded
	// ("https://api.openai.com/v1/chat/completions"). One received by the Replay's HTTP handler
	// has scheme "http" and the test server's host.
	URL *url.URL
	// Header holds the request headers (without Host).
	Header http.Header
	// Body is the request body; empty, not nil, when there is none.
	Body []byte
}

// String returns the method and URL, such as "POST https://api.openai.com/v1/chat/completions".
func (r *RecordedRequest) String() string {
	u := ""
	if r.URL != nil {
		u = r.URL.String()
	}
	return r.Method + " " + u
}

// JSON decodes the body, which must be JSON, into v (as json.Unmarshal does).
func (r *RecordedRequest) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("llmtest: request body of %s: %w", r, err)
	}
	return nil
}

// Lookup returns the value at path in the JSON body; see LookupJSON for the path syntax.
// Example: req.Lookup("messages.-1.content") is the text of the last message of a chat request.
func (r *RecordedRequest) Lookup(path string) (any, error) {
	return LookupJSON(r.Body, path)
}

func (r *RecordedRequest) clone() *RecordedRequest {
	c := *r
	if r.URL != nil {
		u := *r.URL
		if u.User != nil {
			ui := *u.User
			u.User = &ui
		}
		c.URL = &u
	}
	c.Header = r.Header.Clone()
	c.Body = bytes.Clone(r.Body)
	if c.Body == nil {
		c.Body = []byte{}
	}
	return &c
}

// RecordedResponse is a recorded HTTP response.
type RecordedResponse struct {
	// StatusCode is the HTTP status, such as 200.
	StatusCode int
	// Status is the status line's text after the protocol, such as "200 OK".
	Status string
	// Header holds the response headers as recorded, except Transfer-Encoding; Content-Length is
	// set to len(Body) when served.
	Header http.Header
	// Body is the response body with any chunked transfer coding removed; a Content-Encoding (such as
	// gzip) is kept as recorded, and decoded when served only if the client would have decoded it
	// (see Replay.RoundTrip). A streamed answer is the whole stream, for example server-sent
	// events ("data: {...}\n\n" lines).
	Body []byte
}

// JSON decodes the body, which must be JSON (not a stream of events), into v.
func (r *RecordedResponse) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("llmtest: recorded response body: %w", err)
	}
	return nil
}

// Lookup returns the value at path in the JSON body; see LookupJSON for the path syntax.
// Example: resp.Lookup("choices.0.message.content") is an OpenAI chat answer's text.
func (r *RecordedResponse) Lookup(path string) (any, error) {
	return LookupJSON(r.Body, path)
}

func (r *RecordedResponse) clone() *RecordedResponse {
	c := *r
	c.Header = r.Header.Clone()
	c.Body = bytes.Clone(r.Body)
	if c.Body == nil {
		c.Body = []byte{}
	}
	return &c
}

// Exchange is one recorded request with its response.
type Exchange struct {
	// Record is the 0-based position of the exchange in the trace it was read from, before any
	// filter (or in the slice given to NewReplay).
	Record int
	// Request is the recorded request.
	Request *RecordedRequest
	// Response is the recorded response.
	Response *RecordedResponse
}

func (e Exchange) clone() Exchange {
	c := Exchange{Record: e.Record}
	if e.Request != nil {
		c.Request = e.Request.clone()
	}
	if e.Response != nil {
		c.Response = e.Response.clone()
	}
	return c
}

// ReadTrace reads every exchange of the httprr trace at path (plain, or gzip-compressed: by a ".gz"
// name or the gzip magic bytes), in order, without filtering. The format is the one langchaingo's
// tests record: the line "httprr trace v1", then per exchange a line "N M" and N bytes of HTTP/1.1
// request and M bytes of HTTP response as written on the wire. A truncated or malformed file is an
// error that says which record and byte offset is at fault.
func ReadTrace(path string) ([]Exchange, error) {
	recs, err := httprr.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("llmtest: %w", err)
	}
	return exchangesOf(path, recs)
}

// exchangesOf converts parsed httprr records (from the file path, for errors) to Exchanges.
func exchangesOf(path string, recs []httprr.Record) ([]Exchange, error) {
	if path == "" {
		path = "trace"
	}
	out := make([]Exchange, len(recs))
	for i, rec := range recs {
		resp, err := rec.Response()
		if err != nil {
			return nil, fmt.Errorf("llmtest: %s: record %d: %w", path, i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("llmtest: %s: record %d: %w", path, i+1, err)
		}
		resp.Header.Del("Transfer-Encoding")
		out[i] = Exchange{
			Record: rec.Index,
			Request: &RecordedRequest{
				Method: rec.Request.Method,
				URL:    rec.Request.URL,
				Header: rec.Request.Header,
				Body:   rec.Request.Body,
			},
			Response: &RecordedResponse{
				StatusCode: resp.StatusCode,
				Status:     resp.Status,
				Header:     resp.Header,
				Body:       body,
			},
		}
	}
	return out, nil
}

// ReplayOption configures a Replay.
type ReplayOption func(*replayConfig)

type replayConfig struct {
	matcher         Matcher
	keep            []func(*RecordedRequest) bool
	recordTransport http.RoundTripper // RecordOrReplay's transport when recording
}

func replayOptions(opts []ReplayOption) replayConfig {
	var cfg replayConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// WithMatcher sets how a request is compared with the recorded one it is to replace; the default is
// DefaultMatcher. A nil m means DefaultMatcher.
func WithMatcher(m Matcher) ReplayOption {
	return func(c *replayConfig) { c.matcher = m }
}

// WithFilter keeps only the recorded exchanges whose request keep returns true for; the others are
// dropped before replay, as if never recorded (for example a web-search call that the test serves
// from a fixture instead). Several filters must all keep an exchange.
func WithFilter(keep func(recorded *RecordedRequest) bool) ReplayOption {
	return func(c *replayConfig) { c.keep = append(c.keep, keep) }
}

// OnlyHosts keeps only the recorded exchanges sent to one of hosts, each a host name
// ("api.openai.com") or host:port ("localhost:11434"). It is a WithFilter.
func OnlyHosts(hosts ...string) ReplayOption {
	return WithFilter(func(r *RecordedRequest) bool {
		if r.URL == nil {
			return false
		}
		for _, h := range hosts {
			if strings.EqualFold(h, r.URL.Host) || strings.EqualFold(h, r.URL.Hostname()) {
				return true
			}
		}
		return false
	})
}

// Replay serves recorded HTTP exchanges in place of the real server, so a real provider client
// runs against recorded traffic with no network.
//
// Each request the Replay receives is compared, by its Matcher, with the next recorded request not
// yet played, in order. If they match, the recorded response (status, headers, body) is served and
// the exchange counts as played. If not, the request fails (RoundTrip returns an error wrapping
// ErrReplayMismatch; the HTTP handler answers 400 with ReplayErrorHeader set), the recorded
// exchange stays next, and the mismatch is kept for Err. A request after the last exchange fails
// with ErrReplayExtra and is kept too. Err and AssertComplete report those failures and any
// recorded request never played.
//
// Use it as a transport (RoundTrip, Client) for clients that accept an *http.Client, or as a
// server (Server, ServeHTTP) for clients that take only a base URL. A Replay is safe for concurrent
// use, but concurrent requests are matched in the order they arrive, so a client that sends them
// concurrently replays reliably only if the order is fixed.
type Replay struct {
	name    string
	matcher Matcher

	mu        sync.Mutex
	exchanges []Exchange
	next      int
	requests  []*RecordedRequest
	failures  []error
}

// OpenReplay reads the httprr trace at path (see ReadTrace) and returns a Replay of its exchanges,
// filtered and matched as opts say. Errors are those of ReadTrace.
func OpenReplay(path string, opts ...ReplayOption) (*Replay, error) {
	ex, err := ReadTrace(path)
	if err != nil {
		return nil, err
	}
	return newReplay(filepath.Base(path), ex, opts), nil
}

// NewReplay returns a Replay of exchanges, in order (they are copied; a nil Request or Response
// panics). Filters in opts apply as for OpenReplay.
func NewReplay(exchanges []Exchange, opts ...ReplayOption) *Replay {
	ex := make([]Exchange, len(exchanges))
	for i, e := range exchanges {
		if e.Request == nil || e.Response == nil {
			panic(fmt.Sprintf("llmtest.NewReplay: exchange %d has a nil Request or Response", i))
		}
		ex[i] = e.clone()
		if ex[i].Request.Header == nil {
			ex[i].Request.Header = http.Header{}
		}
		if ex[i].Response.Header == nil {
			ex[i].Response.Header = http.Header{}
		}
		if ex[i].Response.Status == "" {
			ex[i].Response.Status = fmt.Sprintf("%d %s", e.Response.StatusCode, http.StatusText(e.Response.StatusCode))
		}
	}
	return newReplay("", ex, opts)
}

func newReplay(name string, ex []Exchange, opts []ReplayOption) *Replay {
	cfg := replayOptions(opts)
	if cfg.matcher == nil {
		cfg.matcher = DefaultMatcher
	}
	kept := ex[:0:0]
	for _, e := range ex {
		keep := true
		for _, k := range cfg.keep {
			if !k(e.Request) {
				keep = false
				break
			}
		}
		if keep {
			kept = append(kept, e)
		}
	}
	return &Replay{name: name, matcher: cfg.matcher, exchanges: kept}
}

// prefix returns "llmtest: replay NAME" for error messages.
func (r *Replay) prefix() string {
	if r.name == "" {
		return "llmtest: replay"
	}
	return "llmtest: replay " + r.name
}

type replayError struct {
	msg   string
	kind  error
	cause error
}

func (e *replayError) Error() string { return e.msg }
func (e *replayError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// play matches ours against the next recorded exchange and returns the response to serve.
func (r *Replay) play(ours *RecordedRequest) (*RecordedResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, ours)
	n := len(r.requests)
	if r.next >= len(r.exchanges) {
		err := &replayError{
			msg: fmt.Sprintf("%s: request %d (%s): past the end of the recording (%d %s)",
				r.prefix(), n, ours, len(r.exchanges), plural(len(r.exchanges), "exchange", "exchanges")),
			kind: ErrReplayExtra,
		}
		r.failures = append(r.failures, err)
		return nil, err
	}
	e := r.exchanges[r.next]
	if err := r.matcher(ours, e.Request); err != nil {
		which := fmt.Sprintf("request %d", n)
		if n != r.next+1 {
			which = fmt.Sprintf("request %d (against recorded request %d)", n, r.next+1)
		}
		err := &replayError{msg: fmt.Sprintf("%s: %s: %v", r.prefix(), which, err), kind: ErrReplayMismatch, cause: err}
		r.failures = append(r.failures, err)
		return nil, err
	}
	r.next++
	return e.Response, nil
}

// RoundTrip implements http.RoundTripper: it serves the recorded response for req, or returns an
// error wrapping ErrReplayMismatch or ErrReplayExtra (see Replay). It reads and closes req.Body. If
// req's context is already done it returns the context's error and plays nothing.
//
// It answers as Go's http.Transport would over a real connection. A response recorded compressed
// (Content-Encoding: gzip and a gzip body) is decompressed, with Content-Encoding and
// Content-Length removed and Uncompressed set, when req has no Accept-Encoding header of its own
// (the Transport then asks for gzip itself and decodes transparently); it is served compressed,
// header kept, when req asked for gzip explicitly, and decompressed when req's Accept-Encoding
// excludes gzip. A response whose header says gzip but whose body is not gzip data (recorded after
// the client decoded it) is served plain without the header.
func (r *Replay) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	ours := &RecordedRequest{Method: req.Method, URL: req.URL, Header: req.Header, Body: body}
	rec, err := r.play(ours.clone())
	if err != nil {
		return nil, err
	}
	transparent := req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == "" && req.Method != http.MethodHead
	h, respBody, decoded, err := servedContent(rec, !transparent && acceptsGzip(req.Header))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.prefix(), err)
	}
	length := int64(len(respBody))
	if decoded && transparent {
		length = -1 // as http.Transport reports a body it decompressed
	} else {
		h.Set("Content-Length", strconv.Itoa(len(respBody)))
	}
	return &http.Response{
		Status:        rec.Status,
		StatusCode:    rec.StatusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(respBody)),
		ContentLength: length,
		Uncompressed:  decoded && transparent,
		Request:       req,
	}, nil
}

// servedContent returns the headers (a copy) and body to serve for rec to a client that does
// (gzipOK) or does not accept a gzip-encoded body, and whether the body was decompressed for it.
// A header claiming gzip over a body that is not gzip data is dropped; a gzip body goes out as
// recorded when gzipOK, else decompressed without Content-Encoding and Content-Length.
func servedContent(rec *RecordedResponse, gzipOK bool) (http.Header, []byte, bool, error) {
	h := rec.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if !strings.EqualFold(strings.TrimSpace(h.Get("Content-Encoding")), "gzip") {
		return h, rec.Body, false, nil
	}
	if !isGzipData(rec.Body) {
		h.Del("Content-Encoding")
		return h, rec.Body, false, nil
	}
	if gzipOK {
		return h, rec.Body, false, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body))
	if err != nil {
		return nil, nil, false, fmt.Errorf("recorded gzip body: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(zr, httprr.MaxDecompressedSize+1))
	if err == nil && len(plain) > httprr.MaxDecompressedSize {
		err = fmt.Errorf("decompresses beyond %d bytes", httprr.MaxDecompressedSize)
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("recorded gzip body: %w", err)
	}
	h.Del("Content-Encoding")
	h.Del("Content-Length")
	return h, plain, true, nil
}

// isGzipData reports whether b starts with the gzip magic bytes.
func isGzipData(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// acceptsGzip reports whether the Accept-Encoding header of h accepts gzip (gzip, x-gzip or *,
// without q=0).
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || strings.HasPrefix(q, "q=0.") && strings.Trim(q[4:], "0") == "" {
				continue
			}
			return true
		}
	}
	return false
}

func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return []byte{}, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("llmtest: replay: reading request body: %w", err)
	}
	return b, nil
}

// Client returns an *http.Client whose transport is r: every request it makes is replayed, none
// reaches the network.
func (r *Replay) Client() *http.Client {
	return &http.Client{Transport: r}
}

// ServeHTTP implements http.Handler: it serves the recorded response (status, headers, body) for
// req, as a server would: a body recorded gzip-compressed goes out compressed, with its
// Content-Encoding, to a client whose Accept-Encoding accepts gzip (Go's transport asks for it and
// decodes it), and decompressed to one that does not; a gzip header over a body that is not gzip
// data is dropped. On a mismatch or a request past the end it answers 400 Bad Request with
// ReplayErrorHeader set and the error text as body. The request's URL is seen by the Matcher with scheme "http" and
// req.Host as host.
func (r *Replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := readBody(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u := *req.URL
	u.Scheme, u.Host = "http", req.Host
	ours := &RecordedRequest{Method: req.Method, URL: &u, Header: req.Header.Clone(), Body: body}
	rec, err := r.play(ours)
	if err != nil {
		w.Header().Set(ReplayErrorHeader, "1")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h, respBody, _, err := servedContent(rec, acceptsGzip(req.Header))
	if err != nil {
		w.Header().Set(ReplayErrorHeader, "1")
		http.Error(w, r.prefix()+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	for k, v := range h {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		w.Header()[k] = append([]string(nil), v...)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(rec.StatusCode)
	w.Write(respBody)
}

// Server starts an httptest.Server that serves r (see ServeHTTP) on a loopback address and closes it
// when the test ends. Give a client its URL as base URL, with the path prefix the client expects
// (for example srv.URL + "/v1" for an OpenAI-compatible client).
func (r *Replay) Server(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// Exchanges returns copies of the exchanges being replayed (after filtering), in order: read them to
// check what the recording holds, such as a tool result sent or the final answer.
func (r *Replay) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Exchange, len(r.exchanges))
	for i, e := range r.exchanges {
		out[i] = e.clone()
	}
	return out
}

// Requests returns copies of every request r received, in order, including those that did not match
// or came past the end (not those whose context was already done).
func (r *Replay) Requests() []*RecordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*RecordedRequest, len(r.requests))
	for i, q := range r.requests {
		out[i] = q.clone()
	}
	return out
}

// Played returns how many recorded exchanges have been served.
func (r *Replay) Played() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// Remaining returns how many recorded exchanges have not been served yet.
func (r *Replay) Remaining() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.exchanges) - r.next
}

// Err returns nil if every recorded exchange was played and no request failed; otherwise the
// failures in order (wrapping ErrReplayMismatch or ErrReplayExtra) and, last, an error wrapping
// ErrReplayUnplayed that names the first unplayed request, all joined with errors.Join.
func (r *Replay) Err() error {
	return errors.Join(r.errs()...)
}

func (r *Replay) errs() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := append([]error(nil), r.failures...)
	if left := len(r.exchanges) - r.next; left > 0 {
		errs = append(errs, &replayError{
			msg: fmt.Sprintf("%s: %d of %d recorded %s not played; next: %s",
				r.prefix(), left, len(r.exchanges), plural(len(r.exchanges), "request", "requests"), r.exchanges[r.next].Request),
			kind: ErrReplayUnplayed,
		})
	}
	return errs
}

// AssertComplete reports each error Err would join with t.Errorf: mismatches, requests past the
// end, and recorded requests not played.
func (r *Replay) AssertComplete(t testing.TB) {
	t.Helper()
	for _, err := range r.errs() {
		t.Errorf("%v", err)
	}
}
