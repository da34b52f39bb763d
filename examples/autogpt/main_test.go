package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/internal/fakeoai"
)

func autogptReply(command, args string) string {
	return fmt.Sprintf(`{"thoughts":{"text":"I will use %[1]s.","reasoning":"The goal needs it.","plan":"- %[1]s\n- finish","criticism":"Keep it short.","speak":"Using %[1]s."},"command":{"name":%[1]q,"args":%[2]s}}`, command, args)
}

type runOut struct {
	code           int
	stdout, stderr string
}

func runWith(t *testing.T, srv *fakeoai.Server, stdin string, args ...string) runOut {
	t.Helper()
	env := map[string]string{"OPENAI_BASE_URL": srv.BaseURL(), "OPENAI_API_KEY": fakeoai.Key, "OPENAI_MODEL": "gpt-4o-mini"}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &stdout, &stderr)
	return runOut{code, stdout.String(), stderr.String()}
}

func TestContinuousAutoGPTWritesFileAndFinishes(t *testing.T) {
	for name, wrap := range map[string]func(string) string{
		"plain": func(s string) string { return s },
		"fenced in prose": func(s string) string {
			return "Sure! Here is my next step:\n```json\n" + s + "\n```\nI hope this helps."
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := fakeoai.New(t,
				fakeoai.Text(wrap(autogptReply("write_file", `{"path":"out.txt","content":"hello from autogpt"}`))),
				fakeoai.Text(wrap(autogptReply("finish", `{"reason":"out.txt is written"}`))),
			)
			dir := t.TempDir()
			out := runWith(t, srv, "", "-continuous", "-planner", "autogpt", "-workspace", dir, "-goal", "Write out.txt")
			require.Equal(t, 0, out.code, "stdout: %s\nstderr: %s", out.stdout, out.stderr)
			got, err := os.ReadFile(filepath.Join(dir, "out.txt"))
			require.NoError(t, err)
			assert.Equal(t, "hello from autogpt", string(got))
			for _, want := range []string{"THOUGHTS: I will use write_file.", "REASONING: The goal needs it.", "PLAN: - write_file", "CRITICISM: Keep it short.",
				"COMMAND = write_file", "FINISHED: out.txt is written"} {
				assert.Contains(t, out.stdout, want)
			}
			require.Len(t, srv.Requests(), 2)
			assert.Nil(t, srv.Requests()[0]["tools"], "the autogpt planner sends commands in the prompt, not as native tools")
		})
	}
}

func TestContinuousReActWritesFileAndFinishes(t *testing.T) {
	srv := fakeoai.New(t,
		fakeoai.Text("Thought: I should write the file.\nAction: write_file\nAction Input: {\"path\": \"out.txt\", \"content\": \"hello from react\"}"),
		fakeoai.Text("Thought: The file is written.\nFinal Answer: out.txt holds the greeting."),
	)
	dir := t.TempDir()
	out := runWith(t, srv, "", "-continuous", "-planner", "react", "-workspace", dir, "-goal", "Write out.txt")
	require.Equal(t, 0, out.code, "stdout: %s\nstderr: %s", out.stdout, out.stderr)
	got, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello from react", string(got))
	assert.Contains(t, out.stdout, "FINISHED: out.txt holds the greeting.")
	assert.Contains(t, fmt.Sprint(srv.Requests()[0]["stop"]), "Observation:")
}

func TestAnsweringNStopsBeforeTheCommand(t *testing.T) {
	srv := fakeoai.New(t, fakeoai.Text(autogptReply("write_file", `{"path":"out.txt","content":"x"}`)))
	dir := t.TempDir()
	out := runWith(t, srv, "n\n", "-workspace", dir, "-goal", "Write out.txt")
	assert.Equal(t, 1, out.code)
	assert.Contains(t, out.stdout, "Stopped by the user.")
	_, err := os.Stat(filepath.Join(dir, "out.txt"))
	assert.True(t, os.IsNotExist(err), "the file is not written")
	assert.Len(t, srv.Requests(), 1)
}

