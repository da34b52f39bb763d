package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/autogpt-go/agent/internal/httprr"
	"github.com/autogpt-go/agent/llm"
	"github.com/autogpt-go/agent/llm/llmtest"
)

// recordedBodies returns the request bodies of every non-streamed, text-only chat-completions
// call to api.openai.com in langchaingo's recorded traces (the selection of the llm package's
// TestPromptTokensMatchRecordedUsage, less the usage check: the counts are compared with
// Counter.Count here, not with the bill).
func recordedBodies(t *testing.T) [][]byte {
	t.Helper()
	dir, err := llmtest.LangchaingoDir()
	if err != nil {
		t.Skipf("langchaingo module not available: %v", err)
	}
	var bodies [][]byte
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".httprr") || strings.HasSuffix(path, ".httprr.gz")) {
			return err
		}
		recs, err := httprr.ReadFile(path)
		if err != nil {
			return nil // not ours to judge
		}
		for _, rec := range recs {
			if r := rec.Request; r.Method == "POST" && r.URL.Host == "api.openai.com" && strings.HasSuffix(r.URL.Path, "/chat/completions") && textOnly(r.Body) {
				bodies = append(bodies, r.Body)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bodies
}

// textOnly reports whether body is a non-streamed chat request whose content parts are all text.
func textOnly(body []byte) bool {
	var req struct {
		Stream   bool `json:"stream"`
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil || req.Stream {
		return false
	}
	for _, m := range req.Messages {
		var parts []struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(m.Content, &parts) == nil {
			for _, p := range parts {
				if p.Type != "text" {
					return false
				}
			}
		}
	}
	return true
}

func TestCountsRecordedRequests(t *testing.T) {
	bodies := recordedBodies(t)
	if len(bodies) == 0 {
		t.Fatal("no recorded requests found")
	}
	var in bytes.Buffer
	var want []string
	for _, body := range bodies {
		var line bytes.Buffer
		if err := json.Compact(&line, body); err != nil {
			t.Fatal(err)
		}
		in.Write(line.Bytes())
		in.WriteString("\n \n") // a blank line prints an empty one
		model, req, err := llm.ParseOpenAIChatRequest(body)
		if err != nil {
			t.Fatal(err)
		}
		c, err := llm.NewCounter(model)
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.AsSent().Count(req)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, strconv.Itoa(n.Tokens), "")
	}
	var out, errOut bytes.Buffer
	if code := run(&in, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d, stderr: %s", code, errOut.String())
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("printed %v\nwant    %v", got, want)
	}
	t.Logf("%d recorded requests counted", len(want)/2)
}

// Output line N answers input line N: blank input lines print empty lines, bodies that are not
// chat requests (null, {}, keys in the wrong case) print "error", and stderr names the input line.
func TestOutputLinesAlignWithInputLines(t *testing.T) {
	req := `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`
	in := strings.Join([]string{
		req,
		"",
		"   \t",
		"null",
		"{}",
		`{"MODEL":"gpt-4o","Messages":[{"ROLE":"user","Content":"Hi"}]}`,
		`{"model":"gpt-4o","messages":[{"ROLE":"user","content":"Hi"}]}`,
		"",
		req,
	}, "\n") + "\n"
	var out, errOut bytes.Buffer
	if code := run(strings.NewReader(in), &out, &errOut); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	n := got[0]
	want := []string{n, "", "", "error", "error", "error", "error", "", n}
	if strings.Join(got, "|") != strings.Join(want, "|") || n == "" || n == "error" {
		t.Errorf("stdout lines %q\nwant         %q", got, want)
	}
	for _, line := range []string{"line 4:", "line 5:", "line 6:", "line 7:"} {
		if !strings.Contains(errOut.String(), line) {
			t.Errorf("stderr lacks %q: %s", line, errOut.String())
		}
	}
}

func TestBadLines(t *testing.T) {
	in := strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}` + "\n" +
		"not json \x1b[31m\n" +
		`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:,"}}]}]}` + "\n" +
		`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}`) // no final newline
	var out, errOut bytes.Buffer
	if code := run(in, &out, &errOut); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 || lines[1] != "error" || lines[2] != "error" {
		t.Fatalf("stdout = %q", out.String())
	}
	for _, i := range []int{0, 3} {
		if n, err := strconv.Atoi(lines[i]); err != nil || n <= 0 {
			t.Errorf("line %d = %q, want a count", i+1, lines[i])
		}
	}
	for _, want := range []string{"line 2:", "line 3:", "unsupported content part", "estimates"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, errOut.String())
		}
	}
	if strings.Contains(errOut.String(), "\x1b") {
		t.Errorf("stderr carries an escape sequence: %q", errOut.String())
	}
}
