package llmtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// ErrUnsatisfiable is wrapped by the *SchemaError that GenerateArguments returns for a schema that
// no value satisfies, such as false, a minimum above the maximum, an empty enum, or a required
// property that additionalProperties: false forbids. Test with errors.Is.
var ErrUnsatisfiable = errors.New("no value satisfies the schema")

// SchemaError is the error GenerateArguments returns when it cannot produce a value: the schema is
// unsatisfiable (Unsatisfiable is set, and the error wraps ErrUnsatisfiable), invalid (a pattern
// that does not compile, a $ref that does not resolve), or beyond the generator (a recursion that
// never ends, constraints it cannot meet together).
type SchemaError struct {
	// Pointer is the JSON pointer, within the schema, of the subschema at fault, as a URI fragment:
	// "#" for the root, "#/properties/age", "#/$defs/Node/properties/next".
	Pointer string
	// Reason says what is wrong, such as "minimum 10 is greater than maximum 5".
	Reason string
	// Unsatisfiable reports that no value can satisfy the subschema.
	Unsatisfiable bool
}

// Error returns "llmtest: schema at POINTER: REASON".
func (e *SchemaError) Error() string {
	return "llmtest: schema at " + e.Pointer + ": " + e.Reason
}

// Unwrap returns ErrUnsatisfiable when Unsatisfiable is set, else nil.
func (e *SchemaError) Unwrap() error {
	if e.Unsatisfiable {
		return ErrUnsatisfiable
	}
	return nil
}

// Generator limits.
const (
	genAttempts      = 16 // tries, each with its own random stream, before giving up
	genShallowRefs   = 2  // nested $ref expansions after which optional parts are left out
	genMaxRefs       = 24 // nested $ref expansions after which generation fails
	genDefaultSpan   = 100
	genMaxRepeat     = 3 // extra repetitions of *, + and {n,} in patterns, at first
	genPatternTries  = 40
	genUniqueTries   = 24
	genPlainMaxChars = 10
)

// GenerateArguments returns a JSON value valid against schema (a JSON Schema, draft 2020-12 or
// draft-07 keywords), chosen pseudo-randomly but deterministically: the same schema and seed
// always give the same bytes. A nil or empty schema gives {} (a tool without arguments), as does a
// schema without type or other hints at its root (tool arguments are an object).
//
// It handles type (also lists, and "nullable": true), const, enum, default, properties (generated
// in schema order), required (always present), optional properties (present or not, by the seed),
// additionalProperties, patternProperties, minProperties/maxProperties, dependentRequired,
// minimum/maximum/exclusiveMinimum/exclusiveMaximum/multipleOf for integers and numbers,
// minLength/maxLength, pattern (a string built from the regular expression's parse tree, with
// bounded repetition), format (date-time, date, time, email, uri/url, uuid, ipv4, ipv6, hostname,
// duration and a few more), items/prefixItems/minItems/maxItems/uniqueItems/contains, $ref to any
// local JSON pointer ("#/$defs/X", "#/definitions/X", "#"), allOf (merged), anyOf and oneOf (one
// branch chosen). A recursive $ref is followed a couple of levels, then optional properties are
// left out, arrays get their minimum length and anyOf/oneOf prefer branches without a $ref, so the
// value stays small.
//
// When the schema is one that github.com/google/jsonschema-go resolves, every candidate is
// validated with it, and up to 16 candidates (from streams derived from seed) are tried, so
// keywords the generator does not steer by (not, if/then/else, oneOf exclusivity) are still
// honoured. The error is a *SchemaError naming the JSON pointer at fault; it wraps
// ErrUnsatisfiable when no value can exist. A schema that is not JSON is a plain error.
func GenerateArguments(schema json.RawMessage, seed int64) (json.RawMessage, error) {
	if len(bytes.TrimSpace(schema)) == 0 {
		return json.RawMessage("{}"), nil
	}
	root, err := parseOrdered(schema)
	if err != nil {
		return nil, fmt.Errorf("llmtest: GenerateArguments: schema is not JSON: %w", err)
	}
	switch root.(type) {
	case bool, *jobj:
	default:
		return nil, &SchemaError{Pointer: "#", Reason: fmt.Sprintf("a schema is an object or a boolean, not a JSON %s", jsonKind(root))}
	}
	var resolved *jsonschema.Resolved
	var js jsonschema.Schema
	if json.Unmarshal(schema, &js) == nil {
		resolved, _ = js.Resolve(nil) // a schema it cannot resolve is generated for without checking
	}
	var first error
	for attempt := range genAttempts {
		s1 := splitmix64(uint64(seed) ^ splitmix64(uint64(attempt)))
		g := &generator{root: root, rng: rand.New(rand.NewPCG(s1, splitmix64(s1)))}
		v, err := g.value(root, "#", genState{top: true})
		if err == nil {
			var out []byte
			out, err = encodeJSON(v)
			if err == nil && resolved != nil {
				var inst any
				if err = json.Unmarshal(out, &inst); err == nil {
					if verr := resolved.Validate(inst); verr != nil {
						err = &SchemaError{Pointer: "#", Reason: fmt.Sprintf("generated %s, which does not validate: %v", shorten(string(out), 120), verr)}
					}
				}
			}
			if err == nil {
				return out, nil
			}
		}
		if first == nil {
			first = err
		}
		if errors.Is(err, ErrUnsatisfiable) {
			return nil, err
		}
	}
	return nil, first
}

