package scrub_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// memSource is a hub.ScrubSource in memory, for the fuzz targets (a file
// per execution would be the disk's benchmark, not the parser's).
type memSource struct{ *bytes.Reader }

func (memSource) Path() string { return "" }

func memSourceOf(b []byte) memSource { return memSource{bytes.NewReader(b)} }

// scrubBytes scrubs b as contentType.
func scrubBytes(ctx context.Context, contentType string, b []byte, p hub.ScrubPolicy) ([]byte, *hub.ScrubReport, error) {
	var out bytes.Buffer
	rep := &hub.ScrubReport{}
	err := scrub.New(scrub.Options{}).Scrub(ctx, &out, memSource{bytes.NewReader(b)}, contentType, p, rep)
	return out.Bytes(), rep, err
}

// scrubFile scrubs b through a scratch file, as the hub does.
func scrubFile(t *testing.T, name, contentType string, b []byte, p hub.ScrubPolicy) ([]byte, *hub.ScrubReport) {
	t.Helper()
	var out bytes.Buffer
	rep := &hub.ScrubReport{}
	if err := scrub.New(scrub.Options{}).Scrub(t.Context(), &out, sourceOf(t, name, b), contentType, p, rep); err != nil {
		t.Fatalf("scrub %s: %v", name, err)
	}
	return out.Bytes(), rep
}

// testICC is a small ICC profile exiftool reads (header and a cprt tag).
func testICC() []byte {
	text := append([]byte("text\x00\x00\x00\x00"), "Hub Test ICC Profile\x00"...)
	size := 128 + 4 + 12 + len(text)
	b := make([]byte, 128, size)
	binary.BigEndian.PutUint32(b[0:], uint32(size))
	copy(b[8:], []byte{2, 0x10, 0, 0}) // version 2.1
	copy(b[12:], "mntr")
	copy(b[16:], "RGB ")
	copy(b[20:], "XYZ ")
	copy(b[36:], "acsp")
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, "cprt"...)
	b = binary.BigEndian.AppendUint32(b, 128+4+12)
	b = binary.BigEndian.AppendUint32(b, uint32(len(text)))
	return append(b, text...)
}

// writeFile writes b into dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// planted is the identifying metadata the tests plant: exiftool arguments
// and the values that must not survive (searched for in the tags exiftool
// reads and in the raw bytes).
type planted struct {
	args   []string
	values []string
}

// identifying is what goes in every package, and what goes in anonymized
// ones only.
func identifying() (always, anonymized planted) {
	always = planted{
		args: []string{
			"-GPSLatitude=43.2416", "-GPSLatitudeRef=N", "-GPSLongitude=76.9180", "-GPSLongitudeRef=E",
			"-XMP-exif:GPSLatitude=43.2416 N", "-XMP-exif:GPSLongitude=76.9180 E",
			"-Make=Zorkicam", "-Model=ZK-9000X", "-SerialNumber=SN-77-4242", "-LensSerialNumber=LSN-31337",
			"-OwnerName=Aigerim Owner", "-HostComputer=aigerims-laptop", "-ImageUniqueID=0badc0ffee0ddf00d0badc0ffee0ddf0",
			"-XMP-photoshop:City=Almaty", "-XMP-xmpMM:DocumentID=xmp.did:5e1f00d-hub",
			"-XMP-xmpMM:InstanceID=xmp.iid:77aa-hub", "-XMP-xmpMM:HistorySoftwareAgent=HistoryAgent 25.0",
		},
		values: []string{"Zorkicam", "ZK-9000X", "SN-77-4242", "LSN-31337", "Aigerim Owner", "aigerims-laptop",
			"0badc0ffee0ddf00d0badc0ffee0ddf0", "Almaty", "5e1f00d-hub", "77aa-hub", "HistoryAgent", "43.2416", "43,14"},
	}
	anonymized = planted{
		args: []string{
			"-Artist=Aigerim Artist", "-XMP-dc:Creator=Dana Creator", "-DateTimeOriginal=2019:07:08 09:10:11",
			"-Software=SecretEditor 9.1", "-UserComment=met at the safe house", "-XMP-dc:Description=caption of the safe house",
		},
		values: []string{"Aigerim Artist", "Dana Creator", "2019:07:08", "2019-07-08", "SecretEditor", "safe house"},
	}
	return always, anonymized
}

