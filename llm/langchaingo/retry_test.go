package langchaingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autogpt-go/agent/llm"
)

// The tests of this file run in synctest bubbles: every wait is virtual time, so they assert
// exact delays without sleeping. The models talk to an in-memory RoundTripper (network I/O would
// not let virtual time advance), through the real langchaingo clients.

// scriptStep answers one request (or fails its round trip).
type scriptStep func(*http.Request) (*http.Response, error)

// sentRequest is one request the scripted transport received.
type sentRequest struct {
	at   time.Time
	path string
	body []byte
}

// scriptTransport serves its steps in order, one per request, and records what it received; a
// request beyond the script fails the test.
type scriptTransport struct {
	t     *testing.T
	mu    sync.Mutex
	steps []scriptStep
	sent  []sentRequest
}

func newScript(t *testing.T, steps ...scriptStep) *scriptTransport {
	return &scriptTransport{t: t, steps: steps}
}

func (s *scriptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	n := len(s.sent)
	s.sent = append(s.sent, sentRequest{at: time.Now(), path: r.URL.Path, body: body})
	s.mu.Unlock()
	if n >= len(s.steps) {
		s.t.Errorf("request %d was not expected (the script has %d)", n+1, len(s.steps))
		return nil, errors.New("script exhausted")
	}
	return s.steps[n](r)
}

func (s *scriptTransport) requests() []sentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentRequest(nil), s.sent...)
}

// gaps returns the virtual time between consecutive requests.
func (s *scriptTransport) gaps() []time.Duration {
	reqs := s.requests()
	var out []time.Duration
	for i := 1; i < len(reqs); i++ {
		out = append(out, reqs[i].at.Sub(reqs[i-1].at))
	}
	return out
}

func (s *scriptTransport) client() *http.Client { return &http.Client{Transport: s} }

// reply answers with status, body and header pairs.
func reply(status int, body string, header ...string) scriptStep {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{
			StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		}, nil
	}
}

// failWith fails the round trip with err.
func failWith(err error) scriptStep {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// brokenBody is a 200 event stream whose body fails with err after the events.
func brokenBody(err error, events ...string) scriptStep {
	return func(r *http.Request) (*http.Response, error) {
		var b strings.Builder
		for _, e := range events {
			fmt.Fprintf(&b, "data: %s\n\n", e)
		}
		return &http.Response{
			StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"text/event-stream"}},
			Body:          io.NopCloser(io.MultiReader(strings.NewReader(b.String()), errReader{err})),
			ContentLength: -1, Request: r,
		}, nil
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func connReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

const (
	rateLimited       = `{"error":{"message":"Rate limit reached for gpt-4o.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	quotaExceeded     = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
	serverUnavailable = `{"error":{"message":"The server is overloaded or not ready yet.","type":"server_error","param":null,"code":null}}`
	badRequest        = `{"error":{"message":"Invalid value for 'messages'.","type":"invalid_request_error","param":"messages","code":null}}`
	anthropicOverload = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
	anthropicLimited  = `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit."}}`
)

func retryOpenAI(t *testing.T, s *scriptTransport, opts ...Option) *Model {
	t.Helper()
	m, err := OpenAI("gpt-4o", testOpenAIKey, append([]Option{WithHTTPClient(s.client())}, opts...)...)
	require.NoError(t, err)
	return m
}

func retryAnthropic(t *testing.T, s *scriptTransport, opts ...Option) *Model {
	t.Helper()
	m, err := Anthropic("claude-sonnet-4-5", testAnthropicKey, append([]Option{WithHTTPClient(s.client())}, opts...)...)
	require.NoError(t, err)
	return m
}

func hello() *llm.Request {
	return &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
}

// requireAPIError returns err's *APIError, failing the test when there is none.
func requireAPIError(t *testing.T, err error) *APIError {
	t.Helper()
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	return apiErr
}

func TestRetryAfterSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(429, rateLimited, "Retry-After", "2"), reply(200, openAIText))
		start := time.Now()
		resp, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", resp.Message.Content)
		assert.Len(t, s.requests(), 2)
		assert.Equal(t, []time.Duration{2 * time.Second}, s.gaps())
		assert.Equal(t, 2*time.Second, time.Since(start))
	})
}

func TestRetryInsufficientQuotaNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(429, quotaExceeded, "Retry-After", "1"))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		apiErr := requireAPIError(t, err)
		assert.Equal(t, 429, apiErr.StatusCode)
		assert.Equal(t, "insufficient_quota", apiErr.Code)
		assert.Equal(t, 1, apiErr.Attempts)
		assert.False(t, apiErr.Retryable())
		assert.Len(t, s.requests(), 1)
	})
}

func TestRetry503ThenSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t,
			reply(503, serverUnavailable), reply(503, serverUnavailable), reply(503, serverUnavailable),
			reply(200, openAIText))
		resp, err := retryOpenAI(t, s, WithRetry(RetryPolicy{MaxRetries: 3})).Generate(t.Context(), hello())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", resp.Message.Content)
		// Backoff: 500 ms doubling, ±25% jitter.
		gaps := s.gaps()
		require.Len(t, gaps, 3)
		for i, base := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
			assert.GreaterOrEqual(t, gaps[i], base*3/4, "wait %d", i+1)
			assert.LessOrEqual(t, gaps[i], base*5/4+time.Nanosecond, "wait %d", i+1)
		}
	})
}

func TestRetryDefaultPolicyGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(503, serverUnavailable), reply(503, serverUnavailable), reply(503, serverUnavailable))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		apiErr := requireAPIError(t, err)
		assert.Equal(t, 503, apiErr.StatusCode)
		assert.Equal(t, "server_error", apiErr.Type)
		assert.Equal(t, 3, apiErr.Attempts)
		assert.True(t, apiErr.Retryable())
		assert.Len(t, s.requests(), 3)
	})
}

func TestRetryOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(503, serverUnavailable))
		_, err := retryOpenAI(t, s, WithRetry(RetryPolicy{MaxRetries: -1})).Generate(t.Context(), hello())
		assert.Equal(t, 1, requireAPIError(t, err).Attempts)
	})
}

func TestRetryNotForClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 413, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(t, reply(status, badRequest, "Retry-After", "1"))
				_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
				apiErr := requireAPIError(t, err)
				assert.Equal(t, status, apiErr.StatusCode)
				assert.Equal(t, 1, apiErr.Attempts)
				assert.Len(t, s.requests(), 1)
			})
		})
	}
}

func TestRetryShouldRetryFalse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(500, serverUnavailable, "X-Should-Retry", "false"))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		assert.Equal(t, 1, requireAPIError(t, err).Attempts)
	})
}

