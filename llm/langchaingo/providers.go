package langchaingo

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/openai"
)

// Defaults used by the constructors and FromEnv.
const (
	// DefaultOpenAIBaseURL is OpenAI's API base URL.
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	// DefaultAnthropicBaseURL is Anthropic's API base URL, /v1 included.
	DefaultAnthropicBaseURL = "https://api.anthropic.com/v1"
	// DefaultOpenAIModel is the model FromEnv uses when OPENAI_MODEL is not set.
	DefaultOpenAIModel = "gpt-4o-mini"
	// DefaultAnthropicModel is the model FromEnv uses when ANTHROPIC_MODEL is not set.
	DefaultAnthropicModel = "claude-sonnet-4-5"
	// DefaultOllamaModel is the model FromEnv uses with OLLAMA_HOST when OLLAMA_MODEL is not set.
	DefaultOllamaModel = "llama3.2"
	// DefaultOllamaPort is the port FromEnv adds to an OLLAMA_HOST without scheme and port, as the
	// Ollama CLI does.
	DefaultOllamaPort = "11434"
)

// ErrNoProvider is matched (errors.Is) by the error FromEnv returns when none of the variables it
// reads names a provider. The error's text lists them.
var ErrNoProvider = errors.New("langchaingo: no model provider configured")

// placeholderKey is handed to langchaingo's openai.New, which refuses an empty key, when
// OpenAICompatible gets none; the HTTP layer then removes the Authorization header it produces.
const placeholderKey = "no-key"

// OpenAI returns a Model for OpenAI's chat-completions API: model is the model name (for example
// "gpt-4o-mini"), apiKey the API key; both are required. Options: WithHTTPClient, WithBaseURL
// (default DefaultOpenAIBaseURL, for example for a proxy), WithLegacyMaxTokens (default false:
// the output cap goes in max_completion_tokens), WithMaxResponseBytes, WithRetry (default
// RetryPolicy{}: up to 2 retries), AllowRealProviderInTests.
//
// Nothing is read from the environment: the settings langchaingo's openai.New would take from
// OPENAI_API_KEY, OPENAI_MODEL, OPENAI_BASE_URL, OPENAI_API_BASE and OPENAI_ORGANIZATION are all
// passed explicitly. It returns an error for an empty model or key or an invalid base URL.
func OpenAI(model, apiKey string, opts ...Option) (*Model, error) {
	if apiKey == "" {
		return nil, errors.New("langchaingo: OpenAI needs an API key")
	}
	o := collect(opts)
	base := o.baseURL
	if base == "" {
		base = DefaultOpenAIBaseURL
	}
	return newOpenAI(ProviderOpenAI, base, model, apiKey, false, o)
}

// OpenAICompatible returns a Model for any server speaking OpenAI's chat-completions API: vLLM,
// LM Studio, llama.cpp's server, OpenRouter, Ollama's /v1 endpoint. baseURL is the URL that
// "/chat/completions" is appended to (for example "http://localhost:11434/v1" or
// "https://openrouter.ai/api/v1"); model is the server's model name; apiKey may be "" for local
// servers, in which case no Authorization header is sent (langchaingo refuses an empty key, so a
// placeholder is given to it and removed from the request by this package's HTTP layer).
//
// Options: WithHTTPClient, WithLegacyMaxTokens (default true: the output cap goes in max_tokens,
// the field every compatible server knows; set it to false for a server that needs
// max_completion_tokens), WithMaxResponseBytes, WithRetry (default RetryPolicy{}: up to 2
// retries), AllowRealProviderInTests. WithBaseURL is ignored. Nothing is read from the
// environment. It returns an error for an empty model or a base URL that is not an absolute http
// or https URL.
func OpenAICompatible(baseURL, model, apiKey string, opts ...Option) (*Model, error) {
	o := collect(opts)
	o.baseURL = ""
	return newOpenAI(ProviderOpenAICompatible, baseURL, model, apiKey, true, o)
}

func newOpenAI(provider, baseURL, model, apiKey string, legacyMT bool, o options) (*Model, error) {
	if model == "" {
		return nil, fmt.Errorf("langchaingo: %s needs a model name", provider)
	}
	if err := checkBaseURL(baseURL); err != nil {
		return nil, err
	}
	if o.legacyMT != nil {
		legacyMT = *o.legacyMT
	}
	token := apiKey
	if token == "" {
		token = placeholderKey
	}
	lc, err := openai.New(
		openai.WithToken(token),
		openai.WithModel(model),
		openai.WithBaseURL(baseURL),
		openai.WithOrganization(""),
		openai.WithAPIType(openai.APITypeOpenAI),
		openai.WithHTTPClient(o.doer(ProviderOpenAI, apiKey == "")),
	)
	if err != nil {
		return nil, fmt.Errorf("langchaingo: %s: %w", provider, err)
	}
	return &Model{
		lc: lc, name: model, provider: provider, family: ProviderOpenAI, wired: true,
		legacyMT: legacyMT, key: newSecret(apiKey),
	}, nil
}

