package shell_test

import (
	"strings"
	"testing"

	"github.com/autogpt-go/agent/tools/shell"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitCommandWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"echo ok", []string{"echo", "ok"}},
		{"  echo   a\tb  \n", []string{"echo", "a", "b"}},
		{`echo "a b" 'c d' e\ f`, []string{"echo", "a b", "c d", "e f"}},
		{`echo 'single $HOME $(x) ` + "`x`" + ` ; | *'`, []string{"echo", "single $HOME $(x) `x` ; | *"}},
		{`echo "dq \$HOME \" \\ \x"`, []string{"echo", `dq $HOME " \ \x`}},
		{`echo \$HOME \; \| \& \> \* \~`, []string{"echo", "$HOME", ";", "|", "&", ">", "*", "~"}},
		{`grep -rn "a|b" src`, []string{"grep", "-rn", "a|b", "src"}},
		{`find . -name '*.go' -exec echo {} \;`, []string{"find", ".", "-name", "*.go", "-exec", "echo", "{}", ";"}},
		{`git log HEAD~1 --format=%h`, []string{"git", "log", "HEAD~1", "--format=%h"}},
		{`echo a#b a=b --x=y ]`, []string{"echo", "a#b", "a=b", "--x=y", "]"}},
		{`echo "a"'b'c`, []string{"echo", "abc"}},
		{`echo ""`, []string{"echo", ""}},
		{"echo a\\\nb", []string{"echo", "ab"}},
		{`echo a\'b`, []string{"echo", "a'b"}},
		{`echo "~" '~'`, []string{"echo", "~", "~"}},
		{`echo '{a,b}'`, []string{"echo", "{a,b}"}},
		{`/bin/./rm x`, []string{"/bin/./rm", "x"}}, // splitting is fine; the allowlist refuses it
		{`echo naïve 日本`, []string{"echo", "naïve", "日本"}},
		{`echo {} {a} a{b`, []string{"echo", "{}", "{a}", "a{b"}}, // not brace expansions in bash either
	}
	for _, tc := range cases {
		got, err := shell.SplitCommand(tc.in)
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestSplitCommandRefusesShellSyntax(t *testing.T) {
	cases := []struct{ in, reason string }{
		{"echo ok; rm -rf x", "more than one command"},
		{"echo ok;", "separators"},
		{"echo ok\nrm -rf x", "more than one command"},
		{"echo ok && rm x", "pipes and command lists"},
		{"echo ok || rm x", "pipes and command lists"},
		{"echo ok | rm x", "pipes and command lists"},
		{"echo ok |& rm x", "pipes and command lists"},
		{"echo ok & rm x", "more than one command"},
		{"rm x &", "background"},
		{"echo x > f", "redirections"},
		{"echo x >> f", "redirections"},
		{"cat < f", "redirections"},
		{"echo x 2>&1", "redirections"},
		{"echo x &> f", "redirections"},
		{"cat <<EOF\nx\nEOF", "redirections"},
		{"cat <<< x", "redirections"},
		{"echo $(rm x)", "command substitution"},
		{`echo "$(rm x)"`, "command substitution"},
		{"echo `rm x`", "command substitution (backticks)"},
		{"echo \"`rm x`\"", "command substitution (backticks)"},
		{"echo a$(rm x)b", "command substitution"},
		{"$(rm x)", "command substitution"},
		{"echo $HOME", "variable expansion"},
		{"echo ${HOME}", "variable expansion"},
		{`echo "$HOME"`, "variable expansion"},
		{"echo $1 $@ $?", "variable expansion"},
		{"echo $", "variable expansion"},
		{`echo "$"`, "variable expansion"},
		{"echo a$", "variable expansion"},
		{"echo $((1+2))", "arithmetic expansion"},
		{"echo <(rm x)", "process substitution"},
		{"echo >(rm x)", "process substitution"},
		{"echo $'\\x41'", "$'...'"},
		{`echo $"x"`, `$\"...\"`},
		{"FOO=bar echo x", "variable assignments"},
		{"FOO=bar", "variable assignments"},
		{"export FOO=bar", "builtin"},
		{"(rm x)", "command groups"},
		{"{ rm x; }", "command groups"},
		{"if true; then rm x; fi", "compound commands"},
		{"for i in a; do rm $i; done", "compound commands"},
		{"[[ -f x ]]", "compound commands"},
		{"f() { rm x; }", "compound commands"},
		{"time rm x", `"time"`},
		{"! rm x", `"!"`},
		{"echo *", "glob"},
		{"ls *.go", "glob"},
		{"ls file?.txt", "glob"},
		{"ls [ab].txt", "glob"},
		{"ls @(a|b)", "extended globs"},
		{"echo {a,b}", "brace expansion"},
		{"echo x{1..3}", "brace expansion"},
		{`echo \{a,b\}`, "brace expansion"}, // fails closed: quote braces rather than escape them
		{"echo ~", `"~"`},
		{"cat ~/.ssh/id_rsa", `"~"`},
		{"echo --dir=~/x", `"~"`},
		{"echo a:~/x", `"~"`},
		{"echo ok # rm x", "comments"},
		{"# rm x", "comments"},
		{`echo "unterminated`, "does not parse"},
		{"echo 'unterminated", "does not parse"},
		{"echo ok &&", "does not parse"},
		{"echo )", "does not parse"},
		{`echo \`, "trailing backslash"},
		{"echo a\x00b", "NUL"},
		{"echo \x1b[31m", "control character"},
		{"echo \xff", "UTF-8"},
	}
	for _, tc := range cases {
		got, err := shell.SplitCommand(tc.in)
		require.Error(t, err, "%q split into %q", tc.in, got)
		assert.ErrorIs(t, err, shell.ErrShellSyntax, "%q", tc.in)
		assert.Contains(t, err.Error(), tc.reason, "%q", tc.in)
		assert.Contains(t, err.Error(), "no shell runs here", "%q", tc.in)
	}
}

func TestSplitCommandEmpty(t *testing.T) {
	for _, in := range []string{"", "   ", "\n\t", strings.Repeat("a", shell.MaxCommandBytes+1)} {
		_, err := shell.SplitCommand(in)
		assert.ErrorIs(t, err, shell.ErrInvalidCommand, "%.20q", in)
	}
}
