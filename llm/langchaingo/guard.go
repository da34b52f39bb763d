package langchaingo

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
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
// not loopback: its HTTP client is nil or http.DefaultClient, or its Transport is nil,
// http.DefaultTransport or any *http.Transport. Nothing is sent. Loopback hosts (localhost,
// 127.0.0.0/8, ::1: httptest servers) and custom RoundTrippers (llmtest.Replay, recorders, fakes)
// pass. Tests must not spend a developer's key or depend on the network; to allow it, build the
// model with AllowRealProviderInTests or set AUTOGPT_ALLOW_REAL_PROVIDER=1 (AllowRealProviderEnv).
// Outside tests the guard does nothing.
var ErrRealProviderInTest = errors.New("langchaingo: a test tried to reach a real provider " +
	"(allow it with the option AllowRealProviderInTests() or the environment variable " +
	AllowRealProviderEnv + "=1)")

// AllowRealProviderInTests lets a model built by OpenAI, OpenAICompatible, Anthropic or FromEnv
// reach a real provider from a test binary (see ErrRealProviderInTest), for that model only. It
// has no effect outside tests; New ignores it.
func AllowRealProviderInTests() Option {
	return func(o *options) { o.allowReal = true }
}

// guard returns an error matching ErrRealProviderInTest when req, in a test binary, would go
// over the real network to a host that is not loopback.
func (d *doer) guard(client *http.Client, req *http.Request) error {
	if d.allowReal || !testing.Testing() || !realNetwork(client) || isLoopback(req.URL.Hostname()) {
		return nil
	}
	if on, err := strconv.ParseBool(strings.TrimSpace(os.Getenv(AllowRealProviderEnv))); err == nil && on {
		return nil
	}
	return fmt.Errorf("%w: refused a request to %s", ErrRealProviderInTest, req.URL.Host)
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

// isLoopback reports whether host (without port) is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1, or ::ffff:127.x.x.x).
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
