package langchaingo

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
)

// AllowRealProviderEnv is the environment variable that lets the models of a test binary reach a
// real provider (see ErrRealProviderInTest): set it to 1 (or any value strconv.ParseBool reads as
// true) for a deliberate recording run.
const AllowRealProviderEnv = "AUTOGPT_ALLOW_REAL_PROVIDER"

// ErrRealProviderInTest is matched (errors.Is) by the error Generate and Stream return when a
// model built by OpenAI, OpenAICompatible, Anthropic or FromEnv, in a test binary
// (testing.Testing reports true), would send a request over the real network to a host that is
// not loopback. Nothing is sent to that host.
//
// The network is recognised by the client's Transport: the client is nil or http.DefaultClient,
// or its Transport is nil, http.DefaultTransport or any *http.Transport. Such a client may send
// requests only to loopback hosts (localhost, in any case and with or without a trailing dot,
// 127.0.0.0/8, ::1: httptest servers), and:
//
//   - Every redirect is checked too: a loopback server that redirects to a real host gets the
//     redirect refused (the client's own CheckRedirect, or the default limit of 10 redirects,
//     applies after the check).
//   - A request that the Transport would send through a proxy (its Proxy func, for the default
//     transport http.ProxyFromEnvironment: HTTP_PROXY, HTTPS_PROXY, NO_PROXY) is refused unless
//     the proxy is loopback as well. Go never proxies "localhost" and loopback addresses, but it
//     does proxy variants such as "LOCALHOST." or "localhost.", which the proxy, not this machine,
//     would resolve.
//
// Any other RoundTripper passes untouched: llmtest.Replay, recorders in replay mode, fakes. That
// includes a RoundTripper that wraps the network transport (otelhttp.NewTransport, a logging or
// retrying wrapper around http.DefaultTransport): this package cannot see inside it, so its
// requests reach the network in tests without AllowRealProviderInTests or the environment
// variable being needed, and nothing is refused. To keep the guard, give the model in tests a
// client whose Transport is the *http.Transport itself (or http.DefaultTransport), and add the
// wrapper outside tests only.
//
// Tests must not spend a developer's key or depend on the network; to allow it, build the model
// with AllowRealProviderInTests or set AUTOGPT_ALLOW_REAL_PROVIDER=1 (AllowRealProviderEnv), which
// lift the check for every request and redirect. Outside tests the guard does nothing.
var ErrRealProviderInTest = errors.New("langchaingo: a test tried to reach a real provider " +
	"(allow it with the option AllowRealProviderInTests() or the environment variable " +
	AllowRealProviderEnv + "=1)")

// AllowRealProviderInTests lets a model built by OpenAI, OpenAICompatible, Anthropic or FromEnv
// reach a real provider from a test binary (see ErrRealProviderInTest), for that model only. It
// has no effect outside tests; New ignores it.
func AllowRealProviderInTests() Option {
	return func(o *options) { o.allowReal = true }
}

// guard returns the client to send req with: when the guard applies (a test binary, a client
// that reaches the real network, no allowance), a shallow copy of client whose CheckRedirect
// checks every redirect as req is checked; and an error matching ErrRealProviderInTest when req
// itself would go over the real network to a host that is not loopback.
func (d *doer) guard(client *http.Client, req *http.Request) (*http.Client, error) {
	if d.allowReal || !testing.Testing() || !realNetwork(client) {
		return client, nil
	}
	if on, err := strconv.ParseBool(strings.TrimSpace(os.Getenv(AllowRealProviderEnv))); err == nil && on {
		return client, nil
	}
	if err := refusal(client, req, "a request"); err != nil {
		return nil, err
	}
	guarded := *client
	next := client.CheckRedirect
	guarded.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if err := refusal(client, r, "a redirect"); err != nil {
			return err
		}
		if next != nil {
			return next(r, via)
		}
		if len(via) >= maxRedirects { // net/http's default policy
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &guarded, nil
}

// maxRedirects is the number of redirects net/http's default policy follows.
const maxRedirects = 10

// refusal returns an error matching ErrRealProviderInTest when req, sent by client (which
// reaches the real network), would leave this machine: its host is not loopback, or the
// Transport would send it through a proxy that is not loopback. what names req in the error.
func refusal(client *http.Client, req *http.Request, what string) error {
	if !isLoopback(req.URL.Hostname()) {
		return fmt.Errorf("%w: refused %s to %s", ErrRealProviderInTest, what, req.URL.Host)
	}
	if proxy := proxyFor(client, req); proxy != nil && !isLoopback(proxy.Hostname()) {
		return fmt.Errorf("%w: refused %s to %s through the proxy %s", ErrRealProviderInTest, what, req.URL.Host, proxy.Host)
	}
	return nil
}

// proxyFor returns the proxy client's Transport would send req through, or nil: the Transport's
// Proxy func for an *http.Transport (http.DefaultTransport when the client has none), and
// http.ProxyFromEnvironment, what the default transport uses, when http.DefaultTransport was
// replaced by another RoundTripper. A Proxy func that fails makes the Transport fail the request
// without sending it: nil.
func proxyFor(client *http.Client, req *http.Request) *url.URL {
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	proxy := http.ProxyFromEnvironment
	if t, ok := rt.(*http.Transport); ok {
		proxy = t.Proxy
	}
	if proxy == nil {
		return nil
	}
	u, err := proxy(req)
	if err != nil {
		return nil
	}
	return u
}

// realNetwork reports whether client sends requests over the network: the default client or
// transport, or any *http.Transport (which dials, whatever its settings).
func realNetwork(client *http.Client) bool {
	if client == nil || client.Transport == nil || client.Transport == http.DefaultTransport {
		return true
	}
	_, ok := client.Transport.(*http.Transport)
	return ok
}

// isLoopback reports whether host (without port) is "localhost" (in any case, with or without a
// trailing dot) or a loopback IP address (127.0.0.0/8, ::1, or ::ffff:127.x.x.x, with or without
// a zone).
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
