package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kaptinlin/jsonrepair"
)

// MaxRepairBytes bounds, in bytes, the JSON the planners hand to the JSON-repair library
// (github.com/kaptinlin/jsonrepair) for one model reply, all candidates together: 32 KiB. Valid JSON
// of any size is read without repair; malformed JSON beyond this budget counts as unparseable (the
// model is asked to send it again). The bound keeps parsing fast on hostile or runaway replies:
// the library backtracks on strings with missing or stray quotes, which makes its worst case
// quadratic (measured: 0.15 s at 16 KiB, 0.6 s at 32 KiB, up to 16 s at 256 KiB), while typical
// repairs (trailing commas, single quotes, truncation) of 30 KiB take under a millisecond.
const MaxRepairBytes = 32 << 10

// maxRepairDepth is the deepest nesting of brackets a candidate may have and still be repaired:
// the repair library recurses once per level. Model replies nest a few levels.
const maxRepairDepth = 64

// maxCandidates bounds the JSON objects tried in one reply.
const maxCandidates = 32

// jsonMember is one member of a JSON object: its key as written and its raw value.
type jsonMember struct {
	key   string
	value json.RawMessage
}

// jsonObject is a JSON object found in a reply: its members in the order written (a key written
// twice appears twice), and whether its closing brace was found (else it was repaired).
type jsonObject struct {
	members []jsonMember
	closed  bool
}

// first returns the members as a map; a key written more than once keeps its first value.
func (o jsonObject) first() map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(o.members))
	for _, mb := range o.members {
		if _, dup := m[mb.key]; !dup {
			m[mb.key] = mb.value
		}
	}
	return m
}

// all returns the non-null values of the members whose key is key (compared without case and
// surrounding space), in the order written.
func (o jsonObject) all(key string) []json.RawMessage {
	var out []json.RawMessage
	for _, mb := range o.members {
		if strings.EqualFold(strings.TrimSpace(mb.key), key) && !isNull(mb.value) {
			out = append(out, mb.value)
		}
	}
	return out
}

// eachObject calls yield with each JSON object found in text, in order of appearance, until yield
// returns false. It finds objects anywhere: in code fences, between prose, several in a row. A
// candidate is an opening brace and everything up to its matching closing brace (strings,
// single-quoted strings and comments taken into account), or up to the end of text when it never
// closes (a truncated reply, a trailing code fence dropped). Each candidate is decoded as JSON,
// else repaired (bounded by MaxRepairBytes and maxRepairDepth) and decoded. A candidate that fails,
// or that never closes (its repair may have swallowed a real object after a stray "{" in prose), is
// followed by a search from its next opening brace, so the objects inside are tried too; a closed
// candidate that decodes is not descended into.
func eachObject(text string, yield func(jsonObject) bool) {
	budget := MaxRepairBytes
	pos := 0
	for tries := 0; tries < maxCandidates && pos < len(text); tries++ {
		i := strings.IndexByte(text[pos:], '{')
		if i < 0 {
			return
		}
		start := pos + i
		end, closed, depth := scanObject(text, start)
		cand := text[start:end]
		if !closed {
			cand = trimTrailingFence(cand)
		}
		if members, ok := decodeObject(cand, depth, &budget); ok {
			if !yield(jsonObject{members: members, closed: closed}) {
				return
			}
			if closed {
				pos = end
				continue
			}
		}
		pos = start + 1
	}
}

// scanObject scans the object that opens at s[start] ('{'). It returns the index just past its
// matching closing bracket (closed) or len(s) (not closed), and the deepest nesting seen. Double-
// quoted strings (with escapes), single-quoted strings that start where a key or value may start,
// and // and /* */ comments are skipped, so brackets inside them do not count.
func scanObject(s string, start int) (end int, closed bool, maxDepth int) {
	depth := 0
	var quote byte
	last := byte(0) // last significant byte outside strings and comments
	for i := start; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch c {
			case '\\':
				i++
			case quote:
				quote, last = 0, c
			case '\n':
				if quote == '\'' {
					quote = 0 // an apostrophe taken for a quote: give up at the line's end
				}
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			quote = c
		case '\'':
			if last == '{' || last == '[' || last == ',' || last == ':' {
				quote = c
			}
		case '/':
			if i+1 < len(s) && s[i+1] == '/' {
				if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
					i += j
				} else {
					i = len(s)
				}
				continue
			}
			if i+1 < len(s) && s[i+1] == '*' {
				if j := strings.Index(s[i+2:], "*/"); j >= 0 {
					i += j + 3
				} else {
					i = len(s)
				}
				continue
			}
		case '{', '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true, maxDepth
			}
		}
		last = c
	}
	return len(s), false, maxDepth
}

