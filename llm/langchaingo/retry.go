package langchaingo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// RetryPolicy bounds the retries of the HTTP layer under the models built by OpenAI,
// OpenAICompatible, Anthropic and FromEnv (see Retries in the package documentation). Its zero
// value is the default policy; a zero field takes its default.
//
// The wait before retry n (n = 1, 2, ...) is the larger of an exponential backoff interval and the
// delay the server asks for. The backoff interval is InitialInterval × 2^(n-1), capped at
// MaxInterval, with ±25% random jitter (and never above MaxInterval), computed by
// github.com/cenkalti/backoff/v5. The defaults (2 retries, 0.5 s doubling up to 8 s) are those of
// the official OpenAI and Anthropic SDKs.
type RetryPolicy struct {
	// MaxRetries is the number of requests sent after the first one, at most: 0 means the default,
	// 2 (so at most 3 requests per call); a negative value turns retries off (1 request).
	MaxRetries int

	// InitialInterval is the backoff interval before the first retry; 0 or less means 500 ms.
	InitialInterval time.Duration

	// MaxInterval caps the backoff interval; 0 or less means 8 s. It does not cap a delay the
	// server asks for (see MaxRetryAfter).
	MaxInterval time.Duration

	// MaxRetryAfter is the longest delay asked for by the server that the policy waits for; 0 or
	// less means 60 s. When a retryable reply asks for more, no retry is made: the call fails at
	// once with that reply's *APIError, whose RetryAfter holds the delay, so the caller can decide.
	MaxRetryAfter time.Duration
}

// Defaults of RetryPolicy.
const (
	defaultMaxRetries      = 2
	defaultInitialInterval = 500 * time.Millisecond
	defaultMaxInterval     = 8 * time.Second
	defaultMaxRetryAfter   = 60 * time.Second
	retryJitter            = 0.25 // ± fraction of the backoff interval
	retryMultiplier        = 2
)

// WithRetry sets the retry policy of the models built by OpenAI, OpenAICompatible, Anthropic and
// FromEnv; without it they use the default policy, RetryPolicy{} (at most 2 retries, backoff from
// 500 ms to 8 s, server-requested delays up to 60 s honoured). WithRetry(RetryPolicy{MaxRetries:
// -1}) turns retries off. New ignores it: a wrapped llms.Model sends requests with its own client.
//
// A retry re-sends the same request body. Only a reply's status line (or the failure to get
// one) decides: a 200 reply is never retried, so a streamed reply that breaks after text reached
// the caller fails (with ErrIncompleteResponse or the transport's error) and is never silently
// sent again. Which replies and errors are retried is listed under Retries in the package
// documentation. A wait that ctx's deadline would cut short is not started: the call fails at
// once, matching context.DeadlineExceeded and the reply's *APIError. Every wait ends early when
// ctx ends, with an error matching ctx.Err() that still carries the reply's *APIError (or the
// transport's error). When the retries run out, the call fails with the last attempt's error:
// for a non-200 reply an *APIError whose Attempts counts the requests sent; for a transport
// failure the transport's error (errors.Is and errors.As see through), whose text ends with the
// count, "(after 3 attempts)", when more than one request was sent.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// withDefaults returns p with every zero field set to its default.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = defaultMaxRetries
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = defaultInitialInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = defaultMaxInterval
	}
	if p.MaxInterval < p.InitialInterval {
		p.MaxInterval = p.InitialInterval
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = defaultMaxRetryAfter
	}
	return p
}

// sent is the outcome of RetryPolicy.send.
type sent struct {
	resp     *http.Response // the last reply (nil when err is set); a non-200 reply's body is readable
	attempts int            // requests sent
	err      error          // the last round trip's error, or why sending stopped
	// stop, with a reply, says why that retryable reply was not retried: ctx ended during the
	// wait, or its deadline would pass before the wait ends. It matches ctx.Err() or
	// context.DeadlineExceeded; the call fails with it and the reply's *APIError.
	stop error
}

