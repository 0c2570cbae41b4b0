package bench

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill the hub when the benchmark binary dies
// without cleaning up (a -timeout panic, say), so no hub outlives it.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