// The server's delay, from each header that carries one; the backoff interval before the first
// retry (at most 625 ms) is shorter than each.
func TestRetryServerDelayHeaders(t *testing.T) {
	for _, tc := range []struct {
		name   string
		first  func() scriptStep // built inside the bubble, where time.Now is virtual
		wait   time.Duration
		anthro bool
	}{
		{"retry-after http date", func() scriptStep {
			return reply(503, serverUnavailable, "Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
		}, 3 * time.Second, false},
		{"retry-after-ms", func() scriptStep {
			return reply(429, rateLimited, "Retry-After-Ms", "1500", "Retry-After", "2")
		}, 1500 * time.Millisecond, false},
		{"openai reset of the exhausted bucket", func() scriptStep {
			return reply(429, rateLimited,
				"X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "3s",
				"X-Ratelimit-Remaining-Tokens", "29000", "X-Ratelimit-Reset-Tokens", "6m0s")
		}, 3 * time.Second, false},
		{"openai resets, no bucket named", func() scriptStep {
			return reply(429, rateLimited, "X-Ratelimit-Reset-Requests", "1s", "X-Ratelimit-Reset-Tokens", "20ms")
		}, time.Second, false},
		{"anthropic reset of the exhausted bucket", func() scriptStep {
			now := time.Now()
			return reply(429, anthropicLimited,
				"Anthropic-Ratelimit-Requests-Remaining", "0",
				"Anthropic-Ratelimit-Requests-Reset", now.Add(4*time.Second).Format(time.RFC3339),
				"Anthropic-Ratelimit-Input-Tokens-Remaining", "10000",
				"Anthropic-Ratelimit-Input-Tokens-Reset", now.Add(30*time.Minute).Format(time.RFC3339))
		}, 4 * time.Second, true},
		{"anthropic 529 retry-after", func() scriptStep {
			return reply(529, anthropicOverload, "Retry-After", "5")
		}, 5 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var s *scriptTransport
				var m *Model
				if tc.anthro {
					s = newScript(t, tc.first(), reply(200, anthropicText))
					m = retryAnthropic(t, s)
				} else {
					s = newScript(t, tc.first(), reply(200, openAIText))
					m = retryOpenAI(t, s)
				}
				_, err := m.Generate(t.Context(), hello())
				require.NoError(t, err)
				assert.Equal(t, []time.Duration{tc.wait}, s.gaps())
			})
		})
	}
}

// Rate-limit reset headers come with every reply; they mean a wait only on a 429.
func TestRetryResetHeadersIgnoredOn5xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t,
			reply(503, serverUnavailable, "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "30s"),
			reply(200, openAIText))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.NoError(t, err)
		require.Len(t, s.gaps(), 1)
		assert.Less(t, s.gaps()[0], time.Second)
	})
}

func TestRetryDelayBeyondMaxRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy RetryPolicy
		header []string
		want   time.Duration
	}{
		{"retry-after over the default 60 s", RetryPolicy{}, []string{"Retry-After", "120"}, 2 * time.Minute},
		{"retry-after-ms over a 5 s cap", RetryPolicy{MaxRetryAfter: 5 * time.Second}, []string{"Retry-After-Ms", "6000"}, 6 * time.Second},
		{"openai token reset", RetryPolicy{}, []string{"X-Ratelimit-Remaining-Tokens", "0", "X-Ratelimit-Reset-Tokens", "6m0s"}, 6 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(t, reply(429, rateLimited, tc.header...))
				start := time.Now()
				_, err := retryOpenAI(t, s, WithRetry(tc.policy)).Generate(t.Context(), hello())
				apiErr := requireAPIError(t, err)
				assert.Equal(t, 429, apiErr.StatusCode)
				assert.Equal(t, tc.want, apiErr.RetryAfter)
				assert.Equal(t, 1, apiErr.Attempts)
				assert.Zero(t, time.Since(start), "no wait")
			})
		})
	}
}

func TestRetryConnectionReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, failWith(connReset()), reply(200, openAIText))
		resp, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", resp.Message.Content)
		assert.Len(t, s.requests(), 2)
	})
}

func TestRetryTransportErrorsGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, failWith(connReset()), failWith(io.EOF), failWith(connReset()))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.ErrorIs(t, err, syscall.ECONNRESET) // the last attempt's error
		assert.Len(t, s.requests(), 3)
	})
}

func TestRetryNotForOtherTransportErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errNoRecording := errors.New("no recorded interaction for this request")
		s := newScript(t, failWith(errNoRecording))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.ErrorIs(t, err, errNoRecording)
		assert.Len(t, s.requests(), 1)
	})
}

func TestRetryWaitCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(429, rateLimited, "Retry-After", "30"))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := retryOpenAI(t, s).Generate(ctx, hello())
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "context canceled (waiting 30s to retry, after 1 attempt)")
		assert.Equal(t, time.Second, time.Since(start))
		assert.Len(t, s.requests(), 1)
	})
}

