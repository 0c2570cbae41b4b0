package renditions

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Qualities of the JPEGs made.
const (
	thumbnailQuality = 80
	webQuality       = 85
)

// releasePixels is the size of a picture (4 megapixels: 6 MB decoded
// from a 4:2:0 JPEG, 16 MB as RGBA) from which its decoded pixels are
// handed back to the system as soon as the web picture is made, rather
// than when the collector gets to them.
const releasePixels = 4_000_000

// decoder reads one picture format; chosen from the sniffed type, never
// from what the bytes say they are.
type decoder struct {
	format string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

func decoderFor(base string) *decoder {
	switch base {
	case "image/jpeg", "image/pjpeg":
		return &decoder{"JPEG", jpeg.DecodeConfig, jpeg.Decode}
	case "image/png", "image/apng", "image/vnd.mozilla.apng":
		return &decoder{"PNG", png.DecodeConfig, png.Decode}
	case "image/gif":
		return &decoder{"GIF", gif.DecodeConfig, gif.Decode}
	case "image/webp":
		return &decoder{"WebP", webp.DecodeConfig, webp.Decode}
	case "image/tiff":
		return &decoder{"TIFF", tiff.DecodeConfig, tiff.Decode}
	case "image/bmp", "image/x-bmp", "image/x-ms-bmp":
		return &decoder{"BMP", bmp.DecodeConfig, bmp.Decode}
	}
	return nil
}

// picture makes a picture's thumbnail and web renditions in Go.
func (j *job) picture() {
	d := decoderFor(j.base)
	f, err := os.Open(j.src)
	if err != nil {
		j.failRest(j.reason("the picture could not be read", err))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		j.failRest(j.reason("the picture could not be read", err))
		return
	}
	size := st.Size()
	cfg, err := d.config(bufio.NewReader(io.NewSectionReader(f, 0, size)))
	if err != nil {
		j.failRest(j.reason("the picture could not be read", err))
		return
	}
	// What the header says decides, before any pixel is decoded, whether
	// decoding is affordable.
	info := headerInfo{bytesPerPixel: bytesPerPixel(cfg.ColorModel), orientation: 1}
	switch d.format {
	case "JPEG":
		info = jpegInfo(f, size)
	case "TIFF":
		info.orientation = tiffOrientation(f, size)
	}
	ow, oh := oriented(cfg.Width, cfg.Height, info.orientation)
	j.facts.Width, j.facts.Height = ow, oh
	if reason := j.m.tooLarge(cfg, info); reason != "" {
		j.failRest(reason)
		return
	}
	if !plausible(d.format, f, size, cfg) {
		j.failRest(fmt.Sprintf("the picture could not be read: its header claims %d x %d pixels, more than its %d bytes can hold (it is damaged, or made to exhaust memory)",
			cfg.Width, cfg.Height, size))
		return
	}
	if j.stopped() {
		return
	}
	img, err := d.decode(bufio.NewReader(io.NewSectionReader(f, 0, size)))
	if err != nil {
		j.failRest(j.reason("the picture could not be read", err))
		return
	}
	j.fromImage(img, info.orientation)
}

// fromImage makes the web rendition of img, turned upright by an EXIF
// orientation, and the thumbnail from that.
func (j *job) fromImage(img image.Image, orientation int) {
	b := img.Bounds()
	if b.Empty() {
		j.failRest("the picture has no pixels")
		return
	}
	ow, oh := oriented(b.Dx(), b.Dy(), orientation)
	// Scale first and turn the smaller picture.
	ww, wh := fit(ow, oh, WebSize)
	sw, sh := oriented(ww, wh, orientation)
	web := orient(resize(img, sw, sh), orientation)
	if int64(b.Dx())*int64(b.Dy()) >= releasePixels {
		// The decoded picture is garbage from here on (the thumbnail is
		// made from web). Left to the collector's pacing, its pages stay
		// in the heap, and count towards the next heap goal, while the
		// next uploads' buffers and the next picture's pixels are
		// allocated; collected now and handed back, they do not.
		// Measured on 12-megapixel JPEGs made one after the other: the
		// heap's peak 46 -> 25 MiB, the process's RSS peak 59 -> 43 MiB,
		// for one collection of a few milliseconds a picture.
		debug.FreeOSMemory()
	}
	alpha := !opaque(web)
	if r, err := j.writePicture(Web, web, alpha, webQuality); err != nil {
		j.fail(j.reason("the web picture could not be written", err), Web)
	} else {
		j.ready(Web, r)
	}
	if j.stopped() {
		return
	}
	tw, th := fit(ww, wh, ThumbnailSize)
	if r, err := j.writePicture(Thumbnail, resize(web, tw, th), alpha, thumbnailQuality); err != nil {
		j.fail(j.reason("the thumbnail could not be written", err), Thumbnail)
	} else {
		j.ready(Thumbnail, r)
	}
}

// thumbnailOf makes the thumbnail from a picture this package wrote (a
// poster).
func (j *job) thumbnailOf(path string) {
	f, err := os.Open(path)
	if err != nil {
		j.fail(j.reason("the thumbnail could not be made", err), Thumbnail)
		return
	}
	defer f.Close()
	img, err := jpeg.Decode(bufio.NewReader(f))
	if err != nil {
		j.fail(j.reason("the thumbnail could not be made", err), Thumbnail)
		return
	}
	b := img.Bounds()
	tw, th := fit(b.Dx(), b.Dy(), ThumbnailSize)
	if r, err := j.writePicture(Thumbnail, resize(img, tw, th), false, thumbnailQuality); err != nil {
		j.fail(j.reason("the thumbnail could not be written", err), Thumbnail)
	} else {
		j.ready(Thumbnail, r)
	}
}

// writePicture encodes img into dir as name.jpg, or name.png when it has
// transparency. Go's encoders write no metadata.
func (j *job) writePicture(name string, img *image.RGBA, alpha bool, quality int) (Result, error) {
	r := Result{ContentType: "image/jpeg", Width: img.Rect.Dx(), Height: img.Rect.Dy()}
	ext := ".jpg"
	if alpha {
		r.ContentType, ext = "image/png", ".png"
	}
	r.Path = filepath.Join(j.dir, name+ext)
	err := writeFile(r.Path, func(w io.Writer) error {
		if alpha {
			return png.Encode(w, img)
		}
		return jpeg.Encode(w, img, &jpeg.Options{Quality: quality})
	})
	return r, err
}

// writeFile writes a new file at path through write, removing it when
// that fails.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// headerInfo is what a picture's header says beyond image.Config.
type headerInfo struct {
	// bytesPerPixel is about what decoding takes, a pixel.
	bytesPerPixel float64
	orientation   int // EXIF orientation, 1 to 8
}

// tooLarge says why the header's claim is refused, or "". A picture may
// have at most MaxPixels pixels and MaxSide on a side, and need at most
// 4 bytes a pixel for MaxPixels pixels: 16-bit colour and progressive
// JPEGs are held to fewer pixels.
func (m *Maker) tooLarge(cfg image.Config, info headerInfo) string {
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return "the picture has no pixels"
	}
	limit := fmt.Sprintf("the hub decodes at most %d megapixels, %d on a side", m.maxPixels/1_000_000, MaxSide)
	if w > MaxSide || h > MaxSide || w*h > m.maxPixels {
		return fmt.Sprintf("the picture is too large to process: %d x %d pixels (%s)", w, h, limit)
	}
	if float64(w*h)*info.bytesPerPixel > 4*float64(m.maxPixels) {
		return fmt.Sprintf("the picture is too large to process: %d x %d pixels at its colour depth (%s, fewer in 16-bit colour or progressive JPEG)", w, h, limit)
	}
	return ""
}

