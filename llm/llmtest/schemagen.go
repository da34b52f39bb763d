package llmtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"regexp/syntax"
	"slices"
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

	final bool // no other attempt or alternative can do better (a limit, an invalid schema)
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
	genExtraItems    = 8       // items beyond the minimum an array gets at most
	genMaxSteps      = 20000   // subschemas visited per attempt, alternatives tried included
	genMaxLength     = 1 << 20 // longest string, in code points: a larger minLength is an error
	genMaxCount      = 1 << 14 // most array items or object properties: a larger minimum is an error
)

// GenerateArguments returns a JSON value valid against schema (a JSON Schema, draft 2020-12 or
// draft-07 keywords), chosen pseudo-randomly but deterministically: the same schema and seed
// always give the same bytes. A nil or empty schema gives {} (a tool without arguments), as does a
// schema without type or other hints at its root (tool arguments are an object).
//
// It handles type (also lists, and "nullable": true), const and enum (only values that satisfy
// the subschema's other type, number, string and count keywords), default (when it satisfies
// them too), properties (generated in schema order), required (always present), optional
// properties (present or not, by the seed), additionalProperties, patternProperties,
// propertyNames (for property names it makes up), minProperties/maxProperties,
// dependentRequired, dependentSchemas and draft-07 dependencies (a present property brings its
// dependents), minimum/maximum/exclusiveMinimum/exclusiveMaximum/multipleOf for integers and
// numbers (integers and multiples computed exactly and written as exact JSON numbers, within the
// int64 range when the bounds allow, else next to a bound), minLength/maxLength, pattern (a string
// built from the regular expression's parse tree, with bounded repetition), format (date-time,
// date, time, email, uri/url, uuid, ipv4, ipv6, hostname, duration and a few more; built to fit
// minLength and maxLength, and together with a pattern a string that has both),
// items/prefixItems/minItems/maxItems/uniqueItems (distinct items; an item schema with few values
// caps the array at their number) and contains/minContains/maxContains, "not" that names types,
// $ref and $dynamicRef to any local JSON pointer ("#/$defs/X", "#/definitions/X", "#",
// percent-encoded and ~0/~1-escaped as RFC 6901 says), to a $anchor ("#name"), or through the
// root's $id, allOf (merged), anyOf and oneOf. For anyOf and oneOf the branches are tried in an
// order drawn from the seed until one gives a value: a branch that conflicts with its siblings,
// or is empty, only rules itself out, and the schema is reported unsatisfiable only when every
// branch is; several types are tried the same way. A recursive $ref is followed a couple of
// levels, then optional properties are left out, arrays get their minimum length and anyOf/oneOf
// prefer branches without a $ref, so the value stays small.
//
// Limits: strings are at most 1<<20 (1048576) code points and arrays and objects hold at most
// 1<<14 (16384) items or properties; a minLength, minItems, minProperties or minContains beyond
// them is an error ("minLength 200000000 exceeds the generator's limit of 1048576"), while larger
// maxima are fine (values stay short). A schema whose alternatives keep failing is given up after
// 20000 subschemas visited.
//
// When the schema is one that github.com/google/jsonschema-go resolves, every candidate is
// validated with it (except fractional multipleOf, which jsonschema-go checks in floating point
// and the generator meets exactly: a value such as 0.3 for multipleOf 0.1 is then preferred only
// when no other fits), and up to 16 candidates (from streams derived from seed) are tried, so
// keywords the generator does not steer by (other "not"s, if/then/else, oneOf exclusivity) are
// still honoured. The error is a *SchemaError naming the JSON pointer at fault; it wraps
// ErrUnsatisfiable only when every candidate found no value can exist (one that failed otherwise
// is reported instead). A schema that is not JSON is a plain error.
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
	if check, err := encodeJSON(withoutFractionalMultipleOf(root)); err == nil && json.Unmarshal(check, &js) == nil {
		resolved, _ = js.Resolve(nil) // a schema it cannot resolve is generated for without checking
	}
	var firstUnsat, firstOther error
	for attempt := range genAttempts {
		s1 := splitmix64(uint64(seed) ^ splitmix64(uint64(attempt)))
		g := &generator{root: root, rng: rand.New(rand.NewPCG(s1, splitmix64(s1)))}
		if ro, ok := root.(*jobj); ok {
			g.rootID, _ = ro.m["$id"].(string)
		}
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
		if isFinal(err) {
			return nil, err
		}
		// An attempt that found no value proves nothing about the others: random choices (optional
		// properties, array lengths) differ between attempts.
		if errors.Is(err, ErrUnsatisfiable) {
			if firstUnsat == nil {
				firstUnsat = err
			}
		} else if firstOther == nil {
			firstOther = err
		}
	}
	if firstOther != nil {
		// Some attempt got further than "unsatisfiable": the schema is not proven empty.
		return nil, firstOther
	}
	return nil, firstUnsat
}

