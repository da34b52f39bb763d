package llmtest_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm/llmtest"
)

const genSeeds = 60

// validSchemas are schemas whose generated values must validate, by name.
var validSchemas = []struct{ name, schema string }{
	{"empty", `{}`},
	{"true", `true`},
	{"object no props", `{"type":"object"}`},
	{"string", `{"type":"object","properties":{"s":{"type":"string"}},"required":["s"]}`},
	{"lengths", `{"type":"object","properties":{"s":{"type":"string","minLength":5,"maxLength":7},"t":{"type":"string","maxLength":0}},"required":["s","t"]}`},
	{"integer bounds", `{"type":"object","properties":{"n":{"type":"integer","minimum":-3,"maximum":4}},"required":["n"]}`},
	{"integer exclusive", `{"properties":{"n":{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":3}},"required":["n"]}`},
	{"integer multipleOf", `{"properties":{"n":{"type":"integer","multipleOf":7,"minimum":20,"maximum":60}},"required":["n"]}`},
	{"integer multipleOf fraction", `{"properties":{"n":{"type":"integer","multipleOf":0.75}},"required":["n"]}`},
	{"integer only max", `{"properties":{"n":{"type":"integer","maximum":-1000}},"required":["n"]}`},
	{"number bounds", `{"properties":{"x":{"type":"number","minimum":0.5,"exclusiveMaximum":0.75}},"required":["x"]}`},
	{"number tight", `{"properties":{"x":{"type":"number","exclusiveMinimum":1,"exclusiveMaximum":1.001}},"required":["x"]}`},
	{"number multipleOf", `{"properties":{"x":{"type":"number","multipleOf":0.01,"minimum":1,"maximum":2}},"required":["x"]}`},
	{"number multipleOf tenth", `{"properties":{"x":{"type":"number","multipleOf":0.1}},"required":["x"]}`},
	{"boolean and null", `{"properties":{"b":{"type":"boolean"},"z":{"type":"null"}},"required":["b","z"]}`},
	{"nullable list", `{"properties":{"s":{"type":["string","null"]},"n":{"type":["integer","null"],"minimum":5}},"required":["s","n"]}`},
	{"enum", `{"properties":{"unit":{"type":"string","enum":["celsius","fahrenheit"]},"n":{"enum":[1,"two",null,{"a":[3]}]}},"required":["unit","n"]}`},
	{"const", `{"properties":{"kind":{"const":"point"},"obj":{"const":{"x":1,"y":[true]}}},"required":["kind","obj"]}`},
	{"default", `{"properties":{"mode":{"type":"string","default":"fast","enum":["fast","slow"]}},"required":["mode"]}`},
	{"optional", `{"properties":{"a":{"type":"string"},"b":{"type":"integer"},"c":{"type":"boolean"}}}`},
	{"closed", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`},
	{"additional schema", `{"type":"object","required":["x","y"],"additionalProperties":{"type":"integer","minimum":1}}`},
	{"minProperties", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"minProperties":2,"additionalProperties":false}`},
	{"minProperties extra", `{"type":"object","minProperties":3,"additionalProperties":{"type":"boolean"}}`},
	{"maxProperties", `{"type":"object","properties":{"a":{},"b":{},"c":{},"d":{}},"maxProperties":1}`},
	{"patternProperties", `{"type":"object","patternProperties":{"^x_[a-z]+$":{"type":"integer"}},"additionalProperties":false,"minProperties":2}`},
	{"dependentRequired", `{"type":"object","properties":{"card":{"type":"string"},"cvv":{"type":"string","pattern":"^[0-9]{3}$"}},"dependentRequired":{"card":["cvv"]}}`},
	{"pattern", `{"properties":{"code":{"type":"string","pattern":"^[A-Z]{2}-\\d{3,5}(-[a-f0-9]{2})?$"}},"required":["code"]}`},
	{"pattern unanchored", `{"properties":{"s":{"type":"string","pattern":"ab+c","minLength":12}},"required":["s"]}`},
	{"pattern alternation", `{"properties":{"s":{"type":"string","pattern":"^(red|green|blue)\\.(png|jpe?g)$"}},"required":["s"]}`},
	{"pattern classes", `{"properties":{"s":{"type":"string","pattern":"^[^\\s@]+@[^\\s@]+\\.[a-z]{2,}$","maxLength":40}},"required":["s"]}`},
	{"pattern and length", `{"properties":{"s":{"type":"string","pattern":"^[a-z]+$","minLength":15,"maxLength":20}},"required":["s"]}`},
	{"formats", `{"type":"object","properties":{"dt":{"type":"string","format":"date-time"},"d":{"type":"string","format":"date"},"t":{"type":"string","format":"time"},"e":{"type":"string","format":"email"},"u":{"type":"string","format":"uri"},"id":{"type":"string","format":"uuid"},"v4":{"type":"string","format":"ipv4"},"v6":{"type":"string","format":"ipv6"},"h":{"type":"string","format":"hostname"},"p":{"type":"string","format":"duration"}},"required":["dt","d","t","e","u","id","v4","v6","h","p"]}`},
	{"array", `{"properties":{"tags":{"type":"array","items":{"type":"string","minLength":1},"minItems":2,"maxItems":4}},"required":["tags"]}`},
	{"array unique", `{"properties":{"xs":{"type":"array","items":{"type":"integer","minimum":0,"maximum":5},"uniqueItems":true,"minItems":6}},"required":["xs"]}`},
	{"array unique enum", `{"properties":{"xs":{"type":"array","items":{"enum":["a","b","c"]},"uniqueItems":true,"minItems":3,"maxItems":3}},"required":["xs"]}`},
	{"tuple", `{"properties":{"point":{"type":"array","prefixItems":[{"type":"number"},{"type":"number"},{"type":"string","enum":["m","ft"]}],"items":false,"minItems":3}},"required":["point"]}`},
	{"contains", `{"properties":{"xs":{"type":"array","items":{"type":"integer"},"contains":{"const":42}}},"required":["xs"]}`},
	{"nested", `{"type":"object","properties":{"user":{"type":"object","properties":{"name":{"type":"string"},"address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^\\d{5}$"}},"required":["city","zip"]}},"required":["name","address"]}},"required":["user"]}`},
	{"array of objects", `{"properties":{"items":{"type":"array","minItems":1,"items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1}},"required":["sku","qty"],"additionalProperties":false}}},"required":["items"]}`},
	{"defs ref", `{"$defs":{"Money":{"type":"object","properties":{"amount":{"type":"number","minimum":0},"currency":{"enum":["EUR","USD"]}},"required":["amount","currency"]}},"type":"object","properties":{"price":{"$ref":"#/$defs/Money"},"tax":{"$ref":"#/$defs/Money"}},"required":["price","tax"]}`},
	{"definitions ref", `{"definitions":{"id":{"type":"string","pattern":"^id_[0-9]{4}$"}},"properties":{"a":{"$ref":"#/definitions/id"},"b":{"type":"array","items":{"$ref":"#/definitions/id"}}},"required":["a","b"]}`},
	{"root ref", `{"$ref":"#/$defs/Args","$defs":{"Args":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}`},
	{"recursive tree", `{"$defs":{"Node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["name"]}},"$ref":"#/$defs/Node"}`},
	{"recursive list", `{"$defs":{"Cell":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/Cell"},{"type":"null"}]}},"required":["v","next"]}},"type":"object","properties":{"head":{"$ref":"#/$defs/Cell"}},"required":["head"]}`},
	{"recursive root", `{"type":"object","properties":{"label":{"type":"string"},"sub":{"$ref":"#"}},"required":["label"]}`},
	{"allOf", `{"allOf":[{"type":"object","properties":{"a":{"type":"integer","minimum":0}},"required":["a"]},{"properties":{"a":{"maximum":3},"b":{"type":"string"}},"required":["b"]}]}`},
	{"allOf ref", `{"$defs":{"Base":{"type":"object","properties":{"id":{"type":"string","format":"uuid"}},"required":["id"]}},"allOf":[{"$ref":"#/$defs/Base"},{"properties":{"n":{"type":"number","multipleOf":0.5}},"required":["n"]}]}`},
	{"anyOf", `{"properties":{"v":{"anyOf":[{"type":"string","maxLength":3},{"type":"integer","minimum":100}]}},"required":["v"]}`},
	{"oneOf", `{"properties":{"shape":{"oneOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number","exclusiveMinimum":0}},"required":["kind","r"],"additionalProperties":false},{"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"number","exclusiveMinimum":0}},"required":["kind","side"],"additionalProperties":false}]}},"required":["shape"]}`},
	{"oneOf overlapping", `{"properties":{"v":{"oneOf":[{"type":"integer"},{"type":"number","minimum":1000}]}},"required":["v"]}`},
	{"not", `{"properties":{"s":{"type":"string","not":{"const":"x"},"maxLength":1,"minLength":1}},"required":["s"]}`},
	{"if then", `{"properties":{"a":{"type":"boolean"},"b":{"type":"integer"}},"required":["a","b"],"if":{"properties":{"a":{"const":true}}},"then":{"properties":{"b":{"minimum":10}}}}`},
	{"ref siblings", `{"$defs":{"S":{"type":"string"}},"properties":{"s":{"$ref":"#/$defs/S","minLength":4,"maxLength":4}},"required":["s"]}`},
	{"untyped nested", `{"properties":{"anything":{},"hinted":{"minimum":3,"maximum":4},"arr":{"items":{"type":"boolean"}}},"required":["anything","hinted","arr"]}`},
	{"unicode", `{"properties":{"s":{"type":"string","pattern":"^[α-ω]{3}$"},"key with / and ~":{"type":"integer"}},"required":["s","key with / and ~"]}`},
	{"openapi nullable", `{"properties":{"s":{"type":"string","nullable":true}},"required":["s"]}`},
	{"calculator", `{"properties":{"__arg1":{"title":"__arg1","type":"string"}},"required":["__arg1"],"type":"object"}`},
}

