//go:build !unix

package natsserver

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockStore opens the lock file without locking it: only unix systems
// keep a second process off the store here.
func lockStore(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create NATS store %s: %w", dir, err)
	}
	return os.OpenFile(filepath.Join(dir, "hub.lock"), os.O_CREATE|os.O_RDWR, 0o600)
}
