// Package memory holds history management beyond the default in-memory store: Summarizer, a
// Compactor that replaces history turns that no longer fit the context window by a model-written
// summary.
package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	agent "github.com/autogpt-go/agent"
	"github.com/autogpt-go/agent/llm"
)

// DefaultSummaryPrompt is the system prompt of a summarisation call when Summarizer.Prompt is "".
const DefaultSummaryPrompt = "You compress the working memory of an autonomous agent. Summarise the transcript " +
	"you are given for the agent itself: the facts it learned, the files and results it produced, the " +
	"tool calls that failed and why, decisions taken, and what remains to be done towards the goal. " +
	"Keep names, numbers, paths and identifiers exactly. Write plain text, no preamble."

// DefaultChunkTokens is the most transcript tokens one summarisation call receives when
// Summarizer.ChunkTokens is 0.
const DefaultChunkTokens = 6000

// SummaryPrefix starts every summary message, so a later summary recognises an earlier one.
const SummaryPrefix = "Summary of the earlier steps of this run:\n"

// Summarizer is an agent.Compactor: it replaces the turns that no longer fit the context window by
// one user message holding a model-written summary. A transcript larger than ChunkTokens is split
// into chunks at message boundaries (a message larger than a chunk is split by tokens); each chunk is
// summarised, then the partial summaries are summarised together, until one summary remains.
// An earlier summary, which comes first in the dropped turns, is carried into the new one. The zero
// value is ready to use with the run's model.
type Summarizer struct {
	// Model writes the summaries; nil uses the run's model (its usage then counts to the step).
	Model llm.Model
	// ModelName names Model for token counting (llm.LookupModel); "" counts with the registry's
	// fallback encoding, which is an estimate.
	ModelName string
	// Prompt is the system prompt of each summarisation call; "" means DefaultSummaryPrompt.
	Prompt string
	// ChunkTokens bounds the transcript tokens of one call; 0 means DefaultChunkTokens.
	ChunkTokens int
}

var _ agent.Compactor = (*Summarizer)(nil)

// Compact implements agent.Compactor. It returns the summary as a user message starting with
// SummaryPrefix, or the first error of a summarisation call.
func (s *Summarizer) Compact(ctx context.Context, in agent.CompactInput) (llm.Message, error) {
	model := s.Model
	if model == nil {
		model = in.Model
	}
	if model == nil {
		return llm.Message{}, errors.New("memory: Summarizer has no model")
	}
	counter, err := llm.NewCounter(s.ModelName)
	if err != nil {
		return llm.Message{}, err
	}
	chunkTokens := s.ChunkTokens
	if chunkTokens <= 0 {
		chunkTokens = DefaultChunkTokens
	}
	if in.MaxInputTokens > 0 {
		// Leave room in the window for the instructions, the goal and the framing.
		budget := in.MaxInputTokens
		if info := counter.Info(); info.Estimate {
			budget = int(float64(budget) / (1 + info.SafetyMargin)) // counts of this model carry a margin
		}
		room := budget - summaryOverhead(counter.Tokenizer(), s.Prompt, in.Goal)
		if room < 64 {
			return llm.Message{}, fmt.Errorf("memory: the summariser's window (%d tokens) leaves no room for the transcript", in.MaxInputTokens)
		}
		chunkTokens = min(chunkTokens, room)
	}
	parts := make([]string, 0, len(in.Dropped))
	for i, m := range in.Dropped {
		parts = append(parts, render(in.Dropped, i, m))
	}
	for round := 0; ; round++ {
		chunks, err := chunk(counter.Tokenizer(), parts, chunkTokens)
		if err != nil {
			return llm.Message{}, err
		}
		summaries := make([]string, 0, len(chunks))
		for _, c := range chunks {
			text, err := s.summarise(ctx, model, in, c, round > 0)
			if err != nil {
				return llm.Message{}, err
			}
			summaries = append(summaries, text)
		}
		if len(summaries) == 1 {
			return llm.Message{Role: llm.RoleUser, Content: SummaryPrefix + summaries[0]}, nil
		}
		if round >= 8 {
			return llm.Message{}, fmt.Errorf("memory: summaries did not converge after %d rounds (%d left)", round+1, len(summaries))
		}
		parts = summaries
	}
}

