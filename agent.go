package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/autogpt-go/agent/internal/redact"
	"github.com/autogpt-go/agent/llm"
	"github.com/google/jsonschema-go/jsonschema"
)

// Defaults for the zero values of Config.
const (
	// DefaultMaxSteps is the step limit when Config.MaxSteps is 0.
	DefaultMaxSteps = 20
	// DefaultMaxParallelTools bounds the tool calls of one step that run at once.
	DefaultMaxParallelTools = 8
	// DefaultMaxToolCallsPerStep bounds the tool calls one model answer may have executed. Models
	// make a handful of parallel calls; an answer with hundreds is broken or hostile, and their
	// results could not fit the context window anyway.
	DefaultMaxToolCallsPerStep = 64
	// DefaultModelTimeout bounds one model call (a whole streamed answer included).
	DefaultModelTimeout = 10 * time.Minute
	// DefaultToolTimeout is how long one tool call may run before its context is cancelled.
	DefaultToolTimeout = 2 * time.Minute
	// DefaultToolGracePeriod is how long the loop waits, after a tool call's context is cancelled
	// (run cancelled or ToolTimeout reached), for the tool to return before abandoning it.
	DefaultToolGracePeriod = 2 * time.Second
	// DefaultLoopWarnAfter and DefaultLoopStopAfter are the loop-detection thresholds.
	DefaultLoopWarnAfter = 3
	DefaultLoopStopAfter = 5
	// DefaultSystemPrompt is the system prompt when Config.SystemPrompt is "".
	DefaultSystemPrompt = "You are an autonomous agent. Work towards the user's goal step by step. " +
		"Call the tools you are given whenever they help, and check their results. " +
		"When the goal is reached, reply with the final answer as text, without calling a tool."
)

// Errors a run can end with. A run that stops early returns them wrapped (test with errors.Is)
// together with its partial Result.
var (
	// ErrMaxSteps: the run took Config.MaxSteps steps without a final answer.
	ErrMaxSteps = errors.New("agent: maximum number of steps reached")
	// ErrLoopDetected: the model made the same tool call (same canonical arguments)
	// Config.LoopStopAfter times in a row; that call was not executed.
	ErrLoopDetected = errors.New("agent: loop detected")
	// ErrRunDone is returned by Step on a run that already has its final answer.
	ErrRunDone = errors.New("agent: run is already done")
)

