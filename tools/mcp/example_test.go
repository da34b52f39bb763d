package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/tools/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// An agent tool served over MCP, and used back through the client, here over the SDK's in-memory
// transport. A real host would connect with Config.Command (stdio) or Config.URL (HTTP).
func Example() {
	ctx := context.Background()
	add := agent.NewTool("add", "Add two integers.", func(_ context.Context, in addArgs) (int, error) {
		return in.A + in.B, nil
	})
	srv, err := mcp.NewServer(mcp.ServerConfig{Tools: []agent.Tool{add}})
	if err != nil {
		log.Fatal(err)
	}
	serverSide, clientSide := sdk.NewInMemoryTransports()
	session, err := srv.MCPServer().Connect(ctx, serverSide, nil)
	if err != nil {
		log.Fatal(err)
	}

	c, err := mcp.Connect(ctx, mcp.Config{Transport: clientSide, Prefix: "calc_"})
	if err != nil {
		log.Fatal(err)
	}
	tool := c.Tools()[0]
	fmt.Println(tool.Name(), string(tool.Schema()))
	res, err := tool.Call(ctx, json.RawMessage(`{"a":40,"b":2}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content, res.IsError)
	res, _ = tool.Call(ctx, json.RawMessage(`{"a":"forty"}`))
	fmt.Println(res.IsError)

	if err := c.Close(); err != nil {
		log.Fatal(err)
	}
	_ = session.Wait()
	// Output:
	// calc_add {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}
	// 42 false
	// true
}