// splitmix64 scrambles x (one step of the SplitMix64 generator), so that nearby seeds give
// unrelated random streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

type generator struct {
	root any
	rng  *rand.Rand
}

// genState travels down the schema while a value is generated.
type genState struct {
	refs int  // $ref expansions on the path from the root
	top  bool // the root value (tool arguments: an object when nothing else is said)
}

// minimal reports whether the value should be as small as allowed (deep in a recursion).
func (st genState) minimal() bool { return st.refs > genShallowRefs }

func (st genState) child() genState { return genState{refs: st.refs} }

func unsat(ptr, format string, args ...any) error {
	return &SchemaError{Pointer: ptr, Reason: fmt.Sprintf(format, args...), Unsatisfiable: true}
}

func schemaErr(ptr, format string, args ...any) error {
	return &SchemaError{Pointer: ptr, Reason: fmt.Sprintf(format, args...)}
}

// value generates a value for the subschema s found at ptr.
func (g *generator) value(s any, ptr string, st genState) (any, error) {
	o, ptr, st, err := g.flatten(s, ptr, st)
	if err != nil {
		return nil, err
	}
	if c, ok := o.get("const"); ok {
		return c, nil
	}
	if e, ok := o.get("enum"); ok {
		list, _ := e.([]any)
		if len(list) == 0 {
			return nil, unsat(ptr, "enum has no values")
		}
		return list[g.rng.IntN(len(list))], nil
	}
	types, err := g.types(o, ptr, st)
	if err != nil {
		return nil, err
	}
	if d, ok := o.get("default"); ok && g.rng.IntN(4) == 0 && fitsTypes(d, types) {
		return d, nil
	}
	switch t := g.pickType(types, st); t {
	case "null":
		return nil, nil
	case "boolean":
		return g.rng.IntN(2) == 1, nil
	case "integer":
		return g.number(o, ptr, true)
	case "number":
		return g.number(o, ptr, false)
	case "string":
		return g.str(o, ptr)
	case "array":
		return g.array(o, ptr, st)
	case "object":
		return g.object(o, ptr, st)
	default:
		return nil, schemaErr(ptr, "unknown type %q", t)
	}
}

// flatten resolves $ref, merges allOf and chooses an anyOf/oneOf branch until none is left at the
// top of the subschema. It returns the flat subschema, the pointer to report errors at and the
// state (with $ref expansions counted).
func (g *generator) flatten(s any, ptr string, st genState) (*jobj, string, genState, error) {
	for range 1000 {
		var o *jobj
		switch x := s.(type) {
		case bool:
			if !x {
				return nil, ptr, st, unsat(ptr, "the schema is false")
			}
			return newJobj(), ptr, st, nil
		case *jobj:
			o = x
		default:
			return nil, ptr, st, schemaErr(ptr, "a schema is an object or a boolean, not a JSON %s", jsonKind(s))
		}
		if ref, ok := o.get("$ref"); ok {
			rs, _ := ref.(string)
			target, tptr, err := g.resolveRef(rs, ptr)
			if err != nil {
				return nil, ptr, st, err
			}
			st.refs++
			if st.refs > genMaxRefs {
				return nil, ptr, st, schemaErr(ptr, "$ref %q: recursion does not end within %d levels (a required property or a minimum item count always recurses)", rs, genMaxRefs)
			}
			rest := o.without("$ref", "$defs", "definitions", "$schema", "$id", "title", "description", "$comment")
			if len(rest.keys) == 0 {
				s, ptr = target, tptr
				continue
			}
			t, _, st2, err := g.flatten(target, tptr, st)
			if err != nil {
				return nil, ptr, st, err
			}
			st = st2
			m, err := mergeSchemas(rest, t, ptr)
			if err != nil {
				return nil, ptr, st, err
			}
			s = m
			continue
		}
		if all, ok := o.get("allOf"); ok {
			list, _ := all.([]any)
			base := o.without("allOf")
			for i, sub := range list {
				f, _, st2, err := g.flatten(sub, fmt.Sprintf("%s/allOf/%d", ptr, i), st)
				if err != nil {
					return nil, ptr, st, err
				}
				st.refs = max(st.refs, st2.refs)
				if base, err = mergeSchemas(base, f, ptr); err != nil {
					return nil, ptr, st, err
				}
			}
			s = base
			continue
		}
		for _, kw := range []string{"anyOf", "oneOf"} {
			v, ok := o.get(kw)
			if !ok {
				continue
			}
			list, _ := v.([]any)
			if len(list) == 0 {
				return nil, ptr, st, unsat(ptr, "%s has no subschemas", kw)
			}
			i := g.pickBranch(list, st)
			m, err := mergeSchemas(o.without(kw), list[i], ptr)
			if err != nil {
				return nil, ptr, st, err
			}
			s, ptr = m, fmt.Sprintf("%s/%s/%d", ptr, kw, i)
			o = nil
			break
		}
		if o == nil {
			continue
		}
		return o, ptr, st, nil
	}
	return nil, ptr, st, schemaErr(ptr, "schema does not flatten (allOf/anyOf nesting too deep)")
}

