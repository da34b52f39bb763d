package llmtest_test

import (
	"context"
	"encoding/json"
	"math/big"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// forSeeds generates for 200 seeds, requires success and validity (jsonschema-go, when it resolves
// the schema), and hands each value of property x (or the whole value when the schema has no
// "x") to check.
func forSeeds(t *testing.T, schema string, check func(t *testing.T, raw json.RawMessage)) {
	t.Helper()
	for seed := range int64(200) {
		out, err := llmtest.GenerateArguments(json.RawMessage(schema), seed)
		require.NoError(t, err, "seed %d: %s", seed, schema)
		var obj map[string]json.RawMessage
		x := json.RawMessage(out)
		if json.Unmarshal(out, &obj) == nil && obj["x"] != nil {
			x = obj["x"]
		}
		if check != nil {
			check(t, x)
		}
	}
}

// A conflicting or empty anyOf/oneOf branch only rules itself out.
func TestGenerateArgumentsBranchConflicts(t *testing.T) {
	for _, schema := range []string{
		`{"type":"object","required":["limit"],"properties":{"limit":{"type":"integer","anyOf":[{"type":"string"},{"minimum":5}]}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"anyOf":[{"enum":[]},{"type":"integer"}]}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"oneOf":[false,{"type":"integer","minimum":3,"maximum":1},{"const":"ok"}]}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"allOf":[{"anyOf":[{"type":"string"},{"type":"integer"}]},{"anyOf":[{"type":"boolean"},{"type":"integer","minimum":2,"maximum":2}]}]}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"type":["string","integer"],"minimum":9,"maximum":1}}}`,
	} {
		forSeeds(t, schema, nil)
	}
	// Every branch unsatisfiable: ErrUnsatisfiable.
	_, err := llmtest.GenerateArguments(json.RawMessage(`{"type":"object","required":["x"],"properties":{"x":{"type":"integer","anyOf":[{"type":"string"},{"enum":[]},false]}}}`), 1)
	require.ErrorIs(t, err, llmtest.ErrUnsatisfiable)
	assert.Contains(t, err.Error(), "no anyOf branch can be satisfied")

	// Auto calls such a tool for every seed.
	spec := llm.ToolSpec{Name: "pick", Parameters: json.RawMessage(`{"type":"object","required":["limit"],"properties":{"limit":{"type":"integer","anyOf":[{"type":"string"},{"minimum":5}]}}}`)}
	for seed := range int64(8) {
		resp, err := llmtest.NewAuto(llmtest.WithSeed(seed)).Generate(context.Background(), &llm.Request{
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "go"}}, Tools: []llm.ToolSpec{spec},
		})
		require.NoError(t, err, "seed %d", seed)
		require.Len(t, resp.Message.ToolCalls, 1)
	}
}

// enum and const values are filtered by the subschema's other keywords.
func TestGenerateArgumentsEnumFiltered(t *testing.T) {
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","enum":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,null,true,"ok"]}}}`,
		func(t *testing.T, x json.RawMessage) { assert.Equal(t, `"ok"`, string(x)) })
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"enum":[1,5,"abc","a",7.5],"minimum":4,"minLength":2}}}`,
		func(t *testing.T, x json.RawMessage) { assert.Contains(t, []string{"5", `"abc"`, "7.5"}, string(x)) })
	for _, schema := range []string{
		`{"type":"object","required":["x"],"properties":{"x":{"type":"string","enum":[1,null]}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"type":"integer","const":"5"}}}`,
	} {
		_, err := llmtest.GenerateArguments(json.RawMessage(schema), 1)
		assert.ErrorIs(t, err, llmtest.ErrUnsatisfiable, schema)
	}
}

// uniqueItems gives distinct items, at most as many as the item schema has values; fewer values
// than minItems is unsatisfiable.
func TestGenerateArgumentsUniqueSmallDomain(t *testing.T) {
	distinct := func(t *testing.T, x json.RawMessage) {
		var items []any
		require.NoError(t, json.Unmarshal(x, &items))
		seen := map[string]bool{}
		for _, it := range items {
			b, _ := json.Marshal(it)
			assert.False(t, seen[string(b)], "duplicate in %s", x)
			seen[string(b)] = true
		}
	}
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"array","items":{"enum":["read","write"]},"uniqueItems":true,"maxItems":20}}}`, distinct)
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"array","items":{"type":"boolean"},"uniqueItems":true,"maxItems":10}}}`, distinct)
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"array","items":{"type":"integer","minimum":1,"maximum":3},"uniqueItems":true,"minItems":3}}}`, distinct)
	for _, schema := range []string{
		`{"type":"object","required":["x"],"properties":{"x":{"type":"array","items":{"enum":["read","write"]},"uniqueItems":true,"minItems":3}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"type":"array","items":{"enum":[1,1.0,2]},"uniqueItems":true,"minItems":3}}}`,
		`{"type":"object","required":["x"],"properties":{"x":{"type":"array","items":{"type":"boolean"},"uniqueItems":true,"minItems":3}}}`,
	} {
		_, err := llmtest.GenerateArguments(json.RawMessage(schema), 1)
		assert.ErrorIs(t, err, llmtest.ErrUnsatisfiable, schema)
	}
}

