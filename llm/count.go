package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// TokenCount is a number of prompt tokens and how sure it is.
type TokenCount struct {
	// Tokens is the number of input (prompt) tokens.
	Tokens int
	// Estimate is true when Tokens is an estimate (a non-OpenAI or unknown model: counted with
	// o200k_base as a proxy, safety margin included), false when it is the exact billed figure.
	Estimate bool
}

// Counter counts the prompt tokens one model bills for a Request. Build it with NewCounter; it is
// immutable (apart from an internal cache) and safe for concurrent use.
//
// The rules are those of TOKEN_RULES.md (measured against recorded OpenAI usage), which extend
// the OpenAI cookbook "How to count tokens with tiktoken": each message is framed by a few
// tokens, tool definitions are billed as a rendered TypeScript-like text joined to the first
// system message, tool calls and tool results are rendered as addressed messages, and the reply
// is primed with a few tokens. For non-OpenAI models the same ChatML-style count, made with
// o200k_base, is an estimate and grows by the model's SafetyMargin.
type Counter struct {
	info    ModelInfo
	tok     *Tokenizer
	d       dialect
	rewrite bool // apply langchaingo's request rewrite (see Count)

	seed  maphash.Seed
	cache *sync.Map // hash of tools + response format -> extraCost
}

// dialect holds the rules that depend on the model, derived from its ModelInfo.
type dialect struct {
	harmony bool // FamilyHarmony framing (TOKEN_RULES.md "Harmony models")
	// openai is false for estimate families (Anthropic, Google, Ollama): tools are then counted
	// as their JSON definitions.
	openai bool
	// gpt5Tools: a flat +80 tokens when tools are sent, +1 if a function has properties (gpt-5*).
	gpt5Tools bool
	// toolResultTo: a tool result costs 6 + T("functions.NAME to=assistant") + T(content)
	// (gpt-5*, o4-mini, and, by the same generation, o3 and o3-pro) instead of
	// 3 + T("functions.NAME") + T(content) (ChatML models and o3-mini).
	toolResultTo bool
	// titles: property titles are rendered (all models but gpt-4 / gpt-4-0613 / gpt-4-0314).
	titles bool
	// spacedParams: count "(_: {" rather than "(_:{" (cl100k_base models).
	spacedParams bool
	// bareNames: functions are addressed by their bare name, without the "functions." namespace,
	// in tool calls ("assistant to=NAME") and tool results (author NAME): gpt-4-0613, the first
	// function-calling model, and its alias gpt-4. Inferred from a recorded gpt-4 exchange and
	// TOKEN_RULES.md's note that gpt-4-0613 bills function results 1-2 tokens fewer: exactly
	// T("functions." + NAME) - T(NAME).
	bareNames bool
	// foldSystem: langchaingo sends no system messages to this model name; it prepends their
	// text to the first user message instead.
	foldSystem bool
	// anthropicTools is the tool-use system prompt Anthropic adds when tools are sent:
	// [0] for tool_choice auto or none, [1] for any or a named tool.
	anthropicTools [2]int
}

// foldSystemModels are the names langchaingo v0.1.14 treats as having no system role
// (llms/openai/openaillm.go, modelCapabilities: `(?i)^o[13](-mini|-preview)?$`).
var foldSystemModels = regexp.MustCompile(`(?i)^o[13](-mini|-preview)?$`)

func dialectFor(info ModelInfo) dialect {
	name := strings.ToLower(info.Name)
	d := dialect{
		harmony:      info.Family == FamilyHarmony,
		openai:       info.Family != FamilyAnthropic && info.Family != FamilyGoogle && info.Family != FamilyOllama,
		titles:       true,
		spacedParams: info.Encoding == EncodingCl100kBase,
		foldSystem:   foldSystemModels.MatchString(info.Name),
	}
	if d.harmony {
		d.gpt5Tools = strings.HasPrefix(name, "gpt-5")
		d.toolResultTo = !strings.HasPrefix(name, "o3-mini")
	}
	// gpt-4 (an alias of gpt-4-0613), gpt-4-0613 and gpt-4-0314 do not render titles
	// (TOKEN_RULES.md, tool definitions).
	switch name {
	case "gpt-4", "gpt-4-0613", "gpt-4-0314":
		d.titles = false
		d.bareNames = true
	}
	if info.Family == FamilyAnthropic {
		// Anthropic's tool-use system prompt, in tokens, by model (Anthropic docs, "Tool use
		// with Claude", pricing table, as of October 2025).
		switch {
		case strings.HasPrefix(name, "claude-3-opus"):
			d.anthropicTools = [2]int{530, 281}
		case strings.HasPrefix(name, "claude-3-sonnet"):
			d.anthropicTools = [2]int{159, 235}
		case strings.HasPrefix(name, "claude-3-haiku"), strings.HasPrefix(name, "claude-3-5-haiku"):
			d.anthropicTools = [2]int{264, 340}
		default:
			d.anthropicTools = [2]int{346, 313}
		}
	}
	return d
}

