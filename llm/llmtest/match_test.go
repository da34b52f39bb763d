package llmtest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/autogpt-go/agent/llm/llmtest"
)

func TestDefaultMatcher(t *testing.T) {
	const chat = "https://api.openai.com/v1/chat/completions"
	openaiTools := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[` +
		`{"type":"function","function":{"name":"search"}},{"type":"function","function":{"name":"calculator"}}]}`
	tests := []struct {
		name     string
		ours     *llmtest.RecordedRequest
		recorded *llmtest.RecordedRequest
		want     string // "" for a match
	}{
		{"same", jsonRequest("POST", chat, openaiTools), jsonRequest("POST", chat, openaiTools), ""},
		{"other host and scheme, same path", jsonRequest("POST", "http://127.0.0.1:5555/v1/chat/completions", openaiTools), jsonRequest("POST", chat, openaiTools), ""},
		{"messages and temperature ignored",
			jsonRequest("POST", chat, `{"model":"gpt-4o","temperature":1,"messages":[],"tools":[{"type":"function","function":{"name":"calculator"}},{"type":"function","function":{"name":"search"}}]}`),
			jsonRequest("POST", chat, openaiTools), ""},
		{"method", jsonRequest("GET", chat, openaiTools), jsonRequest("POST", chat, openaiTools), "method differs: got GET want POST"},
		{"path", jsonRequest("POST", "https://api.openai.com/v1/embeddings", openaiTools), jsonRequest("POST", chat, openaiTools), "URL path differs: got /v1/embeddings want /v1/chat/completions"},
		{"model", jsonRequest("POST", chat, `{"model":"gpt-4o-mini"}`), jsonRequest("POST", chat, `{"model":"gpt-4o"}`), `model differs: got "gpt-4o-mini" want "gpt-4o"`},
		{"model missing", jsonRequest("POST", chat, `{}`), jsonRequest("POST", chat, `{"model":"gpt-4o"}`), `model differs: got no model want "gpt-4o"`},
		{"tools missing", jsonRequest("POST", chat, `{"model":"gpt-4o"}`), jsonRequest("POST", chat, openaiTools), "tools differ: got [] want [calculator search]"},
		{"anthropic tools",
			jsonRequest("POST", "https://api.anthropic.com/v1/messages", `{"model":"claude","tools":[{"name":"get_weather","input_schema":{}}]}`),
			jsonRequest("POST", "https://api.anthropic.com/v1/messages", `{"model":"claude","tools":[{"name":"get_time","input_schema":{}}]}`),
			"tools differ: got [get_weather] want [get_time]"},
		{"legacy functions",
			jsonRequest("POST", chat, `{"model":"gpt-4","functions":[{"name":"a"},{"name":"b"}]}`),
			jsonRequest("POST", chat, `{"model":"gpt-4","functions":[{"name":"a"}]}`),
			"tools differ: got [a b] want [a]"},
		{"both without body", jsonRequest("GET", "https://serpapi.com/search?q=a", ""), jsonRequest("GET", "https://serpapi.com/search?q=b", ""), ""},
		{"ours not JSON", jsonRequest("POST", chat, "model=gpt-4o"), jsonRequest("POST", chat, `{"model":"gpt-4o"}`), "body differs: got a body that is not JSON (12 bytes) want a JSON object"},
		{"recorded empty", jsonRequest("POST", chat, `{"model":"gpt-4o"}`), jsonRequest("POST", chat, ""), "body differs: got a JSON object want an empty body"},
		{"array body", jsonRequest("POST", chat, `[1]`), jsonRequest("POST", chat, `{"model":"gpt-4o"}`), "body differs: got JSON array want a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := llmtest.DefaultMatcher(tt.ours, tt.recorded)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestMatchBody(t *testing.T) {
	const u = "https://api.openai.com/v1/chat/completions"
	tests := []struct {
		name, ours, recorded, want string
	}{
		{"equal, key order and spacing ignored", `{"a":1,"b":[true,null]}`, `{ "b": [true, null], "a": 1 }`, ""},
		{"number spelling ignored", `{"t":1.0}`, `{"t":1}`, ""},
		{"nested value", `{"messages":[{"role":"user","content":"hi"}]}`, `{"messages":[{"role":"user","content":"hello"}]}`, `body differs at messages[0].content: got "hi" want "hello"`},
		{"missing key", `{"model":"m"}`, `{"model":"m","temperature":0}`, `body differs at temperature: got nothing want 0`},
		{"extra key", `{"model":"m","stream":true}`, `{"model":"m"}`, `body differs at stream: got true want nothing`},
		{"array length", `{"a":[1,2]}`, `{"a":[1]}`, `body differs at a: got 2 elements want 1`},
		{"type", `{"a":"1"}`, `{"a":1}`, `body differs at a: got "1" want 1`},
		{"top level", `[1]`, `{"a":1}`, `body differs at the top level: got [1] want {"a":1}`},
		{"not JSON, equal", "a=1&b=2", "a=1&b=2", ""},
		{"not JSON, different", "a=1&b=2", "a=1&b=3", "body differs at byte 6: got 7 bytes want 7"},
		{"one JSON", `{}`, "", "body differs at byte 0: got 2 bytes want 0"},
		{"long values are shortened", `{"s":"` + strings.Repeat("a", 100) + `"}`, `{"s":"b"}`,
			`body differs at s: got "` + strings.Repeat("a", 76) + `... want "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := llmtest.MatchBody(jsonRequest("POST", u, tt.ours), jsonRequest("POST", u, tt.recorded))
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestMatchAll(t *testing.T) {
	var order []string
	m := func(name string, err error) llmtest.Matcher {
		return func(_, _ *llmtest.RecordedRequest) error {
			order = append(order, name)
			return err
		}
	}
	q := jsonRequest("GET", "https://x/", "")
	assert.NoError(t, llmtest.MatchAll(m("a", nil), m("b", nil))(q, q))
	assert.Equal(t, []string{"a", "b"}, order)
	order = nil
	boom := errors.New("boom")
	assert.Same(t, boom, llmtest.MatchAll(m("a", boom), m("b", nil))(q, q))
	assert.Equal(t, []string{"a"}, order, "stops at the first error")
	assert.NoError(t, llmtest.MatchAll()(q, q))
}
