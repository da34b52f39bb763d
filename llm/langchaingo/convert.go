package langchaingo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"

	"github.com/autogpt-go/agent/llm"
)

// emptySchema is sent for a tool whose ToolSpec.Parameters is empty: both providers require an
// object schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// call is one translated request, ready to send (once or, for tests, several times).
type call struct {
	msgs     []llms.MessageContent
	opts     []llms.CallOption
	hasTools bool

	// settings for this package's HTTP layer (see wire)
	family          string
	omitTemperature bool
	schemas         []json.RawMessage
	toolChoice      json.RawMessage // Anthropic only: the tool_choice object to add
	// Anthropic only, by position (not by id, which two calls may share or lack): per tool call of
	// the request, in order, its arguments to send verbatim ("" to leave langchaingo's); per tool
	// result, in order, whether it is an error. fixBlocks: some entry asks for a change.
	toolArgs   []string
	toolErrors []bool
	fixBlocks  bool
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// prepare translates req into langchaingo messages and call options.
func (m *Model) prepare(req *llm.Request) (*call, error) {
	if req == nil {
		return nil, invalid("nil request")
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "" && rf.Type != llm.ResponseFormatText {
		// Not wired through langchaingo yet: refuse rather than silently send free text.
		return nil, invalid("response format %q is not supported by this adapter yet", rf.Type)
	}
	c := &call{family: m.family}

	names := make(map[string]bool, len(req.Tools))
	if len(req.Tools) > 0 {
		tools := make([]llms.Tool, 0, len(req.Tools))
		for i, t := range req.Tools {
			if t.Name == "" {
				return nil, invalid("tool %d has no name", i)
			}
			params := t.Parameters
			if len(bytes.TrimSpace(params)) == 0 {
				params = emptySchema
			} else if !json.Valid(params) {
				return nil, invalid("tool %q: parameters are not valid JSON", t.Name)
			}
			names[t.Name] = true
			c.schemas = append(c.schemas, params)
			tools = append(tools, llms.Tool{
				Type: "function",
				Function: &llms.FunctionDefinition{
					Name:        t.Name,
					Description: t.Description,
					// A json.RawMessage goes through encoding/json unchanged apart from compaction
					// and HTML escaping; this package's HTTP layer restores the exact bytes.
					Parameters: json.RawMessage(bytes.Clone(params)),
				},
			})
		}
		c.hasTools = true
		c.opts = append(c.opts, llms.WithTools(tools))
		if err := c.setToolChoice(req.ToolChoice, names); err != nil {
			return nil, err
		}
	}

	if req.MaxOutputTokens > 0 {
		c.opts = append(c.opts, llms.WithMaxTokens(req.MaxOutputTokens))
		if m.legacyMT && m.family != ProviderAnthropic {
			// langchaingo's OpenAI client reads this metadata key and does not send it.
			c.opts = append(c.opts, llms.WithMetadata(map[string]any{"openai:use_legacy_max_tokens": true}))
		}
	}
	if req.Temperature != nil && !isReasoningModel(m.name) {
		c.opts = append(c.opts, llms.WithTemperature(*req.Temperature))
	} else {
		c.omitTemperature = true
	}
	if len(req.Stop) > 0 {
		c.opts = append(c.opts, llms.WithStopWords(append([]string(nil), req.Stop...)))
	}

	var err error
	if m.family == ProviderAnthropic {
		c.msgs, err = c.anthropicMessages(req.Messages)
	} else {
		c.msgs, err = chatMessages(req.Messages, m.provider == ProviderOpenAICompatible)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// setToolChoice maps Request.ToolChoice. langchaingo's OpenAI client sends CallOptions.ToolChoice
// as is, so it gets the chat-completions values: "auto", "none", "required", or
// {"type":"function","function":{"name":...}}. Its Anthropic client ignores the option; for
// Anthropic the HTTP layer adds {"type":"auto"|"none"|"any"} or {"type":"tool","name":...}.
func (c *call) setToolChoice(choice string, names map[string]bool) error {
	var anth string
	switch choice {
	case "":
		return nil
	case llm.ToolChoiceAuto, llm.ToolChoiceNone:
		c.opts = append(c.opts, llms.WithToolChoice(choice))
		anth = fmt.Sprintf(`{"type":%q}`, choice)
	case llm.ToolChoiceRequired:
		c.opts = append(c.opts, llms.WithToolChoice(choice))
		anth = `{"type":"any"}`
	default:
		if !names[choice] {
			return invalid("tool choice %q names no offered tool", choice)
		}
		c.opts = append(c.opts, llms.WithToolChoice(llms.ToolChoice{
			Type:     "function",
			Function: &llms.FunctionReference{Name: choice},
		}))
		name, _ := json.Marshal(choice)
		anth = `{"type":"tool","name":` + string(name) + `}`
	}
	if c.family == ProviderAnthropic {
		c.toolChoice = json.RawMessage(anth)
	}
	return nil
}

// chatMessages is the chat-completions layout: one langchaingo message per llm.Message, an
// assistant message carrying its text and all its tool calls.
// chatMessages translates messages for the chat-completions wire. With objectArgs, a tool call
// whose arguments are not a JSON object is sent with {} instead (see the package doc).
func chatMessages(in []llm.Message, objectArgs bool) ([]llms.MessageContent, error) {
	out := make([]llms.MessageContent, 0, len(in))
	for i, msg := range in {
		switch msg.Role {
		case llm.RoleSystem:
			out = append(out, llms.TextParts(llms.ChatMessageTypeSystem, msg.Content))
		case llm.RoleUser:
			out = append(out, llms.TextParts(llms.ChatMessageTypeHuman, msg.Content))
		case llm.RoleAssistant:
			var parts []llms.ContentPart
			if msg.Content != "" || len(msg.ToolCalls) == 0 {
				parts = append(parts, llms.TextContent{Text: msg.Content})
			}
			for _, tc := range msg.ToolCalls {
				args := tc.Arguments
				if objectArgs && !isJSONObject(args) {
					args = "{}"
				}
				parts = append(parts, toolCallPart(tc, args))
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: parts})
		case llm.RoleTool:
			part, err := toolResultPart(i, msg)
			if err != nil {
				return nil, err
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{part}})
		default:
			return nil, invalid("message %d has unknown role %q", i, msg.Role)
		}
	}
	return out, nil
}

// anthropicMessages is the layout langchaingo's Anthropic client can carry: it reads only the first
// part of an assistant message and only the first system part, so system prompts are joined into
// one, and an assistant message becomes one langchaingo message per text and per tool call
// (the HTTP layer, or else the Messages API itself, joins consecutive same-role turns). Tool-call
// arguments that are not a JSON object are sent as {} because langchaingo cannot encode them.
func (c *call) anthropicMessages(in []llm.Message) ([]llms.MessageContent, error) {
	out := make([]llms.MessageContent, 0, len(in)+1)
	var system []string
	for i, msg := range in {
		switch msg.Role {
		case llm.RoleSystem:
			if msg.Content != "" {
				system = append(system, msg.Content)
			}
		case llm.RoleUser:
			out = append(out, llms.TextParts(llms.ChatMessageTypeHuman, msg.Content))
		case llm.RoleAssistant:
			if msg.Content != "" {
				out = append(out, llms.TextParts(llms.ChatMessageTypeAI, msg.Content))
			}
			for _, tc := range msg.ToolCalls {
				args, verbatim := "{}", ""
				if isJSONObject(tc.Arguments) {
					args, verbatim = tc.Arguments, tc.Arguments
					c.fixBlocks = true
				}
				c.toolArgs = append(c.toolArgs, verbatim)
				out = append(out, llms.MessageContent{
					Role:  llms.ChatMessageTypeAI,
					Parts: []llms.ContentPart{toolCallPart(tc, args)},
				})
			}
			// An assistant message with neither text nor tool calls is dropped: Anthropic rejects
			// empty text blocks.
		case llm.RoleTool:
			part, err := toolResultPart(i, msg)
			if err != nil {
				return nil, err
			}
			c.toolErrors = append(c.toolErrors, msg.IsError)
			c.fixBlocks = c.fixBlocks || msg.IsError
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{part}})
		default:
			return nil, invalid("message %d has unknown role %q", i, msg.Role)
		}
	}
	if len(system) > 0 {
		out = append([]llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, strings.Join(system, "\n\n"))}, out...)
	}
	return out, nil
}

