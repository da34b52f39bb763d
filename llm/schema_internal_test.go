package llm

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzJSONHelpers checks the helpers UpperBound and the schema renderers rely on against the
// encoding/json functions they stand for: quotedLen(s) = len(quoteJSON(s)), writeQuoted writes
// quoteJSON(s), writeCompact writes what json.Compact does, byteBound(s) is the length of s as
// the tokenizer sees it, and parseJSON keeps members in order with the values as sent.
func FuzzJSONHelpers(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00\x01\b\f\n\r\t\"\\", "\xff\xfe", "\u2028\u2029", "<&>", "日本\x7f",
		`{"a" : [1, 2 ,{"b":"c d\" e"}], "a": null, "\u0024ref": "#"}`, ` [ ] `, `"x\ny"`, "\xe4\xb8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := quotedLen(s), len(quoteJSON(s)); got != want {
			t.Errorf("quotedLen(%q) = %d, want %d", s, got, want)
		}
		var b strings.Builder
		writeQuoted(&b, s)
		if b.String() != quoteJSON(s) {
			t.Errorf("writeQuoted(%q) = %s, want %s", s, b.String(), quoteJSON(s))
		}
		if got, want := byteBound(s), len(sanitizeUTF8(s)); got != want {
			t.Errorf("byteBound(%q) = %d, want %d", s, got, want)
		}
		root, ok := parseJSON([]byte(s))
		if ok != json.Valid([]byte(s)) {
			t.Fatalf("parseJSON(%q) ok = %v", s, ok)
		}
		if !ok {
			return
		}
		var want bytes.Buffer
		_ = json.Compact(&want, []byte(s))
		b.Reset()
		writeCompact(&b, []byte(s))
		if b.String() != want.String() {
			t.Errorf("writeCompact(%q) = %q, want %q", s, b.String(), want.String())
		}
		checkTree(t, root)
	})
}

// checkTree checks that every node holds its value as sent and that objects and arrays hold
// their members as encoding/json sees them.
func checkTree(t *testing.T, n *jnode) {
	t.Helper()
	if !json.Valid(n.raw) || !bytes.Equal(bytes.TrimSpace(n.raw), n.raw) {
		t.Fatalf("node %q is not a value as sent", n.raw)
	}
	switch {
	case n.isObject():
		dec := json.NewDecoder(bytes.NewReader(n.raw))
		dec.Token()
		for i := 0; dec.More(); i++ {
			key, _ := dec.Token()
			var v json.RawMessage
			_ = dec.Decode(&v)
			if i >= len(n.members) || n.members[i].key != key || !bytes.Equal(n.members[i].val.raw, v) {
				t.Fatalf("object %q: member %d is not %q: %q", n.raw, i, key, v)
			}
			checkTree(t, n.members[i].val)
		}
	case n.isArray():
		var elems []json.RawMessage
		_ = json.Unmarshal(n.raw, &elems)
		if len(elems) != len(n.elems) {
			t.Fatalf("array %q: %d elements, want %d", n.raw, len(n.elems), len(elems))
		}
		for i, e := range n.elems {
			if !bytes.Equal(e.raw, elems[i]) {
				t.Fatalf("array %q: element %d is %q, want %q", n.raw, i, e.raw, elems[i])
			}
			checkTree(t, e)
		}
	case n.raw[0] == '"':
		var want string
		_ = json.Unmarshal(n.raw, &want)
		if got, _ := n.str(); got != want {
			t.Fatalf("string %q decodes as %q, want %q", n.raw, got, want)
		}
	}
}
