package web

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// removed are the elements dropped before conversion, with their content: code, styling, embedded
// objects and graphics carry no readable text. (The converter's base plugin also drops head, meta,
// link, iframe, input and textarea, and comments.)
var removed = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Canvas: true, atom.Object: true, atom.Embed: true,
	atom.Iframe: true, atom.Frameset: true, atom.Audio: true, atom.Video: true,
}

// htmlToMarkdown parses body as HTML and returns its title and its content as Markdown, with
// relative links resolved against page.
func htmlToMarkdown(ctx context.Context, body []byte, page *url.URL) (title, md string, err error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		// html.Parse refuses documents nested deeper than 512 elements (its guard against
		// CVE-2025-47911): fall back to the bare text.
		return "", plainText(body) + "\n\n[the HTML could not be converted to Markdown (" + err.Error() +
			"); its text is shown without formatting]", nil
	}
	title = findTitle(doc)
	prune(doc)
	conv := converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(),
		commonmark.NewCommonmarkPlugin(),
		table.NewTablePlugin(),
	))
	out, err := conv.ConvertNode(doc, converter.WithContext(ctx), converter.WithDomain(page.String()))
	if err != nil {
		return "", "", err
	}
	return title, string(out), nil
}

// findTitle returns the text of the document's first title element.
func findTitle(n *html.Node) string {
	if n.Type == html.ElementNode && n.DataAtom == atom.Title {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		return b.String()
	}
	if n.Type == html.ElementNode && n.DataAtom == atom.Body {
		return "" // a title belongs in the head
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if t := findTitle(c); t != "" {
			return t
		}
	}
	return ""
}

// prune removes, in place, what a reader of the page would not see or cannot use: the elements in
// removed, elements hidden with the hidden attribute, aria-hidden="true" or an inline
// display:none / visibility:hidden style (hidden text is a common carrier of instructions meant
// for a model), images inlined as data: URIs (often large base64), and link targets with the
// javascript:, vbscript: or data: schemes (the link text stays).
func prune(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode && drop(c) {
			n.RemoveChild(c)
		} else {
			if c.Type == html.ElementNode {
				cleanLinks(c)
			}
			prune(c)
		}
		c = next
	}
}

func drop(n *html.Node) bool {
	if removed[n.DataAtom] {
		return true
	}
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "style":
			s := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		case "src":
			if n.DataAtom == atom.Img && hasScheme(a.Val, "data") {
				return true
			}
		}
	}
	return false
}

// cleanLinks drops href attributes with a script or data scheme; a link that had one becomes
// plain text (a span), since the converter would otherwise link it to the page itself.
func cleanLinks(n *html.Node) {
	attrs := n.Attr[:0]
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, "href") && (hasScheme(a.Val, "javascript") || hasScheme(a.Val, "vbscript") || hasScheme(a.Val, "data")) {
			if n.DataAtom == atom.A {
				n.DataAtom, n.Data = atom.Span, "span"
			}
			continue
		}
		attrs = append(attrs, a)
	}
	n.Attr = attrs
}

// hasScheme reports whether the URL reference s starts with scheme: (case-insensitive, leading
// white space and control characters ignored, as browsers do).
func hasScheme(s, scheme string) bool {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r <= ' ' })
	return len(s) > len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) && s[len(scheme)] == ':'
}

// cleanText makes s valid UTF-8 and removes control characters other than tab and newline (a
// carriage return before a newline is dropped, a lone one becomes a newline).
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return -1
		}
		return r
	}, s)
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that does not split a UTF-8
// sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// plainText returns the text of an HTML document read token by token, without building a tree:
// the text outside the elements in removed, one line per run of text.
func plainText(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body))
	var b strings.Builder
	skip := 0 // depth inside removed elements
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.StartTagToken:
			name, _ := z.TagName()
			if removed[atom.Lookup(name)] {
				skip++
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if removed[atom.Lookup(name)] && skip > 0 {
				skip--
			}
		case html.TextToken:
			if skip == 0 {
				if t := strings.Join(strings.Fields(string(z.Text())), " "); t != "" {
					b.WriteString(t)
					b.WriteByte('\n')
				}
			}
		}
	}
}
