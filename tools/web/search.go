package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/tmc/langchaingo/tools"
	"github.com/tmc/langchaingo/tools/duckduckgo"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// SearchName is the search tool's name.
const SearchName = "web_search"

// Defaults for the zero values of SearchConfig.
const (
	// DefaultMaxResults is how many results the DuckDuckGo search returns at most.
	DefaultMaxResults = 5
	// DefaultSearchOutputBytes is how many bytes of text the search tool returns at most: 16 KiB.
	DefaultSearchOutputBytes = 16 << 10
)

// DuckDuckGoURL is the endpoint langchaingo's DuckDuckGo tool (v0.1.14) queries, fixed in its code
// (tools/duckduckgo/internal/client.go) as DuckDuckGoURL + "?q=" + the query. SearchConfig.BaseURL
// replaces its scheme and host (and puts a path prefix before /html/).
const DuckDuckGoURL = "https://html.duckduckgo.com/html/"

// maxErrorBytes bounds the text of a search engine's error passed to the model: langchaingo's
// DuckDuckGo client puts the whole response body of a failed request into its error.
const maxErrorBytes = 512

// SearchConfig configures the search tool. The zero value is ready to use: DuckDuckGo through
// langchaingo's tools/duckduckgo, with the documented defaults.
//
// The search tool's requests go to the search engine's fixed address, not to addresses the model
// chooses, so they do not pass through the fetch tool's address checks (Config): they use
// HTTPClient, or a client built from http.DefaultTransport, which honours the HTTP_PROXY,
// HTTPS_PROXY and NO_PROXY environment variables. The result URLs are only text for the model; to
// read one, the model calls the fetch tool, where the checks apply.
type SearchConfig struct {
	// Engine runs the search: any langchaingo tool that takes a query and returns results as text
	// (tools/serpapi, tools/wikipedia, tools/metaphor, tools/perplexity, or a test double). nil
	// means DuckDuckGo (tools/duckduckgo), configured by the fields below. HTTPClient, BaseURL,
	// MaxResults, UserAgent and MaxBytes apply to DuckDuckGo only: an Engine brings its own client.
	Engine tools.Tool

	// Description is the description the model sees; "" means one that names DuckDuckGo (or, with
	// an Engine, a generic one).
	Description string

	// HTTPClient sends DuckDuckGo's requests; nil means a client on a clone of
	// http.DefaultTransport. The tool works on a copy and never modifies it. A test can give a
	// client whose Transport answers from an httptest server, or set BaseURL.
	HTTPClient *http.Client

	// BaseURL, when set, replaces the scheme and host of DuckDuckGoURL (its path, if any, is put
	// before /html/), for a test server or a mirror: "http://127.0.0.1:8080" sends the search to
	// http://127.0.0.1:8080/html/?q=.... langchaingo v0.1.14 has no option for it; the tool
	// rewrites each request in its own http.RoundTripper.
	BaseURL string

	// MaxResults is how many results DuckDuckGo returns at most; 0 means DefaultMaxResults (5).
	MaxResults int

	// UserAgent is the User-Agent header sent to DuckDuckGo; "" means langchaingo's
	// duckduckgo.DefaultUserAgent.
	UserAgent string

	// Timeout bounds one search; 0 means DefaultTimeout (20 seconds).
	Timeout time.Duration

	// MaxBytes is the most bytes of DuckDuckGo's response body read (the rest is ignored); 0 means
	// DefaultMaxBytes (2 MiB).
	MaxBytes int64

	// MaxOutputBytes is the most bytes of text returned to the model; 0 means
	// DefaultSearchOutputBytes (16 KiB).
	MaxOutputBytes int
}

// SearchArgs are the search tool's arguments.
type SearchArgs struct {
	Query string `json:"query" jsonschema:"the search query, as you would type it into a search engine"`
}

