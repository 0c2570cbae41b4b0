//go:build unix

package pull

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDest takes an exclusive lock on the destination, so two agents never
// mirror into one folder at once. The lock goes with the process, also
// when it is killed.
func lockDest(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another hub pull is mirroring into this folder (%s is locked)", path)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
