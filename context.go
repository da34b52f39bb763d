package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/autogpt-go/agent/llm"
)

// ErrContextWindowExceeded is returned (wrapped) before any model call when the part of the prompt
// that is never trimmed (system prompt, goal, tool definitions and the current turn) cannot fit the
// model's context window minus the room reserved for the answer.
var ErrContextWindowExceeded = errors.New("agent: prompt does not fit the context window")

// ErrBudgetExceeded is matched (errors.Is) by the *BudgetError a run stops with when its next model
// call could exceed Config.MaxTotalTokens or Config.MaxCostUSD.
var ErrBudgetExceeded = errors.New("agent: budget exceeded")

// BudgetError reports which budget the next model call could exceed. It is checked before the
// call, from the exact prompt count plus the most output tokens the call may produce.
type BudgetError struct {
	// Budget is "tokens" (Config.MaxTotalTokens) or "usd" (Config.MaxCostUSD).
	Budget string
	// Limit is the configured budget; Spent what the run used so far; Next the worst case of the
	// next call (prompt tokens plus maximum output tokens, or their price in USD).
	Limit, Spent, Next float64
}

// Error describes the budget, what was spent and the next call's worst case, in tokens or USD.
func (e *BudgetError) Error() string {
	unit := "tokens"
	f := "%.0f"
	if e.Budget == "usd" {
		unit, f = "USD", "%.6f"
	}
	return fmt.Sprintf("agent: budget exceeded: "+f+" %s spent, the next call could use up to "+f+" more, the budget is "+f+" %s",
		e.Spent, unit, e.Next, e.Limit, unit)
}

// Is makes errors.Is(err, ErrBudgetExceeded) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExceeded }

// Compactor replaces history turns that no longer fit the context window by something shorter,
// typically a summary (see package memory). Without one, the loop drops those turns.
type Compactor interface {
	// Compact returns the message that stands for in.Dropped in later prompts (a user message is
	// the safe choice for every provider). An error ends the step.
	Compact(ctx context.Context, in CompactInput) (llm.Message, error)
}

// CompactInput is what a Compactor receives.
type CompactInput struct {
	// Goal is the run's goal.
	Goal string
	// Dropped are the turns that no longer fit, oldest first, in whole turns (an assistant message
	// with tool calls is never separated from its results). When an earlier compaction happened,
	// its message comes first.
	Dropped []llm.Message
	// Model is the run's model, wrapped so that the usage of any call counts to the step.
	Model llm.Model
	// MaxTokens is the most tokens the returned message may take.
	MaxTokens int
	// MaxInputTokens is the most prompt tokens one model call of the Compactor may send: the
	// context window less the room reserved for the answer.
	MaxInputTokens int
}

// MemoryRewriter is implemented by a Memory that can replace part of its history. A Compactor's
// message is stored through it, so that it replaces the dropped turns for good.
type MemoryRewriter interface {
	// Replace replaces the messages [start, end) of the history by msgs.
	Replace(ctx context.Context, start, end int, msgs ...llm.Message) error
}

// fitState is a run's cache for fitting: per-message token counts, kept across steps so that a
// step's fitting costs about the same at any history length.
type fitState struct {
	rest []countedMessage // counts of the messages after the pinned head, by position
	head struct {
		msgs   []llm.Message
		tools  []llm.ToolSpec
		choice string
		format *llm.ResponseFormat
		tokens int
		ok     bool
	}
}

type countedMessage struct {
	msg    llm.Message
	tokens int
}

// sameMessage reports whether a and b are the same message; strings compare in O(1) when they
// share their bytes, as copies of one history do.
func sameMessage(a, b llm.Message) bool {
	if a.Role != b.Role || a.Content != b.Content || a.ToolCallID != b.ToolCallID || a.Name != b.Name ||
		a.IsError != b.IsError || len(a.ToolCalls) != len(b.ToolCalls) {
		return false
	}
	for i := range a.ToolCalls {
		if a.ToolCalls[i] != b.ToolCalls[i] {
			return false
		}
	}
	return true
}

