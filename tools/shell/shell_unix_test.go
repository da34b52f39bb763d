//go:build unix

package shell_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/tools/shell"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a workspace "ws" holding a file x that no command may remove, beside a directory
// "outside", in a temporary directory.
type fixture struct {
	base, ws string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{base: base, ws: filepath.Join(base, "ws")}
	require.NoError(t, os.Mkdir(f.ws, 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(base, "outside"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(f.ws, "x"), []byte("keep me"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "outside", "y"), []byte("keep me too"), 0o644))
	return f
}

// assertIntact checks that no command removed or changed the fixture's files.
func (f *fixture) assertIntact(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.ws, "x"))
	require.NoError(t, err, "the workspace file x was removed")
	assert.Equal(t, "keep me", string(b))
	b, err = os.ReadFile(filepath.Join(f.base, "outside", "y"))
	require.NoError(t, err, "the file outside the workspace was removed")
	assert.Equal(t, "keep me too", string(b))
}

func (f *fixture) tool(t *testing.T, cfg shell.Config) agent.Tool {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = f.ws
	}
	tl, err := shell.New(cfg)
	require.NoError(t, err)
	return tl
}

// call runs the tool with args encoded as JSON, as the agent would.
func call(t *testing.T, tl agent.Tool, args any) (agent.ToolResult, error) {
	t.Helper()
	return callCtx(context.Background(), t, tl, args)
}

func callCtx(ctx context.Context, t *testing.T, tl agent.Tool, args any) (agent.ToolResult, error) {
	t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	return tl.Call(ctx, raw)
}

func argv(a ...string) map[string]any { return map[string]any{"argv": a} }
func command(c string) map[string]any { return map[string]any{"command": c} }

func TestSemicolonNeverReachesAShell(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"echo"}})

	// As a command string: refused before anything runs.
	_, err := call(t, tl, command("echo ok; rm -rf x"))
	require.ErrorIs(t, err, shell.ErrShellSyntax)
	assert.Contains(t, err.Error(), `command "echo ok; rm -rf x": shell syntax refused: more than one command`)
	f.assertIntact(t)

	// As argv: echo receives the literal words, nothing else runs.
	res, err := call(t, tl, argv("echo", "ok;", "rm", "-rf", "x"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\nok; rm -rf x\n", res.Content)
	assert.False(t, res.IsError)
	f.assertIntact(t)

	res, err = call(t, tl, argv("echo", "ok; rm -rf x && rm x | rm x $(rm x) `rm x` > x"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\nok; rm -rf x && rm x | rm x $(rm x) `rm x` > x\n", res.Content)
	f.assertIntact(t)
}

func TestShellSyntaxInCommandRefused(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"echo", "cat", "rm"}})
	for _, c := range []string{
		"echo ok; rm -rf x", "echo ok && rm x", "echo ok || rm x", "echo ok | rm x", "rm x &",
		"echo $(rm x)", "echo `rm x`", `echo "$(rm x)"`, "echo pwned > x", "echo pwned >> x", "cat < x",
		"echo 2>&1", "echo $HOME", "echo ${HOME}", "X=1 rm x", "(rm x)", "{ rm x; }", "rm *", "rm ?",
		"rm [x]", "rm {x,y}", "rm ~/x", "echo ok\nrm x", "echo ok # && rm x", "echo \x00rm x",
	} {
		_, err := call(t, tl, command(c))
		require.ErrorIs(t, err, shell.ErrShellSyntax, "%q", c)
		f.assertIntact(t)
	}
}