// NewSearch returns the web search tool: named SearchName ("web_search"), taking SearchArgs
// ({"query": "golang generics tutorial"}) and returning the engine's results as text. With
// DuckDuckGo each result is three lines, "Title: ...", "Description: ...", "URL: ...", the URL
// being the result's own address. Two faults of langchaingo v0.1.14's client are fixed on the way:
// it reads the URL from the link's third attribute, which the HTML parser this module uses no
// longer keeps in document order (see normalizeResults), and it returns DuckDuckGo's redirect link
// //duckduckgo.com/l/?uddg=... instead of the address (the tool unwraps it). No result gives
// "No results for <query>.".
//
// Errors: an *agent.ArgumentError for an empty query; an error wrapping context.DeadlineExceeded
// after SearchConfig.Timeout; ctx's error if ctx ends; otherwise the engine's error, its text cut
// to 512 bytes (DuckDuckGo answers HTTP 202 with a challenge page when it limits a client: the
// error then says so). When cfg is invalid, the tool's Err method reports why (agent.New refuses
// it) and its Call fails.
func NewSearch(cfg SearchConfig) agent.Tool {
	s, err := newSearcher(cfg)
	if err != nil {
		return &invalidTool{name: SearchName, err: err}
	}
	desc := cfg.Description
	if desc == "" {
		desc = "Search the web and return the top results as text."
		if s.ddg {
			desc = fmt.Sprintf("Search the web with DuckDuckGo and return up to %d results, each with its title, "+
				"a short description and its URL.", s.maxResults)
		}
		desc += " To read a result, call " + FetchName + " with its URL, if that tool is available."
	}
	return agent.NewTool(SearchName, desc, s.search)
}

type searcher struct {
	engine  tools.Tool
	ddg     bool
	timeout time.Duration
	// maxResults is DuckDuckGo's result cap (0 with an Engine).
	maxResults int
	maxOut     int
}

func newSearcher(cfg SearchConfig) (*searcher, error) {
	if cfg.MaxResults < 0 || cfg.MaxBytes < 0 || cfg.MaxOutputBytes < 0 || cfg.Timeout < 0 {
		return nil, errors.New("web: SearchConfig limits must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxOutputBytes == 0 {
		cfg.MaxOutputBytes = DefaultSearchOutputBytes
	}
	s := &searcher{engine: cfg.Engine, timeout: cfg.Timeout, maxOut: cfg.MaxOutputBytes}
	if s.engine != nil {
		return s, nil
	}
	if cfg.MaxResults == 0 {
		cfg.MaxResults = DefaultMaxResults
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = duckduckgo.DefaultUserAgent
	}
	rt := &searchTransport{maxBytes: cfg.MaxBytes}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("web: SearchConfig.BaseURL %q: want an http or https URL with a host and no query", cfg.BaseURL)
		}
		rt.base = u
	}
	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient // a copy: the caller's client is never modified
		rt.next = cfg.HTTPClient.Transport
	}
	if rt.next == nil {
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			rt.next = dt.Clone()
		} else {
			rt.next = http.DefaultTransport
		}
	}
	client.Transport = rt
	ddg, err := duckduckgo.New(cfg.MaxResults, cfg.UserAgent, duckduckgo.WithHTTPClient(&client))
	if err != nil {
		return nil, fmt.Errorf("web: duckduckgo: %w", err)
	}
	s.engine, s.ddg, s.maxResults = ddg, true, cfg.MaxResults
	return s, nil
}

func (s *searcher) search(ctx context.Context, in SearchArgs) (string, error) {
	q := strings.TrimSpace(in.Query)
	if q == "" {
		return "", &agent.ArgumentError{Field: "query", Detail: "the search query must not be empty"}
	}
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.engine.Call(tctx, q)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return "", fmt.Errorf("web search: %w", ctx.Err())
		case tctx.Err() != nil:
			return "", fmt.Errorf("web search: timed out after %v: %w", s.timeout, context.DeadlineExceeded)
		}
		return "", &searchError{err: err, ddg: s.ddg}
	}
	if s.ddg {
		out = ddgRedirect.ReplaceAllStringFunc(out, unwrapDDG)
	}
	out = strings.TrimSpace(cleanText(out))
	if out == "" {
		return "No results for " + q + ".", nil
	}
	if shown := truncateUTF8(out, s.maxOut); len(shown) < len(out) {
		out = fmt.Sprintf("%s\n\n[truncated: showing the first %d of %d bytes]", shown, len(shown), len(out))
	}
	return out, nil
}

