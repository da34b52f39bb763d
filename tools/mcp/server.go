package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultServerName is the server name sent in the initialize result when ServerConfig.Name is "".
const DefaultServerName = "autogpt-go"

// toolNameRE is the agent's rule for tool names (see agent.Tool).
var toolNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// emptyObjectSchema is the input schema served for a tool whose Schema is empty.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// ServerConfig configures a Server. Only Tools is needed.
type ServerConfig struct {
	// Tools are served. Names must be unique and match ^[a-zA-Z0-9_-]{1,64}$ (as in agent.Config).
	Tools []agent.Tool
	// Name and Version identify the server in the initialize result; "" means DefaultServerName
	// and this module's version as the build records it ("devel" when unknown).
	Name    string
	Version string
	// Instructions are sent to clients in the initialize result; "" sends none.
	Instructions string
	// PageSize is how many tools one tools/list page holds; 0 means the SDK's default (1000).
	PageSize int
	// CallTimeout bounds one tool call, in wall time; 0 means agent.DefaultToolTimeout (2 minutes),
	// negative no bound beyond the client's cancellation. A call that ignores its ctx keeps its
	// request open until it returns. It also bounds how long a session that the client ends
	// without cancelling its calls stays open: the SDK closes a session once its calls returned.
	CallTimeout time.Duration
	// Logger receives the SDK's records; nil logs nothing.
	Logger *slog.Logger
}

// Server serves agent tools over MCP, so that any MCP client can list and call them: over stdio
// (ServeStdio), streamable HTTP (Handler) or any SDK transport (Run). It is safe for concurrent
// use and may serve many sessions at once.
//
// tools/list gives each tool's name, description and input schema (its Schema bytes, key order
// kept; an empty schema is served as {"type":"object","properties":{}}, one without a "type" gets
// "type":"object" in front). tools/call checks the arguments as the agent does before a call (a
// JSON object, valid against the schema; empty or null arguments are {}), then calls the tool with
// the request's context, cancelled when the client cancels the request. Invalid arguments, an
// error returned by the tool, a panic in it and a result with IsError set all come back as a result
// with isError set and the message as text content, so that the client's model can correct
// itself; an unknown tool name is a protocol error.
type Server struct {
	srv *sdk.Server
}

// NewServer checks cfg's tools (unique valid names, input schemas that are JSON objects of type
// "object" and that github.com/google/jsonschema-go can resolve, no error from an Err method such
// as agent.FuncTool's) and returns a Server for them. The errors name the offending tool.
func NewServer(cfg ServerConfig) (*Server, error) {
	name, version := cfg.Name, cfg.Version
	if name == "" {
		name = DefaultServerName
	}
	if version == "" {
		version = moduleVersion()
	}
	timeout := cfg.CallTimeout
	if timeout == 0 {
		timeout = agent.DefaultToolTimeout
	}
	type prepared struct {
		tool     agent.Tool
		schema   json.RawMessage
		resolved *jsonschema.Resolved
	}
	var tools []prepared
	seen := make(map[string]bool)
	for i, t := range cfg.Tools {
		if t == nil {
			return nil, fmt.Errorf("mcp: tool %d is nil", i)
		}
		n := t.Name()
		if !toolNameRE.MatchString(n) {
			return nil, fmt.Errorf("mcp: tool %q: name must match %s", n, toolNameRE)
		}
		if seen[n] {
			return nil, fmt.Errorf("mcp: tool %q: duplicate name", n)
		}
		seen[n] = true
		if e, ok := t.(interface{ Err() error }); ok {
			if err := e.Err(); err != nil {
				return nil, fmt.Errorf("mcp: tool %q: %w", n, err)
			}
		}
		schema, resolved, err := prepareSchema(t.Schema())
		if err != nil {
			return nil, fmt.Errorf("mcp: tool %q: input schema: %w", n, err)
		}
		tools = append(tools, prepared{t, schema, resolved})
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := sdk.NewServer(&sdk.Implementation{Name: name, Version: version}, &sdk.ServerOptions{
		Instructions: cfg.Instructions,
		Logger:       logger,
		PageSize:     cfg.PageSize,
		// Tools even when there are none yet (MCPServer().AddTool may add some), and list
		// changes notified, as the SDK does when tools are added or removed.
		Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{ListChanged: true}},
	})
	for _, p := range tools {
		srv.AddTool(&sdk.Tool{
			Name:        p.tool.Name(),
			Description: p.tool.Description(),
			InputSchema: p.schema,
		}, handler(p.tool, p.resolved, timeout))
	}
	return &Server{srv: srv}, nil
}

