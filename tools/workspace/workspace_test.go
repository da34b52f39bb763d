package workspace_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/tools/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture is a temporary directory holding the workspace "ws" and, beside it, "outside" with a
// secret file, plus symbolic links in the workspace that lead out.
type fixture struct {
	base, ws, outside string
	w                 *workspace.Workspace
	tools             map[string]agent.Tool
}

func newFixture(t *testing.T, cfg workspace.Config) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{base: base, ws: filepath.Join(base, "ws"), outside: filepath.Join(base, "outside")}
	require.NoError(t, os.Mkdir(f.ws, 0o755))
	require.NoError(t, os.Mkdir(f.outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(f.outside, "secret.txt"), []byte("top secret"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(f.ws, "hello.txt"), []byte("hello"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(f.ws, "inside"), 0o755))
	links := map[string]string{
		"out":        "../outside",                           // relative link to a directory outside
		"absout":     f.outside,                              // absolute link to a directory outside
		"secretlink": filepath.Join(f.outside, "secret.txt"), // absolute link to a file outside
		"relsecret":  "../outside/secret.txt",                // relative link to a file outside
		"newlink":    "../outside/new.txt",                   // dangling link to a new file outside
		"inlink":     "hello.txt",                            // link that stays inside
		"indir":      "inside",                               // link to a directory inside
		"sneaky":     "inside/../../outside/secret.txt",      // relative link climbing out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(f.ws, name)); err != nil {
			t.Skipf("symbolic links unavailable: %v", err)
		}
	}
	w, err := workspace.New(f.ws, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	f.w = w
	f.tools = map[string]agent.Tool{}
	for _, tl := range w.Tools() {
		f.tools[tl.Name()] = tl
	}
	return f
}

// call runs the named tool with args encoded as JSON, as the agent would.
func (f *fixture) call(t *testing.T, name string, args map[string]any) (string, error) {
	t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	tl, ok := f.tools[name]
	require.True(t, ok, "tool %s", name)
	res, err := tl.Call(context.Background(), raw)
	if err != nil {
		return "", err
	}
	return res.Content, nil
}

// snapshot records every file, directory and link under dir (path -> kind, mode and content).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			m[rel] = "link " + target
		case d.IsDir():
			m[rel] = fmt.Sprintf("dir %v", info.Mode())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = fmt.Sprintf("file %v %q", info.Mode(), b)
		}
		return nil
	})
	require.NoError(t, err)
	return m
}

