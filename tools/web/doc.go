// Package web gives an agent two tools for the web: fetch, which reads a page by URL, and
// web_search, which asks a search engine.
//
// # fetch
//
// NewFetch (or NewFetcher and Fetcher.Tool) builds the fetch tool, {"url": "https://...",
// "max_bytes": 10000}. A URL the model chooses can point anywhere, so the tool guards the host
// program's network (server-side request forgery):
//
//   - Only http and https; no user name or password in the URL; no proxy (a proxy would make the
//     connection out of reach of the checks); no cookies.
//   - Addresses: the dialer resolves the host itself, checks every address it gets, and connects
//     only to a checked address (no second lookup, so DNS rebinding has no window); the socket's
//     Control hook checks the address again just before connect. Refused: loopback, private
//     (RFC 1918), link-local with the cloud metadata address 169.254.169.254, carrier-grade NAT
//     (100.64.0.0/10), 0.0.0.0/8, unique-local (fc00::/7), multicast, unspecified, broadcast,
//     documentation, benchmarking and reserved ranges, and all of these in IPv4-mapped
//     (::ffff:127.0.0.1), IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) form.
//     Addresses are compared as net/netip values, so their spelling cannot matter, and unusual
//     IPv4 spellings in URLs (2130706433, 0x7f.1, 017700000001, 127.1) are refused outright.
//   - Redirects: each target is checked like the first URL (scheme, host allowlist, address), at
//     most Config.MaxRedirects (5) of them.
//   - Optionally, Config.AllowHosts restricts fetches to named hosts ("example.com",
//     "*.example.com"); Config.AllowAddrs exempts address ranges the host program trusts (tests
//     reaching an httptest server on 127.0.0.1; an intranet). Both are set by the host program
//     only; nothing in a tool call changes them.
//   - Caps: Config.MaxBytes of body read (2 MiB), Config.Timeout for the whole fetch (20 seconds),
//     Config.MaxOutputBytes of text returned (64 KiB).
//   - Content: text/*, HTML, JSON and XML only (a response without a Content-Type is sniffed);
//     anything else is refused with its type and size, without reading its body.
//
// A refusal is a *BlockedError (errors.Is(err, ErrBlocked)) whose text names the URL and the
// reason; through an agent it reaches the model as a failed tool call it can read and correct.
//
// HTML becomes Markdown with github.com/JohannesKaufmann/html-to-markdown/v2 (commonmark and table
// plugins), links made absolute against the page's URL. Before conversion the tool removes
// script, style, noscript, template, svg, canvas, iframe, object, embed, audio and video elements,
// elements hidden with the hidden attribute, aria-hidden="true" or an inline display:none or
// visibility:hidden style, images inlined as data: URIs, and javascript:, vbscript: and data: link
// targets. Removing hidden text narrows one way of slipping instructions to the model; it is no
// defence against a page's visible text: treat fetched text as untrusted input.
//
// # web_search
//
// NewSearch builds the web_search tool, {"query": "..."}, on a langchaingo tool: by default
// DuckDuckGo's HTML endpoint through github.com/tmc/langchaingo/tools/duckduckgo, or any
// langchaingo tool given as SearchConfig.Engine. Its requests go to the search engine's fixed
// address, not through the fetch tool's dialer: see SearchConfig.
//
// A minimal use:
//
//	a, err := agent.New(agent.Config{
//		Model: m,
//		Tools: []agent.Tool{web.NewFetch(web.Config{}), web.NewSearch(web.SearchConfig{})},
//	})
package web
