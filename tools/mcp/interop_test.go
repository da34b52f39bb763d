//go:build mcpinterop

// Interop tests against the MCP reference servers from npm (and the TypeScript SDK's client against
// our server). They need node and the servers that .ci/mcp-setup.sh installs:
//
//	MCP_SERVERS_DIR=$(bash .ci/mcp-setup.sh) go test -tags mcpinterop ./tools/mcp/

package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serversDir returns MCP_SERVERS_DIR; the tag says the servers are there, so its absence fails.
func serversDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MCP_SERVERS_DIR")
	if dir == "" {
		t.Fatal("MCP_SERVERS_DIR is not set: run `MCP_SERVERS_DIR=$(bash .ci/mcp-setup.sh) go test -tags mcpinterop ./tools/mcp/`")
	}
	return dir
}

func serverBin(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(serversDir(t), "node_modules", ".bin", name)
	_, err := os.Stat(p)
	require.NoError(t, err, "run .ci/mcp-setup.sh")
	return p
}

// interopCall calls tool with args and fails the test on a protocol error.
func interopCall(t *testing.T, tools map[string]*Tool, name, args string) agent.ToolResult {
	t.Helper()
	tool := tools[name]
	require.NotNil(t, tool, "no tool %q", name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := tool.Call(ctx, json.RawMessage(args))
	require.NoError(t, err, "calling %s", name)
	return res
}

// sortedJSON re-encodes raw with sorted keys, as the SDK's decoded map would give it.
func sortedJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// checkSchemas checks that every tool has an object schema the agent accepts.
func checkSchemas(t *testing.T, c *Client) {
	t.Helper()
	for _, tool := range c.Tools() {
		var top map[string]any
		require.NoError(t, json.Unmarshal(tool.Schema(), &top), tool.Name())
		assert.Equal(t, "object", top["type"], tool.Name())
	}
	_, err := agent.New(agent.Config{Model: llmtest.NewScript(), Tools: c.Tools()})
	require.NoError(t, err, "agent.New refuses the server's tools")
}

func TestInteropEverythingStdio(t *testing.T) {
	t.Setenv("MCP_INTEROP_SECRET", "s3cret")
	var stderr bytes.Buffer
	c, err := Connect(context.Background(), Config{
		Command: serverBin(t, "mcp-server-everything"),
		Args:    []string{"stdio"},
		Env:     []string{"MCP_INTEROP_PASSED=yes"},
		Prefix:  "ev_",
		Stderr:  &stderr,
		// The cancelled long operation below keeps node busy: Close stops it with SIGTERM.
		CloseTimeout: time.Second,
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Close()) }()

	tools := toolMap(c)
	for _, n := range []string{"ev_echo", "ev_get-sum", "ev_get-tiny-image", "ev_get-structured-content", "ev_get-env"} {
		assert.Contains(t, tools, n)
	}
	assert.Equal(t, "echo", tools["ev_echo"].RemoteName())
	assert.NotEmpty(t, tools["ev_echo"].Description())
	checkSchemas(t, c)

	// The schema bytes are the server's, not the SDK's sorted re-encoding.
	sum := tools["ev_get-sum"].Schema()
	assert.NotEqual(t, sortedJSON(t, sum), string(sum), "key order lost: %s", sum)
	assert.Contains(t, string(sum), `"a"`)
	ann := tools["ev_get-sum"].Annotations()
	require.NotNil(t, ann)
	assert.True(t, ann.ReadOnlyHint)

	assert.Equal(t, agent.ToolResult{Content: "Echo: hello from Go"},
		interopCall(t, tools, "ev_echo", `{"message":"hello from Go"}`))
	assert.Equal(t, agent.ToolResult{Content: "The sum of 2 and 3.5 is 5.5."},
		interopCall(t, tools, "ev_get-sum", `{"a":2,"b":3.5}`))

	img := interopCall(t, tools, "ev_get-tiny-image", `{}`)
	assert.False(t, img.IsError)
	assert.Regexp(t, `\[image: image/png, \d+ bytes\]`, img.Content)

	weather := interopCall(t, tools, "ev_get-structured-content", `{"location":"Chicago"}`)
	assert.Contains(t, weather.Content, "Light rain")

	// A call the server rejects (wrong argument type) comes back as an error result or error,
	// never as a success.
	res, err := tools["ev_get-sum"].Call(context.Background(), json.RawMessage(`{"a":"x","b":1}`))
	assert.True(t, err != nil || res.IsError, "got %+v", res)

	// The server's environment is clean: what Env passes, not this process's secrets.
	env := interopCall(t, tools, "ev_get-env", `{}`).Content
	assert.Contains(t, env, "MCP_INTEROP_PASSED")
	assert.NotContains(t, env, "MCP_INTEROP_SECRET")
	assert.NotContains(t, env, "s3cret")

	// Cancellation of a long operation returns at once.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tools["ev_trigger-long-running-operation"].Call(ctx, json.RawMessage(`{"duration":30,"steps":3}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, "Echo: still there", interopCall(t, tools, "ev_echo", `{"message":"still there"}`).Content)

	// An agent run through the server's tools.
	model := llmtest.NewScript(
		llmtest.Calls(llmtest.Call("ev_get-sum", `{"a":40,"b":2}`)),
		llmtest.Text("42"),
	)
	a, err := agent.New(agent.Config{Model: model, Tools: c.Tools()})
	require.NoError(t, err)
	out, err := a.Run(context.Background(), "add 40 and 2")
	require.NoError(t, err)
	model.AssertComplete(t)
	assert.Equal(t, "42", out.Answer)
	assert.Equal(t, "The sum of 40 and 2 is 42.", out.Steps[0].ToolCalls[0].Result.Content)
	var sent string
	for _, spec := range model.Requests()[0].Tools {
		if spec.Name == "ev_get-sum" {
			sent = string(spec.Parameters)
		}
	}
	assert.Equal(t, string(sum), sent, "the model receives the server's schema bytes")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// startEverythingHTTP runs the everything server's streamable HTTP transport on a loopback port
// and returns its endpoint; the server is stopped when the test ends.
func startEverythingHTTP(t *testing.T) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(serverBin(t, "mcp-server-everything"), "streamableHttp")
	cmd.Env = []string{"PORT=" + strconv.Itoa(port), "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the everything server did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "http://" + addr + "/mcp"
}

func TestInteropEverythingHTTP(t *testing.T) {
	// The same server over stdio gives the reference schemas.
	sc, err := Connect(context.Background(), Config{Command: serverBin(t, "mcp-server-everything"), Args: []string{"stdio"}})
	require.NoError(t, err)
	stdioTools := toolMap(sc)
	require.NoError(t, sc.Close())

	c, err := Connect(context.Background(), Config{URL: startEverythingHTTP(t)})
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Close()) }()
	tools := toolMap(c)
	require.Equal(t, len(stdioTools), len(tools))
	for name, tool := range tools {
		require.Contains(t, stdioTools, name)
		assert.Equal(t, string(stdioTools[name].Schema()), string(tool.Schema()), "schema of %s over HTTP", name)
	}
	checkSchemas(t, c)
	assert.Equal(t, "Echo: over http", interopCall(t, tools, "echo", `{"message":"over http"}`).Content)
	assert.Equal(t, "The sum of 1 and 2 is 3.", interopCall(t, tools, "get-sum", `{"a":1,"b":2}`).Content)
}

