package mcp

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	agent "github.com/autogpt-go/agent"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func schemaTool(name, schema string) agent.Tool {
	return &rawTool{name: name, schema: json.RawMessage(schema),
		call: func(context.Context, json.RawMessage) (agent.ToolResult, error) { return agent.ToolResult{}, nil }}
}

func TestNewServerErrors(t *testing.T) {
	for _, tc := range []struct {
		tools []agent.Tool
		want  string
	}{
		{[]agent.Tool{nil}, "tool 0 is nil"},
		{[]agent.Tool{schemaTool("a.b", "")}, `"a.b": name must match`},
		{[]agent.Tool{schemaTool("", "")}, `"": name must match`},
		{[]agent.Tool{schemaTool("a", ""), schemaTool("a", "")}, `"a": duplicate name`},
		{[]agent.Tool{schemaTool("a", "[1]")}, "not a JSON object"},
		{[]agent.Tool{schemaTool("a", "{")}, "not a JSON object"},
		{[]agent.Tool{schemaTool("a", `{"type":"string"}`)}, `type is "string"`},
		{[]agent.Tool{schemaTool("a", `{"type":["object"]}`)}, `type is ["object"]`},
		{[]agent.Tool{schemaTool("a", `{"type":"object","properties":{"x":{"$ref":"#/nope"}}}`)}, "nope"},
		{[]agent.Tool{agent.NewTool("ch", "", func(context.Context, struct{ C chan int }) (string, error) { return "", nil })}, `"ch"`},
	} {
		_, err := NewServer(ServerConfig{Tools: tc.tools})
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

// TestServedSchemas: what tools/list carries for schemas that need a touch.
func TestServedSchemas(t *testing.T) {
	srv, err := NewServer(ServerConfig{Tools: []agent.Tool{
		schemaTool("none", ""),
		schemaTool("null", "null"),
		schemaTool("empty", "{}"),
		schemaTool("untyped", `{"properties":{"b":{"type":"string"},"a":{"type":"string"}},"required":["b"]}`),
		schemaTool("draft7", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"p":{"type":"string"}}}`),
	}})
	require.NoError(t, err)
	c := connectInMemory(t, srv.MCPServer(), Config{})
	got := map[string]string{}
	for _, tool := range c.Tools() {
		got[tool.Name()] = string(tool.Schema())
	}
	assert.Equal(t, map[string]string{
		"none":    `{"type":"object","properties":{}}`,
		"null":    `{"type":"object","properties":{}}`,
		"empty":   `{"type":"object"}`,
		"untyped": `{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"}},"required":["b"]}`,
		"draft7":  `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"p":{"type":"string"}}}`,
	}, got)
	res := call(t, toolMap(c)["untyped"], `{"a":"x"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, res.Content, "invalid arguments")
}

// TestServerInfo: name, version and instructions reach the client.
func TestServerInfo(t *testing.T) {
	srv, err := NewServer(ServerConfig{Name: "mine", Version: "1.2.3", Instructions: "be nice", Logger: discardLogger()})
	require.NoError(t, err)
	c := connectInMemory(t, srv.MCPServer(), Config{ClientName: "tester", ClientVersion: "9"})
	init := c.Session().InitializeResult()
	assert.Equal(t, "mine", init.ServerInfo.Name)
	assert.Equal(t, "1.2.3", init.ServerInfo.Version)
	assert.Equal(t, "be nice", init.Instructions)
	assert.Empty(t, c.Tools())
	srv, err = NewServer(ServerConfig{})
	require.NoError(t, err)
	c = connectInMemory(t, srv.MCPServer(), Config{})
	assert.Equal(t, DefaultServerName, c.Session().InitializeResult().ServerInfo.Name)
	assert.Equal(t, "devel", c.Session().InitializeResult().ServerInfo.Version)
}

// TestServerCallTimeout: CallTimeout cancels a tool that runs too long.
func TestServerCallTimeout(t *testing.T) {
	probe := newBlockProbe()
	srv, err := NewServer(ServerConfig{Tools: testTools(probe), CallTimeout: 50 * 1e6})
	require.NoError(t, err)
	c := connectInMemory(t, srv.MCPServer(), Config{})
	res := call(t, toolMap(c)["block"], `{}`)
	assert.Equal(t, agent.ToolResult{Content: "context deadline exceeded", IsError: true}, res)
}

// TestServerWithSDKClient: a plain SDK client (no capture, no wrapper) sees our tools as any MCP
// client would.
func TestServerWithSDKClient(t *testing.T) {
	srv := newTestServer(t, nil)
	st, ct := sdk.NewInMemoryTransports()
	ss, err := srv.MCPServer().Connect(context.Background(), st, nil)
	require.NoError(t, err)
	defer func() { _ = ss.Wait() }()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "plain", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	require.NoError(t, err)
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "sdk"}})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	require.Len(t, res.Content, 1)
	assert.Equal(t, "echo: sdk", res.Content[0].(*sdk.TextContent).Text)
	res, err = cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "fail"})
	require.NoError(t, err)
	assert.True(t, res.IsError)
}
