package scrub_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"sync"
	"testing"

	"github.com/syndication-hub/hub/media/mediatest"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/scratch"
	"github.com/syndication-hub/hub/media/scrub"
)

// arriving is an upload still being received, as the hub scrubs it: the
// hub's scratch file, fed through a pipe that holds back its last byte
// until the scrubber has read something, so the scrub surely begins while
// bytes are still arriving.
type arriving struct {
	hub.SpooledUpload
	once  sync.Once
	first chan struct{}
}

func (a *arriving) ReadAt(p []byte, off int64) (int, error) {
	a.once.Do(func() { close(a.first) })
	return a.SpooledUpload.ReadAt(p, off)
}

func arrivingSource(t *testing.T, b []byte) *arriving {
	t.Helper()
	dir, err := scratch.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	spool, err := dir.Spool(t.Context(), "01ARRIVING", pr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	a := &arriving{SpooledUpload: spool, first: make(chan struct{})}
	go func() {
		for rest := b[:len(b)-1]; len(rest) > 0; {
			n := min(len(rest), 4<<10)
			pw.Write(rest[:n])
			rest = rest[n:]
		}
		<-a.first
		pw.Write(b[len(b)-1:])
		pw.Close()
	}()
	t.Cleanup(func() {
		pw.Close()
		spool.Close()
	})
	return a
}

// A file scrubbed while it arrives is scrubbed exactly as the whole file
// is; an MP4 whose movie header, after its media, shows a telemetry track
// asks to be scrubbed again once it is all there.
func TestScrubWhileArriving(t *testing.T) {
	t.Parallel()
	jpeg, _ := plantedJPEG(t, hub.ScrubPolicy{})
	cases := []struct {
		name, contentType string
		in                func(t *testing.T) []byte
		again             bool // ErrScrubAgain while arriving
	}{
		{"synthetic.mp4", "video/mp4", func(*testing.T) []byte { return avSyntheticMP4() }, false},
		{"planted.jpg", "image/jpeg", func(*testing.T) []byte { return jpeg }, false},
		{"moov-last.mp4", "video/mp4", func(t *testing.T) []byte { return mediatest.ReadFile(t, mp4Plant(t, "planted.mp4")) }, false},
		{"moov-first.mp4", "video/mp4", func(t *testing.T) []byte {
			return mediatest.ReadFile(t, avMake(t, "faststart.mp4", append(avTestsrc(), "-c:v", "libx264", "-c:a", "aac",
				"-metadata", "location=+43.2416+076.9453/", "-movflags", "+faststart")...))
		}, false},
		{"telemetry.mov", "video/quicktime", func(t *testing.T) []byte { return mediatest.ReadFile(t, mp4Telemetry(t)) }, true},
	}
	s := scrub.New(scrub.Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := c.in(t)
			for _, p := range []hub.ScrubPolicy{{}, {Anonymized: true}} {
				var whole bytes.Buffer
				var wholeRep hub.ScrubReport
				wholeErr := s.Scrub(t.Context(), &whole, sourceOf(t, c.name, in), c.contentType, p, &wholeRep)

				src := arrivingSource(t, in)
				var out bytes.Buffer
				var rep hub.ScrubReport
				err := s.Scrub(t.Context(), &out, src, c.contentType, p, &rep)
				if c.again {
					if !errors.Is(err, hub.ErrScrubAgain) {
						t.Fatalf("anonymized %v: %v, want ErrScrubAgain", p.Anonymized, err)
					}
					continue
				}
				if (err == nil) != (wholeErr == nil) {
					t.Fatalf("anonymized %v: arriving %v, whole %v", p.Anonymized, err, wholeErr)
				}
				if !bytes.Equal(out.Bytes(), whole.Bytes()) {
					t.Errorf("anonymized %v: %d bytes while arriving, %d from the whole file, not the same", p.Anonymized, out.Len(), whole.Len())
				}
				if !reflect.DeepEqual(rep, wholeRep) {
					t.Errorf("anonymized %v: report while arriving %+v, from the whole file %+v", p.Anonymized, rep, wholeRep)
				}
			}
		})
	}
}
