package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/autogpt-go/agent/llm"
	"github.com/google/jsonschema-go/jsonschema"
)

// Tool is a function the model can call.
//
// Name must match ^[a-zA-Z0-9_-]{1,64}$ (OpenAI's rule for function names, the strictest among the
// providers). Description tells the model when and how to use the tool. Schema is the JSON Schema of
// the arguments object in wire form: the bytes the provider receives, key order kept (token counts
// depend on it); nil or empty means a tool without arguments.
//
// Call runs the tool with the arguments object as raw JSON. The agent has already checked that args
// is a JSON object that satisfies Schema (empty, whitespace-only and null arguments become {}). A
// returned error, like a ToolResult with IsError set, goes back to the model as a failed call: it
// never ends the run. Call must honour ctx; a call that ignores it is abandoned after
// Config.ToolGracePeriod. Call may run concurrently with other calls of the same tool.
type Tool interface {
	Name() string
	Description() string
	Schema() json.RawMessage
	Call(ctx context.Context, args json.RawMessage) (ToolResult, error)
}

// ToolResult is what a tool call returns to the model.
type ToolResult struct {
	// Content is the text the model receives.
	Content string `json:"content"`
	// IsError marks a failed call: the model sees it as an error it can correct.
	IsError bool `json:"is_error,omitempty"`
}

// toolNameRE is OpenAI's pattern for function names (chat-completions API reference, "tools").
var toolNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// emptyObjectSchema is the schema sent for a tool whose Schema is empty.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// FuncTool is a Tool backed by a typed Go function, built by NewTool. In is decoded from the
// arguments object; its JSON Schema is inferred from In's type by github.com/google/jsonschema-go
// (field names from json tags, descriptions from `jsonschema:"..."` tags, fields without omitempty
// required). Out is rendered for the model: a string as is, a ToolResult as is, a json.RawMessage as
// is, anything else as JSON.
type FuncTool[In, Out any] struct {
	name, description string
	fn                func(context.Context, In) (Out, error)
	schema            json.RawMessage
	resolved          *jsonschema.Resolved
	inferred          *jsonschema.Schema // the schema inferred from In, for EditSchema
	err               error
}

// NewTool returns a Tool named name that calls fn with the decoded arguments.
//
// The arguments are validated against the schema inferred from In before fn runs; a violation is
// returned as an *ArgumentError naming the field and the expected type. An error returned by fn goes
// back to the model as a failed call. If no schema can be inferred from In (for example a channel
// field), the tool's Err method reports it and New(Config) refuses the tool; NewTool never panics.
// Use a struct type for In: a tool's arguments are always a JSON object.
func NewTool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error)) *FuncTool[In, Out] {
	t := &FuncTool[In, Out]{name: name, description: description, fn: fn}
	typ := reflect.TypeFor[In]()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem() // *Args: the arguments are still an object; a nil pointer never reaches fn
	}
	s, err := jsonschema.ForType(typ, nil)
	if err == nil && s.Type != "object" {
		err = fmt.Errorf("arguments type %s is not a struct: a tool's arguments are a JSON object", reflect.TypeFor[In]())
	}
	if err == nil {
		t.inferred = s.CloneSchemas()
		t.schema, err = json.Marshal(s)
	}
	if err == nil {
		t.resolved, err = s.Resolve(nil)
	}
	if err != nil {
		t.err = fmt.Errorf("tool %q: schema: %w", name, err)
	}
	return t
}

