// Package shell gives an agent one tool, run_command, that runs an allowed program in the
// workspace directory, without a shell.
//
// The tool is off unless the host builds it with New and hands it to the agent. Read this before
// you do:
//
// An allowlist is a convenience, not a sandbox. It decides which program starts, not what the
// program does: an allowed program can do anything its arguments let it do, with the rights of the
// host process. `find . -exec rm -rf {} +`, `git -c core.pager=... log`, `tar --to-command=...`,
// `awk 'BEGIN{system(...)}'`, `make`, `go run`, `npm install` (package scripts), `python3 -c`,
// `env`, `xargs` and any shell or interpreter all run arbitrary code, and any program can read or
// write files outside the workspace if its arguments name them (an absolute path, "../"). The
// working directory and HOME are the workspace, but nothing confines the process to it. For a
// boundary, run the agent (or the commands) in a container, a VM, or under a dedicated user with
// an OS sandbox (seccomp, landlock, bubblewrap, sandbox-exec), with no secrets in reach.
//
// What the tool does guarantee:
//
//   - No shell ever runs: the program is executed directly (execve) with the argv given. A model
//     can pass argv as a JSON array, or one command string that SplitCommand turns into argv with a
//     real shell parser (mvdan.cc/sh/v3/syntax), refusing every operator, redirection, expansion,
//     substitution, glob and comment instead of passing it on literally or guessing. So
//     "echo ok; rm -rf x" is refused as a string and, as argv, gives echo the literal arguments.
//   - The allowlist is checked on the resolved program: the name is looked up through the fixed
//     PATH (Config.Path) or, for a path, cleaned (relative paths are taken from the workspace), and
//     every symbolic link is resolved. The program runs only if its base name is an allowed name
//     and its resolved file is that allowed program's resolved file, so "/bin/./rm", "../../bin/rm",
//     "./rm", and a link named "echo" pointing at rm are all refused, and a multi-call binary
//     (busybox) runs only under an allowed name. The resolved file is what is executed, so a link
//     swapped after the check changes nothing.
//   - The environment starts empty: PATH (Config.Path), LANG (DefaultLang), HOME (the workspace),
//     and Config.Env. The host's variables, API keys included, are not inherited. Standard input is
//     empty (/dev/null).
//   - The program runs in its own process group. When Config.Timeout passes, or the call's ctx
//     ends, the whole group is killed (SIGKILL), children and grandchildren included; when the
//     program exits, any process it left behind in its group is killed too. A process that leaves
//     the group on purpose (setsid, a daemon) escapes this: another reason it is not a sandbox.
//   - Output (standard output and standard error, interleaved as written) is capped at
//     Config.MaxOutputBytes: the head and the tail are kept with a note of what was left out.
//
// It needs a Unix system (Linux, macOS, the BSDs): elsewhere New returns an error wrapping
// errors.ErrUnsupported.
//
// A minimal use:
//
//	run, err := shell.New(shell.Config{Allow: []string{"ls", "cat", "go"}, Dir: "/srv/agent/work"})
//	if err != nil { ... }
//	a, err := agent.New(agent.Config{Model: m, Tools: append(ws.Tools(), run)})
package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	agent "github.com/autogpt-go/agent"
	"github.com/google/jsonschema-go/jsonschema"
)

// Defaults for the zero values of Config.
const (
	// DefaultTimeout is how long a command may run before its process group is killed: 30 s.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxOutputBytes is how many bytes of output run_command returns at most: 64 KiB.
	DefaultMaxOutputBytes = 64 << 10
	// DefaultPath is the PATH programs are looked up in and that the command receives.
	DefaultPath = "/usr/local/bin:/usr/bin:/bin"
	// DefaultLang is the LANG the command receives unless Config.Env sets another.
	DefaultLang = "C.UTF-8"
)

// drainDelay bounds how long run_command waits for the output pipe to close after the process
// group has been killed (a process that left the group may hold it open).
const drainDelay = 500 * time.Millisecond

// Errors of run_command (test with errors.Is). Each is wrapped with a message for the model.
var (
	// ErrInvalidCommand: the arguments do not name a command: empty argv or command, both argv and
	// command, an empty program name, or a NUL byte in an argument.
	ErrInvalidCommand = errors.New("invalid command")
	// ErrShellSyntax: the command string uses shell syntax that would need a shell (operators,
	// redirections, expansions, globs...), or does not parse; see SplitCommand.
	ErrShellSyntax = errors.New("shell syntax refused")
	// ErrNotAllowed: the program is not on the allowlist, or resolves to another file than the
	// allowed program of that name.
	ErrNotAllowed = errors.New("program not allowed")
	// ErrNotFound: the program has an allowed name but no such executable exists where it points.
	ErrNotFound = errors.New("program not found")
)

