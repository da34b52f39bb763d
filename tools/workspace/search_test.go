package workspace_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/autogpt-go/agent/tools/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// searchFixture is the attack fixture plus a small source tree.
func searchFixture(t *testing.T, cfg workspace.Config) *fixture {
	t.Helper()
	f := newFixture(t, cfg)
	writeWS(t, f, "main.go", "package main\n\nfunc main() { run() } // TODO: flags\n")
	writeWS(t, f, "README.md", "# Demo\nSee docs.\n")
	writeWS(t, f, "docs/guide.md", "Guide\ntodo: write more\n")
	writeWS(t, f, "docs/api/ref.md", "Reference\n")
	writeWS(t, f, "pkg/run/run.go", "package run\n\n// Run runs. TODO: errors\nfunc Run() {}\n")
	writeWS(t, f, "pkg/run/run_test.go", "package run\n")
	writeWS(t, f, "pkg/logo.png", "\x89PNG\r\n\x1a\n\x00\x00TODO")
	return f
}

func TestSearchFilesGlob(t *testing.T) {
	f := searchFixture(t, workspace.Config{})
	cases := []struct{ pattern, path, want string }{
		{"**/*.go", "", "main.go\npkg/run/run.go\npkg/run/run_test.go"},
		{"*.go", "", "main.go"},
		{"*.md", "", "README.md"},
		{"**/*.md", "", "README.md\ndocs/api/ref.md\ndocs/guide.md"},
		{"docs/**", "", "docs/\ndocs/api/\ndocs/api/ref.md\ndocs/guide.md"},
		{"docs/*", "", "docs/api/\ndocs/guide.md"},
		{"pkg/**/*_test.go", "", "pkg/run/run_test.go"},
		{"**/run", "", "pkg/run/"},
		{"**/*.go", "pkg", "pkg/run/run.go\npkg/run/run_test.go"},
		{"*.go", "pkg/run", "pkg/run/run.go\npkg/run/run_test.go"},
		{"./**/../*.md", "", "README.md"}, // cleaned lexically like a path
		{"**/*.[ch]", "", "no files match"},
		{"**/*.go", "indir", "no files match"}, // a link to a directory inside may be the start
	}
	for _, tc := range cases {
		out, err := f.call(t, "search_files", map[string]any{"pattern": tc.pattern, "path": tc.path})
		require.NoError(t, err, tc.pattern)
		assert.Equal(t, tc.want, out, "pattern %q in %q", tc.pattern, tc.path)
	}
}

func TestSearchFilesQuery(t *testing.T) {
	f := searchFixture(t, workspace.Config{})
	out, err := f.call(t, "search_files", map[string]any{"query": "TODO"})
	require.NoError(t, err)
	assert.Equal(t, "main.go:3: func main() { run() } // TODO: flags\n"+
		"pkg/run/run.go:3: // Run runs. TODO: errors\n"+
		"[search_files: 2 matching lines in 2 files]\n"+
		"[search_files: skipped 1 binary files and 0 files larger than 10485760 bytes]", out)

	out, err = f.call(t, "search_files", map[string]any{"query": "todo", "ignore_case": true, "pattern": "**/*.md"})
	require.NoError(t, err)
	assert.Equal(t, "docs/guide.md:2: todo: write more\n[search_files: 1 matching lines in 1 files]", out)

	// Literal by default: regexp metacharacters are plain text.
	out, err = f.call(t, "search_files", map[string]any{"query": "run()"})
	require.NoError(t, err)
	assert.Equal(t, "main.go:3: func main() { run() } // TODO: flags\n[search_files: 1 matching lines in 1 files]\n"+
		"[search_files: skipped 1 binary files and 0 files larger than 10485760 bytes]", out)

	out, err = f.call(t, "search_files", map[string]any{"query": `^func \w+\(\)`, "regexp": true, "pattern": "**/*.go"})
	require.NoError(t, err)
	assert.Equal(t, "main.go:3: func main() { run() } // TODO: flags\npkg/run/run.go:4: func Run() {}\n"+
		"[search_files: 2 matching lines in 2 files]", out)

	out, err = f.call(t, "search_files", map[string]any{"query": "nothing like this"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "no matches"), out)
}

