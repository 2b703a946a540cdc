package taskrun

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// Usage is a process's resource use, read from /proc.
type Usage struct {
	CPUSeconds float64 // user + system time so far
	RSSBytes   int64   // resident memory now
}

// Usage reads the process's CPU time and resident memory from /proc.
func (p *Process) Usage() (Usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid))
	if err != nil {
		return Usage{}, fmt.Errorf("read process stats: %w", err)
	}
	// Fields after the parenthesised command name, which may hold spaces.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Usage{}, fmt.Errorf("parse /proc/%d/stat", p.Pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime 15, rss 24.
	if len(f) < 22 {
		return Usage{}, fmt.Errorf("parse /proc/%d/stat: %d fields", p.Pid, len(f))
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	return Usage{CPUSeconds: (utime + stime) / clockTicks, RSSBytes: rss * int64(os.Getpagesize())}, nil
}