func sameSpecs(a, b []llm.ToolSpec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Description != b[i].Description || string(a[i].Parameters) != string(b[i].Parameters) {
			return false
		}
	}
	return true
}

// counter returns the Agent's token counter, built on first use (building a tokenizer reads the
// embedded ranks once per process).
func (a *Agent) counter() (*llm.Counter, error) {
	cc := a.counterCell
	cc.once.Do(func() {
		cc.c, cc.err = llm.NewCounterFor(a.info)
		if !a.infoKnown && a.log != nil {
			// A model with no name at all is a test double or a host that chose not to say:
			// nothing to warn about.
			level := slog.LevelWarn
			if a.info.Name == "" {
				level = slog.LevelDebug
			}
			a.log.Log(context.Background(), level, "agent: unknown model; token counts are estimates with the registry's fallback",
				"model", a.info.Name, "context_window", a.info.ContextWindow)
		}
	})
	return cc.c, cc.err
}

// reserveFor returns the output tokens reserved for the answer to req.
func (a *Agent) reserveFor(req *llm.Request) int {
	// The answer may take MaxOutputTokens: a prompt leaving less room is one the provider refuses.
	return max(a.reserve, req.MaxOutputTokens)
}

// toolNameFor finds the name of the tool a RoleTool message answers.
func toolNameFor(msgs []llm.Message, i int) string {
	m := msgs[i]
	if m.Name != "" {
		return m.Name
	}
	for j := i - 1; j >= 0; j-- {
		for _, c := range msgs[j].ToolCalls {
			if c.ID == m.ToolCallID {
				return c.Name
			}
		}
	}
	return ""
}

// headLen returns how many leading messages of msgs are pinned: the system messages and the first
// user message after them (the goal).
func headLen(msgs []llm.Message) int {
	i := 0
	for i < len(msgs) && msgs[i].Role == llm.RoleSystem {
		i++
	}
	if i < len(msgs) && msgs[i].Role == llm.RoleUser {
		i++
	}
	return i
}

// fitResult is what fitting decided for one request.
type fitResult struct {
	tokens  int  // prompt tokens: exact (or the counter's estimate) when counted, else a bound
	counted bool // tokens is a count, not a bound
	dropped int  // messages dropped or compacted
}

// fit makes req fit the context window minus the room reserved for the answer. The pinned head
// (system messages and the goal) and the current turn are kept; the oldest whole turns are dropped,
// or compacted when a Compactor is configured. It changes req.Messages in place.
func (m *stepModel) fit(ctx context.Context, req *llm.Request) (fitResult, error) {
	a := m.a
	limit := a.window - a.reserveFor(req)
	c, err := a.counter()
	if err != nil {
		return fitResult{}, err
	}
	// A prompt far below the window needs no tokenising: the bound counts the fixed part (tool
	// definitions, response format) exactly, once, and the messages from their byte lengths.
	if b := c.UpperBound(req); b <= limit && !a.needExactInput() {
		return fitResult{tokens: b}, nil
	}
	fs := m.st.fitCache()
	dropped := 0
	for round := 0; ; round++ {
		res, drop, kept, err := m.measure(c, fs, req, limit)
		res.dropped = dropped
		if err != nil || drop == 0 {
			return res, err
		}
		dropped += drop
		if a.compactor == nil {
			// Dropping changes no history position: the cache stays valid for the next step.
			h := headLen(req.Messages)
			req.Messages = append(req.Messages[:h:h], req.Messages[h+drop:]...)
			m.rec.DroppedMessages += drop
			res.tokens, res.dropped = kept, dropped
			return res, nil
		}
		h := headLen(req.Messages)
		rest := req.Messages[h+drop:]
		var repl []llm.Message
		// A summary that itself does not fit is dropped on the third round rather than summarised
		// again, so fitting always ends.
		if round < 2 {
			old := append([]llm.Message(nil), req.Messages[h:h+drop]...)
			msg, err := a.compactor.Compact(ctx, CompactInput{Goal: m.st.Goal, Dropped: old, Model: &stepModel{a: a, st: m.st, rec: m.rec, emit: m.emit, step: m.step, nested: true}, MaxTokens: max(limit/8, 256), MaxInputTokens: limit})
			if err != nil {
				return fitResult{}, fmt.Errorf("agent: compacting %d messages: %w", drop, err)
			}
			if msg.Role != llm.RoleUser && msg.Role != llm.RoleAssistant || len(msg.ToolCalls) > 0 || msg.ToolCallID != "" {
				return fitResult{}, fmt.Errorf("agent: Compactor returned a %s message with %d tool calls; it must return a user (or plain assistant) message", msg.Role, len(msg.ToolCalls))
			}
			repl = []llm.Message{msg}
			m.persist(ctx, req.Messages[h:], drop, msg)
		}
		msgs := make([]llm.Message, 0, h+len(repl)+len(rest))
		msgs = append(append(append(msgs, req.Messages[:h]...), repl...), rest...)
		req.Messages = msgs
		m.rec.DroppedMessages += drop
		fs.rest = fs.rest[:0] // positions moved
		if a.log != nil {
			a.log.DebugContext(ctx, "context compacted", "step", m.step, "messages", drop)
		}
	}
}

