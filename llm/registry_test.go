package llm_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/autogpt-go/agent/llm"
)

func TestLookupModelPrefixRules(t *testing.T) {
	cases := []struct {
		name, encoding, family string
		input                  float64 // USD per million input tokens
		estimate               bool
	}{
		{"gpt-4o", llm.EncodingO200kBase, llm.FamilyChatML, 2.50, false},
		{"gpt-4o-2024-08-06", llm.EncodingO200kBase, llm.FamilyChatML, 2.50, false},
		{"gpt-4o-2024-05-13", llm.EncodingO200kBase, llm.FamilyChatML, 5, false},
		{"gpt-4o-mini-2024-07-18", llm.EncodingO200kBase, llm.FamilyChatML, 0.15, false},
		{"openai/gpt-4o-mini", llm.EncodingO200kBase, llm.FamilyChatML, 0.15, false},
		{"GPT-4.1-nano-2025-04-14", llm.EncodingO200kBase, llm.FamilyChatML, 0.10, false},
		{"gpt-4.5-preview", llm.EncodingO200kBase, llm.FamilyChatML, 75, false},
		{"gpt-4-0613", llm.EncodingCl100kBase, llm.FamilyChatML, 30, false},
		{"gpt-4-turbo-2024-04-09", llm.EncodingCl100kBase, llm.FamilyChatML, 10, false},
		{"gpt-3.5-turbo-0125", llm.EncodingCl100kBase, llm.FamilyChatML, 0.50, false},
		{"o1-2024-12-17", llm.EncodingO200kBase, llm.FamilyChatML, 15, false},
		{"o1-mini", llm.EncodingO200kBase, llm.FamilyChatML, 1.10, false},
		{"o3-2025-04-16", llm.EncodingO200kBase, llm.FamilyHarmony, 2, false},
		{"o3-mini-2025-01-31", llm.EncodingO200kBase, llm.FamilyHarmony, 1.10, false},
		{"o4-mini", llm.EncodingO200kBase, llm.FamilyHarmony, 1.10, false},
		{"gpt-5", llm.EncodingO200kBase, llm.FamilyHarmony, 1.25, false},
		{"gpt-5-mini-2025-08-07", llm.EncodingO200kBase, llm.FamilyHarmony, 0.25, false},
		{"gpt-5-nano", llm.EncodingO200kBase, llm.FamilyHarmony, 0.05, false},
		{"claude-sonnet-4-5-20250929", llm.EncodingO200kBase, llm.FamilyAnthropic, 3, true},
		{"anthropic/claude-3-5-haiku-latest", llm.EncodingO200kBase, llm.FamilyAnthropic, 0.80, true},
		{"claude-opus-4-1-20250805", llm.EncodingO200kBase, llm.FamilyAnthropic, 15, true},
		{"models/gemini-2.5-pro", llm.EncodingO200kBase, llm.FamilyGoogle, 1.25, true},
		{"gemini-2.5-flash-lite", llm.EncodingO200kBase, llm.FamilyGoogle, 0.10, true},
		{"llama3.1:8b", llm.EncodingO200kBase, llm.FamilyOllama, 0, true},
		{"qwen2.5-coder:7b", llm.EncodingO200kBase, llm.FamilyOllama, 0, true},
		{"mistral:latest", llm.EncodingO200kBase, llm.FamilyOllama, 0, true},
	}
	for _, c := range cases {
		info, ok := llm.LookupModel(c.name)
		if !ok {
			t.Errorf("%s: not known", c.name)
			continue
		}
		if info.Encoding != c.encoding || info.Family != c.family || info.InputUSDPerMTok != c.input || info.Estimate != c.estimate {
			t.Errorf("%s: got %s %s $%v estimate=%v, want %s %s $%v estimate=%v", c.name,
				info.Encoding, info.Family, info.InputUSDPerMTok, info.Estimate, c.encoding, c.family, c.input, c.estimate)
		}
		if info.ContextWindow <= 0 || info.MaxOutputTokens <= 0 || info.MaxOutputTokens > info.ContextWindow {
			t.Errorf("%s: window %d, output %d", c.name, info.ContextWindow, info.MaxOutputTokens)
		}
		if info.Estimate && info.SafetyMargin <= 0 {
			t.Errorf("%s: an estimate without a safety margin", c.name)
		}
	}
	if info, _ := llm.LookupModel("openai/gpt-4o-2024-08-06"); info.Name != "gpt-4o-2024-08-06" {
		t.Errorf("Name = %q, want the name asked for without the provider prefix", info.Name)
	}
}