// searchError is a search engine's error, its text cut to maxErrorBytes.
type searchError struct {
	err error
	ddg bool
}

func (e *searchError) Error() string {
	msg := e.err.Error()
	if short := truncateUTF8(msg, maxErrorBytes); len(short) < len(msg) {
		msg = short + " [...]"
	}
	msg = "web search failed: " + strings.Join(strings.Fields(cleanText(msg)), " ")
	if e.ddg && strings.Contains(msg, "responded with 202") {
		msg += " (DuckDuckGo answers 202 when it rate-limits a client or asks for a challenge; wait before searching again)"
	}
	return msg
}

func (e *searchError) Unwrap() error { return e.err }

// ddgRedirect matches a result URL line that holds DuckDuckGo's redirect link instead of the
// result's address: "URL: //duckduckgo.com/l/?uddg=<address>&rut=<hex>" (langchaingo has already
// percent-decoded the whole link, so the address is taken as it stands, up to "&rut=").
var ddgRedirect = regexp.MustCompile(`(?m)^URL: (?:https?:)?(?://duckduckgo\.com)?/l/\?(?:kh=-?\d+&)?uddg=(.*?)(?:&rut=[0-9A-Fa-f]*)?$`)

func unwrapDDG(line string) string {
	return "URL: " + ddgRedirect.FindStringSubmatch(line)[1]
}

// searchTransport sends DuckDuckGo's requests: it rewrites them to base when set, and cuts response
// bodies at maxBytes.
type searchTransport struct {
	next     http.RoundTripper
	base     *url.URL
	maxBytes int64
}

func (t *searchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.base != nil {
		r := req.Clone(req.Context())
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
		r.URL.RawPath = ""
		r.Host = ""
		req = r
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, t.maxBytes), c: resp.Body}
	if media, isHTML, _ := mediaType(resp.Header.Get("Content-Type")); resp.StatusCode == http.StatusOK && isHTML && media != "" {
		return normalizeResults(resp)
	}
	return resp, nil
}

// normalizeResults rewrites each result link of a DuckDuckGo results page (an a element of class
// result__a) to carry exactly the attributes class, data-ddg and href, in that order.
//
// Why: langchaingo v0.1.14 (tools/duckduckgo/internal/client.go) takes a result's URL from the
// link's third attribute, Attr[2], which was href in the order DuckDuckGo writes them
// (rel, class, href). Since golang.org/x/net v0.55.0, which this module needs for the fix of
// CVE-2026-25680 (a denial of service in html.Parse), the parser sorts the attributes of
// formatting elements such as a (golang/go#79974), so Attr[2] became rel and every URL came out
// as "nofollow". With the three attributes above, href is third in the written order and in the
// sorted one alike. A body that does not parse is passed on unchanged.
func normalizeResults(resp *http.Response) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return resp, nil
	}
	changed := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.A {
			var class, href string
			for _, a := range n.Attr {
				switch a.Key {
				case "class":
					class = a.Val
				case "href":
					href = a.Val
				}
			}
			if slices.Contains(strings.Fields(class), "result__a") {
				n.Attr = []html.Attribute{{Key: "class", Val: class}, {Key: "data-ddg"}, {Key: "href", Val: href}}
				changed = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !changed {
		return resp, nil
	}
	var buf bytes.Buffer
	if err := html.Render(&buf, doc); err != nil {
		return resp, nil
	}
	resp.Body = io.NopCloser(&buf)
	resp.ContentLength = int64(buf.Len())
	resp.Header.Del("Content-Length")
	return resp, nil
}

type limitedBody struct {
	r io.Reader
	c io.Closer
}

func (b *limitedBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *limitedBody) Close() error               { return b.c.Close() }
