package mcp

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// maxToolNameLen is the longest tool name the agent accepts (OpenAI's rule for function names,
// ^[a-zA-Z0-9_-]{1,64}$, the strictest among the providers).
const maxToolNameLen = 64

// hashSuffixLen is the length of the "_xxxxxxxx" suffix that keeps shortened or colliding names
// apart: an underscore and 8 hex digits of the FNV-1a 32-bit hash of the server's name.
const hashSuffixLen = 9

// validNameByte reports whether c may appear in an agent tool name.
func validNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// sanitizeName maps s onto the agent's tool-name alphabet: every byte outside [a-zA-Z0-9_-] becomes
// '_' (one '_' per invalid rune, so "é" gives "_", not "__"). It does not shorten.
func sanitizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < 0x80 && validNameByte(byte(r)) {
			b.WriteByte(byte(r))
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// namer gives each of a server's tools a unique agent tool name.
type namer struct {
	prefix string
	used   map[string]bool
}

func newNamer(prefix string) *namer {
	return &namer{prefix: sanitizeName(prefix), used: make(map[string]bool)}
}

// name returns the agent name for the server's tool remote: prefix+remote sanitised. A name that is
// longer than 64 bytes, or that an earlier tool already took (two server names can sanitise to the
// same string, "a.b" and "a_b"), is cut to leave room for "_" and 8 hex digits of a hash of the
// server's name, so that it stays stable from one connection to the next.
func (n *namer) name(remote string) string {
	s := n.prefix + sanitizeName(remote)
	if s == "" {
		s = "tool"
	}
	if len(s) <= maxToolNameLen && !n.used[s] {
		n.used[s] = true
		return s
	}
	base := s[:min(len(s), maxToolNameLen-hashSuffixLen)]
	for i := 0; ; i++ {
		h := fnv.New32a()
		h.Write([]byte(remote))
		if i > 0 {
			fmt.Fprintf(h, "#%d", i) // a hash collision too: try again, deterministically
		}
		cand := fmt.Sprintf("%s_%08x", base, h.Sum32())
		if !n.used[cand] {
			n.used[cand] = true
			return cand
		}
	}
}
