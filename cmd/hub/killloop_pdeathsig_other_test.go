//go:build !linux

package main

import "os/exec"

// setKillLoopPdeathsig does nothing where the kernel offers no parent-death
// signal; the test's cleanup still kills the hub after a normal run.
func setKillLoopPdeathsig(*exec.Cmd) {}