// needExactInput reports whether budgets need the exact prompt count on every call.
func (a *Agent) needExactInput() bool { return a.maxTotal > 0 || a.maxCost > 0 }

// measure counts req (using the run's cache) and, when it does not fit limit, returns how many
// messages after the pinned head to drop (whole turns, oldest first, never the current turn) and
// the tokens of the request without them.
func (m *stepModel) measure(c *llm.Counter, fs *fitState, req *llm.Request, limit int) (res fitResult, drop, kept int, err error) {
	msgs := req.Messages
	h := headLen(msgs)
	head, err := m.headTokens(c, fs, req, h)
	if err != nil {
		return fitResult{}, 0, 0, err
	}
	rest := msgs[h:]
	counts := make([]int, len(rest))
	total := head
	for i, msg := range rest {
		if i < len(fs.rest) && sameMessage(fs.rest[i].msg, msg) {
			counts[i] = fs.rest[i].tokens
		} else {
			n, err := c.CountMessage(msg, toolNameFor(msgs, h+i))
			if err != nil {
				return fitResult{}, 0, 0, err
			}
			counts[i] = n
			if i < len(fs.rest) {
				fs.rest[i] = countedMessage{msg, n}
				fs.rest = fs.rest[:i+1]
			} else if i == len(fs.rest) {
				fs.rest = append(fs.rest, countedMessage{msg, n})
			}
		}
		total += counts[i]
	}
	res = fitResult{tokens: total, counted: true}
	if total <= limit {
		return res, 0, total, nil
	}
	// Turns: a turn starts at each assistant message and holds what follows it up to the next one
	// (its tool results, or a text planner's observation and notes), so an answer is never kept
	// without the call it answers. The current turn is the newest one.
	last := len(rest) - 1
	for last > 0 && rest[last].Role != llm.RoleAssistant {
		last--
	}
	last = max(last, 0)
	current := 0
	for _, n := range counts[last:] {
		current += n
	}
	if head+current > limit {
		return res, 0, 0, fmt.Errorf("%w: the system prompt, goal and tool definitions take %d tokens and the current turn %d; the window allows %d (context window %d minus %d reserved for the answer)",
			ErrContextWindowExceeded, head, current, limit, m.a.window, m.a.reserveFor(req))
	}
	// Keep turns from the newest backwards while they fit; drop the rest, in whole turns.
	keepFrom, used := last, head+current
	for i := last - 1; i >= 0; i-- {
		if rest[i].Role != llm.RoleAssistant && i > 0 {
			continue
		}
		turn := 0
		for j := i; j < keepFrom; j++ {
			turn += counts[j]
		}
		if used+turn > limit {
			break
		}
		used += turn
		keepFrom = i
	}
	if keepFrom == 0 {
		return res, 0, total, nil
	}
	return res, keepFrom, used, nil
}

