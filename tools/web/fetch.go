package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/google/jsonschema-go/jsonschema"
)

// FetchName is the fetch tool's name.
const FetchName = "fetch"

// Defaults for the zero values of Config.
const (
	// DefaultMaxBytes is how many bytes of a response body the fetch tool reads at most: 2 MiB.
	DefaultMaxBytes = 2 << 20
	// DefaultMaxOutputBytes is how many bytes of text the fetch tool returns at most: 64 KiB.
	DefaultMaxOutputBytes = 64 << 10
	// DefaultTimeout bounds a whole fetch, redirects and body included: 20 seconds.
	DefaultTimeout = 20 * time.Second
	// DefaultMaxRedirects is how many redirects the fetch tool follows at most.
	DefaultMaxRedirects = 5
	// DefaultUserAgent is the User-Agent header the fetch tool sends.
	DefaultUserAgent = "autogpt-go-agent/fetch (+https://github.com/autogpt-go/agent)"
)

// ErrBlocked is wrapped by every *BlockedError: errors.Is(err, ErrBlocked) tells a fetch refused
// by policy from a network or server failure.
var ErrBlocked = errors.New("fetch refused")

// ErrUnsupportedContent is wrapped by the error of a fetch whose response is not text: its
// Content-Type (declared, or sniffed when absent) is none of text/*, HTML, JSON or XML.
var ErrUnsupportedContent = errors.New("unsupported content type")

// BlockedError reports a fetch refused by policy before any connection to the refused address was
// made: a scheme other than http or https, a URL with a user name or password, a host outside
// Config.AllowHosts, an unusual spelling of an IPv4 address, an address that is not public (see
// Config), or too many redirects. Its Error text is written for the model and names the reason.
type BlockedError struct {
	// URL is the URL refused (a redirect's target, when RedirectFrom is set); "" when unknown.
	URL string
	// RedirectFrom is the URL whose response redirected to URL, "" for the URL the tool was given.
	RedirectFrom string
	// Host is the host refused, "" when the refusal is not about a host (a scheme, for one).
	Host string
	// Addr is the IP address refused; the zero netip.Addr when the refusal is not about an address.
	Addr netip.Addr
	// Reason says why, for example `host "intranet" resolves to 10.0.0.5, a private address
	// (10.0.0.0/8, RFC 1918); only public internet addresses can be fetched`.
	Reason string
}

