package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// SweepReport counts what one sweep removed.
type SweepReport struct {
	// Orphans are stored blobs no blob record names: bytes stored by an
	// upload whose process died before it recorded them.
	Orphans int
	// Partials are unfinished writes of the blob store: the disk's
	// temporary files, S3's incomplete multipart uploads.
	Partials int
}

// clockSkew allows for replicas whose clocks disagree a little: an upload
// started on one marks itself by that replica's clock.
const clockSkew = time.Minute

// Sweep removes the debris of uploads that died: stored blobs no blob
// record names and unfinished writes of the blob store, both older than
// grace. It is safe beside uploads in progress on any replica and beside
// another replica sweeping at once.
//
// What counts as in use, and so is never removed:
//
//   - anything younger than grace, by its modification time and by the
//     time in its key (blob keys are ULIDs made when the upload began;
//     S3 dates a multipart object by its start, hours before it appears
//     for a long upload);
//   - anything whose key was made after the oldest upload still alive
//     began, minus clockSkew. An upload marks itself in its package
//     (Package.Uploads, renewed every uploadHeartbeat, forgotten after
//     uploadStale) before it makes its blob key, and clears the mark only
//     after recording the blob or deleting it, so while its bytes are
//     written, or written and not yet recorded, a live marker older than
//     its key exists: an 8 GiB upload over a slow link is safe however
//     long it takes;
//   - a blob some blob record names. The records are read after the store
//     was listed and the markers looked at, so a blob whose upload cleared
//     its marker in between has its record by then.
//
// A blob another replica deletes meanwhile is no error.
func (s *Service) Sweep(ctx context.Context, grace time.Duration) (SweepReport, error) {
	var rep SweepReport
	now := s.now()
	cutoff := now.Add(-grace)

	// 1. The store's objects old enough to be debris.
	var candidates []string
	err := s.blobs.List(ctx, func(key string, mod time.Time) error {
		if mod.Before(cutoff) && keyTime(key).Before(cutoff) {
			candidates = append(candidates, key)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("sweep: list blobs: %w", err)
	}

	// 2. Uploads still alive, on any replica.
	inUse, err := s.uploadsInUse(ctx, now)
	if err != nil {
		return rep, err
	}

	// 3. Partial writes: old, and no live upload may own them.
	rep.Partials, err = s.blobs.SweepPartial(ctx, cutoff, inUse)
	if err != nil {
		return rep, fmt.Errorf("sweep: unfinished writes: %w", err)
	}
	if len(candidates) == 0 {
		return rep, nil
	}

	// 4. The records, read last.
	recorded, err := s.catalog.BlobKeys(ctx)
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	for _, key := range candidates {
		if recorded[key] || inUse(key) {
			continue
		}
		if err := s.blobs.Delete(ctx, key); err != nil {
			return rep, fmt.Errorf("sweep: delete blob %s: %w", key, err)
		}
		rep.Orphans++
	}
	return rep, nil
}

// uploadsInUse returns whether a blob key may belong to an upload still
// alive: one made after the oldest live upload began, minus clockSkew.
func (s *Service) uploadsInUse(ctx context.Context, now time.Time) (func(key string) bool, error) {
	var oldest time.Time
	q := PackageQuery{Limit: MaxPageSize}
	for {
		page, err := s.catalog.ListPackages(ctx, Filter{AllCampaigns: true}, q)
		if err != nil {
			return nil, fmt.Errorf("sweep: list packages: %w", err)
		}
		for _, p := range page.Items {
			for id, alive := range p.Uploads {
				if now.Sub(alive) >= uploadStale {
					continue
				}
				if t := keyTime(id); oldest.IsZero() || t.Before(oldest) {
					oldest = t
				}
			}
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if oldest.IsZero() {
		return func(string) bool { return false }, nil
	}
	since := oldest.Add(-clockSkew)
	return func(key string) bool { return !keyTime(key).Before(since) }, nil
}

// keyTime is when a ULID key was made; a key that is no ULID (none the hub
// makes) counts as made now, so it is never taken for debris.
func keyTime(key string) time.Time {
	id, err := ulid.ParseStrict(key)
	if err != nil {
		return time.Now()
	}
	return ulid.Time(id.Time())
}
