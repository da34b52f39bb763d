package llmtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Matcher decides whether ours, a request the code under test made, may be answered with the
// response recorded for recorded. It returns nil for a match, or an error describing the first
// difference found (the Replay adds the request number), such as
// "tools differ: got [calculator] want [GoogleSearch calculator]".
type Matcher func(ours, recorded *RecordedRequest) error

// DefaultMatcher compares, in this order, and reports the first difference:
//   - the method;
//   - the URL path (not the scheme, host or query, so a test server's URL matches a recorded
//     "https://api.openai.com/v1/..." one);
//   - when either body is JSON: that both are JSON objects, their "model" field, and the names of the
//     tools offered, as a set (order ignored), from tools[].function.name (OpenAI),
//     tools[].name (Anthropic) and functions[].name (OpenAI's legacy functions);
//   - whether both ask to stream ("stream": true), since a recorded plain reply cannot answer a
//     streamed request (wrap a model with llm.NonStreaming to replay such recordings).
//
// Message text, temperature and other fields are not compared: use MatchBody for that.
func DefaultMatcher(ours, recorded *RecordedRequest) error {
	if ours.Method != recorded.Method {
		return fmt.Errorf("method differs: got %s want %s", ours.Method, recorded.Method)
	}
	if op, rp := urlPath(ours), urlPath(recorded); op != rp {
		return fmt.Errorf("URL path differs: got %s want %s", op, rp)
	}
	oObj, oErr := jsonObject(ours.Body)
	rObj, rErr := jsonObject(recorded.Body)
	switch {
	case oErr != nil && rErr != nil:
		return nil // neither is a JSON object: nothing more to compare
	case oErr != nil:
		return fmt.Errorf("body differs: got %s want a JSON object", oErr)
	case rErr != nil:
		return fmt.Errorf("body differs: got a JSON object want %s", rErr)
	}
	om, rm := stringField(oObj, "model"), stringField(rObj, "model")
	if om != rm {
		return fmt.Errorf("model differs: got %s want %s", om, rm)
	}
	ot, rt := toolNames(oObj), toolNames(rObj)
	if !slices.Equal(ot, rt) {
		return fmt.Errorf("tools differ: got %v want %v", ot, rt)
	}
	// A streamed request cannot be answered with a recorded plain reply, nor the reverse.
	if ostr, rstr := oObj["stream"] == true, rObj["stream"] == true; ostr != rstr {
		return fmt.Errorf("stream differs: got %v want %v", ostr, rstr)
	}
	return nil
}

// MatchBody compares the bodies only: as JSON values when both are JSON (object key order and
// number spelling such as 1 vs 1.0 ignored), byte for byte otherwise. It reports the first
// difference with its JSON path, such as `body differs at messages[1].content: got "hi" want "hello"`.
// Combine it with DefaultMatcher through MatchAll to check the method and path as well.
func MatchBody(ours, recorded *RecordedRequest) error {
	ov, oErr := decodeJSON(ours.Body)
	rv, rErr := decodeJSON(recorded.Body)
	if oErr != nil || rErr != nil {
		if bytes.Equal(ours.Body, recorded.Body) {
			return nil
		}
		i := 0
		for i < len(ours.Body) && i < len(recorded.Body) && ours.Body[i] == recorded.Body[i] {
			i++
		}
		return fmt.Errorf("body differs at byte %d: got %d bytes want %d", i, len(ours.Body), len(recorded.Body))
	}
	if d := jsonDiff("", ov, rv); d != "" {
		return errors.New("body differs " + d)
	}
	return nil
}

// MatchAll returns a Matcher that applies ms in order and returns the first error.
func MatchAll(ms ...Matcher) Matcher {
	return func(ours, recorded *RecordedRequest) error {
		for _, m := range ms {
			if err := m(ours, recorded); err != nil {
				return err
			}
		}
		return nil
	}
}

