package renditions_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/renditions"
	"github.com/syndication-hub/hub/media/tools"
)

// maker is a Maker with the tools installed here.
func maker(t testing.TB) *renditions.Maker {
	t.Helper()
	return renditions.New(renditions.Options{Tools: tools.Find()})
}

// results indexes Make's results by name, checking they follow Plan.
func results(t testing.TB, m *renditions.Maker, contentType string, rs []renditions.Result) map[string]renditions.Result {
	t.Helper()
	plan := m.Plan(contentType)
	if len(rs) != len(plan) {
		t.Fatalf("Make gave %d results for %s, Plan %v", len(rs), contentType, plan)
	}
	out := map[string]renditions.Result{}
	for i, r := range rs {
		if r.Name != plan[i] {
			t.Errorf("result %d is %q, Plan says %q", i, r.Name, plan[i])
		}
		switch r.State {
		case renditions.Ready:
			if r.Path == "" || r.Reason != "" {
				t.Errorf("%s: ready with path %q, reason %q", r.Name, r.Path, r.Reason)
			}
		case renditions.Failed, renditions.Unavailable:
			if r.Reason == "" || r.Path != "" {
				t.Errorf("%s: %s with path %q, reason %q", r.Name, r.State, r.Path, r.Reason)
			}
			if strings.Contains(r.Reason, "goroutine") || strings.Contains(r.Reason, ".go:") {
				t.Errorf("%s: the reason reads like a stack: %q", r.Name, r.Reason)
			}
		default:
			t.Errorf("%s: state %q is not final", r.Name, r.State)
		}
		out[r.Name] = r
	}
	return out
}

// ready checks that r was made as contentType at w x h and decodes.
func ready(t testing.TB, r renditions.Result, contentType string, w, h int) image.Image {
	t.Helper()
	if r.State != renditions.Ready {
		t.Fatalf("%s: %s: %s", r.Name, r.State, r.Reason)
	}
	if r.ContentType != contentType || r.Width != w || r.Height != h {
		t.Errorf("%s: %s %dx%d, want %s %dx%d", r.Name, r.ContentType, r.Width, r.Height, contentType, w, h)
	}
	f, err := os.Open(r.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	if "image/"+format != contentType {
		t.Errorf("%s: the file is %s, the result says %s", r.Name, format, contentType)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: the file is %dx%d, want %dx%d", r.Name, b.Dx(), b.Dy(), w, h)
	}
	return img
}

func failed(t testing.TB, r renditions.Result, state, reason string) {
	t.Helper()
	if r.State != state || !strings.Contains(r.Reason, reason) {
		t.Errorf("%s: %s %q, want %s with %q", r.Name, r.State, r.Reason, state, reason)
	}
}

// near says whether c is within tol of want in each channel.
func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, a := c.RGBA()
	d := func(x uint32, y uint8) bool { return math.Abs(float64(int(x>>8)-int(y))) <= float64(tol) }
	return d(r, want.R) && d(g, want.G) && d(b, want.B) && d(a, want.A)
}

