package llm

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file renders JSON Schemas as OpenAI bills them: tool parameters as TypeScript-like
// declarations (TOKEN_RULES.md, "Tool definitions") and json_schema response formats as compact
// JSON (TOKEN_RULES.md, "Response formats").
//
// A schema is parsed once into a tree (jnode) and the renderers walk the tree, writing into one
// strings.Builder: every byte of the output is written once, and no JSON text is scanned twice, so
// rendering takes time and memory linear in the size of the schema plus the size of the output.
// The output of tool parameters can be far larger than the schema (a $ref or a type list repeats
// a sub-schema), so it is capped (maxToolsText).

// Limits on rendering pathological tool schemas. Beyond maxSchemaDepth nested types, or once the
// tools text is longer than maxToolsText bytes, a type renders as "any". Ordinary schemas come
// nowhere near either (4 MiB of declarations is over a million tokens, more than most models'
// context windows hold); the cap only stops a schema whose $refs or type lists fan out
// exponentially from taking exponential time and memory. Past it the count is that of the text
// rendered so far: less than the provider would bill for the whole expansion, if it accepted it.
const (
	maxSchemaDepth = 32
	maxToolsText   = 1 << 22
)

// jnode is one value of a parsed JSON document: its bytes as sent and, for an object or an array,
// its members or elements in document order.
type jnode struct {
	raw     []byte          // the value exactly as sent, without surrounding white space
	members []jmember       // an object's members in document order, duplicate keys kept
	elems   []*jnode        // an array's elements
	keys    *schemaKeys     // an object's schema keywords, computed on first use
	set     map[string]bool // an array's string elements ("required"), computed on first use
	text    *string         // a string's value, decoded on first use
}

// jmember is one member of a JSON object.
type jmember struct {
	key string // decoded
	val *jnode
}

func (n *jnode) isObject() bool { return n != nil && len(n.raw) > 0 && n.raw[0] == '{' }
func (n *jnode) isArray() bool  { return n != nil && len(n.raw) > 0 && n.raw[0] == '[' }

// str returns the value of a JSON string, false for anything else.
func (n *jnode) str() (string, bool) {
	if n == nil || len(n.raw) < 2 || n.raw[0] != '"' {
		return "", false
	}
	if n.text == nil {
		s := decodeString(n.raw)
		n.text = &s
	}
	return *n.text, true
}

// stringSet returns the string elements of an array.
func (n *jnode) stringSet() map[string]bool {
	if n.set == nil {
		n.set = make(map[string]bool, len(n.elems))
		for _, e := range n.elems {
			if s, ok := e.str(); ok {
				n.set[s] = true
			}
		}
	}
	return n.set
}

// get returns the value of key in members; with duplicate keys the last one wins, as in
// encoding/json.
func get(members []jmember, key string) (*jnode, bool) {
	for i := len(members) - 1; i >= 0; i-- {
		if members[i].key == key {
			return members[i].val, true
		}
	}
	return nil, false
}

// decodeString decodes a valid JSON string literal as encoding/json does (invalid UTF-8 becomes
// U+FFFD).
func decodeString(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(raw, &s) // raw is a valid string literal: parseJSON checked the document
	return s
}

// parseJSON parses raw, which must be valid JSON (as json.Valid says: nesting at most 10,000
// deep), into a tree; false if it is not.
func parseJSON(raw []byte) (*jnode, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	p := jsonParser{s: raw}
	return p.value(), true
}

// jsonParser builds the tree of a document json.Valid accepted, so it checks nothing.
type jsonParser struct {
	s []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() *jnode {
	p.space()
	start := p.i
	n := &jnode{}
	switch p.s[p.i] {
	case '{':
		p.i++
		p.space()
		if p.s[p.i] == '}' {
			p.i++
			break
		}
		for {
			p.space()
			k := p.i
			p.skipString()
			key := decodeString(p.s[k:p.i])
			p.space()
			p.i++ // ':'
			n.members = append(n.members, jmember{key, p.value()})
			p.space()
			c := p.s[p.i]
			p.i++ // ',' or '}'
			if c == '}' {
				break
			}
		}
	case '[':
		p.i++
		p.space()
		if p.s[p.i] == ']' {
			p.i++
			break
		}
		for {
			n.elems = append(n.elems, p.value())
			p.space()
			c := p.s[p.i]
			p.i++ // ',' or ']'
			if c == ']' {
				break
			}
		}
	case '"':
		p.skipString()
	default: // a number, true, false or null
		for p.i < len(p.s) && !strings.ContainsRune(",]} \t\n\r", rune(p.s[p.i])) {
			p.i++
		}
	}
	n.raw = p.s[start:p.i]
	return n
}

// skipString moves past the string literal at p.i.
func (p *jsonParser) skipString() {
	p.i++ // opening quote
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			p.i += 2
		case '"':
			p.i++
			return
		default:
			p.i++
		}
	}
}