// Config configures an Agent. Only Model is required; every zero value has the documented default.
type Config struct {
	// Model answers the planner's requests. Required.
	Model llm.Model
	// Tools are offered to the model. Names must be unique and match ^[a-zA-Z0-9_-]{1,64}$.
	Tools []Tool
	// SystemPrompt is the first message of every request; "" means DefaultSystemPrompt. Set it to
	// a single space to send none.
	SystemPrompt string
	// Planner decides each step; nil means ToolCallingPlanner (native tool calling).
	Planner Planner
	// NewMemory makes the history store of each new run; nil means NewBufferMemory.
	NewMemory func() Memory
	// MaxSteps bounds the steps of a run; 0 means DefaultMaxSteps (20). Negative is an error.
	MaxSteps int
	// MaxParallelTools bounds how many tool calls of one step run at once; 0 means
	// DefaultMaxParallelTools (8); 1 runs them one after another.
	MaxParallelTools int
	// MaxToolCallsPerStep bounds the tool calls of one step that execute, in call order; each
	// call past it gets an error result ("not executed") and never runs. 0 means
	// DefaultMaxToolCallsPerStep (64); negative means no bound.
	MaxToolCallsPerStep int
	// ModelTimeout bounds one model call, in wall time; 0 means DefaultModelTimeout (10 minutes),
	// negative means no timeout (the run's context still applies). A call that times out ends the
	// step with an error matching context.DeadlineExceeded.
	ModelTimeout time.Duration
	// ToolTimeout bounds one tool call, in wall time; 0 means DefaultToolTimeout (2 minutes),
	// negative means no timeout (the run's context still applies).
	ToolTimeout time.Duration
	// ToolGracePeriod is how long a tool may take to return after its context was cancelled before
	// the run abandons it and goes on (its result says so, and ToolCallRecord.Abandoned is set);
	// 0 means DefaultToolGracePeriod (2 seconds).
	ToolGracePeriod time.Duration
	// MaxOutputTokens is sent as the request's output-token cap; 0 leaves the provider's default.
	MaxOutputTokens int
	// ModelName names the model for token counting, context window and prices (see
	// llm.LookupModel); "" uses the Model's ModelName method when it has one. An unknown name gets
	// the registry's fallback (estimated counts, a conservative window) and a warning in Logger.
	ModelName string
	// ContextWindow overrides the registry's context window, in tokens; 0 keeps it.
	ContextWindow int
	// ReservedOutputTokens is the room kept free in the context window for the answer, in tokens;
	// 0 means the smaller of the model's maximum output and a quarter of the window. It is never
	// less than MaxOutputTokens (the answer may take that much).
	ReservedOutputTokens int
	// MaxToolResultTokens caps one tool result as the model sees it, in tokens: a longer one is cut
	// to its head and tail (at rune boundaries) with a note of its original size; 0 means a
	// quarter of the window left after the reserve; less than MinToolResultTokens is an error.
	// When a turn has n > 1 results, each is also capped to an equal share of half that window
	// left, so that the turn fits. The ToolCallRecord keeps the whole output.
	MaxToolResultTokens int
	// MaxTotalTokens is the run's budget of input plus output tokens; 0 means none. Before each
	// model call the exact prompt count plus the call's maximum output tokens is checked against
	// what is left; a call that could exceed it is not made and the run stops with a *BudgetError.
	MaxTotalTokens int
	// MaxCostUSD is the run's budget in USD, checked like MaxTotalTokens with the model's prices
	// (llm.ModelInfo); 0 means none. New refuses it for a model without a price.
	MaxCostUSD float64
	// Compactor summarises history turns that no longer fit the context window; nil drops them
	// (oldest whole turns first). Its summaries persist when the Memory is a MemoryRewriter.
	Compactor Compactor
	// Temperature is sent as the sampling temperature; nil leaves the provider's default.
	Temperature *float64
	// LoopWarnAfter: from this many steps in a row that make the same tool call (same tool, same
	// canonical arguments; identical calls within one step count once), its result carries a note
	// telling the model it is repeating itself; 0 means DefaultLoopWarnAfter (3), negative never.
	LoopWarnAfter int
	// LoopStopAfter: the call that makes this many steps in a row of the same call is not executed
	// and the run stops with ErrLoopDetected and its partial Result; 0 means DefaultLoopStopAfter
	// (5), negative never.
	LoopStopAfter int
	// Secrets are values (API keys, passwords) to redact from events, errors and step records,
	// beside well-known credential shapes (sk-..., AKIA..., ghp_..., bearer tokens, PEM private
	// keys) and the keys of a Model that has a Secrets() []string method (llm/langchaingo does),
	// in their raw, JSON-escaped, URL-escaped and base64 spellings. The model itself still sees
	// what tools return, and the run's history (RunState.Messages, which the model reads again on
	// the next step or after Resume) keeps the original texts: store saved runs accordingly.
	Secrets []string
	// Hooks run around model and tool calls.
	Hooks Hooks
	// Logger receives debug records of runs, steps, model calls and tool calls (attributes run,
	// step, tool, tool_call_id, input_tokens, output_tokens, finish_reason, duration, error), and
	// warnings (an unknown model's fallback limits, a tool panic, an abandoned tool call); nil logs
	// nothing. Values pass through the same redaction as events.
	Logger *slog.Logger
	// Tracer observes runs, steps, model calls and tool calls as nested spans; nil traces nothing.
	// github.com/autogpt-go/agent/otel provides an OpenTelemetry Tracer.
	Tracer Tracer
	// Name names the agent in traces (gen_ai.agent.name) and logs; optional.
	Name string
}

// Hooks are optional callbacks around model and tool calls. They run on the goroutine that runs the
// step; the tool hooks run one call at a time, in call order.
type Hooks struct {
	// BeforeModelCall may inspect or change the request. An error stops the step before the call.
	BeforeModelCall func(ctx context.Context, req *llm.Request) error
	// AfterModelCall observes each model call's response or error.
	AfterModelCall func(ctx context.Context, req *llm.Request, resp *llm.Response, err error)
	// BeforeToolCall runs before each tool call, after the call's tool was found. It may allow the
	// call, deny it with a reason (sent to the model as the tool result), or replace its arguments
	// (validated again). An error stops the run: every call of the step gets a "not executed"
	// result, and the step returns the error. This is where approval (human in the loop) and
	// guardrails live.
	BeforeToolCall func(ctx context.Context, call llm.ToolCall) (ToolVerdict, error)
	// AfterToolCall observes each call's result, in call order, after every call of the step ended.
	AfterToolCall func(ctx context.Context, call llm.ToolCall, result ToolResult)
}

// ToolVerdict is a BeforeToolCall hook's answer. The zero value allows the call unchanged.
type ToolVerdict struct {
	// Deny refuses the call; Reason is sent to the model as the (error) tool result.
	Deny   bool
	Reason string
	// Arguments, if non-empty, replaces the call's arguments (raw JSON object).
	Arguments string
}