func TestExpansionNotPerformed(t *testing.T) {
	f := newFixture(t)
	t.Setenv("SECRET_TOKEN", "sk-should-not-leak")
	tl := f.tool(t, shell.Config{Allow: []string{"echo"}})

	res, err := call(t, tl, argv("echo", "$HOME", "${SECRET_TOKEN}", "$(id)", "`id`", "~", "*", "$((1+1))"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\n$HOME ${SECRET_TOKEN} $(id) `id` ~ * $((1+1))\n", res.Content)

	res, err = call(t, tl, command(`echo '$SECRET_TOKEN' \$HOME "\$PATH" '*'`))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\n$SECRET_TOKEN $HOME $PATH *\n", res.Content)

	_, err = call(t, tl, command("echo $SECRET_TOKEN"))
	require.ErrorIs(t, err, shell.ErrShellSyntax)
	assert.Contains(t, err.Error(), "variable expansion")
	assert.NotContains(t, err.Error(), "sk-should-not-leak")
}

func TestAllowlistIsCheckedOnTheResolvedProgram(t *testing.T) {
	f := newFixture(t)
	rm, err := exec.LookPath("rm")
	require.NoError(t, err)
	echo, err := filepath.EvalSymlinks(lookPath(t, "echo"))
	require.NoError(t, err)
	ls, err := filepath.EvalSymlinks(lookPath(t, "ls"))
	require.NoError(t, err)

	// Planted in the workspace: a link named like an allowed program pointing at a disallowed one,
	// a copy of rm under an allowed name, a link to rm under its own name, and a link to the real ls.
	require.NoError(t, os.Symlink(rm, filepath.Join(f.ws, "echo")))
	require.NoError(t, os.Mkdir(filepath.Join(f.ws, "bin"), 0o755))
	require.NoError(t, os.Symlink("../echo", filepath.Join(f.ws, "bin", "echo"))) // link to a link
	rmBytes, err := os.ReadFile(rm)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(f.ws, "bin", "cat"), rmBytes, 0o755))
	require.NoError(t, os.Symlink(rm, filepath.Join(f.ws, "rm")))
	require.NoError(t, os.Symlink(ls, filepath.Join(f.ws, "ls")))

	tl := f.tool(t, shell.Config{Allow: []string{"echo", "cat", "ls"}})
	depth := strings.Repeat("../", strings.Count(f.ws, "/")+2)

	refused := []struct {
		name string
		argv []string
		want error
	}{
		{"dot in absolute path", []string{"/bin/./rm", "x"}, shell.ErrNotAllowed},
		{"dot in absolute path usr", []string{"/usr/bin/./rm", "x"}, shell.ErrNotAllowed},
		{"absolute rm", []string{rm, "x"}, shell.ErrNotAllowed},
		{"bare rm", []string{"rm", "x"}, shell.ErrNotAllowed},
		{"relative rm", []string{"./rm", "x"}, shell.ErrNotAllowed},
		{"dotdot to rm", []string{"../../../bin/rm", "x"}, shell.ErrNotAllowed},
		{"deep dotdot to rm", []string{depth + "usr/bin/rm", "x"}, shell.ErrNotAllowed},
		{"link named echo to rm", []string{"./echo", "x"}, shell.ErrNotAllowed},
		{"link named echo, trailing slash", []string{"echo/", "x"}, shell.ErrNotAllowed},
		{"link to link named echo", []string{"bin/echo", "x"}, shell.ErrNotAllowed},
		{"link named echo via dotdot", []string{"bin/../echo", "x"}, shell.ErrNotAllowed},
		{"copy of rm named cat", []string{"bin/cat", "x"}, shell.ErrNotAllowed},
		{"copy of rm named cat, absolute", []string{filepath.Join(f.ws, "bin", "cat"), "x"}, shell.ErrNotAllowed},
		{"shell", []string{"sh", "-c", "rm x"}, shell.ErrNotAllowed},
		{"unknown program", []string{"definitely-not-a-program-7f3a", "x"}, shell.ErrNotAllowed},
		{"allowed name, no such file", []string{"./cat", "x"}, shell.ErrNotFound},
		{"allowed name, missing absolute", []string{"/nonexistent/echo", "x"}, shell.ErrNotFound},
		{"empty program", []string{"", "x"}, shell.ErrInvalidCommand},
		{"NUL in program", []string{"ec\x00ho", "x"}, shell.ErrInvalidCommand},
		{"NUL in argument", []string{"echo", "a\x00b"}, shell.ErrInvalidCommand},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, tl, argv(tc.argv...))
			require.Error(t, err, "ran: %q", res.Content)
			assert.ErrorIs(t, err, tc.want)
			// Refusals name what the model gave, never a resolved host path.
			msg := strings.ReplaceAll(err.Error(), strconv.Quote(tc.argv[0]), "PROG")
			assert.NotContains(t, msg, f.base)
			assert.NotContains(t, msg, "/usr/bin")
			f.assertIntact(t)

			// The same through the command string.
			if strings.IndexByte(tc.argv[0], 0) < 0 && tc.argv[0] != "" && !strings.ContainsAny(tc.argv[1], "\x00") {
				_, err = call(t, tl, command(strings.Join(tc.argv, " ")))
				assert.ErrorIs(t, err, tc.want)
				f.assertIntact(t)
			}
		})
	}

	allowed := []struct {
		name string
		argv []string
	}{
		{"bare name ignores the workspace link", []string{"echo", "hi"}},
		{"absolute through /bin link", []string{"/bin/echo", "hi"}},
		{"dot in absolute path to allowed", []string{"/bin/./echo", "hi"}},
		{"resolved path", []string{echo, "hi"}},
		{"deep dotdot to allowed", []string{depth + echo[1:], "hi"}},
	}
	for _, tc := range allowed {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, tl, argv(tc.argv...))
			require.NoError(t, err)
			assert.Equal(t, "exit code 0\nhi\n", res.Content)
		})
	}
	// A relative path is accepted when it resolves to the allowed program itself.
	res, err := call(t, tl, argv("./ls", "x"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\nx\n", res.Content)
	f.assertIntact(t)
}

// A multi-call binary (busybox style) is reached through several names: only an allowed name may
// run it, even though every name resolves to the same file, and argv[0] is that allowed name.
func TestMultiCallBinaryNeedsTheAllowedName(t *testing.T) {
	f := newFixture(t)
	sh, err := filepath.EvalSymlinks(lookPath(t, "sh"))
	require.NoError(t, err)
	bin := filepath.Join(f.base, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	for _, name := range []string{"echo", "rm"} {
		require.NoError(t, os.Symlink(sh, filepath.Join(bin, name)))
	}
	require.NoError(t, os.Symlink(sh, filepath.Join(f.ws, "rm")))
	tl := f.tool(t, shell.Config{Allow: []string{"echo"}, Path: bin})

	for _, prog := range []string{"rm", filepath.Join(bin, "rm"), "./rm", sh, filepath.Base(sh)} {
		_, err := call(t, tl, argv(prog, "-c", "rm x"))
		assert.ErrorIs(t, err, shell.ErrNotAllowed, prog)
		f.assertIntact(t)
	}
	// The allowed name runs, and the program sees that name as argv[0] (here the "echo" that is
	// really a shell prints its $0: the allowlist chose the program, not what it can do).
	res, err := call(t, tl, argv("echo", "-c", `echo "$0"`))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\necho\n", res.Content)
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	for _, d := range filepath.SplitList(shell.DefaultPath) {
		if p, err := exec.LookPath(filepath.Join(d, name)); err == nil {
			return p
		}
	}
	t.Skipf("%s not found in %s", name, shell.DefaultPath)
	return ""
}

func TestEnvironmentStartsEmpty(t *testing.T) {
	f := newFixture(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-not-inherited")
	t.Setenv("LD_PRELOAD", "/nonexistent.so")
	tl := f.tool(t, shell.Config{Allow: []string{"env"}, Env: []string{"EXTRA=1", "LANG=C"}})
	res, err := call(t, tl, argv("env"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\nPATH="+shell.DefaultPath+"\nLANG=C\nHOME="+f.ws+"\nEXTRA=1\n", res.Content)

	tl = f.tool(t, shell.Config{Allow: []string{"env", "pwd"}})
	res, err = call(t, tl, argv("env"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\nPATH="+shell.DefaultPath+"\nLANG="+shell.DefaultLang+"\nHOME="+f.ws+"\n", res.Content)

	res, err = call(t, tl, argv("pwd"))
	require.NoError(t, err)
	real, err := filepath.EvalSymlinks(f.ws)
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\n"+real+"\n", res.Content, "the working directory is the workspace")
}

func TestExitCodeAndOutput(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"ls", "true", "sh"}})
	res, err := call(t, tl, argv("ls", "missing-file"))
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.True(t, strings.HasPrefix(res.Content, "exit code 2\n"), res.Content)
	assert.Contains(t, res.Content, "missing-file", "standard error is returned")

	res, err = call(t, tl, argv("true"))
	require.NoError(t, err)
	assert.Equal(t, agent.ToolResult{Content: "exit code 0 (no output)"}, res)

	// Standard output and standard error are interleaved in the order written; stdin is empty.
	res, err = call(t, tl, argv("sh", "-c", "echo out; echo err >&2; echo out2; cat; exit 3"))
	require.NoError(t, err)
	assert.Equal(t, agent.ToolResult{Content: "exit code 3\nout\nerr\nout2\n", IsError: true}, res)

	res, err = call(t, tl, argv("sh", "-c", "kill -TERM $$"))
	require.NoError(t, err)
	assert.Equal(t, agent.ToolResult{Content: "killed by signal: terminated (no output)", IsError: true}, res)
}

func TestOutputCap(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"seq"}, MaxOutputBytes: 100})
	res, err := call(t, tl, argv("seq", "1", "1000")) // 3893 bytes
	require.NoError(t, err)
	full := seq(1, 1000)
	head, tail := full[:50], full[len(full)-50:]
	assert.Equal(t, "exit code 0\n"+head+"\n[run_command: output was 3893 bytes; 3793 bytes in the middle were left out]\n"+tail, res.Content)

	// Output that fits is returned whole.
	res, err = call(t, tl, argv("seq", "1", "20")) // 51 bytes
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\n"+seq(1, 20), res.Content)

	// A large output stays bounded in memory and in the result.
	tl = f.tool(t, shell.Config{Allow: []string{"seq"}})
	res, err = call(t, tl, argv("seq", "1", "2000000"))
	require.NoError(t, err)
	assert.Less(t, len(res.Content), shell.DefaultMaxOutputBytes+200)
	assert.True(t, strings.HasSuffix(res.Content, "1999999\n2000000\n"))
	assert.Contains(t, res.Content, "exit code 0\n1\n2\n3\n")
}

func seq(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}

func TestOutputCapKeepsUTF8Whole(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"printf"}, MaxOutputBytes: 5})
	res, err := call(t, tl, argv("printf", "ééééé")) // 10 bytes; head 2 bytes, tail 3 bytes
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\né\n[run_command: output was 10 bytes; 6 bytes in the middle were left out]\né", res.Content)
}