func TestAttacksAreRefused(t *testing.T) {
	f := newFixture(t, workspace.Config{AllowDelete: true})
	abs := filepath.Join(f.outside, "secret.txt")
	absNew := filepath.Join(f.outside, "new.txt")
	cases := []struct {
		name, path string
		want       error
	}{
		{"absolute existing", abs, workspace.ErrInvalidPath},
		{"absolute new", absNew, workspace.ErrInvalidPath},
		{"absolute root", "/", workspace.ErrInvalidPath},
		{"dotdot", "../escape.txt", workspace.ErrOutside},
		{"dotdot only", "..", workspace.ErrOutside},
		{"dotdot into sibling", "../outside/secret.txt", workspace.ErrOutside},
		{"dotdot after dir", "a/../../x", workspace.ErrOutside},
		{"dotdot deep", "inside/../../outside/secret.txt", workspace.ErrOutside},
		{"symlink dir relative", "out/secret.txt", workspace.ErrOutside},
		{"symlink dir itself", "out", workspace.ErrOutside},
		{"symlink dir itself with slash", "out/", workspace.ErrOutside},
		{"symlink dir relative new file", "out/new.txt", workspace.ErrOutside},
		{"symlink dir new subdir", "out/sub/new.txt", workspace.ErrOutside},
		{"symlink dir absolute", "absout/secret.txt", workspace.ErrOutside},
		{"symlink file absolute", "secretlink", workspace.ErrOutside},
		{"symlink file relative", "relsecret", workspace.ErrOutside},
		{"symlink dangling outside", "newlink", workspace.ErrOutside},
		{"symlink climbing", "sneaky", workspace.ErrOutside},
		{"symlink dir then dotdot", "indir/../out/secret.txt", workspace.ErrOutside},
		{"NUL byte", "a\x00b", workspace.ErrInvalidPath},
		{"NUL after name", "hello.txt\x00.png", workspace.ErrInvalidPath},
		{"newline", "a\nb", workspace.ErrInvalidPath},
		{"backslash dotdot", `..\x`, workspace.ErrInvalidPath},
		{"backslash dotdot deep", `..\..\outside\secret.txt`, workspace.ErrInvalidPath},
		{"backslash inside", `a\b`, workspace.ErrInvalidPath},
		{"drive backslash", `C:\x`, workspace.ErrInvalidPath},
		{"drive slash", "c:/x", workspace.ErrInvalidPath},
		{"drive relative", "C:x", workspace.ErrInvalidPath},
		{"UNC", "//server/share/x", workspace.ErrInvalidPath},
		{"empty", "", workspace.ErrInvalidPath},
		{"too long", strings.Repeat("a/", workspace.MaxPathBytes), workspace.ErrInvalidPath},
	}
	// Each tool with the arguments that would do the most harm if the path got through.
	tools := map[string]map[string]any{
		"read_file":       {},
		"write_file":      {"content": "pwned"},
		"append_file":     {"content": "pwned"},
		"list_dir":        {},
		"replace_in_file": {"old": "top secret", "new": "pwned", "all": true},
		"search_files":    {"pattern": "**", "query": "secret"},
		"delete_file":     {"recursive": true},
	}
	require.Len(t, f.tools, len(tools), "every tool is attacked")
	for _, tc := range cases {
		for tool, extra := range tools {
			if (tool == "list_dir" || tool == "search_files") && tc.path == "" {
				continue // their path is optional: "" is the workspace root
			}
			t.Run(tc.name+"/"+tool, func(t *testing.T) {
				beforeOut := snapshot(t, f.outside)
				beforeWS := snapshot(t, f.ws)
				beforeBase := snapshot(t, f.base) // the workspace's parent: ws, outside and any sibling
				beforeEntries, err := os.ReadDir(f.base)
				require.NoError(t, err)

				args := map[string]any{"path": tc.path}
				for k, v := range extra {
					args[k] = v
				}
				out, err := f.call(t, tool, args)
				require.Error(t, err, "got output %q", out)
				assert.ErrorIs(t, err, tc.want)
				var pe *workspace.PathError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tool, pe.Op)
				// The error may echo the path the model gave, nothing else of the host's.
				msg := strings.Replace(err.Error(), strconv.Quote(tc.path), "PATH", 1)
				assert.NotContains(t, msg, f.base, "the error reveals the host path")
				assert.NotContains(t, err.Error(), "top secret")

				assert.Equal(t, beforeOut, snapshot(t, f.outside), "outside the workspace changed")
				assert.Equal(t, beforeWS, snapshot(t, f.ws), "the workspace changed")
				assert.Equal(t, beforeBase, snapshot(t, f.base), "the workspace's parent changed")
				afterEntries, err := os.ReadDir(f.base)
				require.NoError(t, err)
				assert.Equal(t, len(beforeEntries), len(afterEntries), "a file appeared beside the workspace")
			})
		}
	}
	// The parent of the fixture must not have gained escape.txt or x either.
	for _, name := range []string{"escape.txt", "x", "new.txt"} {
		_, err := os.Lstat(filepath.Join(f.base, name))
		assert.ErrorIs(t, err, fs.ErrNotExist, name)
	}
}

