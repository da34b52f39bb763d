package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	agent "github.com/autogpt-go/agent"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultCloseTimeout is how long Close waits for a stdio server to exit after closing its stdin
// before it sends SIGTERM, and again after SIGTERM before SIGKILL (Config.CloseTimeout 0).
const DefaultCloseTimeout = 5 * time.Second

// DefaultClientName is the client name sent in the initialize request when Config.ClientName is "".
const DefaultClientName = "autogpt-go"

// cancelNotifyWait bounds how long Close waits for the cancellation notifications of the calls it
// cancelled to reach a streamable HTTP server.
const cancelNotifyWait = time.Second

// stderrTail is how many bytes of a stdio server's standard error are kept to explain a failed
// Connect.
const stderrTail = 2048

// Errors a Client returns (test with errors.Is).
var (
	// ErrConfig is wrapped by the error Connect returns for an unusable Config.
	ErrConfig = errors.New("mcp: invalid config")
	// ErrClosed is wrapped by the error of a tool call cut short, or attempted, after Close.
	ErrClosed = errors.New("mcp: client closed")
)

// DefaultInheritEnv returns the names of the variables a stdio server inherits from this process
// when Config.InheritEnv is nil: on Unix-like systems HOME, LOGNAME, PATH, SHELL, TERM and USER; on
// Windows the variables a program needs to find its files and temporary directory. These are the
// variables the MCP reference SDK for TypeScript passes by default (getDefaultEnvironment); none of
// them usually holds a secret. The result is a new slice on every call.
func DefaultInheritEnv() []string {
	if runtime.GOOS == "windows" {
		return []string{"APPDATA", "HOMEDRIVE", "HOMEPATH", "LOCALAPPDATA", "PATH", "PROCESSOR_ARCHITECTURE",
			"SYSTEMDRIVE", "SYSTEMROOT", "TEMP", "USERNAME", "USERPROFILE", "PROGRAMFILES"}
	}
	return []string{"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"}
}

// Config says how to reach an MCP server. Set exactly one of Command (stdio), URL (streamable HTTP)
// and Transport (anything else).
type Config struct {
	// Command is the program of a stdio server (newline-delimited JSON-RPC on its standard input and
	// output), started by Connect and stopped by Close; it is looked up in this process's PATH when
	// it has no slash. Args are its arguments, without the program name.
	Command string
	Args    []string
	// Env holds "KEY=value" entries added to the server's environment. The environment starts
	// empty: only the variables named by InheritEnv are copied from this process, so the host's
	// secrets (API keys) reach the server only when Env passes them. Later entries win.
	Env []string
	// InheritEnv names the variables copied from this process's environment into the server's
	// (those unset here are skipped); nil means DefaultInheritEnv(), an empty non-nil slice none.
	InheritEnv []string
	// Dir is the server's working directory; "" means this process's.
	Dir string
	// Stderr receives the server's standard error; nil discards it (its last 2 KiB still explain a
	// failed Connect).
	Stderr io.Writer
	// CloseTimeout is how long Close waits for the stdio server to exit once its standard input is
	// closed before sending SIGTERM, and then before SIGKILL; 0 means DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration

	// URL is the endpoint of a server that speaks the streamable HTTP transport (MCP 2025-03-26 and
	// later), for example http://127.0.0.1:3001/mcp.
	URL string
	// HTTPClient sends the HTTP requests; nil means http.DefaultClient. Its Timeout should be 0:
	// the server may keep a stream open for the session's lifetime; bound calls with their ctx.
	HTTPClient *http.Client

	// Transport is any other transport of the MCP Go SDK (sdk.NewInMemoryTransports in tests, a
	// custom one). A *sdk.StreamableClientTransport is handled like URL.
	Transport sdk.Transport

	// Prefix is prepended to every tool name (for example "fs_") so that tools of several servers
	// cannot clash. See Client for how names are made valid agent tool names.
	Prefix string
	// ClientName and ClientVersion are sent in the initialize request; "" means DefaultClientName
	// and this module's version as the build records it ("devel" when unknown).
	ClientName    string
	ClientVersion string
	// Logger receives the SDK's records; nil logs nothing.
	Logger *slog.Logger
}

// Client is a connection to one MCP server whose tools are offered as agent tools.
//
// Each server tool becomes a *Tool: its name is Config.Prefix plus the server's name, with every
// character outside [a-zA-Z0-9_-] replaced by '_'; a name longer than 64 bytes, or one that an
// earlier tool of the same server already took, is cut and ends in '_' and 8 hex digits of a hash
// of the server's name (stable from one connection to the next). Calls map back to the server's
// name. The list is read once, by Connect (all pages); a server that changes its tools later is not
// followed: connect again.
//
// A Client is safe for concurrent use; its tools may be called concurrently.
type Client struct {
	session *sdk.ClientSession
	tools   []agent.Tool
	what    string
	// closed is cancelled by Close, which cancels the calls in flight: the SDK's Close waits for
	// them otherwise. mu orders the start of a call (calls.Add) before Close's calls.Wait.
	closed context.Context
	close  context.CancelFunc
	mu     sync.Mutex
	calls  sync.WaitGroup
	// cancels counts the cancellation notifications of calls, for streamable HTTP (nil otherwise).
	cancels *cancelTracker

	closeOnce sync.Once
	closeErr  error
}

