package testkit_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuideMatchesReadme: every "// guide:NAME" block of guide_test.go appears verbatim as a Go
// code block in README.md's "Testing your agent" section, and every test function shown there is
// one of them, so the guide's snippets are exactly the tests that run.
func TestGuideMatchesReadme(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	guide, err := os.ReadFile("guide_test.go")
	require.NoError(t, err)

	section := string(readme)
	start := strings.Index(section, "## Testing your agent")
	require.GreaterOrEqual(t, start, 0, "README.md has no Testing your agent section")
	section = section[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var shown []string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1) {
		if strings.HasPrefix(m[1], "func Test") {
			shown = append(shown, m[1])
		}
	}
	blocks := regexp.MustCompile(`(?s)// guide:(\w+)\n(.*?)\n// guide:end`).FindAllStringSubmatch(string(guide), -1)
	require.NotEmpty(t, blocks)
	names := map[string]bool{}
	for _, b := range blocks {
		names[b[1]] = true
		code := strings.TrimRight(b[2], "\n") + "\n"
		assert.Contains(t, shown, code, "guide block %q is not in README.md as written", b[1])
	}
	for _, want := range []string{"script", "func", "auto", "replay", "shape"} {
		assert.True(t, names[want], "the guide lacks a %s example", want)
	}
	assert.Len(t, shown, len(blocks), "README.md shows a test that guide_test.go does not run")
}