func solid(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

func write(t testing.TB, name string, encode func(*os.File) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := encode(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeJPEG(t testing.TB, img image.Image) string {
	return write(t, "src.jpg", func(f *os.File) error { return jpeg.Encode(f, img, &jpeg.Options{Quality: 90}) })
}

// files lists what Make left in dir.
func files(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPlan(t *testing.T) {
	m := renditions.New(renditions.Options{})
	for contentType, want := range map[string][]string{
		"image/jpeg":               {"thumbnail", "web"},
		"IMAGE/PNG; charset=x":     {"thumbnail", "web"},
		"image/webp":               {"thumbnail", "web"},
		"image/tiff":               {"thumbnail", "web"},
		"image/bmp":                {"thumbnail", "web"},
		"image/gif":                {"thumbnail", "web"},
		"image/svg+xml":            {"thumbnail", "web"},
		"application/pdf":          {"thumbnail", "web"},
		"video/mp4":                {"thumbnail", "poster", "preview"},
		"video/x-unheard-of":       {"thumbnail", "poster", "preview"},
		"audio/mpeg":               {"waveform"},
		"text/plain":               nil,
		"application/octet-stream": nil,
		"":                         nil,
	} {
		if got := m.Plan(contentType); !slices.Equal(got, want) {
			t.Errorf("Plan(%q) = %v, want %v", contentType, got, want)
		}
	}
}

// TestPictures makes the renditions of a solid-colour picture in every
// format decoded in Go.
func TestPictures(t *testing.T) {
	colour := color.RGBA{200, 40, 90, 255}
	img := solid(1600, 800, colour)
	formats := map[string]func(*os.File) error{
		"image/jpeg": func(f *os.File) error { return jpeg.Encode(f, img, &jpeg.Options{Quality: 95}) },
		"image/png":  func(f *os.File) error { return png.Encode(f, img) },
		"image/gif": func(f *os.File) error {
			pal := image.NewPaletted(img.Rect, color.Palette{colour}) // all index 0
			return gif.Encode(f, pal, nil)
		},
		"image/bmp":  func(f *os.File) error { return bmp.Encode(f, img) },
		"image/tiff": func(f *os.File) error { return tiff.Encode(f, img, &tiff.Options{Compression: tiff.Deflate}) },
	}
	m := maker(t)
	for contentType, encode := range formats {
		t.Run(contentType, func(t *testing.T) {
			t.Parallel()
			src := write(t, "src", encode)
			dir := t.TempDir()
			rs, facts := m.Make(context.Background(), src, contentType, dir)
			byName := results(t, m, contentType, rs)
			if facts.Width != 1600 || facts.Height != 800 {
				t.Errorf("facts %+v", facts)
			}
			web := ready(t, byName["web"], "image/jpeg", 1280, 640)
			thumb := ready(t, byName["thumbnail"], "image/jpeg", 320, 160)
			for _, p := range []image.Point{{0, 0}, {160, 80}, {319, 159}} {
				if c := thumb.At(p.X, p.Y); !near(c, colour, 12) {
					t.Errorf("thumbnail at %v is %v, want %v", p, c, colour)
				}
			}
			if c := web.At(640, 320); !near(c, colour, 12) {
				t.Errorf("web at its centre is %v, want %v", c, colour)
			}
			if got := files(t, dir); !slices.Equal(got, []string{"thumbnail.jpg", "web.jpg"}) {
				t.Errorf("dir holds %v", got)
			}
		})
	}
}

func TestWebP(t *testing.T) {
	t.Parallel()
	mediatest.Tool(t, "ffmpeg")
	src := filepath.Join(t.TempDir(), "src.webp")
	mediatest.Run(t, "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=0x3060c0:size=800x600",
		"-frames:v", "1", "-c:v", "libwebp", "-lossless", "1", src)
	m := maker(t)
	rs, facts := m.Make(context.Background(), src, "image/webp", t.TempDir())
	byName := results(t, m, "image/webp", rs)
	if facts.Width != 800 || facts.Height != 600 {
		t.Errorf("facts %+v", facts)
	}
	ready(t, byName["web"], "image/jpeg", 800, 600)
	thumb := ready(t, byName["thumbnail"], "image/jpeg", 320, 240)
	if c := thumb.At(160, 120); !near(c, color.RGBA{0x30, 0x60, 0xc0, 0xff}, 12) {
		t.Errorf("thumbnail is %v", c)
	}
}

func TestPictureNeverUpscaled(t *testing.T) {
	m := maker(t)
	src := writeJPEG(t, solid(200, 120, color.White))
	rs, _ := m.Make(context.Background(), src, "image/jpeg", t.TempDir())
	byName := results(t, m, "image/jpeg", rs)
	ready(t, byName["web"], "image/jpeg", 200, 120)
	ready(t, byName["thumbnail"], "image/jpeg", 200, 120)
}

func TestTransparencyKeptAsPNG(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 800, 400)) // the left half green, the right transparent
	draw.Draw(img, image.Rect(0, 0, 400, 400), image.NewUniform(color.NRGBA{0, 180, 0, 255}), image.Point{}, draw.Src)
	src := write(t, "src.png", func(f *os.File) error { return png.Encode(f, img) })
	m := maker(t)
	rs, _ := m.Make(context.Background(), src, "image/png", t.TempDir())
	byName := results(t, m, "image/png", rs)
	ready(t, byName["web"], "image/png", 800, 400)
	thumb := ready(t, byName["thumbnail"], "image/png", 320, 160)
	if c := thumb.At(40, 80); !near(c, color.RGBA{0, 180, 0, 255}, 2) {
		t.Errorf("left of the thumbnail is %v", c)
	}
	if _, _, _, a := thumb.At(280, 80).RGBA(); a != 0 {
		t.Errorf("right of the thumbnail has alpha %d", a)
	}
}

// TestOrientation plants EXIF orientation 6 (and metadata) in a
// landscape JPEG with a red top-left and a green top-right corner with
// exiftool, patches the tag to each other orientation, and finds the
// corners where a viewer shows them. The renditions carry none of the
// metadata.
func TestOrientation(t *testing.T) {
	mediatest.Tool(t, "exiftool")
	red, green, blue := color.RGBA{230, 0, 0, 255}, color.RGBA{0, 200, 0, 255}, color.RGBA{0, 0, 230, 255}
	img := solid(400, 200, blue)
	for y := range 50 {
		for x := range 100 {
			img.Set(x, y, red)
			img.Set(399-x, y, green)
		}
	}
	planted := writeJPEG(t, img)
	mediatest.Plant(t, planted, "-Orientation#=6", "-Copyright=Campaign", "-Artist=Someone",
		"-GPSLatitude=43.2416", "-GPSLatitudeRef=N")
	data, err := os.ReadFile(planted)
	if err != nil {
		t.Fatal(err)
	}
	// The Orientation entry: tag 0x0112, SHORT, count 1, value 6.
	at, order := bytes.Index(data, []byte{0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6}), binary.ByteOrder(binary.BigEndian)
	if at < 0 {
		at, order = bytes.Index(data, []byte{0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0}), binary.LittleEndian
	}
	if at < 0 {
		t.Fatal("exiftool wrote no Orientation entry the test can find")
	}
	// Where each corner of the thumbnail (160 x 320 turned, 320 x 160
	// not) shows red and green.
	const tl, tr, bl, br = 0, 1, 2, 3
	for orientation, want := range map[int][2]int{
		1: {tl, tr}, 2: {tr, tl}, 3: {br, bl}, 4: {bl, br},
		5: {tl, bl}, 6: {tr, br}, 7: {br, tr}, 8: {bl, tl},
	} {
		t.Run(fmt.Sprint(orientation), func(t *testing.T) {
			order.PutUint16(data[at+8:], uint16(orientation))
			src := write(t, "src.jpg", func(f *os.File) error { _, err := f.Write(data); return err })
			m := maker(t)
			rs, facts := m.Make(context.Background(), src, "image/jpeg", t.TempDir())
			byName := results(t, m, "image/jpeg", rs)
			w, h := 320, 160
			if orientation >= 5 {
				w, h = 160, 320
			}
			if facts.Width != w*400/320 || facts.Height != h*400/320 {
				t.Errorf("facts %dx%d, want it as shown", facts.Width, facts.Height)
			}
			ready(t, byName["web"], "image/jpeg", w*400/320, h*400/320)
			thumb := ready(t, byName["thumbnail"], "image/jpeg", w, h)
			corners := []image.Point{{w / 8, h / 8}, {w - w/8, h / 8}, {w / 8, h - h/8}, {w - w/8, h - h/8}}
			if c := thumb.At(corners[want[0]].X, corners[want[0]].Y); !near(c, red, 40) {
				t.Errorf("red is not at corner %d: %v", want[0], c)
			}
			if c := thumb.At(corners[want[1]].X, corners[want[1]].Y); !near(c, green, 40) {
				t.Errorf("green is not at corner %d: %v", want[1], c)
			}
			if orientation != 6 {
				return
			}
			for tag := range mediatest.Tags(t, byName["thumbnail"].Path) {
				group, _, _ := strings.Cut(tag, ":")
				if !slices.Contains([]string{"System", "File", "JFIF", "ExifTool", "Composite", "SourceFile"}, group) {
					t.Errorf("the thumbnail carries %s", tag)
				}
			}
		})
	}
}

// bombPNG is a PNG whose header claims w x h RGBA pixels, followed by
// size bytes of zeros as its data.
func bombPNG(t testing.TB, w, h uint32, size int) string {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", make([]byte, size))
	chunk("IEND", nil)
	return write(t, "bomb.png", func(f *os.File) error { _, err := f.Write(b.Bytes()); return err })
}

// TestDecompressionBombRefused: headers claiming more than the hub
// decodes are refused from the header, quickly, without allocating the
// picture.
func TestDecompressionBombRefused(t *testing.T) {
	m := maker(t)
	for _, c := range []struct {
		name   string
		w, h   uint32
		reason string
	}{
		{"50000 x 50000", 50000, 50000, "the picture is too large to process: 50000 x 50000 pixels"},
		{"60000 x 10", 60000, 10, "too large to process"},
		{"9000 x 9000 in 100 kB", 9000, 9000, "more than its"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := bombPNG(t, c.w, c.h, 100<<10)
			dir := t.TempDir()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			rs, facts := m.Make(context.Background(), src, "image/png", dir)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			for _, r := range results(t, m, "image/png", rs) {
				failed(t, r, renditions.Failed, c.reason)
			}
			if facts.Width != int(c.w) || facts.Height != int(c.h) {
				t.Errorf("facts %+v", facts)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("refusing it allocated %d bytes", alloc)
			}
			if elapsed > time.Second {
				t.Errorf("refusing it took %s", elapsed)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("dir holds %v", got)
			}
		})
	}
}

func TestMaxPixels(t *testing.T) {
	m := renditions.New(renditions.Options{MaxPixels: 1_000_000})
	src := writeJPEG(t, solid(2000, 1000, color.White))
	rs, _ := m.Make(context.Background(), src, "image/jpeg", t.TempDir())
	for _, r := range results(t, m, "image/jpeg", rs) {
		failed(t, r, renditions.Failed, "2000 x 1000 pixels (the hub decodes at most 1 megapixels")
	}
}

func TestDamagedPictures(t *testing.T) {
	var whole bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 1000, 800))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	if err := jpeg.Encode(&whole, img, nil); err != nil {
		t.Fatal(err)
	}
	m := maker(t)
	for _, c := range []struct {
		name, contentType string
		data              []byte
	}{
		{"truncated JPEG", "image/jpeg", whole.Bytes()[:whole.Len()/2]},
		{"JPEG header only", "image/jpeg", whole.Bytes()[:600]},
		{"noise as PNG", "image/png", bytes.Repeat([]byte{0x13, 0x37, 0xc0, 0xde}, 1000)},
		{"JPEG as WebP", "image/webp", whole.Bytes()},
		{"empty GIF", "image/gif", nil},
		{"truncated TIFF", "image/tiff", []byte("II*\x00\x08\x00\x00\x00\x05\x00")},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := write(t, "src", func(f *os.File) error { _, err := f.Write(c.data); return err })
			dir := t.TempDir()
			rs, _ := m.Make(context.Background(), src, c.contentType, dir)
			for _, r := range results(t, m, c.contentType, rs) {
				failed(t, r, renditions.Failed, "the picture could not be read")
				if strings.Contains(r.Reason, src) || strings.Contains(r.Reason, dir) {
					t.Errorf("the reason names the file: %q", r.Reason)
				}
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("dir holds %v", got)
			}
		})
	}
}

