//go:build !linux

package cluster

import "os/exec"

// setPdeathsig does nothing where the kernel cannot kill a child with its
// parent; the test's cleanups stop the children.
func setPdeathsig(*exec.Cmd) {}
