package api

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// This file serves GET /v1/packages/{id}/archive.zip: the whole package as
// a zip, streamed from the blob store to the client (no temporary file, no
// asset held in memory), with an exact Content-Length so that clients show
// progress. The media go in stored, not recompressed; manifest.json (the
// package in the hub's profile, the version the caller sees), ninjs.json
// (the same in the strict ninjs form) and CREDITS.txt come first,
// deflated, so a download cut short still says what it was. They are in
// the plan like any entry, so size counts them.

// Names of the hub's own files in a zip. An asset taking one of them (in
// any case: Windows and macOS do not tell "Manifest.json" apart) keeps its
// name, and the hub's file takes hubFilePrefix: the manifest's asset names
// always match the files.
const (
	manifestName  = "manifest.json"
	strictName    = ninjs.StrictFileName
	creditsName   = "CREDITS.txt"
	hubFilePrefix = "hub-"
)

func (a *API) getArchive(c echo.Context) error {
	ctx := c.Request().Context()
	k := keyOf(c)
	p, err := a.svc.Archive(ctx, k, c.Param("id"))
	if err != nil {
		return err
	}
	z, err := newPackageZip(p, a.opts.PublicURL)
	if err != nil {
		return err
	}
	bp := a.copyBuffers.Get().(*[]byte)
	defer a.copyBuffers.Put(bp)
	size, err := z.size(*bp)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, ContentDisposition("attachment", hub.ArchiveName(p)))
	h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
	h.Set(echo.HeaderCacheControl, "private, no-cache")
	// The zip is made as it goes: no ranges (a resumed download starts over).
	h.Set("Accept-Ranges", "none")
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	defer a.archivePickedUp(c, p, z)
	open := func(asset *hub.Asset) (io.ReadCloser, error) { return a.svc.OpenAsset(ctx, asset) }
	if err := z.write(c.Response(), open, *bp); err != nil && ctx.Err() == nil {
		// Too late for an error answer: the connection is closed short of
		// the Content-Length, which every client reports as a failed
		// download. (A client that went away is no failure of the hub's.)
		return fmt.Errorf("zip of package %s broke off: %w", p.ID, err)
	}
	return nil
}

// archivePickedUp records a zip served to a partner, once at least a byte
// of it went out.
func (a *API) archivePickedUp(c echo.Context, p *hub.Package, z *packageZip) {
	if c.Response().Size == 0 {
		return
	}
	names := make([]string, 0, len(p.Assets))
	for _, e := range z.entries {
		if e.asset != nil {
			names = append(names, e.asset.Name)
		}
	}
	a.svc.RecordDownload(c.Request().Context(), keyOf(c), p,
		hub.Pickup{Kind: hub.PickupArchive, Assets: names, Bytes: c.Response().Size})
}

// packageZip is the plan of one package's zip: its entries, in order.
type packageZip struct {
	entries []zipEntry
}

// zipEntry is one file of the zip: a metadata file, deflated in memory
// beforehand (it is small), or an asset, streamed from the blob store.
type zipEntry struct {
	name     string
	modified time.Time
	// deflated and crc are a metadata file's compressed bytes and the
	// CRC-32 of its plain ones; size is the plain length.
	deflated []byte
	crc      uint32
	size     int64
	asset    *hub.Asset
}

func newPackageZip(p *hub.Package, publicURL string) (*packageZip, error) {
	item := ninjs.FromPackage(publicURL, p)
	manifest, err := json.MarshalIndent(item, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	manifest = append(manifest, '\n')
	strict, err := json.MarshalIndent(ninjs.Strict(item), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", strictName, err)
	}
	strict = append(strict, '\n')
	credits := []byte(hub.Credits(p, ninjs.PackageURL(publicURL, p.ID)))
	// Assets keep their names; a package made before today's name rules
	// may hold names that some system would save over each other or
	// refuse ("dup.png" and "DUP.png", "a:b.png"), and gets distinct,
	// valid ones in the zip.
	assetNames := make([]string, len(p.Assets))
	for i := range p.Assets {
		assetNames[i] = p.Assets[i].Name
	}
	files := hub.FileNames(assetNames)
	taken := map[string]bool{}
	for _, f := range files {
		taken[hub.NameKey(f)] = true
	}
	z := &packageZip{}
	for _, m := range []struct {
		name string
		body []byte
	}{{manifestName, manifest}, {strictName, strict}, {creditsName, credits}} {
		name := m.name
		for taken[hub.NameKey(name)] {
			name = hubFilePrefix + name
		}
		e, err := deflatedEntry(name, p.VersionCreated, m.body)
		if err != nil {
			return nil, err
		}
		z.entries = append(z.entries, e)
	}
	for i := range p.Assets {
		a := &p.Assets[i]
		z.entries = append(z.entries, zipEntry{name: files[i], modified: a.Uploaded, size: a.Size, asset: a})
	}
	return z, nil
}

func deflatedEntry(name string, modified time.Time, body []byte) (zipEntry, error) {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return zipEntry{}, err
	}
	if _, err := fw.Write(body); err != nil {
		return zipEntry{}, err
	}
	if err := fw.Close(); err != nil {
		return zipEntry{}, err
	}
	return zipEntry{name: name, modified: modified, deflated: buf.Bytes(), crc: crc32.ChecksumIEEE(body), size: int64(len(body))}, nil
}