func TestSearchFilesNeverLeavesTheWorkspace(t *testing.T) {
	f := searchFixture(t, workspace.Config{})
	before := snapshot(t, f.base)
	for _, args := range []map[string]any{
		{"query": "top secret"},
		{"query": "secret", "pattern": "**"},
		{"query": ".", "regexp": true},
		{"pattern": "**"},
		{"pattern": "**/secret*"},
	} {
		out, err := f.call(t, "search_files", args)
		require.NoError(t, err)
		assert.NotContains(t, out, "top secret", "%v", args)
		assert.NotContains(t, out, "secret.txt", "%v", args)
		assert.NotContains(t, out, f.base, "%v", args)
		for _, link := range []string{"out", "absout", "secretlink", "relsecret", "newlink", "sneaky", "inlink", "indir"} {
			for _, line := range strings.Split(out, "\n") {
				assert.False(t, line == link || strings.HasPrefix(line, link+"/") || strings.HasPrefix(line, link+":"),
					"symbolic link %s followed or listed: %q", link, line)
			}
		}
	}
	assert.Equal(t, before, snapshot(t, f.base))

	// Patterns obey the path policy too.
	cases := []struct {
		pattern string
		want    error
	}{
		{"/etc/*", workspace.ErrInvalidPath},
		{f.outside + "/*", workspace.ErrInvalidPath},
		{"../*", workspace.ErrOutside},
		{"../outside/**", workspace.ErrOutside},
		{"**/../../*", workspace.ErrOutside},
		{"a/../../x", workspace.ErrOutside},
		{`..\*`, workspace.ErrInvalidPath},
		{`C:\*`, workspace.ErrInvalidPath},
		{"//server/share/*", workspace.ErrInvalidPath},
		{"*\x00", workspace.ErrInvalidPath},
		{"[", workspace.ErrInvalidArgument},
		{"a/[z-a", workspace.ErrInvalidArgument},
		{".", workspace.ErrInvalidArgument},
	}
	for _, tc := range cases {
		out, err := f.call(t, "search_files", map[string]any{"pattern": tc.pattern, "query": "secret"})
		require.Error(t, err, "pattern %q gave %q", tc.pattern, out)
		assert.ErrorIs(t, err, tc.want, tc.pattern)
		msg := strings.Replace(err.Error(), strconv.Quote(tc.pattern), "PATTERN", 1)
		assert.NotContains(t, msg, f.base)
	}
	assert.Equal(t, before, snapshot(t, f.base))
}

func TestSearchFilesArgumentErrors(t *testing.T) {
	f := searchFixture(t, workspace.Config{})
	cases := []struct {
		args map[string]any
		want error
		text string
	}{
		{map[string]any{}, workspace.ErrInvalidArgument, "give a pattern"},
		{map[string]any{"path": "docs"}, workspace.ErrInvalidArgument, "give a pattern"},
		{map[string]any{"query": "(", "regexp": true}, workspace.ErrInvalidArgument, "not a valid regular expression"},
		{map[string]any{"query": strings.Repeat("a", 4097)}, workspace.ErrInvalidArgument, "longer than 4096 bytes"},
		{map[string]any{"query": "x", "max_results": -1}, workspace.ErrInvalidArgument, "max_results -1 is negative"},
		{map[string]any{"query": "x", "path": "main.go"}, workspace.ErrNotRegular, "not a directory"},
		{map[string]any{"query": "x", "path": "missing"}, os.ErrNotExist, "no such file"},
	}
	for _, tc := range cases {
		_, err := f.call(t, "search_files", tc.args)
		require.ErrorIs(t, err, tc.want, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.text)
	}
}

