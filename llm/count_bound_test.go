package llm_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/autogpt-go/agent/llm"
)

// refSchema has n properties that each reference one definition of about 1.5 KB; escaped spells
// the key "$ref" as "\u0024ref", which a byte search for "$ref" does not find.
func refSchema(n int, escaped bool) string {
	key := `"$ref"`
	if escaped {
		key = `"\u0024ref"`
	}
	var props, fields []string
	for i := range n {
		props = append(props, fmt.Sprintf(`"p%d":{%s:"#/$defs/D"}`, i, key))
	}
	for i := range 30 {
		fields = append(fields, fmt.Sprintf(`"field_%d":{"type":"string","description":"what field %d holds"}`, i, i))
	}
	return `{"type":"object","properties":{` + strings.Join(props, ",") + `},"$defs":{"D":{"type":"object","properties":{` +
		strings.Join(fields, ",") + `}}}}`
}

// parallelCalls is an assistant message with n calls whose arguments are not JSON and are made of
// control bytes (each quoted as \u0001 in the joint JSON text), with their results.
func parallelCalls(n int, name, args string) []llm.Message {
	var calls []llm.ToolCall
	for i := range n {
		calls = append(calls, llm.ToolCall{ID: fmt.Sprint("call_", i), Name: name, Arguments: args})
	}
	msgs := []llm.Message{{Role: llm.RoleAssistant, ToolCalls: calls}}
	for _, c := range calls {
		msgs = append(msgs, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Content: "\x03ok"})
	}
	return msgs
}

// adversarialRequests are built to defeat bounds computed from byte lengths: schemas whose text
// expands when rendered (type lists, $ref spelled with escapes, $defs reused), calls with
// arguments that grow when quoted, response formats.
func adversarialRequests() []*llm.Request {
	sys := llm.Message{Role: llm.RoleSystem, Content: "You are terse."}
	user := llm.Message{Role: llm.RoleUser, Content: "Go."}
	tool := func(name, params string) llm.ToolSpec {
		return llm.ToolSpec{Name: name, Description: "A tool.", Parameters: json.RawMessage(params)}
	}
	format := func(schema string, strict bool) *llm.ResponseFormat {
		return &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: "out", Schema: json.RawMessage(schema), Strict: strict}
	}
	controls := strings.Repeat("\x01\x02", 200) + "{" // not JSON: quoted as \u0001\u0002...
	anyOfRefs := `{"type":"object","properties":{"x":{"anyOf":[` + strings.TrimSuffix(strings.Repeat(`{"$r\u0065f":"#/$defs/D"},`, 20), ",") +
		`]}},"$defs":{"D":{"type":"object","properties":{"a":{"type":["object","object","object"],"properties":{"b":{"type":"string","description":"` +
		strings.Repeat("long words ", 20) + `"}}}}}}}`
	return []*llm.Request{
		{Messages: []llm.Message{user}, Tools: []llm.ToolSpec{tool("f", typeListSchema(5, 3))}},
		{Messages: []llm.Message{sys, user}, Tools: []llm.ToolSpec{tool("f", typeListSchema(7, 3))}},
		{Messages: []llm.Message{sys, user}, Tools: []llm.ToolSpec{tool("f", refSchema(60, true))}},
		{Messages: []llm.Message{user}, Tools: []llm.ToolSpec{tool("f", refSchema(60, false)), tool("g", refSchema(10, true))}, ToolChoice: "g"},
		{Messages: []llm.Message{sys, user}, Tools: []llm.ToolSpec{tool("h", anyOfRefs)}},
		{Messages: append([]llm.Message{sys, user}, parallelCalls(12, "f", controls)...)},
		{Messages: append([]llm.Message{user}, parallelCalls(12, strings.Repeat("\x01", 200), "\x02")...), Tools: []llm.ToolSpec{tool("f", `{}`)}},
		{Messages: append([]llm.Message{user}, parallelCalls(3, "f\xff\xfe", controls+"\xff")...)},
		{Messages: []llm.Message{sys, user}, ResponseFormat: format(refSchema(60, true), false)},
		{Messages: []llm.Message{user}, ResponseFormat: format(typeListSchema(7, 3), true), Tools: []llm.ToolSpec{tool("f", typeListSchema(6, 3))}},
		{Messages: []llm.Message{user}, ResponseFormat: format(`{"type":"object","properties":{"a":{"type":"string","title":"A","description":"\u0001\u0002\u0003"}}}`, true)},
		{Messages: []llm.Message{{Role: llm.RoleSystem, Content: "\xff\xfe"}, {Role: llm.RoleSystem, Content: "b"}, user}, Tools: []llm.ToolSpec{tool("f", typeListSchema(4, 2))}},
	}
}

