package llmtest

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
)

// countBounds reads a minimum and a maximum count keyword (maxC -1 for none). A minimum beyond
// genMaxCount is an error.
func countBounds(o *jobj, ptr, minKw, maxKw string) (minC, maxC int, err error) {
	if f, ok := numKw(o, minKw); ok && f > 0 {
		if f > genMaxCount {
			return 0, 0, finalErr(ptr, "%s %s exceeds the generator's limit of %d", minKw, strconv.FormatFloat(f, 'f', -1, 64), genMaxCount)
		}
		minC = int(math.Ceil(f))
	}
	maxC = -1
	if f, ok := numKw(o, maxKw); ok && f >= 0 {
		maxC = int(min(math.Floor(f), genMaxCount))
	}
	if maxC >= 0 && minC > maxC {
		return 0, 0, unsat(ptr, "%s %d is greater than %s %s", minKw, minC, maxKw, jsonText(o.m[maxKw]))
	}
	return minC, maxC, nil
}

// domain returns every value the subschema s allows when they are few and the generator can list
// them (a const, an enum, booleans, null, a short range of integers), else false.
func (g *generator) domain(s any, ptr string, st genState) ([]any, bool) {
	o, _, _, err := g.flatten(s, ptr, st)
	if err != nil {
		return nil, false
	}
	if _, _, _, ok := branchesOf(o); ok {
		return nil, false
	}
	if c, ok := o.get("const"); ok {
		if g.accepts(o.without("const"), c) {
			return []any{c}, true
		}
		return nil, true
	}
	if o.has("enum") {
		return g.enumValues(o), true
	}
	t, ok := o.get("type")
	if !ok {
		return nil, false
	}
	var out []any
	for _, typ := range typeSet(t) {
		switch typ {
		case "null":
			out = append(out, nil)
		case "boolean":
			out = append(out, false, true)
		case "integer":
			b := boundsOf(o)
			if b.lo == nil || b.hi == nil || o.has("multipleOf") {
				return nil, false
			}
			lo, hi := ceilRat(b.lo), floorRat(b.hi)
			if new(big.Int).Sub(hi, lo).Cmp(big.NewInt(64)) > 0 {
				return nil, false
			}
			for k := new(big.Int).Set(lo); k.Cmp(hi) <= 0; k.Add(k, big.NewInt(1)) {
				v := ratNumber(new(big.Rat).SetInt(k))
				if numberAccepts(o, v) {
					out = append(out, v)
				}
			}
		default:
			return nil, false
		}
	}
	var fit []any
	for _, v := range out {
		if g.accepts(o, v) {
			fit = append(fit, v)
		}
	}
	return fit, true
}