// Config configures run_command. Allow and Dir are required; the other zero values mean the
// documented defaults.
type Config struct {
	// Allow names the programs the model may run: bare names looked up in Path ("ls", "git") or
	// absolute paths ("/opt/tools/bin/lint"). New resolves each one, symbolic links included, and
	// fails if one cannot be found. The model must call a program by its allowed name (or a path
	// that resolves to the same file and ends in that name). Allowing a shell, an interpreter, env,
	// xargs, find, make and the like allows arbitrary code: see the package documentation.
	Allow []string
	// Dir is the workspace: the working directory of every command, its HOME, and the base of a
	// relative program path ("./build.sh"). Required; it must be an existing directory.
	Dir string
	// Timeout is how long one command may run before its whole process group is killed; 0 means
	// DefaultTimeout (30 s).
	Timeout time.Duration
	// MaxOutputBytes is the most bytes of output (standard output and standard error together)
	// returned to the model: the first and the last half are kept, with a note of the bytes left
	// out; 0 means DefaultMaxOutputBytes (64 KiB).
	MaxOutputBytes int
	// Env holds extra environment variables as "NAME=value", added to PATH, LANG and HOME. It may set
	// LANG; it may not set PATH (use Path) or HOME (always the workspace), nor a name twice.
	Env []string
	// Path is the colon-separated list of absolute directories in which bare program names are
	// looked up, also given to the command as PATH; "" means DefaultPath
	// ("/usr/local/bin:/usr/bin:/bin"). The host's own PATH is never used. The allowed programs
	// are resolved once, by New: a program the model later places earlier in Path under an allowed
	// name resolves to another file and is refused.
	Path string
}

// RunCommandArgs are run_command's arguments: exactly one of Argv and Command.
type RunCommandArgs struct {
	// Argv is the program and its arguments, passed to the program as they are.
	Argv []string `json:"argv,omitempty" jsonschema:"the program and its arguments, one array element each, passed as they are (no shell, no quoting, no expansion); e.g. [\"grep\",\"-rn\",\"TODO\",\"src\"]. Preferred over command"`
	// Command is one simple command line, split by SplitCommand.
	Command string `json:"command,omitempty" jsonschema:"alternatively, one simple command line such as: grep -rn 'TODO: fix' src. It is split into words like a shell would (quotes and backslashes removed) but never run by a shell: pipes, command lists and separators, redirections, $VARIABLES, $(...), backticks, globs and ~ are refused"`
}

// allowed is one resolved entry of Config.Allow.
type allowed struct {
	name     string // the base name the model calls it by
	resolved string // the cleaned path with every symbolic link resolved
}

// runner holds the validated configuration.
type runner struct {
	allow   []allowed
	names   []string // sorted, unique allowed names
	dir     string
	pathDir []string
	env     []string
	timeout time.Duration
	maxOut  int
}

