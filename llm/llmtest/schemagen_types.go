package llmtest

import (
	"encoding/json"
	"regexp"
	"unicode/utf8"
)

// annotationKeys are keywords that do not constrain a value.
var annotationKeys = map[string]bool{
	"title": true, "description": true, "$comment": true, "examples": true, "default": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "$schema": true, "$id": true,
}

// types returns the JSON types the subschema allows, inferring them from its keywords when "type"
// is absent, without those a "not" that only names types excludes.
func (g *generator) types(o *jobj, ptr string, st genState) ([]string, error) {
	var types []string
	guessed := false
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
		case hint("properties", "required", "additionalProperties", "patternProperties", "minProperties", "maxProperties",
			"propertyNames", "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties"):
			types = []string{"object"}
		case hint("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains", "additionalItems"):
			types = []string{"array"}
		case hint("minLength", "maxLength", "pattern", "format", extraPatternsKey):
			types = []string{"string"}
		case hint("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
			types = []string{"number"}
		case st.top:
			types = []string{"object"}
		default:
			types = []string{"string", "integer", "boolean"}
			guessed = true
		}
	}
	if o.m["nullable"] == true && !contains(types, "null") {
		types = append(types, "null")
	}
	if excluded := notTypes(o); len(excluded) > 0 {
		keep := func(list []string) []string {
			var out []string
			for _, t := range list {
				if !contains(excluded, t) && !(t == "integer" && contains(excluded, "number")) {
					out = append(out, t)
				}
			}
			return out
		}
		kept := keep(types)
		if len(kept) == 0 && guessed {
			kept = keep([]string{"null", "array", "object", "number"})
		}
		if len(kept) == 0 {
			return nil, unsat(ptr, "not excludes every type %v allows", types)
		}
		types = kept
	}
	return types, nil
}

// notTypes returns the types excluded by the subschema's "not" keywords (merged ones included)
// that say nothing but a type.
func notTypes(o *jobj) []string {
	var nots []any
	if n, ok := o.get("not"); ok {
		nots = append(nots, n)
	}
	if extra, ok := o.m[extraNotsKey].([]any); ok {
		nots = append(nots, extra...)
	}
	var out []string
	for _, n := range nots {
		no, ok := n.(*jobj)
		if !ok || !no.has("type") {
			continue
		}
		onlyType := true
		for _, k := range no.keys {
			if k != "type" && !annotationKeys[k] {
				onlyType = false
			}
		}
		if onlyType {
			out = append(out, typeSet(no.m["type"])...)
		}
	}
	return out
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

// fitsTypes reports whether v is of one of types ("integer" takes any number with a zero
// fractional part, 1.0 included).
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
		if r, ok := parseRat(string(x)); ok && r.IsInt() && contains(types, "integer") {
			return true
		}
		kind = "number"
	}
	return contains(types, kind)
}

// accepts reports whether the value v satisfies the flat subschema o as far as o's own type,
// const, enum, not-type, number, string-length, pattern, array-length, uniqueItems and
// object-count keywords tell. Other keywords are not checked: accepts answers false only for a
// value that certainly fails. It filters enum values and checks const and default.
func (g *generator) accepts(o *jobj, v any) bool {
	if t, ok := o.get("type"); ok {
		types := typeSet(t)
		if o.m["nullable"] == true {
			types = append(types, "null")
		}
		if !fitsTypes(v, types) {
			return false
		}
	}
	for _, ex := range notTypes(o) {
		if fitsTypes(v, []string{ex}) {
			return false
		}
	}
	if c, ok := o.get("const"); ok && canonical(c) != canonical(v) {
		return false
	}
	if e, ok := o.get("enum"); ok {
		list, _ := e.([]any)
		found := false
		for _, x := range list {
			if canonical(x) == canonical(v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	switch x := v.(type) {
	case json.Number:
		return numberAccepts(o, x)
	case string:
		n := float64(utf8.RuneCountInString(x))
		if m, ok := numKw(o, "minLength"); ok && n < m {
			return false
		}
		if m, ok := numKw(o, "maxLength"); ok && n > m {
			return false
		}
		for _, p := range patternsOf(o) {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(x) {
				return false
			}
		}
	case []any:
		n := float64(len(x))
		if m, ok := numKw(o, "minItems"); ok && n < m {
			return false
		}
		if m, ok := numKw(o, "maxItems"); ok && n > m {
			return false
		}
		if o.m["uniqueItems"] == true {
			seen := map[string]bool{}
			for _, e := range x {
				if seen[canonical(e)] {
					return false
				}
				seen[canonical(e)] = true
			}
		}
	case *jobj:
		n := float64(len(x.keys))
		if m, ok := numKw(o, "minProperties"); ok && n < m {
			return false
		}
		if m, ok := numKw(o, "maxProperties"); ok && n > m {
			return false
		}
		for _, r := range unionStrings(o.m["required"], nil) {
			if !x.has(r.(string)) {
				return false
			}
		}
	}
	return true
}

// patternsOf returns the patterns a string must match: "pattern" and merged ones.
func patternsOf(o *jobj) []string {
	var out []string
	if p, ok := o.m["pattern"].(string); ok {
		out = append(out, p)
	}
	if extra, ok := o.m[extraPatternsKey].([]any); ok {
		for _, p := range extra {
			if s, ok := p.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
