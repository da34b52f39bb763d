package llm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"regexp"
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
	if base, ok := fineTunedBase(info.Name); ok {
		name = strings.ToLower(base) // a fine-tuned model is framed as its base model
	}
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
// Tool schemas are rendered in full however often $refs, anyOf or type lists repeat a
// sub-schema, up to 32 nested types and 4 MiB of declarations for all the tools of a request
// (over a million tokens); past these limits types render as "any", so the count of such a
// request is lower than the bill for its whole expansion would be, were it accepted.
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
	joined := !extra.joins
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
	return n + c.fixed(req, extra)
}

// fixed is what a request costs apart from its messages and the tools text joined to them: the
// reply priming, the response-format message of ChatML models, gpt-5's flat extra, a named
// tool_choice, Anthropic's tool-use prompt. It depends only on the tools, response format and
// tool choice.
func (c *Counter) fixed(req *Request, extra extraCost) int {
	n := extra.own + extra.flat
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
			n += c.t(c.callHeader()+req.ToolChoice) - c.t("assistant") + perNamedChoice
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

// callHeader is what addresses a single tool call: "assistant to=functions." (before the
// function's name), "assistant to=" for models that use bare names.
func (c *Counter) callHeader() string {
	if c.d.bareNames {
		return "assistant to="
	}
	return "assistant to=functions."
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
		return perToolCall + c.t(c.callHeader()) + c.t(tc.Name) + c.t(compactArgs(tc.Arguments))
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

// extraCost is what the tools and the response format add to a request. It holds no text, so
// the cache stays small whatever the schemas expand to.
type extraCost struct {
	joins    bool // there is text to join to the first system message (tools, harmony's format)
	tokens   int  // T(that text)
	own      int  // tokens of a message of its own (ChatML's response-format message), framing included
	flat     int  // tokens added regardless of where the text goes (gpt-5's +80/+81)
	hasTools bool
}

// maxCachedExtras is how many tools-and-format costs a Counter keeps; past it the cache is
// emptied.
const maxCachedExtras = 256

// extraKey hashes what extra depends on: the tools and the json_schema response format. Every
// field is written with its length first, so no two different requests feed the hash the same
// bytes (without lengths, Name "f" with Description "\x00x" and Name "f\x00" with Description "x"
// did).
func (c *Counter) extraKey(tools []ToolSpec, rf *ResponseFormat) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	length := func(n int) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	length(len(tools))
	for _, t := range tools {
		length(len(t.Name))
		h.WriteString(t.Name)
		length(len(t.Description))
		h.WriteString(t.Description)
		length(len(t.Parameters))
		h.Write(t.Parameters)
	}
	if rf != nil {
		length(len(rf.Name))
		h.WriteString(rf.Name)
		length(len(rf.Description))
		h.WriteString(rf.Description)
		length(len(rf.Schema))
		h.Write(rf.Schema)
		if rf.Strict {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
	}
	return h.Sum64()
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
	key := c.extraKey(req.Tools, rf)
	if v, ok := c.cache.Load(key); ok {
		return v.(extraCost)
	}
	e := extraCost{hasTools: len(req.Tools) > 0, joins: true}
	switch {
	case !c.d.openai:
		e.tokens = c.t(jsonExtra(req.Tools, rf))
	case c.d.harmony:
		// Harmony puts every section in the developer message (OpenAI harmony format).
		var b strings.Builder
		e.flat = c.renderTools(&b, req.Tools)
		if rf != nil {
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			writeResponseFormat(&b, rf)
		}
		e.tokens = c.t(b.String())
	default:
		// ChatML: the response format is a system message of its own (inferred from recorded
		// gpt-4o usage: 4 + T(text) whether or not the request has a system message).
		var b strings.Builder
		e.flat = c.renderTools(&b, req.Tools)
		e.tokens, e.joins = c.t(b.String()), b.Len() > 0
		if rf != nil {
			b.Reset()
			writeResponseFormat(&b, rf)
			e.own = perExtraMessage + c.t(b.String())
		}
	}
	if mapLen(c.cache) >= maxCachedExtras {
		c.cache.Clear()
	}
	c.cache.Store(key, e)
	return e
}

func mapLen(m *sync.Map) int {
	n := 0
	m.Range(func(_, _ any) bool { n++; return n < maxCachedExtras })
	return n
}

// renderTools writes the tools section (TOKEN_RULES.md, "Tool definitions"), if there are tools,
// and returns gpt-5's flat extra. Past maxToolsText bytes, types render as any.
func (c *Counter) renderTools(b *strings.Builder, tools []ToolSpec) int {
	if len(tools) == 0 {
		return 0
	}
	b.WriteString("# Tools\n\n## functions\n\nnamespace functions {\n\n")
	withProps := false
	for i, t := range tools {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if c.renderFunction(b, t) {
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
	return flat
}

// writeResponseFormat writes a json_schema response format as billed: "# Response Formats\n\n##
// NAME\n\n" and the schema as compact JSON (see writeResponseSchema). The description is not
// rendered (TOKEN_RULES.md).
func writeResponseFormat(b *strings.Builder, rf *ResponseFormat) {
	b.WriteString("# Response Formats\n\n## ")
	b.WriteString(rf.Name)
	b.WriteString("\n\n")
	writeResponseSchema(b, rf.Schema, rf.Strict)
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
	r := schemaRenderer{b: b, titles: c.d.titles}
	return r.function(t.Parameters, c.d.spacedParams)
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

// quoteJSON returns s as a JSON string, without escaping <, > and & (as Python's json.dumps).
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// UpperBound returns a number of tokens that Count(req).Tokens never exceeds: for every request
// (nil included) and this Counter, UpperBound(req) >= Count(req).Tokens. It is meant as a quick
// test: a request whose bound fits the context window needs no exact count.
//
// How it is computed:
//   - the part of the count that does not depend on the messages (the tools and response-format
//     text, the reply priming, a named tool_choice, gpt-5's and Anthropic's extras) exactly, as
//     Count computes it. The tools and response-format text is rendered and tokenised once per
//     Counter for given tools and response format and cached, the cache being shared with Count:
//     for requests that keep their tools, as an agent's steps do, nothing is tokenised after the
//     first but a tool_choice naming a function (on ChatML models);
//   - every message from byte lengths, without tokenising: a byte-level BPE token covers at least
//     one byte, so T(s) <= len(s), an invalid UTF-8 byte counting three (it is sent as U+FFFD).
//     Roles, names, framing and separators count at their byte lengths, and so does the joint
//     JSON text of several tool calls in one message, arguments that are not JSON counting at
//     their quoted length (up to 6 bytes per byte: a control byte is written \u00XX).
//
// The safety margin of estimate models is applied to the bound as Count applies it. The bound
// of ordinary messages is a few times their count (English text averages about four bytes per
// token). If tokenising fails unexpectedly (Count would return an error), UpperBound returns
// math.MaxInt: no bound.
func (c *Counter) UpperBound(req *Request) (n int) {
	defer func() {
		if recover() != nil {
			n = math.MaxInt
		}
	}()
	if req == nil {
		req = &Request{}
	}
	extra := c.extra(req)
	n = c.fixed(req, extra)
	if extra.joins {
		// The text joins the first system message after "\n\n" (and, on harmony models with
		// tools, after a "# Instructions\n\n" prefix), or forms a message of its own.
		join := len("\n\n")
		if c.d.harmony && extra.hasTools {
			join += len("# Instructions\n\n")
		}
		n += extra.tokens + max(perExtraMessage, join)
	}
	callName := 0
	for _, m := range req.Messages {
		for _, tc := range m.ToolCalls {
			callName = max(callName, byteBound(tc.Name))
		}
	}
	fold := c.rewrite && c.d.foldSystem
	for _, m := range req.Messages {
		n += c.messageBound(m, callName)
		if fold && m.Role == RoleSystem {
			n += len("\n\n") // its text is folded into the first user message, followed by "\n\n"
		}
	}
	return c.margin(n)
}

// messageBound bounds what Count counts for one message, the tools text joined to it aside;
// callName bounds the name of any function called in the request.
func (c *Counter) messageBound(m Message, callName int) int {
	content := byteBound(m.Content)
	switch {
	case m.Role == RoleTool || m.Role == "function":
		name := byteBound(m.Name)
		if m.Role == RoleTool && m.ToolCallID != "" {
			name = max(name, callName) // the name of the call it answers
		}
		switch {
		case !c.d.openai:
			return perMessage + len(RoleTool) + name + content
		case c.d.toolResultTo:
			return perToolResultTo + len("functions. to=assistant") + name + content
		case c.d.bareNames:
			return perMessage + name + content
		}
		return perMessage + len("functions.") + name + content
	case len(m.ToolCalls) > 0:
		n := 0
		if m.Content != "" {
			n += perMessage + byteBound(string(m.Role)) + content
		}
		return n + c.toolCallsBound(m.ToolCalls)
	}
	n := perMessage + byteBound(string(m.Role)) + content
	if m.Name != "" {
		n += perName + byteBound(m.Name)
	}
	return n
}

// toolCallsBound bounds what Count counts for the tool calls of one message.
func (c *Counter) toolCallsBound(calls []ToolCall) int {
	if !c.d.openai {
		n := perMessage + len(RoleAssistant)
		for _, tc := range calls {
			n += byteBound(tc.Name) + byteBound(tc.Arguments) + perMessage
		}
		return n
	}
	if len(calls) == 1 {
		// Compacting JSON arguments only removes white space.
		return perToolCall + len(c.callHeader()) + byteBound(calls[0].Name) + byteBound(calls[0].Arguments)
	}
	// {"tool_uses":[{"recipient_name":"functions.NAME","parameters":ARGS},...]}, ARGS compacted
	// when they are JSON, quoted otherwise.
	n := perToolCall + len("assistant to=multi_tool_use.parallel json") + len(`{"tool_uses":[]}`)
	for _, tc := range calls {
		n += len(`{"recipient_name":"functions.","parameters":},`) + quotedLen(tc.Name) - len(`""`) +
			max(byteBound(tc.Arguments), quotedLen(tc.Arguments))
	}
	return n
}

// byteBound bounds T(s): its length in bytes once each invalid UTF-8 byte is replaced with U+FFFD
// (three bytes), as the tokenizer replaces it. It bounds concatenations too: byteBound(a+b) <=
// byteBound(a) + byteBound(b).
func byteBound(s string) int {
	if utf8.ValidString(s) {
		return len(s)
	}
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += len(string(utf8.RuneError))
		} else {
			n += size
		}
		i += size
	}
	return n
}

// quotedLen is the length of quoteJSON(s), quotes included: '"', '\\' and the control bytes with a
// short escape take two bytes, other control bytes six (\u00XX), an invalid UTF-8 byte six
// (\ufffd), U+2028 and U+2029 six.
func quotedLen(s string) int {
	n := len(`""`)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\', '\b', '\f', '\n', '\r', '\t':
				n += 2
			default:
				if c < 0x20 {
					n += 6
				} else {
					n++
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}