// header returns the entry's zip header. Every entry goes in raw (the
// bytes as they are to be stored), so the layout depends on nothing but
// these headers and the sizes, and size can compute it exactly. An asset
// is stored as it is, with a data descriptor after it: its CRC-32 is
// known only once its bytes have passed, and write fills it in then.
func (e *zipEntry) header() *zip.FileHeader {
	fh := &zip.FileHeader{
		Name:               e.name,
		CreatorVersion:     20, // 2.0, MS-DOS attributes: no Unix modes to get wrong
		ReaderVersion:      20,
		UncompressedSize64: uint64(e.size),
		CompressedSize64:   uint64(e.size),
		Method:             zip.Store,
	}
	if e.deflated != nil {
		fh.Method, fh.CRC32, fh.CompressedSize64 = zip.Deflate, e.crc, uint64(len(e.deflated))
	} else {
		fh.Flags |= 0x8 // data descriptor
	}
	if fh.UncompressedSize64 >= 1<<32-1 || fh.CompressedSize64 >= 1<<32-1 {
		fh.ReaderVersion = 45 // zip64
	}
	// Names are UTF-8, and say so: Cyrillic and Kazakh names read back
	// right in any tool that honours the flag (all current ones do).
	if !isASCII(e.name) {
		fh.Flags |= 0x800
	}
	// The modification time both as MS-DOS fields (old tools) and as an
	// extended timestamp (UTC, what Info-ZIP and 7-Zip read), as
	// zip.Writer.CreateHeader writes them.
	t := e.modified.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	fh.Modified = t
	//lint:ignore SA1019 CreateRaw writes the MS-DOS time from these fields as given, not from Modified
	fh.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	//lint:ignore SA1019 as above
	fh.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	extra := make([]byte, 9)
	binary.LittleEndian.PutUint16(extra[0:], 0x5455) // extended timestamp
	binary.LittleEndian.PutUint16(extra[2:], 5)
	extra[4] = 1 // modification time only
	binary.LittleEndian.PutUint32(extra[5:], uint32(t.Unix()))
	fh.Extra = extra
	return fh
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// write streams the zip to w, reading each asset through open with buf.
func (z *packageZip) write(w io.Writer, open func(*hub.Asset) (io.ReadCloser, error), buf []byte) error {
	return z.writeTo(w, func(e *zipEntry, fw io.Writer) (uint32, error) {
		r, err := open(e.asset)
		if err != nil {
			return 0, err
		}
		defer r.Close()
		return copyExactly(fw, r, e.size, buf)
	})
}

// size returns the zip's exact length: the same headers written to a
// counter, each asset's bytes stood in for by as many of buf's (the
// writer stores them as they are, so only their number matters).
func (z *packageZip) size(buf []byte) (int64, error) {
	var n countingWriter
	err := z.writeTo(&n, func(e *zipEntry, fw io.Writer) (uint32, error) {
		for left := e.size; left > 0; {
			m := min(left, int64(len(buf)))
			if _, err := fw.Write(buf[:m]); err != nil {
				return 0, err
			}
			left -= m
		}
		return 0, nil
	})
	return int64(n), err
}

// writeTo writes the zip with body writing each asset's bytes and
// returning their CRC-32.
func (z *packageZip) writeTo(w io.Writer, body func(e *zipEntry, fw io.Writer) (uint32, error)) error {
	zw := zip.NewWriter(w)
	for i := range z.entries {
		e := &z.entries[i]
		fh := e.header()
		fw, err := zw.CreateRaw(fh)
		if err != nil {
			return fmt.Errorf("zip entry %s: %w", e.name, err)
		}
		if e.asset == nil {
			if _, err := fw.Write(e.deflated); err != nil {
				return err
			}
			continue
		}
		crc, err := body(e, fw)
		if err != nil {
			return fmt.Errorf("asset %s: %w", e.name, err)
		}
		// The data descriptor and the central directory are written from
		// fh when the next entry starts or the zip closes.
		fh.CRC32 = crc
	}
	return zw.Close()
}

// copyExactly copies size bytes from r to w through buf, returning their
// CRC-32. A blob shorter or longer than its recorded size is an error:
// the zip's declared length would be wrong.
func copyExactly(w io.Writer, r io.Reader, size int64, buf []byte) (uint32, error) {
	crc := crc32.NewIEEE()
	var done int64
	for done < size {
		n, err := r.Read(buf[:min(int64(len(buf)), size-done)])
		if n > 0 {
			crc.Write(buf[:n])
			if _, werr := w.Write(buf[:n]); werr != nil {
				return 0, werr
			}
			done += int64(n)
		}
		if err == io.EOF && done < size {
			return 0, fmt.Errorf("the stored blob ended after %d of %d bytes", done, size)
		} else if err != nil && err != io.EOF {
			return 0, err
		}
	}
	// One more byte would mean the blob is longer than recorded.
	if n, _ := r.Read(buf[:1]); n > 0 {
		return 0, fmt.Errorf("the stored blob is longer than its recorded %d bytes", size)
	}
	return crc.Sum32(), nil
}

// countingWriter counts what is written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
