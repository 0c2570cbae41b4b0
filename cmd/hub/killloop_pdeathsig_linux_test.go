package main

import (
	"os/exec"
	"syscall"
)

// setKillLoopPdeathsig has the kernel kill a hub the kill loop started when
// the test binary dies without cleaning up (a -timeout panic, say).
func setKillLoopPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