// Anthropic returns a Model for Anthropic's Messages API: model is the model name (for example
// "claude-sonnet-4-5"), apiKey the API key; both are required. Options: WithHTTPClient,
// WithBaseURL (default DefaultAnthropicBaseURL; requests go to base + "/messages"),
// WithMaxResponseBytes, WithRetry (default RetryPolicy{}: up to 2 retries),
// AllowRealProviderInTests.
//
// A request with MaxOutputTokens 0 gets langchaingo's default cap of 2048 output tokens (the
// Messages API requires one). Nothing is read from the environment (langchaingo's anthropic.New
// would read ANTHROPIC_API_KEY). It returns an error for an empty model or key or an invalid base
// URL.
func Anthropic(model, apiKey string, opts ...Option) (*Model, error) {
	if apiKey == "" {
		return nil, errors.New("langchaingo: Anthropic needs an API key")
	}
	if model == "" {
		return nil, errors.New("langchaingo: anthropic needs a model name")
	}
	o := collect(opts)
	base := o.baseURL
	if base == "" {
		base = DefaultAnthropicBaseURL
	}
	if err := checkBaseURL(base); err != nil {
		return nil, err
	}
	lc, err := anthropic.New(
		anthropic.WithToken(apiKey),
		anthropic.WithModel(model),
		anthropic.WithBaseURL(base),
		anthropic.WithHTTPClient(o.doer(ProviderAnthropic, false)),
	)
	if err != nil {
		return nil, fmt.Errorf("langchaingo: anthropic: %w", err)
	}
	return &Model{
		lc: lc, name: model, provider: ProviderAnthropic, family: ProviderAnthropic, wired: true,
		key: newSecret(apiKey),
	}, nil
}

// doer returns the HTTP layer of a constructor's model (wire.go) for the family's wire format.
func (o options) doer(family string, noAuth bool) *doer {
	return &doer{
		client: o.httpClient, family: family, noAuth: noAuth, maxBody: o.maxResponse,
		retry: o.retry, allowReal: o.allowReal,
	}
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("langchaingo: base URL %q is not an absolute http(s) URL", s)
	}
	return nil
}

// FromEnv returns the Model the process environment names; it is FromEnvWith(os.Getenv, opts...).
func FromEnv(opts ...Option) (*Model, error) {
	return FromEnvWith(os.Getenv, opts...)
}

// FromEnvWith returns a Model chosen by the variables getenv reports (values are trimmed of
// spaces; an empty value counts as unset), first match wins:
//
//  1. OPENAI_API_KEY: OpenAI with OPENAI_MODEL (default DefaultOpenAIModel); with OPENAI_BASE_URL
//     also set, OpenAICompatible on that URL instead.
//  2. ANTHROPIC_API_KEY: Anthropic with ANTHROPIC_MODEL (default DefaultAnthropicModel) and
//     ANTHROPIC_BASE_URL if set.
//  3. OPENAI_BASE_URL without a key: OpenAICompatible on that URL, no key, OPENAI_MODEL (default
//     DefaultOpenAIModel); for local servers such as LM Studio or vLLM.
//  4. OLLAMA_HOST: OpenAICompatible on OLLAMA_HOST + "/v1" with OLLAMA_MODEL (default
//     DefaultOllamaModel) and no key, because langchaingo's llms/ollama has no tool calling. As
//     in the Ollama CLI, a host without scheme gets "http://", and then, without port,
//     ":" + DefaultOllamaPort ("localhost" → "http://localhost:11434/v1").
//
// opts (WithHTTPClient, WithLegacyMaxTokens, ...) go to the chosen constructor, after the
// settings read from the environment, so an explicit WithBaseURL wins over ANTHROPIC_BASE_URL. When no variable
// is set it returns an error matching ErrNoProvider that names all of them; otherwise the
// constructor's error.
func FromEnvWith(getenv func(string) string, opts ...Option) (*Model, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	openaiKey, openaiBase := env("OPENAI_API_KEY"), env("OPENAI_BASE_URL")
	switch {
	case openaiKey != "" && openaiBase != "":
		return OpenAICompatible(openaiBase, or(env("OPENAI_MODEL"), DefaultOpenAIModel), openaiKey, opts...)
	case openaiKey != "":
		return OpenAI(or(env("OPENAI_MODEL"), DefaultOpenAIModel), openaiKey, opts...)
	case env("ANTHROPIC_API_KEY") != "":
		if base := env("ANTHROPIC_BASE_URL"); base != "" {
			opts = append([]Option{WithBaseURL(base)}, opts...) // an explicit option wins
		}
		return Anthropic(or(env("ANTHROPIC_MODEL"), DefaultAnthropicModel), env("ANTHROPIC_API_KEY"), opts...)
	case openaiBase != "":
		return OpenAICompatible(openaiBase, or(env("OPENAI_MODEL"), DefaultOpenAIModel), "", opts...)
	case env("OLLAMA_HOST") != "":
		return OpenAICompatible(ollamaBaseURL(env("OLLAMA_HOST")), or(env("OLLAMA_MODEL"), DefaultOllamaModel), "", opts...)
	}
	return nil, fmt.Errorf("%w: set OPENAI_API_KEY (with optional OPENAI_MODEL, OPENAI_BASE_URL), "+
		"ANTHROPIC_API_KEY (with optional ANTHROPIC_MODEL, ANTHROPIC_BASE_URL), "+
		"OPENAI_BASE_URL alone for a local OpenAI-compatible server, "+
		"or OLLAMA_HOST (with optional OLLAMA_MODEL)", ErrNoProvider)
}

// ollamaBaseURL turns an OLLAMA_HOST value into the base URL of Ollama's OpenAI-compatible API.
func ollamaBaseURL(host string) string {
	host = strings.TrimRight(host, "/")
	if !strings.Contains(host, "://") {
		hostport, path, _ := strings.Cut(host, "/")
		if _, _, err := net.SplitHostPort(hostport); err != nil {
			hostport = net.JoinHostPort(strings.Trim(hostport, "[]"), DefaultOllamaPort)
		}
		host = "http://" + hostport
		if path != "" {
			host += "/" + path
		}
	}
	return host + "/v1"
}
