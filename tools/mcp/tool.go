package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"

	agent "github.com/autogpt-go/agent"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tool is one tool of an MCP server, as an agent.Tool. Get them from Client.Tools.
type Tool struct {
	client      *Client
	name        string
	remote      string
	description string
	schema      json.RawMessage
	annotations *sdk.ToolAnnotations
}

var _ agent.Tool = (*Tool)(nil)

// Name returns the agent tool name: Config.Prefix plus the server's name, made valid (see Client).
func (t *Tool) Name() string { return t.name }

// RemoteName returns the tool's name on the server, which Call sends.
func (t *Tool) RemoteName() string { return t.remote }

// Description returns the server's description of the tool (its title when it has none).
func (t *Tool) Description() string { return t.description }

// Schema returns the tool's input schema as the server sent it in tools/list: the same keys in the
// same order, whitespace removed. It is nil when the server sent none. Callers must not modify it.
func (t *Tool) Schema() json.RawMessage { return t.schema }

// Annotations returns the server's hints about the tool (read-only, destructive, idempotent, open
// world), or nil. They are hints from the server, not guarantees: a BeforeToolCall hook may use
// them to decide what needs approval, but should not trust an unknown server's word that a tool is
// harmless.
func (t *Tool) Annotations() *sdk.ToolAnnotations { return t.annotations }

// Call sends tools/call with args (empty or null arguments become {}) and renders the result:
//
//   - text content: the texts, joined by newlines;
//   - other content, briefly: "[image: image/png, 1234 bytes]", "[audio: ...]",
//     "[resource link: name <uri> (mime type)]", an embedded text resource as its URI line and
//     text, an embedded binary resource as "[resource: uri, mime type, N bytes]";
//   - structured content, as JSON (keys sorted), when there is no text;
//   - the result's isError as ToolResult.IsError.
//
// A protocol error (unknown tool, invalid parameters, a closed connection) is returned as an
// error, as is ctx's error when ctx ends first, and ErrClosed when the Client is closed first: the
// request is then cancelled on the server (notifications/cancelled) and Call returns at once.
func (t *Tool) Call(ctx context.Context, args json.RawMessage) (agent.ToolResult, error) {
	if a := bytes.TrimSpace(args); len(a) == 0 || string(a) == "null" {
		args = json.RawMessage("{}")
	}
	c := t.client
	c.mu.Lock()
	if c.closed.Err() != nil {
		c.mu.Unlock()
		return agent.ToolResult{}, fmt.Errorf("mcp: tool %q: %w", t.remote, ErrClosed)
	}
	c.calls.Add(1)
	c.mu.Unlock()
	defer c.calls.Done()
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.closed, cancel)
	defer stop()
	res, err := c.session.CallTool(callCtx, &sdk.CallToolParams{Name: t.remote, Arguments: args})
	if err != nil {
		if callCtx.Err() != nil && c.cancels != nil {
			c.cancels.attempts.Add(1) // the SDK notifies the server of the cancellation
		}
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case c.closed.Err() != nil:
			err = ErrClosed
		}
		return agent.ToolResult{}, fmt.Errorf("mcp: tool %q: %w", t.remote, err)
	}
	return renderResult(res), nil
}

// renderResult turns a tools/call result into the text the model sees.
func renderResult(res *sdk.CallToolResult) agent.ToolResult {
	var parts []string
	hasText := false
	for _, c := range res.Content {
		switch c := c.(type) {
		case *sdk.TextContent:
			parts = append(parts, c.Text)
			hasText = true
		case *sdk.ImageContent:
			parts = append(parts, fmt.Sprintf("[image: %s, %d bytes]", orUnknown(c.MIMEType), len(c.Data)))
		case *sdk.AudioContent:
			parts = append(parts, fmt.Sprintf("[audio: %s, %d bytes]", orUnknown(c.MIMEType), len(c.Data)))
		case *sdk.ResourceLink:
			s := "[resource link: "
			if c.Name != "" {
				s += c.Name + " "
			}
			s += "<" + c.URI + ">"
			if c.MIMEType != "" {
				s += " (" + c.MIMEType + ")"
			}
			parts = append(parts, s+"]")
		case *sdk.EmbeddedResource:
			r := c.Resource
			switch {
			case r == nil:
				parts = append(parts, "[resource]")
			case r.Blob != nil:
				parts = append(parts, fmt.Sprintf("[resource: %s, %s, %d bytes]", r.URI, orUnknown(r.MIMEType), len(r.Blob)))
			default:
				head := "[resource: " + r.URI
				if r.MIMEType != "" {
					head += ", " + r.MIMEType
				}
				parts = append(parts, head+"]\n"+r.Text)
				hasText = true
			}
		default:
			parts = append(parts, fmt.Sprintf("[%s content]", contentKind(c)))
		}
	}
	if !hasText && res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			parts = append(parts, string(b))
		}
	}
	out := agent.ToolResult{Content: strings.Join(parts, "\n"), IsError: res.IsError}
	if out.IsError && out.Content == "" {
		out.Content = "the tool reported an error without a message"
	}
	return out
}

func orUnknown(mimeType string) string {
	if mimeType == "" {
		return "unknown type"
	}
	return mimeType
}

// contentKind names a content type this package does not render, from its wire "type".
func contentKind(c sdk.Content) string {
	var w struct {
		Type string `json:"type"`
	}
	if b, err := json.Marshal(c); err == nil && json.Unmarshal(b, &w) == nil && w.Type != "" {
		return w.Type
	}
	return "unknown"
}

// moduleVersion is this module's version as the build records it, or "devel".
func moduleVersion() string {
	const path = "github.com/autogpt-go/agent"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == path && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == path && d.Version != "" {
				return d.Version
			}
		}
	}
	return "devel"
}