// Agent runs goals with a model, tools, a planner and a memory. It is immutable after New and safe
// for concurrent runs.
type Agent struct {
	model        llm.Model
	planner      Planner
	newMemory    func() Memory
	tools        map[string]*toolEntry
	specs        []llm.ToolSpec
	systemPrompt string
	maxSteps     int
	parallel     int
	maxCalls     int // per step; 0: no bound
	modelTimeout time.Duration
	toolTimeout  time.Duration
	grace        time.Duration
	maxOutput    int
	temperature  *float64
	hooks        Hooks
	log          *slog.Logger
	tracer       Tracer
	name         string
	modelName    string // for traces: Config.ModelName or the Model's ModelName method
	provider     string // for traces: the Model's Provider method
	loopWarn     int    // 0: never
	loopStop     int    // 0: never
	red          *redact.Redactor

	// Token accounting.
	info          llm.ModelInfo
	infoKnown     bool
	window        int // tokens
	reserve       int // tokens kept for the answer
	maxToolResult int // tokens
	maxTotal      int
	maxCost       float64
	compactor     Compactor
	counterCell   *counterCell // shared by copies of the Agent (see RunTyped)

	output *outputSpec // set on the copy RunTyped makes
}

// counterCell builds the token counter once, on first use.
type counterCell struct {
	once sync.Once
	c    *llm.Counter
	err  error
}

type toolEntry struct {
	tool     Tool
	schema   json.RawMessage
	resolved *jsonschema.Resolved
	pre      prevalidated // non-nil when the tool validates with its own resolved schema
}

// New validates cfg and returns an Agent. It returns an error for a nil Model, a negative MaxSteps,
// a nil tool, an invalid or duplicate tool name, a tool whose Err method reports an error, and a
// tool schema that is not a JSON Schema of an object.
func New(cfg Config) (*Agent, error) {
	if cfg.Model == nil {
		return nil, errors.New("agent: Config.Model is nil")
	}
	if cfg.MaxSteps < 0 {
		return nil, fmt.Errorf("agent: Config.MaxSteps is %d, want 0 (default %d) or more", cfg.MaxSteps, DefaultMaxSteps)
	}
	a := &Agent{
		model:        cfg.Model,
		planner:      cfg.Planner,
		newMemory:    cfg.NewMemory,
		tools:        make(map[string]*toolEntry, len(cfg.Tools)),
		systemPrompt: cfg.SystemPrompt,
		maxSteps:     cfg.MaxSteps,
		parallel:     cfg.MaxParallelTools,
		modelTimeout: cfg.ModelTimeout,
		toolTimeout:  cfg.ToolTimeout,
		grace:        cfg.ToolGracePeriod,
		maxOutput:    cfg.MaxOutputTokens,
		temperature:  cfg.Temperature,
		hooks:        cfg.Hooks,
		log:          cfg.Logger,
		tracer:       cfg.Tracer,
		name:         cfg.Name,
	}
	if p, ok := cfg.Model.(interface{ Provider() string }); ok {
		a.provider = p.Provider()
	}
	if a.planner == nil {
		a.planner = ToolCallingPlanner{}
	}
	if a.newMemory == nil {
		a.newMemory = NewBufferMemory
	}
	switch a.systemPrompt {
	case "":
		a.systemPrompt = DefaultSystemPrompt
	case " ":
		a.systemPrompt = ""
	}
	if a.maxSteps == 0 {
		a.maxSteps = DefaultMaxSteps
	}
	if a.parallel <= 0 {
		a.parallel = DefaultMaxParallelTools
	}
	if a.modelTimeout == 0 {
		a.modelTimeout = DefaultModelTimeout
	}
	if a.toolTimeout == 0 {
		a.toolTimeout = DefaultToolTimeout
	}
	if a.grace <= 0 {
		a.grace = DefaultToolGracePeriod
	}
	secrets := append([]string(nil), cfg.Secrets...)
	if m, ok := cfg.Model.(interface{ Secrets() []string }); ok {
		secrets = append(secrets, m.Secrets()...)
	}
	a.red = redact.New(secrets...)
	if a.log != nil {
		a.log = slog.New(a.red.Handler(a.log.Handler()))
		if a.name != "" {
			a.log = a.log.With("agent", a.name)
		}
	}
	a.loopWarn, a.loopStop = threshold(cfg.LoopWarnAfter, DefaultLoopWarnAfter), threshold(cfg.LoopStopAfter, DefaultLoopStopAfter)
	a.maxCalls = threshold(cfg.MaxToolCallsPerStep, DefaultMaxToolCallsPerStep)
	a.counterCell = &counterCell{}
	if err := a.setAccounting(cfg); err != nil {
		return nil, err
	}
	for i, t := range cfg.Tools {
		if t == nil {
			return nil, fmt.Errorf("agent: Config.Tools[%d] is nil", i)
		}
		name := t.Name()
		if !toolNameRE.MatchString(name) {
			return nil, fmt.Errorf("agent: tool name %q must match %s", name, toolNameRE)
		}
		if _, dup := a.tools[name]; dup {
			return nil, fmt.Errorf("agent: two tools are named %q", name)
		}
		if e, ok := t.(interface{ Err() error }); ok && e.Err() != nil {
			return nil, fmt.Errorf("agent: %w", e.Err())
		}
		ent := &toolEntry{tool: t, schema: t.Schema()}
		if p, ok := t.(prevalidated); ok && p.resolvedSchema() != nil {
			ent.pre, ent.resolved = p, p.resolvedSchema()
		} else {
			r, err := resolveSchema(ent.schema)
			if err != nil {
				return nil, fmt.Errorf("agent: tool %q: schema: %w", name, err)
			}
			ent.resolved = r
		}
		if len(ent.schema) == 0 {
			ent.schema = emptyObjectSchema
		}
		a.tools[name] = ent
		a.specs = append(a.specs, llm.ToolSpec{Name: name, Description: t.Description(), Parameters: ent.schema})
	}
	if v, ok := a.planner.(ToolValidator); ok {
		if err := v.ValidateTools(slices.Clone(a.specs)); err != nil {
			return nil, fmt.Errorf("agent: planner refuses the tools: %w", err)
		}
	}
	return a, nil
}