func TestSVGUnavailable(t *testing.T) {
	m := maker(t)
	src := write(t, "src.svg", func(f *os.File) error {
		_, err := f.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)
		return err
	})
	rs, _ := m.Make(context.Background(), src, "image/svg+xml", t.TempDir())
	for _, r := range results(t, m, "image/svg+xml", rs) {
		failed(t, r, renditions.Unavailable, "SVG")
	}
}

// minimalPDF is a one-page PDF, 200 x 100 points, white with a red
// rectangle in its middle half.
func minimalPDF() []byte {
	content := "1 0 0 rg 50 25 100 50 re f\n"
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

func TestPDF(t *testing.T) {
	t.Parallel()
	mediatest.Tool(t, "pdftoppm")
	src := write(t, "src.pdf", func(f *os.File) error { _, err := f.Write(minimalPDF()); return err })
	m := maker(t)
	dir := t.TempDir()
	rs, _ := m.Make(context.Background(), src, "application/pdf", dir)
	byName := results(t, m, "application/pdf", rs)
	web := ready(t, byName["web"], "image/jpeg", 1280, 640)
	thumb := ready(t, byName["thumbnail"], "image/jpeg", 320, 160)
	red, white := color.RGBA{255, 0, 0, 255}, color.RGBA{255, 255, 255, 255}
	if c := web.At(640, 320); !near(c, red, 16) {
		t.Errorf("the page's middle is %v", c)
	}
	if c := thumb.At(160, 80); !near(c, red, 16) {
		t.Errorf("the thumbnail's middle is %v", c)
	}
	if c := thumb.At(10, 10); !near(c, white, 16) {
		t.Errorf("the thumbnail's corner is %v", c)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"thumbnail.jpg", "web.jpg"}) {
		t.Errorf("dir holds %v", got)
	}
}