func TestFeedbackGoesToTheModelInsteadOfTheCommand(t *testing.T) {
	srv := fakeoai.New(t,
		fakeoai.Text(autogptReply("write_file", `{"path":"out.txt","content":"x"}`)),
		fakeoai.Text(autogptReply("finish", `{"reason":"the user changed the plan"}`)),
	)
	dir := t.TempDir()
	out := runWith(t, srv, "please name it notes.txt instead\n", "-workspace", dir, "-goal", "Write out.txt")
	require.Equal(t, 0, out.code, "stdout: %s\nstderr: %s", out.stdout, out.stderr)
	_, err := os.Stat(filepath.Join(dir, "out.txt"))
	assert.True(t, os.IsNotExist(err), "feedback replaces the command")
	msgs := srv.Messages(1)
	assert.Contains(t, fmt.Sprint(msgs[len(msgs)-1]["content"]), "please name it notes.txt instead")
}

func TestYesNRunsSeveralWithoutAsking(t *testing.T) {
	srv := fakeoai.New(t,
		fakeoai.Text(autogptReply("write_file", `{"path":"a.txt","content":"a"}`)),
		fakeoai.Text(autogptReply("write_file", `{"path":"b.txt","content":"b"}`)),
		fakeoai.Text(autogptReply("write_file", `{"path":"c.txt","content":"c"}`)),
		fakeoai.Text(autogptReply("finish", `{"reason":"done"}`)),
	)
	dir := t.TempDir()
	out := runWith(t, srv, "y -2\nn\n", "-workspace", dir, "-goal", "Write files")
	assert.Equal(t, 1, out.code, "the third command is refused with n")
	for f, want := range map[string]bool{"a.txt": true, "b.txt": true, "c.txt": false} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.Equal(t, want, err == nil, f)
	}
	assert.Equal(t, 2, strings.Count(out.stdout, "Enter 'y'"), "asked for the first and the third command only")
}

func TestEscapesAreStrippedAndFlagsChecked(t *testing.T) {
	srv := fakeoai.New(t, fakeoai.Text(autogptReply("finish", `{"reason":"done\u001b[2J\u001b]0;pwned\u0007 clean"}`)))
	out := runWith(t, srv, "", "-continuous", "-workspace", t.TempDir(), "-goal", "g")
	require.Equal(t, 0, out.code, out.stderr)
	assert.Contains(t, out.stdout, "FINISHED: done clean")
	assert.NotContains(t, out.stdout, "\x1b")

	assert.Equal(t, 2, runWith(t, srv, "", "-goal", "g").code, "-workspace is required")
	assert.Equal(t, 2, runWith(t, srv, "", "-workspace", t.TempDir()).code, "a goal is required")
	assert.Equal(t, 2, runWith(t, srv, "", "-workspace", t.TempDir(), "-goal", "g", "-planner", "magic").code)
}

// TestMain lets a test run this test binary as the program itself (AUTOGPT_AS_MAIN=1), to check
// what only a real process shows: exit codes.
func TestMain(m *testing.M) {
	if os.Getenv("AUTOGPT_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestProcessExitCodes(t *testing.T) {
	srv := fakeoai.New(t, fakeoai.Text(autogptReply("write_file", `{"path":"out.txt","content":"x"}`)))
	cases := []struct {
		args  []string
		stdin string
		want  int
	}{
		{[]string{"-goal", "g"}, "", exitUsage},
		{[]string{"-workspace", t.TempDir(), "-goal", "g", "-planner", "magic"}, "", exitUsage},
		{[]string{"-workspace", t.TempDir(), "-goal", "g"}, "n\n", exitStopped},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], c.args...)
		cmd.Env = append(os.Environ(), "AUTOGPT_AS_MAIN=1", "OPENAI_BASE_URL="+srv.BaseURL(), "OPENAI_API_KEY="+fakeoai.Key,
			"ANTHROPIC_API_KEY=", "OLLAMA_HOST=")
		cmd.Stdin = strings.NewReader(c.stdin)
		out, _ := cmd.CombinedOutput()
		assert.Equal(t, c.want, cmd.ProcessState.ExitCode(), "%v: %s", c.args, out)
	}
}

