package langchaingo

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

// These tests replay replies langchaingo recorded from the real APIs (httprr traces in its module
// directory, read in place) through httptest servers, and check the adapter's reading of them.

var moduleDir = sync.OnceValues(func() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tmc/langchaingo")
	cmd.Env = append(os.Environ(), "GOPROXY=off") // never download
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
})

// recordedReplies reads an httprr trace ("httprr trace v1", then for each exchange a line
// "<request bytes> <response bytes>" followed by both) and returns the HTTP responses.
func recordedReplies(t *testing.T, rel string) []*http.Response {
	t.Helper()
	dir, err := moduleDir()
	if err != nil || dir == "" {
		t.Skipf("langchaingo module directory not found: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Skipf("recorded trace not available: %v", err)
	}
	header, rest, ok := bytes.Cut(data, []byte("\n"))
	require.True(t, ok)
	require.Equal(t, "httprr trace v1", string(header))
	var replies []*http.Response
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		require.True(t, ok)
		var reqLen, respLen int
		_, err := fmt.Sscanf(string(line), "%d %d", &reqLen, &respLen)
		require.NoError(t, err)
		require.LessOrEqual(t, reqLen+respLen, len(after))
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(after[reqLen:reqLen+respLen])), nil)
		require.NoError(t, err)
		replies = append(replies, resp)
		rest = after[reqLen+respLen:]
	}
	return replies
}

// replayServer answers every request with the recorded reply's status, content type and body.
func replayServer(t *testing.T, resp *http.Response) *fakeServer {
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	})
}

func TestRecordedOpenAIToolCall(t *testing.T) {
	replies := recordedReplies(t, "llms/openai/testdata/TestFunctionCall.httprr")
	srv := replayServer(t, replies[0])
	resp, err := openAIModel(t, srv, "gpt-3.5-turbo").Generate(t.Context(), &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "What is the weather like in Boston?"}},
		Tools:    []llm.ToolSpec{{Name: "getCurrentWeather", Description: "Get the current weather in a given location"}},
	})
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "call_olc8qHf1RDItRqwuEBNjsu3B", Name: "getCurrentWeather", Arguments: `{"location":"Boston"}`},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 81, OutputTokens: 14},
		Model:        "gpt-3.5-turbo-0125",
	}, resp)
	// The recorded request carried "temperature":0 (langchaingo's default); ours carries none.
	assert.NotContains(t, srv.lastJSON(t), "temperature")
}

func TestRecordedOpenAIStream(t *testing.T) {
	replies := recordedReplies(t, "llms/openai/testdata/TestWithStreaming.httprr")
	srv := replayServer(t, replies[0])
	deltas, final, err := collectStream(t, openAIModel(t, srv, "gpt-3.5-turbo"), t.Context(),
		&llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "I'm a pomeranian. Tell me more about my taxonomy"}}})
	require.NoError(t, err)
	assert.Greater(t, len(deltas), 10)
	assert.Equal(t, strings.Join(deltas, ""), final.Message.Content)
	assert.True(t, strings.HasPrefix(final.Message.Content, "Sure! Pomeranians are a breed of dog"), final.Message.Content)
	assert.Equal(t, llm.FinishStop, final.FinishReason)
	assert.Equal(t, llm.Usage{InputTokens: 19, OutputTokens: 82}, final.Usage)
	assert.Equal(t, "gpt-3.5-turbo-0125", final.Model)
}

func TestRecordedAnthropic(t *testing.T) {
	replies := recordedReplies(t, "llms/anthropic/internal/anthropicclient/testdata/TestClient_CreateMessage.httprr")
	srv := replayServer(t, replies[0])
	resp, err := anthropicModel(t, srv, "claude-3-opus-20240229").Generate(t.Context(),
		&llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello, how are you?"}}})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(resp.Message.Content, "Hello! As an AI language model"), resp.Message.Content)
	assert.Equal(t, llm.FinishStop, resp.FinishReason)
	assert.Equal(t, llm.Usage{InputTokens: 13, OutputTokens: 35}, resp.Usage)
	assert.Equal(t, "claude-3-opus-20240229", resp.Model)
}

func TestRecordedAnthropicStream(t *testing.T) {
	replies := recordedReplies(t, "llms/anthropic/internal/anthropicclient/testdata/TestClient_CreateMessageStream.httprr")
	srv := replayServer(t, replies[0])
	deltas, final, err := collectStream(t, anthropicModel(t, srv, "claude-3-opus-20240229"), t.Context(),
		&llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Count from 1 to 5"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "\n2\n3", "\n4\n5"}, deltas)
	assert.Equal(t, &llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: "1\n2\n3\n4\n5"},
		FinishReason: llm.FinishStop,
		Usage:        llm.Usage{InputTokens: 15, OutputTokens: 13},
		Model:        "claude-3-opus-20240229",
	}, final)
}
