package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStreamSplitsNeverLeak cuts texts holding secrets at every position (and at random positions
// into many pieces) and checks that no output holds a secret and that the outputs concatenated
// equal the whole text redacted.
func TestStreamSplitsNeverLeak(t *testing.T) {
	const own = `p<w&d>"q\z-LONGSECRET`
	r := New("hunter2-SUPERSECRET-pw", own, "pass phrase with spaces")
	key := "sk-proj-" + strings.Repeat("Ab3", 12)
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----"
	texts := []string{
		"the password is hunter2-SUPERSECRET-pw, keep it",
		"hunter2-SUPERSECRET-pw",
		"use " + key + " now",
		`{"key":"` + key + `","n":1}`,
		"Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345 done",
		"x " + pem + " y",
		`{"s":"p\u003cw\u0026d\u003e\"q\\z-LONGSECRET"}`,
		`{"s":"p<w&d>\"q\\z-LONGSECRET"}`,
		"say pass phrase with spaces twice: pass phrase with spaces",
		"日本語 " + key + " 🎉",
		"no secret at all, just words and ünïcödé",
	}
	secrets := []string{"hunter2-SUPERSECRET-pw", key, "abcdefghijklmnopqrstuvwxyz012345", "MIIEowIBAAKCAQEA", "LONGSECRET", "pass phrase with spaces"}
	check := func(t *testing.T, text string, pieces []string) {
		t.Helper()
		s := r.NewStream()
		var out strings.Builder
		for _, p := range pieces {
			o := s.Write(p)
			for _, sec := range secrets {
				if strings.Contains(o, sec) {
					t.Fatalf("output %q of %q holds %q", o, pieces, sec)
				}
			}
			out.WriteString(o)
		}
		out.WriteString(s.Flush())
		if got, want := out.String(), r.String(text); got != want {
			t.Fatalf("pieces %q: got %q, want %q", pieces, got, want)
		}
	}
	for _, text := range texts {
		for i := 0; i <= len(text); i++ {
			check(t, text, []string{text[:i], text[i:]})
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(text))))
		for range 200 {
			var pieces []string
			rest := text
			for len(rest) > 0 {
				n := 1 + rng.IntN(min(len(rest), 7))
				pieces = append(pieces, rest[:n])
				rest = rest[n:]
			}
			check(t, text, pieces)
		}
	}
}

func TestStreamPassesOrdinaryTextWithLittleDelay(t *testing.T) {
	s := New().NewStream()
	if got := s.Write("Hello, wor"); got != "Hello, " {
		t.Fatalf("got %q: only the unfinished word should be held", got)
	}
	if got := s.Write("ld! How"); got != "world! " {
		t.Fatalf("got %q", got)
	}
	if got := s.Flush(); got != "How" {
		t.Fatalf("got %q", got)
	}
	long := strings.Repeat("A", MaxRunHold+100)
	out := s.Write(long)
	if len(out) != 100+MaxRunHold/2 || !utf8.ValidString(out) {
		t.Fatalf("a run past MaxHold is released: got %d bytes", len(out))
	}
}

func TestEncodedSpellingsAreRedacted(t *testing.T) {
	r := New("päss-wörd-Ωmega", `emoji🎉<k>"ey"`)
	for _, text := range []string{
		`{"body":"p\u00e4ss-w\u00f6rd-\u03a9mega"}`,
		`{"body":"p\u00E4ss-w\u00F6rd-\u03A9mega"}`,
		`{"body":"emoji\ud83c\udf89<k>\"ey\""}`,
		`{"body":"emoji🎉\u003ck\u003e\"ey\""}`,
		`?q=p%C3%A4ss-w%C3%B6rd-%CE%A9mega`,
		`cMOkc3Mtd8O2cmQtzqltZWdh`,
	} {
		got := r.String(text)
		if !strings.Contains(got, Mask) {
			t.Errorf("%s: not redacted: %s", text, got)
		}
	}
}

// BenchmarkStreamOneByteBlob: a 100 KB run of credential characters in 1-byte pieces (the held
// run is scanned about twice per byte, not once per Write).
func BenchmarkStreamOneByteBlob(b *testing.B) {
	r := New("hunter2hunter2")
	blob := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", 3000) // ~100 KB base64-like
	b.SetBytes(int64(len(blob)))
	for b.Loop() {
		s := r.NewStream()
		for i := 0; i < len(blob); i++ {
			s.Write(blob[i : i+1])
		}
		s.Flush()
	}
}