func TestErrorMessages(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	cases := []struct{ tool, path, want string }{
		{"read_file", "../escape.txt", `read_file "../escape.txt": path leads outside the workspace: ".." climbs above the workspace root`},
		{"read_file", "out/secret.txt", `read_file "out/secret.txt": path leads outside the workspace: a symbolic link`},
		{"write_file", "/etc/passwd", `write_file "/etc/passwd": invalid path: absolute paths are not allowed`},
		{"write_file", `..\x`, `write_file "..\\x": invalid path: backslashes are not allowed`},
		{"write_file", `C:\x`, `write_file "C:\\x": invalid path: backslashes are not allowed`},
		{"write_file", "C:x", `write_file "C:x": invalid path: drive letters are not allowed`},
		{"read_file", "a\x00b", `read_file "a\x00b": invalid path: the path contains a NUL byte`},
		{"read_file", "missing.txt", `read_file "missing.txt": file does not exist: no such file or directory`},
		{"read_file", "inside", `read_file "inside": wrong kind of file: it is a directory`},
		{"list_dir", "hello.txt", `list_dir "hello.txt": wrong kind of file: not a directory`},
		{"write_file", "hello.txt/x", `write_file "hello.txt/x": wrong kind of file: a parent of this path is a file`},
	}
	for _, tc := range cases {
		args := map[string]any{"path": tc.path}
		if strings.HasSuffix(tc.tool, "_file") && tc.tool != "read_file" {
			args["content"] = "x"
		}
		_, err := f.call(t, tc.tool, args)
		require.Error(t, err, tc.path)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), f.base)
	}
}

func TestWriteThenRead(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	out, err := f.call(t, "write_file", map[string]any{"path": "notes/todo.txt", "content": "buy milk\n"})
	require.NoError(t, err)
	assert.Equal(t, "wrote 9 bytes to notes/todo.txt", out)

	got, err := f.call(t, "read_file", map[string]any{"path": "notes/todo.txt"})
	require.NoError(t, err)
	assert.Equal(t, "buy milk\n", got)

	b, err := os.ReadFile(filepath.Join(f.ws, "notes", "todo.txt"))
	require.NoError(t, err)
	assert.Equal(t, "buy milk\n", string(b))
	info, err := os.Stat(filepath.Join(f.ws, "notes", "todo.txt"))
	require.NoError(t, err)
	assert.Zero(t, info.Mode().Perm()&0o133, "mode %v: no execute bits, no group/other write", info.Mode())
	assert.Equal(t, fs.FileMode(0o600), info.Mode().Perm()&0o600)

	// Overwrite replaces the content.
	_, err = f.call(t, "write_file", map[string]any{"path": "notes/todo.txt", "content": "x"})
	require.NoError(t, err)
	got, err = f.call(t, "read_file", map[string]any{"path": "notes/todo.txt"})
	require.NoError(t, err)
	assert.Equal(t, "x", got)
}

func TestNestedDirectories(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	_, err := f.call(t, "write_file", map[string]any{"path": "a/b/c/d.txt", "content": "deep"})
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(f.ws, "a", "b", "c"))
	require.NoError(t, err)
	assert.True(t, info.IsDir())
	got, err := f.call(t, "read_file", map[string]any{"path": "a/b/c/d.txt"})
	require.NoError(t, err)
	assert.Equal(t, "deep", got)
	list, err := f.call(t, "list_dir", map[string]any{"path": "a/b"})
	require.NoError(t, err)
	assert.Equal(t, "c/", list)
}

