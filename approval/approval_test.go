package approval_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/approval"
	"github.com/autogpt-go/agent/llm"
)

func TestTerminalAnswers(t *testing.T) {
	var out bytes.Buffer
	term := approval.NewTerminal(context.Background(), strings.NewReader("y\ny -2\nplease use b.txt\n\nn\n"), &out)
	call := llm.ToolCall{Name: "write_file", Arguments: `{"content":"` + strings.Repeat("x", 400) + `","path":"a.txt"}`}
	for i, want := range []struct {
		deny   bool
		reason string
	}{{}, {}, {}, {true, "says: please use b.txt"}, {true, "empty answer"}} {
		v, err := term.Hook(context.Background(), call)
		require.NoError(t, err, i)
		assert.Equal(t, want.deny, v.Deny, i)
		assert.Contains(t, v.Reason, want.reason, i)
	}
	_, err := term.Hook(context.Background(), call)
	require.ErrorIs(t, err, approval.ErrStopped)
	_, err = term.Hook(context.Background(), call)
	require.ErrorIs(t, err, approval.ErrStopped, "end of input stops")
	assert.Equal(t, 6, strings.Count(out.String(), approval.Prompt), "7 calls, 6 questions: y -2 covers the next call without asking")
	assert.Contains(t, out.String(), "  path: a.txt\n")
}

func TestTerminalStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w := ioPipe()
	defer w.Close()
	term := approval.NewTerminal(ctx, r, &bytes.Buffer{})
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := term.Hook(ctx, llm.ToolCall{Name: "x", Arguments: "{}"})
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestFormatArgumentsStripsEscapes(t *testing.T) {
	got := approval.FormatArguments(`{"path":"a\u001b[2J.txt","n":3}`)
	assert.Equal(t, "  path: a.txt\n  n: 3\n", got)
	assert.Equal(t, "  not json\n", approval.FormatArguments("not json"))
}
