package llmtest

import (
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// lengthBounds reads minLength and maxLength (maxL -1 for none). A minLength beyond genMaxLength
// is an error; a larger maxLength only caps nothing the generator would reach.
func lengthBounds(o *jobj, ptr string) (minL, maxL int, err error) {
	if f, ok := numKw(o, "minLength"); ok && f > 0 {
		if f > genMaxLength {
			return 0, 0, finalErr(ptr, "minLength %s exceeds the generator's limit of %d", strconv.FormatFloat(f, 'f', -1, 64), genMaxLength)
		}
		minL = int(math.Ceil(f))
	}
	maxL = -1
	if f, ok := numKw(o, "maxLength"); ok && f >= 0 {
		maxL = int(min(math.Floor(f), genMaxLength))
	}
	if maxL >= 0 && minL > maxL {
		return 0, 0, unsat(ptr, "minLength %d is greater than maxLength %s", minL, jsonText(o.m["maxLength"]))
	}
	return minL, maxL, nil
}

// str generates a string: from its patterns (and, when it also has a format, one that has both),
// else its format, else plain letters, within minLength and maxLength (counted in code points).
func (g *generator) str(o *jobj, ptr string) (any, error) {
	minL, maxL, err := lengthBounds(o, ptr)
	if err != nil {
		return nil, err
	}
	fits := func(s string) bool {
		n := utf8.RuneCountInString(s)
		return n >= minL && (maxL < 0 || n <= maxL)
	}
	format, _ := o.m["format"].(string)
	if _, known := g.format(format); !known {
		format = ""
	}
	patterns := patternsOf(o)
	if len(patterns) > 0 {
		res := make([]*regexp.Regexp, len(patterns))
		for i, p := range patterns {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, finalErr(ptr, "pattern %q does not compile: %v", p, err)
			}
			res[i] = re
		}
		matches := func(s string) bool {
			for _, re := range res {
				if !re.MatchString(s) {
					return false
				}
			}
			return true
		}
		if format != "" {
			// Strings of the format that happen to match, then strings of the pattern that happen
			// to be of the format.
			for range genPatternTries {
				if s, ok := g.formatFit(format, minL, maxL); ok && matches(s) {
					return s, nil
				}
			}
			check := formatCheck(format)
			if s, err := g.fromPatterns(patterns, res, ptr, minL, maxL, fits, check); err == nil {
				return s, nil
			}
			return nil, schemaErr(ptr, "found no %s string matching %q with length between %d and %d", format, strings.Join(patterns, `" and "`), minL, maxL)
		}
		return g.fromPatterns(patterns, res, ptr, minL, maxL, fits, nil)
	}
	if format != "" {
		if s, ok := g.formatFit(format, minL, maxL); ok {
			return s, nil
		}
		return nil, schemaErr(ptr, "no %s string has a length between %d and %d", format, minL, maxL)
	}
	lo := max(minL, 1)
	hi := lo + genPlainMaxChars
	if maxL >= 0 {
		lo = min(lo, maxL)
		hi = min(hi, maxL)
	}
	n := lo + g.rng.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return string(b), nil
}

// fromPatterns builds strings from the first pattern's parse tree until one fits the lengths,
// matches every pattern and passes extra (when not nil).
func (g *generator) fromPatterns(patterns []string, res []*regexp.Regexp, ptr string, minL, maxL int, fits func(string) bool, extra func(string) bool) (string, error) {
	tree, err := syntax.Parse(patterns[0], syntax.Perl)
	if err != nil {
		return "", finalErr(ptr, "pattern %q does not parse: %v", patterns[0], err)
	}
	startAnchored, endAnchored := anchors(tree)
	for try := range genPatternTries {
		var b strings.Builder
		g.regex(&b, tree, genMaxRepeat+try*2)
		s := b.String()
		// An unanchored pattern matches anywhere, so filler may lengthen the string.
		if short := minL - utf8.RuneCountInString(s); short > 0 {
			switch {
			case !endAnchored:
				s += strings.Repeat("a", short)
			case !startAnchored:
				s = strings.Repeat("a", short) + s
			}
		}
		if !fits(s) {
			continue
		}
		ok := extra == nil || extra(s)
		for _, re := range res {
			if !ok {
				break
			}
			ok = re.MatchString(s)
		}
		if ok {
			return s, nil
		}
	}
	return "", schemaErr(ptr, "found no string matching %q with length between %d and %d", strings.Join(patterns, `" and "`), minL, maxL)
}