// A deadline that passes before the retry's wait would end fails the call at once (it used to
// wait until the deadline), with the reply's *APIError and context.DeadlineExceeded.
func TestRetryWaitDeadline(t *testing.T) {
	for _, tc := range []struct {
		name       string
		step       scriptStep
		deadline   time.Duration
		retryAfter time.Duration
	}{
		{"Retry-After beyond the deadline", reply(429, rateLimited, "Retry-After", "30"), 5 * time.Second, 30 * time.Second},
		{"Retry-After at the deadline", reply(503, serverUnavailable, "Retry-After", "3"), 3 * time.Second, 3 * time.Second},
		{"backoff beyond the deadline", reply(503, serverUnavailable), 100 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(t, tc.step)
				ctx, cancel := context.WithTimeout(t.Context(), tc.deadline)
				defer cancel()
				start := time.Now()
				_, err := retryOpenAI(t, s).Generate(ctx, hello())
				require.ErrorIs(t, err, context.DeadlineExceeded)
				apiErr := requireAPIError(t, err)
				assert.Equal(t, tc.retryAfter, apiErr.RetryAfter)
				assert.Equal(t, 1, apiErr.Attempts)
				assert.Zero(t, time.Since(start), "no wait")
				assert.Len(t, s.requests(), 1)
				assert.Contains(t, err.Error(), "context deadline exceeded (waiting ")
				assert.Contains(t, err.Error(), "to retry would pass ctx's deadline")
				assert.Contains(t, err.Error(), "after 1 attempt): openai: HTTP ")
			})
		})
	}
	t.Run("stream", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, reply(429, rateLimited, "Retry-After", "30"))
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, final, err := streamText(t, retryOpenAI(t, s), ctx)
			assert.Nil(t, final)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, 30*time.Second, requireAPIError(t, err).RetryAfter)
		})
	})
	t.Run("transport error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, failWith(connReset()))
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := retryOpenAI(t, s).Generate(ctx, hello())
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.ErrorIs(t, err, syscall.ECONNRESET, "the last attempt's error")
			assert.Zero(t, time.Since(start), "no wait")
			assert.Len(t, s.requests(), 1)
		})
	})
	t.Run("deadline after the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, reply(429, rateLimited, "Retry-After", "2"), reply(200, openAIText))
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			resp, err := retryOpenAI(t, s).Generate(ctx, hello())
			require.NoError(t, err)
			assert.Equal(t, "Hello there.", resp.Message.Content)
			assert.Equal(t, []time.Duration{2 * time.Second}, s.gaps())
		})
	})
}

// When ctx ends during the wait, the reply that was to be retried stays reachable (it used to be
// dropped: only ctx's error was left).
func TestRetryWaitCancelledKeepsAPIError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(429, rateLimited, "Retry-After", "30"))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(time.Second, cancel)
		_, err := retryOpenAI(t, s).Generate(ctx, hello())
		require.ErrorIs(t, err, context.Canceled)
		apiErr := requireAPIError(t, err)
		assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
		assert.Equal(t, "rate_limit_exceeded", apiErr.Code)
		assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
		assert.Equal(t, 1, apiErr.Attempts)
		assert.True(t, strings.HasPrefix(err.Error(), "langchaingo openai gpt-4o: context canceled (waiting 30s to retry, after 1 attempt): openai: HTTP 429"), err.Error())
	})
	t.Run("transport error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, failWith(connReset()))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err := retryOpenAI(t, s).Generate(ctx, hello())
			require.ErrorIs(t, err, context.Canceled)
			require.ErrorIs(t, err, syscall.ECONNRESET, "the last attempt's error")
		})
	})
	t.Run("anthropic", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, reply(529, anthropicOverload, "Retry-After", "30"))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			time.AfterFunc(time.Second, cancel)
			_, err := retryAnthropic(t, s).Generate(ctx, hello())
			require.ErrorIs(t, err, context.Canceled)
			apiErr := requireAPIError(t, err)
			assert.Equal(t, 529, apiErr.StatusCode)
			assert.Equal(t, "overloaded_error", apiErr.Type)
		})
	})
}

