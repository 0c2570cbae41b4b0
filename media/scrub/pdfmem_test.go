package scrub_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// TestPDFMemory measures the peak resident memory of scrubbing a PDF of
// about 200 MiB of JPEG images, in a process of its own, for the bound
// in pdf.go. It takes some seconds: HUB_PDF_MEMORY=1 runs it.
func TestPDFMemory(t *testing.T) {
	if path := os.Getenv("HUB_PDF_MEMORY_CHILD"); path != "" {
		pdfMemoryChild(t, path)
		return
	}
	if os.Getenv("HUB_PDF_MEMORY") != "1" {
		t.Skip("HUB_PDF_MEMORY=1 measures the memory a 200 MiB PDF takes")
	}
	for _, syntax := range []int64{0, 12 << 20} {
		path := filepath.Join(t.TempDir(), "big.pdf")
		size := bigPDF(t, path, 200<<20, syntax)
		pdfMemory(t, path, size, syntax)
	}
}

func pdfMemory(t *testing.T, path string, size, syntax int64) {
	what := fmt.Sprintf("images and %d MiB of small dictionaries", syntax>>20)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPDFMemory$", "-test.v")
	cmd.Env = append(os.Environ(), "HUB_PDF_MEMORY_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "peak") {
			t.Logf("%d MiB PDF of %s: %s", size>>20, what, strings.TrimSpace(line))
		}
	}
}

func pdfMemoryChild(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	before := vmHWM(t)
	// Reset the peak to what the process holds now.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("clear_refs: %v", err)
	}
	counter := &countWriter{}
	err = newScrubber().Scrub(context.Background(), counter, fileSource{File: f, size: st.Size()}, "application/pdf", docPolicy(true), &hub.ScrubReport{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS %d MiB scrubbing %d MiB (written %d MiB; %d MiB before)", vmHWM(t)>>20, st.Size()>>20, counter.n>>20, before>>20)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// bigPDF writes a PDF of about size bytes to path, streamed: one page per
// image, every image its own object, and document information to remove.
// syntax bytes of it are small dictionaries besides, which cost pdfcpu
// more memory than their bytes.
func bigPDF(t *testing.T, path string, size, syntax int64) int64 {
	img := image.NewRGBA(image.Rect(0, 0, 1200, 1200))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	img.Set(0, 0, color.White)
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	jp := jb.Bytes()
	pages := int(size/int64(len(jp))) + 1

	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &offsetWriter{w: bufio.NewWriterSize(f, 1<<20)}
	var offsets []int64
	obj := func(nr int, body ...any) {
		for len(offsets) < nr {
			offsets = append(offsets, 0)
		}
		offsets[nr-1] = w.n
		fmt.Fprintf(w, "%d 0 obj\n", nr)
		for _, b := range body {
			switch b := b.(type) {
			case []byte:
				w.Write(b)
			default:
				fmt.Fprint(w, b)
			}
		}
		io.WriteString(w, "\nendobj\n")
	}
	io.WriteString(w, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 pages, 3 info, 4 content; then image and page pairs.
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	var kids []string
	for i := range pages {
		kids = append(kids, fmt.Sprintf("%d 0 R", 6+2*i))
	}
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	obj(3, "<< /Author (Aigerim Kassymova) /Producer (LeakyPDF) >>")
	content := "q 500 0 0 500 50 50 cm /Im1 Do Q"
	obj(4, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := range pages {
		im, pg := 7+2*i, 6+2*i
		obj(pg, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 600] /Contents 4 0 R /Resources << /XObject << /Im1 %d 0 R >> >> >>", im))
		obj(im, fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 1200 /Height 1200 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n", len(jp)), jp, "\nendstream")
	}
	for nr, end := len(offsets)+1, w.n+syntax; w.n < end; nr++ {
		obj(nr, fmt.Sprintf("<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Contents (note %d) /T (A) >>", nr))
	}
	xref := w.n
	fmt.Fprintf(w, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(w, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(w, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	if err := w.w.Flush(); err != nil {
		t.Fatal(err)
	}
	return w.n
}

type offsetWriter struct {
	w *bufio.Writer
	n int64
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.n += int64(n)
	return n, err
}
