//go:build unix

package workspace_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/autogpt-go/agent/tools/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A named pipe in the workspace is refused without blocking in open(2).
func TestNamedPipeRefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	w, err := workspace.New(dir, workspace.Config{})
	require.NoError(t, err)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = w.ReadFile(ctx, workspace.ReadFileArgs{Path: "pipe"})
	assert.ErrorIs(t, err, workspace.ErrNotRegular)
	_, err = w.WriteFile(ctx, workspace.WriteFileArgs{Path: "pipe", Content: "x"})
	assert.ErrorIs(t, err, workspace.ErrNotRegular)
	_, err = w.AppendFile(ctx, workspace.AppendFileArgs{Path: "pipe", Content: "x"})
	assert.ErrorIs(t, err, workspace.ErrNotRegular)
	_, err = w.ReplaceInFile(ctx, workspace.ReplaceInFileArgs{Path: "pipe", Old: "x", New: "y"})
	assert.ErrorIs(t, err, workspace.ErrNotRegular)
	// search_files passes over it without opening it.
	out, err := w.SearchFiles(ctx, workspace.SearchFilesArgs{Query: "x"})
	require.NoError(t, err)
	assert.Equal(t, "no matches", out)
	out, err = w.SearchFiles(ctx, workspace.SearchFilesArgs{Pattern: "pi*"})
	require.NoError(t, err)
	assert.Equal(t, "no files match", out)
}
