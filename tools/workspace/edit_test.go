package workspace_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autogpt-go/agent/tools/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readWS(t *testing.T, f *fixture, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.ws, filepath.FromSlash(name)))
	require.NoError(t, err)
	return string(b)
}

func writeWS(t *testing.T, f *fixture, name, content string) {
	t.Helper()
	p := filepath.Join(f.ws, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func TestReplaceInFile(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	writeWS(t, f, "src/main.go", "package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n")
	out, err := f.call(t, "replace_in_file", map[string]any{"path": "src/main.go", "old": `println("hi")`, "new": `println("hello")`})
	require.NoError(t, err)
	assert.Equal(t, "replaced 1 occurrence in src/main.go (now 48 bytes)", out)
	assert.Equal(t, "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n", readWS(t, f, "src/main.go"))

	// Deleting text, through a lexically resolved path.
	out, err = f.call(t, "replace_in_file", map[string]any{"path": "a/../src/main.go", "old": "\n\n", "new": "\n"})
	require.NoError(t, err)
	assert.Equal(t, "replaced 1 occurrence in src/main.go (now 47 bytes)", out)
	assert.Equal(t, "package main\nfunc main() {\n\tprintln(\"hello\")\n}\n", readWS(t, f, "src/main.go"))
}

func TestReplaceInFileCounts(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	const text = "a x\nb x\nc x\nd\n"
	cases := []struct {
		name  string
		args  map[string]any
		want  string // file content after the call
		out   string // the result, or
		err   error  // the error
		inErr string
	}{
		{"ambiguous", map[string]any{"old": "x", "new": "y"}, text, "", workspace.ErrAmbiguous,
			"old occurs 3 times (lines 1, 2, 3), expected 1; include more surrounding text to pick one, or set count=3 or all=true"},
		{"unique with context", map[string]any{"old": "b x", "new": "b y"}, "a x\nb y\nc x\nd\n", "replaced 1 occurrence in f.txt (now 14 bytes)", nil, ""},
		{"not found", map[string]any{"old": "zzz", "new": "y"}, text, "", workspace.ErrNoMatch, "old does not occur in the file"},
		{"whitespace matters", map[string]any{"old": "a  x", "new": "y"}, text, "", workspace.ErrNoMatch, ""},
		{"all", map[string]any{"old": "x", "new": "yy", "all": true}, "a yy\nb yy\nc yy\nd\n", "replaced 3 occurrences in f.txt (now 17 bytes)", nil, ""},
		{"all but none", map[string]any{"old": "q", "new": "y", "all": true}, text, "", workspace.ErrNoMatch, ""},
		{"count matches", map[string]any{"old": "x", "new": "y", "count": 3}, "a y\nb y\nc y\nd\n", "replaced 3 occurrences in f.txt (now 14 bytes)", nil, ""},
		{"count too low", map[string]any{"old": "x", "new": "y", "count": 2}, text, "", workspace.ErrAmbiguous, "old occurs 3 times (lines 1, 2, 3), expected 2"},
		{"count too high", map[string]any{"old": "x", "new": "y", "count": 4}, text, "", workspace.ErrAmbiguous, "expected 4"},
		{"all with count", map[string]any{"old": "x", "new": "y", "all": true, "count": 2}, text, "", workspace.ErrAmbiguous, ""},
		{"empty old", map[string]any{"old": "", "new": "y"}, text, "", workspace.ErrInvalidArgument, "old is empty"},
		{"negative count", map[string]any{"old": "x", "new": "y", "count": -1}, text, "", workspace.ErrInvalidArgument, "count -1 is negative"},
		{"multi-line old", map[string]any{"old": "b x\nc x\n", "new": ""}, "a x\nd\n", "replaced 1 occurrence in f.txt (now 6 bytes)", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			writeWS(t, f, "f.txt", text)
			tc.args["path"] = "f.txt"
			out, err := f.call(t, "replace_in_file", tc.args)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Contains(t, err.Error(), tc.inErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.out, out)
			}
			assert.Equal(t, tc.want, readWS(t, f, "f.txt"))
		})
	}
}

func TestReplaceInFileAmbiguityNamesFirstLines(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	writeWS(t, f, "f.txt", strings.Repeat("x\n", 8))
	_, err := f.call(t, "replace_in_file", map[string]any{"path": "f.txt", "old": "x", "new": "y"})
	require.ErrorIs(t, err, workspace.ErrAmbiguous)
	assert.Contains(t, err.Error(), "old occurs 8 times (lines 1, 2, 3, 4, 5 and more)")
}

func TestReplaceInFileLimits(t *testing.T) {
	f := newFixture(t, workspace.Config{MaxFileBytes: 10})
	writeWS(t, f, "small.txt", "0123456789")
	writeWS(t, f, "big.txt", "0123456789A")
	_, err := f.call(t, "replace_in_file", map[string]any{"path": "big.txt", "old": "0", "new": "1"})
	require.ErrorIs(t, err, workspace.ErrTooLarge)
	assert.Contains(t, err.Error(), "the file is larger than the limit of 10 bytes")
	_, err = f.call(t, "replace_in_file", map[string]any{"path": "small.txt", "old": "0", "new": "00"})
	require.ErrorIs(t, err, workspace.ErrTooLarge)
	assert.Contains(t, err.Error(), "the file would grow to 11 bytes; the limit is 10 bytes")
	assert.Equal(t, "0123456789", readWS(t, f, "small.txt"))
	assert.Equal(t, "0123456789A", readWS(t, f, "big.txt"))
	_, err = f.call(t, "replace_in_file", map[string]any{"path": "small.txt", "old": "0123456789A", "new": ""})
	require.ErrorIs(t, err, workspace.ErrTooLarge)

	writeWS(t, f, "bin", "a\x00b")
	_, err = f.call(t, "replace_in_file", map[string]any{"path": "bin", "old": "a", "new": "c"})
	require.ErrorIs(t, err, workspace.ErrNotText)
	assert.Equal(t, "a\x00b", readWS(t, f, "bin"))

	_, err = f.call(t, "replace_in_file", map[string]any{"path": "inside", "old": "a", "new": "c"})
	require.ErrorIs(t, err, workspace.ErrNotRegular)
	_, err = f.call(t, "replace_in_file", map[string]any{"path": "missing.txt", "old": "a", "new": "c"})
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = os.Stat(filepath.Join(f.ws, "missing.txt"))
	require.ErrorIs(t, err, fs.ErrNotExist, "replace_in_file creates nothing")
}

