package bench

import (
	"runtime"
	"sync"
	"testing"
	"time"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/tmc/langchaingo/llms"

	"github.com/autogpt-go/agent/llm"
)

// The token-count comparison: one short message (20 tokens in o200k_base) counted for gpt-4o,
// warm, by our shared Tokenizer and by langchaingo's llms.CountTokens, which looks up the
// encoding and builds a new tiktoken-go encoder on every call.
const (
	countModel = "gpt-4o"
	countText  = "Please summarise the attached quarterly report in three short bullet points for the board."
)

// offlineLoader points tiktoken-go's global loader at the embedded ranks, once, so that
// llms.CountTokens measures its encoder rebuild and not a failed download.
var offlineLoader sync.Once

func setupCount(b *testing.B) (ours func() int, theirs func() int) {
	b.Helper()
	offlineLoader.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
	info, _ := llm.LookupModel(countModel)
	tok, err := llm.TokenizerFor(info.Encoding)
	if err != nil {
		b.Fatal(err)
	}
	ours = func() int {
		n, err := tok.Count(countText)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	theirs = func() int { return llms.CountTokens(countModel, countText) }
	// Warm both, and check they agree.
	if a, c := ours(), theirs(); a != c || a < 15 || a > 25 {
		b.Fatalf("counts differ or are off: ours %d, langchaingo %d", a, c)
	}
	return ours, theirs
}

// BenchmarkCountTokens times one warm count of the message with each library.
func BenchmarkCountTokens(b *testing.B) {
	ours, theirs := setupCount(b)
	b.Run("autogpt-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ours()
		}
	})
	b.Run("langchaingo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			theirs()
		}
	})
}

// BenchmarkCountTokensRatio measures both in the same process, in alternating batches of about
// 100 ms each, and reports how many times faster our count is (x-faster-than-langchaingo) and
// our time divided by langchaingo's (ns-vs-langchaingo), with the allocations of each per count.
// Its own ns/op is suppressed: one op is the whole comparison.
func BenchmarkCountTokensRatio(b *testing.B) {
	ours, theirs := setupCount(b)
	const rounds, batchTime = 3, 100 * time.Millisecond
	batch := func(f func() int) int { // calls of f that last about batchTime
		start := time.Now()
		calls := 0
		for calls == 0 || time.Since(start) < batchTime/10 {
			f()
			calls++
		}
		per := time.Since(start) / time.Duration(calls)
		return max(1, int(batchTime/max(per, 1)))
	}
	nOurs, nTheirs := batch(ours), batch(theirs)
	type stat struct {
		ns, allocs float64
		calls      int
	}
	measure := func(f func() int, n int, s *stat) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		for range n {
			f()
		}
		s.ns += float64(time.Since(start).Nanoseconds())
		runtime.ReadMemStats(&after)
		s.allocs += float64(after.Mallocs - before.Mallocs)
		s.calls += n
	}
	var so, st stat
	for b.Loop() {
		for range rounds {
			measure(ours, nOurs, &so)
			measure(theirs, nTheirs, &st)
		}
	}
	oursNs, theirsNs := so.ns/float64(so.calls), st.ns/float64(st.calls)
	b.Logf("autogpt-go  %12.0f ns/count %10.1f allocs/count", oursNs, so.allocs/float64(so.calls))
	b.Logf("langchaingo %12.0f ns/count %10.1f allocs/count", theirsNs, st.allocs/float64(st.calls))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(theirsNs/oursNs, "x-faster-than-langchaingo")
	b.ReportMetric(oursNs/theirsNs, "ns-vs-langchaingo")
	b.ReportMetric(so.allocs/float64(so.calls), "allocs/count")
	b.ReportMetric(st.allocs/float64(st.calls), "langchaingo-allocs/count")
}
