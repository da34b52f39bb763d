package langchaingo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Fake keys: tests never read the environment's keys.
const (
	testOpenAIKey    = "sk-test-openai-0123456789"
	testAnthropicKey = "sk-ant-test-0123456789"
)

// recorded is one request a fake server received.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// fakeServer is an httptest server that records requests and answers with reply.
type fakeServer struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	reply http.HandlerFunc
}

func newServer(t *testing.T, reply http.HandlerFunc) *fakeServer {
	t.Helper()
	s := &fakeServer{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.Path, r.Header.Clone(), body})
		s.mu.Unlock()
		s.reply(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) last(t *testing.T) recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.reqs, "the server received no request")
	return s.reqs[len(s.reqs)-1]
}

// lastJSON decodes the last request body into a map.
func (s *fakeServer) lastJSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(s.last(t).Body, &m))
	return m
}

// jsonReply answers with status and body, plus header pairs.
func jsonReply(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// sseReply answers with an event stream; each event is written and flushed in turn. An event that
// does not start with "event:" gets "data: " in front.
func sseReply(events ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, e := range events {
			if len(e) < 6 || e[:6] != "event:" {
				e = "data: " + e
			}
			_, _ = fmt.Fprintf(w, "%s\n\n", e)
			w.(http.Flusher).Flush()
		}
	}
}

func ptr[T any](v T) *T { return &v }
