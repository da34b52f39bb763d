package planner

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/autogpt-go/agent/llm"
)

// argsFromValue turns the arguments value of an AutoGPT command into a tool call's Arguments:
// absent or null is {}; an object is compacted; a string is read by argsFromText (a string that
// holds a JSON object is that object); anything else is passed on compacted, so that the loop's
// validation tells the model what it expected.
func argsFromValue(raw json.RawMessage, spec *llm.ToolSpec) string {
	t := bytes.TrimSpace(raw)
	if isNull(t) {
		return "{}"
	}
	if s, ok := jsonString(t); ok {
		return argsFromText(s, spec)
	}
	return compactJSON(t)
}

// argsFromText turns arguments given as text (ReAct's Action Input, or an AutoGPT args string)
// into a tool call's Arguments. Code fences and surrounding backticks are removed. Empty text is
// {}. A JSON object is compacted; malformed JSON that starts like an object is repaired (bounded).
// Text that is not a JSON object (a JSON string is decoded first) becomes {"<name>": text} when
// the tool's schema has exactly one property and it is a string; otherwise it is passed on as
// written, so that the loop's validation reports the problem to the model.
func argsFromText(text string, spec *llm.ToolSpec) string {
	s := strings.TrimSpace(stripFence(text))
	if s == "" {
		return "{}"
	}
	if s[0] == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &m) == nil && m != nil {
			return compactJSON([]byte(s))
		}
		budget := MaxRepairBytes
		if fixed, ok := repairJSON(s, nestingDepth(s), &budget); ok {
			if json.Unmarshal([]byte(fixed), &m) == nil && m != nil {
				return compactJSON([]byte(fixed))
			}
		}
	}
	value := s
	if v, ok := jsonString(json.RawMessage(s)); ok {
		value = v
	} else if json.Valid([]byte(s)) {
		return compactJSON([]byte(s)) // a number, array, true...: not ours to guess
	}
	if name, ok := singleStringProperty(spec); ok {
		return mustJSON(map[string]string{name: value})
	}
	return s
}

// stripFence removes a surrounding Markdown code fence (```lang ... ```, the closing fence
// optional) or a pair of single backticks from s.
func stripFence(s string) string {
	t := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(t, "```"); ok {
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			lang := strings.TrimSpace(rest[:nl])
			if !strings.ContainsAny(lang, "{[\"") {
				rest = rest[nl+1:] // drop the language tag line ("json", "")
			}
		}
		if i := strings.LastIndex(rest, "```"); i >= 0 {
			rest = rest[:i]
		}
		return strings.TrimSpace(rest)
	}
	if len(t) >= 2 && t[0] == '`' && t[len(t)-1] == '`' {
		return strings.TrimSpace(t[1 : len(t)-1])
	}
	return t
}

// singleStringProperty reports the name of the only property of the tool's schema when there is
// exactly one and its type is "string" (or a type list that includes "string").
func singleStringProperty(spec *llm.ToolSpec) (string, bool) {
	if spec == nil || len(spec.Parameters) == 0 {
		return "", false
	}
	var s struct {
		Properties map[string]struct {
			Type json.RawMessage `json:"type"`
		} `json:"properties"`
	}
	if json.Unmarshal(spec.Parameters, &s) != nil || len(s.Properties) != 1 {
		return "", false
	}
	for name, p := range s.Properties {
		if t, ok := jsonString(p.Type); ok {
			if t == "string" {
				return name, true
			}
			return "", false
		}
		var ts []string
		if json.Unmarshal(p.Type, &ts) == nil {
			for _, t := range ts {
				if t == "string" {
					return name, true
				}
			}
		}
	}
	return "", false
}

// findTool returns the tool named name: an exact match, else the only case-insensitive match.
func findTool(tools []llm.ToolSpec, name string) (*llm.ToolSpec, bool) {
	for i := range tools {
		if tools[i].Name == name {
			return &tools[i], true
		}
	}
	var found *llm.ToolSpec
	for i := range tools {
		if strings.EqualFold(tools[i].Name, name) {
			if found != nil {
				return nil, false
			}
			found = &tools[i]
		}
	}
	return found, found != nil
}

// toolNames lists the tools' names in order.
func toolNames(tools []llm.ToolSpec) []string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	return names
}

// describeTools writes one line per tool: "- name: description Arguments (JSON Schema): {...}".
func describeTools(b *strings.Builder, tools []llm.ToolSpec) {
	for _, t := range tools {
		b.WriteString("- ")
		b.WriteString(t.Name)
		if d := strings.TrimSpace(t.Description); d != "" {
			b.WriteString(": ")
			b.WriteString(oneLine(d))
		}
		params := strings.TrimSpace(string(t.Parameters))
		if params == "" {
			params = `{"type":"object","properties":{}}`
		}
		b.WriteString(" Arguments (JSON Schema): ")
		b.WriteString(compactJSON([]byte(params)))
		b.WriteByte('\n')
	}
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
