// Package llm holds the provider-neutral model interface and the types that travel between the
// agent loop and a model: messages, tool calls, requests, responses, token usage and stream chunks.
//
// It imports no provider SDK: adapters (such as llm/langchaingo) translate to and from these types,
// and test doubles (llm/llmtest) implement Model directly.
package llm

import (
	"context"
	"encoding/json"
	"iter"
)

// Model is a chat model: it answers a Request with one assistant message.
//
// Generate must honour ctx: when ctx is cancelled it returns promptly with an error that wraps
// ctx.Err(). It must not modify req. Implementations are safe for concurrent use.
type Model interface {
	Generate(ctx context.Context, req *Request) (*Response, error)
}

// Streamer is implemented by a Model that can also deliver its answer incrementally.
//
// Stream yields chunks as they arrive: text deltas and tool-call fragments. The last chunk it yields
// without error has Response set to the complete answer (message, finish reason, usage), equal to
// what Generate would have returned. An error ends the sequence; a consumer that stops early cancels
// the underlying call.
type Streamer interface {
	Stream(ctx context.Context, req *Request) iter.Seq2[Chunk, error]
}

// Role is the author of a message, with the values the chat-completions wire format uses.
type Role string

// The message roles.
const (
	RoleSystem    Role = "system"    // the system prompt
	RoleUser      Role = "user"      // the human or host program
	RoleAssistant Role = "assistant" // the model
	RoleTool      Role = "tool"      // a tool result, answering one tool call by its ID
)

// ToolCall is one function call requested by the model.
type ToolCall struct {
	// ID is the provider's tool-call id (for example "call_abc123" or "toolu_01..."); the tool
	// result that answers this call carries the same ID in Message.ToolCallID.
	ID string `json:"id"`
	// Name is the name of the tool to call.
	Name string `json:"name"`
	// Arguments is the arguments object as raw JSON text, byte for byte as the model produced it.
	// It is a string, not a json.RawMessage, because models do send invalid JSON and a run holding
	// such a call must still serialise.
	Arguments string `json:"arguments"`
}

// Message is one chat message.
type Message struct {
	Role Role `json:"role"`
	// Content is the message text. An assistant message that only calls tools may have none.
	Content string `json:"content,omitempty"`
	// ToolCalls are the calls an assistant message requests, in the order the model gave them.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID is set on a RoleTool message: the ID of the tool call it answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// Name is, on a RoleTool message, the name of the tool that produced the result; on other
	// roles an optional participant name.
	Name string `json:"name,omitempty"`
	// IsError marks a RoleTool message whose tool call failed. Providers that have the notion
	// (Anthropic's is_error) receive it; others see only the content.
	IsError bool `json:"is_error,omitempty"`
}

// Clone returns a deep copy of m: changing the copy's ToolCalls does not change m.
func (m Message) Clone() Message {
	if m.ToolCalls != nil {
		m.ToolCalls = append([]ToolCall(nil), m.ToolCalls...)
	}
	return m
}

// CloneMessages returns a deep copy of msgs (nil for nil).
func CloneMessages(msgs []Message) []Message {
	if msgs == nil {
		return nil
	}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		out[i] = m.Clone()
	}
	return out
}

// ToolSpec describes a tool offered to the model.
type ToolSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is the JSON Schema of the arguments object, in wire form: the bytes the provider
	// receives, key order kept (token counts depend on it).
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// Tool-choice values for Request.ToolChoice. Any other non-empty value is the name of the one tool
// the model must call.
const (
	ToolChoiceAuto     = "auto"     // the model decides (the default, also for "")
	ToolChoiceNone     = "none"     // the model must not call a tool
	ToolChoiceRequired = "required" // the model must call at least one tool
)

// Request is one call to a model.
type Request struct {
	// Messages is the prompt, oldest first; a system prompt, if any, comes first.
	Messages []Message `json:"messages"`
	// Tools are the tools offered for this call.
	Tools []ToolSpec `json:"tools,omitempty"`
	// ToolChoice is "" or ToolChoiceAuto, ToolChoiceNone, ToolChoiceRequired, or a tool's name.
	ToolChoice string `json:"tool_choice,omitempty"`
	// MaxOutputTokens caps the answer, in tokens; 0 leaves the provider's default.
	MaxOutputTokens int `json:"max_output_tokens,omitempty"`
	// Temperature is the sampling temperature; nil leaves the provider's default.
	Temperature *float64 `json:"temperature,omitempty"`
	// Stop lists stop sequences: generation ends before any of them.
	Stop []string `json:"stop,omitempty"`
	// ResponseFormat constrains the answer's form; nil means free text.
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
}

