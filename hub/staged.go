package hub

import (
	"context"
	"time"
)

// StagedUploads holds the received bytes of resumable uploads until the
// last of them arrives, on the hub's own scratch disk (never in the blob
// store: the bytes are not scrubbed yet). The service reaches it only to
// clean up; the upload protocol itself is the HTTP layer's.
type StagedUploads interface {
	// Sweep removes the staged uploads last written before cutoff, and
	// those into a package gone returns true for (purged or deleted on
	// another replica), returning how many it removed.
	Sweep(ctx context.Context, cutoff time.Time, gone func(pkg string) bool) (int, error)
	// DeletePackage removes every staged upload into package id.
	DeletePackage(ctx context.Context, id string) (int, error)
}

// packageGone reports whether package id is purged or no longer exists:
// a staged upload into it can never be stored. A catalog that does not
// answer keeps the upload (the sweep asks again).
func (s *Service) packageGone(ctx context.Context, id string) bool {
	p, err := s.catalog.Package(ctx, id)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return true
	case err != nil:
		return false
	}
	return p.Status == StatusPurged
}

// deleteStaged removes what staging holds for package id, which can no
// longer take an upload.
func (s *Service) deleteStaged(ctx context.Context, id string) {
	if s.staged == nil {
		return
	}
	if _, err := s.staged.DeletePackage(ctx, id); err != nil {
		s.logger.Error("delete staged uploads of a package", "package", id, "err", err)
	}
}
