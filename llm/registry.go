package llm

import (
	"strings"
	"sync"
)

// Model families: how a provider frames a chat request into tokens (ModelInfo.Family).
const (
	// FamilyChatML is OpenAI's ChatML framing: gpt-3.5*, gpt-4*, gpt-4o*, gpt-4.1*, gpt-4.5*, o1*
	// (TOKEN_RULES.md, "ChatML models").
	FamilyChatML = "chatml"
	// FamilyHarmony is OpenAI's newer framing of reasoning models: o3*, o4*, gpt-5*
	// (TOKEN_RULES.md, "Harmony models").
	FamilyHarmony = "harmony"
	// FamilyAnthropic is Anthropic's Claude models (counts are estimates).
	FamilyAnthropic = "anthropic"
	// FamilyGoogle is Google's Gemini models (counts are estimates).
	FamilyGoogle = "google"
	// FamilyOllama is open-weight models served locally, as Ollama names them (counts are estimates).
	FamilyOllama = "ollama"
)

// ModelInfo describes a model for token accounting and cost: its encoding, limits, prices and how
// exact its token counts are. LookupModel returns it; RegisterModel adds or replaces one.
//
// Zero prices mean "no price known" (or free, for local models); see Priced.
type ModelInfo struct {
	// Name is the model name, such as "gpt-4o" or "claude-sonnet-4-5". LookupModel sets it to the
	// name asked for (without any provider prefix), which may be longer than the registered
	// prefix that matched it.
	Name string
	// Encoding is the BPE encoding its prompts are counted with (an argument for TokenizerFor):
	// the model's own for OpenAI models, o200k_base as a proxy for the others.
	Encoding string
	// ContextWindow is the most tokens one call may hold, prompt and answer together.
	ContextWindow int
	// MaxOutputTokens is the most tokens the model may generate in one answer.
	MaxOutputTokens int
	// InputUSDPerMTok is the price of uncached input (prompt) tokens, in USD per million tokens.
	InputUSDPerMTok float64
	// CachedInputUSDPerMTok is the price of input tokens served from the provider's prompt cache,
	// in USD per million tokens; 0 means the model has no cache discount (cached tokens are then
	// billed at InputUSDPerMTok).
	CachedInputUSDPerMTok float64
	// OutputUSDPerMTok is the price of output (completion) tokens, reasoning included, in USD
	// per million tokens.
	OutputUSDPerMTok float64
	// Family says how requests are framed into tokens: FamilyChatML, FamilyHarmony,
	// FamilyAnthropic, FamilyGoogle, FamilyOllama (or a host's own value, counted as ChatML).
	Family string
	// Estimate is true when counts for this model are estimates (another vendor's tokenizer, or
	// an unknown model), not the exact billed figure.
	Estimate bool
	// SafetyMargin is the fraction added to estimated counts (0.2 adds 20%); used only when
	// Estimate is true.
	SafetyMargin float64
}

// Priced reports whether m has a price for input and output tokens, so CostUSD means something.
func (m ModelInfo) Priced() bool { return m.InputUSDPerMTok > 0 && m.OutputUSDPerMTok > 0 }

// CostUSD returns the price of u in USD: uncached input tokens (InputTokens minus
// CachedInputTokens) at InputUSDPerMTok, cached input tokens at CachedInputUSDPerMTok (at
// InputUSDPerMTok when that is 0), and output tokens, reasoning included, at OutputUSDPerMTok.
// It is 0 for a model without a price. Prices are per million tokens, list prices for standard
// (not batch, not priority) processing; the built-in ones come from the providers' pricing pages
// on the dates noted in registry.go.
func (m ModelInfo) CostUSD(u Usage) float64 {
	cached := min(max(u.CachedInputTokens, 0), max(u.InputTokens, 0))
	uncached := max(u.InputTokens, 0) - cached
	cachedPrice := m.CachedInputUSDPerMTok
	if cachedPrice == 0 {
		cachedPrice = m.InputUSDPerMTok
	}
	return (float64(uncached)*m.InputUSDPerMTok +
		float64(cached)*cachedPrice +
		float64(max(u.OutputTokens, 0))*m.OutputUSDPerMTok) / 1e6
}

// Fallback values LookupModel gives a model it does not know.
const (
	// DefaultContextWindow is the context window, in tokens, assumed for an unknown model: the
	// 128k of most current chat models, a conservative figure for newer ones.
	DefaultContextWindow = 128000
	// DefaultMaxOutputTokens is the output cap, in tokens, assumed for an unknown model.
	DefaultMaxOutputTokens = 16384
	// DefaultSafetyMargin is the fraction added to counts for an unknown model (20%).
	DefaultSafetyMargin = 0.20
)