// Error returns "fetch refused: URL: reason", or for a redirect
// "fetch refused: redirect from URL to URL: reason".
func (e *BlockedError) Error() string {
	var b strings.Builder
	b.WriteString("fetch refused")
	switch {
	case e.RedirectFrom != "":
		fmt.Fprintf(&b, ": redirect from %s to %s", e.RedirectFrom, e.URL)
	case e.URL != "":
		fmt.Fprintf(&b, ": %s", e.URL)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns ErrBlocked.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Resolver resolves host names to IP addresses. *net.Resolver implements it; tests and hosts with
// their own DNS (DNS over HTTPS, a fixed table) give their own. network is "ip".
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures the fetch tool. The zero value is ready to use and safe: every zero field has
// the documented default, and no private address is reachable.
//
// Whatever the host name, the tool connects only to public internet addresses. It refuses, and
// never connects to: loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, RFC 1918),
// link-local (169.254/16, fe80::/10) including the cloud metadata address 169.254.169.254,
// carrier-grade NAT (100.64/10), "this network" (0.0.0.0/8), unique-local (fc00::/7), multicast,
// unspecified, broadcast, documentation, benchmarking and reserved ranges, and those same addresses
// written as IPv4-mapped (::ffff:127.0.0.1), IPv4-compatible (::127.0.0.1), NAT64 (64:ff9b::/96)
// or 6to4 (2002::/16) IPv6 addresses. The check runs in the dialer on every address a name resolves
// to, and the connection goes to the address checked (no second lookup, so a DNS answer that
// changes between check and use cannot slip through); a name with any refused address is refused
// as a whole. The socket's Control hook checks the address once more just before connect. Unusual
// IPv4 spellings in URLs (2130706433, 0x7f.1, 017700000001, 127.1) are refused outright, so the
// spelling cannot matter. No proxy is used (HTTP_PROXY and friends are ignored: a proxy would make
// the connection for us, out of reach of the check), no cookies are kept, and every redirect is
// checked like the first URL.
type Config struct {
	// AllowHosts, when not empty, restricts fetches to these hosts, for the first URL and every
	// redirect. An entry is a host name matched exactly ("example.com", case-insensitive, a
	// trailing dot ignored), "*.example.com" for any subdomain of example.com (not example.com
	// itself: list both if both are meant), or an IP address ("93.184.215.14", "[2001:db8::1]").
	// Write internationalised names as they appear in the URLs (punycode or Unicode): the forms are
	// not converted into each other, so a mismatch is refused. AllowHosts only narrows: an allowed
	// host that resolves to a refused address is still refused. Empty means any host.
	AllowHosts []string

	// AllowAddrs lists address ranges the host explicitly trusts, exempted from the address refusal:
	// for example netip.MustParsePrefix("127.0.0.1/32") so tests reach an httptest server, or an
	// intranet range for an agent meant to read internal pages. An IPv4-mapped IPv6 address is
	// matched by its IPv4 form as well. Empty (the default) exempts nothing. Only the host program
	// sets this; nothing the model sends can change it.
	AllowAddrs []netip.Prefix

	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver

	// MaxBytes is the most bytes of a response body read, after any Content-Encoding is decoded; a
	// longer body is cut there and the text says so. 0 means DefaultMaxBytes (2 MiB).
	MaxBytes int64

	// MaxOutputBytes is the most bytes of text returned to the model (the header lines URL, Title
	// and Content-Type and the truncation notes come on top), and the default and largest value of
	// the max_bytes argument. 0 means DefaultMaxOutputBytes (64 KiB).
	MaxOutputBytes int

	// Timeout bounds a whole fetch: connections, redirects and reading the body. 0 means
	// DefaultTimeout (20 seconds).
	Timeout time.Duration

	// MaxRedirects is how many redirects one fetch follows; 0 means DefaultMaxRedirects (5), a
	// negative value follows none (a redirect is then refused).
	MaxRedirects int

	// UserAgent is the User-Agent header sent; "" means DefaultUserAgent.
	UserAgent string
}

// FetchArgs are the fetch tool's arguments.
type FetchArgs struct {
	URL      string `json:"url" jsonschema:"the absolute http or https URL to fetch, for example https://go.dev/doc/"`
	MaxBytes int    `json:"max_bytes,omitempty" jsonschema:"the most bytes of text to return; default and maximum 65536"`
}

// Fetcher fetches web pages for an agent under the policy of its Config. Build it with NewFetcher.
// It is safe for concurrent use, as is its tool.
type Fetcher struct {
	cfg      Config
	allow    []hostPattern
	resolver Resolver
	tr       *http.Transport
	client   *http.Client
}

// NewFetcher checks cfg and returns a Fetcher. It returns an error for negative limits, an
// AllowHosts entry that is not a host name, "*.domain" pattern or IP address, and an invalid
// AllowAddrs prefix.
func NewFetcher(cfg Config) (*Fetcher, error) {
	if cfg.MaxBytes < 0 || cfg.MaxOutputBytes < 0 || cfg.Timeout < 0 {
		return nil, errors.New("web: Config.MaxBytes, MaxOutputBytes and Timeout must not be negative")
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxOutputBytes == 0 {
		cfg.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	f := &Fetcher{cfg: cfg, resolver: cfg.Resolver}
	if f.resolver == nil {
		f.resolver = net.DefaultResolver
	}
	for _, h := range cfg.AllowHosts {
		p, err := parseHostPattern(h)
		if err != nil {
			return nil, err
		}
		f.allow = append(f.allow, p)
	}
	f.cfg.AllowHosts = append([]string(nil), cfg.AllowHosts...)
	f.cfg.AllowAddrs = nil
	for _, p := range cfg.AllowAddrs {
		if !p.IsValid() {
			return nil, fmt.Errorf("web: Config.AllowAddrs: invalid prefix %v", p)
		}
		f.cfg.AllowAddrs = append(f.cfg.AllowAddrs, p.Masked())
	}
	d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, ControlContext: f.control}
	f.tr = &http.Transport{
		Proxy: nil, // a proxy would connect for us, past the address check
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			return f.dial(ctx, d, network, address)
		},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	f.client = &http.Client{Transport: f.tr, CheckRedirect: f.checkRedirect}
	return f, nil
}

// NewFetch returns the fetch tool for cfg: NewFetcher(cfg) followed by Tool. When cfg is invalid,
// the returned tool's Err method reports why (so agent.New refuses it) and its Call fails.
func NewFetch(cfg Config) agent.Tool {
	f, err := NewFetcher(cfg)
	if err != nil {
		return &invalidTool{name: FetchName, err: err}
	}
	return f.Tool()
}

// CloseIdleConnections closes the Fetcher's idle keep-alive connections.
func (f *Fetcher) CloseIdleConnections() { f.tr.CloseIdleConnections() }

// Tool returns the fetch tool: named FetchName, taking FetchArgs ({"url": "https://...",
// "max_bytes": 10000}) and returning the text of the page (see Fetch). It is built with
// agent.NewTool, so its arguments are validated against its schema before it runs.
func (f *Fetcher) Tool() agent.Tool {
	desc := fmt.Sprintf("Fetch a web page or document by its http or https URL and return its text: HTML as Markdown "+
		"(scripts and styles removed), plain text, JSON and XML as they are. Returns at most %d bytes of text; "+
		"longer text ends with a truncation note. Local, private and cloud metadata addresses are refused.",
		f.cfg.MaxOutputBytes)
	if len(f.cfg.AllowHosts) > 0 {
		desc += " Only these hosts can be fetched: " + strings.Join(f.cfg.AllowHosts, ", ") + "."
	}
	t := agent.NewTool(FetchName, desc, f.Fetch)
	if s, err := jsonschema.For[FetchArgs](nil); err == nil {
		if p := s.Properties["max_bytes"]; p != nil {
			p.Description = fmt.Sprintf("the most bytes of text to return; default and maximum %d", f.cfg.MaxOutputBytes)
		}
		if raw, err := json.Marshal(s); err == nil {
			t = t.WithSchema(raw)
		}
	}
	return t
}

// Fetch fetches args.URL with GET and returns its text for the model, preceded by header lines:
//
//	URL: <the final URL, after redirects>
//	Title: <the HTML title, for HTML with a title>
//	Content-Type: <the media type>
//
// HTML (text/html, application/xhtml+xml) becomes Markdown (see the package documentation); other
// text/* types, JSON (application/json, +json) and XML (application/xml, +xml) are returned as
// they are; a response without a Content-Type is sniffed (http.DetectContentType). Invalid UTF-8
// is replaced by U+FFFD (only UTF-8 is decoded: other charsets come out garbled) and control
// characters other than tab and newline are removed. At most Config.MaxBytes of the body are read
// and at most args.MaxBytes (if positive and smaller than Config.MaxOutputBytes) or
// Config.MaxOutputBytes bytes of text returned; a note says what was cut.
//
// Errors, each naming the URL: an *agent.ArgumentError for a URL that is not absolute; a
// *BlockedError (ErrBlocked) for a refusal by policy; an error wrapping ErrUnsupportedContent for
// a non-text response (its body is not read); "HTTP <status>" for a status other than 2xx; an
// error wrapping context.DeadlineExceeded after Config.Timeout; ctx's error if ctx ends; the
// network error otherwise.
func (f *Fetcher) Fetch(ctx context.Context, args FetchArgs) (string, error) {
	limit := f.cfg.MaxOutputBytes
	if args.MaxBytes > 0 && args.MaxBytes < limit {
		limit = args.MaxBytes
	}
	raw := strings.TrimSpace(args.URL)
	u, err := url.Parse(raw)
	if err != nil {
		return "", &agent.ArgumentError{Field: "url", Detail: "not a valid URL: " + strings.TrimPrefix(err.Error(), "parse ")}
	}
	if !u.IsAbs() {
		return "", &agent.ArgumentError{Field: "url", Detail: fmt.Sprintf("%q is not an absolute URL; give one such as https://example.com/page", raw)}
	}
	if err := f.checkURL(u); err != nil {
		return "", err
	}
	tctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	trace := &redirectTrace{}
	req, err := http.NewRequestWithContext(context.WithValue(tctx, redirectTraceKey{}, trace), http.MethodGet, u.String(), nil)
	if err != nil {
		return "", &agent.ArgumentError{Field: "url", Detail: err.Error()}
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/json;q=0.9,application/xml;q=0.9,text/*;q=0.8,*/*;q=0.1")
	resp, err := f.client.Do(req)
	if err != nil {
		return "", f.failure(ctx, tctx, u.String(), err, trace)
	}
	defer resp.Body.Close()
	final := resp.Request.URL.String()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("fetch %s: HTTP %s", final, resp.Status)
	}
	media, isHTML, known := mediaType(resp.Header.Get("Content-Type"))
	if known && media == "" {
		return "", unsupported(final, resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return "", f.failure(ctx, tctx, final, err, nil)
	}
	cut := int64(len(body)) > f.cfg.MaxBytes
	if cut {
		body = body[:f.cfg.MaxBytes]
	}
	if !known {
		media, isHTML, _ = mediaType(http.DetectContentType(body))
		if media == "" {
			return "", fmt.Errorf("fetch %s: %w: the response has no Content-Type and its first bytes look like %s, not text "+
				"(this tool reads text/*, HTML, JSON and XML)", final, ErrUnsupportedContent, http.DetectContentType(body))
		}
	}
	var title, text string
	if isHTML {
		title, text, err = htmlToMarkdown(tctx, body, resp.Request.URL)
		if err != nil {
			return "", f.failure(ctx, tctx, final, err, nil)
		}
	} else {
		text = string(body)
	}
	text = cleanText(text)
	var b strings.Builder
	fmt.Fprintf(&b, "URL: %s\n", final)
	if title = strings.Join(strings.Fields(cleanText(title)), " "); title != "" {
		fmt.Fprintf(&b, "Title: %s\n", title)
	}
	fmt.Fprintf(&b, "Content-Type: %s\n\n", media)
	shown := truncateUTF8(text, limit)
	b.WriteString(shown)
	if len(shown) < len(text) {
		fmt.Fprintf(&b, "\n\n[truncated: showing the first %d of %d bytes of text", len(shown), len(text))
		if limit < f.cfg.MaxOutputBytes {
			fmt.Fprintf(&b, "; a larger max_bytes (at most %d) shows more", f.cfg.MaxOutputBytes)
		}
		b.WriteString("]")
	}
	if cut {
		fmt.Fprintf(&b, "\n\n[the response is longer than %d bytes; only its first %d bytes were read]", f.cfg.MaxBytes, f.cfg.MaxBytes)
	}
	return b.String(), nil
}

// unsupported is the error for a response whose declared Content-Type is not text.
func unsupported(final string, resp *http.Response) error {
	size := "of unknown size"
	if resp.ContentLength >= 0 {
		size = strconv.FormatInt(resp.ContentLength, 10) + " bytes"
	}
	return fmt.Errorf("fetch %s: %w: the response is %s (%s), not text; this tool reads text/*, HTML, JSON and XML",
		final, ErrUnsupportedContent, resp.Header.Get("Content-Type"), size)
}

// mediaType classifies a Content-Type header value. known is false when ct is empty or cannot be
// parsed (the body must be sniffed). For a known type, media is the media type if it is text the
// tool reads and "" otherwise; isHTML tells HTML from other text.
func mediaType(ct string) (media string, isHTML, known bool) {
	if strings.TrimSpace(ct) == "" {
		return "", false, false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", false, false
	}
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		return mt, true, true
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"):
		return mt, false, true
	}
	return "", false, true
}

// redirectTrace records, for one fetch, the last redirect its client followed, so that a refusal
// made by the dialer (which knows only the host) can name the redirect that led there.
// CheckRedirect and the error handling run one after the other on the goroutine of client.Do.
type redirectTrace struct {
	from, to string
}

type redirectTraceKey struct{}

// failure turns an error of the HTTP exchange into the error the model sees. ctx is the caller's
// context, tctx the one bounded by Config.Timeout, u the URL being fetched, trace its redirects.
func (f *Fetcher) failure(ctx, tctx context.Context, u string, err error, trace *redirectTrace) error {
	var be *BlockedError
	if errors.As(err, &be) {
		c := *be // a copy: the dialer's error value may be seen by other requests
		if c.URL == "" {
			c.URL = u
			var ue *url.Error
			if errors.As(err, &ue) {
				c.URL = ue.URL
			}
		}
		if c.RedirectFrom == "" && trace != nil {
			if trace.to != "" && trace.to == c.URL {
				c.RedirectFrom = trace.from
			}
		}
		return &c
	}
	if ctx.Err() != nil {
		return fmt.Errorf("fetch %s: %w", u, ctx.Err())
	}
	if tctx.Err() != nil {
		return fmt.Errorf("fetch %s: timed out after %v: %w", u, f.cfg.Timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("fetch %s: %w", u, err)
}

// checkURL applies the URL policy: scheme, user info, host allowlist, IP spelling and literal
// addresses. Addresses of names are checked when dialling.
func (f *Fetcher) checkURL(u *url.URL) *BlockedError {
	refuse := func(host, reason string) *BlockedError {
		// Redacted: a password in the URL stays out of the error, and so out of events and logs.
		return &BlockedError{URL: u.Redacted(), Host: host, Reason: reason}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("", fmt.Sprintf("scheme %q is not allowed; only http and https URLs can be fetched", u.Scheme))
	}
	if u.User != nil {
		return refuse("", "URLs with a user name or password are not allowed")
	}
	host := u.Hostname()
	if host == "" {
		return refuse("", "the URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return refuse(host, fmt.Sprintf("port %q is not a valid port number", p))
		}
	}
	if len(f.allow) > 0 && !f.hostAllowed(host) {
		return refuse(host, fmt.Sprintf("host %q is not among the hosts this tool may fetch (%s)", host, strings.Join(f.cfg.AllowHosts, ", ")))
	}
	a, literal, reason := hostAddr(host)
	if reason != "" {
		return refuse(host, reason)
	}
	if literal {
		if be := f.checkAddr(host, a, false); be != nil {
			be.URL = u.Redacted()
			return be
		}
	}
	return nil
}

// checkRedirect is the client's CheckRedirect: the hop cap, then the URL policy for the target.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	from := via[len(via)-1].URL.String()
	if trace, ok := req.Context().Value(redirectTraceKey{}).(*redirectTrace); ok {
		trace.from, trace.to = from, req.URL.String()
	}
	if len(via) > f.cfg.MaxRedirects {
		reason := fmt.Sprintf("stopped after %d redirects, the limit", len(via)-1)
		if f.cfg.MaxRedirects < 0 {
			reason = "redirects are not followed (this tool is configured to follow none)"
		}
		return &BlockedError{URL: req.URL.String(), RedirectFrom: from, Reason: reason}
	}
	if be := f.checkURL(req.URL); be != nil {
		be.RedirectFrom = from
		return be
	}
	return nil
}

// checkAddr returns a *BlockedError when a connection to a is refused. host is the name a was
// resolved from ("" when unknown); resolved tells whether it came from a lookup.
func (f *Fetcher) checkAddr(host string, a netip.Addr, resolved bool) *BlockedError {
	plain := a.WithZone("")
	for _, p := range f.cfg.AllowAddrs {
		if p.Contains(plain) || p.Contains(plain.Unmap()) {
			return nil
		}
	}
	reason := refusal(a)
	if reason == "" {
		return nil
	}
	be := &BlockedError{Host: host, Addr: a}
	if resolved {
		be.Reason = fmt.Sprintf("host %q resolves to %s, %s; only public internet addresses can be fetched", host, a, reason)
	} else {
		be.Reason = fmt.Sprintf("%s is %s; only public internet addresses can be fetched", a, reason)
	}
	return be
}

// resolve returns the addresses of host (a literal IP or a name), each checked: any refused
// address refuses the whole host.
func (f *Fetcher) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	a, literal, reason := hostAddr(host)
	if reason != "" {
		return nil, &BlockedError{Host: host, Reason: reason}
	}
	addrs := []netip.Addr{a}
	if !literal {
		var err error
		addrs, err = f.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolving host %q: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolving host %q: no addresses", host)
		}
	}
	for _, a := range addrs {
		if be := f.checkAddr(host, a, !literal); be != nil {
			return nil, be
		}
	}
	return addrs, nil
}

// dial is the transport's DialContext: it resolves the host itself, checks every address, and
// connects to the checked addresses only, in the resolver's order.
func (f *Fetcher) dial(ctx context.Context, d *net.Dialer, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, err := f.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var first error
	for _, a := range addrs {
		a = a.Unmap()
		if network == "tcp4" && !a.Is4() || network == "tcp6" && !a.Is6() {
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if first == nil {
		first = fmt.Errorf("host %q has no %s address", host, network)
	}
	return nil, first
}

// control is the dialer's ControlContext hook: the last check, on the very address the socket is
// about to connect to.
func (f *Fetcher) control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Reason: fmt.Sprintf("cannot check the address %q before connecting", address)}
	}
	if be := f.checkAddr("", ap.Addr(), false); be != nil {
		return be
	}
	return nil
}

// hostPattern is one entry of Config.AllowHosts, normalised.
type hostPattern struct {
	name     string // lower case, no trailing dot; the domain after "*." for a wildcard
	wildcard bool
}

func parseHostPattern(s string) (hostPattern, error) {
	bad := func(why string) (hostPattern, error) {
		return hostPattern{}, fmt.Errorf("web: Config.AllowHosts: %q: %s", s, why)
	}
	h := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return hostPattern{name: a.String()}, nil
	}
	h = strings.TrimSuffix(h, ".")
	p := hostPattern{name: h}
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		p = hostPattern{name: rest, wildcard: true}
	}
	if p.name == "" {
		return bad("empty host")
	}
	for _, label := range strings.Split(p.name, ".") {
		if label == "" {
			return bad("empty label; write a host name such as example.com or *.example.com")
		}
	}
	if strings.ContainsAny(p.name, "*/:@?#[] \t") {
		return bad("write a host name such as example.com, *.example.com or an IP address, without scheme, port or path")
	}
	if endsInNumber(p.name) {
		return bad("an IPv4 address must be written as four decimal numbers")
	}
	return p, nil
}

// hostAllowed reports whether host matches Config.AllowHosts.
func (f *Fetcher) hostAllowed(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		h = a.String()
	}
	for _, p := range f.allow {
		if h == p.name && !p.wildcard || p.wildcard && strings.HasSuffix(h, "."+p.name) {
			return true
		}
	}
	return false
}

// invalidTool stands for a tool whose configuration is invalid: Err reports why.
type invalidTool struct {
	name string
	err  error
}

func (t *invalidTool) Name() string            { return t.name }
func (t *invalidTool) Description() string     { return "unavailable: " + t.err.Error() }
func (t *invalidTool) Schema() json.RawMessage { return nil }
func (t *invalidTool) Err() error              { return t.err }
func (t *invalidTool) Call(context.Context, json.RawMessage) (agent.ToolResult, error) {
	return agent.ToolResult{}, t.err
}