func TestDotDotInside(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	// "a" does not exist: the path is resolved lexically to "b.txt".
	out, err := f.call(t, "write_file", map[string]any{"path": "a/../b.txt", "content": "bee"})
	require.NoError(t, err)
	assert.Equal(t, "wrote 3 bytes to b.txt", out)
	b, err := os.ReadFile(filepath.Join(f.ws, "b.txt"))
	require.NoError(t, err)
	assert.Equal(t, "bee", string(b))
	got, err := f.call(t, "read_file", map[string]any{"path": "./inside/../b.txt"})
	require.NoError(t, err)
	assert.Equal(t, "bee", got)
	_, err = os.Stat(filepath.Join(f.ws, "a"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestSymlinkInsideIsFollowed(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	got, err := f.call(t, "read_file", map[string]any{"path": "inlink"})
	require.NoError(t, err)
	assert.Equal(t, "hello", got)
	_, err = f.call(t, "write_file", map[string]any{"path": "indir/via-link.txt", "content": "ok"})
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(f.ws, "inside", "via-link.txt"))
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
}

func TestAppend(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	out, err := f.call(t, "append_file", map[string]any{"path": "logs/run.log", "content": "one\n"})
	require.NoError(t, err)
	assert.Equal(t, "appended 4 bytes to logs/run.log (now 4 bytes)", out)
	out, err = f.call(t, "append_file", map[string]any{"path": "logs/run.log", "content": "two\n"})
	require.NoError(t, err)
	assert.Equal(t, "appended 4 bytes to logs/run.log (now 8 bytes)", out)
	got, err := f.call(t, "read_file", map[string]any{"path": "logs/run.log"})
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", got)
}

func TestListDir(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	_, err := f.call(t, "write_file", map[string]any{"path": "Zeta.txt", "content": ""})
	require.NoError(t, err)
	_, err = f.call(t, "write_file", map[string]any{"path": "sub/x.txt", "content": "x"})
	require.NoError(t, err)
	got, err := f.call(t, "list_dir", map[string]any{})
	require.NoError(t, err)
	// Sorted bytewise; directories and links to directories inside carry "/"; links leading out
	// are listed by name only.
	assert.Equal(t, strings.Join([]string{
		"Zeta.txt", "absout", "hello.txt", "indir/", "inlink", "inside/", "newlink", "out",
		"relsecret", "secretlink", "sneaky", "sub/",
	}, "\n"), got)

	same, err := f.call(t, "list_dir", map[string]any{"path": "."})
	require.NoError(t, err)
	assert.Equal(t, got, same)

	empty, err := f.call(t, "list_dir", map[string]any{"path": "inside"})
	require.NoError(t, err)
	assert.Equal(t, "(empty directory)", empty)
}

func TestListDirCap(t *testing.T) {
	base := t.TempDir()
	for i := range 5 {
		require.NoError(t, os.WriteFile(filepath.Join(base, fmt.Sprintf("f%d", i)), nil, 0o644))
	}
	w, err := workspace.New(base, workspace.Config{MaxListEntries: 3})
	require.NoError(t, err)
	defer w.Close()
	got, err := w.ListDir(context.Background(), workspace.ListDirArgs{})
	require.NoError(t, err)
	assert.Equal(t, "f0\nf1\nf2\n[list_dir: showed 3 of 5 entries]", got)
}

func TestReadOffsetLimitAndTruncation(t *testing.T) {
	base := t.TempDir()
	content := strings.Repeat("0123456789", 10) // 100 bytes
	require.NoError(t, os.WriteFile(filepath.Join(base, "f.txt"), []byte(content), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "empty.txt"), nil, 0o644))
	w, err := workspace.New(base, workspace.Config{MaxReadBytes: 30})
	require.NoError(t, err)
	defer w.Close()
	ctx := context.Background()

	got, err := w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt"})
	require.NoError(t, err)
	assert.Equal(t, content[:30]+"\n[read_file: showed bytes 0-30 of 100; call read_file with offset=30 to continue]", got)

	got, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Offset: 90})
	require.NoError(t, err)
	assert.Equal(t, content[90:], got, "the last part carries no note")

	got, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Offset: 10, Limit: 5})
	require.NoError(t, err)
	assert.Equal(t, "01234\n[read_file: showed bytes 10-15 of 100; call read_file with offset=15 to continue]", got)

	// A limit above the cap is clamped to it.
	got, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Limit: 1 << 30})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got, content[:30]+"\n[read_file: showed bytes 0-30 of 100"), got)

	got, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Offset: 100})
	require.NoError(t, err)
	assert.Equal(t, "[read_file: offset 100 is the end of the file (100 bytes)]", got)

	_, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Offset: 101})
	assert.ErrorContains(t, err, "offset 101 is past the end of the file (100 bytes)")
	_, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Offset: -1})
	assert.ErrorContains(t, err, "offset -1 is negative")
	_, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "f.txt", Limit: -1})
	assert.ErrorContains(t, err, "limit -1 is negative")

	got, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "empty.txt"})
	require.NoError(t, err)
	assert.Equal(t, "[read_file: the file is empty]", got)
}