// Object and array keywords the generator now steers by.
func TestGenerateArgumentsSteeredKeywords(t *testing.T) {
	lower := regexp.MustCompile(`^[a-z]+$`)
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"object","propertyNames":{"pattern":"^[a-z]+$"},"minProperties":2}}}`,
		func(t *testing.T, x json.RawMessage) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(x, &m))
			assert.GreaterOrEqual(t, len(m), 2)
			for k := range m {
				assert.Regexp(t, lower, k)
			}
		})
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"array","contains":{"const":1},"minContains":2,"maxContains":3}}}`,
		func(t *testing.T, x json.RawMessage) {
			var items []any
			require.NoError(t, json.Unmarshal(x, &items))
			ones := 0
			for _, it := range items {
				if it == 1.0 {
					ones++
				}
			}
			assert.True(t, ones >= 2 && ones <= 3, "%s", x)
		})
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"not":{"type":["string","integer","boolean"]}}}}`,
		func(t *testing.T, x json.RawMessage) {
			var v any
			require.NoError(t, json.Unmarshal(x, &v))
			switch n := v.(type) {
			case string, bool:
				t.Errorf("not excludes %s", x)
			case float64:
				assert.NotEqual(t, float64(int64(n)), n, "an integer: %s", x)
			}
		})
	for _, deps := range []string{`"dependencies":{"a":["b"]}`, `"dependentRequired":{"a":["b"]}`, `"dependentSchemas":{"a":{"required":["b"]}}`, `"dependencies":{"a":{"required":["b"]}}`} {
		sawA := false
		forSeeds(t, `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},`+deps+`}`,
			func(t *testing.T, x json.RawMessage) {
				var m map[string]any
				require.NoError(t, json.Unmarshal(x, &m))
				if _, ok := m["a"]; ok {
					sawA = true
					assert.Contains(t, m, "b", "%s: %s", deps, x)
				}
			})
		assert.True(t, sawA, deps)
	}
	for _, schema := range []string{
		`{"$defs":{"A B":{"type":"integer","const":7}},"type":"object","required":["x"],"properties":{"x":{"$ref":"#/$defs/A%20B"}}}`,
		`{"$defs":{"a/b~c":{"type":"integer","const":7}},"type":"object","required":["x"],"properties":{"x":{"$ref":"#/$defs/a~1b~0c"}}}`,
		`{"$defs":{"a/b%c":{"type":"integer","const":7}},"type":"object","required":["x"],"properties":{"x":{"$ref":"#/$defs/a~1b%25c"}}}`,
		`{"$defs":{"A":{"$anchor":"seven","type":"integer","const":7}},"type":"object","required":["x"],"properties":{"x":{"$ref":"#seven"}}}`,
		`{"$id":"https://example.com/s","$defs":{"A":{"type":"integer","const":7}},"type":"object","required":["x"],"properties":{"x":{"$ref":"https://example.com/s#/$defs/A"}}}`,
	} {
		forSeeds(t, schema, func(t *testing.T, x json.RawMessage) { assert.Equal(t, "7", string(x), schema) })
	}
}

// Formats honour patterns and lengths.
func TestGenerateArgumentsFormatsFit(t *testing.T) {
	email := func(max int) func(*testing.T, json.RawMessage) {
		return func(t *testing.T, x json.RawMessage) {
			var s string
			require.NoError(t, json.Unmarshal(x, &s))
			a, err := mail.ParseAddress(s)
			require.NoError(t, err, s)
			assert.Equal(t, s, a.Address)
			assert.LessOrEqual(t, utf8.RuneCountInString(s), max)
		}
	}
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","format":"email","maxLength":10}}}`, email(10))
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","format":"email","pattern":"^[a-z]+@example\\.com$"}}}`, email(100))
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","format":"email","pattern":"^[^@]+@[^@]+$"}}}`, email(100))
	for _, n := range []int{20, 22, 25, 40} {
		forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","format":"date-time","minLength":`+itoa(n)+`}}}`,
			func(t *testing.T, x json.RawMessage) {
				var s string
				require.NoError(t, json.Unmarshal(x, &s))
				_, err := time.Parse(time.RFC3339Nano, s)
				require.NoError(t, err, s)
				assert.GreaterOrEqual(t, len(s), n)
			})
	}
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","format":"hostname","minLength":70,"maxLength":80}}}`,
		func(t *testing.T, x json.RawMessage) {
			var s string
			require.NoError(t, json.Unmarshal(x, &s))
			for _, label := range strings.Split(s, ".") {
				assert.True(t, len(label) >= 1 && len(label) <= 63, s)
			}
		})
}

