// Package mcp connects agents to the Model Context Protocol (MCP), in both directions, with the
// official MCP Go SDK (github.com/modelcontextprotocol/go-sdk, imported here as sdk).
//
// As a client, Connect starts a stdio server (a command and its arguments, with a clean
// environment) or dials a streamable HTTP one, lists its tools and offers each as an agent.Tool:
//
//	c, err := mcp.Connect(ctx, mcp.Config{
//		Command: "mcp-server-filesystem", Args: []string{dir},
//		Prefix:  "fs_",
//	})
//	if err != nil { ... }
//	defer c.Close()
//	a, err := agent.New(agent.Config{Model: model, Tools: c.Tools()})
//
// Tool names become valid agent names (see Client), input schemas are passed through as the server
// sent them (key order kept), and results are rendered as text for the model (see Tool.Call).
//
// As a server, NewServer serves agent tools to any MCP client over stdio (Server.ServeStdio),
// streamable HTTP (Server.Handler) or any SDK transport (Server.Run).
//
// Importing this package compiles the MCP SDK; the agent root package does not.
package mcp