func TestReadCutKeepsUTF8Whole(t *testing.T) {
	base := t.TempDir()
	content := "abcdéfgh" // 9 bytes; é is 2 bytes at offsets 4-5
	require.NoError(t, os.WriteFile(filepath.Join(base, "u.txt"), []byte(content), 0o644))
	w, err := workspace.New(base, workspace.Config{MaxReadBytes: 5})
	require.NoError(t, err)
	defer w.Close()
	got, err := w.ReadFile(context.Background(), workspace.ReadFileArgs{Path: "u.txt"})
	require.NoError(t, err)
	assert.Equal(t, "abcd\n[read_file: showed bytes 0-4 of 9; call read_file with offset=4 to continue]", got)
	got, err = w.ReadFile(context.Background(), workspace.ReadFileArgs{Path: "u.txt", Offset: 4})
	require.NoError(t, err)
	assert.Equal(t, "éfgh", got)
	got, err = w.ReadFile(context.Background(), workspace.ReadFileArgs{Path: "u.txt", Offset: 4, Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, "\n[read_file: showed bytes 4-4 of 9; call read_file with offset=4 to continue]", got,
		"a limit shorter than one character returns nothing rather than half of it")
}

func TestReadBinaryRefused(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	require.NoError(t, os.WriteFile(filepath.Join(f.ws, "bin"), []byte{'E', 'L', 'F', 0, 1}, 0o644))
	_, err := f.call(t, "read_file", map[string]any{"path": "bin"})
	assert.ErrorIs(t, err, workspace.ErrNotText)
}

func TestSizeCaps(t *testing.T) {
	base := t.TempDir()
	w, err := workspace.New(base, workspace.Config{MaxFileBytes: 10})
	require.NoError(t, err)
	defer w.Close()
	ctx := context.Background()

	_, err = w.WriteFile(ctx, workspace.WriteFileArgs{Path: "big/f.txt", Content: strings.Repeat("x", 11)})
	assert.ErrorIs(t, err, workspace.ErrTooLarge)
	assert.ErrorContains(t, err, "content is 11 bytes; the limit is 10 bytes")
	_, err = os.Stat(filepath.Join(base, "big"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing is created for refused content")

	_, err = w.WriteFile(ctx, workspace.WriteFileArgs{Path: "f.txt", Content: strings.Repeat("x", 10)})
	require.NoError(t, err)
	_, err = w.AppendFile(ctx, workspace.AppendFileArgs{Path: "f.txt", Content: "y"})
	assert.ErrorIs(t, err, workspace.ErrTooLarge)
	assert.ErrorContains(t, err, "the file is 10 bytes and would grow to 11; the limit is 10 bytes")
	b, err := os.ReadFile(filepath.Join(base, "f.txt"))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("x", 10), string(b), "a refused append changes nothing")
}

func TestDefaults(t *testing.T) {
	assert.EqualValues(t, 64*1024, workspace.DefaultMaxReadBytes)
	assert.EqualValues(t, 10*1024*1024, workspace.DefaultMaxFileBytes)
	assert.EqualValues(t, 200, workspace.DefaultMaxSearchResults)
	assert.EqualValues(t, 16*1024*1024, workspace.DefaultMaxSearchBytes)
	assert.EqualValues(t, 16, workspace.DefaultMaxSearchDepth)
	for _, cfg := range []workspace.Config{{MaxFileBytes: -1}, {MaxSearchResults: -1}, {MaxSearchBytes: -1}, {MaxSearchDepth: -1}} {
		_, err := workspace.New(t.TempDir(), cfg)
		assert.Error(t, err, "%+v", cfg)
	}
	_, err := workspace.New(t.TempDir(), workspace.Config{MaxFileBytes: -1})
	assert.Error(t, err)
	_, err = workspace.New(filepath.Join(t.TempDir(), "missing"), workspace.Config{})
	assert.Error(t, err)
}

func TestSchemaValidation(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	_, err := f.call(t, "write_file", map[string]any{"path": "x.txt"})
	var ae *agent.ArgumentError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "content", ae.Field)
	_, err = f.call(t, "read_file", map[string]any{"path": "hello.txt", "bogus": 1})
	require.ErrorAs(t, err, &ae)
	_, err = f.call(t, "read_file", map[string]any{"path": 7})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "path", ae.Field)

	for _, tl := range f.w.Tools() {
		assert.Contains(t, string(tl.Schema()), `"path":{"type":"string","description":"`, tl.Name())
	}
}