// boundModels are models of every dialect: ChatML on both encodings, bare function names, the
// langchaingo rewrite, harmony with and without gpt-5's extra, estimate families.
var boundModels = []string{"gpt-4o", "gpt-4", "gpt-3.5-turbo", "o1-mini", "o3", "o3-mini", "o4-mini", "gpt-5", "claude-3-opus", "gemini-2.5-pro", "unknown-model"}

func checkBound(t *testing.T, c *llm.Counter, req *llm.Request, what string) {
	t.Helper()
	got, err := c.Count(req)
	if err != nil {
		t.Fatal(err)
	}
	if ub := c.UpperBound(req); ub < got.Tokens {
		t.Errorf("%s %s: UpperBound %d < Count %d", c.Info().Name, what, ub, got.Tokens)
	}
}

func TestUpperBoundAdversarial(t *testing.T) {
	for _, model := range boundModels {
		c := counter(t, model)
		for i, req := range adversarialRequests() {
			checkBound(t, c, req, fmt.Sprint("request ", i))
			checkBound(t, c.AsSent(), req, fmt.Sprint("request ", i, " as sent"))
		}
	}
}

// FuzzUpperBound checks UpperBound >= Count on requests assembled from fuzzed parts: a schema (used
// as tool parameters and as a response format), tool-call arguments, a name, a message text.
func FuzzUpperBound(f *testing.F) {
	f.Add(typeListSchema(3, 3), "\x01\x02\x03", "f", "hi", uint8(0))
	f.Add(refSchema(5, true), `{"a": 1}`, "g\x00", "\xff", uint8(1))
	f.Add(`{"type":"object","properties":{"a":{"$ref":"#"}}}`, "not json\n\t\"", "\u2028", "x", uint8(2))
	f.Add(`{"type":"object","properties":{"a":{"\u0024ref":"#/$defs/A"}},"$defs":{"A":{"type":["object","object"],"properties":{"b":{"$ref":"#/$defs/A"},"c":{"enum":[1,2]}}}}}`, "", "search", "", uint8(3))
	models := []string{"gpt-4o", "gpt-4", "o3", "gpt-5", "claude-3-opus"}
	counters := make([]*llm.Counter, len(models))
	for i, m := range models {
		counters[i] = counter(f, m)
	}
	f.Fuzz(func(t *testing.T, schema, args, name, text string, shape uint8) {
		var calls []llm.ToolCall
		for i := range 1 + int(shape%3) {
			calls = append(calls, llm.ToolCall{ID: fmt.Sprint(i), Name: name, Arguments: args})
		}
		req := &llm.Request{
			Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: text},
				{Role: llm.RoleUser, Content: text, Name: name},
				{Role: llm.RoleAssistant, Content: text, ToolCalls: calls},
				{Role: llm.RoleTool, ToolCallID: "0", Content: text},
				{Role: "function", Name: name, Content: args},
			},
		}
		if shape&4 == 0 {
			req.Tools = []llm.ToolSpec{{Name: name, Description: text, Parameters: json.RawMessage(schema)}}
		}
		if shape&8 == 0 {
			req.ResponseFormat = &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: name, Schema: json.RawMessage(schema), Strict: shape&16 != 0}
		}
		if shape&32 != 0 {
			req.ToolChoice = name
		}
		for _, c := range counters {
			checkBound(t, c, req, "fuzzed request")
		}
	})
}