// bytesPerPixel is what a decoded pixel of model takes.
func bytesPerPixel(model color.Model) float64 {
	switch model {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.Gray16Model:
		return 2
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.YCbCrModel:
		return 3
	}
	if _, ok := model.(color.Palette); ok {
		return 1
	}
	return 4
}

// plausible says whether a file of size bytes could hold the pixels its
// header claims, for the formats whose decoders allocate the whole
// picture before reading its data and whose compression is bounded: a
// deflate stream expands at most 1032 times (PNG), an uncompressed BMP
// not at all.
func plausible(format string, r io.ReaderAt, size int64, cfg image.Config) bool {
	w, h := int64(cfg.Width), int64(cfg.Height)
	switch format {
	case "PNG":
		var ihdr [29]byte
		if _, err := r.ReadAt(ihdr[:], 0); err != nil {
			return false
		}
		depth, colorType := int64(ihdr[24]), ihdr[25]
		channels := map[byte]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
		raw := h * (1 + (w*depth*channels+7)/8)
		return size*1032 >= raw
	case "BMP":
		var hdr [30]byte
		if _, err := r.ReadAt(hdr[:], 0); err != nil {
			return false
		}
		if binary.LittleEndian.Uint32(hdr[14:]) < 40 { // not a BITMAPINFOHEADER: x/image/bmp refuses it
			return true
		}
		bits := int64(binary.LittleEndian.Uint16(hdr[28:]))
		return size >= h*((w*bits+31)/32*4)
	}
	return true
}

// oriented is the size w x h shows at under an EXIF orientation (5 to 8
// turn it a quarter).
func oriented(w, h, orientation int) (int, int) {
	if orientation >= 5 && orientation <= 8 {
		return h, w
	}
	return w, h
}

