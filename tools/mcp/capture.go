package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// The SDK hands a client each tool's input schema as a decoded map[string]any, which has lost the
// server's key order (and re-marshalling it sorts the keys). Token counts, and so prompts, depend on
// the bytes, so the client reads the inputSchema bytes of tools/list results off the wire instead:
// on the JSON-RPC connection for stdio and other message transports, and in the HTTP round trip
// for streamable HTTP (whose connection cannot be wrapped: the SDK tells it the negotiated protocol
// version through an unexported method). A schema that could not be captured falls back to the
// SDK's map, marshalled once.

// methodListTools is the MCP method whose results carry the input schemas.
const methodListTools = "tools/list"

// maxCaptureBytes bounds the bytes of one HTTP response body kept while looking for a tools/list
// result; past it the capture gives up (the schemas then come from the SDK's maps).
const maxCaptureBytes = 32 << 20

// schemaCapture records the raw inputSchema of every tool in the tools/list results it sees.
type schemaCapture struct {
	mu      sync.Mutex
	pending map[string]bool            // ids of tools/list requests sent and not yet answered
	schemas map[string]json.RawMessage // server tool name -> inputSchema, compacted, key order kept
}

func newSchemaCapture() *schemaCapture {
	return &schemaCapture{pending: make(map[string]bool), schemas: make(map[string]json.RawMessage)}
}

// idKey is a map key for a JSON-RPC id (a number and a string with the same digits differ).
func idKey(id jsonrpc.ID) string { return fmt.Sprintf("%T:%v", id.Raw(), id.Raw()) }

// sent notes an outgoing message; it must be called before the message is written.
func (c *schemaCapture) sent(msg jsonrpc.Message) {
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != methodListTools || !req.ID.IsValid() {
		return
	}
	c.mu.Lock()
	c.pending[idKey(req.ID)] = true
	c.mu.Unlock()
}

// received notes an incoming message, keeping the schemas of an answer to a tools/list request.
func (c *schemaCapture) received(msg jsonrpc.Message) {
	resp, ok := msg.(*jsonrpc.Response)
	if !ok || !resp.ID.IsValid() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := idKey(resp.ID)
	if !c.pending[k] {
		return
	}
	delete(c.pending, k)
	if resp.Error != nil || len(resp.Result) == 0 {
		return
	}
	var res struct {
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		} `json:"tools"`
	}
	if json.Unmarshal(resp.Result, &res) != nil {
		return
	}
	for _, t := range res.Tools {
		if len(t.InputSchema) == 0 {
			continue
		}
		var buf bytes.Buffer
		if json.Compact(&buf, t.InputSchema) != nil {
			continue
		}
		c.schemas[t.Name] = buf.Bytes()
	}
}

// schema returns the captured inputSchema of the server's tool name.
func (c *schemaCapture) schema(name string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.schemas[name]
	return s, ok
}

// captureTransport wraps a message transport so that its connection reports to a schemaCapture.
type captureTransport struct {
	inner sdk.Transport
	cap   *schemaCapture
}

// Connect implements sdk.Transport.
func (t *captureTransport) Connect(ctx context.Context) (sdk.Connection, error) {
	conn, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &captureConn{Connection: conn, cap: t.cap}, nil
}

// captureConn is a connection that shows every message to a schemaCapture.
type captureConn struct {
	sdk.Connection
	cap *schemaCapture
}

// Read implements sdk.Connection.
func (c *captureConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if err == nil {
		c.cap.received(msg)
	}
	return msg, err
}

// Write implements sdk.Connection.
func (c *captureConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	c.cap.sent(msg)
	return c.Connection.Write(ctx, msg)
}

// methodCancelled is the notification that cancels a request.
const methodCancelled = "notifications/cancelled"

// cancelTracker counts the calls that ended cancelled (each makes the SDK send a cancellation
// notification, on a goroutine of its own) and the cancellation notifications sent over HTTP.
type cancelTracker struct {
	attempts, sent atomic.Int64
}

// wait returns when every cancellation notified so far has been sent, or after at most d.
func (c *cancelTracker) wait(d time.Duration) {
	deadline := time.Now().Add(d)
	for c.sent.Load() < c.attempts.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// captureRoundTripper sits under the streamable HTTP client: for a POST that carries a tools/list
// request it watches the response body (JSON or an SSE stream) as the SDK reads it; it counts the
// cancellation notifications it sends.
type captureRoundTripper struct {
	base    http.RoundTripper
	cap     *schemaCapture
	cancels *cancelTracker
}

// RoundTrip implements http.RoundTripper.
func (rt *captureRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil || req.Body == http.NoBody {
		return rt.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
	msg, err := jsonrpc.DecodeMessage(body)
	r, ok := msg.(*jsonrpc.Request)
	if err == nil && ok && r.Method == methodCancelled && rt.cancels != nil {
		defer rt.cancels.sent.Add(1)
	}
	if err != nil || !ok || r.Method != methodListTools {
		return rt.base.RoundTrip(req)
	}
	rt.cap.sent(msg)
	resp, err := rt.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Body == nil {
		return resp, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	resp.Body = &captureBody{ReadCloser: resp.Body, sse: mt == "text/event-stream", cap: rt.cap}
	return resp, nil
}

// captureBody passes a response body through, decoding the JSON-RPC messages in it on the way:
// the whole body for application/json, each event's data for text/event-stream. A message is
// decoded inside the Read that completes it, so before the SDK sees it.
type captureBody struct {
	io.ReadCloser
	sse  bool
	cap  *schemaCapture
	buf  []byte // bytes not yet consumed (a partial SSE line, or the whole JSON body so far)
	data []byte // the current SSE event's data lines
	done bool
}

// Read implements io.Reader.
func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	b.buf = append(b.buf, p[:n]...)
	if len(b.buf)+len(b.data) > maxCaptureBytes {
		b.stop()
		return n, err
	}
	if b.sse {
		b.scanEvents(err != nil)
	} else if err != nil {
		b.deliver(b.buf)
		b.stop()
	}
	return n, err
}

func (b *captureBody) stop() { b.done, b.buf, b.data = true, nil, nil }

// scanEvents consumes the complete lines of b.buf (SSE, lines ending in \n or \r\n), delivering
// each event's data at the blank line that ends it, or at the end of the stream.
func (b *captureBody) scanEvents(eof bool) {
	for {
		i := bytes.IndexByte(b.buf, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSuffix(b.buf[:i], []byte("\r"))
		b.buf = b.buf[i+1:]
		switch {
		case len(line) == 0:
			if len(b.data) > 0 {
				b.deliver(b.data)
				b.data = b.data[:0]
			}
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[len("data:"):], []byte(" "))
			if len(b.data) > 0 {
				b.data = append(b.data, '\n')
			}
			b.data = append(b.data, v...)
		}
	}
	if eof && len(b.data) > 0 {
		b.deliver(b.data)
		b.data = b.data[:0]
	}
}

func (b *captureBody) deliver(data []byte) {
	if msg, err := jsonrpc.DecodeMessage(data); err == nil {
		b.cap.received(msg)
	}
}
