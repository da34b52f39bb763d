package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Bounds of search_files that are not configurable.
const (
	// maxSearchEntries bounds how many directory entries one search looks at.
	maxSearchEntries = 100_000
	// maxQueryBytes bounds the length of a search query, in bytes.
	maxQueryBytes = 4096
	// maxLineBytes is how much of a matching line search_files shows.
	maxLineBytes = 300
	// sniffBytes is how much of a file is read first to tell a binary file (a NUL byte in it).
	sniffBytes = 8 << 10
)

// SearchFilesArgs are search_files' arguments. At least one of Pattern and Query is required.
type SearchFilesArgs struct {
	// Pattern is a glob over paths relative to Path; "**" spans directories.
	Pattern string `json:"pattern,omitempty" jsonschema:"glob matched against each path relative to path: * ? and [a-z] match within one name, ** matches any number of directories. E.g. **/*.go (Go files at any depth), *.md (top level only), docs/** (everything under docs). Default: every file"`
	// Query is the text to find in file contents, line by line.
	Query string `json:"query,omitempty" jsonschema:"text to find in file contents, line by line; literal unless regexp is true. Omit to list the files matching pattern"`
	// Regexp makes Query a regular expression (Go RE2 syntax).
	Regexp bool `json:"regexp,omitempty" jsonschema:"treat query as a regular expression (Go RE2 syntax, matched against each line)"`
	// IgnoreCase matches Query without regard to letter case.
	IgnoreCase bool `json:"ignore_case,omitempty" jsonschema:"match query without regard to letter case"`
	// Path is the directory to search in; "" means the workspace root.
	Path string `json:"path,omitempty" jsonschema:"directory to search in, relative to the workspace root; default . (the whole workspace)"`
	// MaxResults is the most results to return; 0 means Config.MaxSearchResults, the cap.
	MaxResults int `json:"max_results,omitempty" jsonschema:"most paths or matching lines to return; default and maximum set by the workspace (200 unless configured)"`
}

// SearchFiles implements search_files. It walks the directory args.Path (default the workspace
// root) depth first in bytewise name order, at most Config.MaxSearchDepth levels down, following
// no symbolic link (links are neither listed, searched nor descended into; os.Root guards the
// walk itself).
//
// With args.Pattern alone it returns the matching paths, one per line, relative to the workspace
// root, directories with a trailing "/". The pattern is matched against the path relative to
// args.Path: path.Match syntax within one name, and "**" as a whole element for any number of
// directories; it obeys the path policy of CleanPath (no absolute pattern, no backslash, no climb
// above the root).
//
// With args.Query it searches the regular files (matching args.Pattern if given) line by line and
// returns "path:line: text" for each matching line, the text cut to 300 bytes. A query is literal
// unless args.Regexp is set (Go RE2 syntax, linear time); args.IgnoreCase folds case. Files
// containing a NUL byte are skipped as binary, files larger than Config.MaxFileBytes as too large.
//
// At most args.MaxResults (default and cap Config.MaxSearchResults) results are returned, at most
// Config.MaxSearchBytes bytes of contents are read and at most 100,000 directory entries looked
// at; a last line in brackets tells which bound stopped the search and what was skipped. No result
// gives "no files match" or "no matches". Errors: the path policy as for every tool, ErrNotRegular
// when args.Path is not a directory, ErrInvalidArgument for neither pattern nor query, a malformed
// pattern or regular expression, or a negative max_results.
func (w *Workspace) SearchFiles(ctx context.Context, args SearchFilesArgs) (string, error) {
	const op = "search_files"
	arg := args.Path
	if arg == "" {
		arg = "."
	}
	start, err := w.prepare(ctx, op, arg)
	if err != nil {
		return "", err
	}
	s := &searcher{w: w, ctx: ctx, maxResults: w.cfg.MaxSearchResults}
	switch {
	case args.Pattern == "" && args.Query == "":
		return "", w.fail(op, arg, fmt.Errorf("%w: give a pattern (e.g. **/*.go), a query, or both", ErrInvalidArgument))
	case args.MaxResults < 0:
		return "", w.fail(op, arg, fmt.Errorf("%w: max_results %d is negative", ErrInvalidArgument, args.MaxResults))
	case args.MaxResults > 0 && args.MaxResults < s.maxResults:
		s.maxResults = args.MaxResults
	}
	if args.Pattern != "" {
		if s.pattern, err = compileGlob(args.Pattern); err != nil {
			return "", w.fail(op, arg, err)
		}
	}
	if args.Query != "" {
		if s.re, err = compileQuery(args.Query, args.Regexp, args.IgnoreCase); err != nil {
			return "", w.fail(op, arg, err)
		}
	}
	d, err := w.root.Open(start)
	if err != nil {
		return "", w.fail(op, arg, err)
	}
	st, err := d.Stat()
	d.Close()
	if err != nil {
		return "", w.fail(op, arg, err)
	}
	if !st.IsDir() {
		return "", w.fail(op, arg, fmt.Errorf("%w: not a directory; path is the directory to search in (use pattern to pick files)", ErrNotRegular))
	}
	if err := s.walk(start, s.initial(), 0); err != nil {
		if errors.Is(err, errStop) {
			err = nil
		} else if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err != nil {
			return "", w.fail(op, arg, err)
		}
	}
	return s.render(), nil
}

