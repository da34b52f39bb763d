package agent

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/autogpt-go/agent/llm"
)

// Memory is one run's (or one conversation's) history store: the messages after the system
// prompt, oldest first, beginning with the goal as a user message.
//
// Memory only stores. Fitting the prompt into the model's context window is the loop's job, because
// only the loop knows what the system prompt and the tool definitions cost. A Memory must be safe for
// concurrent use, and Messages must return a copy the caller may modify. Each run gets its own Memory
// from Config.NewMemory; never share one store between concurrent runs.
type Memory interface {
	// Add appends msgs to the history, in order.
	Add(ctx context.Context, msgs ...llm.Message) error
	// Messages returns a copy of the whole history, oldest first.
	Messages(ctx context.Context) ([]llm.Message, error)
}

// BufferMemory is the default Memory: every message kept in process memory, in order.
// The zero value is ready to use; it is safe for concurrent use.
type BufferMemory struct {
	mu   sync.Mutex
	msgs []llm.Message
}

// NewBufferMemory returns an empty BufferMemory. It has the type func() Memory's callers want:
// use it as Config.NewMemory.
func NewBufferMemory() Memory { return &BufferMemory{} }

// Add appends deep copies of msgs. It returns ctx.Err() if ctx is already done, else nil.
func (m *BufferMemory) Add(ctx context.Context, msgs ...llm.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	for _, msg := range msgs {
		m.msgs = append(m.msgs, msg.Clone())
	}
	m.mu.Unlock()
	return nil
}

// Messages returns a deep copy of the history. It returns ctx.Err() if ctx is already done.
func (m *BufferMemory) Messages(ctx context.Context) ([]llm.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return llm.CloneMessages(m.msgs), nil
}

// Len returns the number of messages stored.
func (m *BufferMemory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs)
}

// Replace replaces the messages [start, end) of the history by copies of msgs (MemoryRewriter).
// It returns an error for a range outside the history, or ctx.Err() if ctx is already done.
func (m *BufferMemory) Replace(ctx context.Context, start, end int, msgs ...llm.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if start < 0 || end < start || end > len(m.msgs) {
		return fmt.Errorf("agent: BufferMemory.Replace(%d, %d) outside a history of %d messages", start, end, len(m.msgs))
	}
	m.msgs = slices.Replace(m.msgs, start, end, llm.CloneMessages(msgs)...)
	return nil
}