// New validates cfg and returns the run_command tool (an *agent.FuncTool[RunCommandArgs,
// agent.ToolResult]). Errors are for the host: an empty Allow, a Dir that is not an existing
// directory, a relative Path element, a malformed Env entry or one setting PATH or HOME, an
// allowed program that cannot be found, negative limits; on a system other than Unix an error
// wrapping errors.ErrUnsupported.
//
// A call returns a ToolResult whose Content starts with a status line ("exit code 0",
// "exit code 2", "killed: timed out after 30s", "killed by signal ...") followed by the output;
// IsError is set unless the exit code is 0. Refused commands return an error wrapping
// ErrInvalidCommand, ErrShellSyntax, ErrNotAllowed or ErrNotFound; a call whose ctx ends returns an
// error wrapping ctx.Err() after the process group has been killed.
func New(cfg Config) (agent.Tool, error) {
	if !supported {
		return nil, fmt.Errorf("shell: run_command needs a Unix system (it runs commands in their own process group to kill them with their children): %w", errors.ErrUnsupported)
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("Run one program in the workspace directory and return its exit code and output "+
		"(standard output and error, at most %d bytes; longer output keeps its beginning and end). "+
		"No shell is used: give argv, or a simple command line without pipes, command separators, "+
		"redirections, variables or globs. Allowed programs: %s. Time limit: %s.",
		r.maxOut, strings.Join(r.names, ", "), r.timeout)
	t := agent.NewTool("run_command", desc, r.run)
	if s := runSchema(); s != nil {
		t = t.WithSchema(s)
	}
	if err := t.Err(); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	return t, nil
}

// runSchema is the schema inferred from RunCommandArgs with argv typed as a non-empty array
// (inference allows null for a slice), or nil if inference fails (NewTool then reports it).
func runSchema() json.RawMessage {
	s, err := jsonschema.For[RunCommandArgs](nil)
	if err != nil || s.Properties["argv"] == nil {
		return nil
	}
	argv := s.Properties["argv"]
	argv.Types, argv.Type, argv.MinItems = nil, "array", jsonschema.Ptr(1)
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	return b
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func newRunner(cfg Config) (*runner, error) {
	r := &runner{timeout: cfg.Timeout, maxOut: cfg.MaxOutputBytes}
	if cfg.Timeout < 0 || cfg.MaxOutputBytes < 0 {
		return nil, errors.New("shell: Config.Timeout and Config.MaxOutputBytes must not be negative")
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxOut == 0 {
		r.maxOut = DefaultMaxOutputBytes
	}
	if cfg.Dir == "" {
		return nil, errors.New("shell: Config.Dir (the workspace) is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("shell: Config.Dir: %w", err)
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("shell: Config.Dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("shell: Config.Dir %s is not a directory", dir)
	}
	r.dir = dir

	path := cfg.Path
	if path == "" {
		path = DefaultPath
	}
	for _, d := range filepath.SplitList(path) {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("shell: Config.Path element %q is not an absolute directory", d)
		}
		r.pathDir = append(r.pathDir, filepath.Clean(d))
	}

	r.env = []string{"PATH=" + path, "LANG=" + DefaultLang, "HOME=" + dir}
	seen := map[string]bool{}
	for _, kv := range cfg.Env {
		name, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || !envNameRE.MatchString(name):
			return nil, fmt.Errorf("shell: Config.Env entry %q is not NAME=value", kv)
		case strings.IndexByte(kv, 0) >= 0:
			return nil, fmt.Errorf("shell: Config.Env entry for %s contains a NUL byte", name)
		case name == "PATH" || name == "HOME":
			return nil, fmt.Errorf("shell: Config.Env may not set %s (use Config.Path; HOME is the workspace)", name)
		case seen[name]:
			return nil, fmt.Errorf("shell: Config.Env sets %s twice", name)
		}
		seen[name] = true
		if name == "LANG" {
			r.env[1] = kv
		} else {
			r.env = append(r.env, kv)
		}
	}

	if len(cfg.Allow) == 0 {
		return nil, errors.New("shell: Config.Allow is empty: name the programs the model may run")
	}
	for _, prog := range cfg.Allow {
		a, err := r.resolveAllowed(prog)
		if err != nil {
			return nil, err
		}
		r.allow = append(r.allow, a)
		r.names = append(r.names, a.name)
	}
	slices.Sort(r.names)
	r.names = slices.Compact(r.names)
	return r, nil
}

// resolveAllowed resolves one Config.Allow entry.
func (r *runner) resolveAllowed(prog string) (allowed, error) {
	switch {
	case prog == "" || strings.IndexByte(prog, 0) >= 0:
		return allowed{}, fmt.Errorf("shell: Config.Allow entry %q is not a program name", prog)
	case strings.ContainsRune(prog, '/') && !filepath.IsAbs(prog):
		return allowed{}, fmt.Errorf("shell: Config.Allow entry %q: give a bare name or an absolute path", prog)
	}
	name := filepath.Base(filepath.Clean(prog))
	found, err := r.lookup(prog)
	if err != nil {
		return allowed{}, fmt.Errorf("shell: Config.Allow entry %q: %w", prog, err)
	}
	return allowed{name: name, resolved: found}, nil
}

// lookup finds prog as exec.LookPath would with PATH set to Config.Path, a relative path being
// taken from the workspace, and returns the executable's path cleaned and with every symbolic link
// resolved.
func (r *runner) lookup(prog string) (string, error) {
	var found string
	switch {
	case !strings.ContainsRune(prog, '/'):
		for _, d := range r.pathDir {
			if p, err := exec.LookPath(filepath.Join(d, prog)); err == nil {
				found = p
				break
			}
		}
		if found == "" {
			return "", fmt.Errorf("%w: no executable %q in PATH", ErrNotFound, prog)
		}
	default:
		p := filepath.Clean(prog)
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.dir, p)
		}
		var err error
		if found, err = exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%w: %q is not an executable file", ErrNotFound, prog)
		}
	}
	resolved, err := filepath.EvalSymlinks(found)
	if err != nil {
		return "", fmt.Errorf("%w: %q cannot be resolved", ErrNotFound, prog)
	}
	return filepath.Clean(resolved), nil
}