// A transport error that ends the retries says how many requests were sent (it used to be the
// bare error of the last one), and stays reachable with errors.Is and errors.As.
func TestRetryTransportErrorCountsAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, failWith(connReset()), failWith(connReset()), failWith(connReset()))
		_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.ErrorIs(t, err, syscall.ECONNRESET)
		var opErr *net.OpError
		require.ErrorAs(t, err, &opErr)
		assert.Contains(t, err.Error(), "connection reset by peer (after 3 attempts)")
		assert.Len(t, s.requests(), 3)
	})
	t.Run("a final error after a retry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			errNoRecording := errors.New("no recorded interaction for this request")
			s := newScript(t, failWith(connReset()), failWith(errNoRecording))
			_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
			require.ErrorIs(t, err, errNoRecording)
			assert.Contains(t, err.Error(), "no recorded interaction for this request (after 2 attempts)")
		})
	})
	t.Run("one attempt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, failWith(connReset()))
			_, err := retryOpenAI(t, s, WithRetry(RetryPolicy{MaxRetries: -1})).Generate(t.Context(), hello())
			require.ErrorIs(t, err, syscall.ECONNRESET)
			assert.NotContains(t, err.Error(), "attempt")
		})
	})
}

// "x-should-retry: true" makes any error status retryable, as in the official SDKs; but not
// OpenAI's insufficient_quota.
func TestRetryShouldRetryTrue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(400, badRequest, "X-Should-Retry", "true"), reply(200, openAIText))
		resp, err := retryOpenAI(t, s).Generate(t.Context(), hello())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", resp.Message.Content)
		assert.Len(t, s.requests(), 2)
	})
	t.Run("gives up like any retry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := reply(404, `{"error":{"message":"no such deployment","type":"invalid_request_error"}}`, "X-Should-Retry", "true")
			s := newScript(t, r, r, r)
			_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
			apiErr := requireAPIError(t, err)
			assert.Equal(t, 3, apiErr.Attempts)
			assert.True(t, apiErr.Retryable())
		})
	})
	t.Run("insufficient_quota", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, reply(429, quotaExceeded, "X-Should-Retry", "true"))
			_, err := retryOpenAI(t, s).Generate(t.Context(), hello())
			apiErr := requireAPIError(t, err)
			assert.Equal(t, 1, apiErr.Attempts)
			assert.False(t, apiErr.Retryable())
		})
	})
}

var retryStreamEvents = []string{
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}`,
	`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":" there."},"finish_reason":null}]}`,
}

// streamText runs m.Stream and returns the text deltas, the final answer and the error.
func streamText(t *testing.T, m *Model, ctx context.Context) (string, *llm.Response, error) {
	t.Helper()
	var text strings.Builder
	var final *llm.Response
	for c, err := range m.Stream(ctx, hello()) {
		if err != nil {
			return text.String(), final, err
		}
		text.WriteString(c.Text)
		if c.Response != nil {
			final = c.Response
		}
	}
	return text.String(), final, nil
}

// A 200 stream that breaks after text reached the caller is an error, never sent again, even
// when the break is a connection reset (retryable before a reply).
func TestRetryNeverAfterStreamStarted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cause error
		is    error
	}{
		{"connection reset", connReset(), syscall.ECONNRESET},
		{"cut short", io.ErrUnexpectedEOF, ErrIncompleteResponse},
		{"ended without terminator", io.EOF, ErrIncompleteResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(t, brokenBody(tc.cause, retryStreamEvents...))
				text, final, err := streamText(t, retryOpenAI(t, s), t.Context())
				assert.Equal(t, "Hello there.", text, "the text was yielded before the break")
				assert.Nil(t, final)
				require.ErrorIs(t, err, tc.is)
				assert.Len(t, s.requests(), 1)
			})
		})
	}
}

