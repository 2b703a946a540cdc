//go:build unix && !linux

package lambda

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the function in its own process group, so a timeout
// kills everything it started.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // already gone is fine
}
