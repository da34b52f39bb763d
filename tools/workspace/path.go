package workspace

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxPathBytes is the longest path argument CleanPath accepts, in bytes (Linux's PATH_MAX).
const MaxPathBytes = 4096

// Errors the tools return, wrapped in a *PathError (test with errors.Is).
var (
	// ErrInvalidPath: the path breaks the path policy (see CleanPath): empty, too long, absolute,
	// with a drive letter, a backslash or a control character.
	ErrInvalidPath = errors.New("invalid path")
	// ErrOutside: the path leads outside the workspace, through ".." or through a symbolic link.
	ErrOutside = errors.New("path leads outside the workspace")
	// ErrTooLarge: the content to write, or the file it would make, exceeds Config.MaxFileBytes;
	// for replace_in_file, the file to edit or the edited result does.
	ErrTooLarge = errors.New("too large")
	// ErrNotText: read_file or replace_in_file met a file that looks binary (it contains a NUL
	// byte).
	ErrNotText = errors.New("not a text file")
	// ErrNotRegular: the path names something other than a regular file (a directory for read_file,
	// write_file and replace_in_file, or for delete_file without recursive; a device, socket or
	// named pipe for any file tool) or, for list_dir and search_files, other than a directory.
	ErrNotRegular = errors.New("wrong kind of file")
	// ErrClosed: the Workspace was closed.
	ErrClosed = errors.New("workspace is closed")
	// ErrInvalidArgument: an argument other than a path is invalid: an empty old text, a negative
	// count or max_results, a search with neither pattern nor query, a malformed glob or regular
	// expression.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNoMatch: replace_in_file did not find the old text in the file.
	ErrNoMatch = errors.New("old text not found")
	// ErrAmbiguous: replace_in_file found the old text another number of times than expected (more
	// than once, or not count times).
	ErrAmbiguous = errors.New("old text is ambiguous")
	// ErrDisabled: delete_file was called on a Workspace whose Config.AllowDelete is false.
	ErrDisabled = errors.New("disabled")
)

// PathError is the error every tool of a Workspace returns. Its text is written for the model and
// names only the path as the model gave it, never the workspace's location on the host:
//
//	read_file "../secret.txt": path leads outside the workspace: ".." climbs above the workspace root; paths are relative to the workspace root
type PathError struct {
	// Op is the tool name ("read_file", "write_file", "append_file", "list_dir",
	// "replace_in_file", "search_files", "delete_file") or "path" for CleanPath.
	Op string
	// Path is the path argument as the model gave it.
	Path string
	// Err is the cause; it wraps one of the Err... values of this package or an io/fs error such
	// as fs.ErrNotExist.
	Err error
}

// Error formats the error as `op "path": cause`; a path longer than 200 bytes is shortened.
func (e *PathError) Error() string {
	p := e.Path
	if len(p) > 200 {
		p = p[:200] + "..."
	}
	return fmt.Sprintf("%s %q: %v", e.Op, p, e.Err)
}

// Unwrap returns Err.
func (e *PathError) Unwrap() error { return e.Err }

// CleanPath applies the workspace path policy to p, a path argument given by the model, and returns
// the cleaned slash-separated path to hand to os.Root ("." for the workspace root itself). Every
// tool of this package runs every path argument through it; other tools that take workspace paths
// should too.
//
// The policy: p is relative to the workspace root and uses "/" as separator. CleanPath refuses,
// with an error wrapping ErrInvalidPath: an empty path; a path longer than MaxPathBytes; a path
// containing a NUL byte or another ASCII control character (0x00-0x1F, 0x7F); an absolute path
// ("/etc/passwd"); any backslash ("..\x", "a\b": os.Root on Linux would take "..\x" for a file
// name, and a model writing backslashes means a Windows path); a drive letter ("C:\x", "C:x").
// It refuses, with an error wrapping ErrOutside, a path that climbs above the root by its ".."
// elements ("../x", "a/../../x"). It resolves "." and ".." lexically, so "a/../b" is "b" even if
// "a" does not exist.
//
// CleanPath does not look at the file system: escapes through symbolic links are caught by os.Root
// when the file is opened, and reported by the tools as ErrOutside too.
func CleanPath(p string) (string, error) {
	if err := checkPath(p); err != nil {
		return "", &PathError{Op: "path", Path: p, Err: err}
	}
	return path.Clean(p), nil
}

// checkPath is CleanPath's policy without the PathError wrapping.
func checkPath(p string) error {
	const hint = "; paths are relative to the workspace root and use / between directories, for example \"notes/todo.txt\""
	switch {
	case p == "":
		return fmt.Errorf("%w: the path is empty%s", ErrInvalidPath, hint)
	case len(p) > MaxPathBytes:
		return fmt.Errorf("%w: the path is longer than %d bytes", ErrInvalidPath, MaxPathBytes)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("%w: the path contains a NUL byte", ErrInvalidPath)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: the path contains a control character", ErrInvalidPath)
	case !utf8.ValidString(p):
		return fmt.Errorf("%w: the path is not valid UTF-8", ErrInvalidPath)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("%w: absolute paths are not allowed%s", ErrInvalidPath, hint)
	case strings.IndexByte(p, '\\') >= 0:
		return fmt.Errorf("%w: backslashes are not allowed (Windows-style paths are refused)%s", ErrInvalidPath, hint)
	case len(p) >= 2 && p[1] == ':' && isASCIILetter(p[0]):
		return fmt.Errorf("%w: drive letters are not allowed%s", ErrInvalidPath, hint)
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return fmt.Errorf("%w: \"..\" climbs above the workspace root%s", ErrOutside, hint)
	}
	return nil
}

func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
