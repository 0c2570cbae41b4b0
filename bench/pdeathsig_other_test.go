//go:build !linux

package bench

import "os/exec"

// setPdeathsig does nothing where the kernel offers no parent-death signal;
// the benchmark's cleanup still stops the hub after a normal run.
func setPdeathsig(*exec.Cmd) {}