func (s *Summarizer) summarise(ctx context.Context, model llm.Model, in agent.CompactInput, transcript string, merging bool) (string, error) {
	prompt := s.Prompt
	if prompt == "" {
		prompt = DefaultSummaryPrompt
	}
	what := "Transcript of the earlier steps"
	if merging {
		what = "Partial summaries of consecutive parts of the earlier steps, oldest first; merge them into one"
	}
	req := &llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: prompt},
			{Role: llm.RoleUser, Content: fmt.Sprintf("The agent's goal: %s\n\n%s:\n\n%s", in.Goal, what, transcript)},
		},
		ToolChoice:      llm.ToolChoiceNone,
		MaxOutputTokens: in.MaxTokens,
	}
	resp, err := model.Generate(ctx, req)
	if err != nil {
		return "", fmt.Errorf("memory: summarising: %w", err)
	}
	text := strings.TrimSpace(resp.Message.Content)
	if text == "" {
		return "", errors.New("memory: summarising: the model returned an empty summary")
	}
	return text, nil
}

// summaryOverhead bounds the tokens of a summarisation request without its transcript: the
// system prompt, the goal line, the labels and per-message framing (64 tokens of slack).
func summaryOverhead(tok *llm.Tokenizer, prompt, goal string) int {
	if prompt == "" {
		prompt = DefaultSummaryPrompt
	}
	p, _ := tok.Count(prompt)
	g, _ := tok.Count(goal)
	return p + g + 96
}

// render writes one message of the transcript as a line a summariser can read.
func render(all []llm.Message, i int, m llm.Message) string {
	var b strings.Builder
	switch m.Role {
	case llm.RoleTool:
		name := m.Name
		if name == "" {
			name = "tool"
		}
		status := "result"
		if m.IsError {
			status = "error"
		}
		fmt.Fprintf(&b, "[%s %s] %s", name, status, m.Content)
	case llm.RoleUser:
		if strings.HasPrefix(m.Content, SummaryPrefix) {
			b.WriteString("[earlier summary] " + strings.TrimPrefix(m.Content, SummaryPrefix))
		} else {
			b.WriteString("[user] " + m.Content)
		}
	default:
		fmt.Fprintf(&b, "[%s]", m.Role)
		if m.Content != "" {
			b.WriteString(" " + m.Content)
		}
		for _, c := range m.ToolCalls {
			fmt.Fprintf(&b, " (calls %s %s)", c.Name, c.Arguments)
		}
	}
	return b.String()
}

// chunk packs parts, in order, into texts of at most limit tokens; a part larger than limit is
// split by tokens (at rune boundaries).
func chunk(tok *llm.Tokenizer, parts []string, limit int) ([]string, error) {
	var chunks []string
	var cur strings.Builder
	used := 0
	flush := func() {
		if cur.Len() > 0 {
			chunks = append(chunks, cur.String())
			cur.Reset()
			used = 0
		}
	}
	for _, p := range parts {
		n, err := tok.Count(p)
		if err != nil {
			return nil, err
		}
		if n > limit {
			flush()
			ids, err := tok.Encode(p)
			if err != nil {
				return nil, err
			}
			chunks = append(chunks, splitByTokens(tok, p, ids, limit)...)
			continue
		}
		if used+n+1 > limit {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n")
			used++
		}
		cur.WriteString(p)
		used += n
	}
	flush()
	return chunks, nil
}

// splitByTokens cuts p (whose tokens are ids) into pieces of at most limit tokens, at rune
// boundaries: a character that a token boundary splits goes whole into the next piece, so no
// character is lost.
func splitByTokens(tok *llm.Tokenizer, p string, ids []int, limit int) []string {
	var pieces []string
	start, off := 0, 0 // byte offsets into p
	for i := 0; i < len(ids); i += limit {
		end := min(i+limit, len(ids))
		off += len(tok.Decode(ids[i:end])) // tokens are byte sequences: decoded lengths add up
		cut := min(off, len(p))
		for cut > start && cut < len(p) && !utf8.RuneStart(p[cut]) {
			cut-- // back to the start of the split character
		}
		if cut > start {
			pieces = append(pieces, p[start:cut])
			start = cut
		}
	}
	if start < len(p) {
		pieces = append(pieces, p[start:])
	}
	return pieces
}