func toolCallPart(tc llm.ToolCall, args string) llms.ToolCall {
	return llms.ToolCall{
		ID:           tc.ID,
		Type:         "function",
		FunctionCall: &llms.FunctionCall{Name: tc.Name, Arguments: args},
	}
}

func toolResultPart(i int, msg llm.Message) (llms.ToolCallResponse, error) {
	if msg.ToolCallID == "" {
		return llms.ToolCallResponse{}, invalid("tool message %d has no ToolCallID", i)
	}
	return llms.ToolCallResponse{ToolCallID: msg.ToolCallID, Name: msg.Name, Content: msg.Content}, nil
}

func isJSONObject(s string) bool {
	t := strings.TrimSpace(s)
	return strings.HasPrefix(t, "{") && json.Valid([]byte(t))
}

// isReasoningModel reports whether name is an OpenAI reasoning model (o1, o3, o4-mini, ... and the
// gpt-5 family), which rejects a temperature other than its default. A provider prefix such as
// OpenRouter's "openai/" is ignored. langchaingo's own check misses "o1", "o4-mini" and names with
// a prefix.
func isReasoningModel(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(n, '/'); i >= 0 {
		n = n[i+1:]
	}
	if strings.HasPrefix(n, "gpt-5") {
		return true
	}
	if len(n) < 2 || n[0] != 'o' || n[1] < '0' || n[1] > '9' {
		return false
	}
	rest := strings.TrimLeft(n[1:], "0123456789")
	return rest == "" || rest[0] == '-'
}

