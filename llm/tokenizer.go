package llm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	tiktoken "github.com/pkoukk/tiktoken-go"
	"github.com/pkoukk/tiktoken-go-loader/assets"
)

// The BPE encodings TokenizerFor knows, by the names OpenAI's tiktoken gives them.
const (
	EncodingO200kBase  = "o200k_base"  // gpt-4o, gpt-4.1, gpt-4.5, o1, o3, o4, gpt-5
	EncodingCl100kBase = "cl100k_base" // gpt-4, gpt-4-turbo, gpt-3.5-turbo
	EncodingP50kBase   = "p50k_base"   // text-davinci-002/003, code-davinci
	EncodingR50kBase   = "r50k_base"   // GPT-3 (davinci, curie, babbage, ada)
)

// ErrUnknownEncoding is returned (wrapped) by TokenizerFor for an encoding name it does not know.
var ErrUnknownEncoding = errors.New("llm: unknown token encoding")

// ErrTokenizer is returned (wrapped) when tokenising fails unexpectedly: the tokenizer recovered
// from a panic, or the embedded BPE ranks could not be read.
var ErrTokenizer = errors.New("llm: tokenizer failure")

// Tokenizer turns text into the tokens of one byte-level BPE encoding (o200k_base, cl100k_base,
// p50k_base or r50k_base), exactly as OpenAI's tiktoken does.
//
// Text is always encoded as plain text: special-token strings such as "<|endoftext|>" found in it
// are ordinary characters (tiktoken's encode_ordinary), so a tool output can never inject a
// control token or make the tokenizer fail. Invalid UTF-8 is first replaced byte by byte with
// U+FFFD, as encoding/json does when the text is sent.
//
// A Tokenizer is built once per encoding per process (see TokenizerFor), is immutable, and is safe
// for concurrent use by any number of goroutines.
//
// How it works: the mergeable ranks come from github.com/pkoukk/tiktoken-go-loader's embedded
// assets (no download). Count and Encode split text with a hand-written scanner equivalent to the
// encoding's pre-tokenisation regular expression (the patterns of tiktoken_ext/openai_public.py in
// OpenAI's tiktoken) and merge byte pairs by rank (tiktoken's byte_pair_merge), allocating
// nothing for valid UTF-8 text whose pieces are at most 128 bytes long (Encode allocates its
// result; longer pieces use an O(n log n) merge with scratch buffers). The reference implementation, github.com/pkoukk/tiktoken-go's encoder,
// is built from the same ranks with its exported constructors (NewCoreBPE, NewTiktoken; never its
// global loader) and serves Decode; tests check that both give the same tokens.
type Tokenizer struct {
	name    string
	kind    splitKind
	ranks   map[string]int // byte sequence -> token id; read-only after construction
	special map[string]int // special-token text -> id (for Decode only)
	pattern string         // the pre-tokenisation regular expression (for the reference encoder)

	refOnce sync.Once
	ref     *tiktoken.Tiktoken
	refErr  error
}

// encodingSpec holds the published facts of one encoding: asset file, pre-tokenisation pattern,
// special tokens. Source: tiktoken_ext/openai_public.py in github.com/openai/tiktoken (the same
// values tiktoken-go v0.1.8 uses in encoding.go).
type encodingSpec struct {
	asset   string
	kind    splitKind
	pattern string
	special map[string]int
}