// Before the 200 status line, a stream's request is retried like any other.
func TestRetryStreamBeforeReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(t, reply(502, "<html>bad gateway</html>"),
			brokenBody(io.EOF, append(retryStreamEvents, `[DONE]`)...))
		text, final, err := streamText(t, retryOpenAI(t, s), t.Context())
		require.NoError(t, err)
		assert.Equal(t, "Hello there.", text)
		require.NotNil(t, final)
		assert.Equal(t, "Hello there.", final.Message.Content)
		assert.Len(t, s.requests(), 2)
	})
}

// Every attempt sends the bytes of the first, rewritten request (schema verbatim, temperature
// dropped for a reasoning model), for both wire formats.
func TestRetrySameBody(t *testing.T) {
	req := &llm.Request{
		Messages:    []llm.Message{{Role: llm.RoleUser, Content: "find it"}},
		Tools:       []llm.ToolSpec{{Name: "search", Description: "Search.", Parameters: json.RawMessage(searchSchema)}},
		Temperature: ptr(0.3),
	}
	t.Run("openai", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, reply(500, serverUnavailable), failWith(connReset()), reply(200, openAIText))
			_, err := retryOpenAI(t, s).Generate(t.Context(), req)
			require.NoError(t, err)
			reqs := s.requests()
			require.Len(t, reqs, 3)
			assert.Contains(t, string(reqs[0].body), searchSchema)
			for _, r := range reqs[1:] {
				assert.Equal(t, string(reqs[0].body), string(r.body))
				assert.Equal(t, reqs[0].path, r.path)
			}
		})
	})
	t.Run("anthropic", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(t, reply(529, anthropicOverload), reply(200, anthropicText))
			_, err := retryAnthropic(t, s).Generate(t.Context(), req)
			require.NoError(t, err)
			reqs := s.requests()
			require.Len(t, reqs, 2)
			assert.Contains(t, string(reqs[0].body), searchSchema)
			assert.Equal(t, string(reqs[0].body), string(reqs[1].body))
		})
	})
}

// ---- the classification, unit by unit ----

func TestRetryableStatusTable(t *testing.T) {
	for status, want := range map[int]bool{
		200: false, 201: false, 301: false, 400: false, 401: false, 403: false, 404: false,
		408: true, 409: true, 413: false, 422: false, 429: true,
		500: true, 501: true, 502: true, 503: true, 504: true, 529: true, 599: true, 600: false,
	} {
		assert.Equal(t, want, retryableStatus(status), "status %d", status)
	}
	assert.False(t, retryableReply(429, nil, []byte(quotaExceeded)))
	assert.False(t, retryableReply(429, nil, []byte(`{"error":{"type":"insufficient_quota","message":"x"}}`)))
	assert.False(t, retryableReply(429, nil, []byte(`{"error":{"code":"insufficient_quota","message":"x"}}`)))
	assert.True(t, retryableReply(429, nil, []byte(rateLimited)))
	assert.True(t, retryableReply(429, nil, []byte(anthropicLimited)))
	assert.True(t, retryableReply(529, nil, []byte(anthropicOverload)))
	assert.True(t, retryableReply(503, nil, []byte("<html>unavailable</html>")))
	// The classification never reads message text.
	assert.True(t, retryableReply(429, nil, []byte(`{"error":{"message":"insufficient_quota","code":"rate_limit_exceeded"}}`)))
	assert.False(t, retryableReply(503, http.Header{"X-Should-Retry": {"false"}}, nil))

	// APIError.Retryable agrees.
	assert.False(t, (&APIError{StatusCode: 429, Code: "insufficient_quota"}).Retryable())
	assert.False(t, (&APIError{StatusCode: 429, Type: "insufficient_quota"}).Retryable())
	assert.False(t, (&APIError{StatusCode: 503, Header: http.Header{"X-Should-Retry": {"false"}}}).Retryable())
	assert.True(t, (&APIError{StatusCode: 529, Type: "overloaded_error"}).Retryable())
	assert.False(t, (&APIError{StatusCode: 400}).Retryable())
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestRetryableErrorTable(t *testing.T) {
	ctx := t.Context()
	wrap := func(err error) error { return &urlError{err} }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection reset", wrap(connReset()), true},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{"dial error", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("network is unreachable")}), true},
		{"no such host", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}), false},
		{"broken pipe", wrap(&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}), true},
		{"EOF before a reply", wrap(io.EOF), true},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true},
		{"timeout", wrap(timeoutError{}), true},
		{"a transport's deadline", wrap(context.DeadlineExceeded), true},
		{"other", wrap(errors.New("x509: certificate signed by unknown authority")), false},
		{"the guard", ErrRealProviderInTest, false},
	} {
		assert.Equal(t, tc.want, retryableError(ctx, tc.err), tc.name)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.False(t, retryableError(cancelled, wrap(connReset())), "ctx ended")
	assert.False(t, retryableError(cancelled, wrap(context.Canceled)), "ctx ended")
}

