package llm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

var allEncodings = []string{EncodingO200kBase, EncodingCl100kBase, EncodingP50kBase, EncodingR50kBase}

func mustTokenizer(t testing.TB, enc string) *Tokenizer {
	t.Helper()
	tk, err := TokenizerFor(enc)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// Known token ids, as OpenAI's tiktoken gives them.
func TestTokenizerKnownTokens(t *testing.T) {
	cases := []struct {
		enc, text string
		want      []int
	}{
		{EncodingO200kBase, "hello world", []int{24912, 2375}},
		{EncodingCl100kBase, "hello world", []int{15339, 1917}},
		{EncodingP50kBase, "hello world", []int{31373, 995}},
		{EncodingR50kBase, "hello world", []int{31373, 995}},
		// A special token's text is ordinary text: never the special id.
		{EncodingCl100kBase, "<|endoftext|>", []int{27, 91, 8862, 728, 428, 91, 29}},
		{EncodingO200kBase, "<|endoftext|>", []int{27, 91, 419, 1440, 919, 91, 29}},
		// CJK and emoji.
		{EncodingO200kBase, "你好，世界", []int{177519, 979, 28428}},
		{EncodingCl100kBase, "你好，世界", []int{57668, 53901, 3922, 3574, 244, 98220}},
		{EncodingO200kBase, "👍🏽 ok", []int{82514, 52622, 121, 4763}},
		{EncodingCl100kBase, "👍🏽 ok", []int{9468, 239, 235, 9468, 237, 121, 5509}},
		{EncodingO200kBase, "", nil},
	}
	for _, c := range cases {
		tk := mustTokenizer(t, c.enc)
		got, err := tk.Encode(c.text)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s Encode(%q) = %v, want %v", c.enc, c.text, got, c.want)
		}
		n, err := tk.Count(c.text)
		if err != nil || n != len(c.want) {
			t.Errorf("%s Count(%q) = %d, %v; want %d", c.enc, c.text, n, err, len(c.want))
		}
		if dec := tk.Decode(got); dec != c.text {
			t.Errorf("%s Decode(Encode(%q)) = %q", c.enc, c.text, dec)
		}
		if tk.Name() != c.enc {
			t.Errorf("Name() = %q, want %q", tk.Name(), c.enc)
		}
	}
}

func TestTokenizerSpecialTokensAreText(t *testing.T) {
	for _, enc := range allEncodings {
		tk := mustTokenizer(t, enc)
		text := "tool output: <|endoftext|><|fim_prefix|><|endofprompt|> done"
		ids, err := tk.Encode(text)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		for _, id := range ids {
			if _, special := tk.special[tk.Decode([]int{id})]; special {
				t.Errorf("%s: special token %d in the encoding of %q", enc, id, text)
			}
		}
		if got := tk.Decode(ids); got != text {
			t.Errorf("%s: round trip gives %q", enc, got)
		}
		// Decode still knows the special ids.
		if got := tk.Decode([]int{tk.special["<|endoftext|>"]}); got != "<|endoftext|>" {
			t.Errorf("%s: Decode(endoftext) = %q", enc, got)
		}
	}
}

func TestTokenizerForUnknown(t *testing.T) {
	_, err := TokenizerFor("gpt2_fancy")
	if !errors.Is(err, ErrUnknownEncoding) {
		t.Fatalf("err = %v, want ErrUnknownEncoding", err)
	}
	a, _ := TokenizerFor(EncodingO200kBase)
	b, _ := TokenizerFor(EncodingO200kBase)
	if a != b {
		t.Error("TokenizerFor built two tokenizers for one encoding")
	}
}

func TestTokenizerPanicBecomesError(t *testing.T) {
	var broken *Tokenizer
	if _, err := broken.Count("x"); !errors.Is(err, ErrTokenizer) {
		t.Errorf("Count on a broken tokenizer: err = %v, want ErrTokenizer", err)
	}
	if _, err := broken.Encode("x"); !errors.Is(err, ErrTokenizer) {
		t.Errorf("Encode on a broken tokenizer: err = %v, want ErrTokenizer", err)
	}
}

func TestTokenizerInvalidUTF8(t *testing.T) {
	tk := mustTokenizer(t, EncodingO200kBase)
	// Sent through encoding/json, each invalid byte becomes U+FFFD.
	got, err := tk.Count("ab\xffc\xe4\xb8")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tk.Count("ab\uFFFDc\uFFFD\uFFFD")
	if got != want {
		t.Errorf("Count of invalid UTF-8 = %d, want %d (as U+FFFD)", got, want)
	}
}

