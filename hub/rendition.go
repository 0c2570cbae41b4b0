package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Renditions are the forms the hub makes of an asset after its upload
// answered: a thumbnail and a web size of every picture, graphic and PDF,
// a poster frame and a browser preview of every video, a waveform of every
// audio. They are made from the scrubbed bytes by a bounded pool of
// workers from durable jobs (RenditionQueue), so an upload never waits for
// them and a crash or restart finishes them. They belong to the stored
// content, not to a package: identical uploads share them, they are kept
// by content sum beside the blob record and go with its last reference.
// So a released version gains renditions that become ready after its
// release; the original's bytes never change.

// RenditionState is where a rendition stands; every one ends ready,
// failed or unavailable, so nothing waits forever.
type RenditionState string

const (
	RenditionPending     RenditionState = "pending"
	RenditionReady       RenditionState = "ready"
	RenditionFailed      RenditionState = "failed"
	RenditionUnavailable RenditionState = "unavailable" // a tool the hub needs is not installed
)

// Rendition is one derived form of a stored blob.
type Rendition struct {
	// Name is what it is: thumbnail, web, poster, preview, waveform.
	Name  string         `json:"name"`
	State RenditionState `json:"state"`
	// Reason says why it failed or is unavailable, in words for a person
	// (partners see it too: it names no path and no tool's internals).
	Reason      string  `json:"reason,omitempty"`
	ContentType string  `json:"contenttype,omitempty"`
	Size        int64   `json:"size,omitempty"`
	SHA256      string  `json:"sha256,omitempty"`
	BlobKey     string  `json:"blobkey,omitempty"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
}

// MediaFacts is what the hub read of a stored blob's media.
type MediaFacts struct {
	Width      int     `json:"width,omitempty"`
	Height     int     `json:"height,omitempty"`
	Duration   float64 `json:"duration,omitempty"`
	VideoCodec string  `json:"videocodec,omitempty"`
	AudioCodec string  `json:"audiocodec,omitempty"`
}

// RenditionSet is every rendition of one stored blob, by its content sum.
type RenditionSet struct {
	SHA256      string      `json:"sha256"`
	ContentType string      `json:"contenttype"`
	BlobKey     string      `json:"blobkey"`
	Renditions  []Rendition `json:"renditions"`
	Facts       MediaFacts  `json:"facts"`
	Updated     time.Time   `json:"updated"`
}

// Rendition returns the set's rendition called name, or nil.
func (s *RenditionSet) Rendition(name string) *Rendition {
	for i := range s.Renditions {
		if s.Renditions[i].Name == name {
			return &s.Renditions[i]
		}
	}
	return nil
}

// Done reports whether every rendition has ended.
func (s *RenditionSet) Done() bool {
	for _, r := range s.Renditions {
		if r.State == RenditionPending {
			return false
		}
	}
	return true
}

// RenditionStore keeps rendition sets by content sum.
type RenditionStore interface {
	// RenditionSet returns the set for sum, or ENOTFOUND. It may read an
	// index that lags the store by moments.
	RenditionSet(ctx context.Context, sum string) (*RenditionSet, error)
	// UpdateRenditionSet changes the set for sum under a revision check,
	// creating it from an empty one when there is none; fn's error is
	// returned as is.
	UpdateRenditionSet(ctx context.Context, sum string, fn func(s *RenditionSet) error) (*RenditionSet, error)
	// DeleteRenditionSet removes the set for sum; none is no error.
	DeleteRenditionSet(ctx context.Context, sum string) error
	// RenditionBlobKeys returns the blob key of every stored rendition,
	// read from the store itself (no index that may lag), for the sweep.
	RenditionBlobKeys(ctx context.Context) (map[string]bool, error)
	// RenditionSets returns the sets of sums it knows, without a round
	// trip to the store: what a view of a package shows, which may lag
	// the store by moments.
	RenditionSets(ctx context.Context, sums []string) map[string]*RenditionSet
}

// RenditionJob asks for the renditions of one stored blob.
type RenditionJob struct {
	SHA256      string `json:"sha256"`
	BlobKey     string `json:"blobkey"`
	ContentType string `json:"contenttype"`
}

// RenditionQueue carries rendition jobs durably: each is done by one
// worker of one replica, and again after a worker died with it.
type RenditionQueue interface {
	// Enqueue adds a job; a job for the same content already queued is
	// not added twice.
	Enqueue(ctx context.Context, job RenditionJob) error
}

// MadeRendition is one rendition as the maker made it, in a local file.
type MadeRendition struct {
	Rendition
	// Path is the file when the rendition is ready.
	Path string
}

// RenditionMaker makes the renditions of a local file.
type RenditionMaker interface {
	// Plan names the renditions an asset of contentType gets.
	Plan(contentType string) []string
	// Make makes each planned rendition of src into dir, one result per
	// planned name, and reads the media's facts.
	Make(ctx context.Context, src, contentType, dir string) ([]MadeRendition, MediaFacts)
}

// renditionStale is how long a set may stay pending before an upload of
// the same bytes queues its job again: longer than the work queue's
// duplicate window (10 minutes) and than any job takes.
const renditionStale = 15 * time.Minute

// planRenditions records pending renditions for newly stored content and
// queues the job; content that has a set already keeps it. Failures are
// logged: the asset is stored, and the set can be made again by the next
// upload of the same bytes.
func (s *Service) planRenditions(ctx context.Context, a *Asset) {
	if s.renditionQueue == nil || s.renditionMaker == nil {
		return
	}
	names := s.renditionMaker.Plan(a.ContentType)
	if len(names) == 0 {
		return
	}
	created := false
	_, err := s.catalog.UpdateRenditionSet(ctx, a.SHA256, func(set *RenditionSet) error {
		created = false
		if len(set.Renditions) > 0 && set.BlobKey == a.BlobKey {
			if set.Done() || s.now().Sub(set.Updated) < renditionStale {
				return errUnchanged
			}
			// Pending for long: its job was never queued (NATS failed
			// then) or was lost; this upload of the same bytes queues it
			// again, past the queue's duplicate window.
			created = true
			set.Updated = s.now().UTC()
			return nil
		}
		created = true
		*set = RenditionSet{SHA256: a.SHA256, ContentType: a.ContentType, BlobKey: a.BlobKey, Updated: s.now().UTC()}
		for _, n := range names {
			set.Renditions = append(set.Renditions, Rendition{Name: n, State: RenditionPending})
		}
		return nil
	})
	if errors.Is(err, errUnchanged) || err == nil && !created {
		return
	}
	if err != nil {
		s.logger.Warn("record pending renditions", "sha256", a.SHA256, "err", err)
		return
	}
	if err := s.renditionQueue.Enqueue(ctx, RenditionJob{SHA256: a.SHA256, BlobKey: a.BlobKey, ContentType: a.ContentType}); err != nil {
		s.logger.Warn("queue renditions", "sha256", a.SHA256, "err", err)
	}
}

// MakeRenditions does one rendition job: it copies the blob to the
// scratch disk, makes its renditions there, stores each ready one as a
// blob of its own and records the set. A job whose content is gone by now
// (purged meanwhile) is done: nothing is made, nothing stays. It returns
// an error only when the job should be tried again (the stores did not
// answer), unless last says this was its last try: then what is still
// pending is recorded as failed, so nothing waits forever. A file the
// maker cannot read is a finished job with failed renditions.
func (s *Service) MakeRenditions(ctx context.Context, job RenditionJob, last bool) error {
	err := s.makeRenditions(ctx, job)
	if err == nil || !last {
		return err
	}
	s.logger.Error("renditions failed for good", "sha256", job.SHA256, "err", err)
	_, ferr := s.catalog.UpdateRenditionSet(ctx, job.SHA256, func(set *RenditionSet) error {
		if set.BlobKey != job.BlobKey {
			return errUnchanged
		}
		for i := range set.Renditions {
			if r := &set.Renditions[i]; r.State == RenditionPending {
				r.State, r.Reason = RenditionFailed, "the hub's storage did not answer while this was made; upload the file again to try once more"
			}
		}
		set.Updated = s.now().UTC()
		return nil
	})
	if ferr != nil && !errors.Is(ferr, errUnchanged) {
		return fmt.Errorf("record failed renditions of %s: %w", job.SHA256, ferr)
	}
	return nil
}

func (s *Service) makeRenditions(ctx context.Context, job RenditionJob) error {
	if s.renditionMaker == nil || s.scratch == nil {
		return nil
	}
	if _, err := s.catalog.RenditionSet(ctx, job.SHA256); ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return fmt.Errorf("read renditions of %s: %w", job.SHA256, err)
	}
	dir, remove, err := s.scratch.Workspace(s.ids.New())
	if err != nil {
		return fmt.Errorf("rendition scratch: %w", err)
	}
	defer remove()
	src := filepath.Join(dir, "source")
	if err := s.copyBlob(ctx, job.BlobKey, src); ErrorCode(err) == ENOTFOUND {
		return nil // purged meanwhile
	} else if err != nil {
		return err
	}
	made, facts := s.renditionMaker.Make(ctx, src, job.ContentType, dir)

	var stored []Rendition
	var keys []string // blobs stored for this job, to remove if it cannot be recorded
	for _, m := range made {
		r := m.Rendition
		if r.State == RenditionReady {
			key := s.ids.New()
			d, err := s.storeFile(ctx, key, m.Path)
			if err != nil {
				for _, k := range keys {
					s.deleteBlob(context.WithoutCancel(ctx), k)
				}
				return fmt.Errorf("store rendition %s of %s: %w", r.Name, job.SHA256, err)
			}
			keys = append(keys, key)
			r.BlobKey, r.SHA256, r.Size = key, d.SHA256, d.Size
		}
		stored = append(stored, r)
	}
	var replaced []string
	_, err = s.catalog.UpdateRenditionSet(ctx, job.SHA256, func(set *RenditionSet) error {
		replaced = nil
		if set.BlobKey != job.BlobKey {
			return errUnchanged // the content went and came back: another job owns it
		}
		for _, r := range set.Renditions {
			if r.BlobKey != "" {
				replaced = append(replaced, r.BlobKey)
			}
		}
		set.Renditions, set.Facts, set.Updated = slices.Clone(stored), facts, s.now().UTC()
		return nil
	})
	if errors.Is(err, errUnchanged) || ErrorCode(err) == ENOTFOUND {
		for _, k := range keys {
			s.deleteBlob(context.WithoutCancel(ctx), k)
		}
		return nil
	} else if err != nil {
		for _, k := range keys {
			s.deleteBlob(context.WithoutCancel(ctx), k)
		}
		return fmt.Errorf("record renditions of %s: %w", job.SHA256, err)
	}
	for _, k := range replaced {
		s.deleteBlob(context.WithoutCancel(ctx), k) // a job done twice: the first's blobs
	}
	// The content may have been purged while the job ran: then its set is
	// forgotten by now, or is about to be; look again so no rendition
	// outlives it.
	if !s.contentRecorded(ctx, job.SHA256) {
		s.forgetRenditions(context.WithoutCancel(ctx), job.SHA256)
		return nil
	}
	return nil
}

// contentRecorded reports whether a blob record for sum exists.
func (s *Service) contentRecorded(ctx context.Context, sum string) bool {
	_, err := s.catalog.UpdateBlob(ctx, sum, func(*BlobRecord) error { return errUnchanged })
	return ErrorCode(err) != ENOTFOUND
}

// forgetRenditions removes content sum's renditions and their blobs.
func (s *Service) forgetRenditions(ctx context.Context, sum string) {
	set, err := s.catalog.RenditionSet(ctx, sum)
	if err != nil {
		if ErrorCode(err) != ENOTFOUND {
			s.logger.Error("read renditions to delete", "sha256", sum, "err", err)
		}
		return
	}
	if err := s.catalog.DeleteRenditionSet(ctx, sum); err != nil {
		s.logger.Error("delete renditions", "sha256", sum, "err", err)
		return
	}
	for _, r := range set.Renditions {
		if r.BlobKey != "" {
			s.deleteBlob(ctx, r.BlobKey)
		}
	}
}

// copyBlob writes the blob under key to a new file at path.
func (s *Service) copyBlob(ctx context.Context, key, path string) error {
	r, err := s.blobs.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("read blob %s: %w", key, err)
	}
	defer r.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("rendition scratch: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("copy blob %s to scratch: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("copy blob %s to scratch: %w", key, err)
	}
	return nil
}

// storeFile stores the file at path as blob key.
func (s *Service) storeFile(ctx context.Context, key, path string) (Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Digest{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Digest{}, err
	}
	return s.putHashed(ctx, key, f, info.Size())
}

// AssetRendition returns rendition name of an asset that Asset returned
// (so one the caller may download), when it is ready; ENOTFOUND saying
// where it stands otherwise.
func (s *Service) AssetRendition(ctx context.Context, a *Asset, name string) (*Rendition, error) {
	sum := a.RenditionSum()
	sets := s.catalog.RenditionSets(ctx, []string{sum})
	set := sets[sum]
	if set == nil {
		set, _ = s.catalog.RenditionSet(ctx, sum) // another replica made it a moment ago
	}
	var r *Rendition
	if set != nil {
		r = set.Rendition(name)
	}
	switch {
	case r == nil:
		return nil, Errorf(ENOTFOUND, "asset %q has no rendition %q", a.Name, name)
	case r.State == RenditionPending:
		return nil, Errorf(ENOTFOUND, "the %s of asset %q is still being made; try again in a moment", name, a.Name)
	case r.State != RenditionReady:
		return nil, Errorf(ENOTFOUND, "the %s of asset %q is %s: %s", name, a.Name, r.State, r.Reason)
	}
	return r, nil
}

// OpenRendition opens a rendition's bytes.
func (s *Service) OpenRendition(ctx context.Context, a *Asset, r *Rendition) (Blob, error) {
	b, err := s.blobs.Open(ctx, r.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open %s of asset %s: %w", r.Name, a.Name, err)
	}
	return b, nil
}

// RenditionFileName is the download name of rendition r of asset name:
// "poster.jpg" gives "poster-thumbnail.jpg".
func RenditionFileName(name string, r *Rendition) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	ext := ".bin"
	switch r.ContentType {
	case "image/jpeg":
		ext = ".jpg"
	case "image/png":
		ext = ".png"
	case "video/mp4":
		ext = ".mp4"
	}
	return stem + "-" + r.Name + ext
}

// RenditionSets returns the renditions of p's assets by each asset's
// content sum (SHA256), as views show them: a credited asset's are those
// of the bytes it was credited from (Asset.RenditionSum).
func (s *Service) RenditionSets(ctx context.Context, p *Package) map[string]*RenditionSet {
	if p == nil || len(p.Assets) == 0 {
		return nil
	}
	sums := make([]string, 0, len(p.Assets))
	for _, a := range p.Assets {
		sums = append(sums, a.RenditionSum())
	}
	bySource := s.catalog.RenditionSets(ctx, sums)
	out := make(map[string]*RenditionSet, len(bySource))
	for _, a := range p.Assets {
		if set := bySource[a.RenditionSum()]; set != nil {
			out[a.SHA256] = set
		}
	}
	return out
}