// pickBranch chooses an anyOf/oneOf branch: at random, or, deep in a recursion, the first branch
// that neither refers elsewhere nor nests further (a null, a leaf).
func (g *generator) pickBranch(list []any, st genState) int {
	if st.minimal() {
		for i, b := range list {
			if o, ok := b.(*jobj); ok && !o.has("$ref") && !mentionsRef(o) {
				return i
			}
		}
	}
	return g.rng.IntN(len(list))
}

// mentionsRef reports whether a $ref occurs anywhere inside o.
func mentionsRef(v any) bool {
	switch x := v.(type) {
	case *jobj:
		for _, k := range x.keys {
			if k == "$ref" || mentionsRef(x.m[k]) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if mentionsRef(e) {
				return true
			}
		}
	}
	return false
}

// resolveRef follows a local reference ("#", "#/$defs/Node", any "#/..." JSON pointer).
func (g *generator) resolveRef(ref, ptr string) (any, string, error) {
	if ref != "#" && !strings.HasPrefix(ref, "#/") {
		return nil, ptr, schemaErr(ptr, "$ref %q: only local references (#/...) are supported", ref)
	}
	cur := g.root
	if ref == "#" {
		return cur, "#", nil
	}
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case *jobj:
			v, ok := x.get(tok)
			if !ok {
				return nil, ptr, schemaErr(ptr, "$ref %q does not resolve: no %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, ptr, schemaErr(ptr, "$ref %q does not resolve: bad index %q", ref, tok)
			}
			cur = x[i]
		default:
			return nil, ptr, schemaErr(ptr, "$ref %q does not resolve", ref)
		}
	}
	return cur, ref, nil
}

// mergeSchemas combines a and b (flat or not) into one subschema that requires both, as allOf does:
// types intersect, bounds tighten, properties and required combine.
func mergeSchemas(a any, b any, ptr string) (*jobj, error) {
	ao, err := asSchemaObj(a, ptr)
	if err != nil {
		return nil, err
	}
	bo, err := asSchemaObj(b, ptr)
	if err != nil {
		return nil, err
	}
	out := ao.clone()
	for _, k := range bo.keys {
		bv := bo.m[k]
		av, ok := out.get(k)
		if !ok {
			out.set(k, bv)
			continue
		}
		switch k {
		case "type":
			ta, tb := typeSet(av), typeSet(bv)
			var both []any
			for _, t := range ta {
				switch {
				case contains(tb, t):
					both = append(both, t)
				case t == "number" && contains(tb, "integer"):
					both = append(both, "integer")
				case t == "integer" && contains(tb, "number"):
					both = append(both, "integer")
				}
			}
			if len(both) == 0 {
				return nil, unsat(ptr, "allOf: types %v and %v have nothing in common", ta, tb)
			}
			out.set(k, both)
		case "properties", "patternProperties", "dependentRequired":
			pa, _ := av.(*jobj)
			pb, _ := bv.(*jobj)
			m := pa.clone()
			for _, name := range pb.keys {
				if x, ok := m.get(name); ok {
					if k == "dependentRequired" {
						m.set(name, unionStrings(x, pb.m[name]))
					} else {
						m.set(name, allOf(x, pb.m[name]))
					}
				} else {
					m.set(name, pb.m[name])
				}
			}
			out.set(k, m)
		case "required":
			out.set(k, unionStrings(av, bv))
		case "minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains":
			if numOf(bv) > numOf(av) {
				out.set(k, bv)
			}
		case "maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains":
			if numOf(bv) < numOf(av) {
				out.set(k, bv)
			}
		case "enum":
			la, _ := av.([]any)
			lb, _ := bv.([]any)
			var both []any
			for _, x := range la {
				for _, y := range lb {
					if canonical(x) == canonical(y) {
						both = append(both, x)
						break
					}
				}
			}
			if len(both) == 0 {
				return nil, unsat(ptr, "allOf: enums have no value in common")
			}
			out.set(k, both)
		case "const":
			if canonical(av) != canonical(bv) {
				return nil, unsat(ptr, "allOf: const %s and const %s differ", jsonText(av), jsonText(bv))
			}
		case "multipleOf":
			x, y := numOf(av), numOf(bv)
			switch {
			case x == y:
			case isWhole(y / x):
				out.set(k, bv)
			case isWhole(x / y):
			case isWhole(x) && isWhole(y):
				out.set(k, json.Number(strconv.FormatFloat(x*y/gcd(x, y), 'f', -1, 64)))
			}
		case "additionalProperties", "items", "additionalItems", "propertyNames", "contains":
			if av == false || bv == false {
				out.set(k, false)
			} else {
				out.set(k, allOf(av, bv))
			}
		case "uniqueItems":
			out.set(k, av == true || bv == true)
		case "pattern":
			if av != bv {
				extra, _ := out.get(extraPatternsKey)
				list, _ := extra.([]any)
				out.set(extraPatternsKey, append(list, bv))
			}
		case "allOf":
			la, _ := av.([]any)
			lb, _ := bv.([]any)
			out.set(k, append(append([]any(nil), la...), lb...))
		case "anyOf", "oneOf":
			all, _ := out.get("allOf")
			list, _ := all.([]any)
			sub := newJobj()
			sub.set(k, bv)
			out.set("allOf", append(append([]any(nil), list...), sub))
		case extraPatternsKey:
			la, _ := av.([]any)
			lb, _ := bv.([]any)
			out.set(k, append(append([]any(nil), la...), lb...))
		}
		// Other keywords (format, default, not, annotations): a's value is kept.
	}
	return out, nil
}