func resolve(t *testing.T, schema string) *jsonschema.Resolved {
	t.Helper()
	var s jsonschema.Schema
	require.NoError(t, json.Unmarshal([]byte(schema), &s))
	r, err := s.Resolve(nil)
	require.NoError(t, err)
	return r
}

func validate(t *testing.T, r *jsonschema.Resolved, out json.RawMessage) {
	t.Helper()
	var inst any
	require.NoError(t, json.Unmarshal(out, &inst), "%s", out)
	assert.NoError(t, r.Validate(inst), "%s", out)
}

func TestGenerateArgumentsValidates(t *testing.T) {
	require.GreaterOrEqual(t, len(validSchemas), 30)
	for _, tc := range validSchemas {
		t.Run(tc.name, func(t *testing.T) {
			r := resolve(t, tc.schema)
			distinct := map[string]bool{}
			for seed := range int64(genSeeds) {
				out, err := llmtest.GenerateArguments(json.RawMessage(tc.schema), seed)
				require.NoError(t, err, "seed %d", seed)
				validate(t, r, out)
				again, err := llmtest.GenerateArguments(json.RawMessage(tc.schema), seed)
				require.NoError(t, err)
				require.Equal(t, string(out), string(again), "seed %d is not deterministic", seed)
				distinct[string(out)] = true
			}
			if len(distinct) == 1 {
				t.Logf("one value for every seed: %s", func() string {
					for k := range distinct {
						return k
					}
					return ""
				}())
			}
		})
	}
}

