package cluster

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill a child (a NATS node, a hub) when the
// test binary dies without cleaning up (a -timeout panic, say), so none
// outlives the run.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