// withoutFractionalMultipleOf returns a copy of the schema tree without the multipleOf keywords
// whose value is not an integer, for checking candidates with jsonschema-go: it checks multipleOf
// in floating point (0.3 is not a multiple of 0.1 there), while the generator meets it exactly.
func withoutFractionalMultipleOf(v any) any {
	switch x := v.(type) {
	case *jobj:
		out := newJobj()
		for _, k := range x.keys {
			e := x.m[k]
			switch k {
			case "enum", "const", "default", "examples":
				out.set(k, e) // data, not schemas
				continue
			case "multipleOf":
				if n, ok := e.(json.Number); ok {
					if r, ok := parseRat(string(n)); ok && !r.IsInt() {
						continue
					}
				}
			}
			out.set(k, withoutFractionalMultipleOf(e))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutFractionalMultipleOf(e)
		}
		return out
	}
	return v
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
	root   any
	rootID string // the root's $id: "$ref": "<rootID>#..." is local
	rng    *rand.Rand
	steps  int // value calls so far (bounded by genMaxSteps)
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

// finalErr is a schemaErr that no other attempt or alternative can avoid: an invalid schema, a
// limit of the generator.
func finalErr(ptr, format string, args ...any) error {
	return &SchemaError{Pointer: ptr, Reason: fmt.Sprintf(format, args...), final: true}
}

func isFinal(err error) bool {
	var se *SchemaError
	return errors.As(err, &se) && se.final
}

// failures keeps the first unsatisfiable and the first other error among alternatives tried.
type failures struct{ unsat, other error }

func (f *failures) add(err error) {
	if errors.Is(err, ErrUnsatisfiable) {
		if f.unsat == nil {
			f.unsat = err
		}
	} else if f.other == nil {
		f.other = err
	}
}

// err returns the error to report when every alternative failed: one that is not
// "unsatisfiable" if any (an alternative might have been satisfiable), else the first.
func (f *failures) err() error {
	if f.other != nil {
		return f.other
	}
	return f.unsat
}

// value generates a value for the subschema s found at ptr. Where the subschema leaves a choice
// that can fail (an anyOf or oneOf branch, one of several types), the alternatives are tried in
// an order drawn from the random stream until one gives a value.
func (g *generator) value(s any, ptr string, st genState) (any, error) {
	g.steps++
	if g.steps > genMaxSteps {
		return nil, finalErr(ptr, "generating needs more than %d steps (alternatives that keep failing?)", genMaxSteps)
	}
	o, ptr, st, err := g.flatten(s, ptr, st)
	if err != nil {
		return nil, err
	}
	if kw, list, base, ok := branchesOf(o); ok {
		return g.branch(base, kw, list, ptr, st)
	}
	if c, ok := o.get("const"); ok {
		if !g.accepts(o.without("const"), c) {
			return nil, unsat(ptr, "const %s does not satisfy the other keywords", shorten(jsonText(c), 60))
		}
		return c, nil
	}
	if e, ok := o.get("enum"); ok {
		list, _ := e.([]any)
		if len(list) == 0 {
			return nil, unsat(ptr, "enum has no values")
		}
		fit := g.enumValues(o)
		if len(fit) == 0 {
			return nil, unsat(ptr, "none of the %d enum values satisfies the other keywords", len(list))
		}
		return fit[g.rng.IntN(len(fit))], nil
	}
	types, err := g.types(o, ptr, st)
	if err != nil {
		return nil, err
	}
	if d, ok := o.get("default"); ok && g.rng.IntN(4) == 0 && fitsTypes(d, types) && g.accepts(o, d) {
		return d, nil
	}
	first := g.pickType(types, st)
	order := []string{first}
	for _, t := range types {
		if t != first {
			order = append(order, t)
		}
	}
	var fails failures
	for _, t := range order {
		v, err := g.typed(t, o, ptr, st)
		if err == nil {
			return v, nil
		}
		if isFinal(err) {
			return nil, err
		}
		fails.add(err)
	}
	return nil, fails.err()
}

// enumValues returns the distinct values of o's enum that satisfy o's other keywords.
func (g *generator) enumValues(o *jobj) []any {
	list, _ := o.m["enum"].([]any)
	rest := o.without("enum")
	var fit []any
	seen := map[string]bool{}
	for _, v := range list {
		if k := canonical(v); !seen[k] && g.accepts(rest, v) {
			seen[k] = true
			fit = append(fit, v)
		}
	}
	return fit
}

// typed generates a value of JSON type t for the flat subschema o.
func (g *generator) typed(t string, o *jobj, ptr string, st genState) (any, error) {
	switch t {
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
		return nil, finalErr(ptr, "unknown type %q", t)
	}
}

// branchesOf returns the first anyOf or oneOf left in the flat subschema o (those merged in from
// allOf wait under altsKey), its branches, and o without it.
func branchesOf(o *jobj) (kw string, list []any, base *jobj, ok bool) {
	for _, k := range []string{"anyOf", "oneOf"} {
		if v, has := o.get(k); has {
			list, _ = v.([]any)
			return k, list, o.without(k), true
		}
	}
	alts, _ := o.m[altsKey].([]any)
	if len(alts) == 0 {
		return "", nil, nil, false
	}
	first, _ := alts[0].(*jobj)
	base = o.without(altsKey)
	if len(alts) > 1 {
		base.set(altsKey, alts[1:])
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if v, has := first.get(k); has {
			list, _ = v.([]any)
			return k, list, base, true
		}
	}
	return "", nil, base, false
}

// branch generates a value for base combined with one of the branches of its anyOf or oneOf:
// branches are tried in a random order (deep in a recursion, those without a $ref first) until
// one gives a value. A branch that conflicts with base, or is empty, only rules itself out.
func (g *generator) branch(base *jobj, kw string, list []any, ptr string, st genState) (any, error) {
	if len(list) == 0 {
		return nil, unsat(ptr, "%s has no subschemas", kw)
	}
	var fails failures
	for _, i := range g.branchOrder(list, st) {
		at := fmt.Sprintf("%s/%s/%d", ptr, kw, i)
		m, err := mergeSchemas(base, list[i], at)
		if err == nil {
			var v any
			if v, err = g.value(m, at, st); err == nil {
				return v, nil
			}
		}
		if isFinal(err) {
			return nil, err
		}
		fails.add(err)
	}
	if fails.other != nil {
		return nil, fails.other
	}
	return nil, unsat(ptr, "no %s branch can be satisfied (%s)", kw, reasonOf(fails.unsat))
}

// reasonOf returns the text of err without the "llmtest: schema at" prefix when it is a
// *SchemaError.
func reasonOf(err error) string {
	var se *SchemaError
	if errors.As(err, &se) {
		return se.Pointer + ": " + se.Reason
	}
	return err.Error()
}

// flatten resolves $ref (and $dynamicRef, as a plain $ref) and merges allOf until neither is left
// at the top of the subschema; anyOf and oneOf are left for value to choose from. It returns the
// flat subschema, the pointer to report errors at and the state (with $ref expansions counted).
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
			return nil, ptr, st, finalErr(ptr, "a schema is an object or a boolean, not a JSON %s", jsonKind(s))
		}
		refKw := "$ref"
		ref, ok := o.get(refKw)
		if !ok {
			refKw = "$dynamicRef"
			ref, ok = o.get(refKw)
		}
		if ok {
			rs, _ := ref.(string)
			target, tptr, err := g.resolveRef(rs, ptr)
			if err != nil {
				return nil, ptr, st, err
			}
			st.refs++
			if st.refs > genMaxRefs {
				return nil, ptr, st, schemaErr(ptr, "%s %q: recursion does not end within %d levels (a required property or a minimum item count always recurses)", refKw, rs, genMaxRefs)
			}
			rest := o.without(refKw, "$defs", "definitions", "$schema", "$id", "$anchor", "$dynamicAnchor", "title", "description", "$comment")
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
		return o, ptr, st, nil
	}
	return nil, ptr, st, finalErr(ptr, "schema does not flatten (allOf nesting too deep)")
}

