package shell

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// MaxCommandBytes is the longest command string SplitCommand accepts, in bytes.
const MaxCommandBytes = 64 << 10

// SplitCommand splits command, one command line as a model would type it in bash, into argv: the
// words of one simple command with their quotes and backslashes removed, as bash would pass them to
// the program. The command is parsed by mvdan.cc/sh/v3/syntax (a full POSIX shell and bash parser);
// it is never given to a shell, and nothing in it is expanded.
//
// SplitCommand fails closed: whatever a shell would do beyond splitting words and removing quotes
// is refused with an error wrapping ErrShellSyntax, naming the construct, so that the model never
// believes something ran that did not. Refused: a command that does not parse; more than one
// command (";", "&", a newline); pipes and lists ("|", "&&", "||"); background jobs ("&");
// redirections (">", "<", "2>&1", here-documents); variable assignments ("A=1 cmd"); compound
// commands ("( )", "{ }", if, for, while, case, [[ ]], function definitions, time, "!");
// command substitution ("$(...)" and backticks, quoted or not); parameter and variable expansion
// ("$HOME", "${x}", "$1", and any other unescaped "$", including inside double quotes);
// arithmetic expansion ("$((...))"); process substitution ("<(...)"); "$'...'" and "$"..."" quoting;
// unquoted glob characters ("*", "?", "[") and extended globs; brace expansion ("{a,b}", "{1..3}",
// also when its braces are escaped with backslashes: quote them instead);
// tilde expansion (an unquoted "~" starting a word or following "=" or ":"); comments ("#" starting
// a word); a NUL byte or other control character except tab and newline; invalid UTF-8; and a
// command longer than MaxCommandBytes. An empty command, or one of spaces only, is refused with an
// error wrapping ErrInvalidCommand.
//
// Quoted or escaped, those characters are ordinary text: `find . -name '*.go'`, `echo \$HOME`,
// `grep "a|b" f`, `find . -exec echo {} \;` all split as bash would split them.
func SplitCommand(command string) ([]string, error) {
	if strings.TrimSpace(command) == "" {
		return nil, fmt.Errorf("%w: the command is empty", ErrInvalidCommand)
	}
	if len(command) > MaxCommandBytes {
		return nil, fmt.Errorf("%w: the command is longer than %d bytes", ErrInvalidCommand, MaxCommandBytes)
	}
	if !utf8.ValidString(command) {
		return nil, refuse("the command is not valid UTF-8")
	}
	// The parser silently drops NUL bytes, so they and the other control characters are refused
	// before it sees the text.
	if strings.ContainsFunc(command, func(r rune) bool { return (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f }) {
		return nil, refuse("the command contains a NUL byte or another control character")
	}
	p := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash))
	f, err := p.Parse(strings.NewReader(command), "")
	if err != nil {
		return nil, refuse("the command does not parse as a shell command (%v)", err)
	}
	if len(f.Last) > 0 {
		return nil, refuse(`comments ("#") are not supported`)
	}
	switch len(f.Stmts) {
	case 0:
		return nil, fmt.Errorf("%w: the command is empty", ErrInvalidCommand)
	case 1:
	default:
		return nil, refuse(`more than one command (";", "&" or a newline between commands); run one program per call`)
	}
	st := f.Stmts[0]
	switch {
	case len(st.Comments) > 0:
		return nil, refuse(`comments ("#") are not supported`)
	case st.Background, st.Coprocess, st.Disown:
		return nil, refuse(`background jobs ("&") are not supported`)
	case st.Semicolon.IsValid():
		return nil, refuse(`command separators (";", "&") are not supported`)
	case st.Negated:
		return nil, refuse(`"!" (negating the exit status) is not supported`)
	case len(st.Redirs) > 0:
		return nil, refuse(`redirections (">", "<", "2>&1", here-documents) are not supported; the output is returned to you`)
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok {
		return nil, refuse("%s", compoundName(st.Cmd))
	}
	if len(call.Assigns) > 0 {
		return nil, refuse(`variable assignments ("NAME=value") are not supported`)
	}
	if len(call.Args) == 0 {
		return nil, fmt.Errorf("%w: the command is empty", ErrInvalidCommand)
	}
	argv := make([]string, 0, len(call.Args))
	for _, w := range call.Args {
		s, err := literalWord(w)
		if err != nil {
			return nil, err
		}
		argv = append(argv, s)
	}
	return argv, nil
}

// refuse returns an error wrapping ErrShellSyntax with a reason and a hint.
func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s; no shell runs here: pass the program and its arguments as argv, or quote special characters",
		ErrShellSyntax, fmt.Sprintf(format, args...))
}

