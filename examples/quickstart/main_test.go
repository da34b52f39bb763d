package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/internal/fakeoai"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func serverEnv(s *fakeoai.Server, model string) func(string) string {
	v := map[string]string{"OPENAI_BASE_URL": s.BaseURL(), "OPENAI_API_KEY": fakeoai.Key}
	if model != "" {
		v["OPENAI_MODEL"] = model
	}
	return env(v)
}

func TestNoProviderReplaysRecordedSession(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nil, env(nil), &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), "no model provider configured")
	assert.Contains(t, stderr.String(), "OPENAI_API_KEY")
	assert.Contains(t, stdout.String(), `tool call calculator {"__arg1":"15 * 4"}`)
	assert.Contains(t, stdout.String(), "calculator result: 60\n")
	assert.Contains(t, stdout.String(), "answer: 15 multiplied by 4 is 60.\n")
}

func TestOpenAICompatibleServerWritesHello(t *testing.T) {
	srv := fakeoai.New(t,
		fakeoai.Call("call_hello", "write_file", `{"path":"hello.txt","content":"Hello, world!\n"}`),
		fakeoai.Text("I wrote hello.txt."),
	)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-workspace", dir, "Write hello.txt"}, serverEnv(srv, "test-model"), &stdout, &stderr)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())

	got, err := os.ReadFile(filepath.Join(dir, "hello.txt"))
	require.NoError(t, err)
	assert.Equal(t, "Hello, world!\n", string(got))

	require.Len(t, srv.Requests(), 2, "exactly two model calls")
	assert.Equal(t, "test-model", srv.Requests()[0]["model"])
	msgs := srv.Messages(1)
	last := msgs[len(msgs)-1]
	assert.Equal(t, "tool", last["role"])
	assert.Equal(t, "call_hello", last["tool_call_id"])
	assert.Contains(t, last["content"], "hello.txt")
	assert.NotContains(t, last["content"], dir, "tool results never reveal the host path")
	var names []string
	for _, tl := range srv.Requests()[0]["tools"].([]any) {
		names = append(names, tl.(map[string]any)["function"].(map[string]any)["name"].(string))
	}
	assert.ElementsMatch(t, []string{"read_file", "write_file", "append_file", "list_dir", "replace_in_file", "search_files", "calculator"}, names)
	assert.Contains(t, stdout.String(), "tool call write_file")
	assert.Contains(t, stdout.String(), "answer: I wrote hello.txt.")
}

func TestModelTextIsStrippedOfEscapes(t *testing.T) {
	srv := fakeoai.New(t, fakeoai.Text("done\x1b[2J\x1b]0;pwned\x07 clean"))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-workspace", t.TempDir(), "hi"}, serverEnv(srv, ""), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "answer: done clean\n")
	assert.NotContains(t, stdout.String(), "\x1b")
}

func TestTemporaryWorkspaceIsMadeAndPrinted(t *testing.T) {
	srv := fakeoai.New(t, fakeoai.Text("nothing to do"))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"hi"}, serverEnv(srv, ""), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	line, _, _ := strings.Cut(stdout.String(), "\n")
	require.True(t, strings.HasPrefix(line, "workspace: "), line)
	dir := strings.TrimPrefix(line, "workspace: ")
	t.Cleanup(func() { os.RemoveAll(dir) })
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, info.IsDir())
}

func TestRunFailureExitsNonZero(t *testing.T) {
	srv := fakeoai.New(t) // no replies: every call is a 500
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-workspace", t.TempDir(), "-max-steps", "3", "hi"}, serverEnv(srv, ""), &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "run stopped")
	assert.NotContains(t, stderr.String(), fakeoai.Key)
	assert.Equal(t, 2, run(context.Background(), []string{"-max-steps"}, env(nil), &stdout, &stderr), "bad flags exit 2")
}

// TestMain lets a test run this test binary as the program itself (QUICKSTART_AS_MAIN=1), to check
// exit codes of a real process.
func TestMain(m *testing.M) {
	if os.Getenv("QUICKSTART_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestProcessExitCodes(t *testing.T) {
	srv := fakeoai.New(t) // every call fails
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-max-steps"}, 2},
		{[]string{"-workspace", t.TempDir(), "hi"}, 1},
	} {
		cmd := exec.Command(os.Args[0], c.args...)
		cmd.Env = append(os.Environ(), "QUICKSTART_AS_MAIN=1", "OPENAI_BASE_URL="+srv.BaseURL(), "OPENAI_API_KEY="+fakeoai.Key)
		out, _ := cmd.CombinedOutput()
		assert.Equal(t, c.want, cmd.ProcessState.ExitCode(), "%v: %s", c.args, out)
	}
}