// Connect starts or dials the server described by cfg, performs the MCP initialize handshake and
// lists the server's tools (following pagination). ctx bounds the handshake and the listing only,
// not the session: a stdio server runs until Close. A server that has no tools capability gives a
// Client with no tools.
//
// It returns an error wrapping ErrConfig for an unusable cfg, and otherwise the failure to start
// the program, to connect, to initialize or to list (for a stdio server with the end of its
// standard error). On error nothing is left running.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	capture, cancels := newSchemaCapture(), &cancelTracker{}
	transport, stderr, what, err := cfg.transport(capture, cancels)
	if err != nil {
		return nil, err
	}
	name, version := cfg.ClientName, cfg.ClientVersion
	if name == "" {
		name = DefaultClientName
	}
	if version == "" {
		version = moduleVersion()
	}
	opts := &sdk.ClientOptions{
		Logger: cfg.Logger,
		// No roots, sampling or elicitation: the client only lists and calls tools.
		Capabilities: &sdk.ClientCapabilities{},
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sc := sdk.NewClient(&sdk.Implementation{Name: name, Version: version}, opts)
	session, err := sc.Connect(ctx, transport, nil)
	if err != nil {
		return nil, fmt.Errorf("mcp: connecting to %s: %w%s", what, err, stderr.note())
	}
	c := newClient(session, what)
	if _, ok := transport.(*sdk.StreamableClientTransport); ok {
		c.cancels = cancels
	}
	if err := c.list(ctx, cfg.Prefix, capture); err != nil {
		_ = session.Close()
		return nil, fmt.Errorf("mcp: listing the tools of %s: %w%s", what, err, stderr.note())
	}
	return c, nil
}

func newClient(session *sdk.ClientSession, what string) *Client {
	c := &Client{session: session, what: what}
	c.closed, c.close = context.WithCancel(context.Background())
	return c
}

// list reads the server's tools into c.tools.
func (c *Client) list(ctx context.Context, prefix string, capture *schemaCapture) error {
	if init := c.session.InitializeResult(); init == nil || init.Capabilities == nil || init.Capabilities.Tools == nil {
		return nil
	}
	n := newNamer(prefix)
	seen := make(map[string]bool)
	for t, err := range c.session.Tools(ctx, nil) {
		if err != nil {
			return err
		}
		if t == nil || seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		schema, ok := capture.schema(t.Name)
		if !ok && t.InputSchema != nil {
			b, err := json.Marshal(t.InputSchema)
			if err != nil {
				return fmt.Errorf("tool %q: input schema: %w", t.Name, err)
			}
			schema = b
		}
		desc := t.Description
		if desc == "" {
			desc = t.Title
		}
		c.tools = append(c.tools, &Tool{
			client:      c,
			name:        n.name(t.Name),
			remote:      t.Name,
			description: desc,
			schema:      schema,
			annotations: t.Annotations,
		})
	}
	return nil
}

// Tools returns the server's tools as agent tools (each a *Tool), in the server's order. The slice
// is new on every call.
func (c *Client) Tools() []agent.Tool {
	return append([]agent.Tool(nil), c.tools...)
}

// Session returns the underlying MCP session, for what this package does not wrap (resources,
// prompts). End it with the Client's Close, which also cancels the tool calls in flight.
func (c *Client) Session() *sdk.ClientSession { return c.session }

// Close ends the session. Calls in flight are cancelled (the server is notified) and return an
// error wrapping ErrClosed, as do later calls. For a stdio server Close then closes the server's
// standard input and waits for it to exit, sending SIGTERM and then SIGKILL if it does not within
// Config.CloseTimeout each (only the server process itself is signalled, not processes it
// started); a server stopped by one of those signals is not an error, a non-zero exit status is.
// For streamable HTTP it asks the server to end the session (the SDK bounds that request to 5 s).
// Close is idempotent; later calls return the first one's result.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.close()
		c.mu.Unlock()
		c.calls.Wait() // at once: cancelled calls return without waiting for the server
		if c.cancels != nil {
			// The SDK sends a call's cancellation on a goroutine of its own. Over streamable HTTP, a
			// session closed before it arrives leaves the server's tool running (the server closes
			// a session only once its calls returned), so give it a moment to go out.
			c.cancels.wait(cancelNotifyWait)
		}
		err := c.session.Close()
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && stoppedBySignal(ee) {
			err = nil
		}
		if err != nil {
			c.closeErr = fmt.Errorf("mcp: closing %s: %w", c.what, err)
		}
	})
	return c.closeErr
}