// compoundName names a command that is not a simple command.
func compoundName(c syntax.Command) string {
	switch c := c.(type) {
	case *syntax.BinaryCmd:
		return fmt.Sprintf(`pipes and command lists (%q) are not supported; run one program per call`, c.Op.String())
	case *syntax.Subshell, *syntax.Block:
		return `command groups ("( )", "{ }") are not supported`
	case *syntax.DeclClause:
		return fmt.Sprintf("the shell builtin %q is not supported", c.Variant.Value)
	case *syntax.TimeClause:
		return `"time" is not supported`
	default:
		return "compound commands (if, for, while, case, [[ ]], functions) are not supported"
	}
}

// literalWord returns w with its quotes and backslashes removed, or an error if a shell would
// expand any part of it.
func literalWord(w *syntax.Word) (string, error) {
	// SplitBraces rewrites the word it is given: give it a copy. It also reports true when it only
	// split literals ("{}"), so look for a brace expansion in the result. It does not honour
	// backslashes ("\{a,b\}" counts as an expansion): refusing that too fails closed.
	cp := &syntax.Word{Parts: slices.Clone(w.Parts)}
	if syntax.SplitBraces(cp) && slices.ContainsFunc(cp.Parts, func(p syntax.WordPart) bool {
		_, ok := p.(*syntax.BraceExp)
		return ok
	}) {
		return "", refuse(`brace expansion ("{a,b}", "{1..3}") is not performed; put the braces in quotes`)
	}
	var b strings.Builder
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if err := unquoteBare(&b, p.Value, i == 0); err != nil {
				return "", err
			}
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", refuse(`"$'...'" quoting is not supported; use '...'`)
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", refuse(`"$\"...\"" quoting is not supported; use "..."`)
			}
			for _, inner := range p.Parts {
				lit, ok := inner.(*syntax.Lit)
				if !ok {
					return "", expansion(inner)
				}
				if err := unquoteDouble(&b, lit.Value); err != nil {
					return "", err
				}
			}
		default:
			return "", expansion(part)
		}
	}
	return b.String(), nil
}

// expansion describes the refused word part p.
func expansion(p syntax.WordPart) error {
	switch p := p.(type) {
	case *syntax.ParamExp:
		return refuse(`variable expansion ("$NAME", "${NAME}") is not performed; write the value itself`)
	case *syntax.CmdSubst:
		if p.Backquotes {
			return refuse("command substitution (backticks) is not performed; run the inner command first")
		}
		return refuse(`command substitution ("$(...)") is not performed; run the inner command first`)
	case *syntax.ArithmExp:
		return refuse(`arithmetic expansion ("$((...))") is not performed`)
	case *syntax.ProcSubst:
		return refuse(`process substitution ("<(...)", ">(...)") is not supported`)
	case *syntax.ExtGlob:
		return refuse("extended globs are not expanded; quote the pattern")
	default:
		return refuse("unsupported shell syntax (%T)", p)
	}
}

// unquoteBare appends the unquoted literal raw (source text outside quotes) to b, removing
// backslashes. It refuses an unescaped "$", glob characters, and a "~" that bash would expand.
// wordStart says raw starts the word.
func unquoteBare(b *strings.Builder, raw string, wordStart bool) error {
	var prev rune // the previous unescaped character, 0 at the start
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRuneInString(raw[i:])
		i += size
		if r == '\\' {
			if i >= len(raw) {
				return refuse("a trailing backslash escapes nothing")
			}
			r, size = utf8.DecodeRuneInString(raw[i:])
			i += size
			if r != '\n' { // backslash-newline joins lines
				b.WriteRune(r)
			}
			prev = -1
			continue
		}
		switch r {
		case '$':
			return refuse(`variable expansion ("$NAME") is not performed; write "\$" for a literal dollar sign, or write the value itself`)
		case '`':
			return refuse("command substitution (backticks) is not performed")
		case '*', '?', '[':
			return refuse("unquoted glob characters (%q) are not expanded; quote the word, e.g. '*.go', or list files first", r)
		case '~':
			if (prev == 0 && wordStart) || prev == '=' || prev == ':' {
				return refuse(`"~" (home directory) is not expanded; write the path relative to the working directory`)
			}
		}
		b.WriteRune(r)
		prev = r
	}
	return nil
}

// unquoteDouble appends raw, the source text of a literal inside double quotes, to b. Inside double
// quotes a backslash escapes only $ ` " \ and newline; an unescaped "$" or backtick is refused.
func unquoteDouble(b *strings.Builder, raw string) error {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && strings.IndexByte("$`\"\\\n", raw[i+1]) >= 0:
			i++
			if raw[i] != '\n' {
				b.WriteByte(raw[i])
			}
		case c == '$':
			return refuse(`variable expansion ("$NAME") is not performed, also inside double quotes; write "\$" for a literal dollar sign`)
		case c == '`':
			return refuse("command substitution (backticks) is not performed, also inside double quotes")
		default:
			b.WriteByte(c)
		}
	}
	return nil
}
