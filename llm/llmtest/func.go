package llmtest

import (
	"context"
	"errors"
	"iter"

	"github.com/autogpt-go/agent/llm"
)

// Func is an llm.Model (and llm.Streamer) whose answer the test computes from the request, for
// behaviour a fixed script cannot express: echo the prompt, answer tool results, fail on the third
// call.
//
// The function receives a deep copy of the request, so it may keep or change it. It must be safe for
// concurrent use if the code under test calls the model concurrently.
type Func func(ctx context.Context, req *llm.Request) (*llm.Response, error)

// Generate returns f(ctx, copy of req). If ctx is already done it returns ctx.Err() without calling
// f. A nil req, or f returning neither a response nor an error, is an error.
func (f Func) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errors.New("llmtest: Func.Generate: nil request")
	}
	c := cloneRequest(req)
	resp, err := f(ctx, &c)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("llmtest: Func returned a nil response and a nil error")
	}
	return resp, nil
}

// Stream calls Generate once per iteration of the returned sequence and yields its answer as Chunks
// does: text fragments, tool-call fragments, then the final Response. An error is yielded once and
// ends the sequence.
func (f Func) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return streamOf(ctx, func() (*llm.Response, error) { return f.Generate(ctx, req) })
}