// headTokens counts the request with only its pinned head: that count holds the head messages and
// every fixed cost (tool definitions, response format, reply priming); the other messages add their
// CountMessage. It is cached while the head, the tools and the format stay the same.
func (m *stepModel) headTokens(c *llm.Counter, fs *fitState, req *llm.Request, h int) (int, error) {
	hc := &fs.head
	if hc.ok && hc.choice == req.ToolChoice && hc.format == req.ResponseFormat && sameSpecs(hc.tools, req.Tools) && len(hc.msgs) == h {
		same := true
		for i := range h {
			if !sameMessage(hc.msgs[i], req.Messages[i]) {
				same = false
				break
			}
		}
		if same {
			return hc.tokens, nil
		}
	}
	headReq := *req
	headReq.Messages = req.Messages[:h]
	n, err := c.Count(&headReq)
	if err != nil {
		return 0, err
	}
	hc.msgs, hc.tools, hc.choice, hc.format = llm.CloneMessages(req.Messages[:h]), req.Tools, req.ToolChoice, req.ResponseFormat
	hc.tokens, hc.ok = n.Tokens, true
	return n.Tokens, nil
}

// persist stores a compaction in the run's Memory when the dropped messages are the history's own
// (right after the goal), so the summary replaces them for good.
func (m *stepModel) persist(ctx context.Context, rest []llm.Message, drop int, summary llm.Message) {
	rw, ok := m.st.mem.(MemoryRewriter)
	if !ok {
		return
	}
	hist, err := m.st.mem.Messages(ctx)
	if err != nil || len(hist) < 1+drop {
		return
	}
	for i := range drop {
		if !sameMessage(hist[1+i], rest[i]) {
			return // the planner reshaped the prompt: keep the summary in this request only
		}
	}
	if err := rw.Replace(ctx, 1, 1+drop, summary); err != nil && m.a.log != nil {
		m.a.log.WarnContext(ctx, "agent: storing the compacted history failed", "error", err)
	}
}

// checkBudget stops a call that could exceed a budget. input is the prompt's token count.
func (m *stepModel) checkBudget(req *llm.Request, input int) error {
	a := m.a
	maxOut := req.MaxOutputTokens
	if maxOut <= 0 {
		maxOut = a.info.MaxOutputTokens
	}
	if room := a.window - input; maxOut > room {
		maxOut = max(room, 0)
	}
	if a.maxTotal > 0 {
		spent := m.st.Usage.TotalTokens() + m.rec.Usage.TotalTokens()
		if next := input + maxOut; spent+next > a.maxTotal {
			return &BudgetError{Budget: "tokens", Limit: float64(a.maxTotal), Spent: float64(spent), Next: float64(next)}
		}
	}
	if a.maxCost > 0 {
		spent := m.st.CostUSD + m.rec.CostUSD
		next := a.info.CostUSD(llm.Usage{InputTokens: input, OutputTokens: maxOut})
		if spent+next > a.maxCost {
			return &BudgetError{Budget: "usd", Limit: a.maxCost, Spent: spent, Next: next}
		}
	}
	return nil
}

// toolResultCap is the token cap of each of n results of one turn: Config.MaxToolResultTokens, and
// at most an equal share of half the window left after the reserve, so that a turn of many
// parallel results still fits (but never below MinToolResultTokens).
func (a *Agent) toolResultCap(n int) int {
	c := a.maxToolResult
	if n > 1 {
		c = min(c, max((a.window-a.reserve)/(2*n), MinToolResultTokens))
	}
	return c
}

// MinToolResultTokens is the smallest cap a tool result is cut to: room for some head and tail and
// the truncation note.
const MinToolResultTokens = 128