// fit is the size of w x h scaled to fit in box x box, never up.
func fit(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, int(math.Round(float64(h)*float64(box)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(box)/float64(h)))), box
}

// opaque says whether every pixel of img is opaque.
func opaque(img *image.RGBA) bool {
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+img.Rect.Dx()*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xff {
				return false
			}
		}
	}
	return true
}

// kernelBudget is the most memory, in bytes, CatmullRom's intermediate
// buffer (32 bytes for each destination column of each source row) may
// take; beyond it resize uses ApproxBiLinear. Measured on a 12-megapixel
// JPEG's planes (4000 x 3000) to 1280 x 960, in CPU time: CatmullRom
// straight 880 ms and 128 MB; a box step (by 3) then CatmullRom 170 ms
// and 48 MB; the box step then ApproxBiLinear 80 ms and 7 MB. After the
// box step the source is within twice the destination, where bilinear
// does not alias, so the web picture of a large photo takes the last
// way, and thumbnails (small buffers) CatmullRom's sharper one.
const kernelBudget = 16 << 20

// resize scales src to w x h into a new RGBA picture. A source at least
// twice as large is first averaged down by a whole factor (a box filter:
// one cheap pass, no aliasing), then scaled the rest of the way with
// CatmullRom, or ApproxBiLinear when CatmullRom would take more than
// kernelBudget.
func resize(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	b := src.Bounds()
	if b.Dx() == w && b.Dy() == h {
		draw.Draw(dst, dst.Rect, src, b.Min, draw.Src)
		return dst
	}
	if k := min(b.Dx()/w, b.Dy()/h); k >= 2 {
		src = shrink(src, k)
		b = src.Bounds()
	}
	var scaler draw.Scaler = draw.CatmullRom
	if int64(w)*int64(b.Dy())*32 > kernelBudget {
		scaler = draw.ApproxBiLinear
	}
	scaler.Scale(dst, dst.Rect, src, b, draw.Src, nil)
	return dst
}

// shrink averages each k x k block of src into one pixel (what is left
// over at the right and bottom edges, less than k pixels, is dropped).
func shrink(src image.Image, k int) image.Image {
	k = min(k, 4096) // the sums stay within 32 bits
	if m, ok := src.(*image.YCbCr); ok {
		return shrinkYCbCr(m, k)
	}
	return shrinkRGBA(src, k)
}

// shrinkYCbCr averages the planes of a YCbCr picture (what JPEG decodes
// to) each by k: averaging commutes with the conversion to RGB, and the
// smaller picture keeps the scalers' fast paths.
func shrinkYCbCr(src *image.YCbCr, k int) *image.YCbCr {
	b := src.Bounds()
	dw, dh := b.Dx()/k, b.Dy()/k
	dst := image.NewYCbCr(image.Rect(0, 0, dw, dh), src.SubsampleRatio)
	shrinkPlane(dst.Y, dst.YStride, dw, dh, src.Y, src.YStride, b.Dx(), b.Dy(), k)
	cw, ch := (b.Dx()+1)/2, (b.Dy()+1)/2 // the source's chroma planes
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		cw, ch = b.Dx(), b.Dy()
	case image.YCbCrSubsampleRatio422:
		ch = b.Dy()
	case image.YCbCrSubsampleRatio440:
		cw = b.Dx()
	case image.YCbCrSubsampleRatio411:
		cw, ch = (b.Dx()+3)/4, b.Dy()
	case image.YCbCrSubsampleRatio410:
		cw = (b.Dx() + 3) / 4
	}
	dcw, dch := dst.CStride, len(dst.Cb)/max(1, dst.CStride)
	shrinkPlane(dst.Cb, dst.CStride, dcw, dch, src.Cb, src.CStride, cw, ch, k)
	shrinkPlane(dst.Cr, dst.CStride, dcw, dch, src.Cr, src.CStride, cw, ch, k)
	return dst
}

// shrinkPlane averages k x k blocks of the sw x sh plane src into the dw
// x dh plane dst; blocks past the source's edge repeat its last column
// and row.
func shrinkPlane(dst []uint8, dstStride, dw, dh int, src []uint8, srcStride, sw, sh, k int) {
	sum := make([]uint32, dw)
	n := uint32(k * k)
	for dy := 0; dy < dh; dy++ {
		clear(sum)
		for i := 0; i < k; i++ {
			sy := min(dy*k+i, sh-1)
			row := src[sy*srcStride : sy*srcStride+sw]
			for dx := range sum {
				x0 := dx * k
				if x0+k <= sw {
					var s uint32
					for _, v := range row[x0 : x0+k] {
						s += uint32(v)
					}
					sum[dx] += s
					continue
				}
				for j := 0; j < k; j++ {
					sum[dx] += uint32(row[min(x0+j, sw-1)])
				}
			}
		}
		out := dst[dy*dstStride : dy*dstStride+dw]
		for i, s := range sum {
			out[i] = uint8((s + n/2) / n)
		}
	}
}