func TestGenerateArgumentsRootObject(t *testing.T) {
	for _, schema := range []string{"", "  ", "{}", "true", `{"description":"no arguments"}`} {
		out, err := llmtest.GenerateArguments(json.RawMessage(schema), 1)
		require.NoError(t, err, "%q", schema)
		assert.Equal(t, "{}", string(out), "%q: tool arguments are an object", schema)
	}
	// Seeds vary optional content; the same seed gives the same bytes.
	schema := json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}}}`)
	seen := map[string]bool{}
	for seed := range int64(20) {
		out, err := llmtest.GenerateArguments(schema, seed)
		require.NoError(t, err)
		seen[string(out)] = true
	}
	assert.Greater(t, len(seen), 10, "seeds should give varied values")
	// Properties come in the schema's order, not sorted.
	out, err := llmtest.GenerateArguments(json.RawMessage(`{"properties":{"zeta":{"const":1},"alpha":{"const":2}},"required":["zeta","alpha"]}`), 3)
	require.NoError(t, err)
	assert.Equal(t, `{"zeta":1,"alpha":2}`, string(out))
	// Non-object roots generate their own kind of value.
	out, err = llmtest.GenerateArguments(json.RawMessage(`{"type":"string","const":"x<y"}`), 3)
	require.NoError(t, err)
	assert.Equal(t, `"x<y"`, string(out), "no HTML escaping")
}

func TestGenerateArgumentsFormats(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	durationRE := regexp.MustCompile(`^P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$`)
	hostRE := regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	checks := map[string]func(string) error{
		"date-time": func(s string) error { _, err := time.Parse(time.RFC3339, s); return err },
		"date":      func(s string) error { _, err := time.Parse(time.DateOnly, s); return err },
		"time":      func(s string) error { _, err := time.Parse("15:04:05Z07:00", s); return err },
		"email":     func(s string) error { _, err := mail.ParseAddress(s); return err },
		"uri": func(s string) error {
			u, err := url.Parse(s)
			if err == nil && !u.IsAbs() {
				err = errors.New("not absolute")
			}
			return err
		},
		"url": func(s string) error { _, err := url.ParseRequestURI(s); return err },
		"uuid": func(s string) error {
			if !uuidRE.MatchString(s) {
				return errors.New("not a v4 UUID")
			}
			return nil
		},
		"ipv4": func(s string) error {
			if ip := net.ParseIP(s); ip == nil || ip.To4() == nil {
				return errors.New("not IPv4")
			}
			return nil
		},
		"ipv6": func(s string) error {
			if ip := net.ParseIP(s); ip == nil || ip.To4() != nil || !strings.Contains(s, ":") {
				return errors.New("not IPv6")
			}
			return nil
		},
		"hostname": func(s string) error {
			if !hostRE.MatchString(s) || len(s) > 253 {
				return errors.New("not a host name")
			}
			return nil
		},
		"duration": func(s string) error {
			if !durationRE.MatchString(s) || s == "P" {
				return errors.New("not an ISO 8601 duration")
			}
			return nil
		},
	}
	for format, check := range checks {
		schema := json.RawMessage(`{"type":"string","format":"` + format + `"}`)
		for seed := range int64(genSeeds) {
			out, err := llmtest.GenerateArguments(schema, seed)
			require.NoError(t, err)
			var s string
			require.NoError(t, json.Unmarshal(out, &s))
			assert.NoError(t, check(s), "format %s: %q", format, s)
		}
	}
}

func TestGenerateArgumentsPatterns(t *testing.T) {
	for _, p := range []string{
		`^\d{3}-\d{4}$`, `^[A-Z][a-z]+( [A-Z][a-z]+)*$`, `^(GET|POST|PUT|DELETE)$`, `^[a-f0-9]{40}$`,
		`^\w+\.(go|rs|py)$`, `^v\d+\.\d+\.\d+(-rc\.\d+)?$`, `^[^/]+/[^/]+$`, `^#[0-9A-Fa-f]{6}$`,
		`^.{2,3}$`, `x*y?z+`, `^(?i)hello$`, `^\$\{[A-Z_]+\}$`, `^[[:alpha:]]{4}$`, `^\S+$`,
		`^[a-z]{1000}$`,
	} {
		re := regexp.MustCompile(p)
		schema, _ := json.Marshal(map[string]any{"type": "string", "pattern": p})
		for seed := range int64(20) {
			out, err := llmtest.GenerateArguments(schema, seed)
			require.NoError(t, err, "pattern %s", p)
			var s string
			require.NoError(t, json.Unmarshal(out, &s))
			assert.True(t, re.MatchString(s), "pattern %s: %q", p, s)
		}
	}
}

