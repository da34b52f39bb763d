// Package workspace gives an agent file tools confined to one directory, the workspace.
//
// Every file operation goes through an os.Root opened on the workspace directory, so no path the
// model gives can reach a file outside it: not through "..", not through an absolute path, not
// through a symbolic link (os.Root refuses links that lead out, and absolute links). Before os.Root
// sees a path, CleanPath applies one policy to every path argument of every tool: relative, "/"
// separators, no backslash, drive letter, NUL or control character. Errors go back to the model and
// name only the path as the model gave it, never the workspace's location on the host.
//
// The tools (see Workspace.Tools):
//
//   - read_file {path, offset?, limit?}: text of a file, at most Config.MaxReadBytes per call, with
//     a note telling the offset to continue from when the file is longer.
//   - write_file {path, content}: creates or replaces a file (mode 0o644), creating its parent
//     directories (mode 0o755).
//   - append_file {path, content}: appends to a file, creating it and its parents if needed.
//   - list_dir {path?}: the names in a directory, sorted, directories with a trailing "/".
//   - replace_in_file {path, old, new, count?, all?}: replaces exact text in a file; refused when
//     old is missing, or occurs another number of times than expected (once, count, or all).
//   - search_files {pattern?, query?, regexp?, ignore_case?, path?, max_results?}: finds files by a
//     glob over their paths ("**/*.go") and/or lines by a literal or RE2 search of their contents,
//     within bounds on results, bytes read and depth; it follows no symbolic link and skips binary
//     files.
//   - delete_file {path, recursive?}: only when Config.AllowDelete is set; a directory only with
//     recursive.
//
// What os.Root does not protect against (see its documentation): hard links and bind mounts placed
// in the workspace by someone else, and /proc-style special files reached that way. The tools refuse
// to read or write anything but regular files, so devices and named pipes are refused. The size caps
// are per call and per file; they are not a disk quota for the whole workspace.
//
// A minimal use:
//
//	ws, err := workspace.New("/srv/agent/work", workspace.Config{})
//	if err != nil { ... }
//	defer ws.Close()
//	a, err := agent.New(agent.Config{Model: m, Tools: ws.Tools()})
package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	agent "github.com/autogpt-go/agent"
	"github.com/google/jsonschema-go/jsonschema"
)

// Defaults for the zero values of Config.
const (
	// DefaultMaxReadBytes is how many bytes read_file returns at most per call: 64 KiB.
	DefaultMaxReadBytes = 64 << 10
	// DefaultMaxFileBytes is the largest file write_file and append_file make: 10 MiB.
	DefaultMaxFileBytes = 10 << 20
	// DefaultMaxListEntries is how many names list_dir returns at most.
	DefaultMaxListEntries = 1000
	// DefaultMaxSearchResults is how many paths or matching lines search_files returns at most.
	DefaultMaxSearchResults = 200
	// DefaultMaxSearchBytes is how many bytes of file contents search_files reads at most per
	// call: 16 MiB.
	DefaultMaxSearchBytes = 16 << 20
	// DefaultMaxSearchDepth is how many directory levels below its starting directory search_files
	// descends at most.
	DefaultMaxSearchDepth = 16
)

// Modes of what the tools create, before the process umask applies.
const (
	// FileMode is the mode of a file created by write_file or append_file.
	FileMode fs.FileMode = 0o644
	// DirMode is the mode of a parent directory created by write_file or append_file.
	DirMode fs.FileMode = 0o755
)

// maxDirScan bounds how many entries list_dir reads from one directory before it stops counting.
const maxDirScan = 100_000

// Config configures a Workspace. The zero value is ready to use: every zero field has the documented
// default.
type Config struct {
	// MaxReadBytes is the most bytes read_file returns in one call, and the default and largest value
	// of its limit argument; 0 means DefaultMaxReadBytes (64 KiB).
	MaxReadBytes int64
	// MaxFileBytes is the largest file, in bytes, that write_file writes or append_file makes (the
	// current size plus the appended content); 0 means DefaultMaxFileBytes (10 MiB).
	MaxFileBytes int64
	// MaxListEntries is the most names list_dir returns; the rest are counted in a note; 0 means
	// DefaultMaxListEntries (1000).
	MaxListEntries int
	// MaxSearchResults is the most paths or matching lines search_files returns in one call, and
	// the largest value of its max_results argument; 0 means DefaultMaxSearchResults (200).
	MaxSearchResults int
	// MaxSearchBytes is the most bytes of file contents search_files reads in one call; 0 means
	// DefaultMaxSearchBytes (16 MiB).
	MaxSearchBytes int64
	// MaxSearchDepth is how many directory levels below its starting directory search_files
	// descends; 0 means DefaultMaxSearchDepth (16).
	MaxSearchDepth int
	// AllowDelete enables delete_file: Tools includes it and DeleteFile works. Off by default:
	// deletions cannot be undone.
	AllowDelete bool
}