// EditSchema lets edit change a copy of the schema inferred from In (add an enum, bounds, a
// pattern, a description, or require a non-null slice), which then replaces the tool's schema as
// WithSchema would, and returns t. For example:
//
//	t.EditSchema(func(s *jsonschema.Schema) {
//		s.Properties["unit"].Enum = []any{"celsius", "fahrenheit"}
//		s.Properties["items"].Types, s.Properties["items"].Type = nil, "array" // not null
//	})
//
// The edited schema must still describe what In decodes. A schema that does not resolve is
// reported by Err and by New(Config); so is an edit of a tool whose inference failed.
func (t *FuncTool[In, Out]) EditSchema(edit func(s *jsonschema.Schema)) *FuncTool[In, Out] {
	if t.inferred == nil {
		if t.err == nil {
			t.err = fmt.Errorf("tool %q: EditSchema: no inferred schema", t.name)
		}
		return t
	}
	s := t.inferred.CloneSchemas()
	edit(s)
	raw, err := json.Marshal(s)
	if err != nil {
		t.err = fmt.Errorf("tool %q: schema: %w", t.name, err)
		return t
	}
	return t.WithSchema(raw)
}

// WithSchema replaces the inferred schema by raw (for example to add descriptions, enums or bounds
// the Go type cannot express) and returns t. The arguments are then validated against raw; an
// invalid raw schema is reported by Err and by New(Config).
func (t *FuncTool[In, Out]) WithSchema(raw json.RawMessage) *FuncTool[In, Out] {
	r, err := resolveSchema(raw)
	if err != nil {
		t.err = fmt.Errorf("tool %q: schema: %w", t.name, err)
		return t
	}
	t.schema, t.resolved, t.err = append(json.RawMessage(nil), raw...), r, nil
	return t
}

// Name returns the tool's name.
func (t *FuncTool[In, Out]) Name() string { return t.name }

// Description returns the tool's description.
func (t *FuncTool[In, Out]) Description() string { return t.description }

// Schema returns the JSON Schema of In (or the one set by WithSchema), nil if inference failed.
func (t *FuncTool[In, Out]) Schema() json.RawMessage { return t.schema }

// Err reports why the tool cannot be used (schema inference failed), or nil.
func (t *FuncTool[In, Out]) Err() error { return t.err }

// Call validates args, decodes them into In, runs the function and renders Out.
// It returns an *ArgumentError for arguments that are not a JSON object satisfying the schema, and
// the function's own error otherwise.
func (t *FuncTool[In, Out]) Call(ctx context.Context, args json.RawMessage) (ToolResult, error) {
	if t.err != nil {
		return ToolResult{}, t.err
	}
	args, v, err := parseArguments(args)
	if err != nil {
		return ToolResult{}, err
	}
	if err := validateArguments(t.resolved, t.schema, v); err != nil {
		return ToolResult{}, err
	}
	return t.call(ctx, args)
}

// call decodes already-validated arguments and runs the function.
func (t *FuncTool[In, Out]) call(ctx context.Context, args json.RawMessage) (ToolResult, error) {
	var in In
	if err := json.Unmarshal(args, &in); err != nil {
		return ToolResult{}, decodeError(err)
	}
	out, err := t.fn(ctx, in)
	if err != nil {
		return ToolResult{}, err
	}
	return renderOutput(out)
}

// validatedCall lets the executor skip the second validation of a FuncTool's arguments.
func (t *FuncTool[In, Out]) validatedCall(ctx context.Context, args json.RawMessage) (ToolResult, error) {
	if t.err != nil {
		return ToolResult{}, t.err
	}
	return t.call(ctx, args)
}

func (t *FuncTool[In, Out]) resolvedSchema() *jsonschema.Resolved { return t.resolved }

// prevalidated is implemented by tools whose schema the agent need not resolve itself.
type prevalidated interface {
	resolvedSchema() *jsonschema.Resolved
	validatedCall(ctx context.Context, args json.RawMessage) (ToolResult, error)
}

func renderOutput(out any) (ToolResult, error) {
	switch v := out.(type) {
	case string:
		return ToolResult{Content: v}, nil
	case ToolResult:
		return v, nil
	case *ToolResult:
		if v == nil {
			return ToolResult{}, nil
		}
		return *v, nil
	case json.RawMessage:
		return ToolResult{Content: string(v)}, nil
	case []byte:
		return ToolResult{Content: string(v)}, nil
	case fmt.Stringer:
		return ToolResult{Content: v.String()}, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return ToolResult{}, fmt.Errorf("encoding tool output: %w", err)
	}
	return ToolResult{Content: string(b)}, nil
}

