//go:build !unix

package pull

// lockDest does nothing where flock is not available: keep to one agent
// per destination there.
func lockDest(string) (func(), error) { return func() {}, nil }
