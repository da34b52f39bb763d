// Package httprr reads and writes httprr traces: files of recorded HTTP exchanges, as kept by
// langchaingo's tests (testdata/*.httprr, and gzip-compressed *.httprr.gz).
//
// # Format
//
// A trace is the line "httprr trace v1\n" followed by zero or more records. A record is a line
// "N M\n", where N and M are decimal byte counts, then N bytes holding an HTTP/1.1 request as
// written on the wire (request line with an absolute URL, headers, blank line, body), then M bytes
// holding the HTTP response as written on the wire (status line, headers, blank line, body).
// Nothing separates one record from the next, and the file ends right after the last response.
// Header lines may end in "\r\n" or "\n". A trace may be gzip-compressed as a whole.
//
// This package is our own reader (langchaingo's is internal to its module); it never makes a
// network call.
package httprr

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Magic is the first line of every trace.
const Magic = "httprr trace v1\n"

// MaxDecompressedSize caps, in bytes, how large a gzip-compressed trace may grow when it is
// decompressed (1 GiB). A larger one is refused with ErrMalformed.
const MaxDecompressedSize = 1 << 30

// Sentinel errors; every error Parse and ReadFile return for bad input is an *Error wrapping one of
// them, so callers test with errors.Is.
var (
	// ErrMalformed reports a trace that is not in the httprr format: a wrong first line, a bad
	// "N M" line, a request or response that does not parse, bytes left over after a body.
	ErrMalformed = errors.New("malformed httprr trace")
	// ErrTruncated reports a trace that ends before a record does: an "N M" line without its
	// newline, or fewer than N+M bytes after it.
	ErrTruncated = errors.New("truncated httprr trace")
)

// Error describes what is wrong with a trace and where.
type Error struct {
	// Path is the file name; "" when the trace came from memory.
	Path string
	// Record is the 1-based number of the record at fault; 0 when the fault is in the first line.
	Record int
	// Offset is the byte offset, in the decompressed trace, where the faulty part starts.
	Offset int64
	// Kind is ErrMalformed or ErrTruncated.
	Kind error
	// Detail says what is wrong, in words.
	Detail string
	// Err is the underlying cause (for example from net/http's parser), or nil.
	Err error
}

// Error returns a message such as
// "testdata/x.httprr: record 2 (byte 1873): truncated httprr trace: response: want 1598 bytes, have 12".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Record > 0 {
		fmt.Fprintf(&b, "record %d (byte %d): ", e.Record, e.Offset)
	} else {
		fmt.Fprintf(&b, "byte %d: ", e.Offset)
	}
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and, when set, Err.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Request is a recorded request, parsed.
type Request struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// URL is the request URL as recorded: absolute (scheme, host, path, query).
	URL *url.URL
	// Proto is the protocol of the request line, such as "HTTP/1.1".
	Proto string
	// Header holds the request headers, canonicalised as net/http does; Host is not among them
	// (it is URL.Host, or the Host header when the URL has none, in Host).
	Header http.Header
	// Host is the host the request was sent to.
	Host string
	// Body is the request body, with any chunked transfer coding removed; empty when there is none.
	Body []byte
}

// Record is one recorded exchange.
type Record struct {
	// Index is the 0-based position of the record in its trace.
	Index int
	// Offset is the byte offset of the record's "N M" line in the decompressed trace.
	Offset int64
	// Request is the parsed request.
	Request Request
	// RawRequest is the request exactly as stored (N bytes).
	RawRequest []byte
	// RawResponse is the response exactly as stored (M bytes).
	RawResponse []byte
}

// Response parses RawResponse into a new *http.Response whose Body reads the recorded body (with any
// chunked transfer coding removed; a Content-Encoding such as gzip is left as recorded). Each call
// returns a fresh response. Records returned by Parse always parse.
func (r *Record) Response() (*http.Response, error) {
	return http.ReadResponse(bufio.NewReader(bytes.NewReader(r.RawResponse)), &http.Request{Method: r.Request.Method})
}

// ResponseBody returns the recorded response body, with any chunked transfer coding removed.
func (r *Record) ResponseBody() ([]byte, error) {
	resp, err := r.Response()
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// ReadFile reads and parses the trace in the file at path. The file is gzip-decompressed first when
// its name ends in ".gz" or its content starts with the gzip magic bytes (1f 8b). Errors about the
// content are *Error values naming path.
func ReadFile(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".gz") && !isGzip(data) {
		return nil, &Error{Path: path, Kind: ErrMalformed, Detail: "name ends in .gz but content is not gzip"}
	}
	recs, err := Parse(data)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Path = path
		}
		return nil, err
	}
	return recs, nil
}