// writeCompact writes a valid JSON value without insignificant white space, as json.Compact does
// (nothing else changes: key order, escapes and number spellings are kept).
func writeCompact(b *strings.Builder, raw []byte) {
	inString := false
	start := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			b.Write(raw[start:i])
			start = i + 1
		}
	}
	b.Write(raw[start:])
}

// writeQuoted writes s as a JSON string, as quoteJSON does.
func writeQuoted(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			b.WriteString(quoteJSON(s))
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// schemaKeys are the keywords of a schema object the declarations render; nil when absent. With
// duplicate keys the last one wins.
type schemaKeys struct {
	ref, typ, properties, required, title, description, def, enum, constant, anyOf, oneOf, items, nullable *jnode
}

// noKeys are the keywords of something that is not a schema object (read only).
var noKeys schemaKeys

// schema returns the keywords of an object node.
func (n *jnode) schema() *schemaKeys {
	if n.keys != nil {
		return n.keys
	}
	k := &schemaKeys{}
	for _, m := range n.members {
		v := m.val
		switch m.key {
		case "$ref":
			k.ref = v
		case "type":
			k.typ = v
		case "properties":
			k.properties = v
		case "required":
			k.required = v
		case "title":
			k.title = v
		case "description":
			k.description = v
		case "default":
			k.def = v
		case "enum":
			k.enum = v
		case "const":
			k.constant = v
		case "anyOf":
			k.anyOf = v
		case "oneOf":
			k.oneOf = v
		case "items":
			k.items = v
		case "nullable":
			k.nullable = v
		}
	}
	n.keys = k
	return k
}

// over returns the keywords of a schema with a "$ref" to target inlined: target's keywords,
// overridden by the siblings of "$ref" (k), and target's own "$ref", if any, still to follow.
func (k *schemaKeys) over(target *schemaKeys) schemaKeys {
	or := func(a, b *jnode) *jnode {
		if a != nil {
			return a
		}
		return b
	}
	return schemaKeys{
		ref:         target.ref,
		typ:         or(k.typ, target.typ),
		properties:  or(k.properties, target.properties),
		required:    or(k.required, target.required),
		title:       or(k.title, target.title),
		description: or(k.description, target.description),
		def:         or(k.def, target.def),
		enum:        or(k.enum, target.enum),
		constant:    or(k.constant, target.constant),
		anyOf:       or(k.anyOf, target.anyOf),
		oneOf:       or(k.oneOf, target.oneOf),
		items:       or(k.items, target.items),
		nullable:    or(k.nullable, target.nullable),
	}
}

// propertyList returns the members of "properties" when it is an object.
func (k *schemaKeys) propertyList() []jmember {
	if k.properties.isObject() {
		return k.properties.members
	}
	return nil
}

// schemaRenderer writes the TypeScript-like declaration of one function's parameters.
type schemaRenderer struct {
	b       *strings.Builder
	root    *jnode // the whole parameters schema, for local $ref
	titles  bool
	depth   int
	active  map[string]int    // $ref targets being expanded: a recursive reference renders as any
	targets map[string]*jnode // $ref targets by reference (nil: not found)
}

func (r *schemaRenderer) enter(refs []string) {
	if len(refs) == 0 {
		return
	}
	if r.active == nil {
		r.active = make(map[string]int)
	}
	for _, ref := range refs {
		r.active[ref]++
	}
}

func (r *schemaRenderer) leave(refs []string) {
	for _, ref := range refs {
		r.active[ref]--
	}
}

// function writes " = (_:{...}) => any;" (" = () => any;" without properties) for the
// parameters schema params, and reports whether it has properties.
func (r *schemaRenderer) function(params json.RawMessage, spaced bool) bool {
	root, ok := parseJSON(params)
	if !ok {
		r.b.WriteString(" = () => any;")
		return false
	}
	r.root = root
	k, refs, ok := r.resolve(root)
	props := k.propertyList()
	if !ok || len(props) == 0 {
		r.b.WriteString(" = () => any;")
		return false
	}
	if spaced {
		r.b.WriteString(" = (_: {\n")
	} else {
		r.b.WriteString(" = (_:{\n")
	}
	r.enter(refs)
	r.properties(k, props)
	r.leave(refs)
	r.b.WriteString("}) => any;")
	return true
}

// properties writes the properties of an object schema, one per line (comments first).
func (r *schemaRenderer) properties(k *schemaKeys, props []jmember) {
	var required map[string]bool
	if k.required.isArray() {
		required = k.required.stringSet()
	}
	b := r.b
	for _, p := range props {
		pk, refs, ok := r.resolve(p.val)
		title, hasTitle := "", false
		if r.titles {
			title, hasTitle = pk.title.str()
		}
		desc, hasDesc := pk.description.str()
		if hasTitle {
			b.WriteString("// ")
			b.WriteString(title)
			b.WriteByte('\n')
			if hasDesc {
				b.WriteString("//\n")
			}
		}
		if hasDesc {
			b.WriteString("// ")
			b.WriteString(desc)
			b.WriteByte('\n')
		}
		b.WriteString(p.key)
		if !required[p.key] {
			b.WriteByte('?')
		}
		b.WriteString(": ")
		r.typeOf(pk, refs, ok)
		b.WriteByte(',')
		if pk.def != nil {
			b.WriteString(" // default: ")
			writeCompact(b, pk.def.raw)
		}
		b.WriteByte('\n')
	}
}

// resolve returns the keywords of schema with local "$ref"s inlined (the referenced schema's
// keywords, overridden by the sibling keys of "$ref"), and the references it followed. It fails
// (false) for something that is not an object and for a reference already being expanded (a
// recursive schema).
func (r *schemaRenderer) resolve(schema *jnode) (*schemaKeys, []string, bool) {
	if !schema.isObject() {
		return &noKeys, nil, false
	}
	k := schema.schema()
	var refs []string
	for range maxSchemaDepth {
		path, ok := k.ref.str()
		if !ok {
			break
		}
		if r.active[path] > 0 || slices.Contains(refs, path) {
			return &noKeys, nil, false
		}
		target := r.pointer(path)
		if !target.isObject() {
			break
		}
		refs = append(refs, path)
		merged := k.over(target.schema())
		k = &merged
	}
	return k, refs, true
}

// pointer follows a local JSON pointer ("#/$defs/Name") from the root schema; nil if it leads
// nowhere.
func (r *schemaRenderer) pointer(ref string) *jnode {
	if t, ok := r.targets[ref]; ok {
		return t
	}
	var t *jnode
	if strings.HasPrefix(ref, "#") {
		t = r.root
		for tok := range strings.SplitSeq(strings.TrimPrefix(ref[1:], "/"), "/") {
			if tok == "" {
				continue
			}
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			if !t.isObject() {
				t = nil
				break
			}
			if t, _ = get(t.members, tok); t == nil {
				break
			}
		}
	}
	if r.targets == nil {
		r.targets = make(map[string]*jnode)
	}
	r.targets[ref] = t
	return t
}

// typeOf writes the type of a schema, given what resolve returned for it.
func (r *schemaRenderer) typeOf(k *schemaKeys, refs []string, ok bool) {
	if !ok || r.depth >= maxSchemaDepth || r.b.Len() > maxToolsText {
		r.b.WriteString("any")
		return
	}
	r.depth++
	r.enter(refs)
	r.baseType(k)
	if k.nullable != nil && string(k.nullable.raw) == "true" {
		r.b.WriteString(" | null")
	}
	r.leave(refs)
	r.depth--
}

// typeOfNode writes the type of a schema node.
func (r *schemaRenderer) typeOfNode(n *jnode) {
	r.typeOf(r.resolve(n))
}

func (r *schemaRenderer) baseType(k *schemaKeys) {
	b := r.b
	if k.enum.isArray() && len(k.enum.elems) > 0 {
		for i, e := range k.enum.elems {
			if i > 0 {
				b.WriteString(" | ")
			}
			writeCompact(b, e.raw)
		}
		return
	}
	if k.constant != nil {
		writeCompact(b, k.constant.raw)
		return
	}
	for _, list := range []*jnode{k.anyOf, k.oneOf} {
		if list.isArray() && len(list.elems) > 0 {
			for i, e := range list.elems {
				if i > 0 {
					b.WriteString(" | ")
				}
				r.typeOfNode(e)
			}
			return
		}
	}
	switch {
	case k.typ == nil:
		b.WriteString("any")
	case k.typ.isArray():
		first := true
		for _, e := range k.typ.elems {
			if s, ok := e.str(); ok {
				if !first {
					b.WriteString(" | ")
				}
				first = false
				r.named(s, k)
			}
		}
		if first {
			b.WriteString("any")
		}
	default:
		s, _ := k.typ.str()
		r.named(s, k)
	}
}

// named writes a schema whose type is the JSON Schema type name.
func (r *schemaRenderer) named(name string, k *schemaKeys) {
	b := r.b
	switch name {
	case "string", "boolean", "null":
		b.WriteString(name)
	case "integer", "number":
		b.WriteString("number")
	case "array":
		if k.items == nil {
			b.WriteString("Array<any>")
			return
		}
		r.typeOfNode(k.items)
		b.WriteString("[]")
	case "object":
		props := k.propertyList()
		if len(props) == 0 {
			b.WriteString("any")
			return
		}
		b.WriteString("{\n")
		r.properties(k, props)
		b.WriteByte('}')
	default:
		b.WriteString("any")
	}
}

// writeResponseSchema writes a json_schema response format's schema as billed: compact JSON, key
// order kept, without "title", "required" and "additionalProperties" in nested schemas
// (TOKEN_RULES.md, "Response formats"), and, for a strict schema, without "required" and
// "additionalProperties" at the top level either: strict mode makes them implicit. (Inferred from
// the recorded gpt-4o-2024-08-06 usage of two strict schemas: exact with this rule.) Only keys of
// schema objects are dropped, never property names. A schema that is not valid JSON is written
// as it is.
func writeResponseSchema(b *strings.Builder, schema json.RawMessage, strict bool) {
	root, ok := parseJSON(schema)
	if !ok {
		b.Write(schema)
		return
	}
	writeSchema(b, root, true, strict)
}

// schemaMaps are the schema keywords whose value maps names to subschemas.
var schemaMaps = map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "definitions": true, "dependentSchemas": true}

