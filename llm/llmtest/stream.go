package llmtest

import (
	"context"
	"iter"
	"unicode/utf8"

	"github.com/autogpt-go/agent/llm"
)

// Fragment sizes of the streams that Script and Func produce, in runes.
const (
	textFragmentRunes = 4
	argsFragmentRunes = 8
)

// streamOf returns a sequence that, each time it is ranged over, calls generate once and yields the
// response as chunks (see Script.Stream).
func streamOf(ctx context.Context, generate func() (*llm.Response, error)) iter.Seq2[llm.Chunk, error] {
	return func(yield func(llm.Chunk, error) bool) {
		resp, err := generate()
		if err != nil {
			yield(llm.Chunk{}, err)
			return
		}
		for _, c := range Chunks(resp) {
			if err := ctx.Err(); err != nil {
				yield(llm.Chunk{}, err)
				return
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// Chunks splits resp into the chunks a streaming model would send: the text in fragments of a few
// runes (never splitting a UTF-8 sequence), then for each tool call, in order, a fragment with its
// Index, ID and Name and fragments with pieces of its Arguments, then a final chunk whose Response
// is a deep copy of resp. Concatenating the text fragments gives resp.Message.Content; the argument
// fragments of one Index give that call's Arguments.
func Chunks(resp *llm.Response) []llm.Chunk {
	var out []llm.Chunk
	for _, piece := range splitRunes(resp.Message.Content, textFragmentRunes) {
		out = append(out, llm.Chunk{Text: piece})
	}
	for i, c := range resp.Message.ToolCalls {
		out = append(out, llm.Chunk{ToolCall: &llm.ToolCallDelta{Index: i, ID: c.ID, Name: c.Name}})
		for _, piece := range splitRunes(c.Arguments, argsFragmentRunes) {
			out = append(out, llm.Chunk{ToolCall: &llm.ToolCallDelta{Index: i, Arguments: piece}})
		}
	}
	return append(out, llm.Chunk{Response: cloneResponse(resp)})
}

// splitRunes cuts s into pieces of n runes (the last may be shorter). Invalid UTF-8 bytes count as
// one rune each, so the pieces still concatenate to s.
func splitRunes(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		end := 0
		for k := 0; k < n && end < len(s); k++ {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}
