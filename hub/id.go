package hub

import (
	"crypto/rand"
	"io"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// IDs are ULIDs: sortable by creation time, so listings page by id, and
// safe to use as storage keys because the hub, not a user, makes them.
type IDSource struct {
	mu      sync.Mutex
	entropy io.Reader
	now     func() time.Time
}

// NewIDSource returns a source of ULIDs stamped by now.
func NewIDSource(now func() time.Time) *IDSource {
	return &IDSource{entropy: ulid.Monotonic(rand.Reader, 0), now: now}
}

// New returns a new ULID, greater than every earlier one from this source.
func (s *IDSource) New() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(s.now()), s.entropy).String()
}

// ValidID reports whether s is a ULID in canonical form. Anything else is
// answered as not found, so ids never reach storage unchecked.
func ValidID(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	id, err := ulid.ParseStrict(s)
	return err == nil && id.String() == s
}