func TestReplaceInFileKeepsModeAndLinks(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	writeWS(t, f, "run.sh", "echo one\n")
	require.NoError(t, os.Chmod(filepath.Join(f.ws, "run.sh"), 0o750))
	_, err := f.call(t, "replace_in_file", map[string]any{"path": "run.sh", "old": "one", "new": "two"})
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(f.ws, "run.sh"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o750), info.Mode().Perm())
	assert.Equal(t, "echo two\n", readWS(t, f, "run.sh"))

	// A link inside the workspace is edited through and stays a link.
	_, err = f.call(t, "replace_in_file", map[string]any{"path": "inlink", "old": "hello", "new": "howdy"})
	require.NoError(t, err)
	assert.Equal(t, "howdy", readWS(t, f, "hello.txt"))
	target, err := os.Readlink(filepath.Join(f.ws, "inlink"))
	require.NoError(t, err)
	assert.Equal(t, "hello.txt", target)
}

func TestDeleteFileDisabledByDefault(t *testing.T) {
	f := newFixture(t, workspace.Config{})
	_, ok := f.tools["delete_file"]
	assert.False(t, ok, "delete_file is not offered unless enabled")
	_, err := f.w.DeleteFile(context.Background(), workspace.DeleteFileArgs{Path: "hello.txt"})
	require.ErrorIs(t, err, workspace.ErrDisabled)
	var pe *workspace.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "delete_file", pe.Op)
	assert.Equal(t, "hello", readWS(t, f, "hello.txt"))
	_, err = f.w.DeleteFile(context.Background(), workspace.DeleteFileArgs{Path: "inside", Recursive: true})
	require.ErrorIs(t, err, workspace.ErrDisabled)
	_, err = os.Stat(filepath.Join(f.ws, "inside"))
	require.NoError(t, err)
}

func TestDeleteFile(t *testing.T) {
	f := newFixture(t, workspace.Config{AllowDelete: true})
	writeWS(t, f, "tmp/a.txt", "a")
	writeWS(t, f, "tmp/sub/b.txt", "b")
	// Links inside the tree that lead out: deleting the tree removes the links, not their targets.
	require.NoError(t, os.Symlink(f.outside, filepath.Join(f.ws, "tmp", "sub", "absout")))
	require.NoError(t, os.Symlink("../../../outside/secret.txt", filepath.Join(f.ws, "tmp", "sub", "relsecret")))
	require.NoError(t, os.Symlink("missing.txt", filepath.Join(f.ws, "dangling")))
	outside := snapshot(t, f.outside)

	out, err := f.call(t, "delete_file", map[string]any{"path": "tmp/a.txt"})
	require.NoError(t, err)
	assert.Equal(t, "deleted tmp/a.txt", out)
	_, err = os.Stat(filepath.Join(f.ws, "tmp", "a.txt"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = f.call(t, "delete_file", map[string]any{"path": "tmp"})
	require.ErrorIs(t, err, workspace.ErrNotRegular)
	assert.Contains(t, err.Error(), "set recursive=true")
	_, err = f.call(t, "delete_file", map[string]any{"path": "inside"})
	require.ErrorIs(t, err, workspace.ErrNotRegular, "an empty directory needs recursive too")

	out, err = f.call(t, "delete_file", map[string]any{"path": "tmp/", "recursive": true})
	require.NoError(t, err)
	assert.Equal(t, "deleted the directory tmp and everything in it", out)
	_, err = os.Lstat(filepath.Join(f.ws, "tmp"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, outside, snapshot(t, f.outside), "deleting a tree with links out changed nothing outside")

	// A link inside the workspace is deleted itself; its target stays.
	out, err = f.call(t, "delete_file", map[string]any{"path": "inlink"})
	require.NoError(t, err)
	assert.Equal(t, "deleted the symbolic link inlink (its target was kept)", out)
	assert.Equal(t, "hello", readWS(t, f, "hello.txt"))
	out, err = f.call(t, "delete_file", map[string]any{"path": "indir", "recursive": true})
	require.NoError(t, err)
	assert.Equal(t, "deleted the symbolic link indir (its target was kept)", out)
	_, err = os.Stat(filepath.Join(f.ws, "inside"))
	require.NoError(t, err)
	out, err = f.call(t, "delete_file", map[string]any{"path": "dangling"})
	require.NoError(t, err)
	assert.Equal(t, "deleted the symbolic link dangling (its target was kept)", out)

	for _, root := range []string{".", "./", "inside/..", "a/.."} {
		_, err = f.call(t, "delete_file", map[string]any{"path": root, "recursive": true})
		require.ErrorIs(t, err, workspace.ErrInvalidPath, root)
		assert.Contains(t, err.Error(), "the workspace root itself cannot be deleted")
	}
	_, err = f.call(t, "delete_file", map[string]any{"path": "missing.txt"})
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, outside, snapshot(t, f.outside))
	assert.Equal(t, "hello", readWS(t, f, "hello.txt"))
}