// send sends req with client, retrying as the policy allows, and returns the last reply or error
// with the number of requests sent. A returned non-200 reply's body is readable (it was buffered
// when the retry decision needed it). The caller has checked the request may be sent at all.
func (p RetryPolicy) send(client *http.Client, req *http.Request) sent {
	p = p.withDefaults()
	if p.MaxRetries > 0 && req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		// Every attempt sends the same bytes: keep them (the constructors' requests already have
		// GetBody; this is for any other).
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return sent{err: fmt.Errorf("reading request body: %w", err)}
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	ctx := req.Context()
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     p.InitialInterval,
		RandomizationFactor: retryJitter,
		Multiplier:          retryMultiplier,
		MaxInterval:         p.MaxInterval,
	}
	bo.Reset()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return sent{attempts: attempt - 1, err: fmt.Errorf("re-reading request body for a retry: %w", err)}
				}
				r.Body = body
			}
		}
		resp, err := client.Do(r)
		last := attempt > p.MaxRetries
		var hint time.Duration
		switch {
		case err != nil:
			if last || !retryableError(ctx, err) {
				if attempt > 1 { // the count, which only an APIError carries otherwise
					err = fmt.Errorf("%w (after %s)", err, plural(attempt, "attempt"))
				}
				return sent{attempts: attempt, err: err}
			}
		case last || resp.StatusCode < 400 || !retryableStatus(resp.StatusCode) && !shouldRetry(resp.Header):
			return sent{resp: resp, attempts: attempt}
		default:
			// Buffer the error body: the decision needs its code, and the final reply is read again.
			b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // let the connection be reused
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(b))
			if !retryableReply(resp.StatusCode, resp.Header, b) {
				return sent{resp: resp, attempts: attempt}
			}
			hint = serverDelay(resp.StatusCode, resp.Header, time.Now())
			if hint > p.MaxRetryAfter {
				return sent{resp: resp, attempts: attempt} // the caller decides: APIError.RetryAfter says how long
			}
		}
		wait := min(bo.NextBackOff(), p.MaxInterval)
		wait = max(wait, hint)
		var stop error
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			// Waiting cannot lead to a reply: fail now rather than when the deadline passes.
			stop = fmt.Errorf("%w (waiting %v to retry would pass ctx's deadline, %v away; after %s)",
				context.DeadlineExceeded, wait, max(time.Until(deadline), 0), plural(attempt, "attempt"))
		} else {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				stop = fmt.Errorf("%w (waiting %v to retry, after %s)", ctx.Err(), wait, plural(attempt, "attempt"))
			}
		}
		if stop != nil {
			if err != nil {
				return sent{attempts: attempt, err: fmt.Errorf("%w: %w", stop, err)}
			}
			return sent{resp: resp, attempts: attempt, stop: stop}
		}
	}
}

// retryableStatus reports whether a reply with this status may be retried, before its body and
// headers are looked at: 408 request timeout, 409 conflict (OpenAI: lock timeout), 429 rate
// limit, and every 5xx, Anthropic's 529 overloaded included.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return status >= 500 && status <= 599
}