func TestDamagedPDF(t *testing.T) {
	t.Parallel()
	mediatest.Tool(t, "pdftoppm")
	src := write(t, "src.pdf", func(f *os.File) error { _, err := f.WriteString("%PDF-1.4\nnothing here\n"); return err })
	m := maker(t)
	dir := t.TempDir()
	rs, _ := m.Make(context.Background(), src, "application/pdf", dir)
	for _, r := range results(t, m, "application/pdf", rs) {
		failed(t, r, renditions.Failed, "the document could not be read")
		if strings.Contains(r.Reason, dir) || strings.Contains(r.Reason, src) {
			t.Errorf("the reason names a file: %q", r.Reason)
		}
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("dir holds %v", got)
	}
}

// makeVideo has ffmpeg make a test video of args into name.
func makeVideo(t testing.TB, name string, args ...string) string {
	t.Helper()
	mediatest.Tool(t, "ffmpeg")
	mediatest.Tool(t, "ffprobe")
	path := filepath.Join(t.TempDir(), name)
	mediatest.Run(t, "ffmpeg", append(append([]string{"-nostdin", "-loglevel", "error"}, args...), path)...)
	return path
}

func TestVideo(t *testing.T) {
	t.Parallel()
	src := makeVideo(t, "src.mp4", "-f", "lavfi", "-i", "testsrc=size=960x540:rate=10:duration=2",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")
	m := maker(t)
	dir := t.TempDir()
	rs, facts := m.Make(context.Background(), src, "video/mp4", dir)
	byName := results(t, m, "video/mp4", rs)
	if facts.Width != 960 || facts.Height != 540 || math.Abs(facts.Duration-2) > 0.2 ||
		facts.VideoCodec != "h264" || facts.AudioCodec != "aac" {
		t.Errorf("facts %+v", facts)
	}
	ready(t, byName["poster"], "image/jpeg", 960, 540)
	ready(t, byName["thumbnail"], "image/jpeg", 320, 180)
	preview := byName["preview"]
	if preview.State != renditions.Ready {
		t.Fatalf("preview: %s", preview.Reason)
	}
	if preview.ContentType != "video/mp4" || preview.Height != 480 || preview.Width < 852 || preview.Width > 854 ||
		math.Abs(preview.Duration-2) > 0.2 {
		t.Errorf("preview %+v", preview)
	}
	probe := string(mediatest.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", preview.Path))
	if strings.Fields(probe)[0] != "h264" || !strings.Contains(probe, "aac") {
		t.Errorf("the preview holds %q", probe)
	}
	data, err := os.ReadFile(preview.Path)
	if err != nil {
		t.Fatal(err)
	}
	if moov, mdat := bytes.Index(data, []byte("moov")), bytes.Index(data, []byte("mdat")); moov < 0 || moov > mdat {
		t.Errorf("the preview's index is not first (moov at %d, mdat at %d)", moov, mdat)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"poster.jpg", "preview.mp4", "thumbnail.jpg"}) {
		t.Errorf("dir holds %v", got)
	}
}

// TestSmallWebM: a small WebM without sound is read with the matroska
// demuxer and not upscaled.
func TestSmallWebM(t *testing.T) {
	t.Parallel()
	webm := makeVideo(t, "src.webm", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=1",
		"-c:v", "libvpx", "-deadline", "realtime", "-an")
	m := maker(t)
	rs, facts := m.Make(context.Background(), webm, "video/webm", t.TempDir())
	byName := results(t, m, "video/webm", rs)
	if facts.Width != 320 || facts.Height != 240 || facts.VideoCodec != "vp8" || facts.AudioCodec != "" {
		t.Errorf("facts %+v", facts)
	}
	ready(t, byName["poster"], "image/jpeg", 320, 240)
	ready(t, byName["thumbnail"], "image/jpeg", 320, 240)
	if p := byName["preview"]; p.State != renditions.Ready || p.Width != 320 || p.Height != 240 {
		t.Errorf("preview %+v", p)
	}
}

// TestRotatedVideo: a landscape video a phone marked as turned a quarter
// is shown upright (portrait), its facts too.
func TestRotatedVideo(t *testing.T) {
	t.Parallel()
	mediatest.Tool(t, "exiftool")
	rotated := makeVideo(t, "rotated.mov", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=10:duration=1",
		"-c:v", "libx264", "-preset", "ultrafast")
	mediatest.Plant(t, rotated, "-Rotation=90")
	m := maker(t)
	rs, facts := m.Make(context.Background(), rotated, "video/quicktime", t.TempDir())
	byName := results(t, m, "video/quicktime", rs)
	if facts.Width != 360 || facts.Height != 640 {
		t.Errorf("facts %+v: want the rotation applied", facts)
	}
	ready(t, byName["poster"], "image/jpeg", 360, 640)
	ready(t, byName["thumbnail"], "image/jpeg", 180, 320)
	if p := byName["preview"]; p.State != renditions.Ready || p.Width != 270 || p.Height != 480 {
		t.Errorf("preview %+v", p)
	}
}

func TestAudio(t *testing.T) {
	t.Parallel()
	for contentType, args := range map[string][]string{
		"audio/mpeg": {"-c:a", "libmp3lame", "-f", "mp3"},
		"audio/wav":  {"-f", "wav"},
	} {
		t.Run(contentType, func(t *testing.T) {
			t.Parallel()
			src := makeVideo(t, "src", append([]string{"-f", "lavfi", "-i", "sine=frequency=300:duration=2"}, args...)...)
			m := maker(t)
			rs, facts := m.Make(context.Background(), src, contentType, t.TempDir())
			byName := results(t, m, contentType, rs)
			if math.Abs(facts.Duration-2) > 0.2 || facts.AudioCodec == "" || facts.Width != 0 {
				t.Errorf("facts %+v", facts)
			}
			img := ready(t, byName["waveform"], "image/png", 1280, 200)
			if _, _, _, a := img.At(640, 100).RGBA(); a == 0 {
				t.Error("the waveform is empty in its middle")
			}
		})
	}
}

func TestUnreadableVideo(t *testing.T) {
	t.Parallel()
	mediatest.Tool(t, "ffprobe")
	m := maker(t)
	noise := make([]byte, 64<<10)
	for i := range noise {
		noise[i] = byte(i*31 + i/7)
	}
	for _, c := range []struct{ name, contentType, reason string }{
		{"noise as MP4", "video/mp4", "the video could not be read"},
		{"noise as WebM", "video/webm", "the video could not be read"},
		{"a type without a demuxer", "video/x-unheard-of", "the hub cannot read video/x-unheard-of videos"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := write(t, "src.mp4", func(f *os.File) error { _, err := f.Write(noise); return err })
			dir := t.TempDir()
			rs, _ := m.Make(context.Background(), src, c.contentType, dir)
			for _, r := range results(t, m, c.contentType, rs) {
				failed(t, r, renditions.Failed, c.reason)
				if strings.Contains(r.Reason, src) || strings.Contains(r.Reason, dir) || strings.Contains(r.Reason, "@ 0x") {
					t.Errorf("%s: the reason shows ffmpeg's internals: %q", r.Name, r.Reason)
				}
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("dir holds %v", got)
			}
		})
	}
}