// convertResponse merges all choices into one assistant message. Anthropic's client returns one
// choice per content block, each carrying the usage of the whole message, so usage is taken once
// (from the first choice that has it), never summed. What this package's HTTP layer read of the
// reply overrides langchaingo's reading: a stream's text and tool calls, an Anthropic message's
// tool calls (their input verbatim), an OpenAI message's legacy function_call. Tool calls are
// matched by position, never by id. For a model built by this package's constructors, a tool
// call without a name fails the call with ErrIncompleteResponse.
func (m *Model) convertResponse(resp *llms.ContentResponse, w *wire) (*llm.Response, error) {
	if resp == nil || len(resp.Choices) == 0 {
		return nil, ErrEmptyResponse
	}
	raw, parsed := w.parsed()
	out := &llm.Response{Message: llm.Message{Role: llm.RoleAssistant}}
	var text pieces
	var stop string
	haveUsage := false
	for i, ch := range resp.Choices {
		if ch == nil {
			continue
		}
		text.WriteString(ch.Content)
		for _, tc := range ch.ToolCalls {
			if tc.FunctionCall == nil {
				continue
			}
			out.Message.ToolCalls = append(out.Message.ToolCalls, llm.ToolCall{
				ID:        tc.ID,
				Name:      tc.FunctionCall.Name,
				Arguments: tc.FunctionCall.Arguments,
			})
		}
		if parsed && len(ch.ToolCalls) == 0 && i < len(raw.fnCalls) && raw.fnCalls[i] != nil {
			out.Message.ToolCalls = append(out.Message.ToolCalls, *raw.fnCalls[i]) // legacy function_call
		}
		if stop == "" {
			stop = ch.StopReason
		}
		if !haveUsage {
			out.Usage, haveUsage = usageFromInfo(ch.GenerationInfo)
		}
		if out.Model == "" {
			out.Model = modelFromInfo(ch.GenerationInfo)
		}
	}
	out.Message.Content = text.String()

	if parsed {
		if raw.model != "" {
			out.Model = raw.model
		}
		if raw.hasText { // a stream: langchaingo got an empty text
			out.Message.Content = raw.text
		}
		if raw.toolCalls != nil { // the raw reply is authoritative
			out.Message.ToolCalls = raw.toolCalls
		}
		if stop == "" {
			stop = raw.stop
		}
	}
	if m.wired {
		for i, tc := range out.Message.ToolCalls {
			if tc.Name == "" {
				return nil, fmt.Errorf("%w: tool call %d (id %q) has no name", ErrIncompleteResponse, i, tc.ID)
			}
		}
	}
	out.FinishReason = normalizeFinish(stop, len(out.Message.ToolCalls) > 0)
	return out, nil
}