// MCPServer returns the underlying SDK server, for what this package does not wrap (resources,
// prompts, more tools).
func (s *Server) MCPServer() *sdk.Server { return s.srv }

// Run serves one session over t until the client disconnects or ctx ends.
func (s *Server) Run(ctx context.Context, t sdk.Transport) error {
	return s.srv.Run(ctx, t)
}

// ServeStdio serves one session over this process's standard input and output until the client
// closes standard input or ctx ends. Nothing else may write to standard output meanwhile.
func (s *Server) ServeStdio(ctx context.Context) error {
	return s.srv.Run(ctx, &sdk.StdioTransport{})
}

// Handler returns an http.Handler serving the streamable HTTP transport, one session per client;
// opts may be nil (the SDK's defaults).
func (s *Server) Handler(opts *sdk.StreamableHTTPOptions) http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s.srv }, opts)
}

// prepareSchema returns the wire form of a tool's schema (compacted, key order kept) and its
// resolved form for validation (nil: any object).
func prepareSchema(raw json.RawMessage) (json.RawMessage, *jsonschema.Resolved, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return emptyObjectSchema, nil, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(t, &top); err != nil || top == nil {
		return nil, nil, errors.New("not a JSON object")
	}
	var wire bytes.Buffer
	if err := json.Compact(&wire, t); err != nil {
		return nil, nil, err
	}
	if typ, ok := top["type"]; ok {
		var s string
		if json.Unmarshal(typ, &s) != nil || s != "object" {
			return nil, nil, fmt.Errorf(`type is %s, want "object" (tool arguments are a JSON object)`, typ)
		}
	} else {
		b := wire.Bytes()
		rest := b[1:]
		if len(top) > 0 {
			rest = append([]byte(","), rest...)
		}
		wire = *bytes.NewBuffer(append([]byte(`{"type":"object"`), rest...))
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(t, &s); err != nil {
		return nil, nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	resolved, err := s.Resolve(nil)
	if err != nil {
		return nil, nil, err
	}
	return wire.Bytes(), resolved, nil
}

// handler adapts t to the SDK's tool handler.
func handler(t agent.Tool, resolved *jsonschema.Resolved, timeout time.Duration) sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		var args json.RawMessage
		if req.Params != nil {
			args = req.Params.Arguments
		}
		if err := checkArguments(resolved, &args); err != nil {
			return errorResult(err.Error()), nil
		}
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		res, err := safeCall(ctx, t, args)
		if err != nil {
			return errorResult(err.Error()), nil
		}
		return &sdk.CallToolResult{
			Content: []sdk.Content{&sdk.TextContent{Text: res.Content}},
			IsError: res.IsError,
		}, nil
	}
}

// checkArguments normalises *args (empty and null become {}) and checks that it is a JSON object
// valid against resolved (when non-nil). The error is written for the model.
func checkArguments(resolved *jsonschema.Resolved, args *json.RawMessage) error {
	if a := bytes.TrimSpace(*args); len(a) == 0 || string(a) == "null" {
		*args = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(*args, &v); err != nil {
		return fmt.Errorf("invalid arguments: not valid JSON (%v); send the arguments as one JSON object", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New("invalid arguments: expected a JSON object")
	}
	if resolved != nil {
		if err := resolved.Validate(v); err != nil {
			return fmt.Errorf("invalid arguments: %v", err)
		}
	}
	return nil
}

// safeCall calls t, turning a panic into an error.
func safeCall(ctx context.Context, t agent.Tool, args json.RawMessage) (res agent.ToolResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = agent.ToolResult{}, fmt.Errorf("tool panicked: %v", p)
		}
	}()
	return t.Call(ctx, args)
}

func errorResult(msg string) *sdk.CallToolResult {
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: msg}}, IsError: true}
}