// resolve checks the program the model asked for against the allowlist and returns the file to
// execute and the name to give it as argv[0]. Its errors never name a resolved host path.
func (r *runner) resolve(prog string) (path, name string, err error) {
	name = filepath.Base(filepath.Clean(prog))
	if !slices.Contains(r.names, name) {
		return "", "", fmt.Errorf("%w: %q; allowed programs: %s", ErrNotAllowed, prog, strings.Join(r.names, ", "))
	}
	resolved, err := r.lookup(prog)
	if err != nil {
		return "", "", err
	}
	for _, a := range r.allow {
		if a.name == name && a.resolved == resolved {
			return resolved, name, nil
		}
	}
	return "", "", fmt.Errorf("%w: %q resolves to a different file than the allowed program %q; call it by its name", ErrNotAllowed, prog, name)
}

// run implements run_command.
func (r *runner) run(ctx context.Context, args RunCommandArgs) (agent.ToolResult, error) {
	if err := ctx.Err(); err != nil {
		return agent.ToolResult{}, err
	}
	argv, err := r.argv(args)
	if err != nil {
		return agent.ToolResult{}, err
	}
	path, name, err := r.resolve(argv[0])
	if err != nil {
		return agent.ToolResult{}, err
	}
	argv[0] = name

	runCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path)
	cmd.Path, cmd.Args, cmd.Dir, cmd.Env = path, argv, r.dir, slices.Clone(r.env)
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = drainDelay

	// The output goes to one pipe we own (an *os.File, so exec adds no copying goroutine of its
	// own): Wait then returns as soon as the program exits, and the group is killed before the
	// pipe is drained.
	pr, pw, err := os.Pipe()
	if err != nil {
		return agent.ToolResult{}, fmt.Errorf("run_command: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	out := newCapture(r.maxOut)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(out, pr)
	}()
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		<-drained
		return agent.ToolResult{}, fmt.Errorf("run_command: %q could not start: %w", name, cleanStartError(err))
	}
	waitErr := cmd.Wait()
	_ = killGroup(cmd.Process.Pid) // anything the program left behind in its group
	_ = pr.SetReadDeadline(time.Now().Add(drainDelay))
	<-drained
	pr.Close()

	if err := ctx.Err(); err != nil {
		return agent.ToolResult{}, fmt.Errorf("run_command: %q was stopped and its process group killed: %w", name, err)
	}
	var status string
	switch {
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		status = fmt.Sprintf("killed: timed out after %s (the program and its child processes were killed)", r.timeout)
	case cmd.ProcessState == nil:
		return agent.ToolResult{}, fmt.Errorf("run_command: %q: %w", name, waitErr)
	case cmd.ProcessState.ExitCode() >= 0:
		status = fmt.Sprintf("exit code %d", cmd.ProcessState.ExitCode())
	default:
		status = "killed by signal: " + signalText(cmd.ProcessState)
	}
	text := out.String()
	if text == "" {
		text = status + " (no output)"
	} else {
		text = status + "\n" + text
	}
	return agent.ToolResult{Content: text, IsError: !cmd.ProcessState.Success()}, nil
}

// argv validates the arguments and returns the command's argv.
func (r *runner) argv(args RunCommandArgs) ([]string, error) {
	var argv []string
	switch {
	case len(args.Argv) > 0 && args.Command != "":
		return nil, fmt.Errorf("%w: give either argv or command, not both", ErrInvalidCommand)
	case len(args.Argv) > 0:
		argv = slices.Clone(args.Argv)
	case args.Command != "":
		var err error
		if argv, err = SplitCommand(args.Command); err != nil {
			return nil, fmt.Errorf("command %q: %w", shorten(args.Command), err)
		}
	default:
		return nil, fmt.Errorf("%w: give argv (the program and its arguments) or command", ErrInvalidCommand)
	}
	if argv[0] == "" {
		return nil, fmt.Errorf("%w: the program name (argv[0]) is empty", ErrInvalidCommand)
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fmt.Errorf("%w: argv[%d] contains a NUL byte", ErrInvalidCommand, i)
		}
	}
	return argv, nil
}

// shorten cuts s to 200 bytes for an error message.
func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// cleanStartError strips the path from a start error (exec reports the resolved path).
func cleanStartError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
