package shell

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// capture is an io.Writer that keeps the first and the last bytes of what is written to it, at
// most max in all, and counts the rest. It is safe for concurrent use.
type capture struct {
	mu         sync.Mutex
	headMax    int
	tailMax    int
	head       []byte
	tail       []byte // a ring of tailMax bytes once full; start is the oldest byte
	start      int
	total      int64
	tailFilled bool
}

func newCapture(max int) *capture {
	h := max / 2
	return &capture{headMax: h, tailMax: max - h}
}

// Write keeps what fits and never fails.
func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	c.total += int64(n)
	if room := c.headMax - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if c.tailMax == 0 || len(p) == 0 {
		return n, nil
	}
	if len(p) >= c.tailMax {
		c.tail = append(c.tail[:0], p[len(p)-c.tailMax:]...)
		c.start, c.tailFilled = 0, true
		return n, nil
	}
	if !c.tailFilled {
		if room := c.tailMax - len(c.tail); len(p) <= room {
			c.tail = append(c.tail, p...)
			c.tailFilled = len(c.tail) == c.tailMax
			return n, nil
		}
		// Fill the ring, then wrap around.
		room := c.tailMax - len(c.tail)
		c.tail = append(c.tail, p[:room]...)
		p = p[room:]
		c.tailFilled = true
		c.start = 0
	}
	for len(p) > 0 {
		k := copy(c.tail[c.start:], p)
		p = p[k:]
		c.start = (c.start + k) % c.tailMax
	}
	return n, nil
}

// String returns the captured output as valid UTF-8: all of it when it fit, else the head, a note
// of the bytes left out, and the tail. Cuts never split a UTF-8 sequence.
func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	tail := c.tail
	if c.tailFilled && c.start != 0 {
		tail = append(append([]byte(nil), c.tail[c.start:]...), c.tail[:c.start]...)
	}
	kept := int64(len(c.head) + len(tail))
	if kept == c.total {
		return strings.ToValidUTF8(string(c.head)+string(tail), "\uFFFD")
	}
	head := c.head[:completeUTF8(c.head)]
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	omitted := c.total - int64(len(head)) - int64(len(tail))
	return strings.ToValidUTF8(fmt.Sprintf("%s\n[run_command: output was %d bytes; %d bytes in the middle were left out]\n%s",
		head, c.total, omitted, tail), "\uFFFD")
}

// completeUTF8 returns the length of b without a trailing incomplete UTF-8 sequence.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