// extraPatternsKey holds, in a merged subschema, patterns beyond "pattern" that a string must match.
const extraPatternsKey = "\x00patterns"

func asSchemaObj(v any, ptr string) (*jobj, error) {
	switch x := v.(type) {
	case *jobj:
		return x, nil
	case bool:
		if x {
			return newJobj(), nil
		}
		return nil, unsat(ptr, "the schema is false")
	}
	return nil, schemaErr(ptr, "a schema is an object or a boolean, not a JSON %s", jsonKind(v))
}

func allOf(a, b any) any {
	o := newJobj()
	o.set("allOf", []any{a, b})
	return o
}

func unionStrings(a, b any) []any {
	var out []any
	seen := map[string]bool{}
	for _, l := range []any{a, b} {
		list, _ := l.([]any)
		for _, x := range list {
			if s, ok := x.(string); ok && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func typeSet(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// numOf returns a JSON number's value; NaN for anything else.
func numOf(v any) float64 {
	if n, ok := v.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			return f
		}
	}
	return math.NaN()
}

func numKw(o *jobj, k string) (float64, bool) {
	v, ok := o.get(k)
	if !ok {
		return 0, false
	}
	f := numOf(v)
	return f, !math.IsNaN(f)
}

func intKw(o *jobj, k string) (int, bool) {
	f, ok := numKw(o, k)
	if !ok || f < 0 {
		return 0, false
	}
	return int(min(f, 1<<30)), true
}

func isWhole(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }

func gcd(a, b float64) float64 {
	for b != 0 {
		a, b = b, math.Mod(a, b)
	}
	return a
}

// types returns the JSON types the subschema allows, inferring them from its keywords when "type"
// is absent.
func (g *generator) types(o *jobj, ptr string, st genState) ([]string, error) {
	var types []string
	if t, ok := o.get("type"); ok {
		types = typeSet(t)
		if len(types) == 0 {
			return nil, unsat(ptr, "type allows nothing")
		}
	} else {
		hint := func(kws ...string) bool {
			for _, k := range kws {
				if o.has(k) {
					return true
				}
			}
			return false
		}
		switch {
		case hint("properties", "required", "additionalProperties", "patternProperties", "minProperties", "maxProperties", "propertyNames", "dependentRequired"):
			types = []string{"object"}
		case hint("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"):
			types = []string{"array"}
		case hint("minLength", "maxLength", "pattern", "format", extraPatternsKey):
			types = []string{"string"}
		case hint("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
			types = []string{"number"}
		case st.top:
			types = []string{"object"}
		default:
			types = []string{"string", "integer", "boolean"}
		}
	}
	if o.m["nullable"] == true && !contains(types, "null") {
		types = append(types, "null")
	}
	return types, nil
}

// pickType chooses among types: null less often than the others, and always when deep in a
// recursion.
func (g *generator) pickType(types []string, st genState) string {
	if len(types) == 1 {
		return types[0]
	}
	var other []string
	for _, t := range types {
		if t != "null" {
			other = append(other, t)
		}
	}
	if len(other) < len(types) && (len(other) == 0 || st.minimal() || g.rng.IntN(4) == 0) {
		return "null"
	}
	return other[g.rng.IntN(len(other))]
}

// fitsTypes reports whether v is of one of types (for using a default).
func fitsTypes(v any, types []string) bool {
	kind := ""
	switch x := v.(type) {
	case nil:
		kind = "null"
	case bool:
		kind = "boolean"
	case string:
		kind = "string"
	case []any:
		kind = "array"
	case *jobj:
		kind = "object"
	case json.Number:
		if f, err := x.Float64(); err == nil && isWhole(f) && contains(types, "integer") {
			return true
		}
		kind = "number"
	}
	return contains(types, kind)
}

// number generates an integer or a number within the subschema's bounds and multipleOf.
func (g *generator) number(o *jobj, ptr string, integer bool) (any, error) {
	lo, hasLo := numKw(o, "minimum")
	hi, hasHi := numKw(o, "maximum")
	loEx, hiEx := false, false
	if v, ok := o.get("exclusiveMinimum"); ok {
		if v == true { // draft-04
			loEx = hasLo
		} else if x := numOf(v); !math.IsNaN(x) && (!hasLo || x >= lo) {
			lo, hasLo, loEx = x, true, true
		}
	}
	if v, ok := o.get("exclusiveMaximum"); ok {
		if v == true {
			hiEx = hasHi
		} else if x := numOf(v); !math.IsNaN(x) && (!hasHi || x <= hi) {
			hi, hasHi, hiEx = x, true, true
		}
	}
	if hasLo && hasHi && (lo > hi || lo == hi && (loEx || hiEx)) {
		return nil, unsat(ptr, "%s %v is not below %s %v", exName("minimum", loEx), lo, exName("maximum", hiEx), hi)
	}
	step, hasStep := numKw(o, "multipleOf")
	if hasStep && step <= 0 {
		return nil, schemaErr(ptr, "multipleOf %v is not positive", step)
	}
	if integer {
		if hasStep {
			step = integerStep(o, step)
		} else {
			step, hasStep = 1, true
		}
	}
	if !hasStep {
		return g.float(ptr, lo, hi, hasLo, hasHi, loEx, hiEx)
	}
	// Multiples of step: k*step for k in [klo, khi].
	klo, khi := math.Inf(-1), math.Inf(1)
	if hasLo {
		klo = math.Ceil(lo / step)
		if loEx && klo*step <= lo {
			klo++
		}
	}
	if hasHi {
		khi = math.Floor(hi / step)
		if hiEx && khi*step >= hi {
			khi--
		}
	}
	span := float64(genDefaultSpan)
	if step > 1 {
		span = 10
	}
	switch {
	case !hasLo && !hasHi:
		klo, khi = 0, span
	case !hasLo:
		klo = khi - span
		if khi >= 0 {
			klo = max(klo, 0)
		}
	case !hasHi:
		khi = klo + span
	}
	if klo > khi {
		what := "integer"
		if !integer || step != 1 {
			what = "multiple of " + strconv.FormatFloat(step, 'f', -1, 64)
		}
		return nil, unsat(ptr, "no %s lies between %s %v and %s %v", what, exName("minimum", loEx), lo, exName("maximum", hiEx), hi)
	}
	// Multiples of a number with d decimals have at most d decimals: round away float noise.
	decimals := 0
	if n, ok := o.m["multipleOf"].(json.Number); ok && !integer {
		if _, frac, ok := strings.Cut(string(n), "."); ok && !strings.ContainsAny(frac, "eE") {
			decimals = len(frac)
		}
	}
	mult, _ := numKw(o, "multipleOf")
	for try := range 64 {
		var k float64
		if try < 24 {
			k = klo + math.Floor(g.rng.Float64()*(khi-klo+1))
		} else {
			k = klo + float64(try-24)
		}
		k = min(max(k, klo), khi)
		v := k * step
		if decimals > 0 {
			p := math.Pow(10, float64(min(decimals, 15)))
			v = math.Round(v*p) / p
		}
		if !inBounds(v, lo, hi, hasLo, hasHi, loEx, hiEx) {
			continue
		}
		if mult > 0 {
			if _, f := math.Modf(v / mult); f != 0 {
				continue
			}
		}
		return formatNumber(v), nil
	}
	return nil, schemaErr(ptr, "found no multiple of %v that checks exactly in floating point between %v and %v", mult, lo, hi)
}

// integerStep returns the smallest positive integer that is a multiple of step (so that k*step is
// an integer for every k): step itself when it is whole, else step*q for step = p/q in lowest terms.
func integerStep(o *jobj, step float64) float64 {
	if isWhole(step) {
		return step
	}
	n, _ := o.m["multipleOf"].(json.Number)
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return math.Ceil(step)
	}
	q, _ := new(big.Rat).SetInt(r.Denom()).Float64()
	return step * q
}

func exName(name string, ex bool) string {
	if ex {
		return "exclusive" + strings.ToUpper(name[:1]) + name[1:]
	}
	return name
}

func inBounds(v, lo, hi float64, hasLo, hasHi, loEx, hiEx bool) bool {
	if hasLo && (v < lo || loEx && v == lo) {
		return false
	}
	if hasHi && (v > hi || hiEx && v == hi) {
		return false
	}
	return true
}

// float generates a number with at most two decimals when the bounds leave room for one.
func (g *generator) float(ptr string, lo, hi float64, hasLo, hasHi, loEx, hiEx bool) (any, error) {
	switch {
	case !hasLo && !hasHi:
		lo, hi = 0, genDefaultSpan
	case !hasLo:
		lo = hi - genDefaultSpan
		if hi >= 0 {
			lo = max(lo, 0)
			if lo == hi {
				lo = hi - genDefaultSpan
			}
		}
	case !hasHi:
		hi = lo + genDefaultSpan
	}
	for range 8 {
		x := lo + g.rng.Float64()*(hi-lo)
		for _, v := range []float64{math.Round(x*100) / 100, x} {
			if inBounds(v, lo, hi, hasLo, hasHi, loEx, hiEx) {
				return formatNumber(v), nil
			}
		}
	}
	mid := lo + (hi-lo)/2
	if inBounds(mid, lo, hi, hasLo, hasHi, loEx, hiEx) {
		return formatNumber(mid), nil
	}
	return nil, unsat(ptr, "no number lies between %v and %v", lo, hi)
}

func formatNumber(v float64) json.Number {
	if v == 0 {
		return "0"
	}
	if math.Abs(v) >= 1e21 || math.Abs(v) < 1e-6 {
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return json.Number(strconv.FormatFloat(v, 'f', -1, 64))
}

// str generates a string: from its patterns, else its format, else plain letters, within
// minLength and maxLength (counted in code points).
func (g *generator) str(o *jobj, ptr string) (any, error) {
	minL, _ := intKw(o, "minLength")
	maxL, hasMax := intKw(o, "maxLength")
	if !hasMax {
		maxL = -1
	}
	if hasMax && minL > maxL {
		return nil, unsat(ptr, "minLength %d is greater than maxLength %d", minL, maxL)
	}
	fits := func(s string) bool {
		n := utf8.RuneCountInString(s)
		return n >= minL && (maxL < 0 || n <= maxL)
	}
	var patterns []string
	if p, ok := o.get("pattern"); ok {
		s, _ := p.(string)
		patterns = append(patterns, s)
	}
	if extra, ok := o.get(extraPatternsKey); ok {
		for _, p := range extra.([]any) {
			s, _ := p.(string)
			patterns = append(patterns, s)
		}
	}
	if len(patterns) > 0 {
		return g.fromPatterns(patterns, ptr, minL, maxL, fits)
	}
	if f, ok := o.m["format"].(string); ok {
		if s, ok := g.format(f); ok {
			if fits(s) {
				return s, nil
			}
			return nil, schemaErr(ptr, "a %s string such as %q does not fit minLength %d and maxLength %d", f, s, minL, maxL)
		}
	}
	hi := maxL
	if hi < 0 {
		hi = max(minL, 1) + genPlainMaxChars
	}
	lo := minL
	if lo == 0 && hi > 0 {
		lo = 1
	}
	n := lo + g.rng.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return string(b), nil
}

func (g *generator) fromPatterns(patterns []string, ptr string, minL, maxL int, fits func(string) bool) (any, error) {
	res := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, schemaErr(ptr, "pattern %q does not compile: %v", p, err)
		}
		res[i] = re
	}
	tree, err := syntax.Parse(patterns[0], syntax.Perl)
	if err != nil {
		return nil, schemaErr(ptr, "pattern %q does not parse: %v", patterns[0], err)
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
		ok := true
		for _, re := range res {
			if !re.MatchString(s) {
				ok = false
				break
			}
		}
		if ok {
			return s, nil
		}
	}
	return nil, schemaErr(ptr, "found no string matching %q with length between %d and %d", strings.Join(patterns, `" and "`), minL, maxL)
}

// anchors reports whether a parsed pattern starts with ^ (or \A) and ends with $ (or \z).
func anchors(re *syntax.Regexp) (start, end bool) {
	first, last := re, re
	for first.Op == syntax.OpConcat && len(first.Sub) > 0 {
		first = first.Sub[0]
	}
	for last.Op == syntax.OpConcat && len(last.Sub) > 0 {
		last = last.Sub[len(last.Sub)-1]
	}
	start = first.Op == syntax.OpBeginText || first.Op == syntax.OpBeginLine
	end = last.Op == syntax.OpEndText || last.Op == syntax.OpEndLine
	return start, end
}

// regex writes a string that re matches, with at most extra repetitions beyond each minimum.
func (g *generator) regex(b *strings.Builder, re *syntax.Regexp, extra int) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(g.classRune(re.Rune))
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteByte(byte('a' + g.rng.IntN(26)))
	case syntax.OpCapture:
		g.regex(b, re.Sub[0], extra)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.regex(b, s, extra)
		}
	case syntax.OpAlternate:
		g.regex(b, re.Sub[g.rng.IntN(len(re.Sub))], extra)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, extra
		switch re.Op {
		case syntax.OpPlus:
			lo, hi = 1, 1+extra
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo = re.Min
			hi = re.Max
			if hi < 0 {
				hi = lo + extra
			}
		}
		n := lo + g.rng.IntN(hi-lo+1)
		for range n {
			g.regex(b, re.Sub[0], extra)
		}
	}
	// Empty matches, anchors and word boundaries add nothing.
}

