//go:build !linux

package taskrun

import (
	"errors"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// Usage is a process's resource use.
type Usage struct {
	CPUSeconds float64
	RSSBytes   int64
}

// Usage is only measured on Linux.
func (p *Process) Usage() (Usage, error) {
	return Usage{}, errors.New("read process stats: only supported on linux")
}