// branchOrder returns the order in which to try anyOf/oneOf branches: random, but deep in a
// recursion the branches that neither refer elsewhere nor nest further (a null, a leaf) first.
func (g *generator) branchOrder(list []any, st genState) []int {
	order := g.rng.Perm(len(list))
	if st.minimal() {
		leaf := func(i int) bool {
			o, ok := list[i].(*jobj)
			return ok && !mentionsRef(o)
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch la, lb := leaf(a), leaf(b); {
			case la && !lb:
				return -1
			case lb && !la:
				return 1
			}
			return 0
		})
	}
	return order
}

// mentionsRef reports whether a $ref occurs anywhere inside o.
func mentionsRef(v any) bool {
	switch x := v.(type) {
	case *jobj:
		for _, k := range x.keys {
			if k == "$ref" || k == "$dynamicRef" || mentionsRef(x.m[k]) {
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

// resolveRef follows a reference within the schema: "#", a JSON pointer fragment ("#/$defs/Node",
// percent-encoded as URI fragments are, "~0" and "~1" escaped as JSON pointers are), or a plain
// name fragment ("#foo") naming a $anchor or $dynamicAnchor; the part before "#" must be empty or
// the root's $id.
func (g *generator) resolveRef(ref, ptr string) (any, string, error) {
	base, frag, hasFrag := strings.Cut(ref, "#")
	if base != "" && (g.rootID == "" || strings.TrimSuffix(g.rootID, "#") != base) || !hasFrag && base == "" {
		return nil, ptr, finalErr(ptr, "$ref %q: only local references (#/...) are supported", ref)
	}
	decoded, err := url.PathUnescape(frag)
	if err != nil {
		return nil, ptr, finalErr(ptr, "$ref %q: bad percent-encoding: %v", ref, err)
	}
	cur := g.root
	if decoded == "" {
		return cur, "#", nil
	}
	if !strings.HasPrefix(decoded, "/") {
		if v, at, ok := findAnchor(g.root, decoded, "#"); ok {
			return v, at, nil
		}
		return nil, ptr, finalErr(ptr, "$ref %q does not resolve: no $anchor %q", ref, decoded)
	}
	for _, tok := range strings.Split(decoded[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case *jobj:
			v, ok := x.get(tok)
			if !ok {
				return nil, ptr, finalErr(ptr, "$ref %q does not resolve: no %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, ptr, finalErr(ptr, "$ref %q does not resolve: bad index %q", ref, tok)
			}
			cur = x[i]
		default:
			return nil, ptr, finalErr(ptr, "$ref %q does not resolve", ref)
		}
	}
	return cur, "#" + frag, nil
}

// findAnchor finds the subschema whose $anchor or $dynamicAnchor is name, and its pointer.
func findAnchor(v any, name, at string) (any, string, bool) {
	switch x := v.(type) {
	case *jobj:
		for _, k := range []string{"$anchor", "$dynamicAnchor"} {
			if a, _ := x.m[k].(string); a == name {
				return x, at, true
			}
		}
		for _, k := range x.keys {
			if k == "enum" || k == "const" || k == "default" || k == "examples" {
				continue // data, not schemas
			}
			if r, p, ok := findAnchor(x.m[k], name, at+"/"+escapePointer(k)); ok {
				return r, p, true
			}
		}
	case []any:
		for i, e := range x {
			if r, p, ok := findAnchor(e, name, at+"/"+strconv.Itoa(i)); ok {
				return r, p, true
			}
		}
	}
	return nil, "", false
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
		case "properties", "patternProperties", "dependentRequired", "dependentSchemas", "dependencies":
			pa, _ := av.(*jobj)
			pb, _ := bv.(*jobj)
			m := pa.clone()
			for _, name := range pb.keys {
				if x, ok := m.get(name); ok {
					_, xs := x.([]any)
					_, ys := pb.m[name].([]any)
					switch {
					case k == "dependentRequired" || xs && ys:
						m.set(name, unionStrings(x, pb.m[name]))
					case xs || ys: // draft-07 dependencies mixing a name list and a schema
						m.set(name, allOf(dependencySchema(x), dependencySchema(pb.m[name])))
					default:
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
			// Both sides choose among branches: the second choice waits its turn.
			alts, _ := out.get(altsKey)
			list, _ := alts.([]any)
			sub := newJobj()
			sub.set(k, bv)
			out.set(altsKey, append(append([]any(nil), list...), sub))
		case "not":
			if canonical(av) != canonical(bv) {
				extra, _ := out.get(extraNotsKey)
				list, _ := extra.([]any)
				out.set(extraNotsKey, append(append([]any(nil), list...), bv))
			}
		case extraPatternsKey, extraNotsKey, altsKey:
			la, _ := av.([]any)
			lb, _ := bv.([]any)
			out.set(k, append(append([]any(nil), la...), lb...))
		}
		// Other keywords (format, default, not, annotations): a's value is kept.
	}
	return out, nil
}

// Keys of merged subschemas that hold what one keyword cannot: patterns beyond "pattern" that a
// string must match, schemas beyond "not" that it must not, and anyOf/oneOf choices (objects with
// one anyOf or oneOf key) beyond the one under its own keyword.
const (
	extraPatternsKey = "\x00patterns"
	extraNotsKey     = "\x00nots"
	altsKey          = "\x00alternatives"
)

// dependencySchema returns a draft-07 dependencies value as a schema: a list of names becomes
// {"required": names}.
func dependencySchema(v any) any {
	if list, ok := v.([]any); ok {
		o := newJobj()
		o.set("required", list)
		return o
	}
	return v
}

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

func isWhole(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }

func gcd(a, b float64) float64 {
	for b != 0 {
		a, b = b, math.Mod(a, b)
	}
	return a
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
	case "int32", "int64":
		return strconv.Itoa(r.IntN(100000)), true
	}
	return "", false
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