func TestSearchFilesBounds(t *testing.T) {
	base := t.TempDir()
	for i := range 30 {
		require.NoError(t, os.WriteFile(filepath.Join(base, fmt.Sprintf("f%02d.txt", i)), []byte(strings.Repeat("needle\n", 10)), 0o644))
	}
	deep := filepath.Join(base, "d1", "d2", "d3", "d4")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(deep, "deep.txt"), []byte("needle\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "d1", "shallow.txt"), []byte("needle\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "long.txt"), []byte(strings.Repeat("é", 400)+"needle\n"), 0o644))
	ctx := context.Background()

	// Results: the workspace cap, and max_results below it.
	w, err := workspace.New(base, workspace.Config{MaxSearchResults: 25})
	require.NoError(t, err)
	defer w.Close()
	out, err := w.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "needle"})
	require.NoError(t, err)
	lines := strings.Split(out, "\n")
	assert.Len(t, lines, 27)
	assert.Equal(t, "[search_files: stopped at 25 results; narrow the pattern, the query or the path]", lines[26])
	out, err = w.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "needle", MaxResults: 3})
	require.NoError(t, err)
	assert.Equal(t, "d1/d2/d3/d4/deep.txt:1: needle\nd1/shallow.txt:1: needle\nf00.txt:1: needle\n"+
		"[search_files: 3 matching lines in 3 files]\n[search_files: stopped at 3 results; narrow the pattern, the query or the path]", out)
	out, err = w.SearchFiles(ctx, workspace.SearchFilesArgs{Pattern: "*.txt", MaxResults: 1000})
	require.NoError(t, err)
	assert.Len(t, strings.Split(out, "\n"), 26, "max_results above the cap is clamped")

	// Depth.
	w2, err := workspace.New(base, workspace.Config{MaxSearchDepth: 2})
	require.NoError(t, err)
	defer w2.Close()
	out, err = w2.SearchFiles(ctx, workspace.SearchFilesArgs{Pattern: "d1/**/*.txt"})
	require.NoError(t, err)
	assert.Equal(t, "d1/shallow.txt\n[search_files: directories deeper than 2 levels were not searched; search from a subdirectory with path]", out)
	out, err = w2.SearchFiles(ctx, workspace.SearchFilesArgs{Pattern: "**/deep.txt", Path: "d1/d2"})
	require.NoError(t, err)
	assert.Equal(t, "d1/d2/d3/d4/deep.txt", out)

	// Bytes read: 30 files of 70 bytes; a 100-byte budget reads one file and part of the next.
	w3, err := workspace.New(base, workspace.Config{MaxSearchBytes: 100})
	require.NoError(t, err)
	defer w3.Close()
	out, err = w3.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "needle", Pattern: "f*.txt"})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("f00.txt:1: needle\n", 1)+"f00.txt:2: needle\nf00.txt:3: needle\nf00.txt:4: needle\n"+
		"f00.txt:5: needle\nf00.txt:6: needle\nf00.txt:7: needle\nf00.txt:8: needle\nf00.txt:9: needle\nf00.txt:10: needle\n"+
		"[search_files: 10 matching lines in 1 files]\n"+
		"[search_files: stopped after reading 100 bytes of file contents; narrow the pattern or the path]", out)

	// Files over MaxFileBytes are skipped, and long lines are cut without splitting a character.
	w4, err := workspace.New(base, workspace.Config{MaxFileBytes: 100})
	require.NoError(t, err)
	defer w4.Close()
	out, err = w4.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "needle", Pattern: "long.txt"})
	require.NoError(t, err)
	assert.Equal(t, "no matches\n[search_files: skipped 0 binary files and 1 files larger than 100 bytes]", out)
	out, err = w.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "needle", Pattern: "long.txt"})
	require.NoError(t, err)
	assert.Equal(t, "long.txt:1: "+strings.Repeat("é", 150)+"…\n[search_files: 1 matching lines in 1 files]", out)
}

func TestSearchFilesCanceled(t *testing.T) {
	f := searchFixture(t, workspace.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.w.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "x"})
	assert.ErrorIs(t, err, context.Canceled)
}
