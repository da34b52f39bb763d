package llmtest

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// genMaxExponent bounds the decimal exponent of the schema numbers the generator computes with
// exactly (1e4000 is fine, 1e999999 is refused).
const genMaxExponent = 4000

// parseRat parses the JSON number text s exactly.
func parseRat(s string) (*big.Rat, bool) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > genMaxExponent || e < -genMaxExponent {
			return nil, false
		}
	}
	return new(big.Rat).SetString(s)
}

// ratKw returns the number under keyword k exactly, with its text; false when absent or not a
// number the generator handles.
func ratKw(o *jobj, k string) (*big.Rat, string, bool) {
	n, ok := o.m[k].(json.Number)
	if !ok {
		return nil, "", false
	}
	r, ok := parseRat(string(n))
	return r, string(n), ok
}

// numBounds are a subschema's numeric bounds, exactly; nil for none.
type numBounds struct {
	lo, hi         *big.Rat
	loText, hiText string
	loEx, hiEx     bool
}

// boundsOf reads minimum, maximum, exclusiveMinimum and exclusiveMaximum (numbers, or draft-04
// booleans), keeping the tighter bound of each side.
func boundsOf(o *jobj) numBounds {
	var b numBounds
	b.lo, b.loText, _ = ratKw(o, "minimum")
	b.hi, b.hiText, _ = ratKw(o, "maximum")
	if v, ok := o.get("exclusiveMinimum"); ok {
		if v == true { // draft-04
			b.loEx = b.lo != nil
		} else if x, t, ok := ratKw(o, "exclusiveMinimum"); ok && (b.lo == nil || x.Cmp(b.lo) >= 0) {
			b.lo, b.loText, b.loEx = x, t, true
		}
	}
	if v, ok := o.get("exclusiveMaximum"); ok {
		if v == true {
			b.hiEx = b.hi != nil
		} else if x, t, ok := ratKw(o, "exclusiveMaximum"); ok && (b.hi == nil || x.Cmp(b.hi) <= 0) {
			b.hi, b.hiText, b.hiEx = x, t, true
		}
	}
	return b
}

func (b numBounds) admits(v *big.Rat) bool {
	if b.lo != nil {
		if c := v.Cmp(b.lo); c < 0 || c == 0 && b.loEx {
			return false
		}
	}
	if b.hi != nil {
		if c := v.Cmp(b.hi); c > 0 || c == 0 && b.hiEx {
			return false
		}
	}
	return true
}

// numberAccepts reports whether n meets o's bounds and multipleOf, exactly.
func numberAccepts(o *jobj, n json.Number) bool {
	v, ok := parseRat(string(n))
	if !ok {
		return true
	}
	if !boundsOf(o).admits(v) {
		return false
	}
	if step, _, ok := ratKw(o, "multipleOf"); ok && step.Sign() > 0 {
		if !new(big.Rat).Quo(v, step).IsInt() {
			return false
		}
	}
	return true
}

func exName(name string, ex bool) string {
	if ex {
		return "exclusive" + strings.ToUpper(name[:1]) + name[1:]
	}
	return name
}