// formatFit returns a string of the known format f with a length in [minL, maxL] (maxL -1: no
// maximum): the format's usual string if it fits, else one built to a fitting length.
func (g *generator) formatFit(f string, minL, maxL int) (string, bool) {
	s, _ := g.format(f)
	n := utf8.RuneCountInString(s)
	if n >= minL && (maxL < 0 || n <= maxL) {
		return s, true
	}
	for l := minL; l <= minL+8 && (maxL < 0 || l <= maxL); l++ {
		if s, ok := g.formatOfLength(f, l); ok {
			return s, true
		}
	}
	if maxL >= 0 && n > maxL { // shorter than usual: try every length up to maxL, longest first
		for l := maxL; l >= max(minL, 0); l-- {
			if s, ok := g.formatOfLength(f, l); ok {
				return s, true
			}
		}
	}
	return "", false
}

// formatOfLength returns a string of format f exactly n bytes long (ASCII), or false when the
// format has no string of that length or the generator cannot build one.
func (g *generator) formatOfLength(f string, n int) (string, bool) {
	r := g.rng
	letters := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	}
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	// host returns a host name of exactly k bytes: labels of at most 63 letters.
	host := func(k int) (string, bool) {
		if k < 1 || k > 253 {
			return "", false
		}
		var b strings.Builder
		for k > 63 {
			b.WriteString(letters(62) + ".")
			k -= 63
		}
		b.WriteString(letters(k))
		return b.String(), true
	}
	date := fmt.Sprintf("%04d-%02d-%02d", 2000+r.IntN(31), 1+r.IntN(12), 1+r.IntN(28))
	clock := fmt.Sprintf("%02d:%02d:%02d", r.IntN(24), r.IntN(60), r.IntN(60))
	switch f {
	case "date-time", "time":
		base := clock
		if f == "date-time" {
			base = date + "T" + clock
		}
		switch extra := n - len(base); {
		case extra == 1:
			return base + "Z", true
		case extra == 6:
			return base + "+00:00", true
		case extra >= 3:
			return base + "." + digits(extra-2) + "Z", true
		}
	case "email", "idn-email":
		domain := "example.com"
		if n < 2+len(domain) {
			domain = "x.io"
		}
		local := n - 1 - len(domain)
		if local > 64 {
			d, ok := host(n - 1 - 64 - 4)
			if !ok {
				return "", false
			}
			local, domain = 64, d+".com"
		}
		if local >= 1 {
			return letters(local) + "@" + domain, true
		}
	case "hostname", "idn-hostname":
		return host(n)
	case "uri", "url", "iri":
		if n >= 13 {
			return "https://a.io/" + letters(n-13), true
		}
		if n >= 5 {
			return "urn:" + letters(n-4), true
		}
	case "uri-reference", "iri-reference", "uri-template", "json-pointer":
		if n == 0 {
			return "", f != "uri-template"
		}
		return "/" + letters(n-1), true
	case "relative-json-pointer":
		if n == 1 {
			return "0", true
		}
		if n >= 2 {
			return "0/" + letters(n-2), true
		}
	case "duration":
		if n >= 3 {
			return "P" + fmt.Sprint(1+r.IntN(9)) + digits(n-3) + "D", true
		}
	case "byte":
		if n%4 == 0 {
			return strings.Repeat("YWJj", n/4), true // "abc" repeated
		}
	case "regex":
		return letters(n), true
	case "int32", "int64":
		limit := 9
		if f == "int64" {
			limit = 18
		}
		if n >= 1 && n <= limit {
			return fmt.Sprint(1+r.IntN(9)) + digits(n-1), true
		}
	}
	return "", false
}

// formatCheck returns a check of format f for strings built from a pattern, or nil when any
// string will do.
func formatCheck(f string) func(string) bool {
	switch f {
	case "date-time":
		return func(s string) bool { _, err := time.Parse(time.RFC3339Nano, s); return err == nil }
	case "date":
		return func(s string) bool { _, err := time.Parse(time.DateOnly, s); return err == nil }
	case "time":
		return func(s string) bool { _, err := time.Parse("15:04:05.999999999Z07:00", s); return err == nil }
	case "email", "idn-email":
		return func(s string) bool {
			a, err := mail.ParseAddress(s)
			return err == nil && a.Address == s
		}
	case "uri", "url", "iri":
		return func(s string) bool { u, err := url.Parse(s); return err == nil && u.IsAbs() }
	case "uuid":
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`).MatchString
	case "ipv4":
		return func(s string) bool {
			ip := net.ParseIP(s)
			return ip != nil && ip.To4() != nil && !strings.Contains(s, ":")
		}
	case "ipv6":
		return func(s string) bool { return net.ParseIP(s) != nil && strings.Contains(s, ":") }
	case "hostname", "idn-hostname":
		return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`).MatchString
	}
	return nil
}