// array generates an array: prefixItems first, then items, within minItems and maxItems; with
// contains, at least minContains (default 1) items that match it, at the first positions after
// the prefix; with uniqueItems, distinct items, drawn from the item schema's values when they are
// few (the array then stops when they run out, or is unsatisfiable below minItems).
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
	minI, maxI, err := countBounds(o, ptr, "minItems", "maxItems")
	if err != nil {
		return nil, err
	}
	if hasItems && items == false {
		if minI > len(prefix) {
			return nil, unsat(ptr, "minItems %d but only %d items are allowed", minI, len(prefix))
		}
		if maxI < 0 || maxI > len(prefix) {
			maxI = len(prefix)
		}
	}
	cont, hasContains := o.get("contains")
	minC, maxC := 0, -1
	if hasContains {
		minC = 1
		if f, ok := numKw(o, "minContains"); ok && f >= 0 {
			if f > genMaxCount {
				return nil, finalErr(ptr, "minContains %s exceeds the generator's limit of %d", strconv.FormatFloat(f, 'f', -1, 64), genMaxCount)
			}
			minC = int(math.Ceil(f))
		}
		if f, ok := numKw(o, "maxContains"); ok && f >= 0 {
			maxC = int(min(math.Floor(f), genMaxCount))
		}
		if maxC >= 0 && minC > maxC {
			return nil, unsat(ptr, "minContains %d is greater than maxContains %d", minC, maxC)
		}
		if maxI >= 0 && minC > maxI {
			return nil, unsat(ptr, "minContains %d but maxItems %d", minC, maxI)
		}
	}
	lo := max(minI, minC)
	upper := max(lo, len(prefix)) + 3
	if maxI >= 0 {
		upper = min(maxI, lo+genExtraItems)
	}
	n := lo
	if !st.minimal() && maxC < 0 {
		if n == 0 && upper > 0 {
			n = 1
		}
		n += g.rng.IntN(upper - n + 1)
	}
	// The contains items come right after the prefix, or at the end when the array is too short
	// for that.
	cStart := len(prefix)
	if hasContains && cStart+minC > n {
		if maxI < 0 || cStart+minC <= maxI {
			n = cStart + minC
		} else {
			cStart = n - minC
		}
	}
	unique := o.m["uniqueItems"] == true
	type slot struct {
		s       any
		at      string
		dom     []any
		finite  bool
		checked bool
	}
	freeSlot := &slot{s: true, at: fmt.Sprintf("%s/%s", ptr, itemsKw)}
	if hasItems {
		freeSlot.s = items
	}
	containsSlot := &slot{s: allOf(freeSlot.s, cont), at: ptr + "/contains"}
	out := make([]any, 0, n)
	seen := map[string]bool{}
	for i := range n {
		sl := freeSlot
		switch {
		case hasContains && i >= cStart && i < cStart+minC:
			if i < len(prefix) {
				sl = &slot{s: allOf(prefix[i], cont), at: ptr + "/contains"}
			} else {
				sl = containsSlot
			}
		case i < len(prefix):
			sl = &slot{s: prefix[i], at: fmt.Sprintf("%s/%s/%d", ptr, prefixKw, i)}
		}
		var v any
		drawn := false
		if unique {
			if !sl.checked {
				sl.dom, sl.finite = g.domain(sl.s, sl.at, st.child())
				sl.checked = true
			}
			if sl.finite {
				var left []any
				for _, d := range sl.dom {
					if !seen[canonical(d)] {
						left = append(left, d)
					}
				}
				if len(left) == 0 {
					if i >= minI && (!hasContains || i >= cStart+minC) {
						break // the item schema's values ran out: a shorter array
					}
					if sl == freeSlot && len(sl.dom) < minI-len(prefix) {
						return nil, unsat(sl.at, "uniqueItems: only %d distinct values are allowed, fewer than the %d items minItems %d needs after the prefix", len(sl.dom), minI-len(prefix), minI)
					}
					return nil, schemaErr(sl.at, "found no item unlike the %d before it (uniqueItems, minItems %d)", i, minI)
				}
				v, drawn = left[g.rng.IntN(len(left))], true
			}
		}
		if !drawn {
			for try := 0; ; try++ {
				var err error
				v, err = g.value(sl.s, sl.at, st.child())
				if err != nil {
					return nil, err
				}
				if !unique || !seen[canonical(v)] {
					break
				}
				if try == genUniqueTries {
					if i >= minI && (!hasContains || i >= cStart+minC) {
						return out, nil
					}
					return nil, schemaErr(sl.at, "found no item unlike the %d before it (uniqueItems, minItems %d)", i, minI)
				}
			}
		}
		seen[canonical(v)] = true
		out = append(out, v)
	}
	return out, nil
}

