package credit_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/credit"
	"github.com/syndication-hub/hub/media/scrub"
)

type reviewSource struct {
	*bytes.Reader
	path string
}

func (s reviewSource) Size() int64  { return s.Reader.Size() }
func (s reviewSource) Path() string { return s.path }

// An XMP packet whose RDF is in the default namespace survives the scrub;
// crediting it must still give well-formed XML.
func TestDefaultNamespaceRDF(t *testing.T) {
	packet := `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><RDF xmlns="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><Description about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><Alt><li xml:lang="x-default">Sunset</li></Alt></dc:title></Description></RDF></x:xmpmeta><?xpacket end="w"?>`
	in := jpegBytes(t)
	seg := []byte{0xFF, 0xE1, 0, 0}
	payload := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), packet...)
	seg[2], seg[3] = byte((len(payload)+2)>>8), byte(len(payload)+2)
	seg = append(seg, payload...)
	file := append(append(append([]byte{}, in[:2]...), seg...), in[2:]...)

	p := filepath.Join(t.TempDir(), "in.jpg")
	os.WriteFile(p, file, 0o600)
	var scrubbed bytes.Buffer
	rep := &hub.ScrubReport{}
	if err := scrub.New(scrub.Options{}).Scrub(t.Context(), &scrubbed, reviewSource{bytes.NewReader(file), p}, "image/jpeg", hub.ScrubPolicy{}, rep); err != nil {
		t.Fatalf("scrub: %v", err)
	}
	if !bytes.Contains(scrubbed.Bytes(), []byte("Sunset")) {
		t.Skip("the scrubber removed the packet")
	}
	out, _ := write(t, "image/jpeg", scrubbed.Bytes(), hub.Credit{Credit: "Ann", CopyrightNotice: "(c) Ann"})
	i := bytes.Index(out, []byte("<x:xmpmeta"))
	j := bytes.Index(out, []byte("</x:xmpmeta>"))
	t.Logf("%s", out[max(i, 0):max(j, 0)])
	if i < 0 || j < 0 {
		t.Fatalf("no packet in the credited file")
	}
	xmp := out[i : j+len("</x:xmpmeta>")]
	d := xml.NewDecoder(bytes.NewReader(xmp))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("credited XMP is not well-formed: %v\n%s", err, xmp)
		}
	}
}

// A file the scrubber could not read is stored as received (a package that
// is not anonymized) and credited at release as it is.
func TestDefaultNamespaceRDFUnscrubbed(t *testing.T) {
	packet := `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><RDF xmlns="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><Description about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><Alt><li xml:lang="x-default">Sunset</li></Alt></dc:title></Description></RDF></x:xmpmeta><?xpacket end="w"?>`
	in := jpegBytes(t)
	payload := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), packet...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	seg = append(seg, payload...)
	file := append(append(append([]byte{}, in[:2]...), seg...), in[2:]...)
	out, _ := write(t, "image/jpeg", file, hub.Credit{Credit: "Ann", CopyrightNotice: "(c) Ann"})
	i := bytes.Index(out, []byte("<x:xmpmeta"))
	j := bytes.Index(out, []byte("</x:xmpmeta>"))
	xmp := out[i : j+len("</x:xmpmeta>")]
	if bytes.Contains(xmp, []byte("<:")) {
		t.Fatalf("credited XMP has element names with an empty prefix:\n%s", xmp)
	}
}

// manyChunks is a small PNG with n empty IDAT chunks before its IEND: a
// legal file the scrubber stores as it is.
func manyChunks(t *testing.T, n int) []byte {
	in := pngBytes(t)
	iend := len(in) - 12
	empty := []byte{0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E}
	var b bytes.Buffer
	b.Write(in[:iend])
	for range n {
		b.Write(empty)
	}
	b.Write(in[iend:])
	return b.Bytes()
}

// A PNG of many empty chunks is credited in memory that does not grow
// with them, and one of absurdly many is not parsed (released as it is).
func TestManyPNGChunks(t *testing.T) {
	for _, c := range []struct {
		chunks    int
		notParsed bool
	}{{400_000, false}, {2_000_000, true}} {
		in := manyChunks(t, c.chunks)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		changed, err := credit.Write(t.Context(), io.Discard, bytes.NewReader(in), int64(len(in)), "image/png", hub.Credit{Credit: "Ann"})
		runtime.ReadMemStats(&m1)
		var np *hub.NotParsedError
		if c.notParsed != errors.As(err, &np) || !c.notParsed && (err != nil || !changed) {
			t.Errorf("%d chunks: changed %v, %v", c.chunks, changed, err)
		}
		if alloc := (m1.TotalAlloc - m0.TotalAlloc) >> 20; alloc > 64 {
			t.Errorf("crediting a PNG of %d chunks (%d MB) allocated %d MB", c.chunks, len(in)>>20, alloc)
		}
	}
}
