package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ReplaceInFileArgs are replace_in_file's arguments.
type ReplaceInFileArgs struct {
	// Path is the file to edit.
	Path string `json:"path" jsonschema:"file path relative to the workspace root, with / between directories, e.g. src/main.go"`
	// Old is the exact text to replace.
	Old string `json:"old" jsonschema:"the exact text to replace (not a pattern; whitespace and line breaks count). Include enough surrounding text that it occurs exactly once, unless count or all is set"`
	// New is the replacement text.
	New string `json:"new" jsonschema:"the replacement text; empty to delete old"`
	// Count is the number of occurrences of Old expected; 0 means 1 (or any number with All).
	Count int `json:"count,omitempty" jsonschema:"how many times you expect old to occur; the call fails unless it occurs exactly that many times, and then replaces them all. Default 1"`
	// All replaces every occurrence, however many.
	All bool `json:"all,omitempty" jsonschema:"replace every occurrence of old, however many (at least one)"`
}

// DeleteFileArgs are delete_file's arguments.
type DeleteFileArgs struct {
	// Path is the file, symbolic link or directory to delete.
	Path string `json:"path" jsonschema:"path of the file, symbolic link or directory to delete, relative to the workspace root"`
	// Recursive must be set to delete a directory, with everything in it.
	Recursive bool `json:"recursive,omitempty" jsonschema:"required to delete a directory: deletes it with everything in it"`
}

