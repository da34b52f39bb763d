package llm_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// recordedChat is one recorded chat-completions exchange with the prompt tokens OpenAI billed.
type recordedChat struct {
	File         string // path relative to the langchaingo module
	Index        int    // 0-based record index in the trace
	Body         []byte // the request body as sent
	PromptTokens int    // usage.prompt_tokens of the response
}

// recordedOpenAIChats returns every exchange in langchaingo's recorded traces that is a
// non-streamed, text-only chat-completions call to api.openai.com answered with usage.
func recordedOpenAIChats(t testing.TB) []recordedChat {
	t.Helper()
	dir, err := llmtest.LangchaingoDir()
	if err != nil {
		t.Skipf("langchaingo module not available: %v", err)
	}
	var out []recordedChat
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".httprr") || strings.HasSuffix(path, ".httprr.gz")) {
			return nil
		}
		recs, err := httprr.ReadFile(path)
		if err != nil {
			t.Logf("skipping unreadable trace: %v", err)
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		for _, rec := range recs {
			if n, ok := chatPromptTokens(rec); ok {
				out = append(out, recordedChat{File: filepath.ToSlash(rel), Index: rec.Index, Body: rec.Request.Body, PromptTokens: n})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// chatPromptTokens is the selection predicate: a POST to api.openai.com's chat completions, not
// streamed, whose messages hold only text content, answered 200 with usage.prompt_tokens.
func chatPromptTokens(rec httprr.Record) (int, bool) {
	r := rec.Request
	if r.Method != "POST" || r.URL.Host != "api.openai.com" || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		return 0, false
	}
	var body struct {
		Stream   bool `json:"stream"`
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(r.Body, &body) != nil || body.Stream {
		return 0, false
	}
	for _, m := range body.Messages {
		var parts []struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(m.Content, &parts) != nil {
			continue // a string or null
		}
		for _, p := range parts {
			if p.Type != "text" {
				return 0, false
			}
		}
	}
	resp, err := rec.Response()
	if err != nil || resp.StatusCode != 200 {
		return 0, false
	}
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return 0, false
		}
		rd = zr
	}
	raw, err := io.ReadAll(rd)
	if err != nil {
		return 0, false
	}
	var answer struct {
		Usage *struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal(bytes.TrimSpace(raw), &answer) != nil || answer.Usage == nil || answer.Usage.PromptTokens <= 0 {
		return 0, false
	}
	return answer.Usage.PromptTokens, true
}

// TestPromptTokensMatchRecordedUsage counts every recorded request with ParseOpenAIChatRequest and
// Counter.Count and compares with the prompt tokens OpenAI billed. Any miss on a plain request (no
// tools, no json_schema response format) fails the test; misses on the others are reported.
func TestPromptTokensMatchRecordedUsage(t *testing.T) {
	chats := recordedOpenAIChats(t)
	if len(chats) == 0 {
		t.Fatal("no recorded OpenAI chat-completions exchanges found")
	}
	matched, tools, schemas := 0, 0, 0
	for _, rc := range chats {
		model, req, err := llm.ParseOpenAIChatRequest(rc.Body)
		if err != nil {
			t.Errorf("%s record %d: %v", rc.File, rc.Index, err)
			continue
		}
		c, err := llm.NewCounter(model)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Count(req)
		if err != nil {
			t.Errorf("%s record %d: %v", rc.File, rc.Index, err)
			continue
		}
		plain := len(req.Tools) == 0 && (req.ResponseFormat == nil || req.ResponseFormat.Type != llm.ResponseFormatJSONSchema)
		if len(req.Tools) > 0 {
			tools++
		}
		if !plain && len(req.Tools) == 0 {
			schemas++
		}
		if got.Tokens == rc.PromptTokens {
			matched++
			continue
		}
		report := t.Logf
		if plain {
			report = t.Errorf
		}
		report("miss: %s record %d (%s): counted %d, billed %d, diff %+d", rc.File, rc.Index, model, got.Tokens, rc.PromptTokens, got.Tokens-rc.PromptTokens)
	}
	t.Logf("prompt tokens matched %d/%d (%d with tools, %d with a json_schema response format)", matched, len(chats), tools, schemas)
}
