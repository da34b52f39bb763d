package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/tmc/langchaingo/tools"
	"github.com/tmc/langchaingo/tools/duckduckgo"
)

// recordedDDG returns the DuckDuckGo results page langchaingo recorded for its own test
// (tools/duckduckgo/testdata/TestDuckDuckGoTool.httprr, the query "golang programming language"),
// read in place from the module cache.
func recordedDDG(t *testing.T) []byte {
	t.Helper()
	recs, err := httprr.ReadFile(llmtest.LangchaingoFile(t, "tools/duckduckgo/testdata/TestDuckDuckGoTool.httprr"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := recs[0].ResponseBody()
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// ddgServer serves page as DuckDuckGo's HTML endpoint and records the requests it gets.
type ddgServer struct {
	*server
	mu   sync.Mutex
	reqs []*http.Request
}

func newDDGServer(t *testing.T, h http.HandlerFunc) *ddgServer {
	d := &ddgServer{}
	d.server = newServer(t, "", func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.reqs = append(d.reqs, r.Clone(context.Background()))
		d.mu.Unlock()
		h(w, r)
	})
	return d
}

func htmlPage(page []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.Write(page)
	}
}

func search(t *testing.T, tool agent.Tool, query string) (string, error) {
	t.Helper()
	args, _ := json.Marshal(SearchArgs{Query: query})
	res, err := tool.Call(context.Background(), args)
	return res.Content, err
}

func TestSearchDuckDuckGoRecorded(t *testing.T) {
	srv := newDDGServer(t, htmlPage(recordedDDG(t)))
	tool := NewSearch(SearchConfig{BaseURL: srv.URL + "/", MaxResults: 3})
	if tool.Name() != SearchName {
		t.Errorf("name %q", tool.Name())
	}
	out, err := search(t, tool, "golang programming language")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "Title: "); n != 3 {
		t.Errorf("%d results, want 3:\n%s", n, out)
	}
	for _, want := range []string{
		"Title: The Go Programming Language\nDescription: ",
		"\nURL: https://go.dev/\n",
		"\nURL: https://en.wikipedia.org/wiki/Go_(programming_language)\n",
		"\nURL: https://www.geeksforgeeks.org/go-language/golang-tutorial-learn-go-programming-language/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "duckduckgo.com/l/") || strings.Contains(out, "rut=") {
		t.Errorf("DuckDuckGo redirect links left in the output:\n%s", out)
	}
	if len(srv.reqs) != 1 {
		t.Fatalf("%d requests", len(srv.reqs))
	}
	r := srv.reqs[0]
	if r.URL.Path != "/html/" || r.URL.Query().Get("q") != "golang programming language" || r.Method != http.MethodGet {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	if ua := r.Header.Get("User-Agent"); ua != duckduckgo.DefaultUserAgent {
		t.Errorf("User-Agent %q", ua)
	}
	if d := tool.Description(); !strings.Contains(d, "DuckDuckGo") || !strings.Contains(d, "up to 3 results") {
		t.Errorf("description %q", d)
	}
	var s struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(tool.Schema(), &s); err != nil || len(s.Required) != 1 || s.Required[0] != "query" || len(s.Properties) != 1 {
		t.Errorf("schema %s", tool.Schema())
	}
}

// rewrite is a caller's RoundTripper that sends every request to a test server.
type rewrite struct {
	to   *url.URL
	seen []string
}

func (rw *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	rw.seen = append(rw.seen, req.URL.String())
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rw.to.Scheme, rw.to.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

func TestSearchHTTPClient(t *testing.T) {
	srv := newDDGServer(t, htmlPage(recordedDDG(t)))
	u, _ := url.Parse(srv.URL)
	rw := &rewrite{to: u}
	client := &http.Client{Transport: rw, Timeout: time.Minute}
	tool := NewSearch(SearchConfig{HTTPClient: client, UserAgent: "test-agent/1"})
	out, err := search(t, tool, "go & generics")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "Title: "); n != DefaultMaxResults {
		t.Errorf("%d results, want %d", n, DefaultMaxResults)
	}
	if len(rw.seen) != 1 || rw.seen[0] != DuckDuckGoURL+"?q=go+%26+generics" {
		t.Errorf("the caller's transport saw %q", rw.seen)
	}
	if client.Transport != rw || client.Timeout != time.Minute {
		t.Error("the caller's client was modified")
	}
	if ua := srv.reqs[0].Header.Get("User-Agent"); ua != "test-agent/1" {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestSearchFailures(t *testing.T) {
	challenge := "<html>" + strings.Repeat("challenge page ", 10000) + "</html>"
	release := make(chan struct{})
	defer close(release)
	srv := newDDGServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("q") {
		case "limited":
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, challenge)
		case "broken":
			http.Error(w, "upstream exploded", http.StatusBadGateway)
		case "none":
			htmlPage([]byte("<html><body><div class=results></div></body></html>"))(w, r)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "endless":
			w.Header().Set("Content-Type", "text/html")
			chunk := []byte(strings.Repeat("<p>x</p>", 512))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	})
	tool := NewSearch(SearchConfig{BaseURL: srv.URL, Timeout: 500 * time.Millisecond, MaxBytes: 64 << 10})

	_, err := search(t, tool, "limited")
	if err == nil || len(err.Error()) > 800 || !strings.Contains(err.Error(), "web search failed: ") ||
		!strings.Contains(err.Error(), "responded with 202") || !strings.Contains(err.Error(), "rate-limits") {
		t.Errorf("202: err = %.1000v", err)
	}
	if _, err := search(t, tool, "broken"); err == nil || !strings.Contains(err.Error(), "responded with 502: upstream exploded") {
		t.Errorf("502: err = %v", err)
	}
	if out, err := search(t, tool, "none"); err != nil || out != "No results for none." {
		t.Errorf("no results: %q, %v", out, err)
	}
	start := time.Now()
	if _, err := search(t, tool, "hang"); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 500ms") {
		t.Errorf("hang: err = %v", err)
	}
	if out, err := search(t, tool, "endless"); err != nil || out != "No results for endless." {
		t.Errorf("endless body: %q, %v", out, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	_, err = search(t, tool, "   ")
	var ae *agent.ArgumentError
	if !errors.As(err, &ae) || ae.Field != "query" {
		t.Errorf("empty query: err = %v", err)
	}
	if n := len(srv.reqs); n != 5 {
		t.Errorf("%d requests, want 5 (none for the empty query)", n)
	}
}

// fakeEngine is a langchaingo tool standing in for a search engine.
type fakeEngine struct {
	inputs []string
	out    string
	err    error
}

func (f *fakeEngine) Name() string        { return "Fake Search" }
func (f *fakeEngine) Description() string { return "fake" }
func (f *fakeEngine) Call(ctx context.Context, input string) (string, error) {
	f.inputs = append(f.inputs, input)
	if _, ok := ctx.Deadline(); !ok {
		return "", errors.New("no deadline")
	}
	return f.out, f.err
}

var _ tools.Tool = (*fakeEngine)(nil)

func TestSearchEngine(t *testing.T) {
	eng := &fakeEngine{out: "  result one\x1b[2J\n"}
	tool := NewSearch(SearchConfig{Engine: eng, MaxOutputBytes: 100})
	out, err := search(t, tool, "  what is go  ")
	if err != nil || out != "result one[2J" {
		t.Errorf("got %q, %v", out, err)
	}
	if len(eng.inputs) != 1 || eng.inputs[0] != "what is go" {
		t.Errorf("engine inputs %q", eng.inputs)
	}
	if d := tool.Description(); strings.Contains(d, "DuckDuckGo") || !strings.Contains(d, "Search the web") {
		t.Errorf("description %q", d)
	}
	eng.out = strings.Repeat("a", 150)
	if out, _ := search(t, tool, "q"); out != strings.Repeat("a", 100)+"\n\n[truncated: showing the first 100 of 150 bytes]" {
		t.Errorf("capped output %q", out)
	}
	eng.err = errors.New("quota exceeded")
	if _, err := search(t, tool, "q"); err == nil || err.Error() != "web search failed: quota exceeded" || !errors.Is(err, eng.err) {
		t.Errorf("engine error: %v", err)
	}
	custom := NewSearch(SearchConfig{Engine: eng, Description: "Search the intranet wiki."})
	if custom.Description() != "Search the intranet wiki." {
		t.Errorf("description %q", custom.Description())
	}
}

func TestSearchConfigErrors(t *testing.T) {
	for _, c := range []SearchConfig{
		{BaseURL: "ftp://example.com"},
		{BaseURL: "http://"},
		{BaseURL: "http://example.com/?q=1"},
		{BaseURL: "::"},
		{MaxResults: -1},
		{Timeout: -1},
		{MaxBytes: -1},
		{MaxOutputBytes: -1},
	} {
		tool := NewSearch(c)
		e, ok := tool.(interface{ Err() error })
		if !ok || e.Err() == nil {
			t.Errorf("NewSearch(%+v): no Err", c)
		}
		if _, err := search(t, tool, "q"); err == nil {
			t.Errorf("NewSearch(%+v): Call succeeded", c)
		}
	}
}

func TestUnwrapDDG(t *testing.T) {
	for in, want := range map[string]string{
		"URL: //duckduckgo.com/l/?uddg=https://go.dev/&rut=abc123":             "URL: https://go.dev/",
		"URL: https://duckduckgo.com/l/?uddg=https://x.test/?a=1&b=2&rut=00ff": "URL: https://x.test/?a=1&b=2",
		"URL: /l/?kh=-1&uddg=https://old.test/":                                "URL: https://old.test/",
		"URL: https://go.dev/":                                                 "URL: https://go.dev/",
		"Description: see //duckduckgo.com/l/?uddg=x":                          "Description: see //duckduckgo.com/l/?uddg=x",
	} {
		if got := ddgRedirect.ReplaceAllStringFunc(in, unwrapDDG); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