// urlError stands for the *url.Error http.Client wraps errors in.
type urlError struct{ err error }

func (e *urlError) Error() string { return "Post: " + e.err.Error() }
func (e *urlError) Unwrap() error { return e.err }

func TestServerDelay(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		want   time.Duration
	}{
		{"none", 429, h(), 0},
		{"seconds", 503, h("Retry-After", "7"), 7 * time.Second},
		{"http date", 503, h("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{"date past", 503, h("Retry-After", now.Add(-time.Minute).Format(http.TimeFormat)), 0},
		{"ms first", 429, h("Retry-After-Ms", "250.5", "Retry-After", "9"), 250500 * time.Microsecond},
		{"bad ms falls back", 429, h("Retry-After-Ms", "soon", "Retry-After", "9"), 9 * time.Second},
		{"zero wins over resets", 429, h("Retry-After", "0", "X-Ratelimit-Reset-Requests", "5s"), 0},
		{"openai durations", 429, h("X-Ratelimit-Reset-Requests", "20ms", "X-Ratelimit-Reset-Tokens", "1m30s"), 90 * time.Second},
		{"openai exhausted", 429, h("X-Ratelimit-Reset-Requests", "20ms", "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Tokens", "1m30s"), 20 * time.Millisecond},
		{"resets ignored on 503", 503, h("X-Ratelimit-Reset-Requests", "5s"), 0},
		{"anthropic", 429, h("Anthropic-Ratelimit-Output-Tokens-Reset", now.Add(12*time.Second).Format(time.RFC3339),
			"Anthropic-Ratelimit-Output-Tokens-Remaining", "0",
			"Anthropic-Ratelimit-Tokens-Reset", now.Add(time.Hour).Format(time.RFC3339)), 12 * time.Second},
		{"anthropic past", 429, h("Anthropic-Ratelimit-Requests-Reset", now.Add(-time.Second).Format(time.RFC3339)), 0},
		{"unreadable", 429, h("X-Ratelimit-Reset-Requests", "soon", "Anthropic-Ratelimit-Requests-Reset", "tomorrow"), 0},
	} {
		assert.Equal(t, tc.want, serverDelay(tc.status, tc.header, now), tc.name)
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	assert.Equal(t, RetryPolicy{MaxRetries: 2, InitialInterval: 500 * time.Millisecond, MaxInterval: 8 * time.Second, MaxRetryAfter: time.Minute},
		RetryPolicy{}.withDefaults())
	assert.Equal(t, -1, RetryPolicy{MaxRetries: -1}.withDefaults().MaxRetries)
}