var encodingSpecs = map[string]encodingSpec{
	EncodingO200kBase: {
		asset: "o200k_base.tiktoken",
		kind:  splitO200k,
		pattern: strings.Join([]string{
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
			`\p{N}{1,3}`,
			` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
			`\s*[\r\n]+`,
			`\s+(?!\S)`,
			`\s+`,
		}, "|"),
		special: map[string]int{"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
	},
	EncodingCl100kBase: {
		asset:   "cl100k_base.tiktoken",
		kind:    splitCl100k,
		pattern: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		special: map[string]int{
			"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
			"<|fim_suffix|>": 100260, "<|endofprompt|>": 100276,
		},
	},
	EncodingP50kBase: {
		asset:   "p50k_base.tiktoken",
		kind:    splitGPT2,
		pattern: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
		special: map[string]int{"<|endoftext|>": 50256},
	},
	EncodingR50kBase: {
		asset:   "r50k_base.tiktoken",
		kind:    splitGPT2,
		pattern: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
		special: map[string]int{"<|endoftext|>": 50256},
	},
}

type tokenizerSlot struct {
	once sync.Once
	tok  *Tokenizer
	err  error
}

// tokenizers holds one slot per known encoding; each is filled at most once per process.
var tokenizers = func() map[string]*tokenizerSlot {
	m := make(map[string]*tokenizerSlot, len(encodingSpecs))
	for name := range encodingSpecs {
		m[name] = new(tokenizerSlot)
	}
	return m
}()

// TokenizerFor returns the process-wide Tokenizer of encoding ("o200k_base", "cl100k_base",
// "p50k_base" or "r50k_base"). The first call for an encoding parses its embedded ranks (for
// o200k_base about 50 ms and 8 MB of heap, measured on a 2-core Xeon; cl100k_base about 20 ms);
// later calls return the same *Tokenizer at once. It is safe for concurrent use. An unknown name
// gives an error wrapping ErrUnknownEncoding.
func TokenizerFor(encoding string) (*Tokenizer, error) {
	slot, ok := tokenizers[encoding]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: o200k_base, cl100k_base, p50k_base, r50k_base)", ErrUnknownEncoding, encoding)
	}
	slot.once.Do(func() { slot.tok, slot.err = newTokenizer(encoding, encodingSpecs[encoding]) })
	return slot.tok, slot.err
}

func newTokenizer(name string, spec encodingSpec) (*Tokenizer, error) {
	data, err := assets.Assets.ReadFile(spec.asset)
	if err != nil {
		return nil, fmt.Errorf("%w: reading embedded ranks %s: %v", ErrTokenizer, spec.asset, err)
	}
	ranks, err := parseRanks(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTokenizer, spec.asset, err)
	}
	return &Tokenizer{name: name, kind: spec.kind, ranks: ranks, special: spec.special, pattern: spec.pattern}, nil
}

// parseRanks reads a .tiktoken file: one "BASE64 RANK" line per token.
func parseRanks(data []byte) (map[string]int, error) {
	ranks := make(map[string]int, bytes.Count(data, []byte{'\n'})+1)
	buf := make([]byte, 0, 256)
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		b64, num, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			return nil, fmt.Errorf("bad line %q", line)
		}
		n, err := base64.StdEncoding.Decode(buf[:cap(buf)], b64)
		if err != nil {
			return nil, fmt.Errorf("bad token %q: %v", b64, err)
		}
		rank, err := strconv.Atoi(string(num))
		if err != nil {
			return nil, fmt.Errorf("bad rank %q: %v", num, err)
		}
		ranks[string(buf[:n])] = rank
	}
	return ranks, nil
}

// Name returns the encoding's name, such as "o200k_base".
func (t *Tokenizer) Name() string { return t.name }

// label is Name for error messages, safe on a nil Tokenizer.
func (t *Tokenizer) label() string {
	if t == nil {
		return "nil tokenizer"
	}
	return t.name
}

// Count returns the number of tokens of text encoded as plain text. It allocates nothing for valid
// UTF-8 text. The error is non-nil only if the tokenizer failed unexpectedly (a recovered panic,
// wrapping ErrTokenizer); the count is then 0.
func (t *Tokenizer) Count(text string) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: %s: panic: %v", ErrTokenizer, t.label(), r)
		}
	}()
	return t.count(text), nil
}

// count is Count without the panic guard, for callers that install their own.
func (t *Tokenizer) count(text string) int {
	if !utf8.ValidString(text) {
		text = sanitizeUTF8(text)
	}
	n := 0
	sp := splitter{text: text, kind: t.kind}
	for {
		piece, ok := sp.next()
		if !ok {
			return n
		}
		if _, ok := t.ranks[piece]; ok {
			n++
			continue
		}
		n += t.merge(piece, nil, false).n
	}
}

// Encode returns the token ids of text encoded as plain text (never special tokens). The error is
// non-nil only if the tokenizer failed unexpectedly (a recovered panic, wrapping ErrTokenizer).
func (t *Tokenizer) Encode(text string) (ids []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			ids, err = nil, fmt.Errorf("%w: %s: panic: %v", ErrTokenizer, t.label(), r)
		}
	}()
	if !utf8.ValidString(text) {
		text = sanitizeUTF8(text)
	}
	ids = make([]int, 0, len(text)/3+1)
	sp := splitter{text: text, kind: t.kind}
	for {
		piece, ok := sp.next()
		if !ok {
			return ids, nil
		}
		if id, ok := t.ranks[piece]; ok {
			ids = append(ids, id)
			continue
		}
		ids = t.merge(piece, ids, true).ids
	}
}

// Decode returns the text of tokens: the concatenated bytes of each token (special tokens as their
// text, such as "<|endoftext|>"); ids the encoding does not have are skipped. A sequence that
// ends inside a multi-byte character gives invalid UTF-8 at the end. The first call builds
// tiktoken-go's reference encoder for this encoding (about 100 ms and 13 MB for o200k_base); if
// that fails, Decode returns "".
func (t *Tokenizer) Decode(tokens []int) string {
	ref, err := t.reference()
	if err != nil {
		return ""
	}
	return ref.Decode(tokens)
}

// reference returns tiktoken-go's encoder for this encoding, built once from the same ranks with
// tiktoken-go's exported constructors (not its unsynchronised global loader). tiktoken-go's
// CoreBPE is safe for concurrent use: its maps are read-only after construction and regexp2 keeps
// its match runners in a pool guarded by a mutex.
func (t *Tokenizer) reference() (*tiktoken.Tiktoken, error) {
	t.refOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				t.refErr = fmt.Errorf("%w: %s: building reference encoder: panic: %v", ErrTokenizer, t.name, r)
			}
		}()
		bpe, err := tiktoken.NewCoreBPE(t.ranks, t.special, t.pattern)
		if err != nil {
			t.refErr = fmt.Errorf("%w: %s: %v", ErrTokenizer, t.name, err)
			return
		}
		set := make(map[string]any, len(t.special))
		for s := range t.special {
			set[s] = true
		}
		enc := &tiktoken.Encoding{Name: t.name, PatStr: t.pattern, MergeableRanks: t.ranks, SpecialTokens: t.special}
		t.ref = tiktoken.NewTiktoken(bpe, enc, set)
	})
	return t.ref, t.refErr
}

// sanitizeUTF8 replaces each byte of an invalid UTF-8 sequence with U+FFFD, as Go's []rune
// conversion and encoding/json do.
func sanitizeUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// mergeResult is what merge returns: the number of tokens of the piece, and ids with the piece's
// token ids appended when they were asked for.
type mergeResult struct {
	n   int
	ids []int
}

// smallPiece is the longest piece, in bytes, merged with the simple quadratic algorithm on stack
// arrays; longer pieces (long words, runs of symbols, base64) use a heap, O(n log n).
const smallPiece = 128

// merge applies byte-pair merges to piece (which is not itself a token): repeatedly join the
// adjacent pair whose concatenation has the lowest rank, the leftmost on ties, until no adjacent
// pair is a token. This is tiktoken's byte_pair_merge, restated.
func (t *Tokenizer) merge(piece string, ids []int, emit bool) mergeResult {
	if len(piece) > smallPiece {
		return t.mergeLarge(piece, ids, emit)
	}
	const none = int(^uint(0) >> 1)
	var posBuf [smallPiece + 1]int
	var rankBuf [smallPiece + 1]int
	// Parts are piece[pos[i]:pos[i+1]]; rank[i] is the rank of parts i and i+1 joined.
	pos := posBuf[:len(piece)+1]
	rank := rankBuf[:len(piece)+1]
	for i := range pos {
		pos[i] = i
	}
	pairRank := func(i int) int {
		if i+2 < len(pos) {
			if r, ok := t.ranks[piece[pos[i]:pos[i+2]]]; ok {
				return r
			}
		}
		return none
	}
	for i := range rank {
		rank[i] = pairRank(i)
	}
	for len(pos) > 2 {
		best, at := none, -1
		for i := 0; i < len(pos)-2; i++ {
			if rank[i] < best {
				best, at = rank[i], i
			}
		}
		if at < 0 {
			break
		}
		copy(pos[at+1:], pos[at+2:])
		pos = pos[:len(pos)-1]
		copy(rank[at+1:], rank[at+2:])
		rank = rank[:len(rank)-1]
		rank[at] = pairRank(at)
		if at > 0 {
			rank[at-1] = pairRank(at - 1)
		}
	}
	if emit {
		for i := 0; i+1 < len(pos); i++ {
			ids = append(ids, t.ranks[piece[pos[i]:pos[i+1]]])
		}
	}
	return mergeResult{n: len(pos) - 1, ids: ids}
}

// mergeLarge is merge for long pieces: the parts form a linked list and candidate pairs wait in a
// min-heap ordered by (rank, start offset), so each merge costs O(log n). Stale heap entries are
// recognised by a per-part version number and skipped.
func (t *Tokenizer) mergeLarge(piece string, ids []int, emit bool) mergeResult {
	n := len(piece)
	next := make([]int32, n) // start of the following part, or n
	prev := make([]int32, n) // start of the preceding part, or -1
	ver := make([]uint32, n) // bumped whenever the pair starting here changes
	for i := range n {
		next[i] = int32(i + 1)
		prev[i] = int32(i - 1)
	}
	h := pairHeap{}
	h.items = make([]pairItem, 0, n)
	pairEnd := func(i int32) int32 { // end of the part after the one starting at i
		j := next[i]
		if int(j) >= n {
			return -1
		}
		return next[j]
	}
	add := func(i int32) {
		end := pairEnd(i)
		if end < 0 {
			return
		}
		if r, ok := t.ranks[piece[i:end]]; ok {
			h.push(pairItem{rank: r, start: i, ver: ver[i]})
		}
	}
	for i := int32(0); int(i) < n; i++ {
		add(i)
	}
	parts := n
	for len(h.items) > 0 {
		it := h.pop()
		i := it.start
		if it.ver != ver[i] {
			continue
		}
		// Join part i with its successor j.
		j := next[i]
		k := next[j]
		next[i] = k
		if int(k) < n {
			prev[k] = i
		}
		ver[j]++ // j is gone; anything queued for it is stale
		ver[i]++
		parts--
		add(i)
		if p := prev[i]; p >= 0 {
			ver[p]++
			add(p)
		}
	}
	if emit {
		for i := int32(0); int(i) < n; i = next[i] {
			ids = append(ids, t.ranks[piece[i:next[i]]])
		}
	}
	return mergeResult{n: parts, ids: ids}
}

type pairItem struct {
	rank  int
	start int32
	ver   uint32
}

func (a pairItem) less(b pairItem) bool {
	return a.rank < b.rank || a.rank == b.rank && a.start < b.start
}

// pairHeap is a binary min-heap of pairItem (no container/heap, to avoid interface boxing).
type pairHeap struct{ items []pairItem }

func (h *pairHeap) push(x pairItem) {
	h.items = append(h.items, x)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.items[i].less(h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *pairHeap) pop() pairItem {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= last {
			break
		}
		m := l
		if r := l + 1; r < last && h.items[r].less(h.items[l]) {
			m = r
		}
		if !h.items[m].less(h.items[i]) {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// splitKind selects the pre-tokenisation rules of an encoding.
type splitKind uint8

const (
	splitO200k  splitKind = iota // o200k_base
	splitCl100k                  // cl100k_base
	splitGPT2                    // p50k_base and r50k_base (GPT-2's pattern)
)

// Character classes, as bit flags; Unicode general categories from Go's unicode package, which is
// also what tiktoken-go's regular-expression engine (regexp2) uses.
const (
	fLu    uint16 = 1 << iota // uppercase letter
	fLl                       // lowercase letter
	fLt                       // titlecase letter
	fLm                       // modifier letter
	fLo                       // other letter
	fM                        // mark
	fN                        // number
	fSpace                    // white space (\s: unicode.IsSpace)
	fEnd                      // past the end of the text

	fL  = fLu | fLl | fLt | fLm | fLo // \p{L}
	fUp = fLu | fLt | fLm | fLo | fM  // o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	fLw = fLl | fLm | fLo | fM        // o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}]
)

func classify(r rune) uint16 {
	var f uint16
	switch {
	case r < 0:
		return fEnd
	case unicode.Is(unicode.Lu, r):
		f = fLu
	case unicode.Is(unicode.Ll, r):
		f = fLl
	case unicode.Is(unicode.Lt, r):
		f = fLt
	case unicode.Is(unicode.Lm, r):
		f = fLm
	case unicode.Is(unicode.Lo, r):
		f = fLo
	case unicode.Is(unicode.M, r):
		f = fM
	case unicode.Is(unicode.N, r):
		f = fN
	}
	if unicode.IsSpace(r) {
		f |= fSpace
	}
	return f
}

// bmpClasses caches classify for the Basic Multilingual Plane (128 KiB, built once on first use).
var bmpClasses = sync.OnceValue(func() *[0x10000]uint16 {
	var t [0x10000]uint16
	for r := range t {
		t[r] = classify(rune(r))
	}
	return &t
})

// splitter walks text piece by piece as tiktoken's pre-tokenisation regular expression would
// (regex find-all, leftmost alternative first, greedy with backtracking), without a regex engine
// and without allocating. text must be valid UTF-8.
type splitter struct {
	text string
	pos  int
	kind splitKind
	cls  *[0x10000]uint16
}

// next returns the next piece, or false at the end of the text.
func (s *splitter) next() (string, bool) {
	if s.pos >= len(s.text) {
		return "", false
	}
	if s.cls == nil {
		s.cls = bmpClasses()
	}
	var end int
	switch s.kind {
	case splitO200k:
		end = s.o200k(s.pos)
	case splitCl100k:
		end = s.cl100k(s.pos)
	default:
		end = s.gpt2(s.pos)
	}
	if end <= s.pos { // cannot happen: every character matches some alternative
		_, n := utf8.DecodeRuneInString(s.text[s.pos:])
		end = s.pos + n
	}
	piece := s.text[s.pos:end]
	s.pos = end
	return piece, true
}

// at returns the rune starting at byte i, its size in bytes and its class (fEnd past the end).
func (s *splitter) at(i int) (rune, int, uint16) {
	if i >= len(s.text) {
		return -1, 0, fEnd
	}
	if b := s.text[i]; b < utf8.RuneSelf {
		return rune(b), 1, s.cls[b]
	}
	r, n := utf8.DecodeRuneInString(s.text[i:])
	if r < 0x10000 {
		return r, n, s.cls[r]
	}
	return r, n, classify(r)
}

// prefixable reports whether a rune matches [^\r\n\p{L}\p{N}] (the optional prefix of a word).
func prefixable(r rune, f uint16) bool {
	return f&(fL|fN|fEnd) == 0 && r != '\r' && r != '\n'
}

// punctuation reports whether a class matches [^\s\p{L}\p{N}].
func punctuation(f uint16) bool { return f&(fSpace|fL|fN|fEnd) == 0 }

// contraction returns the end of one of 's 't 're 've 'm 'll 'd at byte i (ASCII letters of either
// case when fold is set), or i when there is none.
func (s *splitter) contraction(i int, fold bool) int {
	t := s.text
	if i+1 >= len(t) || t[i] != '\'' {
		return i
	}
	lower := func(b byte) byte {
		if fold && 'A' <= b && b <= 'Z' {
			return b + ('a' - 'A')
		}
		return b
	}
	switch lower(t[i+1]) {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(t) && lower(t[i+2]) == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(t) && lower(t[i+2]) == 'l' {
			return i + 3
		}
	}
	return i
}

// o200k matches, at byte p, o200k_base's pattern:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
func (s *splitter) o200k(p int) int {
	c0, n0, f0 := s.at(p)
	pre := prefixable(c0, f0)
	if pre {
		if e := s.o200kLower(p + n0); e >= 0 {
			return e
		}
	}
	if e := s.o200kLower(p); e >= 0 {
		return e
	}
	if pre {
		if e := s.o200kUpper(p + n0); e >= 0 {
			return e
		}
	}
	if e := s.o200kUpper(p); e >= 0 {
		return e
	}
	if f0&fN != 0 {
		return s.numbers(p, 3)
	}
	if e := s.punct(p, true, "\r\n/"); e >= 0 {
		return e
	}
	return s.spaces(p, true)
}

// o200kLower matches [Up]*[Lw]+ contraction? at i (Up and Lw overlap: Lm, Lo, M), returning -1
// when it does not match. Backtracking: the greedy [Up]* gives back characters until [Lw]+ can
// start, so the match ends after the Lw run that follows the Up run, or else just after the last
// Lw character inside the Up run.
func (s *splitter) o200kLower(i int) int {
	lastLw := -1
	for {
		_, n, f := s.at(i)
		if f&fUp == 0 {
			break
		}
		i += n
		if f&fLw != 0 {
			lastLw = i
		}
	}
	end := i
	for {
		_, n, f := s.at(end)
		if f&fLw == 0 {
			break
		}
		end += n
	}
	if end == i {
		if lastLw < 0 {
			return -1
		}
		end = lastLw
	}
	return s.contraction(end, true)
}

// o200kUpper matches [Up]+[Lw]* contraction? at i, or returns -1.
func (s *splitter) o200kUpper(i int) int {
	if _, _, f := s.at(i); f&fUp == 0 {
		return -1
	}
	for {
		_, n, f := s.at(i)
		if f&fUp == 0 {
			break
		}
		i += n
	}
	for {
		_, n, f := s.at(i)
		if f&fLw == 0 {
			break
		}
		i += n
	}
	return s.contraction(i, true)
}

// cl100k matches, at byte p, cl100k_base's pattern:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func (s *splitter) cl100k(p int) int {
	if e := s.contraction(p, true); e > p {
		return e
	}
	c0, n0, f0 := s.at(p)
	if prefixable(c0, f0) {
		if _, _, f1 := s.at(p + n0); f1&fL != 0 {
			return s.run(p+n0, fL)
		}
	}
	if f0&fL != 0 {
		return s.run(p, fL)
	}
	if f0&fN != 0 {
		return s.numbers(p, 3)
	}
	if e := s.punct(p, true, "\r\n"); e >= 0 {
		return e
	}
	return s.spaces(p, true)
}

// gpt2 matches, at byte p, the pattern of p50k_base and r50k_base:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func (s *splitter) gpt2(p int) int {
	if e := s.contraction(p, false); e > p {
		return e
	}
	c0, _, f0 := s.at(p)
	for _, class := range [...]uint16{fL, fN} {
		if c0 == ' ' {
			if _, _, f1 := s.at(p + 1); f1&class != 0 {
				return s.run(p+1, class)
			}
		}
		if f0&class != 0 {
			return s.run(p, class)
		}
	}
	if e := s.punct(p, false, ""); e >= 0 {
		return e
	}
	return s.spaces(p, false)
}

// run returns the end of the run of characters of class starting at i.
func (s *splitter) run(i int, class uint16) int {
	for {
		_, n, f := s.at(i)
		if f&class == 0 {
			return i
		}
		i += n
	}
}

// numbers matches \p{N}{1,max} at i.
func (s *splitter) numbers(i, max int) int {
	for k := 0; k < max; k++ {
		_, n, f := s.at(i)
		if f&fN == 0 {
			break
		}
		i += n
	}
	return i
}

// punct matches " ?[^\s\p{L}\p{N}]+" followed, when trailing is set, by [tail]* (tail is ASCII), at
// p; it returns -1 when it does not match.
func (s *splitter) punct(p int, trailing bool, tail string) int {
	i := p
	if c0, _, _ := s.at(p); c0 == ' ' {
		if _, _, f1 := s.at(p + 1); punctuation(f1) {
			i = p + 1
		}
	}
	if _, _, f := s.at(i); !punctuation(f) {
		return -1
	}
	for {
		_, n, f := s.at(i)
		if !punctuation(f) {
			break
		}
		i += n
	}
	if trailing {
		for i < len(s.text) && strings.IndexByte(tail, s.text[i]) >= 0 {
			i++
		}
	}
	return i
}

// spaces matches, at p, \s*[\r\n]+ (when newlines is set) | \s+(?!\S) | \s+.
func (s *splitter) spaces(p int, newlines bool) int {
	i, lastNL, last, count := p, -1, p, 0
	for {
		c, n, f := s.at(i)
		if f&fSpace == 0 {
			break
		}
		last = i
		i += n
		count++
		if c == '\r' || c == '\n' {
			lastNL = i
		}
	}
	switch {
	case count == 0:
		return -1
	case newlines && lastNL >= 0:
		return lastNL // \s*[\r\n]+ backtracks to the last newline
	case i == len(s.text) || count == 1:
		return i // \s+(?!\S) at the end, or \s+
	default:
		return last // \s+(?!\S) gives back the last space
	}
}