// NewCounter returns a Counter for the model called model, with what LookupModel says about it
// (an unknown model is counted as an estimate; see LookupModel). The error is non-nil only when
// the model's Encoding is not one TokenizerFor knows (possible for a host-registered model) or
// the embedded ranks cannot be read.
func NewCounter(model string) (*Counter, error) {
	info, _ := LookupModel(model)
	return NewCounterFor(info)
}

// NewCounterFor returns a Counter for the model info describes, for hosts that build a ModelInfo
// themselves rather than registering it. An empty Encoding means o200k_base.
func NewCounterFor(info ModelInfo) (*Counter, error) {
	if info.Encoding == "" {
		info.Encoding = EncodingO200kBase
	}
	tok, err := TokenizerFor(info.Encoding)
	if err != nil {
		return nil, fmt.Errorf("llm: counter for %q: %w", info.Name, err)
	}
	return &Counter{info: info, tok: tok, d: dialectFor(info), rewrite: true,
		seed: maphash.MakeSeed(), cache: new(sync.Map)}, nil
}

// Info returns the ModelInfo the Counter counts for.
func (c *Counter) Info() ModelInfo { return c.info }

// Tokenizer returns the tokenizer of the model's encoding.
func (c *Counter) Tokenizer() *Tokenizer { return c.tok }

// AsSent returns a Counter for the same model that counts requests exactly as given, without
// the rewrite langchaingo applies before sending (see Count). Use it for request bodies taken
// from the wire, such as those ParseOpenAIChatRequest reads.
func (c *Counter) AsSent() *Counter {
	cc := *c
	cc.rewrite = false
	return &cc
}

// Fixed costs, in tokens, of the chat framing (OpenAI cookbook "How to count tokens with
// tiktoken"; TOKEN_RULES.md for the tool and harmony variants).
const (
	perMessage        = 3   // <|start|>{role}<|message|>{content}<|end|>: 3 tokens around role and content
	perName           = 1   // a message name costs 1 + T(name)
	primingPlain      = 3   // <|start|>assistant<|message|> priming the reply, ChatML without tools
	primingTools      = 2   // ChatML with tools or functions, and every harmony model
	perToolCall       = 4   // an assistant message addressed to a function: 4 + T(header) + T(args)
	perExtraMessage   = 4   // a system message of tools or response-format text: 3 + T("system")
	perToolResultTo   = 6   // harmony tool result: 6 + T("functions.NAME to=assistant") + T(content)
	perNamedChoice    = 4   // ChatML named tool_choice: T("assistant to=functions.NAME") - T("assistant") + 4
	anthropicToolsMax = 530 // the largest Anthropic tool-use system prompt (Claude 3 Opus)
	gpt5ToolsFlat     = 80  // gpt-5* with tools (measured; the text behind it is unknown)
	gpt5ToolsWithArg  = 1   // gpt-5* when a function has properties
)

