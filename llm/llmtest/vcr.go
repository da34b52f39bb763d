package llmtest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

// ReadCassette reads the interactions of the go-vcr cassette at path, in order, as Exchanges (each
// Record is the interaction's position in the file). The file is read by go-vcr's own loader
// (gopkg.in/dnaeon/go-vcr.v4/pkg/cassette), so it accepts what go-vcr v4 accepts: YAML cassettes
// of format version 2, which go-vcr v3 and v4 write. Older cassettes (format version 1, from
// go-vcr v1 and v2) fail with an error wrapping cassette.ErrUnsupportedCassetteFormat: record
// them again. The file name is used as given (go-vcr itself appends ".yaml"; here "x.yaml",
// "x.yml" and any other name work). An empty file, a file without a top-level "version:" line
// (go-vcr would silently take it for version 2) and a cassette without interactions are errors
// naming the file, so that a truncated or mistyped cassette never replays as "no exchanges".
//
// Each interaction becomes an Exchange: the request's method, URL, headers and body (as
// recorded, not its form fields); the response's status code and text (filled in from the code
// when absent), headers without Transfer-Encoding, and body. go-vcr records bodies after the
// client's transport has decoded them, so a gzip-encoded reply is normally stored plain; a body
// stored compressed (a YAML !!binary holding gzip bytes, with Content-Encoding: gzip) is kept
// compressed, and Replay serves it as a server would (see Replay.RoundTrip and Replay.ServeHTTP).
func ReadCassette(path string) ([]Exchange, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("llmtest: cassette %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("llmtest: cassette %s: the file is empty", path)
	}
	version := cassetteVersionRE.FindSubmatch(data)
	if version == nil {
		return nil, fmt.Errorf("llmtest: cassette %s: no top-level \"version:\" line (go-vcr v3 and v4 cassettes start with \"version: 2\")", path)
	}
	c, err := cassette.LoadWithFS(path, oneFile(path))
	if errors.Is(err, cassette.ErrUnsupportedCassetteFormat) {
		// go-vcr's own message names the version it wants, not the one found.
		return nil, fmt.Errorf("llmtest: cassette %s: format version %s: %w (only version %d, written by go-vcr v3 and v4, is read: record it again)",
			path, bytes.TrimSpace(version[1]), cassette.ErrUnsupportedCassetteFormat, cassette.CassetteFormatVersion)
	}
	if err != nil {
		return nil, fmt.Errorf("llmtest: cassette %s: %w", path, err)
	}
	if len(c.Interactions) == 0 {
		return nil, fmt.Errorf("llmtest: cassette %s: no interactions", path)
	}
	out := make([]Exchange, len(c.Interactions))
	for i, in := range c.Interactions {
		if in == nil {
			return nil, fmt.Errorf("llmtest: cassette %s: interaction %d is empty", path, i+1)
		}
		u, err := url.Parse(in.Request.URL)
		if err != nil {
			return nil, fmt.Errorf("llmtest: cassette %s: interaction %d: request URL: %w", path, i+1, err)
		}
		if in.Request.Method == "" {
			return nil, fmt.Errorf("llmtest: cassette %s: interaction %d: request has no method", path, i+1)
		}
		if in.Response.Code == 0 {
			return nil, fmt.Errorf("llmtest: cassette %s: interaction %d: response has no status code", path, i+1)
		}
		respHeader := in.Response.Headers.Clone()
		if respHeader == nil {
			respHeader = http.Header{}
		}
		respHeader.Del("Transfer-Encoding")
		status := in.Response.Status
		if status == "" {
			status = fmt.Sprintf("%d %s", in.Response.Code, http.StatusText(in.Response.Code))
		}
		reqHeader := in.Request.Headers.Clone()
		if reqHeader == nil {
			reqHeader = http.Header{}
		}
		out[i] = Exchange{
			Record: i,
			Request: &RecordedRequest{
				Method: in.Request.Method,
				URL:    u,
				Header: reqHeader,
				Body:   []byte(in.Request.Body),
			},
			Response: &RecordedResponse{
				StatusCode: in.Response.Code,
				Status:     status,
				Header:     respHeader,
				Body:       []byte(in.Response.Body),
			},
		}
	}
	return out, nil
}

// OpenCassette reads the go-vcr cassette at path (see ReadCassette) and returns a Replay of its
// interactions, filtered and matched as opts say: the same Replay as OpenReplay gives for an
// httprr trace, with the same matchers, Client, Server and AssertComplete. Interactions are played
// in the order recorded (go-vcr's own recorder would match them in any order).
func OpenCassette(path string, opts ...ReplayOption) (*Replay, error) {
	ex, err := ReadCassette(path)
	if err != nil {
		return nil, err
	}
	return newReplay(filepath.Base(path), ex, opts), nil
}

// cassetteVersionRE finds a cassette's top-level version key and its value.
var cassetteVersionRE = regexp.MustCompile(`(?m)^version[ \t]*:(.*)$`)

// oneFile is a read-only cassette.FS that serves the file at its path whatever name go-vcr asks
// for (it asks for name + ".yaml").
type oneFile string

func (f oneFile) ReadFile(string) ([]byte, error) { return os.ReadFile(string(f)) }

func (f oneFile) WriteFile(string, []byte) error {
	return fmt.Errorf("llmtest: cassette %s is read-only here", string(f))
}

func (f oneFile) IsFileExists(string) bool {
	_, err := os.Stat(string(f))
	return err == nil
}
