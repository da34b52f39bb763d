// Package redact removes secrets from text: the values a host configured (API keys) and strings that
// look like well-known credentials.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Mask replaces each secret found.
const Mask = "[redacted]"

// patterns are the shapes of well-known credentials, from the issuers' documented formats:
// OpenAI and Anthropic keys (sk-, sk-proj-, sk-ant-), AWS access key ids (AKIA/ASIA + 16), GitHub
// tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), Slack tokens (xox?-), Google API keys
// (AIza + 35), bearer tokens in Authorization headers, and PEM private-key blocks.
var patterns = regexp.MustCompile(strings.Join([]string{
	`sk-[A-Za-z0-9_-]{20,}`,
	`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
	`\bgh[pousr]_[A-Za-z0-9]{30,}`,
	`\bgithub_pat_[A-Za-z0-9_]{22,}`,
	`\bxox[abposr]-[A-Za-z0-9-]{10,}`,
	`\bAIza[0-9A-Za-z_-]{35}`,
	`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}=*`,
	`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`,
}, "|"))

// Redactor replaces secrets in text. The zero value redacts the well-known patterns only. It is
// immutable and safe for concurrent use.
type Redactor struct {
	values  *strings.Replacer // configured secrets and their encodings, longest first
	secrets []string          // the same, for streams (see Stream)
}

// New returns a Redactor for the well-known patterns and the given secret values. Values shorter
// than 8 bytes are ignored: masking them would garble ordinary text (and they are no real keys).
// Each value is also found in the encodings it takes inside JSON strings (escaped quotes,
// backslashes and control characters, with and without HTML escaping of <, > and &) and URLs
// (query and path escaping), since tool arguments, messages and recorded requests carry it so.
func New(values ...string) *Redactor {
	var keep []string
	seen := map[string]bool{}
	for _, v := range values {
		if len(strings.TrimSpace(v)) < 8 {
			continue
		}
		for _, e := range Encodings(v) {
			if !seen[e] {
				seen[e] = true
				keep = append(keep, e)
			}
		}
	}
	r := &Redactor{secrets: keep}
	if len(keep) > 0 {
		sort.Slice(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
		pairs := make([]string, 0, 2*len(keep))
		for _, v := range keep {
			pairs = append(pairs, v, Mask)
		}
		r.values = strings.NewReplacer(pairs...)
	}
	return r
}

// String returns s with every configured secret and every well-known credential replaced by Mask.
func (r *Redactor) String(s string) string {
	if r != nil && r.values != nil && r.containsSecret(s) {
		s = r.values.Replace(s) // a generic Replacer allocates even when it replaces nothing
	}
	if !mayMatch(s) {
		return s
	}
	return patterns.ReplaceAllString(s, Mask)
}

// mayMatch is a cheap filter before the regular expression: every pattern holds one of these.
func mayMatch(s string) bool {
	for i := 0; i < len(s); i++ {
		var found bool
		switch rest := s[i:]; s[i] {
		case 's':
			found = strings.HasPrefix(rest, "sk-")
		case 'A':
			found = strings.HasPrefix(rest, "AKIA") || strings.HasPrefix(rest, "ASIA") || strings.HasPrefix(rest, "AIza")
		case 'g':
			found = strings.HasPrefix(rest, "gh")
		case 'x':
			found = strings.HasPrefix(rest, "xox")
		case 'e', 'E':
			found = len(rest) >= 5 && strings.EqualFold(rest[:5], "earer")
		case 'P':
			found = strings.HasPrefix(rest, "PRIVATE KEY")
		}
		if found {
			return true
		}
	}
	return false
}

// Error wraps err so that its message is redacted; errors.Is and errors.As still see err.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redacted{msg: red, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }

// IsWrapper reports whether err is the wrapper Error puts around an error whose message it
// redacted (a class of error that says nothing about the failure: observers skip it).
func IsWrapper(err error) bool {
	_, ok := err.(*redacted)
	return ok
}
func (e *redacted) Unwrap() error { return e.err }

// Encodings returns v and the other spellings it takes in JSON strings (escaped, with and
// without HTML escaping, quotes left out), URLs (query and path escaping) and base64 (standard
// and URL alphabets, padded and not), without duplicates or empty strings, longest first.
func Encodings(v string) []string {
	out := encodings(v)
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, e.EncodeToString([]byte(v)))
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// encodings returns v and the other spellings it takes in JSON strings and URLs.
func encodings(v string) []string {
	out := []string{v}
	var b bytes.Buffer
	for _, html := range []bool{true, false} {
		b.Reset()
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			q := strings.TrimSuffix(b.String(), "\n")
			out = append(out, q[1:len(q)-1]) // without the quotes
		}
	}
	if ascii := asciiJSON(v, "%04x"); ascii != "" {
		out = append(out, ascii, asciiJSON(v, "%04X"))
	}
	return append(out, url.QueryEscape(v), url.PathEscape(v))
}

// asciiJSON returns v as the inside of a JSON string written in ASCII only (non-ASCII characters
// as \uXXXX escapes, surrogate pairs above U+FFFF, hex digits by format), as Python's json and
// other encoders with an ASCII option write it; "" when v is ASCII (the other forms cover it).
func asciiJSON(v, format string) string {
	var b strings.Builder
	ascii := true
	for _, r := range v {
		if r == '<' || r == '>' || r == '&' {
			b.WriteRune(r)
			continue
		}
		if r < utf8.RuneSelf {
			q, _ := json.Marshal(string(r))
			b.Write(q[1 : len(q)-1])
			continue
		}
		ascii = false
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u"+format+"\\u"+format, r1, r2)
			continue
		}
		fmt.Fprintf(&b, "\\u"+format, r)
	}
	if ascii {
		return ""
	}
	return b.String()
}

// containsSecret reports whether s holds one of the configured secrets (in any spelling).
func (r *Redactor) containsSecret(s string) bool {
	for _, v := range r.secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}