// Count returns the prompt (input) tokens the provider will bill for req.
//
// For OpenAI models (FamilyChatML, FamilyHarmony, and host families other than Anthropic, Google
// and Ollama) the count follows TOKEN_RULES.md, where T(s) is the token count of s in the
// model's encoding:
//   - every message costs 3 + T(role) + T(content), plus 1 + T(name) when it has a name
//     (OpenAI cookbook "How to count tokens with tiktoken");
//   - an assistant message with one tool call costs 4 + T("assistant to=functions.") + T(NAME) +
//     T(ARGS), ARGS being the arguments re-serialised compactly when they are JSON, as sent
//     otherwise; with several calls, 4 + T("assistant to=multi_tool_use.parallel json") +
//     T({"tool_uses":[{"recipient_name":"functions.NAME","parameters":ARGS},...]}), an
//     approximation (an open problem of TOKEN_RULES.md); its text, if any, costs as a separate
//     assistant message;
//   - a tool result costs 3 + T("functions." + NAME) + T(content) (ChatML models, o3-mini), or
//     6 + T("functions." + NAME + " to=assistant") + T(content) (other harmony models), NAME
//     being the name of the call it answers (by ToolCallID), else the message's Name;
//   - gpt-4 and gpt-4-0613 address functions by their bare names: 4 + T("assistant to=") +
//     T(NAME) + T(ARGS) for a call, 3 + T(NAME) + T(content) for a result (inferred from the
//     recorded usage of a gpt-4 request, and matching TOKEN_RULES.md's note that gpt-4-0613 bills
//     function results 1-2 tokens fewer);
//   - the tools, rendered as TypeScript-like declarations ("# Tools\n\n## functions\n\n
//     namespace functions {...} // namespace functions"), are appended to the first system (or
//     developer) message after "\n\n" (after a "# Instructions\n\n" prefix on harmony models);
//     with no system message they form one more message costing 4 + T(text);
//   - a json_schema response format adds "# Response Formats\n\n## NAME\n\n" + the schema as
//     compact JSON (see below): on ChatML models as a message of its own, 4 + T(text) (inferred
//     from recorded gpt-4o usage, exact on both recordings), on harmony models after the tools in
//     the system message; "text" and "json_object" add nothing;
//   - the reply is primed with 3 tokens (ChatML without tools) or 2 (ChatML with tools, harmony);
//   - gpt-5* adds 80 tokens when tools are sent, 81 when one of them has properties; a named
//     tool_choice on a ChatML model adds T("assistant to=functions.NAME") - T("assistant") + 4;
//     other tool_choice values add nothing.
//
// The response-format schema is billed without "title", "required" and "additionalProperties" in
// nested schemas, and, when Strict is set, without "required" and "additionalProperties" at the
// top level too (strict mode implies them).
//
// Before counting, the request is rewritten as langchaingo v0.1.14 rewrites it for the model
// names o1, o1-mini, o1-preview, o3, o3-mini (exactly these, any case): system messages are
// removed and their text, joined by "\n\n", is prepended with "\n\n" to the first user message
// (dropped if there is none). AsSent returns a Counter that skips this.
//
// For Anthropic, Google and Ollama models the same count is made with o200k_base, tools are
// counted as their JSON definitions (plus Anthropic's tool-use system prompt, from Anthropic's
// documentation), and the total grows by SafetyMargin, rounded up. TokenCount.Estimate is set
// whenever ModelInfo.Estimate is (these models and unknown ones).
//
// Relation to CountMessage: Count(req).Tokens = the sum of CountMessage over req.Messages +
// Overhead(req). The overhead holds the reply priming, the tools and response-format text (and
// the effect of joining it to the first system message), the gpt-5 and tool_choice extras and
// the langchaingo rewrite.
//
// A nil req counts as an empty one. The error is non-nil only if tokenising fails unexpectedly
// (wrapping ErrTokenizer).
func (c *Counter) Count(req *Request) (tc TokenCount, err error) {
	defer func() {
		if r := recover(); r != nil {
			tc, err = TokenCount{}, fmt.Errorf("%w: counting for %s: panic: %v", ErrTokenizer, c.info.Name, r)
		}
	}()
	n := c.count(req)
	return TokenCount{Tokens: c.margin(n), Estimate: c.info.Estimate}, nil
}

// CountMessage returns the tokens one message costs inside a request, framing included, as Count
// counts it: toolName is, for a RoleTool message, the name of the function whose call it answers
// (the caller looks it up by ToolCallID; "" means msg.Name). It does not include what Count adds
// for the request as a whole (see Overhead): for the first system message, the tools text that
// joins it is part of the overhead. For estimate models the margin is applied per message,
// rounded up. The error is non-nil only if the tokenizer fails.
func (c *Counter) CountMessage(msg Message, toolName string) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: counting for %s: panic: %v", ErrTokenizer, c.info.Name, r)
		}
	}()
	if toolName == "" {
		toolName = msg.Name
	}
	return c.margin(c.message(msg, toolName)), nil
}

