//go:build !unix

package shell_test

import (
	"errors"
	"testing"

	"github.com/autogpt-go/agent/tools/shell"
)

// Off Unix the tool cannot kill a command's children, so New refuses to build it.
func TestNewUnsupported(t *testing.T) {
	_, err := shell.New(shell.Config{Allow: []string{"cmd"}, Dir: t.TempDir()})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New on a system other than Unix: got %v, want an error wrapping errors.ErrUnsupported", err)
	}
}
