package langchaingo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/autogpt-go/agent/internal/redact"
)

// Errors about a reply's completeness and size, reported by this package's HTTP layer (models built
// by OpenAI, OpenAICompatible, Anthropic or FromEnv). Generate and Stream return them wrapped with
// a description of what arrived; match them with errors.Is. A call that fails with one of them
// returns no answer at all, never the part that arrived.
var (
	// ErrIncompleteResponse: the reply ended before it was complete, or part of it could not be
	// read. A streamed reply must end with its terminator: OpenAI's "data: [DONE]" or a
	// finish_reason (either will do, as some compatible servers omit one), Anthropic's
	// message_stop event. Each of its events must be readable: an event whose data starts like
	// JSON but is not valid JSON (a truncated event), or is not an event of the provider's format,
	// fails the call too, with "malformed event in the response stream" in the error's text. A
	// JSON reply must not end inside its value. A reply cut off because ctx ended matches ctx.Err()
	// instead.
	ErrIncompleteResponse = errors.New("incomplete response")

	// ErrResponseTooLarge: the reply's body exceeded the response size cap (WithMaxResponseBytes,
	// DefaultMaxResponseBytes by default). The call fails as soon as the body passes the cap.
	ErrResponseTooLarge = errors.New("response too large")

	// ErrEmptyResponse: an OpenAI (chat-completions) reply with no choices at all (an empty or
	// missing "choices" array; for a streamed reply, no event carrying a choice). Such a reply has
	// no answer, not even an empty one, so Generate and Stream both fail with this error; a choice
	// with empty content, by contrast, is an empty answer on both. It is also returned when a
	// wrapped llms.Model returns no choices. (An Anthropic message with no content blocks is an
	// empty answer: see the package documentation.)
	ErrEmptyResponse = errors.New("empty response: no choices")
)

// APIError is a non-200 HTTP reply from the provider, or an error event inside a streamed 200
// reply or a 200 reply whose JSON body is an error object (StatusCode is then 200), as read by this package's HTTP layer (models built by OpenAI,
// OpenAICompatible, Anthropic or FromEnv). Get it with errors.As; Unwrap returns langchaingo's own
// error, whose text carries only the status code and message.
//
// Sources: OpenAI error bodies are {"error": {"message", "type", "code"}}
// (https://platform.openai.com/docs/guides/error-codes); Anthropic's are {"type": "error",
// "error": {"type", "message"}} (https://docs.anthropic.com/en/api/errors). Compatible servers
// also send {"message", "type", "code"} at the top level (older vLLM's {"object": "error", ...}
// stream chunk) or {"error": "message"}: Message, Type and Code are read from those too. The headers RetryAfter
// is read from, and their sources, are listed under Retries in the package documentation.
type APIError struct {
	// Provider is the Provider... constant of the model that made the call.
	Provider string
	// StatusCode is the HTTP status code, for example 429.
	StatusCode int
	// Type is the provider's error type ("invalid_request_error", "rate_limit_error",
	// "overloaded_error", ...); may be "".
	Type string
	// Code is OpenAI's error code ("rate_limit_exceeded", "context_length_exceeded", ...); may be "".
	Code string
	// Message is the provider's error message, or the start of the raw body (at most 512 bytes)
	// when the body is not the provider's JSON error shape.
	Message string
	// RetryAfter is the delay the reply asks for before a retry; 0 when it asks for none (or
	// the headers are unreadable). It is read, first present wins, from retry-after-ms
	// (milliseconds; OpenAI), Retry-After (seconds or an HTTP date, RFC 9110 section 10.2.3) and,
	// for a 429 only, the rate-limit reset headers (OpenAI's x-ratelimit-reset-requests and
	// -tokens, Anthropic's anthropic-ratelimit-*-reset): see Retries in the package
	// documentation. When it exceeds RetryPolicy.MaxRetryAfter, the call failed without waiting.
	RetryAfter time.Duration
	// Attempts is the number of HTTP requests sent for the call, retries included: 1 when the
	// first reply was final, up to 1 + RetryPolicy.MaxRetries (see WithRetry). For an error event
	// in a stream it counts the requests up to the 200 reply that carried it. (A call that fails
	// with a transport error has no APIError: the count is at the end of that error's text.)
	Attempts int
	// RequestID is the provider's request id (header x-request-id or request-id); may be "".
	RequestID string
	// Header is a copy of the reply's headers (rate-limit headers and so on).
	Header http.Header

	err    error
	inBody bool // a 200 reply whose JSON body is an error object, not an error event
}