// Overhead returns Count(req).Tokens minus the sum of CountMessage over req.Messages (each tool
// result with the name of the call it answers): the tokens req costs beyond its messages, such as
// the reply priming and the tool definitions. A caller that fits a prompt message by message
// computes it once for the pinned part of the request (system prompt and tools), then adds
// CountMessage per history message. It can be negative in corner cases (the langchaingo rewrite
// merges messages). The error is non-nil only if the tokenizer fails.
func (c *Counter) Overhead(req *Request) (int, error) {
	total, err := c.Count(req)
	if err != nil {
		return 0, err
	}
	if req == nil {
		return total.Tokens, nil
	}
	names := callNames(req.Messages)
	sum := 0
	for _, m := range req.Messages {
		n, err := c.CountMessage(m, names[m.ToolCallID])
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return total.Tokens - sum, nil
}

// margin applies the safety margin of an estimate model to n tokens, rounding up.
func (c *Counter) margin(n int) int {
	if !c.info.Estimate || c.info.SafetyMargin <= 0 {
		return n
	}
	return int(math.Ceil(float64(n) * (1 + c.info.SafetyMargin)))
}

// t counts the tokens of s (plain text).
func (c *Counter) t(s string) int { return c.tok.count(s) }

// callNames maps tool-call IDs to function names over msgs.
func callNames(msgs []Message) map[string]string {
	var names map[string]string
	for _, m := range msgs {
		for _, tc := range m.ToolCalls {
			if tc.ID == "" {
				continue
			}
			if names == nil {
				names = make(map[string]string)
			}
			names[tc.ID] = tc.Name
		}
	}
	return names
}

// isSystem reports whether a message is a system prompt (OpenAI's "developer" role included).
func isSystem(r Role) bool { return r == RoleSystem || r == "developer" }

// count is Count before the safety margin.
func (c *Counter) count(req *Request) int {
	if req == nil {
		req = &Request{}
	}
	msgs := req.Messages
	if c.rewrite && c.d.foldSystem {
		msgs = foldSystem(msgs)
	}
	extra := c.extra(req)
	names := callNames(msgs)

	n := 0
	joined := extra.text == ""
	for _, m := range msgs {
		if !joined && isSystem(m.Role) && len(m.ToolCalls) == 0 {
			n += c.systemWithExtra(m, extra)
			joined = true
			continue
		}
		name := m.Name
		if m.Role == RoleTool {
			if called, ok := names[m.ToolCallID]; ok {
				name = called
			}
		}
		n += c.message(m, name)
	}
	if !joined {
		n += perExtraMessage + extra.tokens
	}
	n += extra.own + extra.flat

	switch {
	case !c.d.openai:
		n += primingPlain
	case c.d.harmony || len(req.Tools) > 0:
		n += primingTools
	default:
		n += primingPlain
	}
	if c.d.openai && !c.d.harmony && len(req.Tools) > 0 {
		switch req.ToolChoice {
		case "", ToolChoiceAuto, ToolChoiceNone, ToolChoiceRequired:
		default:
			header := "assistant to=functions."
			if c.d.bareNames {
				header = "assistant to="
			}
			n += c.t(header+req.ToolChoice) - c.t("assistant") + perNamedChoice
		}
	}
	if c.d.anthropicTools[0] > 0 && len(req.Tools) > 0 {
		switch req.ToolChoice {
		case "", ToolChoiceAuto, ToolChoiceNone:
			n += c.d.anthropicTools[0]
		default:
			n += c.d.anthropicTools[1]
		}
	}
	return n
}

// systemWithExtra counts the first system message with the tools and response-format text joined
// to it.
func (c *Counter) systemWithExtra(m Message, extra extraCost) int {
	var b strings.Builder
	if c.d.harmony && extra.hasTools {
		b.WriteString("# Instructions\n\n")
	}
	b.WriteString(m.Content)
	b.WriteString("\n\n")
	// The extra text starts with "#", where a new pre-tokenisation piece always begins whatever
	// precedes it, so T(content + "\n\n" + extra) = T(content + "\n\n") + T(extra).
	n := perMessage + c.t(string(m.Role)) + c.t(b.String()) + extra.tokens
	if m.Name != "" {
		n += perName + c.t(m.Name)
	}
	return n
}

// message counts one message (never the tools text).
func (c *Counter) message(m Message, toolName string) int {
	switch {
	case m.Role == RoleTool || m.Role == "function":
		if !c.d.openai {
			return perMessage + c.t(string(RoleTool)) + c.t(toolName) + c.t(m.Content)
		}
		switch {
		case c.d.toolResultTo:
			return perToolResultTo + c.t("functions."+toolName+" to=assistant") + c.t(m.Content)
		case c.d.bareNames:
			return perMessage + c.t(toolName) + c.t(m.Content)
		}
		return perMessage + c.t("functions."+toolName) + c.t(m.Content)
	case len(m.ToolCalls) > 0:
		n := 0
		if m.Content != "" {
			n += perMessage + c.t(string(m.Role)) + c.t(m.Content)
		}
		return n + c.toolCalls(m.ToolCalls)
	}
	n := perMessage + c.t(string(m.Role)) + c.t(m.Content)
	if m.Name != "" {
		n += perName + c.t(m.Name)
	}
	return n
}

// toolCalls counts the tool calls of one assistant message.
func (c *Counter) toolCalls(calls []ToolCall) int {
	if !c.d.openai {
		n := perMessage + c.t(string(RoleAssistant))
		for _, tc := range calls {
			n += c.t(tc.Name) + c.t(tc.Arguments) + perMessage
		}
		return n
	}
	if len(calls) == 1 {
		tc := calls[0]
		header := "assistant to=functions."
		if c.d.bareNames {
			header = "assistant to="
		}
		return perToolCall + c.t(header) + c.t(tc.Name) + c.t(compactArgs(tc.Arguments))
	}
	var b strings.Builder
	b.WriteString(`{"tool_uses":[`)
	for i, tc := range calls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"recipient_name":`)
		b.WriteString(quoteJSON("functions." + tc.Name))
		b.WriteString(`,"parameters":`)
		args := compactArgs(tc.Arguments)
		if !json.Valid([]byte(args)) {
			args = quoteJSON(args)
		}
		b.WriteString(args)
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return perToolCall + c.t("assistant to=multi_tool_use.parallel json") + c.t(b.String())
}

// compactArgs returns tool-call arguments as the model sees them: valid JSON re-serialised
// compactly (no insignificant white space, key order and string escapes kept), anything else
// as sent (TOKEN_RULES.md).
func compactArgs(args string) string {
	if !json.Valid([]byte(args)) {
		return args
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(args)); err != nil {
		return args
	}
	if b.Len() == len(args) {
		return args
	}
	return b.String()
}

// foldSystem applies langchaingo's rewrite for models without a system role
// (llms/openai/openaillm.go, GenerateContent, v0.1.14): system texts joined by "\n\n" become a
// first text part, followed by "\n\n", of the first user message. The two parts are counted as
// one text.
func foldSystem(msgs []Message) []Message {
	var sys string
	found := false
	for _, m := range msgs {
		if m.Role == RoleSystem {
			found = true
			if sys != "" {
				sys += "\n\n"
			}
			sys += m.Content
		}
	}
	if !found {
		return msgs
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		switch {
		case m.Role == RoleSystem:
			continue
		case m.Role == RoleUser && sys != "":
			m.Content = sys + "\n\n" + m.Content
			sys = ""
		}
		out = append(out, m)
	}
	return out
}

// extraCost is what the tools and the response format add to a request.
type extraCost struct {
	text     string // the rendered text joined to the first system message ("" if none)
	tokens   int    // T(text)
	own      int    // tokens of a message of its own (ChatML's response-format message), framing included
	flat     int    // tokens added regardless of where the text goes (gpt-5's +80/+81)
	hasTools bool
}

// extra renders and counts the tools and response-format text of req, cached by content.
func (c *Counter) extra(req *Request) extraCost {
	rf := req.ResponseFormat
	if rf != nil && rf.Type != ResponseFormatJSONSchema {
		rf = nil // text and json_object add nothing (TOKEN_RULES.md: json_object 11/11)
	}
	if len(req.Tools) == 0 && rf == nil {
		return extraCost{}
	}
	var h maphash.Hash
	h.SetSeed(c.seed)
	for _, t := range req.Tools {
		h.WriteString(t.Name)
		h.WriteByte(0)
		h.WriteString(t.Description)
		h.WriteByte(0)
		h.Write(t.Parameters)
		h.WriteByte(1)
	}
	if rf != nil {
		h.WriteByte(2)
		h.WriteString(rf.Name)
		h.WriteByte(0)
		h.WriteString(rf.Description)
		h.WriteByte(0)
		h.Write(rf.Schema)
		if rf.Strict {
			h.WriteByte(3)
		}
	}
	key := h.Sum64()
	if v, ok := c.cache.Load(key); ok {
		return v.(extraCost)
	}
	e := extraCost{hasTools: len(req.Tools) > 0}
	if !c.d.openai {
		e.text = jsonExtra(req.Tools, rf)
	} else {
		var tools, format string
		tools, e.flat = c.renderTools(req.Tools)
		if rf != nil {
			format = responseFormatText(rf)
		}
		switch {
		case format == "":
			e.text = tools
		case c.d.harmony:
			// Harmony puts every section in the developer message (OpenAI harmony format).
			e.text = joinSections(tools, format)
		default:
			// ChatML: the response format is a system message of its own (inferred from
			// recorded gpt-4o usage: 4 + T(text) whether or not the request has a system message).
			e.text = tools
			e.own = perExtraMessage + c.t(format)
		}
	}
	e.tokens = c.t(e.text)
	if n := mapLen(c.cache); n >= 256 {
		c.cache.Clear()
	}
	c.cache.Store(key, e)
	return e
}

func joinSections(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}

func mapLen(m *sync.Map) int {
	n := 0
	m.Range(func(_, _ any) bool { n++; return n < 256 })
	return n
}

// renderTools renders the tools section (TOKEN_RULES.md, "Tool definitions") and returns gpt-5's
// flat extra.
func (c *Counter) renderTools(tools []ToolSpec) (string, int) {
	if len(tools) == 0 {
		return "", 0
	}
	var b strings.Builder
	b.WriteString("# Tools\n\n## functions\n\nnamespace functions {\n\n")
	withProps := false
	for i, t := range tools {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if c.renderFunction(&b, t) {
			withProps = true
		}
	}
	b.WriteString("\n\n} // namespace functions")
	flat := 0
	if c.d.gpt5Tools {
		flat = gpt5ToolsFlat
		if withProps {
			flat += gpt5ToolsWithArg
		}
	}
	return b.String(), flat
}

// responseFormatText renders a json_schema response format as billed: "# Response Formats\n\n##
// NAME\n\n" and the schema as compact JSON (see responseSchemaText). The description is not
// rendered (TOKEN_RULES.md).
func responseFormatText(rf *ResponseFormat) string {
	return "# Response Formats\n\n## " + rf.Name + "\n\n" + responseSchemaText(rf.Schema, rf.Strict)
}

// renderFunction writes one function declaration and reports whether it has properties.
func (c *Counter) renderFunction(b *strings.Builder, t ToolSpec) bool {
	if desc := strings.TrimSpace(t.Description); desc != "" {
		for line := range strings.SplitSeq(desc, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				b.WriteString("//\n")
			} else {
				b.WriteString("// ")
				b.WriteString(line)
				b.WriteByte('\n')
			}
		}
	}
	b.WriteString("type ")
	b.WriteString(t.Name)
	r := schemaRenderer{root: t.Parameters, titles: c.d.titles}
	props := r.properties(t.Parameters)
	if props == "" {
		b.WriteString(" = () => any;")
		return false
	}
	if c.d.spacedParams {
		b.WriteString(" = (_: {\n")
	} else {
		b.WriteString(" = (_:{\n")
	}
	b.WriteString(props)
	b.WriteString("}) => any;")
	return true
}

// jsonExtra is the tools and response-format text counted for estimate families: the JSON
// definitions, as such APIs receive them.
func jsonExtra(tools []ToolSpec, rf *ResponseFormat) string {
	var b strings.Builder
	for _, t := range tools {
		b.WriteString(`{"name":`)
		b.WriteString(quoteJSON(t.Name))
		b.WriteString(`,"description":`)
		b.WriteString(quoteJSON(t.Description))
		b.WriteString(`,"input_schema":`)
		b.WriteString(compactArgs(string(t.Parameters)))
		b.WriteString("}\n")
	}
	if rf != nil {
		b.WriteString(rf.Name)
		b.WriteByte('\n')
		b.WriteString(compactArgs(string(rf.Schema)))
	}
	return b.String()
}

// jsonMember is one member of a JSON object, in document order.
type jsonMember struct {
	key string
	val json.RawMessage
}

// jsonObject returns the members of raw in document order, or false if raw is not a JSON object.
// Duplicate keys are kept (the last one wins in get).
func jsonObject(raw json.RawMessage) ([]jsonMember, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []jsonMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, jsonMember{key, v})
	}
	return out, true
}

func get(obj []jsonMember, key string) (json.RawMessage, bool) {
	for i := len(obj) - 1; i >= 0; i-- {
		if obj[i].key == key {
			return obj[i].val, true
		}
	}
	return nil, false
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func jsonArray(raw json.RawMessage) ([]json.RawMessage, bool) {
	var a []json.RawMessage
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
		return nil, false
	}
	return a, true
}

// quoteJSON returns s as a JSON string, without escaping <, > and & (as Python's json.dumps).
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// schemaRenderer renders JSON Schemas as the TypeScript-like text OpenAI bills for tool
// parameters (TOKEN_RULES.md, "Tool definitions").
type schemaRenderer struct {
	root   json.RawMessage // the whole parameters schema, for local $ref
	titles bool
	depth  int
	active map[string]int // $ref targets being expanded: a recursive reference renders as any
	size   int            // bytes rendered so far, against maxSchemaText
}

// Limits on rendering pathological schemas: nesting depth, and the total text, in bytes, one
// function's parameters may expand to (a schema whose $refs fan out); beyond them a type renders
// as any.
const (
	maxSchemaDepth = 32
	maxSchemaText  = 1 << 22
)

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

// properties renders the properties of an object schema, one per line (comments first), or ""
// when it has none.
func (r *schemaRenderer) properties(schema json.RawMessage) string {
	obj, refs, ok := r.resolve(schema)
	if !ok {
		return ""
	}
	r.enter(refs)
	defer r.leave(refs)
	propsRaw, _ := get(obj, "properties")
	props, ok := jsonObject(propsRaw)
	if !ok || len(props) == 0 {
		return ""
	}
	required := map[string]bool{}
	if reqRaw, ok := get(obj, "required"); ok {
		if list, ok := jsonArray(reqRaw); ok {
			for _, v := range list {
				if s, ok := jsonString(v); ok {
					required[s] = true
				}
			}
		}
	}
	var b strings.Builder
	for _, p := range props {
		pobj, _, _ := r.resolve(p.val)
		title, hasTitle := "", false
		if r.titles {
			if v, ok := get(pobj, "title"); ok {
				title, hasTitle = jsonString(v)
			}
		}
		desc, hasDesc := "", false
		if v, ok := get(pobj, "description"); ok {
			desc, hasDesc = jsonString(v)
		}
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
		b.WriteString(r.typeOf(p.val))
		b.WriteByte(',')
		if v, ok := get(pobj, "default"); ok {
			b.WriteString(" // default: ")
			b.WriteString(compactJSON(v))
		}
		b.WriteByte('\n')
	}
	r.size += b.Len()
	return b.String()
}

// resolve returns the members of schema with a local "$ref" inlined: the referenced schema's
// members, overridden by the sibling keys of "$ref"; and the references it followed. It fails
// (false) for something that is not an object and for a reference already being expanded (a
// recursive schema).
func (r *schemaRenderer) resolve(schema json.RawMessage) ([]jsonMember, []string, bool) {
	obj, ok := jsonObject(schema)
	if !ok {
		return nil, nil, false
	}
	var refs []string
	for range maxSchemaDepth {
		ref, ok := get(obj, "$ref")
		if !ok {
			break
		}
		path, ok := jsonString(ref)
		if !ok {
			break
		}
		if r.active[path] > 0 || slices.Contains(refs, path) {
			return nil, nil, false
		}
		target, ok := r.pointer(path)
		if !ok {
			break
		}
		tobj, ok := jsonObject(target)
		if !ok {
			break
		}
		refs = append(refs, path)
		merged := make([]jsonMember, 0, len(tobj)+len(obj))
		merged = append(merged, tobj...)
		for _, m := range obj {
			if m.key != "$ref" {
				merged = append(merged, m)
			}
		}
		obj = merged
	}
	return obj, refs, true
}

// pointer follows a local JSON pointer ("#/$defs/Name") from the root schema.
func (r *schemaRenderer) pointer(ref string) (json.RawMessage, bool) {
	if !strings.HasPrefix(ref, "#") {
		return nil, false
	}
	cur := r.root
	for tok := range strings.SplitSeq(strings.TrimPrefix(ref[1:], "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		obj, ok := jsonObject(cur)
		if !ok {
			return nil, false
		}
		if cur, ok = get(obj, tok); !ok {
			return nil, false
		}
	}
	return cur, true
}

// typeOf renders the type of a schema.
func (r *schemaRenderer) typeOf(schema json.RawMessage) string {
	if r.depth >= maxSchemaDepth || r.size > maxSchemaText {
		return "any"
	}
	r.depth++
	defer func() { r.depth-- }()
	obj, refs, ok := r.resolve(schema)
	if !ok {
		return "any"
	}
	r.enter(refs)
	defer r.leave(refs)
	t := r.baseType(obj)
	if v, ok := get(obj, "nullable"); ok && string(bytes.TrimSpace(v)) == "true" {
		t += " | null"
	}
	return t
}

func (r *schemaRenderer) baseType(obj []jsonMember) string {
	if v, ok := get(obj, "enum"); ok {
		if list, ok := jsonArray(v); ok && len(list) > 0 {
			parts := make([]string, len(list))
			for i, e := range list {
				parts[i] = compactJSON(e)
			}
			return strings.Join(parts, " | ")
		}
	}
	if v, ok := get(obj, "const"); ok {
		return compactJSON(v)
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		if v, ok := get(obj, key); ok {
			if list, ok := jsonArray(v); ok && len(list) > 0 {
				parts := make([]string, len(list))
				for i, e := range list {
					parts[i] = r.typeOf(e)
				}
				return strings.Join(parts, " | ")
			}
		}
	}
	typ, ok := get(obj, "type")
	if !ok {
		return "any"
	}
	if list, ok := jsonArray(typ); ok {
		parts := make([]string, 0, len(list))
		for _, e := range list {
			if s, ok := jsonString(e); ok {
				parts = append(parts, r.named(s, obj))
			}
		}
		if len(parts) == 0 {
			return "any"
		}
		return strings.Join(parts, " | ")
	}
	s, _ := jsonString(typ)
	return r.named(s, obj)
}

// named renders a schema whose type is the JSON Schema type name.
func (r *schemaRenderer) named(name string, obj []jsonMember) string {
	switch name {
	case "string", "boolean", "null":
		return name
	case "integer", "number":
		return "number"
	case "array":
		items, ok := get(obj, "items")
		if !ok {
			return "Array<any>"
		}
		return r.typeOf(items) + "[]"
	case "object":
		props := r.properties(objectRaw(obj))
		if props == "" {
			return "any"
		}
		return "{\n" + props + "}"
	}
	return "any"
}

// objectRaw re-assembles members into a JSON object (for nested rendering after $ref merging).
func objectRaw(obj []jsonMember) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range obj {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// responseSchemaText renders a json_schema response format's schema as billed: compact JSON, key
// order kept, without "title", "required" and "additionalProperties" in nested schemas
// (TOKEN_RULES.md, "Response formats"), and, for a strict schema, without "required" and
// "additionalProperties" at the top level either: strict mode makes them implicit. (Inferred from
// the recorded gpt-4o-2024-08-06 usage of two strict schemas: exact with this rule.) Only keys of
// schema objects are dropped, never property names.
func responseSchemaText(schema json.RawMessage, strict bool) string {
	var b strings.Builder
	writeSchema(&b, schema, true, strict)
	return b.String()
}

// schemaMaps are the schema keywords whose value maps names to subschemas.
var schemaMaps = map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "definitions": true, "dependentSchemas": true}

func writeSchema(b *strings.Builder, raw json.RawMessage, top, strict bool) {
	obj, ok := jsonObject(raw)
	if !ok {
		b.WriteString(compactJSON(raw))
		return
	}
	b.WriteByte('{')
	first := true
	for _, m := range obj {
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
		b.WriteString(quoteJSON(m.key))
		b.WriteByte(':')
		switch {
		case schemaMaps[m.key]:
			writeSchemaMap(b, m.val, strict)
		case m.key == "enum" || m.key == "const" || m.key == "default" || m.key == "examples":
			b.WriteString(compactJSON(m.val))
		default:
			writeSubschemas(b, m.val, strict)
		}
	}
	b.WriteByte('}')
}

// writeSchemaMap writes an object whose values are schemas (such as "properties").
func writeSchemaMap(b *strings.Builder, raw json.RawMessage, strict bool) {
	obj, ok := jsonObject(raw)
	if !ok {
		b.WriteString(compactJSON(raw))
		return
	}
	b.WriteByte('{')
	for i, m := range obj {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteJSON(m.key))
		b.WriteByte(':')
		writeSchema(b, m.val, false, strict)
	}
	b.WriteByte('}')
}

// writeSubschemas writes a keyword value that is a schema ("items", "not"), a list of schemas
// ("anyOf"), or anything else (written as compact JSON).
func writeSubschemas(b *strings.Builder, raw json.RawMessage, strict bool) {
	if _, ok := jsonObject(raw); ok {
		writeSchema(b, raw, false, strict)
		return
	}
	if list, ok := jsonArray(raw); ok {
		b.WriteByte('[')
		for i, e := range list {
			if i > 0 {
				b.WriteByte(',')
			}
			writeSubschemas(b, e, strict)
		}
		b.WriteByte(']')
		return
	}
	b.WriteString(compactJSON(raw))
}

// UpperBound returns a number of tokens that Count(req).Tokens never exceeds, computed from byte
// lengths without tokenising: a byte-level BPE token covers at least one byte of text (an
// invalid UTF-8 byte, sent as U+FFFD, at most three tokens). It is meant as a quick test: when
// the bound already fits the context window, the exact count is not needed. The rendered tool
// definitions are bounded by 3 bytes per byte of name, description and schema (or counted, when
// their exact count is cached or a schema uses $ref). The safety margin of estimate models is
// included.
func (c *Counter) UpperBound(req *Request) int {
	if req == nil {
		req = &Request{}
	}
	// Fixed costs: reply priming, a message for the tools text, gpt-5's flat extra, Anthropic's
	// tool prompt, the harmony "# Instructions" prefix.
	n := primingPlain + perExtraMessage + gpt5ToolsFlat + gpt5ToolsWithArg + anthropicToolsMax + len("# Instructions\n\n")
	longestCall := 0
	for _, m := range req.Messages {
		for _, tc := range m.ToolCalls {
			longestCall = max(longestCall, len(tc.Name))
		}
	}
	for _, m := range req.Messages {
		// Framing, role, name; "\n\n" per system message folded into a user message.
		n += perToolResultTo + perName + 2 + byteBound(string(m.Role)) + byteBound(m.Name) + byteBound(m.Content)
		if m.Role == RoleTool || m.Role == "function" {
			n += len("functions.") + len(" to=assistant") + max(longestCall, len(m.Name))
		}
		if len(m.ToolCalls) > 0 {
			n += perToolCall + len("assistant to=multi_tool_use.parallel json") + len(`{"tool_uses":[]}`)
			for _, tc := range m.ToolCalls {
				// An argument string that is not JSON is quoted: at most 6 bytes per byte (\u00XX).
				n += len(`{"recipient_name":"functions.","parameters":},`) + byteBound(tc.Name) + 6*len(tc.Arguments)
			}
		}
	}
	n += c.extraBound(req)
	if req.ToolChoice != "" {
		n += len("assistant to=functions.") + byteBound(req.ToolChoice) + perNamedChoice
	}
	return c.margin(n)
}

// byteBound bounds T(s): its length in bytes, three times that if it is not valid UTF-8.
func byteBound(s string) int {
	if utf8.ValidString(s) {
		return len(s)
	}
	return 3 * len(s)
}

// extraBound bounds the tokens of the tools and response-format text.
func (c *Counter) extraBound(req *Request) int {
	if len(req.Tools) == 0 && req.ResponseFormat == nil {
		return 0
	}
	const section = 128 // headers, separators, "type NAME = (_: {...}) => any;" and the like
	n := 2 * (perExtraMessage + section)
	for _, t := range req.Tools {
		if bytes.Contains(t.Parameters, []byte(`"$ref"`)) {
			// Inlined references can repeat a definition: render to measure.
			text, _ := c.renderTools([]ToolSpec{t})
			n += byteBound(text) + section
			continue
		}
		n += section + 3*(byteBound(t.Name)+byteBound(t.Description)+len(t.Parameters))
	}
	if rf := req.ResponseFormat; rf != nil {
		n += section + 3*(byteBound(rf.Name)+byteBound(rf.Description)+len(rf.Schema))
	}
	if !c.d.openai {
		// JSON definitions: names, descriptions and schemas with quoting, at most 6 bytes per
		// byte.
		n = 2 * n
	}
	return n
}