// alive reports whether pid is a running process: a zombie waiting for a reaper counts as dead
// (the test runner's PID 1 may not reap orphans).
func alive(pid int) bool {
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
			return s[i+2] != 'Z' && s[i+2] != 'X'
		}
		return true
	}
	return syscall.Kill(pid, 0) == nil
}

// readPID waits for the workspace file name to hold a process id.
func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}, 10*time.Second, 10*time.Millisecond)
	return pid
}

func assertDead(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		assert.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 10*time.Millisecond,
			"process %d survived", pid)
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // do not leave it behind
		}
	}
}

// spawner is a shell that starts a child that starts a grandchild, both sleeping, records their
// pids, and then sleeps itself.
const spawner = `sh -c 'sleep 300 & echo $! > grandchild.pid; wait' & echo $! > child.pid; sleep 300`

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"sh"}, Timeout: 500 * time.Millisecond})
	start := time.Now()
	res, err := call(t, tl, argv("sh", "-c", "echo started; "+spawner))
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, agent.ToolResult{
		Content: "killed: timed out after 500ms (the program and its child processes were killed)\nstarted\n",
		IsError: true,
	}, res)
	assertDead(t, readPID(t, filepath.Join(f.ws, "child.pid")), readPID(t, filepath.Join(f.ws, "grandchild.pid")))
}

