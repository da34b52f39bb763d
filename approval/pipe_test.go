package approval_test

import (
	"io"
	"os"
)

// ioPipe returns a reader that blocks until the writer writes or closes.
func ioPipe() (io.Reader, io.WriteCloser) {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	return r, w
}