// recoverEmpty turns langchaingo's Anthropic "no response" error for a reply with no content
// blocks (which Claude does send, for example after tool results) into an empty answer.
func (m *Model) recoverEmpty(w *wire, err error) (*llm.Response, bool) {
	if m.family != ProviderAnthropic || !errors.Is(err, anthropic.ErrEmptyResponse) {
		return nil, false
	}
	raw, ok := w.parsed()
	if !ok || !raw.empty {
		return nil, false
	}
	return &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant},
		FinishReason: normalizeFinish(raw.stop, false),
		Usage:        raw.usage,
		Model:        raw.model,
	}, true
}

// normalizeFinish maps a provider's finish reason to llm.FinishReason. Sources: OpenAI
// chat-completions finish_reason (stop, length, tool_calls, content_filter, function_call);
// Anthropic stop_reason (end_turn, stop_sequence, max_tokens, tool_use, refusal,
// model_context_window_exceeded); Google finishReason (STOP, MAX_TOKENS, SAFETY, RECITATION, ...).
// Unknown reasons pass through unchanged. A reply with tool calls whose reason is "stop" or
// missing (some OpenAI-compatible servers) gets FinishToolCalls.
func normalizeFinish(raw string, hasToolCalls bool) llm.FinishReason {
	var r llm.FinishReason
	switch strings.ToLower(raw) {
	case "":
		r = llm.FinishUnknown
	case "stop", "end_turn", "stop_sequence", "eos":
		r = llm.FinishStop
	case "tool_calls", "tool_use", "function_call":
		r = llm.FinishToolCalls
	case "length", "max_tokens", "model_context_window_exceeded":
		r = llm.FinishLength
	case "content_filter", "refusal", "safety", "recitation", "blocklist", "prohibited_content", "spii":
		r = llm.FinishContentFilter
	default:
		r = llm.FinishReason(raw)
	}
	if hasToolCalls && (r == llm.FinishStop || r == llm.FinishUnknown) {
		r = llm.FinishToolCalls
	}
	return r
}

// usageFromInfo reads token usage from a choice's GenerationInfo, under the keys langchaingo
// v0.1.14 uses:
//   - Anthropic (llms/anthropic): InputTokens, OutputTokens, CacheCreationInputTokens,
//     CacheReadInputTokens. Anthropic's input_tokens excludes cache reads and writes, so
//     InputTokens here is their sum and CachedInputTokens the cache reads.
//   - OpenAI (llms/openai), Ollama, Google AI: PromptTokens, CompletionTokens, which include
//     cached and reasoning tokens; cached in PromptCachedTokens (OpenAI) or CacheReadInputTokens
//     (Google), reasoning in ReasoningTokens or CompletionReasoningTokens (OpenAI).
//   - Bedrock: input_tokens, output_tokens.
func usageFromInfo(info map[string]any) (llm.Usage, bool) {
	if in, ok := intKey(info, "InputTokens"); ok {
		out, _ := intKey(info, "OutputTokens")
		created, _ := intKey(info, "CacheCreationInputTokens")
		read, _ := intKey(info, "CacheReadInputTokens")
		return llm.Usage{InputTokens: addCounts(addCounts(in, created), read), OutputTokens: out, CachedInputTokens: read}, true
	}
	if in, ok := intKey(info, "PromptTokens"); ok {
		u := llm.Usage{InputTokens: in}
		u.OutputTokens, _ = intKey(info, "CompletionTokens")
		u.CachedInputTokens = firstInt(info, "PromptCachedTokens", "CacheReadInputTokens")
		u.ReasoningTokens = firstInt(info, "ReasoningTokens", "CompletionReasoningTokens")
		return u, true
	}
	if in, ok := intKey(info, "input_tokens"); ok {
		out, _ := intKey(info, "output_tokens")
		return llm.Usage{InputTokens: in, OutputTokens: out}, true
	}
	return llm.Usage{}, false
}

func firstInt(info map[string]any, keys ...string) int {
	for _, k := range keys {
		if v, ok := intKey(info, k); ok && v != 0 {
			return v
		}
	}
	return 0
}

func intKey(info map[string]any, key string) (int, bool) {
	switch v := info[key].(type) {
	case int:
		return max(v, 0), true
	case int32:
		return max(int(v), 0), true
	case int64:
		return max(int(v), 0), true
	case float64:
		return tokenCount([]byte(strconv.FormatFloat(v, 'f', -1, 64))), true
	case json.Number:
		return tokenCount([]byte(v)), true
	}
	return 0, false
}

func modelFromInfo(info map[string]any) string {
	for _, k := range []string{"model", "Model"} {
		if s, ok := info[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