func TestGenerateArgumentsInferred(t *testing.T) {
	type Address struct {
		Street string `json:"street"`
		City   string `json:"city" jsonschema:"the city name"`
		Zip    string `json:"zip,omitempty"`
	}
	type Order struct {
		ID       int               `json:"id"`
		Items    []string          `json:"items"`
		Price    float64           `json:"price"`
		Express  bool              `json:"express,omitempty"`
		Ship     *Address          `json:"ship,omitempty"`
		Bill     Address           `json:"bill"`
		Labels   map[string]string `json:"labels,omitempty"`
		Quantity map[string]int    `json:"quantity"`
	}
	type Search struct {
		Query string   `json:"query" jsonschema:"what to search for"`
		Limit int      `json:"limit,omitempty"`
		Sites []string `json:"sites,omitempty"`
	}
	type Empty struct{}
	check := func(t *testing.T, s *jsonschema.Schema, decode func([]byte) error) {
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		r, err := s.Resolve(nil)
		require.NoError(t, err)
		for seed := range int64(genSeeds) {
			out, err := llmtest.GenerateArguments(raw, seed)
			require.NoError(t, err, "%s", raw)
			validate(t, r, out)
			require.NoError(t, decode(out), "%s", out)
		}
	}
	t.Run("Order", func(t *testing.T) {
		s, err := jsonschema.For[Order](nil)
		require.NoError(t, err)
		check(t, s, func(b []byte) error { var v Order; return json.Unmarshal(b, &v) })
	})
	t.Run("Search", func(t *testing.T) {
		s, err := jsonschema.For[Search](nil)
		require.NoError(t, err)
		check(t, s, func(b []byte) error { var v Search; return json.Unmarshal(b, &v) })
	})
	t.Run("Empty", func(t *testing.T) {
		s, err := jsonschema.For[Empty](nil)
		require.NoError(t, err)
		check(t, s, func(b []byte) error { var v Empty; return json.Unmarshal(b, &v) })
	})
}