// retryableReply decides whether a non-200 reply is retried, from its status, headers and error
// body: OpenAI's insufficient_quota (a billing error sent as 429, as error code or type) never
// is; otherwise the header x-should-retry, sent by OpenAI and Anthropic and honoured by their
// official SDKs, decides when it is "true" or "false" (for an error status, 400 and above); and
// without it, the status does (retryableStatus).
//
// insufficient_quota wins over "x-should-retry: true": the account is out of credit, which no
// wait within one call repairs, so a retry only delays the error.
func retryableReply(status int, header http.Header, body []byte) bool {
	if status < 400 {
		return false
	}
	var shape struct {
		Error struct {
			Type string `json:"type"`
			Code any    `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &shape) == nil {
		code, _ := shape.Error.Code.(string)
		if code == "insufficient_quota" || shape.Error.Type == "insufficient_quota" {
			return false
		}
	}
	switch strings.ToLower(strings.TrimSpace(header.Get("X-Should-Retry"))) {
	case "true":
		return true
	case "false":
		return false
	}
	return retryableStatus(status)
}

// shouldRetry reports whether the reply's headers ask for a retry ("x-should-retry: true").
func shouldRetry(header http.Header) bool {
	return strings.EqualFold(strings.TrimSpace(header.Get("X-Should-Retry")), "true")
}

// retryableError reports whether a failed round trip may be retried: a connection reset, refused
// or aborted, a broken pipe, EOF before a reply, any other dial error (except a host name that does
// not exist), or a timeout of the transport (net.Error). Never when ctx, the call's context, has
// ended: its cancellation or deadline ends the call.
func retryableError(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, ErrRealProviderInTest) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// serverDelay returns the delay a reply asks for before a retry, 0 when it asks for none. In
// order, the first present and readable:
//
//   - retry-after-ms: milliseconds, a decimal number. Not standard: sent by OpenAI and read by the
//     official OpenAI and Anthropic SDKs (openai-python and anthropic-sdk-python,
//     _base_client.py).
//   - Retry-After: delay-seconds or an HTTP date (RFC 9110, section 10.2.3); sent by both
//     providers on 429 and overload replies.
//   - For a 429 only, the rate-limit reset headers, which both providers send on every reply
//     (they describe the rate-limit buckets, so they mean a wait only when the request was
//     refused for a rate limit): OpenAI's x-ratelimit-reset-requests and
//     x-ratelimit-reset-tokens, durations such as "1s", "6m0s" or "20ms"
//     (https://platform.openai.com/docs/guides/rate-limits, "Rate limits in headers"), and
//     Anthropic's anthropic-ratelimit-requests-reset, -tokens-reset, -input-tokens-reset and
//     -output-tokens-reset, RFC 3339 times (https://docs.anthropic.com/en/api/rate-limits,
//     "Response headers"). Each resets one bucket fully; the delay is the latest reset among
//     the buckets whose x-ratelimit-remaining-* or anthropic-ratelimit-*-remaining header says 0,
//     or among all of them when none does.
func serverDelay(status int, header http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(header.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < float64(365*24*time.Hour/time.Millisecond) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if d := parseRetryAfter(header.Get("Retry-After"), now); d > 0 || strings.TrimSpace(header.Get("Retry-After")) == "0" {
		return d
	}
	if status != http.StatusTooManyRequests {
		return 0
	}
	type bucket struct {
		reset     time.Duration
		exhausted bool
	}
	var buckets []bucket
	add := func(remaining string, reset time.Duration, ok bool) {
		if ok {
			buckets = append(buckets, bucket{reset, strings.TrimSpace(header.Get(remaining)) == "0"})
		}
	}
	for _, b := range []string{"requests", "tokens"} {
		d, ok := parseResetDuration(header.Get("X-Ratelimit-Reset-" + b))
		add("X-Ratelimit-Remaining-"+b, d, ok)
	}
	for _, b := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
		d, ok := parseResetTime(header.Get("Anthropic-Ratelimit-"+b+"-Reset"), now)
		add("Anthropic-Ratelimit-"+b+"-Remaining", d, ok)
	}
	var all, exhausted time.Duration
	var anyExhausted bool
	for _, b := range buckets {
		all = max(all, b.reset)
		if b.exhausted {
			anyExhausted = true
			exhausted = max(exhausted, b.reset)
		}
	}
	if anyExhausted {
		return exhausted
	}
	return all
}

// parseResetDuration reads OpenAI's x-ratelimit-reset-* value, a Go-style duration ("1s", "6m0s",
// "20ms", "1.5s"); a bare number is taken as seconds.
func parseResetDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, true
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < float64(365*24*time.Hour/time.Second) {
		return time.Duration(s * float64(time.Second)), true
	}
	return 0, false
}

// parseResetTime reads Anthropic's anthropic-ratelimit-*-reset value, an RFC 3339 time, as the
// delay from now (0 for a time past).
func parseResetTime(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