// Response-format types, as OpenAI's chat-completions API names them.
const (
	ResponseFormatText       = "text"        // free text (the default)
	ResponseFormatJSONObject = "json_object" // any JSON object
	ResponseFormatJSONSchema = "json_schema" // JSON valid against Schema
)

// ResponseFormat asks the model for a structured answer.
type ResponseFormat struct {
	// Type is ResponseFormatText, ResponseFormatJSONObject or ResponseFormatJSONSchema.
	Type string `json:"type"`
	// Name names the schema (json_schema only; OpenAI requires ^[a-zA-Z0-9_-]{1,64}$).
	Name string `json:"name,omitempty"`
	// Description describes the schema (json_schema only).
	Description string `json:"description,omitempty"`
	// Schema is the JSON Schema of the answer in wire form (json_schema only).
	Schema json.RawMessage `json:"schema,omitempty"`
	// Strict asks the provider to enforce the schema exactly (OpenAI's structured outputs).
	Strict bool `json:"strict,omitempty"`
}

// FinishReason says why the model stopped generating.
type FinishReason string

// The finish reasons, normalised across providers (OpenAI's names; Anthropic's "end_turn" and
// "stop_sequence" map to Stop, "tool_use" to ToolCalls, "max_tokens" to Length).
const (
	FinishStop          FinishReason = "stop"           // a natural end or a stop sequence
	FinishToolCalls     FinishReason = "tool_calls"     // the model asked for tool calls
	FinishLength        FinishReason = "length"         // the output-token limit was reached
	FinishContentFilter FinishReason = "content_filter" // the provider withheld content
	FinishUnknown       FinishReason = ""               // the provider did not say
)

// Usage counts the tokens of one or more model calls, with the OpenTelemetry GenAI convention's
// names (gen_ai.usage.input_tokens, gen_ai.usage.output_tokens). OpenAI calls them prompt and
// completion tokens.
type Usage struct {
	// InputTokens are the prompt tokens billed, cached ones included.
	InputTokens int `json:"input_tokens"`
	// OutputTokens are the completion tokens billed, reasoning tokens included.
	OutputTokens int `json:"output_tokens"`
	// CachedInputTokens is the part of InputTokens served from the provider's prompt cache.
	CachedInputTokens int `json:"cached_input_tokens,omitempty"`
	// ReasoningTokens is the part of OutputTokens spent on hidden reasoning.
	ReasoningTokens int `json:"reasoning_tokens,omitempty"`
}

// TotalTokens returns InputTokens + OutputTokens.
func (u Usage) TotalTokens() int { return u.InputTokens + u.OutputTokens }

// Add returns the field-by-field sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:       u.InputTokens + v.InputTokens,
		OutputTokens:      u.OutputTokens + v.OutputTokens,
		CachedInputTokens: u.CachedInputTokens + v.CachedInputTokens,
		ReasoningTokens:   u.ReasoningTokens + v.ReasoningTokens,
	}
}

// Response is a model's answer to one Request.
type Response struct {
	// Message is the assistant message: text, tool calls, or both. Its Role is RoleAssistant.
	Message Message `json:"message"`
	// FinishReason says why generation stopped.
	FinishReason FinishReason `json:"finish_reason,omitempty"`
	// Usage is the provider's token count for this call; zero when it reported none.
	Usage Usage `json:"usage"`
	// Model is the model name the provider reported (for example "gpt-4o-2024-08-06"); may be "".
	Model string `json:"model,omitempty"`
}

// ToolCallDelta is a fragment of a tool call while it streams. Fragments with the same Index belong
// to one call, and Index is the position of that call in the final Response.Message.ToolCalls (not
// a provider's own numbering), so assembling fragments by Index gives the final calls. ID and Name
// are set on the fragment that first carries them (usually the first of the call) and empty on
// the others; the Arguments pieces of one Index, concatenated in order, are the call's Arguments
// (raw JSON text, not necessarily valid). The final Response stays authoritative.
type ToolCallDelta struct {
	Index     int    `json:"index"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// Chunk is one element of a stream: a text delta, a tool-call fragment, or (last) the whole response.
type Chunk struct {
	// Text is a fragment of the assistant text.
	Text string `json:"text,omitempty"`
	// ToolCall is a fragment of a tool call, or nil.
	ToolCall *ToolCallDelta `json:"tool_call,omitempty"`
	// Response is set only on the final chunk: the assembled answer with finish reason and usage.
	Response *Response `json:"response,omitempty"`
}

// NonStreaming returns m as a Model that does not implement Streamer, so callers use Generate even
// when they could stream (for example to replay traffic recorded without streaming).
func NonStreaming(m Model) Model { return nonStreaming{m} }

type nonStreaming struct{ m Model }

func (n nonStreaming) Generate(ctx context.Context, req *Request) (*Response, error) {
	return n.m.Generate(ctx, req)
}
