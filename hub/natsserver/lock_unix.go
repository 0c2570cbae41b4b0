//go:build unix

package natsserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockStore takes an exclusive lock on the store directory dir (a file
// in it), held until the returned file is closed. The lock is the
// kernel's, so it ends with the process that held it, however it died.
func lockStore(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create NATS store %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "hub.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock of NATS store %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the NATS store %s is in use by another hub (a running `hub serve`, backup or migration); stop it first", dir)
		}
		return nil, fmt.Errorf("lock NATS store %s: %w", dir, err)
	}
	return f, nil
}