func TestInteropFilesystem(t *testing.T) {
	root := t.TempDir()
	root, err := filepath.EvalSymlinks(root)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello, world\nsecond line\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(root, "sub"), 0o755))
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644))

	c, err := Connect(context.Background(), Config{
		Command: serverBin(t, "mcp-server-filesystem"),
		Args:    []string{root},
		Prefix:  "fs_",
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Close()) }()
	tools := toolMap(c)
	for _, n := range []string{"fs_read_text_file", "fs_read_file", "fs_list_directory", "fs_write_file", "fs_list_allowed_directories"} {
		assert.Contains(t, tools, n)
	}
	checkSchemas(t, c)
	rs := tools["fs_read_text_file"].Schema()
	assert.NotEqual(t, sortedJSON(t, rs), string(rs), "key order lost: %s", rs)

	list := interopCall(t, tools, "fs_list_directory", fmt.Sprintf(`{"path":%q}`, root))
	assert.False(t, list.IsError, list.Content)
	assert.Contains(t, list.Content, "[FILE] hello.txt")
	assert.Contains(t, list.Content, "[DIR] sub")

	read := interopCall(t, tools, "fs_read_text_file", fmt.Sprintf(`{"path":%q}`, filepath.Join(root, "hello.txt")))
	assert.Equal(t, agent.ToolResult{Content: "hello, world\nsecond line\n"}, read)
	head := interopCall(t, tools, "fs_read_file", fmt.Sprintf(`{"path":%q,"head":1}`, filepath.Join(root, "hello.txt")))
	assert.Equal(t, "hello, world", strings.TrimSpace(head.Content))

	w := interopCall(t, tools, "fs_write_file", fmt.Sprintf(`{"path":%q,"content":"written"}`, filepath.Join(root, "sub", "new.txt")))
	assert.False(t, w.IsError, w.Content)
	got, err := os.ReadFile(filepath.Join(root, "sub", "new.txt"))
	require.NoError(t, err)
	assert.Equal(t, "written", string(got))

	// Outside the allowed directory: the server refuses with an error result.
	denied := interopCall(t, tools, "fs_read_text_file", fmt.Sprintf(`{"path":%q}`, filepath.Join(outside, "secret.txt")))
	assert.True(t, denied.IsError, denied.Content)
	assert.NotContains(t, denied.Content, "secret\n")
}

// TestInteropTSClient: the TypeScript SDK's client lists and calls the tools our Server serves over
// stdio (the test binary as the helper server).
func TestInteropTSClient(t *testing.T) {
	dir := serversDir(t)
	script, err := filepath.Abs(filepath.Join("testdata", "ts_client.cjs"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, dir, os.Args[0])
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, helperVars()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "stderr: %s", stderr.String())

	var got struct {
		Server struct{ Name string }
		Tools  []struct {
			Name        string
			Description string
			InputSchema json.RawMessage
		}
		Echo, Fail, Invalid struct {
			Content []struct{ Type, Text string }
			IsError bool
		}
		Unknown string
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, "helper", got.Server.Name)
	schemas := map[string]string{}
	for _, tool := range got.Tools {
		schemas[tool.Name] = string(tool.InputSchema)
	}
	// JSON.parse and JSON.stringify keep key order, so the TS client saw our bytes.
	assert.Equal(t, orderedSchema, schemas["ordered"])
	assert.Len(t, schemas, len(testTools(nil)))

	require.Len(t, got.Echo.Content, 1)
	assert.Equal(t, "echo: from ts", got.Echo.Content[0].Text)
	assert.False(t, got.Echo.IsError)
	assert.True(t, got.Fail.IsError)
	assert.Equal(t, "boom", got.Fail.Content[0].Text)
	assert.True(t, got.Invalid.IsError)
	assert.Contains(t, got.Invalid.Content[0].Text, "invalid arguments")
	assert.Contains(t, got.Unknown, "no_such_tool")
}
