package langchaingo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
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
		"::1": true, "::ffff:127.0.0.1": true, "LocalHost.": true, "::1%lo": true,
		"localhost..": false, "127.0.0.1.": false, // not what the resolver reads as loopback: refused
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

// loopbackTransport is a real *http.Transport that dials loopback addresses only: a dial to any
// other address is counted in others and fails.
func loopbackTransport(others *atomic.Int32) *http.Transport {
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if !isLoopback(host) {
				others.Add(1)
				return nil, errNoDial
			}
			return d.DialContext(ctx, network, addr)
		},
	}
}

// A loopback server that redirects to a real host does not take the client there: every redirect
// is checked (only the first request used to be).
func TestGuardRefusesRedirectToRealProvider(t *testing.T) {
	noEnvAllowance(t)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://api.openai.com/v1/chat/completions", status)
			})
			var others atomic.Int32
			m, err := OpenAICompatible(srv.URL+"/v1", "gpt-4o", "", WithHTTPClient(&http.Client{Transport: loopbackTransport(&others)}))
			require.NoError(t, err)
			_, err = m.Generate(t.Context(), hello())
			require.ErrorIs(t, err, ErrRealProviderInTest)
			assert.Contains(t, err.Error(), "refused a redirect to api.openai.com")
			assert.Zero(t, others.Load(), "nothing but loopback was dialed")
			assert.Equal(t, 1, srv.count(), "a refusal is not retried")
		})
	}
	t.Run("default client", func(t *testing.T) {
		var others atomic.Int32
		saved := http.DefaultTransport
		http.DefaultTransport = loopbackTransport(&others)
		t.Cleanup(func() { http.DefaultTransport = saved })
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://api.anthropic.com/v1/messages", http.StatusTemporaryRedirect)
		})
		m, err := Anthropic("claude-sonnet-4-5", "sk-ant-fake", WithBaseURL(srv.URL+"/v1"))
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorIs(t, err, ErrRealProviderInTest)
		assert.Zero(t, others.Load())
	})
	t.Run("lifted", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://api.openai.com/v1/chat/completions", http.StatusTemporaryRedirect)
		})
		var others atomic.Int32
		m, err := OpenAICompatible(srv.URL+"/v1", "gpt-4o", "", AllowRealProviderInTests(),
			WithRetry(RetryPolicy{MaxRetries: -1}), WithHTTPClient(&http.Client{Transport: loopbackTransport(&others)}))
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorIs(t, err, errNoDial)
		assert.Equal(t, int32(1), others.Load(), "the redirect was followed")
	})
}

// Redirects between loopback servers are followed, under the client's own CheckRedirect or the
// default limit of 10.
func TestGuardKeepsRedirectPolicy(t *testing.T) {
	noEnvAllowance(t)
	target := newServer(t, jsonReply(200, openAIText))
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	var others atomic.Int32
	t.Run("followed", func(t *testing.T) {
		m, err := OpenAICompatible(srv.URL+"/v1", "gpt-4o", "", WithHTTPClient(&http.Client{Transport: loopbackTransport(&others)}))
		require.NoError(t, err)
		resp, err := m.Generate(t.Context(), hello())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", resp.Message.Content)
	})
	t.Run("client's CheckRedirect", func(t *testing.T) {
		errStop := errors.New("no redirects here")
		var seen []string
		client := &http.Client{Transport: loopbackTransport(&others), CheckRedirect: func(r *http.Request, via []*http.Request) error {
			seen = append(seen, r.URL.Host)
			return errStop
		}}
		m, err := OpenAICompatible(srv.URL+"/v1", "gpt-4o", "", WithHTTPClient(client))
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorIs(t, err, errStop)
		assert.Equal(t, []string{strings.TrimPrefix(target.URL, "http://")}, seen)
		assert.NotNil(t, client.CheckRedirect, "the client given is not modified")
	})
	t.Run("default limit", func(t *testing.T) {
		var loop *fakeServer
		loop = newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, loop.URL+r.URL.Path, http.StatusTemporaryRedirect)
		})
		m, err := OpenAICompatible(loop.URL+"/v1", "gpt-4o", "", WithHTTPClient(&http.Client{Transport: loopbackTransport(&others)}))
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorContains(t, err, "stopped after 10 redirects")
		assert.Equal(t, 10, loop.count(), "as net/http's default policy: the first request and 9 redirects")
	})
	assert.Zero(t, others.Load())
}

// A loopback host the Transport would send through a proxy that is not loopback reaches the
// network: refused (the proxy used to be ignored). Go never proxies "localhost" and loopback
// addresses, but does proxy "LOCALHOST." and other variants.
func TestGuardRefusesProxy(t *testing.T) {
	noEnvAllowance(t)
	srv := newServer(t, jsonReply(200, openAIText))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	proxied := func(others *atomic.Int32, proxy string) *http.Client {
		tr := loopbackTransport(others)
		u, err := url.Parse(proxy)
		require.NoError(t, err)
		tr.Proxy = http.ProxyURL(u)
		return &http.Client{Transport: tr}
	}
	for _, host := range []string{"localhost", "LOCALHOST.", "127.0.0.1", "[::1]"} {
		t.Run(host, func(t *testing.T) {
			var others atomic.Int32
			m, err := OpenAICompatible("http://"+host+":"+port+"/v1", "gpt-4o", "", WithHTTPClient(proxied(&others, "http://user:pw@proxy.example.com:3128")))
			require.NoError(t, err)
			_, err = m.Generate(t.Context(), hello())
			require.ErrorIs(t, err, ErrRealProviderInTest)
			assert.Contains(t, err.Error(), "through the proxy proxy.example.com:3128")
			assert.NotContains(t, err.Error(), "pw", "the proxy's credentials stay out of the error")
			assert.Zero(t, others.Load())
		})
	}
	t.Run("loopback proxy", func(t *testing.T) {
		proxy := newServer(t, jsonReply(200, openAIText)) // answers as the server it forwards to would
		var others atomic.Int32
		m, err := OpenAICompatible("http://LOCALHOST.:1/v1", "gpt-4o", "", WithHTTPClient(proxied(&others, proxy.URL)))
		require.NoError(t, err)
		resp, err := m.Generate(t.Context(), hello())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", resp.Message.Content)
		assert.Equal(t, 1, proxy.count())
		assert.Zero(t, others.Load())
	})
	t.Run("redirect through a proxy", func(t *testing.T) {
		redirect := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://localhost.:"+port+r.URL.Path, http.StatusTemporaryRedirect)
		})
		var others atomic.Int32
		tr := loopbackTransport(&others)
		tr.Proxy = func(r *http.Request) (*url.URL, error) {
			if r.URL.Hostname() == "localhost." {
				return url.Parse("http://proxy.example.com:3128")
			}
			return nil, nil
		}
		m, err := OpenAICompatible(redirect.URL+"/v1", "gpt-4o", "", WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)
		_, err = m.Generate(t.Context(), hello())
		require.ErrorIs(t, err, ErrRealProviderInTest)
		assert.Contains(t, err.Error(), "refused a redirect to localhost.:"+port+" through the proxy proxy.example.com:3128")
		assert.Zero(t, others.Load())
	})
}

// count returns the number of requests s received.
func (s *fakeServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}