func writeSchema(b *strings.Builder, n *jnode, top, strict bool) {
	if !n.isObject() {
		writeCompact(b, n.raw)
		return
	}
	b.WriteByte('{')
	first := true
	for _, m := range n.members {
		switch m.key {
		case "required", "additionalProperties":
			if strict || !top {
				continue
			}
		case "title":
			if !top {
				continue
			}
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeQuoted(b, m.key)
		b.WriteByte(':')
		switch {
		case schemaMaps[m.key]:
			writeSchemaMap(b, m.val, strict)
		case m.key == "enum" || m.key == "const" || m.key == "default" || m.key == "examples":
			writeCompact(b, m.val.raw)
		default:
			writeSubschemas(b, m.val, strict)
		}
	}
	b.WriteByte('}')
}

// writeSchemaMap writes an object whose values are schemas (such as "properties").
func writeSchemaMap(b *strings.Builder, n *jnode, strict bool) {
	if !n.isObject() {
		writeCompact(b, n.raw)
		return
	}
	b.WriteByte('{')
	for i, m := range n.members {
		if i > 0 {
			b.WriteByte(',')
		}
		writeQuoted(b, m.key)
		b.WriteByte(':')
		writeSchema(b, m.val, false, strict)
	}
	b.WriteByte('}')
}

// writeSubschemas writes a keyword value that is a schema ("items", "not"), a list of schemas
// ("anyOf"), or anything else (written as compact JSON).
func writeSubschemas(b *strings.Builder, n *jnode, strict bool) {
	switch {
	case n.isObject():
		writeSchema(b, n, false, strict)
	case n.isArray():
		b.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			writeSubschemas(b, e, strict)
		}
		b.WriteByte(']')
	default:
		writeCompact(b, n.raw)
	}
}
