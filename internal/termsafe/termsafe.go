// Package termsafe makes text safe to print on a terminal: it removes ANSI escape sequences and
// other control characters, so that text a model wrote cannot move the cursor, rewrite earlier
// output, change the window title or hide characters (the class of CVE-2023-37275 in AutoGPT).
package termsafe

import (
	"strings"
	"unicode/utf8"
)

// Strip returns s without escape sequences (CSI "ESC [ ... final", OSC "ESC ] ... BEL or ESC \",
// and two-byte "ESC x"), without C0 and C1 control characters other than newline and tab, without
// DEL, without Unicode bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), and with
// invalid UTF-8 bytes replaced by U+FFFD. Sources: ECMA-48 (control functions), Unicode UAX #9
// (bidirectional formatting characters).
func Strip(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			i++
			continue
		case r == 0x1b: // ESC
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI
			i += size + csiBodyLen(s[i+size:])
			continue
		case r == 0x9d: // C1 OSC
			i += size + oscBodyLen(s[i+size:])
			continue
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			i += size
			continue
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			i += size
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// escapeLen returns the length of the escape sequence at the start of s (s[0] is ESC).
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiBodyLen(s[2:])
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: up to BEL or ST
		return 2 + oscBodyLen(s[2:])
	}
	return 2
}

// csiBodyLen: parameter and intermediate bytes (0x20–0x3f) up to one final byte (0x40–0x7e).
func csiBodyLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x40 && c <= 0x7e {
			return i + 1
		}
		if c < 0x20 || c > 0x3f {
			return i
		}
	}
	return len(s)
}

// oscBodyLen: everything up to and including BEL or ST (ESC \).
func oscBodyLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0x07:
			return i + 1
		case 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		}
	}
	return len(s)
}
