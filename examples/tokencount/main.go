// Command tokencount predicts the prompt tokens OpenAI will bill for chat-completions requests.
//
//	tokencount < requests.jsonl
//
// It reads JSON Lines on standard input, one chat-completions request body per line (the JSON a
// client POSTs to /v1/chat/completions), and prints on standard output one line per input line,
// so that output line N always answers input line N: for a request, the predicted prompt-token
// count, a decimal integer; for a blank line (empty or white space only), an empty line.
//
// Each body is read with llm.ParseOpenAIChatRequest and counted with the llm.Counter of its
// "model", exactly as given (Counter.AsSent: the body is already what was sent). For OpenAI models
// the count is the exact billed figure under the rules of llm.Counter.Count; for other models it is
// an estimate with the model's safety margin, and a note saying so goes to standard error once per
// model.
//
// A line that cannot be counted (not JSON, not a chat request, an image or audio part) prints the
// word "error" on standard output, keeping that alignment, and a message naming the input line on
// standard error; after the last line the exit code is 1. Exit codes: 0 every request was
// counted, 1 some line failed or the input could not be read.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/autogpt-go/agent/internal/termsafe"
	"github.com/autogpt-go/agent/llm"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}

// run counts the requests read from in, printing counts to out and problems to errOut, and
// returns the exit code.
func run(in io.Reader, out, errOut io.Writer) int {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriter(out)
	defer w.Flush()
	counters := map[string]*llm.Counter{}
	failed := false
	for lineNo := 1; ; lineNo++ {
		line, readErr := r.ReadBytes('\n')
		switch {
		case len(line) == 0:
			// Nothing after the last newline: not a line.
		case len(bytes.TrimSpace(line)) == 0:
			fmt.Fprintln(w)
		default:
			n, err := countLine(line, counters, errOut)
			if err != nil {
				failed = true
				fmt.Fprintln(w, "error")
				w.Flush()
				fmt.Fprintf(errOut, "tokencount: line %d: %s\n", lineNo, termsafe.Strip(err.Error()))
			} else {
				fmt.Fprintln(w, n)
			}
		}
		if readErr != nil {
			if !errors.Is(readErr, io.EOF) {
				w.Flush()
				fmt.Fprintf(errOut, "tokencount: reading standard input: %v\n", readErr)
				return 1
			}
			break
		}
	}
	if failed {
		return 1
	}
	return 0
}

// countLine counts one request body, with a Counter per model name.
func countLine(body []byte, counters map[string]*llm.Counter, errOut io.Writer) (int, error) {
	model, req, err := llm.ParseOpenAIChatRequest(body)
	if err != nil {
		return 0, err
	}
	c, ok := counters[model]
	if !ok {
		c, err = llm.NewCounter(model)
		if err != nil {
			return 0, err
		}
		c = c.AsSent()
		counters[model] = c
		if info := c.Info(); info.Estimate {
			fmt.Fprintf(errOut, "tokencount: counts for %q are estimates (o200k_base, +%.0f%% margin)\n",
				termsafe.Strip(model), 100*info.SafetyMargin)
		}
	}
	got, err := c.Count(req)
	if err != nil {
		return 0, err
	}
	return got.Tokens, nil
}