// object generates an object: required properties always, optional ones by chance (never deep in
// a recursion), within minProperties and maxProperties, in the schema's property order. A present
// property brings those dependentRequired (or draft-07 dependencies) names along, and the
// dependentSchemas (or dependencies) subschema under its name applies to the whole object. Names
// made up for minProperties satisfy propertyNames.
func (g *generator) object(o *jobj, ptr string, st genState) (any, error) {
	o = normalizeDependencies(o)
	props, _ := o.m["properties"].(*jobj)
	if props == nil {
		props = newJobj()
	}
	patternProps, _ := o.m["patternProperties"].(*jobj)
	addl, hasAddl := o.get("additionalProperties")
	closed := hasAddl && addl == false
	minP, maxP, err := countBounds(o, ptr, "minProperties", "maxProperties")
	if err != nil {
		return nil, err
	}
	if maxP < 0 {
		maxP = math.MaxInt
	}
	names, hasNames := o.get("propertyNames")
	var required []string
	if r, ok := o.get("required"); ok {
		for _, x := range unionStrings(r, nil) {
			required = append(required, x.(string))
		}
	}
	if len(required) > maxP {
		return nil, unsat(ptr, "%d required properties but maxProperties %d", len(required), maxP)
	}
	if names == false && (len(required) > 0 || minP > 0) {
		return nil, unsat(ptr, "propertyNames is false but the object needs properties")
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
	// dependentSchemas: the subschema of a present property applies to the object. Apply the
	// first and generate again (the property now required); one that cannot hold leaves its
	// optional property out.
	if ds, ok := o.m["dependentSchemas"].(*jobj); ok {
		for _, k := range ds.keys {
			if !include[k] {
				continue
			}
			rest := ds.without(k)
			base := o.without("dependentSchemas")
			if len(rest.keys) > 0 {
				base.set("dependentSchemas", rest)
			}
			base.set("required", unionStrings(base.m["required"], []any{k}))
			m, err := mergeSchemas(base, ds.m[k], ptr)
			if err == nil {
				var v any
				if v, err = g.value(m, ptr, st); err == nil {
					return v, nil
				}
			}
			if isFinal(err) || contains(required, k) || !errors.Is(err, ErrUnsatisfiable) {
				return nil, err
			}
			// Leave k out: forbid it and generate again.
			noK := o.clone()
			p2 := props.clone()
			p2.set(k, false)
			noK.set("properties", p2)
			noK.set("dependentSchemas", rest)
			return g.object(noK, ptr, st)
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
		if i > 2*minP+len(props.keys)+16 {
			return nil, schemaErr(ptr, "found no extra property names for minProperties %d", minP)
		}
		k, err := g.extraName(patternProps, closed, names, hasNames, i, ptr, st)
		if err != nil {
			return nil, err
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

// extraName makes the name of a property added for minProperties: one matching a
// patternProperties pattern when the object is otherwise closed, "extra_N" otherwise; either way
// one valid against propertyNames when there is one.
func (g *generator) extraName(patternProps *jobj, closed bool, names any, hasNames bool, i int, ptr string, st genState) (string, error) {
	var s any = newJobj()
	if patternProps != nil && closed {
		p := newJobj()
		p.set("type", "string")
		p.set("pattern", patternProps.keys[i%len(patternProps.keys)])
		s = p
	} else if !hasNames {
		return fmt.Sprintf("extra_%d", i), nil
	}
	if hasNames {
		s = allOf(s, names)
	}
	str := newJobj()
	str.set("type", "string")
	v, err := g.value(allOf(str, s), ptr+"/propertyNames", st.child())
	if err != nil {
		return "", err
	}
	name, _ := v.(string)
	return name, nil
}

// normalizeDependencies returns o with draft-07 "dependencies" split into dependentRequired (name
// lists) and dependentSchemas (schemas), merged with those already there.
func normalizeDependencies(o *jobj) *jobj {
	deps, ok := o.m["dependencies"].(*jobj)
	if !ok {
		return o
	}
	out := o.without("dependencies")
	dr, _ := out.m["dependentRequired"].(*jobj)
	ds, _ := out.m["dependentSchemas"].(*jobj)
	dr, ds = dr.orNew().clone(), ds.orNew().clone()
	for _, k := range deps.keys {
		switch v := deps.m[k].(type) {
		case []any:
			dr.set(k, unionStrings(dr.m[k], v))
		default:
			if x, ok := ds.get(k); ok {
				ds.set(k, allOf(x, v))
			} else {
				ds.set(k, v)
			}
		}
	}
	if len(dr.keys) > 0 {
		out.set("dependentRequired", dr)
	}
	if len(ds.keys) > 0 {
		out.set("dependentSchemas", ds)
	}
	return out
}
