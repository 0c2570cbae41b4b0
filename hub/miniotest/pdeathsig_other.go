//go:build !linux

package miniotest

import "os/exec"

// setPdeathsig does nothing where the kernel offers no parent-death signal;
// stop still ends MinIO after a normal run.
func setPdeathsig(*exec.Cmd) {}