// threshold maps a Config threshold to the Agent's: 0 means def, negative means never (0).
func threshold(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// setAccounting resolves the model's registry entry, the window, the reserve and the budgets.
func (a *Agent) setAccounting(cfg Config) error {
	name := cfg.ModelName
	if name == "" {
		if n, ok := cfg.Model.(interface{ ModelName() string }); ok {
			name = n.ModelName()
		}
	}
	a.modelName = name
	a.info, a.infoKnown = llm.LookupModel(name)
	if cfg.ContextWindow < 0 || cfg.ReservedOutputTokens < 0 || cfg.MaxToolResultTokens < 0 || cfg.MaxTotalTokens < 0 || cfg.MaxCostUSD < 0 {
		return errors.New("agent: ContextWindow, ReservedOutputTokens, MaxToolResultTokens, MaxTotalTokens and MaxCostUSD must not be negative")
	}
	if cfg.ContextWindow > 0 {
		a.info.ContextWindow = cfg.ContextWindow
	}
	a.window = a.info.ContextWindow
	switch {
	case cfg.ReservedOutputTokens > 0:
		a.reserve = cfg.ReservedOutputTokens
	case cfg.MaxOutputTokens > 0:
		a.reserve = cfg.MaxOutputTokens
	default:
		a.reserve = min(a.info.MaxOutputTokens, a.window/4)
	}
	a.reserve = max(a.reserve, cfg.MaxOutputTokens)
	if a.reserve >= a.window {
		return fmt.Errorf("agent: %d tokens reserved for the answer leave nothing of the %d-token context window of %q", a.reserve, a.window, a.info.Name)
	}
	a.maxToolResult = cfg.MaxToolResultTokens
	if a.maxToolResult == 0 {
		a.maxToolResult = max((a.window-a.reserve)/4, MinToolResultTokens)
	}
	if a.maxToolResult < MinToolResultTokens {
		return fmt.Errorf("agent: MaxToolResultTokens %d is below the minimum of %d", a.maxToolResult, MinToolResultTokens)
	}
	a.maxTotal, a.maxCost, a.compactor = cfg.MaxTotalTokens, cfg.MaxCostUSD, cfg.Compactor
	if math.IsNaN(cfg.MaxCostUSD) || math.IsInf(cfg.MaxCostUSD, 0) {
		return fmt.Errorf("agent: MaxCostUSD is %v, want a finite number", cfg.MaxCostUSD)
	}
	if a.maxCost > 0 && !a.info.Priced() {
		return fmt.Errorf("agent: MaxCostUSD is set but model %q has no price: register one with llm.RegisterModel", a.info.Name)
	}
	if a.compactor != nil {
		if _, ok := a.newMemory().(MemoryRewriter); !ok {
			return errors.New("agent: Config.Compactor needs a Memory that implements MemoryRewriter")
		}
	}
	return nil
}

// Start returns a new RunState for goal. Nothing runs until Step (or Resume) is called.
func (a *Agent) Start(goal string) *RunState {
	return &RunState{
		ID:       newRunID(),
		Goal:     goal,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: goal}},
	}
}

// Result is the outcome of a run, complete or partial.
type Result struct {
	// Answer is the final answer; "" when the run stopped early.
	Answer string
	// Done reports whether the run reached its final answer.
	Done bool
	// Steps are the steps taken, in order.
	Steps []StepRecord
	// Usage sums the token usage of every model call.
	Usage llm.Usage
	// CostUSD is the run's cost in USD at the model's prices (0 when it has none).
	CostUSD float64
	// Abandoned lists the tool calls that ignored cancellation and were left running
	// (see Config.ToolGracePeriod).
	Abandoned []ToolCallRecord
	// State is the run's state, for saving or resuming.
	State *RunState
}

