package llmtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// jobj is a JSON object that keeps its keys in document order. The schema generator reads schemas
// into trees of *jobj, []any, string, json.Number, bool and nil, so that generated objects list
// their properties in the order the schema gives them.
type jobj struct {
	keys []string
	m    map[string]any
}

func newJobj() *jobj { return &jobj{m: map[string]any{}} }

func (o *jobj) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.m[k]
	return v, ok
}

func (o *jobj) has(k string) bool { _, ok := o.get(k); return ok }

func (o *jobj) set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// without returns a shallow copy of o lacking the given keys.
func (o *jobj) without(keys ...string) *jobj {
	c := newJobj()
	for _, k := range o.keys {
		skip := false
		for _, x := range keys {
			if k == x {
				skip = true
				break
			}
		}
		if !skip {
			c.set(k, o.m[k])
		}
	}
	return c
}

func (o *jobj) clone() *jobj { return o.without() }

// orNew returns o, or a new empty object when o is nil.
func (o *jobj) orNew() *jobj {
	if o == nil {
		return newJobj()
	}
	return o
}

// MarshalJSON writes the object with its keys in order.
func (o *jobj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// parseOrdered decodes one JSON value, objects as *jobj and numbers as json.Number.
func parseOrdered(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := parseValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func parseValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newJobj()
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			arr := []any{}
			for d.More() {
				v, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil // string, json.Number, bool or nil
	}
}

// writeJSON writes v (a tree from parseOrdered, or a generated value) as compact JSON without HTML
// escaping.
func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case *jobj:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			if err := writeJSON(b, x.m[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case json.Number:
		b.WriteString(string(x))
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	default:
		return fmt.Errorf("llmtest: cannot encode %T", v)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}

// encodeJSON returns writeJSON's output as bytes.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// canonical returns a key identifying v's JSON value for equality (object keys sorted, numbers as
// written): used for enum intersection and uniqueItems.
func canonical(v any) string {
	var b strings.Builder
	canonicalTo(&b, v)
	return b.String()
}

func canonicalTo(b *strings.Builder, v any) {
	switch x := v.(type) {
	case *jobj:
		keys := append([]string(nil), x.keys...)
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "%q:", k)
			canonicalTo(b, x.m[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			canonicalTo(b, e)
		}
		b.WriteByte(']')
	case string:
		fmt.Fprintf(b, "%q", x)
	case json.Number:
		// Exactly: 1, 1.0 and 1e0 are one value; 9007199254740993 and 9007199254740992 are two.
		if r, ok := parseRat(string(x)); ok {
			b.WriteString(r.RatString())
		} else {
			b.WriteString(string(x))
		}
	default:
		fmt.Fprintf(b, "%v", x)
	}
}