// ArgumentError reports tool-call arguments the model must fix: not JSON, not an object, or a schema
// violation. Its Error text is written for the model: it names the field and what was expected.
type ArgumentError struct {
	// Field is the path of the offending field ("a", "items[].qty"), "" for the whole arguments.
	Field string
	// Expected is the expected JSON type or constraint ("integer", "one of [\"a\" \"b\"]"), if known.
	Expected string
	// Got describes what was received ("string", "array"), if known.
	Got string
	// Detail is the rest of the explanation.
	Detail string
}

// Error formats the error for the model, for example
// `invalid arguments: field "a": expected integer, got string`.
func (e *ArgumentError) Error() string {
	var b strings.Builder
	b.WriteString("invalid arguments")
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	switch {
	case e.Expected != "" && e.Got != "":
		fmt.Fprintf(&b, ": expected %s, got %s", e.Expected, e.Got)
	case e.Expected != "":
		fmt.Fprintf(&b, ": expected %s", e.Expected)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// normalizeArguments maps empty, whitespace-only and null arguments to {}.
func normalizeArguments(args []byte) json.RawMessage {
	t := bytes.TrimSpace(args)
	if len(t) == 0 || string(t) == "null" {
		return json.RawMessage("{}")
	}
	return args
}

// parseArguments normalises args and decodes them, requiring a JSON object.
func parseArguments(args json.RawMessage) (json.RawMessage, any, error) {
	args = normalizeArguments(args)
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		return args, nil, &ArgumentError{Detail: "not valid JSON (" + jsonErrText(err) + "); send the arguments as one JSON object"}
	}
	if _, ok := v.(map[string]any); !ok {
		return args, nil, &ArgumentError{Expected: "a JSON object", Got: jsonTypeName(v)}
	}
	if key, dup := duplicateKey(args); dup {
		// encoding/json keeps the last value; a guardrail that read the first would be fooled.
		return args, nil, &ArgumentError{Field: key, Detail: "the field appears more than once; send each field once"}
	}
	return args, v, nil
}

// duplicateKey reports the first key that appears twice in one object of data, which must be valid
// JSON. Keys are compared after unescaping ("a" and "\\u0061" are the same key). It does not
// allocate for objects of up to 16 keys in all and 8 levels of nesting.
func duplicateKey(data []byte) (string, bool) {
	type frame struct {
		obj, wantKey bool
		keys         int // index in keys where this object's keys start
	}
	var fbuf [8]frame
	var kbuf [16][]byte
	stack, keys := fbuf[:0], kbuf[:0]
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{':
			stack = append(stack, frame{obj: true, wantKey: true, keys: len(keys)})
		case '[':
			stack = append(stack, frame{keys: len(keys)})
		case '}', ']':
			if n := len(stack); n > 0 {
				keys = keys[:stack[n-1].keys]
				stack = stack[:n-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].obj {
				stack[n-1].wantKey = true
			}
		case '"':
			end, escaped := i+1, false
			for end < len(data) && data[end] != '"' {
				if data[end] == '\\' {
					escaped = true
					end++
				}
				end++
			}
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				f := &stack[n-1]
				key := data[i+1 : min(end, len(data))]
				if escaped {
					var k string
					if json.Unmarshal(data[i:min(end+1, len(data))], &k) == nil {
						key = []byte(k)
					}
				}
				for _, seen := range keys[f.keys:] {
					if bytes.Equal(seen, key) {
						return string(key), true
					}
				}
				keys = append(keys, key)
				f.wantKey = false
			}
			i = end
		}
	}
	return "", false
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// decodeError translates an encoding/json decoding error into an ArgumentError.
func decodeError(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return &ArgumentError{Field: ute.Field, Expected: goKindToJSON(ute.Type), Got: ute.Value}
	}
	return &ArgumentError{Detail: jsonErrText(err)}
}