// Workspace is a directory opened as an os.Root, with file tools confined to it. It is safe for
// concurrent use, as are its tools.
type Workspace struct {
	root *os.Root
	cfg  Config
}

// New opens dir, which must be an existing directory, as the workspace. The returned error names dir
// (it is for the host, not the model). Close the Workspace when done.
func New(dir string, cfg Config) (*Workspace, error) {
	if cfg.MaxReadBytes < 0 || cfg.MaxFileBytes < 0 || cfg.MaxListEntries < 0 ||
		cfg.MaxSearchResults < 0 || cfg.MaxSearchBytes < 0 || cfg.MaxSearchDepth < 0 {
		return nil, errors.New("workspace: Config limits must not be negative")
	}
	if cfg.MaxReadBytes == 0 {
		cfg.MaxReadBytes = DefaultMaxReadBytes
	}
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.MaxListEntries == 0 {
		cfg.MaxListEntries = DefaultMaxListEntries
	}
	if cfg.MaxSearchResults == 0 {
		cfg.MaxSearchResults = DefaultMaxSearchResults
	}
	if cfg.MaxSearchBytes == 0 {
		cfg.MaxSearchBytes = DefaultMaxSearchBytes
	}
	if cfg.MaxSearchDepth == 0 {
		cfg.MaxSearchDepth = DefaultMaxSearchDepth
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	return &Workspace{root: root, cfg: cfg}, nil
}

// Close closes the workspace's os.Root. Tool calls after Close fail with ErrClosed.
func (w *Workspace) Close() error { return w.root.Close() }

// Root returns the os.Root the tools use, for a host that wants to inspect or seed the workspace.
func (w *Workspace) Root() *os.Root { return w.root }

// ReadFileArgs are read_file's arguments.
type ReadFileArgs struct {
	Path   string `json:"path" jsonschema:"file path relative to the workspace root, with / between directories, e.g. notes/todo.txt"`
	Offset int64  `json:"offset,omitempty" jsonschema:"byte offset to start reading at; default 0. Use the offset given in a truncation note to continue"`
	Limit  int64  `json:"limit,omitempty" jsonschema:"maximum number of bytes to return; default and maximum 65536 (64 KiB)"`
}

// WriteFileArgs are write_file's arguments.
type WriteFileArgs struct {
	Path    string `json:"path" jsonschema:"file path relative to the workspace root, with / between directories, e.g. notes/todo.txt; missing parent directories are created"`
	Content string `json:"content" jsonschema:"the complete new text of the file"`
}

// AppendFileArgs are append_file's arguments.
type AppendFileArgs struct {
	Path    string `json:"path" jsonschema:"file path relative to the workspace root, with / between directories, e.g. notes/log.txt; the file and missing parent directories are created"`
	Content string `json:"content" jsonschema:"the text to add at the end of the file"`
}

// ListDirArgs are list_dir's arguments.
type ListDirArgs struct {
	Path string `json:"path,omitempty" jsonschema:"directory path relative to the workspace root; default \".\" (the workspace root itself)"`
}

// Tools returns the workspace's tools, in this order: read_file, write_file, append_file, list_dir,
// replace_in_file, search_files, and delete_file when Config.AllowDelete is set. Each is built with
// agent.NewTool, so its arguments are validated against the schema inferred from its ...Args type
// before it runs (a violation is an *agent.ArgumentError). The tools' own errors are *PathError
// values, except ctx's error when ctx has ended before a call starts. A host that wants a read-only
// workspace keeps only read_file, list_dir and search_files.
func (w *Workspace) Tools() []agent.Tool {
	readDesc := fmt.Sprintf("Read a text file of the workspace. Returns at most %d bytes per call; "+
		"a longer file ends with a note giving the offset to continue from.", w.cfg.MaxReadBytes)
	read := agent.NewTool("read_file", readDesc, w.ReadFile)
	if w.cfg.MaxReadBytes != DefaultMaxReadBytes {
		read = read.WithSchema(readSchema(w.cfg.MaxReadBytes))
	}
	tools := []agent.Tool{
		read,
		agent.NewTool("write_file", fmt.Sprintf("Create or overwrite a text file of the workspace with the "+
			"given content (at most %d bytes); parent directories are created.", w.cfg.MaxFileBytes), w.WriteFile),
		agent.NewTool("append_file", fmt.Sprintf("Append text to a file of the workspace, creating it (and its "+
			"parent directories) if needed; the file may grow to at most %d bytes.", w.cfg.MaxFileBytes), w.AppendFile),
		agent.NewTool("list_dir", fmt.Sprintf("List a directory of the workspace: one name per line, sorted, "+
			"directories with a trailing /; at most %d names.", w.cfg.MaxListEntries), w.ListDir),
		agent.NewTool("replace_in_file", "Replace exact text in a text file of the workspace: old must occur "+
			"exactly once (include surrounding lines to make it unique), or exactly count times, or set all "+
			"to replace every occurrence. Prefer this to rewriting a whole file.", w.ReplaceInFile),
		agent.NewTool("search_files", fmt.Sprintf("Search the workspace: find files whose path matches a glob "+
			"pattern (** spans directories: **/*.go), and/or lines of text files containing query (literal, or "+
			"a regular expression with regexp=true). Returns at most %d paths or matching lines as "+
			"path:line: text. Symbolic links are not followed; binary files are skipped.", w.cfg.MaxSearchResults), w.SearchFiles),
	}
	if w.cfg.AllowDelete {
		tools = append(tools, agent.NewTool("delete_file", "Delete a file or symbolic link of the workspace; "+
			"a directory only with recursive=true, which deletes everything in it. Cannot be undone.", w.DeleteFile))
	}
	return tools
}

// readSchema is read_file's inferred schema with the limit description naming a non-default cap.
func readSchema(max int64) json.RawMessage {
	s, err := jsonschema.For[ReadFileArgs](nil)
	if err != nil {
		return nil // NewTool has failed the same way and reports it
	}
	if lim := s.Properties["limit"]; lim != nil {
		lim.Description = fmt.Sprintf("maximum number of bytes to return; default and maximum %d", max)
	}
	b, _ := json.Marshal(s)
	return b
}

// ReadFile implements read_file: it returns up to args.Limit bytes (default and cap
// Config.MaxReadBytes) of the regular file at args.Path, starting at byte args.Offset. When bytes
// remain after the returned part, the text ends with a line
// "[read_file: showed bytes A-B of N; call read_file with offset=B to continue]" (B exclusive). A
// cut never splits a UTF-8 sequence: the part ends before an incomplete one. An empty file gives
// "[read_file: the file is empty]", an offset at the end of the file a similar note. It refuses, with
// ErrNotText, a part containing a NUL byte, and with ErrNotRegular anything but a regular file.
func (w *Workspace) ReadFile(ctx context.Context, args ReadFileArgs) (string, error) {
	const op = "read_file"
	p, err := w.prepare(ctx, op, args.Path)
	if err != nil {
		return "", err
	}
	if args.Offset < 0 {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: offset %d is negative", ErrInvalidPath, args.Offset))
	}
	if args.Limit < 0 {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: limit %d is negative", ErrInvalidPath, args.Limit))
	}
	limit := args.Limit
	if limit == 0 || limit > w.cfg.MaxReadBytes {
		limit = w.cfg.MaxReadBytes
	}
	f, size, err := w.openRegular(p, os.O_RDONLY, 0)
	if err != nil {
		return "", w.fail(op, args.Path, err)
	}
	defer f.Close()
	switch {
	case args.Offset > size:
		return "", w.fail(op, args.Path, fmt.Errorf("offset %d is past the end of the file (%d bytes)", args.Offset, size))
	case size == 0:
		return "[read_file: the file is empty]", nil
	case args.Offset == size:
		return fmt.Sprintf("[read_file: offset %d is the end of the file (%d bytes)]", size, size), nil
	}
	n := min(limit, size-args.Offset)
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, args.Offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", w.fail(op, args.Path, err)
	}
	buf = buf[:m]
	if slices.Contains(buf, 0) {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: the file contains NUL bytes and looks binary; read_file returns text only", ErrNotText))
	}
	end := args.Offset + int64(len(buf))
	if end < size {
		buf = buf[:completeUTF8(buf)]
		end = args.Offset + int64(len(buf))
		return fmt.Sprintf("%s\n[read_file: showed bytes %d-%d of %d; call read_file with offset=%d to continue]",
			buf, args.Offset, end, size, end), nil
	}
	return string(buf), nil
}