// errStop ends a walk early once a bound is reached.
var errStop = errors.New("stop")

// searcher is the state of one search_files call.
type searcher struct {
	w          *Workspace
	ctx        context.Context
	pattern    []string // glob elements; nil matches every path
	re         *regexp.Regexp
	maxResults int

	results    []string
	files      int // files with a matching line (query searches)
	entries    int
	read       int64
	binary     int
	large      int
	unreadable int // directories that could not be read
	depthCut   bool
	stopped    string // why the walk stopped early, "" if it did not
}

// initial returns the glob states before any path element is consumed.
func (s *searcher) initial() []int {
	if s.pattern == nil {
		return nil
	}
	return globClose(s.pattern, []int{0})
}

// walk searches the directory dir (workspace-relative), depth levels below the start, with the
// glob in states after matching the path from the start to dir.
func (s *searcher) walk(dir string, states []int, depth int) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	d, err := s.w.root.Open(dir)
	if err != nil {
		if depth == 0 {
			return err
		}
		s.unreadable++ // unreadable, or replaced since its parent was read: skipped
		return nil
	}
	var ents []fs.DirEntry
	for {
		batch, err := d.ReadDir(1024)
		ents = append(ents, batch...)
		if s.entries+len(ents) > maxSearchEntries {
			break
		}
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			d.Close()
			if depth == 0 {
				return err
			}
			s.unreadable++
			return nil
		}
	}
	d.Close()
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range ents {
		if s.entries++; s.entries > maxSearchEntries {
			s.stopped = fmt.Sprintf("stopped after looking at %d entries; search a subdirectory with path", maxSearchEntries)
			return errStop
		}
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 || (!typ.IsDir() && !typ.IsRegular()) {
			continue // links are not followed; devices, pipes and sockets are not files to search
		}
		name := e.Name()
		p := path.Join(dir, name)
		var next []int
		matched := true
		if s.pattern != nil {
			next = globStep(s.pattern, states, name)
			matched = slices.Contains(next, len(s.pattern))
		}
		if typ.IsDir() {
			if matched && s.re == nil && s.pattern != nil {
				if err := s.add(p + "/"); err != nil {
					return err
				}
			}
			if s.pattern != nil && !globCanContinue(s.pattern, next) {
				continue
			}
			if depth+1 > s.w.cfg.MaxSearchDepth {
				s.depthCut = true
				continue
			}
			if err := s.walk(p, next, depth+1); err != nil {
				return err
			}
			continue
		}
		if !matched {
			continue
		}
		if s.re == nil {
			if err := s.add(p); err != nil {
				return err
			}
			continue
		}
		if err := s.searchFile(p); err != nil {
			return err
		}
	}
	return nil
}

// add records one result, stopping the walk when the results are full.
func (s *searcher) add(r string) error {
	if len(s.results) >= s.maxResults {
		s.stopped = fmt.Sprintf("stopped at %d results; narrow the pattern, the query or the path", s.maxResults)
		return errStop
	}
	s.results = append(s.results, r)
	return nil
}

// searchFile searches the regular file p line by line.
func (s *searcher) searchFile(p string) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	f, size, err := s.w.openRegular(p, os.O_RDONLY, 0)
	if err != nil {
		return nil // vanished or replaced since the directory was read: not a result
	}
	defer f.Close()
	if size > s.w.cfg.MaxFileBytes {
		s.large++
		return nil
	}
	budget := s.w.cfg.MaxSearchBytes - s.read
	if budget <= 0 {
		s.stopped = fmt.Sprintf("stopped after reading %d bytes of file contents; narrow the pattern or the path", s.read)
		return errStop
	}
	head := make([]byte, min(int64(sniffBytes), budget))
	n, err := io.ReadFull(f, head)
	head = head[:n]
	s.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	if bytes.IndexByte(head, 0) >= 0 {
		s.binary++
		return nil
	}
	data := head
	if err == nil { // more may follow
		rest, rerr := io.ReadAll(io.LimitReader(f, min(s.w.cfg.MaxFileBytes, s.w.cfg.MaxSearchBytes-s.read)+1))
		if rerr != nil {
			return nil
		}
		s.read += int64(len(rest))
		if s.read > s.w.cfg.MaxSearchBytes {
			s.read = s.w.cfg.MaxSearchBytes
			s.stopped = fmt.Sprintf("stopped after reading %d bytes of file contents; narrow the pattern or the path", s.read)
			return errStop
		}
		data = append(data, rest...)
		if int64(len(data)) > s.w.cfg.MaxFileBytes {
			s.large++
			return nil
		}
		if bytes.IndexByte(rest, 0) >= 0 {
			s.binary++
			return nil
		}
	}
	found := false
	for num := 1; len(data) > 0; num++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if !s.re.Match(line) {
			continue
		}
		if !found {
			found = true
			s.files++
		}
		if err := s.add(fmt.Sprintf("%s:%d: %s", p, num, showLine(line))); err != nil {
			return err
		}
	}
	return nil
}