// truncateToolOutput cuts s to at most limit tokens, keeping its head and tail at rune boundaries
// and saying how much was cut. s is returned unchanged when it fits.
func (a *Agent) truncateToolOutput(s string, limit int) string {
	if limit <= 0 || len(s) <= limit { // a token covers at least one byte
		return s
	}
	c, err := a.counter()
	if err != nil {
		return s
	}
	tok := c.Tokenizer()
	ids, err := tok.Encode(s)
	if err != nil || len(ids) <= limit {
		return s
	}
	keep := limit - 64 // room for the note (at most about 40 tokens)
	headN := keep * 2 / 3
	tailN := keep - headN
	head := trimPartialRuneEnd(tok.Decode(ids[:headN]))
	tail := trimPartialRuneStart(tok.Decode(ids[len(ids)-tailN:]))
	return fmt.Sprintf("%s\n\n[... tool output truncated: %d of %d tokens (%d bytes) cut from the middle ...]\n\n%s",
		head, len(ids)-headN-tailN, len(ids), len(s), tail)
}

// trimPartialRuneEnd drops an incomplete UTF-8 sequence at the end of s (a token may split a rune).
func trimPartialRuneEnd(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// trimPartialRuneStart drops the continuation bytes of a rune cut at the start of s.
func trimPartialRuneStart(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[1:]
	}
	return s
}

// countOutput counts an answer's tokens (text and tool calls) when a provider reported no usage.
func (a *Agent) countOutput(msg llm.Message) int {
	c, err := a.counter()
	if err != nil {
		return 0
	}
	n, _ := c.Tokenizer().Count(msg.Content)
	for _, tc := range msg.ToolCalls {
		k, _ := c.Tokenizer().Count(tc.Name + tc.Arguments)
		n += k
	}
	return n
}

// maxUsageTokens bounds each usage figure a provider reports (2^40 tokens, far beyond any real
// call), so that absurd or negative figures cannot overflow the run's sums or disable a budget.
const maxUsageTokens = 1 << 40

func saneUsage(u llm.Usage) llm.Usage {
	clamp := func(n int) int { return min(max(n, 0), maxUsageTokens) }
	u.InputTokens, u.OutputTokens = clamp(u.InputTokens), clamp(u.OutputTokens)
	u.CachedInputTokens = min(clamp(u.CachedInputTokens), u.InputTokens)
	u.ReasoningTokens = min(clamp(u.ReasoningTokens), u.OutputTokens)
	return u
}

// checkShape reports a prompt no provider accepts: a tool message that answers no call of the
// assistant message before it, or a call left without its result before the next message.
func checkShape(msgs []llm.Message) error {
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		if m.Role == llm.RoleTool {
			return fmt.Errorf("%w: message %d is a tool result (for %q) that follows no tool call", ErrInvalidPrompt, i, m.ToolCallID)
		}
		if m.Role != llm.RoleAssistant || len(m.ToolCalls) == 0 {
			continue
		}
		open := make(map[string]bool, len(m.ToolCalls))
		for _, c := range m.ToolCalls {
			open[c.ID] = true
		}
		j := i + 1
		for ; j < len(msgs) && msgs[j].Role == llm.RoleTool; j++ {
			if !open[msgs[j].ToolCallID] {
				return fmt.Errorf("%w: tool result %d answers %q, which message %d did not call (or called twice)", ErrInvalidPrompt, j, msgs[j].ToolCallID, i)
			}
			delete(open, msgs[j].ToolCallID)
		}
		for _, c := range m.ToolCalls {
			if open[c.ID] {
				return fmt.Errorf("%w: tool call %q of message %d has no result", ErrInvalidPrompt, c.ID, i)
			}
		}
		i = j - 1
	}
	return nil
}

// ErrInvalidPrompt is returned (wrapped) before a model call whose prompt breaks the pairing of tool
// calls and tool results (for example after a hook or a planner reshaped it): providers reject such
// prompts.
var ErrInvalidPrompt = errors.New("agent: invalid prompt")
