package termsafe

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestStrip(t *testing.T) {
	cases := map[string]string{
		"plain text\nnext\tcol":                  "plain text\nnext\tcol",
		"héllo 日本語 🙂":                            "héllo 日本語 🙂",
		"\x1b[31mred\x1b[0m":                     "red",
		"\x1b[2J\x1b[Hcleared":                   "cleared",
		"title\x1b]0;pwned\x07 after":            "title after",
		"osc st\x1b]8;;http://x\x1b\\link":       "osc stlink",
		"cr\roverwrite":                          "croverwrite",
		"bell\x07 back\x08space del\x7f":         "bell backspace del",
		"c1 csi \u009b31m red":                   "c1 csi  red",
		"bidi \u202eevil\u202c ok \u2066x\u2069": "bidi evil ok x",
		"trailing esc \x1b":                      "trailing esc ",
		"bad \xff utf8":                          "bad \uFFFD utf8",
	}
	for in, want := range cases {
		assert.Equal(t, want, Strip(in), "%q", in)
	}
}

func FuzzStrip(f *testing.F) {
	for _, s := range []string{"\x1b[31mx", "\x1b]0;t\x07", "a\u202eb", "\xff\xfe", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Strip(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control %U left in %q", r, out)
			}
		}
		if Strip(out) != out {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}