// shrinkRGBA is shrink for every other picture, through premultiplied
// 8-bit RGBA.
func shrinkRGBA(src image.Image, k int) *image.RGBA {
	b := src.Bounds()
	dw, dh := b.Dx()/k, b.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	read := rowReader(src)
	row := make([]uint8, dw*k*4)
	sum := make([]uint64, dw*4)
	n := uint64(k * k)
	for dy := 0; dy < dh; dy++ {
		clear(sum)
		for i := 0; i < k; i++ {
			read(b.Min.Y+dy*k+i, row)
			for dx := 0; dx < dw; dx++ {
				s := sum[dx*4 : dx*4+4 : dx*4+4]
				p := row[dx*k*4 : (dx+1)*k*4]
				for q := 0; q+3 < len(p); q += 4 {
					s[0] += uint64(p[q])
					s[1] += uint64(p[q+1])
					s[2] += uint64(p[q+2])
					s[3] += uint64(p[q+3])
				}
			}
		}
		out := dst.Pix[dy*dst.Stride : dy*dst.Stride+dw*4]
		for i := range out {
			out[i] = uint8((sum[i] + n/2) / n)
		}
	}
	return dst
}

// rowReader returns a function that fills row with the first len(row)/4
// pixels of row y of src, as premultiplied 8-bit RGBA, quickly for the
// types the decoders return.
func rowReader(src image.Image) func(y int, row []uint8) {
	b := src.Bounds()
	switch m := src.(type) {
	case *image.YCbCr:
		return func(y int, row []uint8) {
			for i := 0; i+3 < len(row); i += 4 {
				x := b.Min.X + i/4
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				row[i], row[i+1], row[i+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				row[i+3] = 0xff
			}
		}
	case *image.RGBA:
		return func(y int, row []uint8) {
			copy(row, m.Pix[m.PixOffset(b.Min.X, y):])
		}
	case *image.NRGBA:
		return func(y int, row []uint8) {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for i := 0; i+3 < len(row) && i+3 < len(p); i += 4 {
				a := uint32(p[i+3])
				row[i] = uint8(uint32(p[i]) * a / 0xff)
				row[i+1] = uint8(uint32(p[i+1]) * a / 0xff)
				row[i+2] = uint8(uint32(p[i+2]) * a / 0xff)
				row[i+3] = uint8(a)
			}
		}
	case *image.Gray:
		return func(y int, row []uint8) {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for i := 0; i+3 < len(row) && i/4 < len(p); i += 4 {
				g := p[i/4]
				row[i], row[i+1], row[i+2], row[i+3] = g, g, g, 0xff
			}
		}
	case *image.Paletted:
		var pal [256][4]uint8
		for i, c := range m.Palette {
			if i >= len(pal) {
				break
			}
			r, g, bl, a := c.RGBA()
			pal[i] = [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}
		}
		return func(y int, row []uint8) {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for i := 0; i+3 < len(row) && i/4 < len(p); i += 4 {
				copy(row[i:i+4], pal[p[i/4]][:])
			}
		}
	case image.RGBA64Image:
		return func(y int, row []uint8) {
			for i := 0; i+3 < len(row); i += 4 {
				c := m.RGBA64At(b.Min.X+i/4, y)
				row[i], row[i+1], row[i+2], row[i+3] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8), uint8(c.A>>8)
			}
		}
	}
	return func(y int, row []uint8) {
		for i := 0; i+3 < len(row); i += 4 {
			r, g, bl, a := src.At(b.Min.X+i/4, y).RGBA()
			row[i], row[i+1], row[i+2], row[i+3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), uint8(a>>8)
		}
	}
}

// orient turns img upright under an EXIF orientation: 2 mirrors it, 3
// turns it half way, 4 flips it, 5 transposes it, 6 turns it a quarter
// clockwise, 7 transverses it, 8 turns it a quarter anticlockwise.
func orient(img *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return img
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	dw, dh := oriented(w, h, orientation)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for dy := 0; dy < dh; dy++ {
		for dx := 0; dx < dw; dx++ {
			var sx, sy int
			switch orientation {
			case 2:
				sx, sy = w-1-dx, dy
			case 3:
				sx, sy = w-1-dx, h-1-dy
			case 4:
				sx, sy = dx, h-1-dy
			case 5:
				sx, sy = dy, dx
			case 6:
				sx, sy = dy, h-1-dx
			case 7:
				sx, sy = w-1-dy, h-1-dx
			case 8:
				sx, sy = w-1-dy, dx
			}
			copy(dst.Pix[dy*dst.Stride+dx*4:dy*dst.Stride+dx*4+4], img.Pix[sy*img.Stride+sx*4:])
		}
	}
	return dst
}
