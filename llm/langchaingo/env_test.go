package langchaingo

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

// stubTransport answers every request in memory (no network) and records the last one.
type stubTransport struct {
	mu   sync.Mutex
	last *http.Request
	body string
}

func (s *stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.last, s.body = r, string(b)
	s.mu.Unlock()
	reply := openAIText
	if strings.HasSuffix(r.URL.Path, "/messages") {
		reply = anthropicText
	}
	return &http.Response{
		StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(reply)), Request: r,
	}, nil
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFromEnvWith(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		provider string
		model    string
		url      string // the request URL
		auth     string // Authorization or x-api-key header; "" for none
	}{
		{"openai", map[string]string{"OPENAI_API_KEY": "sk-a"},
			ProviderOpenAI, DefaultOpenAIModel, "https://api.openai.com/v1/chat/completions", "Bearer sk-a"},
		{"openai model", map[string]string{"OPENAI_API_KEY": " sk-a ", "OPENAI_MODEL": "gpt-4.1"},
			ProviderOpenAI, "gpt-4.1", "https://api.openai.com/v1/chat/completions", "Bearer sk-a"},
		{"openai compatible", map[string]string{"OPENAI_API_KEY": "or-k", "OPENAI_BASE_URL": "https://openrouter.ai/api/v1", "OPENAI_MODEL": "openai/gpt-4o"},
			ProviderOpenAICompatible, "openai/gpt-4o", "https://openrouter.ai/api/v1/chat/completions", "Bearer or-k"},
		{"openai first", map[string]string{"OPENAI_API_KEY": "sk-a", "ANTHROPIC_API_KEY": "ant", "OLLAMA_HOST": "localhost"},
			ProviderOpenAI, DefaultOpenAIModel, "https://api.openai.com/v1/chat/completions", "Bearer sk-a"},
		{"anthropic", map[string]string{"ANTHROPIC_API_KEY": "ant-k", "OLLAMA_HOST": "localhost"},
			ProviderAnthropic, DefaultAnthropicModel, "https://api.anthropic.com/v1/messages", "ant-k"},
		{"anthropic model and base", map[string]string{"ANTHROPIC_API_KEY": "ant-k", "ANTHROPIC_MODEL": "claude-opus-4-1", "ANTHROPIC_BASE_URL": "https://proxy.example/v1"},
			ProviderAnthropic, "claude-opus-4-1", "https://proxy.example/v1/messages", "ant-k"},
		{"base url without key", map[string]string{"OPENAI_BASE_URL": "http://localhost:1234/v1", "OPENAI_MODEL": "qwen3", "OLLAMA_HOST": "localhost"},
			ProviderOpenAICompatible, "qwen3", "http://localhost:1234/v1/chat/completions", ""},
		{"ollama host port", map[string]string{"OLLAMA_HOST": "127.0.0.1:11434"},
			ProviderOpenAICompatible, DefaultOllamaModel, "http://127.0.0.1:11434/v1/chat/completions", ""},
		{"ollama host only", map[string]string{"OLLAMA_HOST": "gpu-box", "OLLAMA_MODEL": "qwen2.5:7b"},
			ProviderOpenAICompatible, "qwen2.5:7b", "http://gpu-box:11434/v1/chat/completions", ""},
		{"ollama url", map[string]string{"OLLAMA_HOST": "https://ollama.example.com/"},
			ProviderOpenAICompatible, DefaultOllamaModel, "https://ollama.example.com/v1/chat/completions", ""},
		{"ollama ipv6", map[string]string{"OLLAMA_HOST": "[::1]"},
			ProviderOpenAICompatible, DefaultOllamaModel, "http://[::1]:11434/v1/chat/completions", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stub := &stubTransport{}
			m, err := FromEnvWith(envOf(tc.env), WithHTTPClient(&http.Client{Transport: stub}))
			require.NoError(t, err)
			assert.Equal(t, tc.provider, m.Provider())
			assert.Equal(t, tc.model, m.ModelName())

			_, err = m.Generate(t.Context(), &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			require.NoError(t, err)
			assert.Equal(t, tc.url, stub.last.URL.String())
			if tc.provider == ProviderAnthropic {
				assert.Equal(t, tc.auth, stub.last.Header.Get("X-Api-Key"))
			} else if tc.auth == "" {
				assert.NotContains(t, stub.last.Header, "Authorization")
			} else {
				assert.Equal(t, tc.auth, stub.last.Header.Get("Authorization"))
			}
			assert.Contains(t, stub.body, `"model":"`+tc.model+`"`)
		})
	}
}

func TestFromEnvWithNothingSet(t *testing.T) {
	_, err := FromEnvWith(envOf(map[string]string{"OPENAI_MODEL": "gpt-4o", "OLLAMA_MODEL": "x", "OPENAI_API_KEY": "  "}))
	require.ErrorIs(t, err, ErrNoProvider)
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "OLLAMA_HOST", "OLLAMA_MODEL"} {
		assert.Contains(t, err.Error(), v)
	}
}

func TestFromEnvWithBadBaseURL(t *testing.T) {
	_, err := FromEnvWith(envOf(map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "localhost:8080"}))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNoProvider)
}

func TestOllamaBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"localhost":                "http://localhost:11434/v1",
		"0.0.0.0":                  "http://0.0.0.0:11434/v1",
		"0.0.0.0:8080":             "http://0.0.0.0:8080/v1",
		"http://localhost:11434":   "http://localhost:11434/v1",
		"http://localhost:11434/":  "http://localhost:11434/v1",
		"https://host.example/ol/": "https://host.example/ol/v1",
		"host.example/ollama":      "http://host.example:11434/ollama/v1",
	} {
		assert.Equal(t, want, ollamaBaseURL(in), in)
	}
}