// ReplaceInFile implements replace_in_file: it replaces args.Old by args.New in the regular text
// file at args.Path and returns "replaced N occurrence(s) in PATH (now M bytes)".
//
// How many occurrences must exist: exactly one by default; exactly args.Count when it is set; at
// least one, all replaced, when args.All is set (with args.Count too, exactly that many). Otherwise
// nothing is written and the error wraps ErrNoMatch (none found) or ErrAmbiguous (another number
// found; the message gives the number and the lines of the first occurrences). An empty Old or a
// negative Count wraps ErrInvalidArgument. A file larger than Config.MaxFileBytes, or a result that
// would be, wraps ErrTooLarge; a file containing a NUL byte wraps ErrNotText. The file is read and
// rewritten through one open descriptor, so it keeps its mode and identity (a symbolic link inside
// the workspace is edited through, not replaced).
func (w *Workspace) ReplaceInFile(ctx context.Context, args ReplaceInFileArgs) (string, error) {
	const op = "replace_in_file"
	p, err := w.prepare(ctx, op, args.Path)
	if err != nil {
		return "", err
	}
	switch {
	case args.Old == "":
		return "", w.fail(op, args.Path, fmt.Errorf("%w: old is empty; give the exact text to replace", ErrInvalidArgument))
	case args.Count < 0:
		return "", w.fail(op, args.Path, fmt.Errorf("%w: count %d is negative", ErrInvalidArgument, args.Count))
	case int64(len(args.Old)) > w.cfg.MaxFileBytes || int64(len(args.New)) > w.cfg.MaxFileBytes:
		return "", w.fail(op, args.Path, fmt.Errorf("%w: old or new is longer than the file size limit of %d bytes", ErrTooLarge, w.cfg.MaxFileBytes))
	}
	f, _, err := w.openRegular(p, os.O_RDWR, 0)
	if err != nil {
		return "", w.fail(op, args.Path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, w.cfg.MaxFileBytes+1))
	if err != nil {
		return "", w.fail(op, args.Path, err)
	}
	if int64(len(data)) > w.cfg.MaxFileBytes {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: the file is larger than the limit of %d bytes", ErrTooLarge, w.cfg.MaxFileBytes))
	}
	if slices.Contains(data, 0) {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: the file contains NUL bytes and looks binary; replace_in_file edits text only", ErrNotText))
	}
	content := string(data)
	n := strings.Count(content, args.Old)
	want := args.Count
	if want == 0 && !args.All {
		want = 1
	}
	switch {
	case n == 0:
		return "", w.fail(op, args.Path, fmt.Errorf("%w: old does not occur in the file; read the file and copy the text exactly, whitespace included", ErrNoMatch))
	case want != 0 && n != want:
		return "", w.fail(op, args.Path, fmt.Errorf("%w: old occurs %d times (%s), expected %d; include more surrounding text to pick one, or set count=%d or all=true to replace them all",
			ErrAmbiguous, n, occurrenceLines(content, args.Old, 5), want, n))
	}
	size := int64(len(content)) + int64(n)*(int64(len(args.New))-int64(len(args.Old)))
	if size > w.cfg.MaxFileBytes {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: the file would grow to %d bytes; the limit is %d bytes", ErrTooLarge, size, w.cfg.MaxFileBytes))
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	out := strings.ReplaceAll(content, args.Old, args.New)
	if _, err := f.WriteAt([]byte(out), 0); err != nil {
		return "", w.fail(op, args.Path, err)
	}
	if err := f.Truncate(int64(len(out))); err != nil {
		return "", w.fail(op, args.Path, err)
	}
	if err := f.Close(); err != nil {
		return "", w.fail(op, args.Path, err)
	}
	noun := "occurrences"
	if n == 1 {
		noun = "occurrence"
	}
	return fmt.Sprintf("replaced %d %s in %s (now %d bytes)", n, noun, p, len(out)), nil
}

// occurrenceLines lists the line numbers of the first max occurrences of old in s, as
// "lines 3, 7, 9 and more".
func occurrenceLines(s, old string, max int) string {
	var lines []string
	line, pos := 1, 0
	for len(lines) < max {
		i := strings.Index(s[pos:], old)
		if i < 0 {
			break
		}
		line += strings.Count(s[pos:pos+i], "\n")
		lines = append(lines, fmt.Sprint(line))
		line += strings.Count(old, "\n")
		pos += i + len(old)
	}
	text := "line"
	if len(lines) > 1 {
		text = "lines"
	}
	text += " " + strings.Join(lines, ", ")
	if strings.Contains(s[pos:], old) {
		text += " and more"
	}
	return text
}

// DeleteFile implements delete_file: it deletes the file, symbolic link or (with args.Recursive)
// directory at args.Path and says what it deleted. A symbolic link is deleted itself, never its
// target; a link that leads out of the workspace is refused like any path leading out. Without
// Config.AllowDelete it deletes nothing and the error wraps ErrDisabled; a directory without
// args.Recursive wraps ErrNotRegular; the workspace root itself ("", ".", "a/..") wraps
// ErrInvalidPath. A recursive delete removes the tree through os.Root, which follows no symbolic
// link inside it.
func (w *Workspace) DeleteFile(ctx context.Context, args DeleteFileArgs) (string, error) {
	const op = "delete_file"
	if !w.cfg.AllowDelete {
		return "", &PathError{Op: op, Path: args.Path, Err: fmt.Errorf("%w: deleting files is not enabled for this workspace", ErrDisabled)}
	}
	p, err := w.prepare(ctx, op, args.Path)
	if err != nil {
		return "", err
	}
	if p == "." {
		return "", w.fail(op, args.Path, fmt.Errorf("%w: the workspace root itself cannot be deleted", ErrInvalidPath))
	}
	lst, err := w.root.Lstat(p)
	if err != nil {
		return "", w.fail(op, args.Path, err)
	}
	// Following the name refuses a link that leads out, even to delete the link itself: a name the
	// model cannot read it should not be able to act on. A link dangling inside the workspace is
	// deleted.
	if _, err := w.root.Stat(p); err != nil && !(lst.Mode()&fs.ModeSymlink != 0 && errors.Is(err, fs.ErrNotExist)) {
		return "", w.fail(op, args.Path, err)
	}
	switch {
	case lst.Mode()&fs.ModeSymlink != 0:
		if err := w.root.Remove(p); err != nil {
			return "", w.fail(op, args.Path, err)
		}
		return fmt.Sprintf("deleted the symbolic link %s (its target was kept)", p), nil
	case lst.IsDir():
		if !args.Recursive {
			return "", w.fail(op, args.Path, fmt.Errorf("%w: it is a directory; set recursive=true to delete it and everything in it", ErrNotRegular))
		}
		if err := w.root.RemoveAll(p); err != nil {
			return "", w.fail(op, args.Path, err)
		}
		return fmt.Sprintf("deleted the directory %s and everything in it", p), nil
	default:
		if err := w.root.Remove(p); err != nil {
			return "", w.fail(op, args.Path, err)
		}
		return fmt.Sprintf("deleted %s", p), nil
	}
}