// rightsArgs plants the credit, copyright and usage terms that must
// survive.
func rightsArgs() []string {
	return []string{
		"-XMP-photoshop:Credit=Hub Agency Credit", "-XMP-dc:Rights=(c) Hub Agency 2024",
		"-XMP-xmpRights:UsageTerms=Editorial use only",
	}
}

// leaks returns the tags exiftool read whose values hold any of values,
// and the values found in the raw bytes.
func leaks(t *testing.T, name string, out []byte, values []string) []string {
	t.Helper()
	tags := mediatest.TagsOf(t, name, out)
	var found []string
	for k, v := range tags {
		if strings.HasPrefix(k, "File:") || strings.HasPrefix(k, "System:") || k == "SourceFile" {
			continue
		}
		s := fmt.Sprint(v)
		for _, x := range values {
			if strings.Contains(s, x) {
				found = append(found, fmt.Sprintf("tag %s = %q holds %q", k, s, x))
			}
		}
		if strings.HasPrefix(k, "GPS:") || strings.HasPrefix(k, "Composite:GPS") || strings.Contains(k, ":GPS") {
			found = append(found, "tag "+k)
		}
	}
	for _, x := range values {
		if bytes.Contains(out, []byte(x)) {
			found = append(found, fmt.Sprintf("bytes hold %q", x))
		}
	}
	slices.Sort(found)
	return found
}

// tagGroups returns the tag names in groups with any of the prefixes.
func tagGroups(tags map[string]any, prefixes ...string) []string {
	var names []string
	for k := range tags {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	return names
}

// samePixels fails unless a and b decode to the same pixels.
func samePixels(t *testing.T, a, b []byte) {
	t.Helper()
	x, _, err := image.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("decoding the input: %v", err)
	}
	y, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the output: %v", err)
	}
	if !bytes.Equal(rgba(x).Pix, rgba(y).Pix) || x.Bounds() != y.Bounds() {
		t.Fatal("the output's pixels differ from the input's")
	}
}

func rgba(m image.Image) *image.RGBA {
	r := image.NewRGBA(m.Bounds())
	draw.Draw(r, r.Bounds(), m, m.Bounds().Min, draw.Src)
	return r
}

// removed returns the report's removals as "field (where)".
func removed(rep *hub.ScrubReport) []string {
	var s []string
	for _, r := range rep.Removed {
		s = append(s, r.Field+" ("+r.Where+")")
	}
	return s
}

// hasRemoved is whether the report removed field anywhere.
func hasRemoved(rep *hub.ScrubReport, field string) bool {
	for _, r := range rep.Removed {
		if r.Field == field {
			return true
		}
	}
	return false
}

// notParsed fails unless err is a NotParsed for format.
func notParsed(t *testing.T, err error, format string) {
	t.Helper()
	var np *hub.NotParsedError
	if !errors.As(err, &np) {
		t.Fatalf("got %v, want a NotParsed", err)
	}
	if np.Format != format {
		t.Fatalf("NotParsed for %q, want %q (%v)", np.Format, format, err)
	}
}

// idempotent fails unless scrubbing out again changes and removes nothing.
func idempotent(t testing.TB, contentType string, out []byte, p hub.ScrubPolicy) {
	t.Helper()
	again, rep, err := scrubBytes(context.Background(), contentType, out, p)
	if err != nil {
		t.Fatalf("scrubbing the output again: %v", err)
	}
	if len(rep.Removed) > 0 {
		t.Fatalf("scrubbing the output again removed %v", removed(rep))
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("scrubbing the output again changed it (%d bytes, then %d)", len(out), len(again))
	}
}