// UpperBound counts the tools and response format once per Counter, then takes them from the
// cache it shares with Count: later bounds of requests with the same tools tokenise nothing and
// allocate nothing, however large the schemas.
func TestUpperBoundUsesCachedFixedPart(t *testing.T) {
	req := &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleSystem, Content: "Be brief."}, {Role: llm.RoleUser, Content: "Go."}},
		Tools: []llm.ToolSpec{{Name: "f", Parameters: json.RawMessage(refSchema(20, false))},
			{Name: "g", Parameters: json.RawMessage(typeListSchema(5, 2))}},
		ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: "out", Schema: json.RawMessage(nestedSchema(50))},
	}
	for _, model := range []string{"gpt-4o", "gpt-5", "claude-sonnet-4-5"} {
		c := counter(t, model)
		first := c.UpperBound(req)
		if allocs := testing.AllocsPerRun(20, func() { c.UpperBound(req) }); allocs != 0 {
			t.Errorf("%s: UpperBound allocates %v times per call with cached tools", model, allocs)
		}
		if again := c.UpperBound(req); again != first {
			t.Errorf("%s: UpperBound %d, then %d", model, first, again)
		}
		checkBound(t, c, req, "cached")
	}
}

// The cache of tools and response-format costs is keyed unambiguously: two different tool sets
// never share an entry (a key that joined fields with a separator byte made Name "f" with
// Description "\x00x..." and Name "f\x00" with Description "x..." collide).
func TestToolsCacheKeyUnambiguous(t *testing.T) {
	desc := strings.Repeat("hello world this is ", 30)
	pairs := [][2]llm.ToolSpec{
		{{Name: "f", Description: "\x00" + desc}, {Name: "f\x00", Description: desc}},
		{{Name: "f", Parameters: json.RawMessage("\x00{}")}, {Name: "f", Description: "\x00", Parameters: json.RawMessage("{}")}},
		{{Name: "a\x00\x01", Description: desc}, {Name: "a", Description: "\x00\x01" + desc}},
	}
	for _, model := range []string{"gpt-4o", "claude-sonnet-4-5"} {
		for i, p := range pairs {
			shared := counter(t, model)
			for _, tool := range p {
				req := &llm.Request{Tools: []llm.ToolSpec{tool}}
				got := count(t, shared, req)
				if want := count(t, counter(t, model), req); got != want {
					t.Errorf("%s pair %d: %q: Count %d after the other tool on the same Counter, %d on a fresh one", model, i, tool.Name, got, want)
				}
			}
		}
	}
}

// allocated returns the bytes allocated by one Count of req on a fresh Counter.
func allocated(t *testing.T, model string, req *llm.Request) uint64 {
	c := counter(t, model)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	count(t, c, req)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Rendering schemas costs memory linear in the schema and its rendered text: a response format
// nested three times deeper costs about three times as much (it cost nine times as much when each
// level re-scanned the JSON below it), and a schema whose type lists expand exponentially stops
// at the cap on the rendered text instead of allocating gigabytes.
func TestSchemaRenderingIsLinear(t *testing.T) {
	format := func(depth int) *llm.Request {
		return &llm.Request{ResponseFormat: &llm.ResponseFormat{Type: llm.ResponseFormatJSONSchema, Name: "x", Schema: json.RawMessage(nestedSchema(depth))}}
	}
	counter(t, "gpt-4o") // load the encoding first
	small, large := allocated(t, "gpt-4o", format(200)), allocated(t, "gpt-4o", format(600))
	if ratio := float64(large) / float64(small); ratio > 4.5 {
		t.Errorf("response format nested 600 deep allocates %.1f times as much as 200 deep (%d, %d bytes): not linear", ratio, large, small)
	}
	if large > 16<<20 {
		t.Errorf("a %d-byte response format allocates %d bytes", len(nestedSchema(600)), large)
	}
	expanding := &llm.Request{Tools: []llm.ToolSpec{{Name: "f", Parameters: json.RawMessage(typeListSchema(100, 2))}}}
	if n := allocated(t, "gpt-4o", expanding); n > 96<<20 {
		t.Errorf("a %d-byte schema with type lists allocates %d MB", len(typeListSchema(100, 2)), n>>20)
	}
}