// The fast scanner and merger must give exactly the tokens of tiktoken-go's encoder (the reference,
// built from the same ranks) on text chosen to exercise every alternative of the patterns.
func TestTokenizerMatchesReference(t *testing.T) {
	palette := []string{
		"a", "B", "z", "Z", "ab", "Ab", "aB", "ABC", "abc", " ", "  ", "\n", "\r\n", "\r", "\t", " \n ",
		"'", "'s", "'S", "'ll", "'LL", "'Re", "'ve", "'d", "'m", "'t", "'x", "1", "23", "4567", "²", "Ⅻ", "٣",
		"é", "e\u0301", "\u0301", "\u0308", "ǅ", "ʰ", "ー", "中", "文", "😀", "👍🏽", "/", "//", "?", "!", ".",
		",", "-", "_", "{", "}", "\"", "\u00a0", "\u2028", "\u0085", "\u3000", "\u200b", "ſ", "K", "İ", "Ω",
		"ß", "ǈ", "ᾈ", "ʼ", "ـ", "ก", "\u0e31", "<|endoftext|>", "हि", "\u093f", "ʰa", "aʰ", "Aʰ", "ʰA",
		"\x00", "\u200d", "\ufeff", "$", "€", "\x7f", "𝐀", "𝑎", "🙂", "\U0001F1FA\U0001F1F8",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, enc := range allEncodings {
		tk := mustTokenizer(t, enc)
		for range 5000 {
			var b strings.Builder
			for range r.IntN(12) + 1 {
				b.WriteString(palette[r.IntN(len(palette))])
			}
			checkAgainstReference(t, tk, b.String())
		}
	}
}

// Long pieces take the heap-based merge.
func TestTokenizerLongPiecesMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabets := [][]string{
		{"a", "b", "e", "t", "h", "Z", "é", "中", "ー", "\u0301", "q", "x"},
		{"=", "+", "/", "{", "}", "\"", "€", "😀", "\u0301"},
		{"A", "Q", "z", "0", "9", "+", "/"}, // base64-like
	}
	for _, enc := range allEncodings {
		tk := mustTokenizer(t, enc)
		for i := range 60 {
			pal := alphabets[i%len(alphabets)]
			var b strings.Builder
			for range r.IntN(2000) + smallPiece {
				b.WriteString(pal[r.IntN(len(pal))])
			}
			s := b.String()
			if i%4 == 0 {
				bs := []byte(s)
				bs[r.IntN(len(bs))] = 0xff
				s = string(bs)
			}
			checkAgainstReference(t, tk, s)
		}
		checkAgainstReference(t, tk, strings.Repeat(" ", 5000)+"x")
		checkAgainstReference(t, tk, strings.Repeat("ab", 3000))
	}
}

func checkAgainstReference(t *testing.T, tk *Tokenizer, s string) {
	t.Helper()
	ref, err := tk.reference()
	if err != nil {
		t.Fatal(err)
	}
	want := ref.EncodeOrdinary(s)
	got, err := tk.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: Encode(%q) = %v, reference %v", tk.Name(), s, got, want)
	}
	if n, _ := tk.Count(s); n != len(want) {
		t.Fatalf("%s: Count(%q) = %d, reference %d", tk.Name(), s, n, len(want))
	}
}

func FuzzTokenizerMatchesReference(f *testing.F) {
	for _, s := range []string{"hello world", "I'm here.\n\n  x", "<|endoftext|>", "你好，世界 👍🏽", "a\u0301'S 123456 //\r\n"} {
		f.Add(s)
	}
	tks := []*Tokenizer{mustTokenizer(f, EncodingO200kBase), mustTokenizer(f, EncodingCl100kBase), mustTokenizer(f, EncodingR50kBase)}
	f.Add("ab\xffc\xe4\xb8")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tk := range tks {
			checkAgainstReference(t, tk, s)
		}
	})
}

func TestTokenizerConcurrentUse(t *testing.T) {
	texts := []string{"hello world", "你好，世界", "The quick brown fox jumps over the lazy dog. 👍🏽", strings.Repeat("xyz", 100)}
	want := map[string][]int{}
	for _, enc := range allEncodings {
		tk := mustTokenizer(t, enc)
		for _, s := range texts {
			want[enc+s], _ = tk.Encode(s)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			enc := allEncodings[g%len(allEncodings)]
			for i := range 50 {
				tk, err := TokenizerFor(enc)
				if err != nil {
					errs <- err
					return
				}
				s := texts[(g+i)%len(texts)]
				ids, err := tk.Encode(s)
				n, err2 := tk.Count(s)
				if err != nil || err2 != nil || !slices.Equal(ids, want[enc+s]) || n != len(ids) || tk.Decode(ids) != s {
					errs <- fmt.Errorf("%s %q: got %v (%d), want %v", enc, s, ids, n, want[enc+s])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTokenizerCountAllocatesNothing(t *testing.T) {
	tk := mustTokenizer(t, EncodingO200kBase)
	text := "Please summarise the attached report in three bullet points, focusing on revenue and risks. 你好 👍🏽"
	if n := testing.AllocsPerRun(100, func() { _, _ = tk.Count(text) }); n != 0 {
		t.Errorf("Count allocates %.0f times per call, want 0", n)
	}
}

func BenchmarkTokenizerCount(b *testing.B) {
	tk := mustTokenizer(b, EncodingO200kBase)
	text := "Please summarise the attached report in three bullet points, focusing on revenue and risks."
	b.ReportAllocs()
	for b.Loop() {
		_, _ = tk.Count(text)
	}
}

// The reference encoder on the same text, for comparison.
func BenchmarkTokenizerCountReference(b *testing.B) {
	tk := mustTokenizer(b, EncodingO200kBase)
	ref, err := tk.reference()
	if err != nil {
		b.Fatal(err)
	}
	text := "Please summarise the attached report in three bullet points, focusing on revenue and risks."
	b.ReportAllocs()
	for b.Loop() {
		_ = len(ref.EncodeOrdinary(text))
	}
}