func isGzip(data []byte) bool {
	return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

// Parse parses a trace held in memory. Data starting with the gzip magic bytes is decompressed
// first. An empty trace (Magic alone) gives zero records and no error. The records' byte slices are
// copies: data may be reused afterwards.
func Parse(data []byte) ([]Record, error) {
	if isGzip(data) {
		var err error
		data, err = gunzip(data)
		if err != nil {
			return nil, err
		}
	}
	if !bytes.HasPrefix(data, []byte(Magic)) {
		n := min(len(data), len(Magic))
		if bytes.HasPrefix([]byte(Magic), data[:n]) {
			return nil, &Error{Kind: ErrTruncated, Detail: fmt.Sprintf("want first line %q, have %q", Magic, data)}
		}
		first, _, _ := bytes.Cut(data[:min(len(data), 64)], []byte("\n"))
		return nil, &Error{Kind: ErrMalformed, Detail: fmt.Sprintf("want first line %q, have %q", Magic, first)}
	}
	var recs []Record
	off := len(Magic)
	for off < len(data) {
		rec, next, err := parseRecord(data, off, len(recs))
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
		off = next
	}
	return recs, nil
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, &Error{Kind: ErrMalformed, Detail: "gzip", Err: err}
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxDecompressedSize+1))
	if err != nil {
		kind := ErrMalformed
		if errors.Is(err, io.ErrUnexpectedEOF) {
			kind = ErrTruncated
		}
		return nil, &Error{Kind: kind, Detail: "gzip", Err: err}
	}
	if len(out) > MaxDecompressedSize {
		return nil, &Error{Kind: ErrMalformed, Detail: fmt.Sprintf("gzip: decompresses to more than %d bytes", MaxDecompressedSize)}
	}
	return out, nil
}

// parseRecord parses the record whose "N M" line starts at data[off:]; index is its 0-based number.
// It returns the record and the offset just past it.
func parseRecord(data []byte, off, index int) (Record, int, error) {
	fail := func(kind error, cause error, format string, args ...any) (Record, int, error) {
		return Record{}, 0, &Error{Record: index + 1, Offset: int64(off), Kind: kind, Detail: fmt.Sprintf(format, args...), Err: cause}
	}
	rest := data[off:]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		if len(rest) > 40 {
			return fail(ErrMalformed, nil, "want a line \"N M\", have %q... without a newline", rest[:40])
		}
		return fail(ErrTruncated, nil, "want a line \"N M\", have %q without a newline", rest)
	}
	line := rest[:nl]
	ns, ms, ok := bytes.Cut(line, []byte(" "))
	n, errN := parseCount(ns)
	m, errM := parseCount(ms)
	if !ok || errN != nil || errM != nil {
		if len(line) > 40 {
			line = append(line[:40:40], "..."...)
		}
		return fail(ErrMalformed, nil, "want a line \"N M\" of two byte counts, have %q", line)
	}
	body := rest[nl+1:]
	if int64(len(body)) < n+m {
		part := "response"
		want, have := m, int64(len(body))-n
		if int64(len(body)) < n {
			part, want, have = "request", n, int64(len(body))
		}
		return fail(ErrTruncated, nil, "%s: want %d bytes, have %d", part, want, have)
	}
	rec := Record{
		Index:       index,
		Offset:      int64(off),
		RawRequest:  bytes.Clone(body[:n]),
		RawResponse: bytes.Clone(body[n : n+m]),
	}
	req, err := parseRequest(rec.RawRequest)
	if err != nil {
		return fail(ErrMalformed, err, "request")
	}
	rec.Request = req
	if err := checkResponse(rec.RawResponse, req.Method); err != nil {
		return fail(ErrMalformed, err, "response")
	}
	return rec, off + nl + 1 + int(n+m), nil
}

// parseCount parses a non-negative decimal byte count: ASCII digits only, no sign, at most 15 digits.
func parseCount(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 15 {
		return 0, errors.New("bad count")
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("bad count")
		}
	}
	return strconv.ParseInt(string(b), 10, 64)
}

func parseRequest(raw []byte) (Request, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	hreq, err := http.ReadRequest(br)
	if err != nil {
		return Request{}, err
	}
	var body []byte
	if len(hreq.TransferEncoding) > 0 {
		// Chunked: the decoded body, then nothing but what follows the last chunk.
		body, err = io.ReadAll(hreq.Body)
		if err != nil {
			return Request{}, fmt.Errorf("body: %w", err)
		}
		if extra, _ := io.ReadAll(br); len(extra) > 0 {
			return Request{}, fmt.Errorf("%d bytes after the chunked body", len(extra))
		}
	} else {
		// The body has not been read yet: what is left in br is the raw body.
		body, _ = io.ReadAll(br)
		if int64(len(body)) != hreq.ContentLength {
			return Request{}, fmt.Errorf("Content-Length is %d but the body has %d bytes", hreq.ContentLength, len(body))
		}
	}
	if body == nil {
		body = []byte{}
	}
	return Request{
		Method: hreq.Method,
		URL:    hreq.URL,
		Proto:  hreq.Proto,
		Header: hreq.Header,
		Host:   hreq.Host,
		Body:   body,
	}, nil
}

func checkResponse(raw []byte, method string) error {
	br := bufio.NewReader(bytes.NewReader(raw))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if extra, _ := io.ReadAll(br); len(extra) > 0 {
		return fmt.Errorf("%d bytes after the body", len(extra))
	}
	return nil
}

// Write writes records to w as a trace (uncompressed): Magic, then for each record its "N M" line,
// RawRequest and RawResponse. Only the raw fields are written; the parsed Request is ignored.
func Write(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(Magic)
	for _, r := range recs {
		fmt.Fprintf(bw, "%d %d\n", len(r.RawRequest), len(r.RawResponse))
		bw.Write(r.RawRequest)
		bw.Write(r.RawResponse)
	}
	return bw.Flush()
}