// Fine-tuned models ("ft:BASE:ORG:SUFFIX:ID") are their base model, unpriced: fine-tuned models
// are billed at their own rates.
func TestLookupModelFineTuned(t *testing.T) {
	cases := []struct{ name, base string }{
		{"ft:gpt-4o-mini-2024-07-18:org::abc", "gpt-4o-mini-2024-07-18"},
		{"openai/ft:gpt-4o-2024-08-06:acme:support-bot:9ZxY1", "gpt-4o-2024-08-06"},
		{"FT:GPT-3.5-turbo-0125:org::x", "gpt-3.5-turbo-0125"},
		{"ft:gpt-4-0613:org::y", "gpt-4-0613"},
		{"ft:gpt-4.1-nano-2025-04-14", "gpt-4.1-nano-2025-04-14"},
	}
	for _, c := range cases {
		info, ok := llm.LookupModel(c.name)
		base, _ := llm.LookupModel(c.base)
		if !ok || info.Estimate || info.Encoding != base.Encoding || info.Family != base.Family ||
			info.ContextWindow != base.ContextWindow || info.MaxOutputTokens != base.MaxOutputTokens {
			t.Errorf("%s: %+v, %v; want the family, encoding and limits of %s: %+v", c.name, info, ok, c.base, base)
		}
		if info.Priced() || info.CostUSD(llm.Usage{InputTokens: 1000, OutputTokens: 1000}) != 0 {
			t.Errorf("%s: priced %+v; a fine-tuned model's prices are not its base model's", c.name, info)
		}
		if want := c.name[strings.LastIndex(c.name, "/")+1:]; info.Name != want {
			t.Errorf("%s: Name %q, want %q", c.name, info.Name, want)
		}
	}
	// A fine-tuned model is counted as its base model, with the base's dialect (gpt-4-0613 renders
	// no titles and calls functions by bare names).
	req := &llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Weather?"}, {Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "1", Name: "get_weather", Arguments: "{}"}}},
			{Role: llm.RoleTool, ToolCallID: "1", Content: "sunny"}},
		Tools: []llm.ToolSpec{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","title":"City"}}}`)}},
	}
	for _, c := range cases {
		ft, base := counter(t, c.name), counter(t, c.base)
		if got, want := count(t, ft, req), count(t, base, req); got != want {
			t.Errorf("%s: Count %d, want %s's %d", c.name, got, c.base, want)
		}
	}
	for _, name := range []string{"ft:", "ft::org::x", "ft:acme-large:org::x"} {
		if _, ok := llm.LookupModel(name); ok {
			t.Errorf("%s: known", name)
		}
	}
}

func TestLookupModelUnknown(t *testing.T) {
	info, ok := llm.LookupModel("acme-large-2")
	want := llm.ModelInfo{Name: "acme-large-2", Encoding: llm.EncodingO200kBase, ContextWindow: 128000, MaxOutputTokens: 16384,
		Family: llm.FamilyChatML, Estimate: true, SafetyMargin: llm.DefaultSafetyMargin}
	if ok || info != want {
		t.Errorf("LookupModel(unknown) = %+v, %v; want %+v, false", info, ok, want)
	}
	if info.Priced() || info.CostUSD(llm.Usage{InputTokens: 1000, OutputTokens: 1000}) != 0 {
		t.Error("an unknown model has a price")
	}
}

func TestRegisterModel(t *testing.T) {
	llm.RegisterModel(llm.ModelInfo{Name: "Test-Local-Model", ContextWindow: 4096, MaxOutputTokens: 1024, Estimate: true, SafetyMargin: 0.1})
	info, ok := llm.LookupModel("test-local-model:q4")
	if !ok || info.Encoding != llm.EncodingO200kBase || info.Family != llm.FamilyChatML || info.ContextWindow != 4096 {
		t.Errorf("registered model: %+v, %v", info, ok)
	}
	// Overriding a built-in entry, then restoring it.
	orig, _ := llm.LookupModel("gpt-4o")
	defer llm.RegisterModel(orig)
	over := orig
	over.InputUSDPerMTok = 1
	llm.RegisterModel(over)
	if info, _ := llm.LookupModel("gpt-4o-2024-11-20"); info.InputUSDPerMTok != 1 {
		t.Errorf("override not seen: $%v", info.InputUSDPerMTok)
	}
	// The longest prefix still wins over the overridden shorter one.
	if info, _ := llm.LookupModel("gpt-4o-mini"); info.InputUSDPerMTok != 0.15 {
		t.Errorf("gpt-4o-mini: $%v", info.InputUSDPerMTok)
	}
}

func TestRegistryConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				name := fmt.Sprintf("concurrent-test-%d-%d", g, i%5)
				llm.RegisterModel(llm.ModelInfo{Name: name, ContextWindow: 1000 + i})
				if _, ok := llm.LookupModel(name + "-suffix"); !ok {
					t.Errorf("%s not found", name)
				}
				llm.LookupModel("gpt-4o")
			}
		})
	}
	wg.Wait()
}

func TestCostUSD(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	gpt4o, _ := llm.LookupModel("gpt-4o")
	// 1M input of which 200k cached, 100k output: 0.8*2.50 + 0.2*1.25 + 0.1*10.
	u := llm.Usage{InputTokens: 1_000_000, CachedInputTokens: 200_000, OutputTokens: 100_000, ReasoningTokens: 50_000}
	if got := gpt4o.CostUSD(u); !near(got, 3.25) {
		t.Errorf("gpt-4o: $%v, want $3.25", got)
	}
	// No cache discount: cached tokens at the input price.
	gpt4, _ := llm.LookupModel("gpt-4")
	if got := gpt4.CostUSD(llm.Usage{InputTokens: 1000, CachedInputTokens: 500, OutputTokens: 1000}); !near(got, 0.09) {
		t.Errorf("gpt-4: $%v, want $0.09", got)
	}
	// Nonsense usage is clamped, never negative.
	if got := gpt4o.CostUSD(llm.Usage{InputTokens: 10, CachedInputTokens: 50, OutputTokens: -5}); got < 0 || !near(got, 10*1.25/1e6) {
		t.Errorf("clamped: $%v", got)
	}
	local, _ := llm.LookupModel("llama3.2")
	if local.Priced() || local.CostUSD(u) != 0 {
		t.Error("a local model has a price")
	}
	if !gpt4o.Priced() {
		t.Error("gpt-4o has no price")
	}
}