// Preferred rune sets for character classes: letters and digits, then printable ASCII.
var (
	alnumRanges     = []rune{'0', '9', 'A', 'Z', 'a', 'z'}
	printableRanges = []rune{' ', '~'}
)

// classRune picks a rune of the class given as sorted [lo, hi] pairs, preferring letters and
// digits, then printable ASCII.
func (g *generator) classRune(class []rune) rune {
	for _, pref := range [][]rune{alnumRanges, printableRanges, {0, utf8.MaxRune}} {
		var inter []rune
		total := 0
		for i := 0; i+1 < len(class); i += 2 {
			for j := 0; j+1 < len(pref); j += 2 {
				lo, hi := max(class[i], pref[j]), min(class[i+1], pref[j+1])
				if lo <= hi {
					inter = append(inter, lo, hi)
					total += int(hi - lo + 1)
				}
			}
		}
		if total == 0 {
			continue
		}
		n := g.rng.IntN(total)
		for i := 0; i < len(inter); i += 2 {
			size := int(inter[i+1] - inter[i] + 1)
			if n < size {
				return inter[i] + rune(n)
			}
			n -= size
		}
	}
	return 'a'
}

var words = []string{"alpha", "bravo", "delta", "echo", "kilo", "lima", "oscar", "tango"}