// Error returns "<provider>: HTTP <status> <code or type>: <message>" (status 200 for a JSON error
// body), or for an error event in a stream "<provider>: error event <code or type>: <message>".
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.StatusCode == http.StatusOK && !e.inBody {
		b.WriteString("error event")
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if t := e.Code; t != "" {
		b.WriteString(" " + t)
	} else if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Unwrap returns the error langchaingo returned for the reply.
func (e *APIError) Unwrap() error { return e.err }

// Retryable reports whether the same request may succeed later: status 408 (request timeout), 409
// (conflict), 429 (rate limit), any 5xx (including Anthropic's 529 overloaded), or an error event
// in a stream whose type is a rate-limit, overload or server error (Anthropic's rate_limit_error,
// overloaded_error, api_error; OpenAI's server_error); but never OpenAI's insufficient_quota (a
// billing error sent as 429, as code or type) nor a reply with the header "x-should-retry:
// false"; and any status from 400 up with the header "x-should-retry: true" (insufficient_quota
// excepted). Other 4xx replies (bad request, authentication, permission, not found, too large)
// are not retryable. It is the classification the HTTP layer retries by (see WithRetry), so a
// retryable *APIError reaches the caller only when the retries ran out, were turned off, or the
// delay the server asked for (RetryAfter) exceeded RetryPolicy.MaxRetryAfter; an error event in a
// 200 stream, or a 200 JSON error body, is never retried by the HTTP layer.
func (e *APIError) Retryable() bool {
	if e.Code == "insufficient_quota" || e.Type == "insufficient_quota" {
		return false
	}
	if e.StatusCode == http.StatusOK {
		switch e.Type {
		case "rate_limit_error", "overloaded_error", "api_error", "server_error":
			return true
		}
		return false
	}
	return retryableReply(e.StatusCode, e.Header, nil)
}

const maxErrorMessage = 512 // bytes of a non-JSON error body kept in APIError.Message

func newAPIError(provider string, status int, header http.Header, body []byte, err error) *APIError {
	e := &APIError{Provider: provider, StatusCode: status, Header: header.Clone(), err: err}
	if msg, typ, code, ok := errorShape(body); ok {
		e.Message, e.Type, e.Code = msg, typ, code
	} else {
		msg := strings.TrimSpace(string(body))
		if len(msg) > maxErrorMessage {
			msg = msg[:maxErrorMessage] + "..."
		}
		e.Message = msg
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.RetryAfter = serverDelay(status, header, time.Now())
	e.RequestID = header.Get("X-Request-Id")
	if e.RequestID == "" {
		e.RequestID = header.Get("Request-Id")
	}
	return e
}

// errorShape reads the message, type and code of a JSON error body or error event, in any of the
// shapes providers send: {"error": {"message", "type", "code"}} (OpenAI, and Anthropic's
// {"type": "error", "error": {"type", "message"}}), {"message", "type", "code"} at the top level
// (older vLLM's {"object": "error", ...} chunk, and other compatible servers), and
// {"error": "message"}. ok is false when body has none of them.
func errorShape(body []byte) (msg, typ, code string, ok bool) {
	type fields struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"` // OpenAI sends a string, some compatible servers a number
	}
	var shape struct {
		fields
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &shape) != nil {
		return "", "", "", false
	}
	var nested fields
	if json.Unmarshal(shape.Error, &nested) == nil && nested.Message != "" {
		return nested.Message, nested.Type, codeString(nested.Code), true
	}
	var text string
	if json.Unmarshal(shape.Error, &text) == nil && text != "" {
		return text, shape.Type, codeString(shape.Code), true
	}
	if shape.Message != "" {
		return shape.Message, shape.Type, codeString(shape.Code), true
	}
	return "", "", "", false
}

// codeString returns an error code read from JSON as a string: a string as it is, a number in
// decimal; "" for anything else.
func codeString(c any) string {
	switch c := c.(type) {
	case string:
		return c
	case float64:
		return strconv.FormatFloat(c, 'f', -1, 64)
	}
	return ""
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// secret is an API key kept only to redact it from error texts. A pointer in Model, so that
// printing a Model with %+v shows an address, not the key.
type secret struct {
	key string
	red *redact.Redactor // the key in all its spellings, and well-known credential shapes
}

func newSecret(key string) *secret { return &secret{key: key, red: redact.New(key)} }

func (s *secret) redactString(text string) string {
	if s == nil || s.red == nil {
		return text
	}
	return s.red.String(text)
}

// redact returns err with the key removed from its text; errors.Is and errors.As still see err.
func (s *secret) redact(err error) error {
	if s == nil || s.red == nil {
		return err
	}
	return s.red.Error(err)
}

// Secrets returns the API key the Model was built with (none for a keyless server or a wrapped
// llms.Model), so that an agent can redact it from events, errors and printed output (the agent
// package looks for this method).
func (m *Model) Secrets() []string {
	if m.key == nil || m.key.key == "" {
		return nil
	}
	return []string{m.key.key}
}