func (a *Agent) result(st *RunState) *Result {
	r := &Result{Answer: st.Answer, Done: st.Done, Steps: st.Steps, Usage: st.Usage, CostUSD: st.CostUSD, State: st}
	for _, s := range st.Steps {
		for _, c := range s.ToolCalls {
			if c.Abandoned {
				r.Abandoned = append(r.Abandoned, c)
			}
		}
	}
	return r
}

// Run runs goal to its final answer. It returns the Result and nil, or, when the run stops early, a
// partial Result (never nil) and an error: ErrMaxSteps, the model's or a hook's error, or ctx's
// error, each wrapped (test with errors.Is).
func (a *Agent) Run(ctx context.Context, goal string) (*Result, error) {
	return a.Resume(ctx, a.Start(goal))
}

// Resume runs st, a state from Start or a saved run, to its final answer; the results are as Run's.
// A finished st returns its Result and nil at once.
func (a *Agent) Resume(ctx context.Context, st *RunState) (*Result, error) {
	if st.Done {
		return a.result(st), nil
	}
	ctx, end := a.startRun(ctx, st)
	for {
		done, err := a.Step(ctx, st, nil)
		if err != nil || done {
			res := a.result(st)
			end(res, err)
			return res, err
		}
	}
}

// startRun opens the run's span when a Tracer is set; end is called once with the outcome.
func (a *Agent) startRun(ctx context.Context, st *RunState) (context.Context, func(*Result, error)) {
	if a.log != nil {
		a.log.DebugContext(ctx, "agent run", "run", st.ID, "model", a.modelName, "max_steps", a.maxSteps)
	}
	end := func(*Result, error) {}
	if a.tracer != nil {
		ctx, end = a.tracer.StartRun(ctx, RunInfo{RunID: st.ID, AgentName: a.name, Goal: a.red.String(st.Goal),
			Model: a.modelName, Provider: a.provider, MaxSteps: a.maxSteps, Redact: a.red.String})
	}
	if a.log == nil {
		return ctx, end
	}
	return ctx, func(res *Result, err error) {
		level := slog.LevelDebug
		attrs := []any{"run", st.ID, "steps", st.Step, "input_tokens", st.Usage.InputTokens,
			"output_tokens", st.Usage.OutputTokens, "cost_usd", st.CostUSD, "done", st.Done}
		if err != nil {
			level = slog.LevelInfo
			attrs = append(attrs, "error", err)
		}
		a.log.Log(ctx, level, "agent run ended", attrs...)
		end(res, err)
	}
}

// Stream runs goal and yields the run's events as they happen (the error is nil for all of them),
// ending with an EventFinal that carries the Result. When the run stops early the last pair
// yielded is an EventError, whose Result is the partial result, with the error (as Run would return
// it). Breaking out of the loop cancels the run.
func (a *Agent) Stream(ctx context.Context, goal string) iter.Seq2[Event, error] {
	return a.StreamState(ctx, a.Start(goal))
}

// StreamState is Stream for a RunState from Start or a saved run. A finished st yields its
// EventFinal at once.
func (a *Agent) StreamState(ctx context.Context, st *RunState) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if st.Done {
			res := a.result(st)
			yield(Event{Kind: EventFinal, Step: max(st.Step-1, 0), Text: st.Answer, Result: res}, nil)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx, end := a.startRun(ctx, st)
		var runErr error
		defer func() { end(a.result(st), runErr) }()
		stopped := false
		emit := func(e Event) {
			if stopped {
				return
			}
			if !yield(e, nil) {
				stopped = true
				cancel()
			}
		}
		for !stopped {
			done, err := a.Step(ctx, st, emit)
			if stopped {
				runErr = context.Canceled // the consumer broke out of the loop
				return
			}
			if err != nil {
				runErr = err
				yield(Event{Kind: EventError, Step: max(st.Step-1, 0), Text: err.Error(), Result: a.result(st)}, err)
				return
			}
			if done {
				return
			}
		}
	}
}

// Step runs one plan → act → observe cycle of st: the planner decides (usually one model call),
// the tool calls run, their results enter the history. emit, which may be nil, receives the step's
// events synchronously on the calling goroutine.
//
// It returns done=true once the run has its final answer. Errors: ErrRunDone for a finished run;
// ErrMaxSteps when st already took MaxSteps steps; the planner's (model's) error; a hook's error;
// ctx's error. After any error st is consistent: every tool call in the history has its result, so
// the host may inspect, save or resume it.
func (a *Agent) Step(ctx context.Context, st *RunState, emit func(Event)) (done bool, err error) {
	if emit != nil {
		emit = a.redactingEmit(emit)
	}
	if a.tracer == nil || st.Done {
		done, err = a.step(ctx, st, emit)
		return done, a.red.Error(err)
	}
	sctx, end := a.tracer.StartStep(ctx, StepInfo{RunID: st.ID, AgentName: a.name, Index: st.Step})
	n := len(st.Steps)
	done, err = a.step(sctx, st, emit)
	err = a.red.Error(err)
	var rec *StepRecord
	if len(st.Steps) > n {
		rec = &st.Steps[len(st.Steps)-1]
	}
	end(rec, err)
	return done, err
}