// format returns a string in the named format, or false for a format it does not know.
func (g *generator) format(f string) (string, bool) {
	r := g.rng
	word := func() string { return words[r.IntN(len(words))] }
	date := func() string { return fmt.Sprintf("%04d-%02d-%02d", 2000+r.IntN(31), 1+r.IntN(12), 1+r.IntN(28)) }
	clock := func() string { return fmt.Sprintf("%02d:%02d:%02dZ", r.IntN(24), r.IntN(60), r.IntN(60)) }
	switch f {
	case "date-time":
		return date() + "T" + clock(), true
	case "date":
		return date(), true
	case "time":
		return clock(), true
	case "email", "idn-email":
		return fmt.Sprintf("%s%d@example.com", word(), r.IntN(100)), true
	case "uri", "url", "iri":
		return fmt.Sprintf("https://example.com/%s/%d", word(), r.IntN(1000)), true
	case "uri-reference", "iri-reference":
		return fmt.Sprintf("/%s/%d", word(), r.IntN(1000)), true
	case "uri-template":
		return "https://example.com/" + word() + "/{id}", true
	case "uuid":
		var u [16]byte
		for i := range u {
			u[i] = byte(r.IntN(256))
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), true
	case "ipv4":
		return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254)), true
	case "ipv6":
		return fmt.Sprintf("2001:db8:%x:%x:%x:%x:%x:%x", r.IntN(65536), r.IntN(65536), r.IntN(65536), r.IntN(65536), r.IntN(65536), 1+r.IntN(65535)), true
	case "hostname", "idn-hostname":
		return fmt.Sprintf("%s%d.example.com", word(), r.IntN(100)), true
	case "duration":
		return fmt.Sprintf("P%dDT%dH%dM", r.IntN(30), r.IntN(24), r.IntN(60)), true
	case "regex":
		return "^[a-z]+$", true
	case "json-pointer":
		return "/" + word() + "/" + strconv.Itoa(r.IntN(10)), true
	case "relative-json-pointer":
		return strconv.Itoa(r.IntN(3)) + "/" + word(), true
	case "byte":
		return "aGVsbG8=", true
	}
	return "", false
}