// completeUTF8 returns the length of b without a trailing incomplete UTF-8 sequence.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// WriteFile implements write_file: it creates or truncates the regular file at args.Path (mode
// FileMode for a new file) and writes args.Content, after creating missing parent directories (mode
// DirMode). Content longer than Config.MaxFileBytes is refused with ErrTooLarge before anything is
// touched. It returns "wrote N bytes to PATH" with the cleaned path.
func (w *Workspace) WriteFile(ctx context.Context, args WriteFileArgs) (string, error) {
	const op = "write_file"
	p, f, _, err := w.openForWrite(ctx, op, args.Path, args.Content, os.O_TRUNC)
	if err != nil {
		return "", err
	}
	_, err = io.WriteString(f, args.Content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", w.fail(op, args.Path, err)
	}
	return fmt.Sprintf("wrote %d bytes to %s", len(args.Content), p), nil
}

// openForWrite checks path and the content's size, creates missing parent directories and opens
// the regular file for writing with mode (os.O_TRUNC or os.O_APPEND); it returns the cleaned path,
// the file, its size before writing, and errors already wrapped for op.
func (w *Workspace) openForWrite(ctx context.Context, op, path, content string, mode int) (string, *os.File, int64, error) {
	p, err := w.prepare(ctx, op, path)
	if err != nil {
		return "", nil, 0, err
	}
	if int64(len(content)) > w.cfg.MaxFileBytes {
		return "", nil, 0, w.fail(op, path, fmt.Errorf("%w: content is %d bytes; the limit is %d bytes", ErrTooLarge, len(content), w.cfg.MaxFileBytes))
	}
	if err := w.mkdirParents(p); err != nil {
		return "", nil, 0, w.fail(op, path, err)
	}
	f, size, err := w.openRegular(p, os.O_WRONLY|os.O_CREATE|mode, FileMode)
	if err != nil {
		return "", nil, 0, w.fail(op, path, err)
	}
	return p, f, size, nil
}