func TestCancellationKillsTheWholeProcessGroup(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"sh"}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		readPID(t, filepath.Join(f.ws, "grandchild.pid"))
		cancel()
	}()
	start := time.Now()
	_, err := callCtx(ctx, t, tl, argv("sh", "-c", spawner))
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), `run_command: "sh" was stopped and its process group killed`)
	assert.Less(t, time.Since(start), 10*time.Second)
	assertDead(t, readPID(t, filepath.Join(f.ws, "child.pid")), readPID(t, filepath.Join(f.ws, "grandchild.pid")))

	// A context that has already ended runs nothing.
	_, err = callCtx(ctx, t, tl, argv("sh", "-c", "echo ran > ran.txt"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(filepath.Join(f.ws, "ran.txt"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestBackgroundProcessesDieWithTheCommand(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"sh"}})
	start := time.Now()
	// The background sleep keeps the output pipe open: the call still returns promptly.
	res, err := call(t, tl, argv("sh", "-c", "sleep 300 & echo $! > bg.pid; echo done"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\ndone\n", res.Content)
	assert.Less(t, time.Since(start), 5*time.Second)
	assertDead(t, readPID(t, filepath.Join(f.ws, "bg.pid")))
}

func TestArgumentErrors(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"echo"}})
	for _, args := range []map[string]any{
		{},
		{"command": ""},
		{"command": "   "},
		{"argv": []string{"echo"}, "command": "echo"},
	} {
		_, err := call(t, tl, args)
		assert.ErrorIs(t, err, shell.ErrInvalidCommand, "%v", args)
	}
	_, err := call(t, tl, map[string]any{"argv": []string{}})
	var ae *agent.ArgumentError
	assert.ErrorAs(t, err, &ae, "argv must not be empty")
	_, err = call(t, tl, map[string]any{"argv": "echo hi"})
	assert.ErrorAs(t, err, &ae, "argv must be an array")
	_, err = call(t, tl, map[string]any{"argv": []any{"echo", 1}})
	assert.ErrorAs(t, err, &ae, "argv elements must be strings")
	_, err = call(t, tl, map[string]any{"cmd": "echo"})
	assert.ErrorAs(t, err, &ae, "unknown field")
}