// TestPlaylistDisguised: an HLS playlist or a concat script uploaded as a
// video or audio file must not make ffmpeg read a local file or fetch a
// URL: the demuxer forced from the sniffed type reads it as what it
// claims to be, and fails.
func TestPlaylistDisguised(t *testing.T) {
	t.Parallel()
	mediatest.Tool(t, "ffmpeg")
	mediatest.Tool(t, "ffprobe")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("root:x:0:0:root:/root:/bin/bash\n"))
	}))
	defer srv.Close()
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil || !bytes.Contains(passwd, []byte("root:")) {
		t.Skip("no /etc/passwd to be read")
	}
	secret := []byte("root:")
	hls := fmt.Sprintf("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"+
		"#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n%s/segment.ts\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n", srv.URL)
	concat := fmt.Sprintf("ffconcat version 1.0\nfile 'file:/etc/passwd'\nfile '%s/segment.ts'\n", srv.URL)
	m := maker(t)
	t.Run("as", func(t *testing.T) { // returns when its parallel subtests have
		playlistsDisguised(t, m, []string{hls, concat}, secret)
	})
	if n := hits.Load(); n != 0 {
		t.Errorf("ffmpeg fetched the playlist's URL %d times", n)
	}
}

func playlistsDisguised(t *testing.T, m *renditions.Maker, bodies []string, secret []byte) {
	for _, body := range bodies {
		for _, contentType := range []string{"video/mp4", "video/webm", "video/mp2t", "audio/mpeg"} {
			t.Run(strings.Fields(body)[0]+" as "+contentType, func(t *testing.T) {
				t.Parallel()
				src := write(t, "interview.mp4", func(f *os.File) error { _, err := f.WriteString(body); return err })
				dir := t.TempDir()
				rs, facts := m.Make(context.Background(), src, contentType, dir)
				for _, r := range results(t, m, contentType, rs) {
					if strings.HasPrefix(contentType, "video/") && r.State != renditions.Failed {
						t.Errorf("%s: %s, want failed", r.Name, r.State)
					}
					if strings.Contains(r.Reason, "root") {
						t.Errorf("%s: the reason shows the file: %q", r.Name, r.Reason)
					}
				}
				if facts.Duration > 0 && strings.HasPrefix(contentType, "video/") {
					t.Errorf("facts %+v", facts)
				}
				for _, name := range files(t, dir) {
					data, err := os.ReadFile(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(data, secret) {
						t.Errorf("%s holds what /etc/passwd does", name)
					}
				}
			})
		}
	}
}

// TestToolsMissing: without the tools, what needs them is unavailable;
// pictures, made in Go, are still made.
func TestToolsMissing(t *testing.T) {
	m := renditions.New(renditions.Options{Tools: tools.Tools{}})
	src := write(t, "src", func(f *os.File) error { _, err := f.WriteString("whatever"); return err })
	for contentType, tool := range map[string]string{
		"video/mp4":       "ffprobe",
		"audio/mpeg":      "ffmpeg",
		"application/pdf": "pdftoppm",
	} {
		rs, _ := m.Make(context.Background(), src, contentType, t.TempDir())
		for _, r := range results(t, m, contentType, rs) {
			failed(t, r, renditions.Unavailable, tool+" is not installed")
		}
	}
	pic := writeJPEG(t, solid(100, 100, color.White))
	rs, _ := m.Make(context.Background(), pic, "image/jpeg", t.TempDir())
	for _, r := range results(t, m, "image/jpeg", rs) {
		if r.State != renditions.Ready {
			t.Errorf("%s: %s: %s", r.Name, r.State, r.Reason)
		}
	}
}

func TestFFmpegMissing(t *testing.T) {
	t.Parallel()
	src := makeVideo(t, "src.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=1", "-c:v", "libx264", "-preset", "ultrafast")
	found := tools.Find()
	found.FFmpeg = ""
	m := renditions.New(renditions.Options{Tools: found})
	rs, facts := m.Make(context.Background(), src, "video/mp4", t.TempDir())
	for _, r := range results(t, m, "video/mp4", rs) {
		failed(t, r, renditions.Unavailable, "ffmpeg is not installed")
	}
	if facts.Width != 320 {
		t.Errorf("facts %+v: ffprobe should still have read them", facts)
	}
}

// TestNothingWaitsForever: a job over its time fails, and so does all of
// it when the caller gives up.
func TestNothingWaitsForever(t *testing.T) {
	t.Parallel()
	src := makeVideo(t, "src.mp4", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=1", "-c:v", "libx264", "-preset", "ultrafast")
	m := renditions.New(renditions.Options{Tools: tools.Find(), Timeout: time.Millisecond})
	rs, _ := m.Make(context.Background(), src, "video/mp4", t.TempDir())
	for _, r := range results(t, m, "video/mp4", rs) {
		if r.Name == "thumbnail" {
			failed(t, r, renditions.Failed, "made from the poster")
		} else {
			failed(t, r, renditions.Failed, "it took longer than the hub allows")
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, contentType := range []string{"video/mp4", "image/jpeg"} {
		dir := t.TempDir()
		rs, _ = maker(t).Make(ctx, src, contentType, dir)
		for _, r := range results(t, m, contentType, rs) {
			failed(t, r, renditions.Failed, "stopped")
		}
		if got := files(t, dir); len(got) != 0 {
			t.Errorf("dir holds %v", got)
		}
	}
}

func TestConcurrentMakes(t *testing.T) {
	m := maker(t)
	src := writeJPEG(t, solid(500, 400, color.RGBA{10, 20, 30, 255}))
	done := make(chan []renditions.Result)
	for range 4 {
		go func() {
			rs, _ := m.Make(context.Background(), src, "image/jpeg", t.TempDir())
			done <- rs
		}()
	}
	for range 4 {
		for _, r := range <-done {
			if r.State != renditions.Ready {
				t.Errorf("%s: %s", r.Name, r.Reason)
			}
		}
	}
}

// photo is a w x h picture with detail everywhere, like a photograph's:
// solid colour decodes faster than anything real.
func photo(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8((x*x+y*3)>>3) ^ uint8(x*y>>9)
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(i*13), uint8(i*7>>4)
	}
	return img
}

func benchmarkThumbnail(b *testing.B, w, h int) {
	src := writeJPEG(b, photo(w, h))
	m := maker(b)
	dir := b.TempDir()
	b.ReportAllocs()
	// CPU time too: on a shared machine wall time says more about the
	// neighbours.
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	for b.Loop() {
		rs, _ := m.Make(context.Background(), src, "image/jpeg", dir)
		for _, r := range rs {
			if r.State != renditions.Ready {
				b.Fatalf("%s: %s", r.Name, r.Reason)
			}
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assets/s")
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkThumbnail12MP makes the thumbnail and the web picture of a
// 12-megapixel JPEG (4000 x 3000); BenchmarkThumbnail1MP of a
// 1-megapixel one (1155 x 866), for the ratio.
func BenchmarkThumbnail12MP(b *testing.B) { benchmarkThumbnail(b, 4000, 3000) }

func BenchmarkThumbnail1MP(b *testing.B) { benchmarkThumbnail(b, 1155, 866) }
