//go:build unix

package mcp

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStdioClose: Close waits for the server process to exit; a second Close is a no-op.
func TestStdioClose(t *testing.T) {
	cfg := Config{Command: os.Args[0], Env: helperVars(), InheritEnv: []string{}}
	c, err := Connect(context.Background(), cfg)
	require.NoError(t, err)
	pid, err := strconv.Atoi(call(t, toolMap(c)["pid"], `{}`).Content)
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, 0), "the server runs")
	require.NoError(t, c.Close())
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the server exited and was reaped")
	assert.NoError(t, c.Close())
	_, err = toolMap(c)["echo"].Call(context.Background(), json.RawMessage(`{"text":"late"}`))
	assert.ErrorIs(t, err, ErrClosed)
}

// TestStdioCloseStubborn: a server that does not exit when its standard input closes is stopped
// with SIGTERM after CloseTimeout, and that is not an error.
func TestStdioCloseStubborn(t *testing.T) {
	c, err := Connect(context.Background(), Config{Command: os.Args[0], Env: append(helperVars(), "HELPER_LINGER=1"),
		CloseTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	pid, err := strconv.Atoi(call(t, toolMap(c)["pid"], `{}`).Content)
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, c.Close())
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH)
}