var registry = struct {
	sync.RWMutex
	models map[string]ModelInfo // by lower-case name or name prefix
}{models: builtinModels()}

// RegisterModel adds info to the registry under info.Name (matched case-insensitively, as an
// exact name and as a prefix of longer names), replacing any entry of that name, built-in ones
// included. An empty Encoding becomes o200k_base and an empty Family FamilyChatML. It is safe for
// concurrent use; Counters already built keep the ModelInfo they were built with.
func RegisterModel(info ModelInfo) {
	if info.Encoding == "" {
		info.Encoding = EncodingO200kBase
	}
	if info.Family == "" {
		info.Family = FamilyChatML
	}
	key := strings.ToLower(stripProvider(info.Name))
	registry.Lock()
	registry.models[key] = info
	registry.Unlock()
}

// LookupModel returns what the registry knows about the model called name, and whether it knows
// it. The name is matched case-insensitively after removing any provider prefix up to the last
// "/" ("openai/gpt-4o", "models/gemini-2.5-pro"); an exact entry wins, else the longest
// registered prefix ("gpt-4o-2024-08-06" matches "gpt-4o", "gpt-4o-mini-2024-07-18" matches
// "gpt-4o-mini", "llama3.1:8b" matches "llama3.1"). The returned Name is the name asked for, less
// the provider prefix.
//
// Encodings by prefix (OpenAI's tiktoken model table): gpt-4o*, gpt-4.1*, gpt-4.5*, o1*, o3*,
// o4*, gpt-5* use o200k_base; gpt-4*, gpt-3.5* use cl100k_base.
//
// A fine-tuned model, named as OpenAI names them ("ft:BASE:ORG:SUFFIX:ID", such as
// "ft:gpt-4o-mini-2024-07-18:acme::abc123"), is looked up by its BASE name, whose encoding, family,
// context window and output cap it shares; it is unpriced (zero prices, so Priced is false and
// CostUSD 0), because OpenAI bills fine-tuned models at their own rates, not the base model's.
// An entry registered under the full "ft:..." name (or a prefix of it) wins over the base.
//
// An unknown name gets, and false: o200k_base, FamilyChatML, DefaultContextWindow,
// DefaultMaxOutputTokens, no price, Estimate true with DefaultSafetyMargin.
func LookupModel(name string) (ModelInfo, bool) {
	bare := stripProvider(strings.TrimSpace(name))
	info, ok := lookup(strings.ToLower(bare))
	if !ok {
		if base, tuned := fineTunedBase(bare); tuned {
			if info, ok = lookup(strings.ToLower(base)); ok {
				info.InputUSDPerMTok, info.CachedInputUSDPerMTok, info.OutputUSDPerMTok = 0, 0, 0
			}
		}
	}
	if !ok {
		return ModelInfo{
			Name:            bare,
			Encoding:        EncodingO200kBase,
			ContextWindow:   DefaultContextWindow,
			MaxOutputTokens: DefaultMaxOutputTokens,
			Family:          FamilyChatML,
			Estimate:        true,
			SafetyMargin:    DefaultSafetyMargin,
		}, false
	}
	info.Name = bare
	return info, true
}

// fineTunedBase returns the base model of a fine-tuned model name, "ft:BASE:..." (any case), and
// whether name is one.
func fineTunedBase(name string) (string, bool) {
	if len(name) < 3 || !strings.EqualFold(name[:3], "ft:") {
		return "", false
	}
	base, _, _ := strings.Cut(name[3:], ":")
	return base, base != ""
}

// lookup finds key (lower case) in the registry: an exact entry, else the longest registered
// prefix.
func lookup(key string) (ModelInfo, bool) {
	registry.RLock()
	info, ok := registry.models[key]
	if !ok {
		best := -1
		for prefix, m := range registry.models {
			if len(prefix) > best && strings.HasPrefix(key, prefix) {
				info, best = m, len(prefix)
			}
		}
		ok = best >= 0
	}
	registry.RUnlock()
	return info, ok
}

