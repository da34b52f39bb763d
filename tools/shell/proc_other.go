//go:build !unix

package shell

import (
	"errors"
	"os"
	"os/exec"
)

// supported reports whether run_command works on this system: New refuses to build the tool here.
const supported = false

func setProcessGroup(*exec.Cmd) {}

func killGroup(int) error { return errors.ErrUnsupported }

func signalText(ps *os.ProcessState) string { return ps.String() }
