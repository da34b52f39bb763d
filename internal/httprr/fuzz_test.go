package httprr_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/autogpt-go/agent/internal/httprr"
)

// FuzzParse checks that Parse never panics, that every error it returns is an *Error of one of
// the two kinds, and that a trace it accepts round-trips through Write with the same records.
func FuzzParse(f *testing.F) {
	full := smallTrace()
	f.Add(full)
	f.Add(full[:len(full)/2])
	f.Add([]byte(httprr.Magic))
	f.Add([]byte(""))
	f.Add([]byte(httprr.Magic + "0 0\n"))
	f.Add([]byte(httprr.Magic + "5 0\nhello"))
	f.Add([]byte(httprr.Magic + "-1 5\n"))
	f.Add([]byte(httprr.Magic + "99999999999999 1\n"))
	f.Add([]byte(httprr.Magic + itoa(len(req2)) + " " + itoa(len(resp2)) + "\n" + req2 + resp2))
	f.Add([]byte(httprr.Magic + itoa(len(req2)) + " 47\n" + req2 + "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nzz\r\n"))
	f.Add(gz(f, full))
	f.Add([]byte("\x1f\x8b"))

	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := httprr.Parse(data)
		if err != nil {
			var e *httprr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *httprr.Error", err, err)
			}
			if !errors.Is(err, httprr.ErrMalformed) && !errors.Is(err, httprr.ErrTruncated) {
				t.Fatalf("error %v is neither ErrMalformed nor ErrTruncated", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, r := range recs {
			if r.Request.URL == nil || r.Request.Method == "" {
				t.Fatalf("record %d: request without method or URL", r.Index)
			}
			resp, err := r.Response()
			if err != nil {
				t.Fatalf("record %d: accepted, but Response fails: %v", r.Index, err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				t.Fatalf("record %d: accepted, but its body fails: %v", r.Index, err)
			}
		}
		var b bytes.Buffer
		if err := httprr.Write(&b, recs); err != nil {
			t.Fatal(err)
		}
		again, err := httprr.Parse(b.Bytes())
		if err != nil {
			t.Fatalf("Write(Parse(data)) does not parse: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("round trip: %d records, want %d", len(again), len(recs))
		}
		for i := range recs {
			if !bytes.Equal(again[i].RawRequest, recs[i].RawRequest) || !bytes.Equal(again[i].RawResponse, recs[i].RawResponse) {
				t.Fatalf("round trip: record %d differs", i)
			}
			if !bytes.Equal(again[i].Request.Body, recs[i].Request.Body) {
				t.Fatalf("round trip: record %d request body differs", i)
			}
		}
	})
}
