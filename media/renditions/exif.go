package renditions

import (
	"bytes"
	"encoding/binary"
	"io"
)

// The header readers below look for two things, within bounds: the EXIF
// Orientation tag (0x0112), which the scrub keeps, and how much a JPEG's
// decoding will take. They never fail: what they cannot read is
// orientation 1, and the decoder has the last word on the file.

const (
	// jpegScanLimit is how far into a JPEG the segments before the first
	// scan are looked through.
	jpegScanLimit = 1 << 20
	// maxIFDEntries bounds the entries of one IFD read.
	maxIFDEntries  = 1024
	tagOrientation = 0x0112
)

// jpegInfo reads a JPEG's orientation and what decoding it takes from its
// segments before the first scan: a progressive JPEG keeps every
// coefficient (4 bytes a sample) besides the picture (a byte a sample).
func jpegInfo(r io.ReaderAt, size int64) headerInfo {
	info := headerInfo{bytesPerPixel: 3, orientation: 1}
	var b [4]byte
	if _, err := r.ReadAt(b[:2], 0); err != nil || b[0] != 0xff || b[1] != 0xd8 {
		return info
	}
	off := int64(2)
	for off+4 <= min(size, jpegScanLimit) {
		if _, err := r.ReadAt(b[:], off); err != nil || b[0] != 0xff {
			return info
		}
		marker := b[1]
		switch {
		case marker == 0xff: // fill byte
			off++
			continue
		case marker == 0x01 || marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7):
			off += 2
			continue
		case marker == 0xda || marker == 0xd9: // start of scan, end of image
			return info
		}
		length := int64(binary.BigEndian.Uint16(b[2:]))
		if length < 2 || off+2+length > size {
			return info
		}
		switch {
		case marker == 0xe1 && info.orientation == 1:
			seg := make([]byte, length-2)
			if _, err := r.ReadAt(seg, off+4); err != nil {
				return info
			}
			if tiff, ok := bytes.CutPrefix(seg, []byte("Exif\x00\x00")); ok {
				info.orientation = tiffOrientation(bytes.NewReader(tiff), int64(len(tiff)))
			}
		case marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			// A start of frame: P, Y, X, Nf, then Nf of (id, HV, Tq).
			seg := make([]byte, min(length-2, 6+3*255))
			if _, err := r.ReadAt(seg, off+4); err != nil {
				return info
			}
			if bpp := sampleBytes(seg); bpp > 0 {
				progressive := marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce
				if progressive {
					bpp *= 5
				}
				info.bytesPerPixel = bpp
			}
		}
		off += 2 + length
	}
	return info
}

// sampleBytes is how many samples a pixel of a JPEG frame has, over its
// components and their subsampling; 0 when the frame header is short.
func sampleBytes(sof []byte) float64 {
	if len(sof) < 6 {
		return 0
	}
	n := int(sof[5])
	if n == 0 || len(sof) < 6+3*n {
		return 0
	}
	hmax, vmax := 1, 1
	for i := range n {
		hv := sof[6+3*i+1]
		hmax, vmax = max(hmax, int(hv>>4)), max(vmax, int(hv&0x0f))
	}
	var sum float64
	for i := range n {
		hv := sof[6+3*i+1]
		sum += float64(int(hv>>4)*int(hv&0x0f)) / float64(hmax*vmax)
	}
	return sum
}

// tiffOrientation reads the Orientation tag of the first IFD of a TIFF
// structure (a TIFF file, or a JPEG's EXIF segment), 1 when there is none.
func tiffOrientation(r io.ReaderAt, size int64) int {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return 1
	}
	var order binary.ByteOrder
	switch string(hdr[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(order.Uint32(hdr[4:]))
	var count [2]byte
	if ifd < 8 || ifd+2 > size {
		return 1
	}
	if _, err := r.ReadAt(count[:], ifd); err != nil {
		return 1
	}
	n := min(int64(order.Uint16(count[:])), maxIFDEntries, (size-ifd-2)/12)
	entries := make([]byte, n*12)
	if _, err := r.ReadAt(entries, ifd+2); err != nil {
		return 1
	}
	for e := entries; len(e) >= 12; e = e[12:] {
		tag, typ, cnt := order.Uint16(e), order.Uint16(e[2:]), order.Uint32(e[4:])
		if tag != tagOrientation {
			continue
		}
		if typ != 3 || cnt < 1 { // SHORT
			return 1
		}
		if v := int(order.Uint16(e[8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