// stripProvider removes a provider or path prefix: everything up to the last "/".
func stripProvider(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// builtinModels lists the models known out of the box.
//
// OpenAI: context windows, output caps and prices from OpenAI's model pages and pricing page
// (https://platform.openai.com/docs/pricing), as of August 2025; USD per million tokens, standard
// tier. Encodings from OpenAI's tiktoken (model.py). Families from TOKEN_RULES.md.
//
// Anthropic: Anthropic's models overview and pricing pages (https://docs.anthropic.com), as of
// October 2025; cached input is the cache-read price. Google: Gemini API pricing page
// (https://ai.google.dev/gemini-api/docs/pricing), as of August 2025, prompts up to 200k tokens.
// Local (Ollama) models: the models' published context lengths; no price. Counts for all
// non-OpenAI models are estimates made with o200k_base; their safety margins are judgement, not
// measurement: a larger one where the model's own tokenizer is known to split English more finely.
func builtinModels() map[string]ModelInfo {
	m := make(map[string]ModelInfo)
	openai := func(name, enc, family string, window, out int, in, cached, output float64) {
		m[name] = ModelInfo{Name: name, Encoding: enc, ContextWindow: window, MaxOutputTokens: out,
			InputUSDPerMTok: in, CachedInputUSDPerMTok: cached, OutputUSDPerMTok: output, Family: family}
	}
	const o200k, cl100k = EncodingO200kBase, EncodingCl100kBase
	const chatml, harmony = FamilyChatML, FamilyHarmony

	// gpt-3.5 and gpt-4 (cl100k_base).
	openai("gpt-3.5", cl100k, chatml, 16385, 4096, 0.50, 0, 1.50)
	openai("gpt-3.5-turbo", cl100k, chatml, 16385, 4096, 0.50, 0, 1.50)
	openai("gpt-4", cl100k, chatml, 8192, 8192, 30, 0, 60)
	openai("gpt-4-32k", cl100k, chatml, 32768, 8192, 60, 0, 120)
	openai("gpt-4-turbo", cl100k, chatml, 128000, 4096, 10, 0, 30)
	openai("gpt-4-1106-preview", cl100k, chatml, 128000, 4096, 10, 0, 30)
	openai("gpt-4-0125-preview", cl100k, chatml, 128000, 4096, 10, 0, 30)
	// gpt-4o, gpt-4.1, gpt-4.5 (o200k_base, ChatML).
	openai("gpt-4o", o200k, chatml, 128000, 16384, 2.50, 1.25, 10)
	openai("gpt-4o-2024-05-13", o200k, chatml, 128000, 4096, 5, 0, 15)
	openai("chatgpt-4o-latest", o200k, chatml, 128000, 16384, 5, 0, 15)
	openai("gpt-4o-mini", o200k, chatml, 128000, 16384, 0.15, 0.075, 0.60)
	openai("gpt-4.1", o200k, chatml, 1047576, 32768, 2, 0.50, 8)
	openai("gpt-4.1-mini", o200k, chatml, 1047576, 32768, 0.40, 0.10, 1.60)
	openai("gpt-4.1-nano", o200k, chatml, 1047576, 32768, 0.10, 0.025, 0.40)
	openai("gpt-4.5", o200k, chatml, 128000, 16384, 75, 37.50, 150)
	// o1 (o200k_base, ChatML).
	openai("o1", o200k, chatml, 200000, 100000, 15, 7.50, 60)
	openai("o1-pro", o200k, chatml, 200000, 100000, 150, 0, 600)
	openai("o1-mini", o200k, chatml, 128000, 65536, 1.10, 0.55, 4.40)
	openai("o1-preview", o200k, chatml, 128000, 32768, 15, 7.50, 60)
	// o3, o4, gpt-5 (o200k_base, harmony).
	openai("o3", o200k, harmony, 200000, 100000, 2, 0.50, 8)
	openai("o3-pro", o200k, harmony, 200000, 100000, 20, 0, 80)
	openai("o3-mini", o200k, harmony, 200000, 100000, 1.10, 0.55, 4.40)
	openai("o4-mini", o200k, harmony, 200000, 100000, 1.10, 0.275, 4.40)
	openai("gpt-5", o200k, harmony, 400000, 128000, 1.25, 0.125, 10)
	openai("gpt-5-mini", o200k, harmony, 400000, 128000, 0.25, 0.025, 2)
	openai("gpt-5-nano", o200k, harmony, 400000, 128000, 0.05, 0.005, 0.40)
	openai("gpt-5-chat", o200k, harmony, 128000, 16384, 1.25, 0.125, 10)

	estimate := func(name, family string, margin float64, window, out int, in, cached, output float64) {
		m[name] = ModelInfo{Name: name, Encoding: o200k, ContextWindow: window, MaxOutputTokens: out,
			InputUSDPerMTok: in, CachedInputUSDPerMTok: cached, OutputUSDPerMTok: output,
			Family: family, Estimate: true, SafetyMargin: margin}
	}
	// Anthropic: Claude's tokenizer yields noticeably more tokens than o200k_base for the same
	// text, hence a larger margin.
	const claude = 0.25
	estimate("claude", FamilyAnthropic, claude, 200000, 8192, 0, 0, 0)
	estimate("claude-opus-4", FamilyAnthropic, claude, 200000, 32000, 15, 1.50, 75)
	estimate("claude-opus-4-1", FamilyAnthropic, claude, 200000, 32000, 15, 1.50, 75)
	estimate("claude-sonnet-4", FamilyAnthropic, claude, 200000, 64000, 3, 0.30, 15)
	estimate("claude-sonnet-4-5", FamilyAnthropic, claude, 200000, 64000, 3, 0.30, 15)
	estimate("claude-haiku-4-5", FamilyAnthropic, claude, 200000, 64000, 1, 0.10, 5)
	estimate("claude-3-7-sonnet", FamilyAnthropic, claude, 200000, 64000, 3, 0.30, 15)
	estimate("claude-3-5-sonnet", FamilyAnthropic, claude, 200000, 8192, 3, 0.30, 15)
	estimate("claude-3-5-haiku", FamilyAnthropic, claude, 200000, 8192, 0.80, 0.08, 4)
	estimate("claude-3-opus", FamilyAnthropic, claude, 200000, 4096, 15, 1.50, 75)
	estimate("claude-3-haiku", FamilyAnthropic, claude, 200000, 4096, 0.25, 0.03, 1.25)
	// Google Gemini.
	const gemini = 0.15
	estimate("gemini", FamilyGoogle, gemini, 1048576, 8192, 0, 0, 0)
	estimate("gemini-2.5-pro", FamilyGoogle, gemini, 1048576, 65536, 1.25, 0.31, 10)
	estimate("gemini-2.5-flash", FamilyGoogle, gemini, 1048576, 65536, 0.30, 0.075, 2.50)
	estimate("gemini-2.5-flash-lite", FamilyGoogle, gemini, 1048576, 65536, 0.10, 0.025, 0.40)
	estimate("gemini-2.0-flash", FamilyGoogle, gemini, 1048576, 8192, 0.10, 0.025, 0.40)
	estimate("gemini-2.0-flash-lite", FamilyGoogle, gemini, 1048576, 8192, 0.075, 0, 0.30)
	estimate("gemini-1.5-pro", FamilyGoogle, gemini, 2097152, 8192, 1.25, 0.3125, 5)
	estimate("gemini-1.5-flash", FamilyGoogle, gemini, 1048576, 8192, 0.075, 0.01875, 0.30)
	// Local models under Ollama's names (Ollama's own default num_ctx is smaller than these
	// windows unless the host raises it). Llama 3 and Qwen use large BPE vocabularies close to
	// o200k_base's; Mistral's 32k SentencePiece vocabulary splits text more finely.
	estimate("llama", FamilyOllama, 0.20, 8192, 4096, 0, 0, 0)
	estimate("llama3", FamilyOllama, 0.15, 8192, 4096, 0, 0, 0)
	estimate("llama3.1", FamilyOllama, 0.15, 131072, 8192, 0, 0, 0)
	estimate("llama3.2", FamilyOllama, 0.15, 131072, 8192, 0, 0, 0)
	estimate("llama3.3", FamilyOllama, 0.15, 131072, 8192, 0, 0, 0)
	estimate("llama4", FamilyOllama, 0.15, 1048576, 8192, 0, 0, 0)
	estimate("qwen", FamilyOllama, 0.20, 32768, 8192, 0, 0, 0)
	estimate("qwen2.5", FamilyOllama, 0.15, 32768, 8192, 0, 0, 0)
	estimate("qwen3", FamilyOllama, 0.15, 40960, 8192, 0, 0, 0)
	estimate("mistral", FamilyOllama, 0.35, 32768, 8192, 0, 0, 0)
	estimate("mistral-nemo", FamilyOllama, 0.20, 131072, 8192, 0, 0, 0)
	estimate("mixtral", FamilyOllama, 0.35, 32768, 8192, 0, 0, 0)
	return m
}