// redactingEmit passes events on with secrets removed from their text (copies: the run's own
// messages keep their content).
func (a *Agent) redactingEmit(emit func(Event)) func(Event) {
	return func(e Event) {
		if e.redacted {
			e.redacted = false
			emit(e)
			return
		}
		e.Text = a.red.String(e.Text)
		if e.ToolCall != nil {
			c := *e.ToolCall
			c.Arguments = a.red.String(c.Arguments)
			e.ToolCall = &c
		}
		if e.ToolCallDelta != nil {
			d := *e.ToolCallDelta
			d.Arguments = a.red.String(d.Arguments)
			e.ToolCallDelta = &d
		}
		if e.ToolResult != nil {
			r := *e.ToolResult
			r.Content = a.red.String(r.Content)
			e.ToolResult = &r
		}
		if e.Response != nil {
			r := *e.Response
			r.Message = r.Message.Clone()
			r.Message.Content = a.red.String(r.Message.Content)
			for i := range r.Message.ToolCalls {
				r.Message.ToolCalls[i].Arguments = a.red.String(r.Message.ToolCalls[i].Arguments)
			}
			e.Response = &r
		}
		e.Thoughts = a.redactThoughts(e.Thoughts)
		emit(e)
	}
}

func (a *Agent) step(ctx context.Context, st *RunState, emit func(Event)) (done bool, err error) {
	if st.Done {
		return true, ErrRunDone
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if st.Step >= a.maxSteps {
		return false, fmt.Errorf("%w (%d)", ErrMaxSteps, a.maxSteps)
	}
	listening := emit != nil
	if !listening {
		emit = func(Event) {}
	}
	if st.mem == nil {
		mem := a.newMemory()
		if err := mem.Add(ctx, st.Messages...); err != nil {
			return false, fmt.Errorf("agent: memory: %w", err)
		}
		st.mem, st.Messages = mem, nil
	}
	history, err := st.mem.Messages(ctx)
	if err != nil {
		return false, fmt.Errorf("agent: memory: %w", err)
	}
	idx := st.Step
	st.Step++
	rec := StepRecord{Index: idx}
	recorded := false
	record := func(err error) {
		recorded = true
		st.Usage = st.Usage.Add(rec.Usage)
		st.CostUSD += rec.CostUSD
		if err != nil {
			rec.Error = a.red.String(err.Error())
		}
		a.redactRecord(&rec)
		st.Steps = append(st.Steps, rec)
	}
	defer func() {
		if !recorded {
			record(err)
		}
	}()
	emit(Event{Kind: EventStepStart, Step: idx})
	if a.log != nil {
		a.log.DebugContext(ctx, "agent step", "run", st.ID, "step", idx)
	}

	view := &RunView{
		Goal:            st.Goal,
		Step:            idx,
		MaxSteps:        a.maxSteps,
		SystemPrompt:    a.systemPrompt,
		Messages:        history,
		Tools:           slices.Clone(a.specs),
		State:           st.PlannerState,
		Model:           &stepModel{a: a, st: st, rec: &rec, emit: emit, step: idx, streaming: listening},
		LastStep:        idx == a.maxSteps-1,
		outputHint:      a.outputHint(),
		maxOutputTokens: a.maxOutput,
		temperature:     a.temperature,
	}
	d, err := a.planner.Next(ctx, view)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return false, err
	}
	if d == nil {
		return false, errors.New("agent: planner returned a nil Decision")
	}
	if d.State != nil {
		st.PlannerState = append(json.RawMessage(nil), d.State...)
	}
	if d.Thought == "" && d.Thoughts != nil {
		d.Thought = d.Thoughts.String()
	}
	rec.Thought, rec.Thoughts = d.Thought, d.Thoughts
	if d.Thought != "" {
		emit(Event{Kind: EventThought, Step: idx, Text: d.Thought, Thoughts: d.Thoughts})
	}
	calls := d.ToolCalls
	if len(calls) > 0 {
		calls = assignCallIDs(calls, d.Messages, idx)
	}
	rec.Messages = llm.CloneMessages(d.Messages)
	if err := st.mem.Add(ctx, d.Messages...); err != nil {
		return false, fmt.Errorf("agent: memory: %w", err)
	}
	if len(calls) > 0 {
		records, hookErr := a.execute(ctx, st, calls, emit, idx)
		rec.ToolCalls = records
		results := make([]ToolResult, len(records))
		for i := range records {
			results[i] = records[i].Result
			results[i].Content = a.truncateToolOutput(results[i].Content, a.toolResultCap(len(records)))
		}
		var obs []llm.Message
		if o, ok := a.planner.(Observer); ok {
			obs = o.Observe(calls, results)
		} else {
			obs = make([]llm.Message, len(records))
			for i, r := range records {
				obs[i] = llm.Message{Role: llm.RoleTool, ToolCallID: r.Call.ID, Name: r.Call.Name, Content: results[i].Content, IsError: r.Result.IsError}
			}
		}
		// The results are stored even when ctx is done: the history must answer every call.
		if err := st.mem.Add(context.WithoutCancel(ctx), obs...); err != nil {
			return false, fmt.Errorf("agent: memory: %w", err)
		}
		if hookErr != nil {
			return false, hookErr
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	if a.output != nil {
		final, answer, err := a.typedOutcome(ctx, st, d, rec.ToolCalls)
		if err != nil {
			return false, err
		}
		d.Final, d.Answer = final, answer
	}
	if d.Final {
		st.Done, st.Answer = true, d.Answer
		record(nil) // the final event's Result includes this step
		emit(Event{Kind: EventFinal, Step: idx, Text: d.Answer, Result: a.result(st)})
		return true, nil
	}
	return false, nil
}

// assignCallIDs gives every call without an ID, or with an ID an earlier call of the step already
// has, a new unique ID, so that each tool result answers exactly one call. The new IDs are carried
// into the message of msgs that holds these calls (same names and old IDs, position by position).
func assignCallIDs(calls []llm.ToolCall, msgs []llm.Message, step int) []llm.ToolCall {
	seen := make(map[string]bool, len(calls))
	var out []llm.ToolCall // stays nil while no ID changes
	for i, c := range calls {
		if c.ID != "" && !seen[c.ID] {
			seen[c.ID] = true
			continue
		}
		if out == nil {
			out = append([]llm.ToolCall(nil), calls...)
		}
		id := fmt.Sprintf("call_%d_%d", step, i)
		for seen[id] {
			id += "x"
		}
		out[i].ID, seen[id] = id, true
	}
	if out == nil {
		return calls
	}
	for m := range msgs {
		if sameCalls(msgs[m].ToolCalls, calls) {
			msgs[m].ToolCalls = append([]llm.ToolCall(nil), out...)
			break
		}
	}
	return out
}

func sameCalls(a, b []llm.ToolCall) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// stepModel wraps the run's model for one step: hooks, streaming to events, usage accounting.
type stepModel struct {
	a         *Agent
	st        *RunState
	rec       *StepRecord
	emit      func(Event)
	step      int
	streaming bool // someone listens to the events: stream text deltas when the model can
	nested    bool // a Compactor's call: no fitting of its own
}

func (m *stepModel) Generate(ctx context.Context, req *llm.Request) (resp *llm.Response, err error) {
	a := m.a
	if h := a.hooks.BeforeModelCall; h != nil {
		if err := h(ctx, req); err != nil {
			return nil, fmt.Errorf("agent: BeforeModelCall hook: %w", err)
		}
	}
	var fr fitResult
	if !m.nested {
		if fr, err = m.fit(ctx, req); err != nil {
			return nil, err
		}
	}
	if err := checkShape(req.Messages); err != nil {
		return nil, err
	}
	if a.needExactInput() {
		if !fr.counted {
			c, err := a.counter()
			if err != nil {
				return nil, err
			}
			n, err := c.Count(req)
			if err != nil {
				return nil, err
			}
			fr.tokens, fr.counted = n.Tokens, true
		}
		if err := m.checkBudget(req, fr.tokens); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	mctx := ctx
	if a.modelTimeout > 0 {
		var cancel context.CancelFunc
		mctx, cancel = context.WithTimeout(ctx, a.modelTimeout)
		defer cancel()
	}
	s, streaming := a.model.(llm.Streamer)
	streaming = streaming && m.streaming
	endSpan := func(*llm.Response, error) {}
	if a.tracer != nil {
		mctx, endSpan = a.tracer.StartModelCall(mctx, ModelCallInfo{RunID: m.st.ID, Step: m.step,
			Model: a.modelName, Provider: a.provider, Streaming: streaming, Request: req, Redact: a.red.String})
	}
	if streaming {
		resp, err = m.stream(mctx, s, req)
	} else {
		resp, err = a.model.Generate(mctx, req)
	}
	if err != nil && ctx.Err() == nil && mctx.Err() != nil && !errors.Is(err, mctx.Err()) {
		err = fmt.Errorf("agent: model call timed out after %v: %w (%v)", a.modelTimeout, mctx.Err(), err)
	}
	if err == nil && resp == nil {
		err = errors.New("agent: model returned a nil response")
	}
	endSpan(resp, a.red.Error(err))
	if h := a.hooks.AfterModelCall; h != nil {
		h(ctx, req, resp, err)
	}
	m.rec.ModelCalls++
	if err != nil {
		if a.log != nil {
			a.log.DebugContext(ctx, "model call failed", "run", m.st.ID, "step", m.step, "error", err)
		}
		return nil, err
	}
	u := saneUsage(resp.Usage)
	if u == (llm.Usage{}) && a.needExactInput() {
		// The provider reported no usage; budgets still need one: our count stands in.
		u = llm.Usage{InputTokens: fr.tokens, OutputTokens: a.countOutput(resp.Message)}
		m.rec.UsageEstimated = true
	}
	m.rec.Usage = m.rec.Usage.Add(u)
	m.rec.CostUSD += a.info.CostUSD(u)
	m.rec.FinishReason = resp.FinishReason
	if a.log != nil {
		a.log.DebugContext(ctx, "model call", "run", m.st.ID, "step", m.step, "input_tokens", resp.Usage.InputTokens,
			"output_tokens", resp.Usage.OutputTokens, "finish_reason", resp.FinishReason, "duration", time.Since(start))
	}
	m.emit(Event{Kind: EventModelResponse, Step: m.step, Response: resp})
	return resp, nil
}

func (m *stepModel) stream(ctx context.Context, s llm.Streamer, req *llm.Request) (*llm.Response, error) {
	var final *llm.Response
	// Deltas are redacted as streams (a secret split across two deltas is still found): each
	// holds back a tail that could be the start of a secret until the next delta or the end.
	text := m.a.red.NewStream()
	type callStream struct {
		id  string
		red *redact.Stream
	}
	var calls map[int]*callStream // by delta index
	var order []int
	flush := func() { // what was held back, redacted: the rest of what arrived
		if out := text.Flush(); out != "" {
			m.emit(Event{Kind: EventTextDelta, Step: m.step, Text: out, redacted: true})
		}
		for _, i := range order {
			if out := calls[i].red.Flush(); out != "" {
				m.emit(Event{Kind: EventToolCallDelta, Step: m.step, ToolCallDelta: &llm.ToolCallDelta{Index: i, Arguments: out}, ToolCallID: calls[i].id, redacted: true})
			}
		}
	}
	for c, err := range s.Stream(ctx, req) {
		if err != nil {
			flush()
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err // never take a stream cut short by cancellation for an answer
		}
		if c.Text != "" {
			if out := text.Write(c.Text); out != "" {
				m.emit(Event{Kind: EventTextDelta, Step: m.step, Text: out, redacted: true})
			}
		}
		if d := c.ToolCall; d != nil {
			cs := calls[d.Index]
			if cs == nil {
				if calls == nil {
					calls = map[int]*callStream{}
				}
				cs = &callStream{red: m.a.red.NewStream()}
				calls[d.Index] = cs
				order = append(order, d.Index)
			}
			if d.ID != "" {
				cs.id = d.ID
			}
			delta := *d
			delta.Arguments = cs.red.Write(d.Arguments)
			if delta.Arguments != "" || delta.ID != "" || delta.Name != "" {
				m.emit(Event{Kind: EventToolCallDelta, Step: m.step, ToolCallDelta: &delta, ToolCallID: cs.id, redacted: true})
			}
		}
		if c.Response != nil {
			final = c.Response
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	flush()
	if final == nil {
		return nil, errors.New("agent: model stream ended without a final response")
	}
	return final, nil
}

// redactRecord removes secrets from a step record's texts (messages, thoughts, tool-call arguments
// and results). The record's slices are the step's own copies; the history in Memory keeps the
// original texts, which the model must see again.
func (a *Agent) redactRecord(rec *StepRecord) {
	rec.Thought = a.red.String(rec.Thought)
	rec.Thoughts = a.redactThoughts(rec.Thoughts)
	for i := range rec.Messages {
		m := &rec.Messages[i]
		m.Content = a.red.String(m.Content)
		if len(m.ToolCalls) > 0 {
			m.ToolCalls = slices.Clone(m.ToolCalls)
			for k := range m.ToolCalls {
				m.ToolCalls[k].Arguments = a.red.String(m.ToolCalls[k].Arguments)
			}
		}
	}
	for i := range rec.ToolCalls {
		c := &rec.ToolCalls[i]
		c.Call.Arguments = a.red.String(c.Call.Arguments)
		c.Result.Content = a.red.String(c.Result.Content)
	}
}

// redactThoughts returns a redacted copy of t, or nil for nil.
func (a *Agent) redactThoughts(t *Thoughts) *Thoughts {
	if t == nil {
		return nil
	}
	c := *t
	c.Text, c.Reasoning, c.Plan = a.red.String(c.Text), a.red.String(c.Reasoning), a.red.String(c.Plan)
	c.Criticism, c.Speak = a.red.String(c.Criticism), a.red.String(c.Speak)
	return &c
}