func urlPath(r *RecordedRequest) string {
	if r.URL == nil {
		return ""
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// jsonObject decodes b as a JSON object, or says in a few words what b is instead.
func jsonObject(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("an empty body")
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("a body that is not JSON (%d bytes)", len(b))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("JSON %s", jsonKind(v))
	}
	return m, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// stringField returns obj[key] as a quoted string for messages, or "no model" style text.
func stringField(obj map[string]any, key string) string {
	v, ok := obj[key]
	if !ok {
		return "no " + key
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return jsonText(v)
}

// toolNames returns the sorted names of the tools offered in a chat request body.
func toolNames(obj map[string]any) []string {
	names := []string{}
	for _, key := range []string{"tools", "functions"} {
		list, _ := obj[key].([]any)
		for _, t := range list {
			m, _ := t.(map[string]any)
			if fn, ok := m["function"].(map[string]any); ok {
				if n, ok := fn["name"].(string); ok {
					names = append(names, n)
					continue
				}
			}
			if n, ok := m["name"].(string); ok {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// jsonDiff returns "" if got equals want, else "at PATH: got X want Y" for the first difference, in
// document order for arrays and sorted key order for objects.
func jsonDiff(path string, got, want any) string {
	at := func() string {
		if path == "" {
			return "at the top level"
		}
		return "at " + path
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			gv, gok := g[k]
			wv, wok := w[k]
			switch {
			case !gok:
				return fmt.Sprintf("at %s: got nothing want %s", sub, jsonText(wv))
			case !wok:
				return fmt.Sprintf("at %s: got %s want nothing", sub, jsonText(gv))
			}
			if d := jsonDiff(sub, gv, wv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := range min(len(g), len(w)) {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		if len(g) != len(w) {
			return fmt.Sprintf("%s: got %d elements want %d", at(), len(g), len(w))
		}
		return ""
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			break
		}
		if g == w {
			return ""
		}
		gf, err1 := strconv.ParseFloat(string(g), 64)
		wf, err2 := strconv.ParseFloat(string(w), 64)
		if err1 == nil && err2 == nil && gf == wf {
			return ""
		}
	default:
		if got == want {
			return ""
		}
	}
	return fmt.Sprintf("%s: got %s want %s", at(), jsonText(got), jsonText(want))
}

// jsonText renders v as compact JSON, cut to about 80 bytes.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 80 {
		return shorten(s, 77)
	}
	return s
}

// LookupJSON decodes data as JSON and returns the value at path: dot-separated object keys and
// array indices, a negative index counting from the end ("messages.-1.content" is the content of
// the last message; "choices.0.message.tool_calls.0.function.name" is the first tool call's name).
// The empty path is the whole value. Values come as encoding/json decodes into an any, except that
// numbers are json.Number. A key that contains a dot cannot be addressed. The error names the first
// path segment that could not be followed.
func LookupJSON(data []byte, path string) (any, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("llmtest: lookup %q: body is not JSON: %w", path, err)
	}
	if path == "" {
		return v, nil
	}
	done := ""
	for seg := range strings.SplitSeq(path, ".") {
		switch cur := v.(type) {
		case map[string]any:
			next, ok := cur[seg]
			if !ok {
				return nil, fmt.Errorf("llmtest: lookup %q: no key %q in the object at %q", path, seg, done)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil {
				return nil, fmt.Errorf("llmtest: lookup %q: %q is not an index of the array at %q", path, seg, done)
			}
			if i < 0 {
				i += len(cur)
			}
			if i < 0 || i >= len(cur) {
				return nil, fmt.Errorf("llmtest: lookup %q: index %s out of range of the array at %q (%d elements)", path, seg, done, len(cur))
			}
			v = cur[i]
		default:
			return nil, fmt.Errorf("llmtest: lookup %q: the value at %q is a %s, not an object or array", path, done, jsonKind(cur))
		}
		if done != "" {
			done += "."
		}
		done += seg
	}
	return v, nil
}
