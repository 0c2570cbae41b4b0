package miniotest

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill MinIO when the test binary dies without
// running stop, as it does on a test timeout, so no server outlives its
// tests.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