// stoppedBySignal reports whether the process ended on SIGTERM or SIGKILL, the signals Close
// sends to a server that does not exit by itself.
func stoppedBySignal(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGKILL)
}

// transport builds the SDK transport for cfg, wrapped to capture the raw input schemas (and, over
// HTTP, to count cancellations). what names the server for error messages (no URL query or
// credentials).
func (cfg *Config) transport(capture *schemaCapture, cancels *cancelTracker) (t sdk.Transport, stderr *tailBuffer, what string, err error) {
	set := 0
	for _, b := range []bool{cfg.Command != "", cfg.URL != "", cfg.Transport != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, nil, "", fmt.Errorf("%w: set exactly one of Command, URL and Transport", ErrConfig)
	}
	if cfg.CloseTimeout < 0 {
		return nil, nil, "", fmt.Errorf("%w: negative CloseTimeout", ErrConfig)
	}
	switch {
	case cfg.Command != "":
		cmd, tail, err := cfg.command()
		if err != nil {
			return nil, nil, "", err
		}
		ct := &sdk.CommandTransport{Command: cmd, TerminateDuration: cfg.closeTimeout()}
		return &captureTransport{inner: ct, cap: capture}, tail, fmt.Sprintf("stdio server %q", cfg.Command), nil
	case cfg.URL != "":
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, "", fmt.Errorf("%w: URL must be an absolute http or https URL", ErrConfig)
		}
		st := &sdk.StreamableClientTransport{Endpoint: cfg.URL, HTTPClient: capturingClient(cfg.HTTPClient, capture, cancels)}
		return st, nil, "streamable HTTP server " + redactURL(u), nil
	}
	if st, ok := cfg.Transport.(*sdk.StreamableClientTransport); ok {
		c := *st
		c.HTTPClient = capturingClient(st.HTTPClient, capture, cancels)
		what := "streamable HTTP server"
		if u, err := url.Parse(st.Endpoint); err == nil {
			what += " " + redactURL(u)
		}
		return &c, nil, what, nil
	}
	return &captureTransport{inner: cfg.Transport, cap: capture}, nil, fmt.Sprintf("MCP server (%T)", cfg.Transport), nil
}

func (cfg *Config) closeTimeout() time.Duration {
	if cfg.CloseTimeout == 0 {
		return DefaultCloseTimeout
	}
	return cfg.CloseTimeout
}

// command builds the stdio server's process: clean environment, standard error to cfg.Stderr and
// a tail buffer.
func (cfg *Config) command() (*exec.Cmd, *tailBuffer, error) {
	for _, kv := range cfg.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, nil, fmt.Errorf("%w: Env entry %q is not KEY=value", ErrConfig, kv)
		}
	}
	cmd := exec.Command(cfg.Command, cfg.Args...)
	if cmd.Err != nil {
		return nil, nil, fmt.Errorf("mcp: stdio server %q: %w", cfg.Command, cmd.Err)
	}
	inherit := cfg.InheritEnv
	if inherit == nil {
		inherit = DefaultInheritEnv()
	}
	env := make([]string, 0, len(inherit)+len(cfg.Env)) // non-nil: a nil Env would inherit everything
	for _, k := range inherit {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	cmd.Env = append(env, cfg.Env...) // exec keeps the last value of a duplicated key
	cmd.Dir = cfg.Dir
	tail := &tailBuffer{w: cfg.Stderr}
	cmd.Stderr = tail
	// Wait returns this long after the process exited even if a child it left behind still holds
	// standard error open.
	cmd.WaitDelay = cfg.closeTimeout()
	return cmd, tail, nil
}

// capturingClient returns a copy of hc (nil: http.DefaultClient) whose transport reports tools/list
// results to capture and cancellation notifications to cancels.
func capturingClient(hc *http.Client, capture *schemaCapture, cancels *cancelTracker) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &captureRoundTripper{base: base, cap: capture, cancels: cancels}
	return &c
}

// redactURL drops the user information, query and fragment of u, which may hold credentials.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}

// tailBuffer keeps the last stderrTail bytes written to it and copies everything to w.
type tailBuffer struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

// Write implements io.Writer; it never fails (an error of w is ignored, so that the server never
// blocks on a broken log).
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > stderrTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTail:]...)
	}
	if t.w != nil {
		_, _ = t.w.Write(p)
	}
	return len(p), nil
}

// note returns "; server stderr: ..." with the kept bytes, control characters (terminal escapes)
// removed, or "" when there are none.
func (t *tailBuffer) note() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	s := strings.ToValidUTF8(string(t.buf), "?")
	t.mu.Unlock()
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0)) {
			return r
		}
		return -1
	}, s)
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "; server stderr: " + s
}