func TestNewValidatesConfig(t *testing.T) {
	f := newFixture(t)
	file := filepath.Join(f.ws, "x")
	cases := []struct {
		name string
		cfg  shell.Config
		want string
	}{
		{"no allow", shell.Config{Dir: f.ws}, "Config.Allow is empty"},
		{"no dir", shell.Config{Allow: []string{"echo"}}, "Config.Dir (the workspace) is required"},
		{"missing dir", shell.Config{Allow: []string{"echo"}, Dir: filepath.Join(f.base, "nope")}, "no such file"},
		{"dir is a file", shell.Config{Allow: []string{"echo"}, Dir: file}, "is not a directory"},
		{"unknown program", shell.Config{Allow: []string{"no-such-program-7f3a"}, Dir: f.ws}, "no executable"},
		{"relative allow path", shell.Config{Allow: []string{"bin/echo"}, Dir: f.ws}, "bare name or an absolute path"},
		{"relative PATH element", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Path: "bin:/usr/bin"}, "not an absolute directory"},
		{"env PATH", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Env: []string{"PATH=/tmp"}}, "may not set PATH"},
		{"env HOME", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Env: []string{"HOME=/root"}}, "may not set HOME"},
		{"env malformed", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Env: []string{"NOEQUALS"}}, "not NAME=value"},
		{"env bad name", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Env: []string{"A-B=1"}}, "not NAME=value"},
		{"env twice", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Env: []string{"A=1", "A=2"}}, "sets A twice"},
		{"negative timeout", shell.Config{Allow: []string{"echo"}, Dir: f.ws, Timeout: -1}, "must not be negative"},
	}
	for _, tc := range cases {
		_, err := shell.New(tc.cfg)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
	// An absolute allowed path works, under its base name.
	tl, err := shell.New(shell.Config{Allow: []string{lookPath(t, "echo")}, Dir: f.ws})
	require.NoError(t, err)
	res, err := call(t, tl, argv("echo", "abs"))
	require.NoError(t, err)
	assert.Equal(t, "exit code 0\nabs\n", res.Content)
}

// model is a minimal llm.Model for checking that agent.New accepts the tool.
type model struct{}

func (model) Generate(context.Context, *llm.Request) (*llm.Response, error) {
	return nil, errors.New("unused")
}

func TestToolShape(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"ls", "echo", "echo"}, Timeout: time.Minute})
	assert.Equal(t, "run_command", tl.Name())
	assert.Contains(t, tl.Description(), "Allowed programs: echo, ls.")
	assert.Contains(t, tl.Description(), "Time limit: 1m0s.")
	assert.Contains(t, string(tl.Schema()), `"argv":{"type":"array","items":{"type":"string"}`)
	assert.Contains(t, string(tl.Schema()), `"minItems":1`)
	assert.Contains(t, string(tl.Schema()), `"command":{"type":"string"`)
	_, err := agent.New(agent.Config{Model: model{}, Tools: []agent.Tool{tl}})
	require.NoError(t, err)
}

func TestConcurrentCalls(t *testing.T) {
	f := newFixture(t)
	tl := f.tool(t, shell.Config{Allow: []string{"echo"}})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			res, err := call(t, tl, argv("echo", strconv.Itoa(i)))
			assert.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("exit code 0\n%d\n", i), res.Content)
		})
	}
	wg.Wait()
}
