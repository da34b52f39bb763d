package redact

import (
	"strings"
	"unicode/utf8"
)

// MaxHold is the most bytes a Stream holds back waiting for a secret to end (an open PEM block,
// a configured secret); a trailing run of credential characters is held up to MaxRunHold. Longer
// text is released as it is, redacted as far as it goes: a secret inside it may then be split
// across two outputs. Holding costs time per Write in proportion to what is held.
const MaxHold = 8 << 10

// MaxRunHold is the most bytes of a trailing run of credential characters (letters, digits and
// -_.~+/=: an unfinished word, key or token) a Stream holds back. Real credentials are far
// shorter (an OpenAI project key is about 170 bytes); a longer run is a blob, released as it comes.
const MaxRunHold = 1 << 10

// Stream redacts a text that arrives in pieces (a model's streamed deltas), so that a secret split
// across pieces is still found: Write returns the redacted text that is safe to pass on now and
// holds back the tail that could be the start of a secret; Flush returns the rest at the end. The
// outputs concatenated equal r.String of the pieces concatenated, except past MaxHold. A Stream is
// not safe for concurrent use.
type Stream struct {
	r     *Redactor
	held  []byte
	inRun bool // held is all credential characters, at most MaxRunHold of them
}

// NewStream returns a Stream that redacts with r.
func (r *Redactor) NewStream() *Stream { return &Stream{r: r} }

// Write adds piece and returns the redacted text now safe to pass on ("" while everything is held).
// Its cost is proportional to len(piece), amortized: a piece that only extends a held run of
// credential characters is appended without a scan.
func (s *Stream) Write(piece string) string {
	s.held = append(s.held, piece...)
	if s.inRun && len(s.held) <= MaxRunHold && allCredential(piece) {
		return "" // the run goes on: the cut stays at its start
	}
	buf := string(s.held)
	cut := s.r.safePrefix(buf)
	s.held = append(s.held[:0], buf[cut:]...)
	s.inRun = allCredential(buf[cut:])
	return s.r.String(buf[:cut])
}

// Flush returns the held text, redacted, and empties the Stream.
func (s *Stream) Flush() string {
	out := s.r.String(string(s.held))
	s.held, s.inRun = s.held[:0], false
	return out
}

func allCredential(s string) bool {
	for i := 0; i < len(s); i++ {
		if !credentialByte(s[i]) {
			return false
		}
	}
	return true
}

// credentialByte reports whether b can be part of a well-known credential (the characters of the
// patterns' key bodies: letters, digits and -_.~+/=).
func credentialByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == '-' || b == '_' || b == '.' || b == '~' || b == '+' || b == '/' || b == '='
}

// bearerBefore returns where a final "bearer" word (any case, then white space or nothing) starts
// in s, or -1: the token after it may still be arriving.
func bearerBefore(s string) int {
	t := strings.TrimRight(s, " \t\r\n\f\v")
	const w = "bearer"
	if len(t) < len(w) || !strings.EqualFold(t[len(t)-len(w):], w) {
		return -1
	}
	i := len(t) - len(w)
	if i > 0 && (credentialByte(t[i-1]) && t[i-1] != '-' && t[i-1] != '.' && t[i-1] != '/' && t[i-1] != '+' && t[i-1] != '=' && t[i-1] != '~') {
		return -1 // inside a longer word (the pattern wants a word boundary)
	}
	return i
}

// safePrefix returns how much of buf can be redacted and passed on without cutting a secret that
// may continue in the next piece: up to the trailing run of credential characters (and a "Bearer "
// before it), an unterminated PEM private-key block, or a suffix that starts a configured secret.
func (r *Redactor) safePrefix(buf string) int {
	cut := len(buf)
	for cut > 0 && credentialByte(buf[cut-1]) && len(buf)-cut <= MaxRunHold {
		cut--
	}
	if len(buf)-cut > MaxRunHold {
		// A blob, not a credential: release all but the last half, so that the next scan is
		// MaxRunHold/2 bytes away (amortized constant cost per byte).
		cut = len(buf) - MaxRunHold/2
	}
	if i := bearerBefore(buf[:cut]); i >= 0 {
		cut = i
	}
	if i := strings.LastIndex(buf, "-----BEGIN"); i >= 0 && i < cut {
		// A PEM block is held until its END line is complete.
		end := strings.Index(buf[i:], "-----END")
		if end < 0 || !strings.Contains(buf[i+end+len("-----END"):], "-----") {
			cut = i
		}
	}
	if r != nil {
		for _, v := range r.secrets {
			// The earliest p with buf[p:] a proper prefix of v: candidates start with v[0].
			for p := max(0, len(buf)-len(v)+1); p < cut; p++ {
				j := strings.IndexByte(buf[p:cut], v[0])
				if j < 0 {
					break
				}
				p += j
				if strings.HasPrefix(v, buf[p:]) {
					cut = p
					break
				}
			}
		}
	}
	// A complete match must not straddle the cut either (a PEM block's END line ends in
	// credential characters): move the cut to its start, until none does.
	for moved := true; moved && cut > 0; {
		moved = false
		if mayMatch(buf) {
			for _, m := range patterns.FindAllStringIndex(buf, -1) {
				if m[0] < cut && cut < m[1] {
					cut, moved = m[0], true
				}
			}
		}
		if r != nil {
			for _, v := range r.secrets {
				lo := max(0, cut-len(v)+1)
				if j := strings.Index(buf[lo:min(len(buf), cut+len(v)-1)], v); j >= 0 && lo+j < cut {
					cut, moved = lo+j, true
				}
			}
		}
	}
	if len(buf)-cut > MaxHold {
		cut = len(buf) - MaxHold
		for cut > 0 && !utf8.RuneStart(buf[cut]) {
			cut--
		}
	}
	return cut
}