func TestGenerateArgumentsRecursionBounded(t *testing.T) {
	depth := func(v any) int {
		var d func(any) int
		d = func(v any) int {
			best := 0
			switch x := v.(type) {
			case map[string]any:
				for _, e := range x {
					best = max(best, d(e))
				}
				return best + 1
			case []any:
				for _, e := range x {
					best = max(best, d(e))
				}
				return best + 1
			}
			return 0
		}
		return d(v)
	}
	for _, name := range []string{"recursive tree", "recursive list", "recursive root"} {
		var schema string
		for _, tc := range validSchemas {
			if tc.name == name {
				schema = tc.schema
			}
		}
		deepest := 0
		for seed := range int64(200) {
			out, err := llmtest.GenerateArguments(json.RawMessage(schema), seed)
			require.NoError(t, err)
			var v any
			require.NoError(t, json.Unmarshal(out, &v))
			deepest = max(deepest, depth(v))
		}
		assert.LessOrEqual(t, deepest, 12, name)
		assert.Greater(t, deepest, 2, "%s: some seeds should recurse", name)
	}
}

func TestGenerateArgumentsUnsatisfiable(t *testing.T) {
	for _, tc := range []struct{ schema, pointer, reason string }{
		{`false`, "#", "the schema is false"},
		{`{"properties":{"age":{"type":"integer","minimum":10,"maximum":5}},"required":["age"]}`, "#/properties/age", "minimum 10 is not below maximum 5"},
		{`{"properties":{"x":{"type":"number","exclusiveMinimum":1,"maximum":1}},"required":["x"]}`, "#/properties/x", "exclusiveMinimum 1 is not below maximum 1"},
		{`{"properties":{"n":{"type":"integer","minimum":1.2,"maximum":1.8}},"required":["n"]}`, "#/properties/n", "no integer lies between minimum 1.2 and maximum 1.8"},
		{`{"properties":{"n":{"type":"integer","multipleOf":10,"minimum":1,"maximum":9}},"required":["n"]}`, "#/properties/n", "no multiple of 10"},
		{`{"properties":{"s":{"type":"string","minLength":3,"maxLength":2}},"required":["s"]}`, "#/properties/s", "minLength 3 is greater than maxLength 2"},
		{`{"properties":{"a":{"type":"array","minItems":3,"maxItems":1}},"required":["a"]}`, "#/properties/a", "minItems 3 is greater than maxItems 1"},
		{`{"properties":{"t":{"type":"array","prefixItems":[{}],"items":false,"minItems":2}},"required":["t"]}`, "#/properties/t", "minItems 2 but only 1 items are allowed"},
		{`{"properties":{"e":{"enum":[]}},"required":["e"]}`, "#/properties/e", "enum has no values"},
		{`{"properties":{"f":false},"required":["f"]}`, "#/properties/f", "the schema is false"},
		{`{"type":"object","required":["ghost"],"additionalProperties":false}`, "#", `property "ghost" is required`},
		{`{"type":"object","properties":{"a":{}},"minProperties":2,"additionalProperties":false}`, "#", "minProperties 2 but only 1 properties are allowed"},
		{`{"type":"object","properties":{"a":{},"b":{}},"required":["a","b"],"maxProperties":1}`, "#", "2 required properties but maxProperties 1"},
		{`{"$defs":{"Bad":{"type":"integer","minimum":3,"maximum":2}},"properties":{"x":{"$ref":"#/$defs/Bad"}},"required":["x"]}`, "#/$defs/Bad", "minimum 3 is not below maximum 2"},
		{`{"properties":{"x":{"allOf":[{"type":"string"},{"type":"integer"}]}},"required":["x"]}`, "#/properties/x", "types [string] and [integer] have nothing in common"},
		{`{"properties":{"x":{"allOf":[{"const":1},{"const":2}]}},"required":["x"]}`, "#/properties/x", "const 1 and const 2 differ"},
		{`{"properties":{"x":{"anyOf":[]}},"required":["x"]}`, "#/properties/x", "anyOf has no subschemas"},
	} {
		_, err := llmtest.GenerateArguments(json.RawMessage(tc.schema), 1)
		require.Error(t, err, tc.schema)
		assert.ErrorIs(t, err, llmtest.ErrUnsatisfiable, tc.schema)
		var se *llmtest.SchemaError
		require.ErrorAs(t, err, &se, tc.schema)
		assert.Equal(t, tc.pointer, se.Pointer, tc.schema)
		assert.Contains(t, se.Reason, tc.reason, tc.schema)
		assert.True(t, strings.HasPrefix(err.Error(), "llmtest: schema at "+tc.pointer+": "), err.Error())
	}
	// An optional property that cannot exist is left out, not an error.
	out, err := llmtest.GenerateArguments(json.RawMessage(`{"properties":{"never":false,"bad":{"type":"integer","minimum":2,"maximum":1},"ok":{"const":1}},"required":["ok"]}`), 1)
	require.NoError(t, err)
	assert.Equal(t, `{"ok":1}`, string(out))
}

func TestGenerateArgumentsInvalid(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type":`, "schema is not JSON"},
		{`[1]`, "llmtest: schema at #: a schema is an object or a boolean, not a JSON array"},
		{`{"properties":{"p":{"type":"string","pattern":"(["}},"required":["p"]}`, `llmtest: schema at #/properties/p: pattern "([" does not compile`},
		{`{"properties":{"r":{"$ref":"#/$defs/Missing"}},"required":["r"]}`, `llmtest: schema at #/properties/r: $ref "#/$defs/Missing" does not resolve`},
		{`{"properties":{"r":{"$ref":"https://example.com/s.json"}},"required":["r"]}`, "only local references"},
		{`{"$defs":{"Loop":{"type":"object","properties":{"next":{"$ref":"#/$defs/Loop"}},"required":["next"]}},"$ref":"#/$defs/Loop"}`, "recursion does not end"},
	} {
		_, err := llmtest.GenerateArguments(json.RawMessage(tc.schema), 1)
		require.Error(t, err, tc.schema)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotErrorIs(t, err, llmtest.ErrUnsatisfiable, tc.schema)
	}
}