// AppendFile implements append_file: it appends args.Content to the regular file at args.Path,
// creating it (mode FileMode) and its parent directories (mode DirMode) if needed. If the file would
// grow past Config.MaxFileBytes nothing is written and the error wraps ErrTooLarge. It returns
// "appended N bytes to PATH (now M bytes)".
func (w *Workspace) AppendFile(ctx context.Context, args AppendFileArgs) (string, error) {
	const op = "append_file"
	p, f, size, err := w.openForWrite(ctx, op, args.Path, args.Content, os.O_APPEND)
	if err != nil {
		return "", err
	}
	if total := size + int64(len(args.Content)); total > w.cfg.MaxFileBytes {
		f.Close()
		return "", w.fail(op, args.Path, fmt.Errorf("%w: the file is %d bytes and would grow to %d; the limit is %d bytes",
			ErrTooLarge, size, total, w.cfg.MaxFileBytes))
	}
	_, err = io.WriteString(f, args.Content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", w.fail(op, args.Path, err)
	}
	return fmt.Sprintf("appended %d bytes to %s (now %d bytes)", len(args.Content), p, size+int64(len(args.Content))), nil
}

// ListDir implements list_dir: the names in the directory at args.Path ("" means the workspace
// root), one per line, sorted bytewise, a directory (or a symbolic link to one inside the
// workspace) with a trailing "/". At most Config.MaxListEntries names are returned; a last line
// "[list_dir: showed N of M entries]" counts the rest. An empty directory gives "(empty directory)".
func (w *Workspace) ListDir(ctx context.Context, args ListDirArgs) (string, error) {
	const op = "list_dir"
	arg := args.Path
	if arg == "" {
		arg = "."
	}
	p, err := w.prepare(ctx, op, arg)
	if err != nil {
		return "", err
	}
	d, err := w.root.Open(p)
	if err != nil {
		return "", w.fail(op, arg, err)
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return "", w.fail(op, arg, err)
	}
	if !st.IsDir() {
		return "", w.fail(op, arg, fmt.Errorf("%w: not a directory", ErrNotRegular))
	}
	var ents []fs.DirEntry
	more := false
	for len(ents) < maxDirScan {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		batch, err := d.ReadDir(1024)
		ents = append(ents, batch...)
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return "", w.fail(op, arg, err)
		}
	}
	if len(ents) >= maxDirScan {
		more = true
	}
	if len(ents) == 0 {
		return "(empty directory)", nil
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	shown := ents[:min(len(ents), w.cfg.MaxListEntries)]
	var b strings.Builder
	for _, e := range shown {
		b.WriteString(e.Name())
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && w.isDirInside(path.Join(p, e.Name()))) {
			b.WriteByte('/')
		}
		b.WriteByte('\n')
	}
	if len(shown) < len(ents) || more {
		total := fmt.Sprint(len(ents))
		if more {
			total = "at least " + total
		}
		fmt.Fprintf(&b, "[list_dir: showed %d of %s entries]\n", len(shown), total)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// isDirInside reports whether p (a symbolic link) resolves to a directory inside the workspace.
func (w *Workspace) isDirInside(p string) bool {
	st, err := w.root.Stat(p)
	return err == nil && st.IsDir()
}

// prepare checks ctx and applies the path policy.
func (w *Workspace) prepare(ctx context.Context, op, arg string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkPath(arg); err != nil {
		return "", &PathError{Op: op, Path: arg, Err: err}
	}
	return path.Clean(arg), nil
}

// mkdirParents creates the parent directories of p inside the root.
func (w *Workspace) mkdirParents(p string) error {
	dir := path.Dir(p)
	if dir == "." {
		return nil
	}
	err := w.root.MkdirAll(dir, DirMode)
	if errors.Is(err, fs.ErrExist) {
		// mkdirat met a file where a directory should be.
		return fmt.Errorf("%w: a parent of this path is a file, not a directory", ErrNotRegular)
	}
	return err
}

// openRegular opens p in the root with flag and perm, refusing anything but a regular file, and
// returns the file and its size in bytes. A name that exists is checked before it is opened, so a
// named pipe is refused without blocking in open(2); the opened file is checked again.
func (w *Workspace) openRegular(p string, flag int, perm fs.FileMode) (*os.File, int64, error) {
	if p == "." {
		return nil, 0, fmt.Errorf("%w: the workspace root is a directory, not a file", ErrNotRegular)
	}
	st, err := w.root.Stat(p)
	switch {
	case err == nil:
		if !st.Mode().IsRegular() {
			return nil, 0, notRegular(st.Mode())
		}
	case errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0:
		// created below
	default:
		return nil, 0, err
	}
	f, err := w.root.OpenFile(p, flag, perm)
	if err != nil {
		return nil, 0, err
	}
	st, err = f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = notRegular(st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func notRegular(m fs.FileMode) error {
	if m.IsDir() {
		return fmt.Errorf("%w: it is a directory (use list_dir)", ErrNotRegular)
	}
	return fmt.Errorf("%w: it is not a regular file (%s)", ErrNotRegular, m.Type())
}

// fail turns err into the *PathError the model sees. Errors from os.Root carry only the relative
// name they were given, but fail keeps only their cause anyway, so the text can never name the
// workspace's host path.
func (w *Workspace) fail(op, arg string, err error) error {
	err = cause(err)
	switch {
	case isEscape(err):
		err = fmt.Errorf("%w: a symbolic link (or \"..\" through one) leads out of the workspace", ErrOutside)
	case errors.Is(err, os.ErrClosed):
		err = ErrClosed
	case errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("%w: no such file or directory (use list_dir to see what exists)", fs.ErrNotExist)
	case errors.Is(err, syscall.ENOTDIR):
		err = fmt.Errorf("%w: a parent of this path is a file, not a directory", ErrNotRegular)
	case errors.Is(err, syscall.EISDIR):
		err = fmt.Errorf("%w: it is a directory", ErrNotRegular)
	case errors.Is(err, fs.ErrPermission):
		err = fmt.Errorf("%w: permission denied", fs.ErrPermission)
	}
	return &PathError{Op: op, Path: arg, Err: err}
}

// cause strips the *fs.PathError and *os.LinkError layers (os.Root nests them) off err, leaving
// the bare cause without any path.
func cause(err error) error {
	for {
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		default:
			return err
		}
	}
}

// isEscape reports whether err is os.Root's refusal of a path that leads out of the root. The
// standard library does not export that error (os.errPathEscapes, "path escapes from parent"), so it
// is recognised by its text; TestSymlinkEscape guards the assumption.
func isEscape(err error) bool {
	return err != nil && err.Error() == "path escapes from parent"
}