// array generates an array: prefixItems first, then items, within minItems and maxItems.
func (g *generator) array(o *jobj, ptr string, st genState) (any, error) {
	var prefix []any
	prefixKw := "prefixItems"
	if p, ok := o.get("prefixItems"); ok {
		prefix, _ = p.([]any)
	}
	items, hasItems := o.get("items")
	itemsKw := "items"
	if list, ok := items.([]any); ok { // draft-07 tuple form
		prefix, prefixKw = list, "items"
		items, hasItems = o.get("additionalItems")
		itemsKw = "additionalItems"
	}
	minI, _ := intKw(o, "minItems")
	maxI, hasMax := intKw(o, "maxItems")
	if hasMax && minI > maxI {
		return nil, unsat(ptr, "minItems %d is greater than maxItems %d", minI, maxI)
	}
	if hasItems && items == false {
		if minI > len(prefix) {
			return nil, unsat(ptr, "minItems %d but only %d items are allowed", minI, len(prefix))
		}
		if !hasMax || maxI > len(prefix) {
			maxI, hasMax = len(prefix), true
		}
	}
	if !hasMax {
		maxI = max(minI, len(prefix)) + 3
	}
	n := minI
	if !st.minimal() {
		lo := minI
		if lo == 0 && maxI > 0 {
			lo = 1
		}
		n = lo + g.rng.IntN(maxI-lo+1)
	}
	cont, hasContains := o.get("contains")
	out := make([]any, 0, n)
	seen := map[string]bool{}
	unique := o.m["uniqueItems"] == true
	for i := range n {
		var s any = true
		at := fmt.Sprintf("%s/%s", ptr, itemsKw)
		switch {
		case i < len(prefix):
			s, at = prefix[i], fmt.Sprintf("%s/%s/%d", ptr, prefixKw, i)
		case hasItems:
			s = items
		}
		if hasContains && i == len(prefix) {
			s, at = allOf(s, cont), ptr+"/contains"
		}
		var v any
		var err error
		for try := 0; ; try++ {
			v, err = g.value(s, at, st.child())
			if err != nil {
				return nil, err
			}
			if !unique || !seen[canonical(v)] {
				break
			}
			if try == genUniqueTries {
				return nil, schemaErr(at, "found no item unlike the %d before it (uniqueItems, minItems %d)", i, minI)
			}
		}
		seen[canonical(v)] = true
		out = append(out, v)
	}
	return out, nil
}

