package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/disk"
)

// forgetPackageWrite undoes the package side of an upload of sum into
// package id, leaving its blob record as it is: the state a process
// killed between recording a blob and writing its package leaves.
func (d *domain) forgetPackageWrite(id, sum string) {
	d.t.Helper()
	_, err := d.catalog.UpdatePackage(d.t.Context(), id, func(p *hub.Package) error {
		p.Assets = nil
		for i, s := range p.Blobs {
			if s == sum {
				p.Blobs = append(p.Blobs[:i], p.Blobs[i+1:]...)
				break
			}
		}
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
}

// refs is the blob record's count for sum, 0 when there is none.
func (d *domain) refs(sum string) int {
	d.t.Helper()
	recs, err := d.catalog.BlobRecords(d.t.Context())
	if err != nil {
		d.t.Fatal(err)
	}
	return recs[sum].Refs
}

// sweepAt runs a sweep with the clock at at and returns what it did.
func (d *domain) sweepAt(at time.Time, grace time.Duration) hub.SweepReport {
	d.t.Helper()
	d.clock.Set(at)
	rep, err := d.svc.Sweep(d.t.Context(), grace)
	if err != nil {
		d.t.Fatal(err)
	}
	return rep
}

// TestSweepSettlesUnheldReferences: a blob record counting a reference no
// package holds (a kill between AcquireBlob and the package write) is
// noted by one sweep and corrected by a later one once nothing touched it
// for the grace; a blob left with no reference goes with its record, one
// other packages still hold stays with the right count.
func TestSweepSettlesUnheldReferences(t *testing.T) {
	const grace = time.Hour
	cases := []struct {
		name string
		// others is how many other packages hold the same content.
		others int
	}{
		{"new content no package holds", 0},
		{"shared content counted once too often", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDomain(t)
			producer := d.key(hub.Key{Role: hub.RoleProducer})
			for range c.others {
				p := d.draft(producer, "korgau123", "kk", "holder")
				d.upload(producer, p.ID, "poster.png", picture(1))
			}
			dead := d.draft(producer, "korgau123", "ru", "killed mid-upload")
			sum := d.upload(producer, dead.ID, "poster.png", picture(1)).SHA256
			d.forgetPackageWrite(dead.ID, sum)
			start := d.clock.Now()

			if rep := d.sweepAt(start, grace); rep.Unheld != 0 {
				t.Fatalf("first sweep corrected at once: %+v", rep)
			}
			if rep := d.sweepAt(start.Add(grace/2), grace); rep.Unheld != 0 || d.refs(sum) != c.others+1 {
				t.Fatalf("sweep within the grace corrected: %+v, refs %d", rep, d.refs(sum))
			}
			rep := d.sweepAt(start.Add(grace+2*time.Minute), grace)
			if rep.Unheld != 1 || d.refs(sum) != c.others {
				t.Fatalf("after the grace: %+v, refs %d, want 1 dropped and %d left", rep, d.refs(sum), c.others)
			}
			if want := min(c.others, 1); d.blobFiles() != want {
				t.Fatalf("%d blobs stored, want %d", d.blobFiles(), want)
			}
			if rep := d.sweepAt(start.Add(3*grace), grace); rep.Unheld != 0 || rep.Orphans != 0 {
				t.Fatalf("a later sweep found more: %+v", rep)
			}
		})
	}
}

// TestSweepNeverTakesAHeldReference: what is in flight around the sweeps
// never loses a package its bytes. An acquire after the note clears it, so
// the correction waits for another quiet grace; a delete whose package
// write landed between the note and the correction, and whose release is
// still to come, keeps its reference, because the sweep drops no more than
// neither sweep saw held.
func TestSweepNeverTakesAHeldReference(t *testing.T) {
	const grace = time.Hour
	ctx := t.Context()
	d := newDomain(t)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	holder := d.draft(producer, "korgau123", "kk", "holder")
	sum := d.upload(producer, holder.ID, "poster.png", picture(1)).SHA256
	dead := d.draft(producer, "korgau123", "ru", "killed mid-upload")
	d.upload(producer, dead.ID, "poster.png", picture(1))
	d.forgetPackageWrite(dead.ID, sum) // refs 2, held by 1
	start := d.clock.Now()
	d.sweepAt(start, grace)

	// An upload of the same content after the note.
	late := d.draft(producer, "korgau123", "ky", "late")
	d.upload(producer, late.ID, "poster.png", picture(1)) // refs 3, held by 2
	if rep := d.sweepAt(start.Add(grace+2*time.Minute), grace); rep.Unheld != 0 {
		t.Fatalf("corrected although an acquire came after the note: %+v", rep)
	}
	noted := start.Add(grace + 2*time.Minute)

	// A delete of late whose package write is in, its release not yet.
	_, err := d.catalog.UpdatePackage(ctx, late.ID, func(p *hub.Package) error { p.Blobs, p.Assets = nil, nil; return nil })
	if err != nil {
		t.Fatal(err)
	}
	rep := d.sweepAt(noted.Add(grace+2*time.Minute), grace)
	if rep.Unheld != 1 || d.refs(sum) != 2 {
		t.Fatalf("correction beside a delete in flight: %+v, refs %d, want 1 dropped and 2 left", rep, d.refs(sum))
	}
	if _, err := d.catalog.ReleaseBlob(ctx, sum); err != nil { // the delete lets go
		t.Fatal(err)
	}
	if d.refs(sum) != 1 || d.blobFiles() != 1 {
		t.Fatalf("after the delete let go: refs %d, %d blobs; want 1 and 1", d.refs(sum), d.blobFiles())
	}
	if err := d.svc.DeletePackage(ctx, producer, holder.ID); err != nil {
		t.Fatal(err)
	}
	if d.refs(sum) != 0 || d.blobFiles() != 0 {
		t.Fatalf("after the last holder went: refs %d, %d blobs; want none", d.refs(sum), d.blobFiles())
	}
}

// TestStalePendingRenditionsAreQueuedAgain: a set left pending (its job
// never queued) is queued again by the next upload of the same bytes,
// once it has waited longer than any job takes.
func TestStalePendingRenditionsAreQueuedAgain(t *testing.T) {
	d := newDomain(t)
	queue := &jobRecorder{}
	blobs, err := disk.Open(d.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	d.svc = hub.NewService(d.catalog, blobs, hub.ServiceOptions{Now: d.clock.Now, Announcer: d.sent,
		RenditionMaker: planOnly{}, RenditionQueue: queue})
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	a := d.draft(producer, "korgau123", "kk", "first")
	b := d.draft(producer, "korgau123", "ru", "second")
	d.upload(producer, a.ID, "poster.png", picture(1))
	d.upload(producer, b.ID, "poster.png", picture(1))
	if len(queue.jobs) != 1 {
		t.Fatalf("%d jobs for one content uploaded twice at once, want 1", len(queue.jobs))
	}
	d.clock.Set(d.clock.Now().Add(20 * time.Minute))
	c := d.draft(producer, "korgau123", "ky", "third")
	d.upload(producer, c.ID, "poster.png", picture(1))
	if len(queue.jobs) != 2 {
		t.Fatalf("%d jobs after the set stayed pending 20 minutes, want it queued again", len(queue.jobs))
	}
}

// jobRecorder is a hub.RenditionQueue that remembers what it was given.
type jobRecorder struct{ jobs []hub.RenditionJob }

func (q *jobRecorder) Enqueue(ctx context.Context, job hub.RenditionJob) error {
	q.jobs = append(q.jobs, job)
	return nil
}

// planOnly plans a thumbnail for everything and makes nothing.
type planOnly struct{}

func (planOnly) Plan(string) []string { return []string{"thumbnail"} }
func (planOnly) Make(context.Context, string, string, string) ([]hub.MadeRendition, hub.MediaFacts) {
	return nil, hub.MediaFacts{}
}
