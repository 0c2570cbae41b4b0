package api

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// zeros reads as n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

func (z *zeros) Close() error { return nil }

// tail keeps the last bytes written to it, and counts them all.
type tail struct {
	n   int64
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.n += int64(len(p))
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
	} else {
		t.buf = append(t.buf, p...)
		if len(t.buf) > t.max {
			t.buf = t.buf[len(t.buf)-t.max:]
		}
	}
	return len(p), nil
}

// tailReaderAt serves a stream of which only the tail is kept: enough for
// zip.NewReader, which reads the end records and the central directory.
type tailReaderAt struct{ t *tail }

func (r tailReaderAt) ReadAt(p []byte, off int64) (int, error) {
	start := r.t.n - int64(len(r.t.buf))
	if off < start {
		return 0, errors.New("read before the kept tail")
	}
	n := copy(p, r.t.buf[off-start:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestZipLengthIsExact checks the Content-Length computation against what
// is written, on the layouts that change the zip's structure: an empty
// package, small files, a file over 4 GiB (zip64 sizes and data
// descriptor) and a file starting beyond 4 GiB (zip64 offset, zip64 end
// records).
func TestZipLengthIsExact(t *testing.T) {
	when := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	pkg := func(sizes ...int64) *hub.Package {
		p := &hub.Package{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Campaign: "korgau123", Language: "kk", Version: 1,
			Status: hub.StatusReleased, VersionCreated: when, Headlines: []hub.Text{{Value: "Қазақша тақырып"}}}
		for i, s := range sizes {
			p.Assets = append(p.Assets, hub.Asset{Name: strings.Repeat("ә", i+1) + ".mp4", Size: s, Uploaded: when})
		}
		return p
	}
	open := func(a *hub.Asset) (io.ReadCloser, error) { return &zeros{a.Size}, nil }
	buf := make([]byte, 1<<20)
	cases := []struct {
		name  string
		sizes []int64
		long  bool
	}{
		{"no assets", nil, false},
		{"small", []int64{1, 1000, 3 << 20}, false},
		{"just under 4 GiB", []int64{1<<32 - 2}, true},
		{"over 4 GiB, then one beyond 4 GiB", []int64{10, 1<<32 + 1, 7}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.long && testing.Short() {
				t.Skip("writes 4 GiB; skipped with -short")
			}
			p := pkg(c.sizes...)
			z, err := newPackageZip(p, "https://hub.example.org")
			if err != nil {
				t.Fatal(err)
			}
			want, err := z.size(buf)
			if err != nil {
				t.Fatal(err)
			}
			out := &tail{max: 1 << 20}
			if err := z.write(out, open, buf); err != nil {
				t.Fatal(err)
			}
			if out.n != want {
				t.Fatalf("wrote %d bytes, Content-Length would say %d", out.n, want)
			}
			zr, err := zip.NewReader(tailReaderAt{out}, out.n)
			if err != nil {
				t.Fatalf("the zip's directory does not read: %v", err)
			}
			// manifest.json, ninjs.json and CREDITS.txt, then the assets.
			const metadata = 3
			if len(zr.File) != metadata+len(c.sizes) {
				t.Fatalf("%d entries, want %d", len(zr.File), metadata+len(c.sizes))
			}
			for i, s := range c.sizes {
				f := zr.File[metadata+i]
				if f.Name != p.Assets[i].Name || f.UncompressedSize64 != uint64(s) || f.CompressedSize64 != uint64(s) ||
					f.Method != zip.Store || f.CRC32 == 0 || !f.Modified.Equal(when) {
					t.Errorf("entry %d: %s, %d/%d bytes, method %d, crc %08x, modified %v", i, f.Name,
						f.CompressedSize64, f.UncompressedSize64, f.Method, f.CRC32, f.Modified)
				}
			}
		})
	}
	// Small enough to read back whole: every byte checks out.
	z, _ := newPackageZip(pkg(5, 70000), "https://hub.example.org")
	var b bytes.Buffer
	if err := z.write(&b, open, buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		rc.Close()
	}
}

// TestZipRefusesABlobOfTheWrongSize: the declared length would be wrong,
// so the zip breaks off instead of lying.
func TestZipRefusesABlobOfTheWrongSize(t *testing.T) {
	p := &hub.Package{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Version: 1, Assets: []hub.Asset{{Name: "a.mp4", Size: 100}}}
	z, err := newPackageZip(p, "https://hub.example.org")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	for _, n := range []int64{99, 101} {
		open := func(*hub.Asset) (io.ReadCloser, error) { return &zeros{n}, nil }
		if err := z.write(io.Discard, open, buf); err == nil {
			t.Errorf("a blob of %d bytes recorded as 100 was zipped without an error", n)
		}
	}
}