func goKindToJSON(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// resolveSchema parses and resolves a raw JSON Schema of an arguments object.
func resolveSchema(raw json.RawMessage) (*jsonschema.Resolved, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	if s.Type != "" && s.Type != "object" {
		return nil, fmt.Errorf("type is %q, want \"object\" (tool arguments are a JSON object)", s.Type)
	}
	r, err := s.Resolve(nil)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// validateArguments checks the decoded arguments v against the resolved schema and translates a
// violation into an *ArgumentError. raw is the schema's wire form, used to look up expected types.
func validateArguments(r *jsonschema.Resolved, raw json.RawMessage, v any) error {
	if r == nil {
		return nil
	}
	err := r.Validate(v)
	if err == nil {
		return nil
	}
	return translateValidation(err.Error(), raw)
}

var (
	reValidating = regexp.MustCompile(`validating (/[^:]*|root): `)
	reType       = regexp.MustCompile(`^type: .* has type "([a-z]+)", want (?:one of )?(.+)$`)
	reRequired   = regexp.MustCompile(`^required: missing properties: \[(.*)\]$`)
	reAdditional = regexp.MustCompile(`^unexpected additional properties \[(.*)\]$`)
	reEnum       = regexp.MustCompile(`^enum: .* does not equal any of: (.*)$`)
)

// translateValidation turns a google/jsonschema-go validation message, such as
// `validating root: validating /properties/a: type: x has type "string", want "integer"`,
// into an ArgumentError with a field path and the expected type.
func translateValidation(msg string, raw json.RawMessage) error {
	pointer := ""
	rest := msg
	for {
		loc := reValidating.FindStringSubmatchIndex(rest)
		if loc == nil || loc[0] != 0 {
			break
		}
		if p := rest[loc[2]:loc[3]]; p != "root" {
			pointer = p
		}
		rest = rest[loc[1]:]
	}
	field := pointerToField(pointer)
	ae := &ArgumentError{Field: field}
	switch {
	case reType.MatchString(rest):
		m := reType.FindStringSubmatch(rest)
		ae.Got = m[1]
		ae.Expected = strings.NewReplacer(`"`, "", "[", "", "]", "", " ", " or ").Replace(m[2])
	case reRequired.MatchString(rest):
		names := splitQuoted(reRequired.FindStringSubmatch(rest)[1])
		ae.Field = joinField(field, names[0])
		ae.Detail = "required field is missing"
		ae.Expected = schemaTypeAt(raw, pointer+"/properties/"+names[0])
	case reAdditional.MatchString(rest):
		names := splitQuoted(reAdditional.FindStringSubmatch(rest)[1])
		ae.Field = joinField(field, names[0])
		allowed := schemaPropertyNames(raw, pointer)
		ae.Detail = "unknown field"
		if len(allowed) > 0 {
			ae.Detail += "; allowed fields: " + strings.Join(allowed, ", ")
		}
	case reEnum.MatchString(rest):
		ae.Expected = "one of " + reEnum.FindStringSubmatch(rest)[1]
	default:
		ae.Detail = rest
		if ae.Field != "" {
			ae.Expected = schemaTypeAt(raw, pointer)
		}
	}
	return ae
}

func splitQuoted(s string) []string {
	var out []string
	for _, f := range strings.Split(s, " ") {
		if u, err := strconv.Unquote(f); err == nil {
			out = append(out, u)
		} else if f != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = []string{s}
	}
	return out
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// pointerToField converts a schema JSON pointer to a field path:
// /properties/items/items/properties/qty becomes items[].qty.
func pointerToField(p string) string {
	if p == "" {
		return ""
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	var b strings.Builder
	for i := 0; i < len(parts); i++ {
		switch parts[i] {
		case "properties", "patternProperties":
			if i+1 < len(parts) {
				i++
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(unescapePointer(parts[i]))
			}
		case "items", "additionalItems":
			b.WriteString("[]")
		case "prefixItems":
			if i+1 < len(parts) {
				i++
				b.WriteString("[" + parts[i] + "]")
			}
		case "additionalProperties":
			b.WriteString(".*")
		case "anyOf", "oneOf", "allOf", "$defs", "definitions":
			i++ // skip the index or definition name
		}
	}
	return b.String()
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// schemaCache keeps decoded schemas for the error path only.
var schemaCache sync.Map // string(raw) -> map[string]any

func schemaAt(raw json.RawMessage, pointer string) map[string]any {
	var root any
	if c, ok := schemaCache.Load(string(raw)); ok {
		root = c
	} else if json.Unmarshal(raw, &root) == nil {
		schemaCache.Store(string(raw), root)
	}
	cur := root
	if pointer != "" {
		for _, p := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[unescapePointer(p)]
			case []any:
				i, err := strconv.Atoi(p)
				if err != nil || i < 0 || i >= len(c) {
					return nil
				}
				cur = c[i]
			default:
				return nil
			}
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

func schemaTypeAt(raw json.RawMessage, pointer string) string {
	m := schemaAt(raw, pointer)
	if m == nil {
		return ""
	}
	switch t := m["type"].(type) {
	case string:
		return t
	case []any:
		var s []string
		for _, x := range t {
			s = append(s, fmt.Sprint(x))
		}
		return strings.Join(s, " or ")
	}
	if e, ok := m["enum"].([]any); ok {
		b, _ := json.Marshal(e)
		return "one of " + string(b)
	}
	return ""
}

func schemaPropertyNames(raw json.RawMessage, pointer string) []string {
	m := schemaAt(raw, pointer)
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// job is one tool call of a step on its way through the executor.
type job struct {
	rec  ToolCallRecord
	ent  *toolEntry
	args json.RawMessage
	done bool   // the result is known without running the tool
	note string // appended to the result (the loop-detection note)
	run  string // RunState.ID, for the Tracer
	step int
}

// canonicalCall is the identity loop detection compares: the tool name and the arguments decoded
// with UseNumber and re-encoded with sorted keys (so key order and spacing do not hide a repeat;
// numbers keep their spelling); arguments that do not decode compare as their bytes.
func canonicalCall(c llm.ToolCall) string {
	dec := json.NewDecoder(strings.NewReader(c.Arguments))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if b, err := json.Marshal(v); err == nil {
			return c.Name + "\x00" + string(b)
		}
	}
	return c.Name + "\x00\x01" + c.Arguments
}

// execute runs the tool calls of one step and returns one record per call, in call order.
//
// Phase 1, one call at a time in call order: arguments normalised ({} for empty or null), the tool
// looked up, the BeforeToolCall hook asked, the arguments checked (JSON object, schema). Phase 2: the
// calls that passed run concurrently, at most a.parallel at once, each under a.toolTimeout; a call
// that does not return within a.grace after its context ends is abandoned. Every call gets exactly one
// result, also when ctx is cancelled or a hook fails (the error is returned beside the records).
func (a *Agent) execute(ctx context.Context, st *RunState, calls []llm.ToolCall, emit func(Event), step int) ([]ToolCallRecord, error) {
	jobs := make([]job, len(calls))
	var hookErr error
	for i, c := range calls {
		j := &jobs[i]
		j.run, j.step = st.ID, step
		c.Arguments = string(normalizeArguments([]byte(c.Arguments)))
		j.rec.Call = c
		if hookErr != nil {
			j.fail("not executed: the run stopped before this call: " + hookErr.Error())
			continue
		}
		if err := ctx.Err(); err != nil {
			j.fail("not executed: the run was cancelled (" + err.Error() + ")")
			continue
		}
		if a.maxCalls > 0 && i >= a.maxCalls {
			j.fail(fmt.Sprintf("not executed: this answer has %d tool calls and at most %d run per step; make fewer calls at once", len(calls), a.maxCalls))
			continue
		}
		if n := st.countRepeat(c, step); a.loopStop > 0 && n >= a.loopStop {
			hookErr = fmt.Errorf("%w: %s was called %d times in a row with the same arguments", ErrLoopDetected, c.Name, n)
			j.fail(fmt.Sprintf("not executed: this is call %d in a row of %s with the same arguments; the run stops (loop detected)", n, c.Name))
			continue
		} else if a.loopWarn > 0 && n >= a.loopWarn {
			j.note = fmt.Sprintf("\n\n[note from the agent loop: this is call %d in a row of %s with the same arguments; repeating it will not help. "+
				"Try a different approach or give your final answer.", n, c.Name)
			if a.loopStop > 0 {
				j.note += fmt.Sprintf(" Call %d in a row would stop the run.", a.loopStop)
			}
			j.note += "]"
		}
		ent, ok := a.tools[c.Name]
		if !ok {
			j.fail(a.unknownToolText(c.Name))
			continue
		}
		j.ent = ent
		if h := a.hooks.BeforeToolCall; h != nil {
			v, err := h(ctx, c)
			if err != nil {
				hookErr = fmt.Errorf("agent: BeforeToolCall hook: %w", err)
				j.fail("not executed: the run stopped: " + hookErr.Error())
				continue
			}
			if v.Deny {
				reason := v.Reason
				if reason == "" {
					reason = "no reason given"
				}
				j.fail("tool call denied: " + reason)
				continue
			}
			if v.Arguments != "" {
				c.Arguments = string(normalizeArguments([]byte(v.Arguments)))
				j.rec.Call = c
			}
		}
		args, val, err := parseArguments(json.RawMessage(c.Arguments))
		if err == nil {
			err = validateArguments(ent.resolved, ent.schema, val)
		}
		if err != nil {
			j.fail(err.Error())
			continue
		}
		j.args = args
		emit(Event{Kind: EventToolCall, Step: step, ToolCall: &j.rec.Call, ToolCallID: j.rec.Call.ID})
	}
	if hookErr == nil {
		a.runJobs(ctx, jobs)
	} else {
		// A later call stopped the run: calls that passed their checks never ran.
		for i := range jobs {
			if !jobs[i].done {
				jobs[i].fail("not executed: the run stopped before this call ran: " + hookErr.Error())
			}
		}
	}
	records := make([]ToolCallRecord, len(jobs))
	for i := range jobs {
		records[i] = jobs[i].rec
		records[i].Result.Content += jobs[i].note
		r := &records[i]
		if h := a.hooks.AfterToolCall; h != nil {
			h(ctx, r.Call, r.Result)
		}
		if a.log != nil {
			attrs := []any{"run", st.ID, "step", step, "tool", r.Call.Name, "tool_call_id", r.Call.ID,
				"is_error", r.Result.IsError, "abandoned", r.Abandoned, "duration", r.Duration}
			if r.Result.IsError {
				attrs = append(attrs, "error", shortText(r.Result.Content, 300))
			}
			a.log.DebugContext(ctx, "tool call", attrs...)
		}
		emit(Event{Kind: EventToolResult, Step: step, ToolCall: &r.Call, ToolCallID: r.Call.ID, ToolResult: &r.Result, Duration: r.Duration})
	}
	return records, hookErr
}

func (j *job) fail(msg string) {
	j.rec.Result = ToolResult{Content: msg, IsError: true}
	j.done = true
}

func (a *Agent) unknownToolText(name string) string {
	names := make([]string, 0, len(a.specs))
	for _, s := range a.specs {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return fmt.Sprintf("unknown tool %q: no tools are available; answer with text", name)
	}
	return fmt.Sprintf("unknown tool %q; available tools: %s", name, strings.Join(names, ", "))
}

// runJobs runs the pending jobs, bounded by a.parallel, and waits for each to end or be abandoned.
func (a *Agent) runJobs(ctx context.Context, jobs []job) {
	pending := 0
	for i := range jobs {
		if !jobs[i].done {
			pending++
		}
	}
	switch {
	case pending == 0:
		return
	case pending == 1 || a.parallel == 1:
		for i := range jobs {
			if jobs[i].done {
				continue
			}
			if err := ctx.Err(); err != nil {
				jobs[i].fail("not executed: the run was cancelled (" + err.Error() + ")")
				continue
			}
			a.runJob(ctx, &jobs[i])
		}
		return
	}
	sem := make(chan struct{}, a.parallel)
	var wg sync.WaitGroup
	for i := range jobs {
		j := &jobs[i]
		if j.done {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			// Checked after a slot was won too: a call not started before cancellation never starts.
			j.fail("not executed: the run was cancelled (" + err.Error() + ")")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a.runJob(ctx, j)
		}()
	}
	wg.Wait()
}

type callOutcome struct {
	res ToolResult
	err error
}

// runJob runs one tool call on its own goroutine and waits for it, or abandons it a.grace after its
// context ended.
func (a *Agent) runJob(ctx context.Context, j *job) {
	tctx, cancel := ctx, context.CancelFunc(func() {})
	if a.toolTimeout > 0 {
		tctx, cancel = context.WithTimeout(ctx, a.toolTimeout)
	}
	defer cancel()
	if a.tracer != nil {
		call := j.rec.Call
		call.Arguments = a.red.String(call.Arguments)
		var end func(ToolResult)
		tctx, end = a.tracer.StartToolCall(tctx, ToolCallInfo{RunID: j.run, Step: j.step, Call: call, Description: j.ent.tool.Description()})
		defer func() {
			r := j.rec.Result
			r.Content = a.red.String(r.Content)
			end(r)
		}()
	}
	start := time.Now()
	out := make(chan callOutcome, 1) // buffered: an abandoned call's goroutine never blocks
	go func() {
		var o callOutcome
		returned := false
		defer func() {
			if p := recover(); p != nil {
				o = callOutcome{err: fmt.Errorf("tool panicked: %v", p)}
				if a.log != nil {
					a.log.Error("tool panicked", "run", j.run, "step", j.step, "tool", j.rec.Call.Name, "tool_call_id", j.rec.Call.ID, "panic", p, "stack", string(debug.Stack()))
				}
			} else if !returned {
				// runtime.Goexit (t.FailNow in a test, for one) ends the goroutine without a panic.
				o = callOutcome{err: errors.New("tool exited its goroutine without returning (runtime.Goexit)")}
			}
			out <- o
		}()
		if j.ent.pre != nil {
			o.res, o.err = j.ent.pre.validatedCall(tctx, j.args)
		} else {
			o.res, o.err = j.ent.tool.Call(tctx, j.args)
		}
		returned = true
	}()
	var o callOutcome
	select {
	case o = <-out:
	case <-tctx.Done():
		grace := time.NewTimer(a.grace)
		select {
		case o = <-out:
			grace.Stop()
		case <-grace.C:
			j.rec.Executed, j.rec.Abandoned = true, true
			j.rec.Duration = time.Since(start)
			j.rec.Result = ToolResult{IsError: true, Content: fmt.Sprintf(
				"tool call abandoned: %s, and the tool did not return within the %v grace period",
				ctxEndText(ctx, tctx, a.toolTimeout), a.grace)}
			return
		}
	}
	j.rec.Executed = true
	j.rec.Duration = time.Since(start)
	switch {
	case o.err != nil:
		msg := o.err.Error()
		if tctx.Err() != nil && (errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded)) {
			msg = "tool call stopped: " + ctxEndText(ctx, tctx, a.toolTimeout)
		}
		j.rec.Result = ToolResult{Content: msg, IsError: true}
	default:
		j.rec.Result = o.res
	}
}

func ctxEndText(run, call context.Context, timeout time.Duration) string {
	if run.Err() != nil {
		return "the run was cancelled (" + run.Err().Error() + ")"
	}
	if errors.Is(call.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("timed out after %v", timeout)
	}
	return "cancelled (" + call.Err().Error() + ")"
}

// shortText returns s cut to at most n bytes at a rune boundary, with "..." when cut.
func shortText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