// Huge lengths and counts are refused, not allocated; wide integer ranges give exact integers.
func TestGenerateArgumentsLimitsAndBigNumbers(t *testing.T) {
	for kw, schema := range map[string]string{
		"minLength 200000000":  `{"type":"object","required":["x"],"properties":{"x":{"type":"string","minLength":200000000}}}`,
		"minItems 1000000000":  `{"type":"object","required":["x"],"properties":{"x":{"type":"array","minItems":1e9}}}`,
		"minProperties 100000": `{"type":"object","required":["x"],"properties":{"x":{"type":"object","minProperties":100000}}}`,
	} {
		start := time.Now()
		_, err := llmtest.GenerateArguments(json.RawMessage(schema), 1)
		require.Error(t, err, kw)
		assert.Contains(t, err.Error(), kw+" exceeds the generator's limit of ")
		assert.NotErrorIs(t, err, llmtest.ErrUnsatisfiable)
		assert.Less(t, time.Since(start), 2*time.Second)
	}
	// Large maxima are fine and values stay short.
	forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"string","maxLength":200000000}}}`,
		func(t *testing.T, x json.RawMessage) { assert.Less(t, len(x), 100) })

	intLiteral := regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	exact := func(lo, hi string) func(*testing.T, json.RawMessage) {
		return func(t *testing.T, x json.RawMessage) {
			require.Regexp(t, intLiteral, string(x), "an exact integer literal")
			v, _ := new(big.Rat).SetString(string(x))
			l, _ := new(big.Rat).SetString(lo)
			h, _ := new(big.Rat).SetString(hi)
			assert.True(t, v.Cmp(l) >= 0 && v.Cmp(h) <= 0, "%s not in [%s, %s]", x, lo, hi)
		}
	}
	for _, b := range [][2]string{{"-1e300", "1e300"}, {"9007199254740993", "9007199254740993"}, {"1e30", "1e31"}, {"-1e25", "-1e24"}, {"0", "1e20"}} {
		forSeeds(t, `{"type":"object","required":["x"],"properties":{"x":{"type":"integer","minimum":`+b[0]+`,"maximum":`+b[1]+`}}}`, exact(b[0], b[1]))
	}
	out, err := llmtest.GenerateArguments(json.RawMessage(`{"type":"integer","minimum":9007199254740993,"maximum":9007199254740993}`), 1)
	require.NoError(t, err)
	assert.Equal(t, "9007199254740993", string(out))
	out, err = llmtest.GenerateArguments(json.RawMessage(`{"type":"number","multipleOf":0.1,"minimum":0.3,"maximum":0.3}`), 1)
	require.NoError(t, err, "0.3 is a multiple of 0.1")
	assert.Equal(t, "0.3", string(out))
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }
