package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm/llmtest"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connectInMemory connects a client to srv through the SDK's in-memory transport (a net.Pipe, so
// every message is encoded and decoded as on a real wire).
func connectInMemory(t *testing.T, srv *sdk.Server, cfg Config) *Client {
	t.Helper()
	st, ct := sdk.NewInMemoryTransports()
	ss, err := srv.Connect(context.Background(), st, nil)
	require.NoError(t, err)
	cfg.Transport = ct
	c, err := Connect(context.Background(), cfg)
	if err != nil {
		_ = ss.Close()
		_ = ss.Wait()
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		assert.NoError(t, c.Close())
		_ = ss.Wait()
	})
	return c
}

// connectStdio starts the test binary as the helper stdio server.
func connectStdio(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.Command = os.Args[0]
	cfg.Env = append(helperVars(), cfg.Env...)
	c, err := Connect(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	return c
}

// connectHTTP serves srv over streamable HTTP on a loopback test server and connects to it.
func connectHTTP(t *testing.T, srv *Server, opts *sdk.StreamableHTTPOptions, cfg Config) *Client {
	t.Helper()
	ts := httptest.NewServer(srv.Handler(opts))
	t.Cleanup(ts.Close) // after the client's Close (cleanups run last-in first-out)
	cfg.URL = ts.URL
	cfg.HTTPClient = ts.Client()
	c, err := Connect(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	return c
}

func newTestServer(t *testing.T, probe *blockProbe) *Server {
	t.Helper()
	srv, err := NewServer(ServerConfig{Tools: testTools(probe)})
	require.NoError(t, err)
	return srv
}

func toolMap(c *Client) map[string]*Tool {
	m := make(map[string]*Tool)
	for _, t := range c.Tools() {
		m[t.Name()] = t.(*Tool)
	}
	return m
}

func call(t *testing.T, tool agent.Tool, args string) agent.ToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := tool.Call(ctx, json.RawMessage(args))
	require.NoError(t, err, "calling %s", tool.Name())
	return res
}

// TestRoundTrip runs our server against our client over every transport: list, schemas, calls,
// error results.
func TestRoundTrip(t *testing.T) {
	connects := map[string]func(t *testing.T) *Client{
		"in-memory": func(t *testing.T) *Client {
			return connectInMemory(t, newTestServer(t, nil).MCPServer(), Config{})
		},
		"stdio": func(t *testing.T) *Client { return connectStdio(t, Config{}) },
		"http-sse": func(t *testing.T) *Client {
			return connectHTTP(t, newTestServer(t, nil), nil, Config{})
		},
		"http-json": func(t *testing.T) *Client {
			return connectHTTP(t, newTestServer(t, nil), &sdk.StreamableHTTPOptions{JSONResponse: true}, Config{})
		},
		"http-stateless": func(t *testing.T) *Client {
			return connectHTTP(t, newTestServer(t, nil), &sdk.StreamableHTTPOptions{Stateless: true}, Config{})
		},
	}
	want := testTools(nil)
	for name, connect := range connects {
		t.Run(name, func(t *testing.T) {
			c := connect(t)
			tools := c.Tools()
			require.Len(t, tools, len(want))
			got := toolMap(c)
			for _, w := range want {
				g := got[w.Name()]
				require.NotNil(t, g, w.Name())
				assert.Equal(t, w.Name(), g.RemoteName())
				assert.Equal(t, w.Description(), g.Description())
				wantSchema := string(w.Schema())
				if wantSchema == "" {
					wantSchema = string(emptyObjectSchema)
				}
				// Byte for byte: same keys, same order.
				assert.Equal(t, wantSchema, string(g.Schema()), "schema of %s", w.Name())
			}
			m := toolMap(c)
			assert.Equal(t, orderedSchema, string(m["ordered"].Schema()))

			assert.Equal(t, agent.ToolResult{Content: "echo: hi"}, call(t, m["echo"], `{"text":"hi"}`))
			assert.Equal(t, agent.ToolResult{Content: `got {"zeta":"z","alpha":2}`},
				call(t, m["ordered"], `{"zeta":"z","alpha":2}`))

			// Invalid arguments: an error result the model can act on, checked by our server for
			// a tool that does not validate itself, and by NewTool's own validation.
			res := call(t, m["ordered"], `{"alpha":0}`)
			assert.True(t, res.IsError)
			assert.Contains(t, res.Content, "invalid arguments")
			res = call(t, m["echo"], ``)
			assert.True(t, res.IsError)
			assert.Contains(t, res.Content, "invalid arguments")
			res = call(t, m["echo"], `[1]`)
			assert.True(t, res.IsError)
			assert.Contains(t, res.Content, "invalid arguments")

			assert.Equal(t, agent.ToolResult{Content: "boom", IsError: true}, call(t, m["fail"], `{}`))
			assert.Equal(t, agent.ToolResult{Content: "bad input, try again", IsError: true}, call(t, m["soft_fail"], `null`))
			assert.Equal(t, agent.ToolResult{Content: "tool panicked: kaboom", IsError: true}, call(t, m["panic"], `{}`))

			// Still usable after all of that.
			assert.Equal(t, agent.ToolResult{Content: "echo: again"}, call(t, m["echo"], `{"text":"again"}`))
		})
	}
}

// TestSchemaCompacted: a schema written with whitespace reaches the client compacted, key order
// kept, over both the message and the HTTP capture paths.
func TestSchemaCompacted(t *testing.T) {
	spaced := "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"b\": {\"type\": \"string\"},\n    \"a\": {\"type\": \"number\"}\n  }\n}"
	tool := &rawTool{name: "spaced", schema: json.RawMessage(spaced),
		call: func(context.Context, json.RawMessage) (agent.ToolResult, error) { return agent.ToolResult{}, nil }}
	srv, err := NewServer(ServerConfig{Tools: []agent.Tool{tool}})
	require.NoError(t, err)
	want := `{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"number"}}}`
	c := connectInMemory(t, srv.MCPServer(), Config{})
	assert.Equal(t, want, string(c.Tools()[0].Schema()))
	c = connectHTTP(t, srv, nil, Config{})
	assert.Equal(t, want, string(c.Tools()[0].Schema()))
}

// TestSchemaFallback: without the capture (a transport that hides the wire), the schema still comes
// through, from the SDK's decoded map (keys sorted).
func TestSchemaFallback(t *testing.T) {
	srv := newTestServer(t, nil)
	st, ct := sdk.NewInMemoryTransports()
	ss, err := srv.MCPServer().Connect(context.Background(), st, nil)
	require.NoError(t, err)
	defer func() { _ = ss.Wait() }()
	session, err := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	require.NoError(t, err)
	c := newClient(session, "test")
	defer c.Close()
	require.NoError(t, c.list(context.Background(), "", newSchemaCapture()))
	m := toolMap(c)
	assert.JSONEq(t, orderedSchema, string(m["ordered"].Schema()))
	assert.NotEqual(t, orderedSchema, string(m["ordered"].Schema()))
}

// TestCancel: cancelling the ctx of a call returns at once with ctx's error, and the server's tool
// sees its own ctx cancelled (notifications/cancelled), over the in-memory and HTTP transports.
func TestCancel(t *testing.T) {
	for _, transport := range []string{"in-memory", "http"} {
		t.Run(transport, func(t *testing.T) {
			probe := newBlockProbe()
			srv := newTestServer(t, probe)
			var c *Client
			if transport == "http" {
				c = connectHTTP(t, srv, nil, Config{})
			} else {
				c = connectInMemory(t, srv.MCPServer(), Config{})
			}
			block := toolMap(c)["block"]

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := block.Call(ctx, json.RawMessage(`{}`))
				done <- err
			}()
			select {
			case <-probe.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the tool did not start")
			}
			cancel()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled)
			case <-time.After(2 * time.Second):
				t.Fatal("Call did not return after cancellation")
			}
			select {
			case err := <-probe.cancelled:
				assert.ErrorIs(t, err, context.Canceled)
			case <-time.After(5 * time.Second):
				t.Fatal("the server-side tool was not cancelled")
			}
			// The session goes on.
			assert.Equal(t, "echo: x", call(t, toolMap(c)["echo"], `{"text":"x"}`).Content)
		})
	}
}

// TestCancelStdio: a deadline ends a call to a stdio server that never answers.
func TestCancelStdio(t *testing.T) {
	c := connectStdio(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := toolMap(c)["block"].Call(ctx, json.RawMessage(`{}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, "echo: y", call(t, toolMap(c)["echo"], `{"text":"y"}`).Content)
}

// TestUnknownTool: a tool the server no longer has is a protocol error, returned as an error.
func TestUnknownTool(t *testing.T) {
	srv := newTestServer(t, nil)
	c := connectInMemory(t, srv.MCPServer(), Config{})
	echo := toolMap(c)["echo"]

	_, err := c.Session().CallTool(context.Background(), &sdk.CallToolParams{Name: "nope", Arguments: map[string]any{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")

	srv.MCPServer().RemoveTools("echo")
	_, err = echo.Call(context.Background(), json.RawMessage(`{"text":"hi"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"echo"`)
}

// TestPagination: every page of tools/list is read.
func TestPagination(t *testing.T) {
	var tools []agent.Tool
	for i := range 7 {
		tools = append(tools, &rawTool{name: "t" + strconv.Itoa(i),
			call: func(context.Context, json.RawMessage) (agent.ToolResult, error) {
				return agent.ToolResult{Content: strconv.Itoa(i)}, nil
			}})
	}
	srv, err := NewServer(ServerConfig{Tools: tools, PageSize: 2})
	require.NoError(t, err)
	for _, c := range []*Client{
		connectInMemory(t, srv.MCPServer(), Config{}),
		connectHTTP(t, srv, nil, Config{}),
	} {
		got := toolMap(c)
		require.Len(t, got, 7)
		for i := range 7 {
			tool := got["t"+strconv.Itoa(i)]
			require.NotNil(t, tool)
			assert.Equal(t, string(emptyObjectSchema), string(tool.Schema()))
			assert.Equal(t, strconv.Itoa(i), call(t, tool, `{}`).Content)
		}
	}
}

// TestNameSanitising: server names outside the agent's alphabet, too long or clashing become
// valid unique names, and calls reach the server's own name.
func TestNameSanitising(t *testing.T) {
	long := strings.Repeat("x", 70)
	remote := []string{"files.read", "a/b c", "é", "dup.x", "dup_x", long, long + "y"}
	srv := sdk.NewServer(&sdk.Implementation{Name: "odd", Version: "1"}, &sdk.ServerOptions{
		Logger: discardLogger(), // the SDK logs the names it finds invalid
	})
	for _, n := range remote {
		srv.AddTool(&sdk.Tool{Name: n, InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(_ context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
				return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "called " + req.Params.Name}}}, nil
			})
	}
	c := connectInMemory(t, srv, Config{Prefix: "srv.1_"})
	tools := c.Tools()
	require.Len(t, tools, len(remote))
	names := map[string]bool{}
	for _, tool := range tools {
		n := tool.Name()
		assert.Regexp(t, `^[a-zA-Z0-9_-]{1,64}$`, n)
		assert.False(t, names[n], "duplicate %q", n)
		names[n] = true
		assert.True(t, strings.HasPrefix(n, "srv_1_"), n)
		r := tool.(*Tool).RemoteName()
		assert.Equal(t, "called "+r, call(t, tool, `{}`).Content)
	}
	m := toolMap(c)
	for _, n := range []string{"srv_1_files_read", "srv_1_a_b_c", "srv_1__", "srv_1_dup_x"} {
		assert.Contains(t, m, n)
	}
	assert.Equal(t, "dup.x", m["srv_1_dup_x"].RemoteName())
	// Agent.New accepts them all.
	_, err := agent.New(agent.Config{Model: llmtest.NewScript(), Tools: c.Tools()})
	assert.NoError(t, err)
}

func TestNamer(t *testing.T) {
	n := newNamer("")
	assert.Equal(t, "a_b", n.name("a.b"))
	second := n.name("a_b")
	assert.Regexp(t, `^a_b_[0-9a-f]{8}$`, second)
	assert.Equal(t, second, newNamerUsed("a_b").name("a_b"), "stable across connections")
	long := strings.Repeat("é", 70)
	got := n.name(long)
	assert.Len(t, got, 64)
	assert.Regexp(t, `^_{55}_[0-9a-f]{8}$`, got)
	assert.Equal(t, "tool", newNamer("").name(""))
	assert.Equal(t, "p_x", newNamer("p.").name("x"))
}

func newNamerUsed(used ...string) *namer {
	n := newNamer("")
	for _, u := range used {
		n.used[u] = true
	}
	return n
}

// TestStdioEnv: the server's environment is clean: only the inherited names and Env.
func TestStdioEnv(t *testing.T) {
	t.Setenv("MCP_TEST_SECRET", "s3cret")
	c := connectStdio(t, Config{Env: []string{"PASSED=1", "PASSED=2"}})
	env := call(t, toolMap(c)["env"], `{}`).Content
	assert.Contains(t, env, "PASSED=2")
	assert.NotContains(t, env, "s3cret")
	assert.NotContains(t, env, "MCP_TEST_SECRET")
	if p, ok := os.LookupEnv("PATH"); ok {
		assert.Contains(t, strings.Split(env, "\n"), "PATH="+p)
	}

	c = connectStdio(t, Config{InheritEnv: []string{}})
	lines := strings.Split(call(t, toolMap(c)["env"], `{}`).Content, "\n")
	assert.Equal(t, helperVars(), lines)
}

// TestConnectErrors: bad configs, a missing program and a server that dies at once.
func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	_, st := sdk.NewInMemoryTransports()
	for _, cfg := range []Config{
		{},
		{Command: "x", URL: "http://127.0.0.1:1/"},
		{URL: "127.0.0.1:8080/mcp"},
		{URL: "ftp://host/x"},
		{Command: "x", Env: []string{"NOEQUALS"}},
		{Command: "x", CloseTimeout: -1},
		{Transport: st, URL: "http://127.0.0.1:1/"},
	} {
		_, err := Connect(ctx, cfg)
		assert.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}

	_, err := Connect(ctx, Config{Command: "/nonexistent/mcp-server"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/mcp-server")

	_, err = Connect(ctx, Config{Command: os.Args[0], Env: append(helperVars(), "HELPER_FAIL=\x1b[31mred")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "server stderr: helper failing on purpose: [31mred")
	assert.NotContains(t, err.Error(), "\x1b")

	// A timeout while connecting to a server that never answers; the server is stopped.
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Connect(tctx, Config{Command: os.Args[0], Env: append(helperVars(), "HELPER_HANG=1"),
		CloseTimeout: 100 * time.Millisecond})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestRenderResult: how each content type reaches the model.
func TestRenderResult(t *testing.T) {
	size := int64(10)
	for _, tc := range []struct {
		name string
		res  *sdk.CallToolResult
		want agent.ToolResult
	}{
		{"texts", &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "a"}, &sdk.TextContent{Text: "b"}}},
			agent.ToolResult{Content: "a\nb"}},
		{"image and text", &sdk.CallToolResult{Content: []sdk.Content{
			&sdk.TextContent{Text: "here:"}, &sdk.ImageContent{MIMEType: "image/png", Data: make([]byte, 1234)}}},
			agent.ToolResult{Content: "here:\n[image: image/png, 1234 bytes]"}},
		{"audio", &sdk.CallToolResult{Content: []sdk.Content{&sdk.AudioContent{Data: []byte{1, 2}}}},
			agent.ToolResult{Content: "[audio: unknown type, 2 bytes]"}},
		{"structured only", &sdk.CallToolResult{StructuredContent: map[string]any{"b": 1, "a": "x"}},
			agent.ToolResult{Content: `{"a":"x","b":1}`}},
		{"structured with text", &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "t"}},
			StructuredContent: map[string]any{"a": 1}},
			agent.ToolResult{Content: "t"}},
		{"structured with image", &sdk.CallToolResult{Content: []sdk.Content{&sdk.ImageContent{MIMEType: "image/gif", Data: []byte{1}}},
			StructuredContent: []any{1.0}},
			agent.ToolResult{Content: "[image: image/gif, 1 bytes]\n[1]"}},
		{"resource link", &sdk.CallToolResult{Content: []sdk.Content{&sdk.ResourceLink{URI: "file:///a.txt", Name: "a.txt", MIMEType: "text/plain", Size: &size}}},
			agent.ToolResult{Content: "[resource link: a.txt <file:///a.txt> (text/plain)]"}},
		{"embedded text", &sdk.CallToolResult{Content: []sdk.Content{&sdk.EmbeddedResource{Resource: &sdk.ResourceContents{URI: "mem://x", MIMEType: "text/plain", Text: "hello"}}}},
			agent.ToolResult{Content: "[resource: mem://x, text/plain]\nhello"}},
		{"embedded blob", &sdk.CallToolResult{Content: []sdk.Content{&sdk.EmbeddedResource{Resource: &sdk.ResourceContents{URI: "mem://y", Blob: []byte("abc")}}}},
			agent.ToolResult{Content: "[resource: mem://y, unknown type, 3 bytes]"}},
		{"error without content", &sdk.CallToolResult{IsError: true},
			agent.ToolResult{Content: "the tool reported an error without a message", IsError: true}},
		{"empty", &sdk.CallToolResult{}, agent.ToolResult{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, renderResult(tc.res))
		})
	}
}

// TestContentOverTheWire: non-text content and structured content from a server, through the
// wire encoding.
func TestContentOverTheWire(t *testing.T) {
	srv := sdk.NewServer(&sdk.Implementation{Name: "content", Version: "1"}, nil)
	srv.AddTool(&sdk.Tool{Name: "picture", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.ImageContent{MIMEType: "image/png", Data: []byte("\x89PNG....")}}}, nil
		})
	srv.AddTool(&sdk.Tool{Name: "weather", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{}, StructuredContent: json.RawMessage(`{"temp":21,"sky":"clear"}`)}, nil
		})
	srv.AddTool(&sdk.Tool{Name: "refuse", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "no"}}, IsError: true}, nil
		})
	srv.AddTool(&sdk.Tool{Name: "protocol_error", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return nil, errors.New("internal trouble")
		})
	m := toolMap(connectInMemory(t, srv, Config{}))
	assert.Equal(t, agent.ToolResult{Content: "[image: image/png, 8 bytes]"}, call(t, m["picture"], `{}`))
	assert.Equal(t, agent.ToolResult{Content: `{"sky":"clear","temp":21}`}, call(t, m["weather"], `{}`))
	assert.Equal(t, agent.ToolResult{Content: "no", IsError: true}, call(t, m["refuse"], `{}`))
	// A handler error is a JSON-RPC error on the wire: the client returns it as an error.
	_, err := m["protocol_error"].Call(context.Background(), json.RawMessage(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "internal trouble")
}

// TestNoTools: a server without the tools capability gives a client without tools.
func TestNoTools(t *testing.T) {
	srv := sdk.NewServer(&sdk.Implementation{Name: "empty", Version: "1"}, nil)
	c := connectInMemory(t, srv, Config{})
	assert.Empty(t, c.Tools())
}

// TestAgentUsesMCPTools: an agent run calls a tool through MCP, and the model's request carries the
// server's schema bytes.
func TestAgentUsesMCPTools(t *testing.T) {
	c := connectStdio(t, Config{Prefix: "h_"})
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("h_ordered", `{"zeta":"z"}`), llmtest.Call("h_fail", `{}`)),
		llmtest.Text("done"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: c.Tools()})
	require.NoError(t, err)
	res, err := a.Run(context.Background(), "use the tools")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "done", res.Answer)
	calls := res.Steps[0].ToolCalls
	require.Len(t, calls, 2)
	assert.Equal(t, agent.ToolResult{Content: `got {"zeta":"z"}`}, calls[0].Result)
	assert.Equal(t, agent.ToolResult{Content: "boom", IsError: true}, calls[1].Result)
	var sent string
	for _, spec := range model.Requests()[0].Tools {
		if spec.Name == "h_ordered" {
			sent = string(spec.Parameters)
		}
	}
	assert.Equal(t, orderedSchema, sent)
}

// TestCloseDuringCall: Close cancels a call in flight, on the server too, and does not wait for it.
func TestCloseDuringCall(t *testing.T) {
	for _, transport := range []string{"in-memory", "http", "stdio"} {
		t.Run(transport, func(t *testing.T) {
			probe := newBlockProbe()
			srv := newTestServer(t, probe)
			var c *Client
			switch transport {
			case "http":
				c = connectHTTP(t, srv, nil, Config{})
			case "stdio":
				c = connectStdio(t, Config{CloseTimeout: 200 * time.Millisecond})
			default:
				c = connectInMemory(t, srv.MCPServer(), Config{})
			}
			done := make(chan error, 1)
			go func() {
				_, err := toolMap(c)["block"].Call(context.Background(), json.RawMessage(`{}`))
				done <- err
			}()
			if transport == "stdio" {
				time.Sleep(200 * time.Millisecond) // the helper's tool has no probe
			} else {
				<-probe.started
			}
			start := time.Now()
			assert.NoError(t, c.Close())
			assert.Less(t, time.Since(start), 3*time.Second)
			select {
			case err := <-done:
				assert.ErrorIs(t, err, ErrClosed)
			case <-time.After(5 * time.Second):
				t.Fatal("the call did not end with the session")
			}
			if transport != "stdio" {
				select {
				case err := <-probe.cancelled:
					assert.ErrorIs(t, err, context.Canceled)
				case <-time.After(5 * time.Second):
					t.Fatal("the server-side tool was not cancelled")
				}
			}
		})
	}
}