// trimTrailingFence drops trailing white space and a closing code fence from an unclosed candidate.
func trimTrailingFence(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if t, ok := strings.CutSuffix(s, "```"); ok {
		s = strings.TrimRight(t, " \t\r\n")
	}
	return s
}

// decodeObject decodes cand as a JSON object, repairing it first if it is not valid JSON and the
// budget allows. It returns the object's members in the order written.
func decodeObject(cand string, depth int, budget *int) ([]jsonMember, bool) {
	if members, ok := objectMembers([]byte(cand)); ok {
		return members, true
	}
	fixed, ok := repairJSON(cand, depth, budget)
	if !ok {
		return nil, false
	}
	return objectMembers([]byte(fixed))
}

// objectMembers decodes data, which must be one JSON object and nothing else, into its members
// in the order written, keeping keys written more than once (json.Unmarshal into a map would keep
// only the last value).
func objectMembers(data []byte) ([]jsonMember, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	members := []jsonMember{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		members = append(members, jsonMember{key: key, value: v})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // something after the object
	}
	return members, true
}

// repairJSON repairs s with github.com/kaptinlin/jsonrepair when s fits the budget (which it then
// reduces) and nests at most maxRepairDepth levels. A panic inside the library is reported as a
// failure, never propagated: model output must not crash a run.
func repairJSON(s string, depth int, budget *int) (out string, ok bool) {
	if len(s) == 0 || len(s) > *budget || depth > maxRepairDepth {
		return "", false
	}
	*budget -= len(s)
	defer func() {
		if r := recover(); r != nil {
			out, ok = "", false
		}
	}()
	fixed, err := jsonrepair.Repair(s)
	if err != nil {
		return "", false
	}
	return fixed, true
}

// nestingDepth returns the deepest bracket nesting of s, ignoring brackets in double-quoted strings.
func nestingDepth(s string) int {
	depth, deepest := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// lowerKeys returns m with lower-cased, trimmed keys. When several keys differ only in case, a key
// already in lower case wins, else the first in sorted order (so the result never depends on map
// iteration order).
func lowerKeys(m map[string]json.RawMessage) map[string]json.RawMessage {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]json.RawMessage, len(m))
	exact := make(map[string]bool, len(m))
	for _, k := range keys {
		lk := strings.ToLower(strings.TrimSpace(k))
		if _, dup := out[lk]; dup && (exact[lk] || k != lk) {
			continue
		}
		out[lk], exact[lk] = m[k], k == lk
	}
	return out
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// compactJSON returns raw without insignificant white space, or raw itself if it is not valid JSON.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// jsonText renders a JSON value as text for a person: a string as is, an array as "- item" lines,
// null as "", anything else as compact JSON.
func jsonText(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return ""
	}
	switch t[0] {
	case '"':
		var s string
		if json.Unmarshal(t, &s) == nil {
			return s
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(t, &items) == nil {
			lines := make([]string, 0, len(items))
			for _, it := range items {
				if s := jsonText(it); s != "" {
					lines = append(lines, "- "+s)
				}
			}
			return strings.Join(lines, "\n")
		}
	}
	return compactJSON(t)
}

// jsonString decodes raw as a JSON string; ok is false for any other value.
func jsonString(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(t, &s) != nil {
		return "", false
	}
	return s, true
}

// mustJSON marshals v, which must be marshalable (maps of strings in this package).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("planner: marshal %T: %v", v, err))
	}
	return string(b)
}
