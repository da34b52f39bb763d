package langchaingo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errNoDial is what dialTransport's dialer returns: the tests never reach the network.
var errNoDial = errors.New("test dialer: no network in tests")

// dialTransport is a real *http.Transport (so the guard sees the network) whose dialer only
// counts its calls and fails.
func dialTransport(dials *atomic.Int32) *http.Transport {
	return &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			dials.Add(1)
			return nil, errNoDial
		},
	}
}

// noEnvAllowance clears the environment variable that lifts the guard, for the test's duration.
func noEnvAllowance(t *testing.T) {
	t.Setenv(AllowRealProviderEnv, "")
}

func TestGuardRefusesRealProvider(t *testing.T) {
	noEnvAllowance(t)
	t.Run("default client", func(t *testing.T) {
		// No client: http.DefaultClient, whose nil Transport means http.DefaultTransport, swapped
		// for a counting one for this test (the package's tests do not run in parallel: t.Setenv).
		var dials atomic.Int32
		saved := http.DefaultTransport
		http.DefaultTransport = dialTransport(&dials)
		t.Cleanup(func() { http.DefaultTransport = saved })

		m, err := OpenAI("gpt-4o", "sk-fake")
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorIs(t, err, ErrRealProviderInTest)
		assert.Zero(t, dials.Load(), "nothing was dialed")
		assert.Contains(t, err.Error(), "AllowRealProviderInTests()")
		assert.Contains(t, err.Error(), "AUTOGPT_ALLOW_REAL_PROVIDER=1")
		assert.Contains(t, err.Error(), "api.openai.com")
	})
	for _, tc := range []struct {
		name string
		new  func(opts ...Option) (*Model, error)
	}{
		{"openai", func(opts ...Option) (*Model, error) { return OpenAI("gpt-4o", "sk-fake", opts...) }},
		{"anthropic", func(opts ...Option) (*Model, error) { return Anthropic("claude-sonnet-4-5", "sk-ant-fake", opts...) }},
		{"openai-compatible", func(opts ...Option) (*Model, error) {
			return OpenAICompatible("https://openrouter.ai/api/v1", "some/model", "", opts...)
		}},
		{"from env", func(opts ...Option) (*Model, error) {
			return FromEnvWith(envOf(map[string]string{"ANTHROPIC_API_KEY": "sk-ant-fake"}), opts...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dials atomic.Int32
			m, err := tc.new(WithHTTPClient(&http.Client{Transport: dialTransport(&dials)}))
			require.NoError(t, err)
			_, err = m.Generate(t.Context(), hello())
			require.ErrorIs(t, err, ErrRealProviderInTest)
			assert.Zero(t, dials.Load(), "nothing was dialed")
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr))

			for _, err := range m.Stream(t.Context(), hello()) {
				if err != nil {
					require.ErrorIs(t, err, ErrRealProviderInTest)
				}
			}
			assert.Zero(t, dials.Load(), "nothing was dialed")
		})
	}
}

func TestGuardAllowsLoopback(t *testing.T) {
	noEnvAllowance(t)
	srv := newServer(t, jsonReply(200, openAIText))
	for _, base := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		m, err := OpenAI("gpt-4o", testOpenAIKey, WithBaseURL(base+"/v1"), WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
		require.NoError(t, err)
		resp, err := m.Generate(t.Context(), hello())
		require.NoError(t, err, base)
		assert.Equal(t, "Hello there.", resp.Message.Content)
	}
}

// A RoundTripper of the test's own (a replay, a recorder, a fake) is not the network.
func TestGuardAllowsCustomTransport(t *testing.T) {
	noEnvAllowance(t)
	s := newScript(t, reply(200, openAIText))
	resp, err := retryOpenAI(t, s).Generate(t.Context(), hello())
	require.NoError(t, err)
	assert.Equal(t, "Hello there.", resp.Message.Content)
	assert.Len(t, s.requests(), 1)
}

func TestGuardLifted(t *testing.T) {
	check := func(t *testing.T, opts ...Option) {
		t.Helper()
		var dials atomic.Int32
		m, err := OpenAI("gpt-4o", "sk-fake", append([]Option{
			WithHTTPClient(&http.Client{Transport: dialTransport(&dials)}),
			WithRetry(RetryPolicy{MaxRetries: -1}),
		}, opts...)...)
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrRealProviderInTest)
		assert.ErrorIs(t, err, errNoDial)
		assert.Equal(t, int32(1), dials.Load(), "the request went to the dialer")
	}
	t.Run("option", func(t *testing.T) {
		noEnvAllowance(t)
		check(t, AllowRealProviderInTests())
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(AllowRealProviderEnv, "1")
		check(t)
	})
	t.Run("environment false", func(t *testing.T) {
		t.Setenv(AllowRealProviderEnv, "0")
		m, err := OpenAI("gpt-4o", "sk-fake", WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorIs(t, err, ErrRealProviderInTest)
	})
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "127.0.0.1": true, "127.8.9.10": true,
		"::1": true, "::ffff:127.0.0.1": true,
		"api.openai.com": false, "10.0.0.1": false, "0.0.0.0": false, "::": false, "localhost.example.com": false,
		"192.168.1.2": false, "": false,
	} {
		assert.Equal(t, want, isLoopback(host), host)
	}
}

type fakeRoundTripper struct{}

func (fakeRoundTripper) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("fake")
}

func TestRealNetwork(t *testing.T) {
	assert.True(t, realNetwork(nil))
	assert.True(t, realNetwork(http.DefaultClient))
	assert.True(t, realNetwork(&http.Client{}))
	assert.True(t, realNetwork(&http.Client{Transport: http.DefaultTransport}))
	assert.True(t, realNetwork(&http.Client{Transport: &http.Transport{}}))
	assert.False(t, realNetwork(&http.Client{Transport: fakeRoundTripper{}}))
}