func TestCanceledContext(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.w.WriteFile(ctx, workspace.WriteFileArgs{Path: "c.txt", Content: "x"})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(filepath.Join(f.ws, "c.txt"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestClosed(t *testing.T) {
	w, err := workspace.New(t.TempDir(), workspace.Config{})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, err = w.ReadFile(context.Background(), workspace.ReadFileArgs{Path: "x"})
	assert.ErrorIs(t, err, workspace.ErrClosed)
}

func TestCleanPath(t *testing.T) {
	good := map[string]string{
		"a.txt": "a.txt", "./a.txt": "a.txt", "a/../b": "b", "a//b/": "a/b", ".": ".", "a/.": "a",
		"dir/sub/": "dir/sub", "ab:c": "ab:c", "1:x": "1:x", "naïve.txt": "naïve.txt",
	}
	for in, want := range good {
		got, err := workspace.CleanPath(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "/a", "..", "../a", "a/../../b", `a\b`, "C:", "z:/", "a\x00", "a\x7f", "\xff"} {
		_, err := workspace.CleanPath(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// model is a minimal llm.Model for checking that agent.New accepts the tools.
type model struct{}

func (model) Generate(context.Context, *llm.Request) (*llm.Response, error) {
	return nil, errors.New("unused")
}

func TestAgentAcceptsTools(t *testing.T) {
	w, err := workspace.New(t.TempDir(), workspace.Config{MaxReadBytes: 1000})
	require.NoError(t, err)
	defer w.Close()
	tools := w.Tools()
	names := make([]string, 0, len(tools))
	for _, tl := range tools {
		names = append(names, tl.Name())
		if e, ok := tl.(interface{ Err() error }); ok {
			require.NoError(t, e.Err())
		}
	}
	assert.Equal(t, []string{"read_file", "write_file", "append_file", "list_dir", "replace_in_file", "search_files"}, names,
		"delete_file is off by default")
	_, err = agent.New(agent.Config{Model: model{}, Tools: tools})
	require.NoError(t, err)
	assert.Contains(t, string(tools[0].Schema()), "default and maximum 1000")

	w2, err := workspace.New(t.TempDir(), workspace.Config{AllowDelete: true})
	require.NoError(t, err)
	defer w2.Close()
	tools = w2.Tools()
	assert.Equal(t, "delete_file", tools[len(tools)-1].Name())
	_, err = agent.New(agent.Config{Model: model{}, Tools: tools})
	require.NoError(t, err)
}

func TestConcurrentAppends(t *testing.T) {
	w, err := workspace.New(t.TempDir(), workspace.Config{})
	require.NoError(t, err)
	defer w.Close()
	tools := w.Tools()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 10 {
				_, err := tools[2].Call(context.Background(), []byte(`{"path":"log/all.txt","content":"0123456789\n"}`))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	got, err := w.ReadFile(context.Background(), workspace.ReadFileArgs{Path: "log/all.txt"})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("0123456789\n", 160), got)
}