func TestApprovalShowsEveryArgument(t *testing.T) {
	long := strings.Repeat("harmless ", 70)
	srv := fakeoai.New(t, fakeoai.Text(autogptReply("write_file", fmt.Sprintf(`{"content":%q,"path":"important_config.txt"}`, long))))
	out := runWith(t, srv, "n\n", "-workspace", t.TempDir(), "-goal", "g")
	assert.Contains(t, out.stdout, "  path: important_config.txt\n", "a long value cannot push the path out of view")
	assert.Contains(t, out.stdout, "  content: harmless")
}

func TestAttacksAreRefusedAndTheRunGoesOn(t *testing.T) {
	var hits atomic.Int32
	victim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer victim.Close()
	parent := t.TempDir()
	ws, outside := filepath.Join(parent, "ws"), filepath.Join(parent, "outside")
	require.NoError(t, os.MkdirAll(ws, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("TOP SECRET"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(ws, "link")))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "x"), []byte("keep me"), 0o644))
	before := snapshot(t, parent)

	srv := fakeoai.New(t,
		fakeoai.Call("c1", "write_file", `{"path":"../escape.txt","content":"escaped"}`),
		fakeoai.Call("c2", "read_file", `{"path":"/etc/passwd"}`),
		fakeoai.Call("c3", "read_file", `{"path":"link/secret.txt"}`),
		fakeoai.Call("c4", "run_command", `{"command":"echo ok; rm -rf x"}`),
		fakeoai.Call("c5", "run_command", `{"argv":["echo","ok;","rm","-rf","x"]}`),
		fakeoai.Call("c6", "run_command", `{"argv":["/bin/./rm","x"]}`),
		fakeoai.Call("c7", "fetch", fmt.Sprintf(`{"url":%q}`, victim.URL+"/")),
		fakeoai.Text("Every attempt was refused; I am done."),
	)
	out := runWith(t, srv, "", "-continuous", "-planner", "tools", "-allow-shell", "echo,ls", "-allow-web", "-workspace", ws, "-goal", "Probe the sandbox")
	require.Equal(t, 0, out.code, "stdout: %s\nstderr: %s", out.stdout, out.stderr)
	assert.Contains(t, out.stdout, "FINISHED: Every attempt was refused")

	assert.Equal(t, before, snapshot(t, parent), "nothing changed: no escape.txt, x kept, secret untouched")
	assert.Equal(t, int32(0), hits.Load(), "the fetch never reached 127.0.0.1")
	require.Len(t, srv.Requests(), 8)
	results := map[string]string{}
	for i := 1; i < 8; i++ {
		msgs := srv.Messages(i)
		last := msgs[len(msgs)-1]
		results[fmt.Sprint(last["tool_call_id"])] = fmt.Sprint(last["content"])
	}
	assert.Contains(t, results["c1"], "outside the workspace")
	assert.NotContains(t, results["c2"], "root:", "/etc/passwd is never read")
	assert.NotContains(t, results["c3"], "TOP SECRET")
	assert.NotContains(t, results["c4"], "exit code 0", "shell syntax is refused, never run")
	assert.Contains(t, results["c5"], "ok; rm -rf x", "at most echoed, literally")
	assert.NotContains(t, results["c6"], "exit code 0")
	assert.Contains(t, strings.ToLower(results["c7"]), "refused")
	for id, r := range results {
		assert.NotContains(t, r, parent, "%s reveals a host path", id)
	}
}

// snapshot lists every file under dir with its content (symlinks as their target).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			files[rel] = "-> " + target
		case d.Type().IsRegular():
			b, _ := os.ReadFile(p)
			files[rel] = string(b)
		default:
			files[rel] = "dir"
		}
		return nil
	}))
	return files
}