// object generates an object: required properties always, optional ones by chance (never deep in
// a recursion), within minProperties and maxProperties, in the schema's property order.
func (g *generator) object(o *jobj, ptr string, st genState) (any, error) {
	props, _ := o.m["properties"].(*jobj)
	if props == nil {
		props = newJobj()
	}
	patternProps, _ := o.m["patternProperties"].(*jobj)
	addl, hasAddl := o.get("additionalProperties")
	closed := hasAddl && addl == false
	minP, _ := intKw(o, "minProperties")
	maxP, hasMax := intKw(o, "maxProperties")
	if !hasMax {
		maxP = math.MaxInt
	}
	if minP > maxP {
		return nil, unsat(ptr, "minProperties %d is greater than maxProperties %d", minP, maxP)
	}
	var required []string
	if r, ok := o.get("required"); ok {
		for _, x := range unionStrings(r, nil) {
			required = append(required, x.(string))
		}
	}
	if len(required) > maxP {
		return nil, unsat(ptr, "%d required properties but maxProperties %d", len(required), maxP)
	}
	include := map[string]bool{}
	for _, k := range required {
		include[k] = true
	}
	// schemaFor returns the subschema of property k and its pointer, or false when k is forbidden.
	schemaFor := func(k string) (any, string, bool) {
		if s, ok := props.get(k); ok {
			return s, ptr + "/properties/" + escapePointer(k), true
		}
		if patternProps != nil {
			for _, p := range patternProps.keys {
				if re, err := regexp.Compile(p); err == nil && re.MatchString(k) {
					return patternProps.m[p], ptr + "/patternProperties/" + escapePointer(p), true
				}
			}
		}
		if closed {
			return false, ptr, false
		}
		if hasAddl {
			return addl, ptr + "/additionalProperties", true
		}
		return true, ptr, true
	}
	count := len(include)
	var optional []string
	for _, k := range props.keys {
		if !include[k] && props.m[k] != false {
			optional = append(optional, k)
		}
	}
	if !st.minimal() {
		for _, k := range optional {
			if count < maxP && g.rng.IntN(2) == 0 {
				include[k] = true
				count++
			}
		}
	}
	for _, k := range optional {
		if count >= minP {
			break
		}
		if !include[k] {
			include[k] = true
			count++
		}
	}
	// dependentRequired: a present property brings others along.
	if dr, ok := o.m["dependentRequired"].(*jobj); ok {
		for changed := true; changed; {
			changed = false
			for _, k := range dr.keys {
				if !include[k] {
					continue
				}
				for _, d := range unionStrings(dr.m[k], nil) {
					if !include[d.(string)] {
						include[d.(string)] = true
						required = append(required, d.(string))
						count++
						changed = true
					}
				}
			}
		}
	}
	out := newJobj()
	add := func(k string, optional bool) error {
		s, at, ok := schemaFor(k)
		if !ok {
			return unsat(ptr, "property %q is required but additionalProperties is false and no properties or patternProperties entry allows it", k)
		}
		v, err := g.value(s, at, st.child())
		switch {
		case err == nil:
			out.set(k, v)
		case optional && errors.Is(err, ErrUnsatisfiable):
			// An optional property that cannot exist is left out.
		default:
			return err
		}
		return nil
	}
	isRequired := map[string]bool{}
	for _, k := range required {
		isRequired[k] = true
	}
	for _, k := range props.keys {
		if include[k] {
			if err := add(k, !isRequired[k]); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range required {
		if !out.has(k) {
			if err := add(k, false); err != nil {
				return nil, err
			}
		}
	}
	for i := 1; len(out.keys) < minP; i++ {
		if closed && patternProps == nil {
			return nil, unsat(ptr, "minProperties %d but only %d properties are allowed", minP, len(out.keys))
		}
		if i > minP+len(props.keys)+8 {
			return nil, schemaErr(ptr, "found no extra property names for minProperties %d", minP)
		}
		k := fmt.Sprintf("extra_%d", i)
		if patternProps != nil && closed {
			k = g.propertyName(patternProps, i)
		}
		if out.has(k) || props.has(k) {
			continue
		}
		if err := add(k, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// propertyName makes a name matching one of the patternProperties patterns.
func (g *generator) propertyName(patternProps *jobj, i int) string {
	p := patternProps.keys[i%len(patternProps.keys)]
	tree, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return fmt.Sprintf("extra_%d", i)
	}
	var b strings.Builder
	g.regex(&b, tree, genMaxRepeat)
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