// showLine returns line as valid UTF-8, cut to maxLineBytes.
func showLine(line []byte) string {
	if len(line) > maxLineBytes {
		line = line[:completeUTF8(line[:maxLineBytes])]
		return strings.ToValidUTF8(string(line), "\uFFFD") + "…"
	}
	return strings.ToValidUTF8(string(line), "\uFFFD")
}

// render formats the results and the notes.
func (s *searcher) render() string {
	var b strings.Builder
	for _, r := range s.results {
		b.WriteString(r)
		b.WriteByte('\n')
	}
	if len(s.results) == 0 {
		if s.re != nil {
			b.WriteString("no matches\n")
		} else {
			b.WriteString("no files match\n")
		}
	} else if s.re != nil {
		fmt.Fprintf(&b, "[search_files: %d matching lines in %d files]\n", len(s.results), s.files)
	}
	if s.stopped != "" {
		fmt.Fprintf(&b, "[search_files: %s]\n", s.stopped)
	}
	if s.depthCut {
		fmt.Fprintf(&b, "[search_files: directories deeper than %d levels were not searched; search from a subdirectory with path]\n", s.w.cfg.MaxSearchDepth)
	}
	if s.unreadable > 0 {
		fmt.Fprintf(&b, "[search_files: %d directories could not be read]\n", s.unreadable)
	}
	if s.binary > 0 || s.large > 0 {
		fmt.Fprintf(&b, "[search_files: skipped %d binary files and %d files larger than %d bytes]\n", s.binary, s.large, s.w.cfg.MaxFileBytes)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// compileQuery builds the regular expression for a query.
func compileQuery(q string, isRegexp, ignoreCase bool) (*regexp.Regexp, error) {
	if len(q) > maxQueryBytes {
		return nil, fmt.Errorf("%w: the query is longer than %d bytes", ErrInvalidArgument, maxQueryBytes)
	}
	if !isRegexp {
		q = regexp.QuoteMeta(q)
	}
	if ignoreCase {
		q = "(?i)" + q
	}
	re, err := regexp.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("%w: the query is not a valid regular expression (Go RE2 syntax): %v", ErrInvalidArgument, err)
	}
	return re, nil
}

// compileGlob checks a search pattern against the path policy and splits it into elements.
func compileGlob(pattern string) ([]string, error) {
	if err := checkPath(pattern); err != nil {
		return nil, err
	}
	clean := path.Clean(pattern)
	if clean == "." {
		return nil, fmt.Errorf("%w: the pattern %q matches nothing; use ** for everything", ErrInvalidArgument, pattern)
	}
	elems := strings.Split(clean, "/")
	for _, e := range elems {
		if e == "**" {
			continue
		}
		if _, err := path.Match(e, ""); err != nil {
			return nil, fmt.Errorf("%w: malformed pattern element %q (unclosed [ or bad range)", ErrInvalidArgument, e)
		}
	}
	return elems, nil
}

// The glob is run as a small automaton: a state is the index of the next pattern element to
// match; len(pattern) means the whole pattern matched. A "**" element matches any number of path
// elements, zero included.

// globClose adds to states the states reachable by letting "**" elements match nothing.
func globClose(pattern []string, states []int) []int {
	for i := 0; i < len(states); i++ {
		if st := states[i]; st < len(pattern) && pattern[st] == "**" && !slices.Contains(states, st+1) {
			states = append(states, st+1)
		}
	}
	return states
}

// globStep returns the states after matching the path element name from states.
func globStep(pattern []string, states []int, name string) []int {
	var next []int
	for _, st := range states {
		if st >= len(pattern) {
			continue
		}
		if pattern[st] == "**" {
			if !slices.Contains(next, st) {
				next = append(next, st)
			}
			continue
		}
		if ok, _ := path.Match(pattern[st], name); ok && !slices.Contains(next, st+1) {
			next = append(next, st+1)
		}
	}
	return globClose(pattern, next)
}

// globCanContinue reports whether a longer path could still match from states.
func globCanContinue(pattern []string, states []int) bool {
	return slices.ContainsFunc(states, func(st int) bool { return st < len(pattern) })
}