// number generates an integer or a number within the subschema's bounds and multipleOf. Integers
// and multiples are computed exactly (math/big) and written as exact JSON numbers, chosen within
// the int64 range when the bounds allow it and else next to the nearer bound.
func (g *generator) number(o *jobj, ptr string, integer bool) (any, error) {
	for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} {
		if n, ok := o.m[k].(json.Number); ok {
			if _, ok := parseRat(string(n)); !ok {
				return nil, finalErr(ptr, "%s %s is beyond the numbers the generator handles (exponent above %d)", k, n, genMaxExponent)
			}
		}
	}
	b := boundsOf(o)
	if b.lo != nil && b.hi != nil {
		if c := b.lo.Cmp(b.hi); c > 0 || c == 0 && (b.loEx || b.hiEx) {
			return nil, unsat(ptr, "%s %s is not below %s %s", exName("minimum", b.loEx), b.loText, exName("maximum", b.hiEx), b.hiText)
		}
	}
	step, stepText, hasStep := ratKw(o, "multipleOf")
	if hasStep && step.Sign() <= 0 {
		return nil, finalErr(ptr, "multipleOf %s is not positive", stepText)
	}
	if !hasStep && !integer {
		return g.float(ptr, b)
	}
	if !hasStep {
		step = big.NewRat(1, 1)
	} else if integer {
		// The multiples of p/q (lowest terms) that are integers are the multiples of p.
		step = new(big.Rat).SetInt(step.Num())
	}
	// Values k*step for k in [kLo, kHi].
	var kLo, kHi *big.Int
	if b.lo != nil {
		kLo = ceilRat(new(big.Rat).Quo(b.lo, step))
		if b.loEx && new(big.Rat).Mul(new(big.Rat).SetInt(kLo), step).Cmp(b.lo) == 0 {
			kLo.Add(kLo, big.NewInt(1))
		}
	}
	if b.hi != nil {
		kHi = floorRat(new(big.Rat).Quo(b.hi, step))
		if b.hiEx && new(big.Rat).Mul(new(big.Rat).SetInt(kHi), step).Cmp(b.hi) == 0 {
			kHi.Sub(kHi, big.NewInt(1))
		}
	}
	span := big.NewInt(genDefaultSpan)
	if step.Cmp(big.NewRat(1, 1)) > 0 {
		span = big.NewInt(10)
	}
	switch {
	case kLo == nil && kHi == nil:
		kLo, kHi = big.NewInt(0), new(big.Int).Set(span)
	case kLo == nil:
		kLo = new(big.Int).Sub(kHi, span)
		if kHi.Sign() >= 0 && kLo.Sign() < 0 {
			kLo.SetInt64(0)
		}
	case kHi == nil:
		kHi = new(big.Int).Add(kLo, span)
	}
	if kLo.Cmp(kHi) > 0 {
		what := "integer"
		if hasStep {
			what = "multiple of " + stepText
		}
		return nil, unsat(ptr, "no %s lies between %s %s and %s %s", what, exName("minimum", b.loEx), b.loText, exName("maximum", b.hiEx), b.hiText)
	}
	// Prefer values within int64; beyond it, values next to the nearer bound.
	k64lo := ceilRat(new(big.Rat).Quo(new(big.Rat).SetInt64(math.MinInt64), step))
	k64hi := floorRat(new(big.Rat).Quo(new(big.Rat).SetInt64(math.MaxInt64), step))
	a, z := maxInt(kLo, k64lo), minInt(kHi, k64hi)
	if a.Cmp(z) > 0 {
		if kLo.Cmp(k64hi) > 0 {
			a, z = kLo, minInt(kHi, new(big.Int).Add(kLo, span))
		} else {
			a, z = maxInt(kLo, new(big.Int).Sub(kHi, span)), kHi
		}
	}
	// jsonschema-go checks multipleOf in floating point (0.3 is not a multiple of 0.1 there):
	// prefer a multiple that passes that check too, else give the exact one.
	mult := 0.0
	if hasStep {
		mult, _ = strconv.ParseFloat(stepText, 64)
	}
	value := func(k *big.Int) *big.Rat { return new(big.Rat).Mul(new(big.Rat).SetInt(k), step) }
	floatOK := func(v *big.Rat) bool {
		if mult == 0 {
			return true
		}
		f, _ := v.Float64()
		_, frac := math.Modf(f / mult)
		return frac == 0
	}
	var first *big.Rat
	for try := range 64 {
		var k *big.Int
		if try < 24 {
			k = g.randBetween(a, z)
		} else {
			k = new(big.Int).Add(a, big.NewInt(int64(try-24)))
			if k.Cmp(z) > 0 {
				break
			}
		}
		v := value(k)
		if first == nil {
			first = v
		}
		if floatOK(v) {
			return ratNumber(v), nil
		}
	}
	return ratNumber(first), nil
}

// randBetween returns a random integer in [a, z] (a <= z, z-a < 2^64).
func (g *generator) randBetween(a, z *big.Int) *big.Int {
	w := new(big.Int).Sub(z, a)
	var r uint64
	switch {
	case !w.IsUint64():
		r = g.rng.Uint64()
	case w.Uint64() == math.MaxUint64:
		r = g.rng.Uint64()
	default:
		r = g.rng.Uint64N(w.Uint64() + 1)
	}
	return new(big.Int).Add(a, new(big.Int).SetUint64(r))
}

func ceilRat(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // Euclidean: m >= 0
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func floorRat(r *big.Rat) *big.Int {
	q, _ := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	return q
}

func maxInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

func minInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// ratNumber writes v exactly as a JSON number: an integer without a fraction or exponent, else a
// decimal fraction (v is a multiple of a decimal number, so it has finitely many decimals).
func ratNumber(v *big.Rat) json.Number {
	if v.IsInt() {
		return json.Number(v.Num().String())
	}
	d := 0
	p := big.NewInt(1)
	ten := big.NewInt(10)
	for new(big.Int).Mod(p, v.Denom()).Sign() != 0 && d < 2*genMaxExponent {
		p.Mul(p, ten)
		d++
	}
	s := v.FloatString(d)
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return json.Number(s)
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

// float generates a number (no multipleOf) with at most two decimals when the bounds leave room
// for one.
func (g *generator) float(ptr string, b numBounds) (any, error) {
	var lo, hi float64
	hasLo, hasHi := b.lo != nil, b.hi != nil
	if hasLo {
		lo, _ = b.lo.Float64()
	}
	if hasHi {
		hi, _ = b.hi.Float64()
	}
	loEx, hiEx := b.loEx, b.hiEx
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
	exact := func(v float64) bool { return b.admits(new(big.Rat).SetFloat64(v)) }
	for range 8 {
		x := lo + g.rng.Float64()*(hi-lo)
		for _, v := range []float64{math.Round(x*100) / 100, x} {
			if inBounds(v, lo, hi, hasLo, hasHi, loEx, hiEx) && !math.IsInf(v, 0) && exact(v) {
				return formatNumber(v), nil
			}
		}
	}
	mid := lo + (hi-lo)/2
	if inBounds(mid, lo, hi, hasLo, hasHi, loEx, hiEx) && exact(mid) {
		return formatNumber(mid), nil
	}
	return nil, unsat(ptr, "no number lies between %s %s and %s %s", exName("minimum", loEx), b.loText, exName("maximum", hiEx), b.hiText)
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
