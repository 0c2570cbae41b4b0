package hub

import (
	"context"
	"errors"
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
	// Unheld are references blob records counted that no package held: a
	// process that died between recording a blob and writing its package
	// (or between a package's write and letting go of a blob). The counts
	// are corrected, and a blob left with none is removed, counted here
	// and not among Orphans.
	Unheld int
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
//   - a blob some blob record or rendition set names. The records are read after the store
//     was listed and the markers looked at, so a blob whose upload cleared
//     its marker in between has its record by then.
//
// A blob record may also count a reference no package holds (see
// SweepReport.Unheld). The sweep notes such a record (UnheldReferences)
// and corrects it at a later sweep, only if nothing acquired or released
// the content for at least grace in between (either clears the note) and
// by no more than neither sweep saw held. An upload acquires before its
// package write and a delete writes its package before it lets go, each
// seconds apart, so whatever was in flight at the note has landed or died
// by the correction, and the larger of the two sweeps' holder counts
// covers both kinds: a correction never takes a reference a package still
// has.
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

	// 2. Uploads still alive, on any replica, and who holds what.
	inUse, holders, err := s.census(ctx, now)
	if err != nil {
		return rep, err
	}

	// 3. Partial writes: old, and no live upload may own them.
	rep.Partials, err = s.blobs.SweepPartial(ctx, cutoff, inUse)
	if err != nil {
		return rep, fmt.Errorf("sweep: unfinished writes: %w", err)
	}
	if s.scratch != nil {
		n, err := s.scratch.Sweep(ctx, cutoff, inUse)
		rep.Partials += n
		if err != nil {
			return rep, fmt.Errorf("sweep: scratch files: %w", err)
		}
	}
	if s.staged != nil {
		// A purge on another replica could not reach this one's staging.
		n, err := s.staged.Sweep(ctx, cutoff, func(pkg string) bool { return s.packageGone(ctx, pkg) })
		rep.Partials += n
		if err != nil {
			return rep, fmt.Errorf("sweep: staged uploads: %w", err)
		}
	}
	// 4. The records, read last.
	records, err := s.catalog.BlobRecords(ctx)
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	// Renditions are blobs of their own, recorded in their sets; one a
	// worker is storing now has a key younger than the grace.
	recorded, err := s.catalog.RenditionBlobKeys(ctx)
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	for _, r := range records {
		recorded[r.Key] = true
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

	// 5. References no package holds.
	for sum, rec := range records {
		if rec.Refs <= holders[sum] && rec.Unheld == nil {
			continue
		}
		n, err := s.settleReferences(ctx, sum, rec.Refs, holders[sum], now, grace)
		rep.Unheld += n
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// errUnchanged tells UpdateBlob to write nothing.
var errUnchanged = errors.New("unchanged")

// settleReferences notes, corrects or forgets the unheld references of the
// record for sum, which counted refs when held packages held it, and
// returns how many references it dropped.
func (s *Service) settleReferences(ctx context.Context, sum string, refs, held int, now time.Time, grace time.Duration) (int, error) {
	dropped := 0
	removed, err := s.catalog.UpdateBlob(ctx, sum, func(r *BlobRecord) error {
		dropped = 0
		switch {
		case r.Refs != refs:
			return errUnchanged // acquired or released since it was read: look again next time
		case r.Refs <= held:
			if r.Unheld == nil {
				return errUnchanged
			}
			r.Unheld = nil // a package the note missed holds it after all
		case r.Unheld == nil:
			r.Unheld = &UnheldReferences{Refs: r.Refs, Holders: held, Seen: now}
		case now.Sub(r.Unheld.Seen) < grace:
			return errUnchanged // noted; not quiet for long enough yet
		default:
			dropped = r.Refs - max(r.Unheld.Holders, held)
			r.Refs -= max(dropped, 0)
			r.Unheld = nil
		}
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged) || ErrorCode(err) == ENOTFOUND:
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("sweep: settle references of blob %s: %w", sum, err)
	}
	dropped = max(dropped, 0)
	if dropped > 0 {
		s.logger.Warn("sweep: blob record counted references no package held", "sha256", sum, "dropped", dropped)
	}
	if removed != "" {
		s.forgetContent(ctx, sum, removed)
	}
	return dropped, nil
}

// census lists every package once and returns whether a blob key may
// belong to an upload still alive (one made after the oldest live upload
// began, minus clockSkew) and how many packages hold each content sum.
func (s *Service) census(ctx context.Context, now time.Time) (func(key string) bool, map[string]int, error) {
	var oldest time.Time
	holders := map[string]int{}
	err := s.catalog.EachPackage(ctx, func(p *Package) error {
		for _, sum := range p.Blobs {
			holders[sum]++
		}
		for id, alive := range p.Uploads {
			if now.Sub(alive) >= uploadStale {
				continue
			}
			if t := keyTime(id); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	if oldest.IsZero() {
		return func(string) bool { return false }, holders, nil
	}
	since := oldest.Add(-clockSkew)
	return func(key string) bool { return !keyTime(key).Before(since) }, holders, nil
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
