package scrub_test

// Helpers for the audio and video tests: files made by ffmpeg at test
// time, scrubbing them, and the oracles (exiftool, the raw bytes, ffmpeg's
// framemd5 of the packets, a full decode).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// avTestsrc is ffmpeg's input for a second of test video and sound.
func avTestsrc() []string {
	return []string{"-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine", "-t", "1"}
}

// avMake runs ffmpeg with args and the output file name, in a temporary
// directory, and returns the file's path.
func avMake(t testing.TB, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	args = append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)
	mediatest.Run(t, "ffmpeg", append(args, path)...)
	return path
}

// avResult is a scrub's output, also written to a file of the same name.
type avResult struct {
	in, out []byte
	rep     hub.ScrubReport
	path    string
}

// avScrub scrubs the file at path.
func avScrub(t testing.TB, s *scrub.Scrubber, path, contentType string, p hub.ScrubPolicy) (avResult, error) {
	t.Helper()
	in := mediatest.ReadFile(t, path)
	src := sourceOf(t, filepath.Base(path), in)
	var out bytes.Buffer
	res := avResult{in: in}
	err := s.Scrub(context.Background(), &out, src, contentType, p, &res.rep)
	res.out = out.Bytes()
	res.path = filepath.Join(t.TempDir(), filepath.Base(path))
	if werr := os.WriteFile(res.path, res.out, 0o600); werr != nil {
		t.Fatal(werr)
	}
	return res, err
}

// avMustScrub scrubs the file at path, failing on an error.
func avMustScrub(t testing.TB, s *scrub.Scrubber, path, contentType string, p hub.ScrubPolicy) avResult {
	t.Helper()
	res, err := avScrub(t, s, path, contentType, p)
	if err != nil {
		t.Fatalf("scrub %s: %v", filepath.Base(path), err)
	}
	return res
}

// avScrubBytes scrubs b in memory.
func avScrubBytes(s *scrub.Scrubber, b []byte, contentType string, p hub.ScrubPolicy) ([]byte, hub.ScrubReport, error) {
	var out bytes.Buffer
	var rep hub.ScrubReport
	err := s.Scrub(context.Background(), &out, memSourceOf(b), contentType, p, &rep)
	return out.Bytes(), rep, err
}

// avWithFFmpeg is a Scrubber that remuxes with the installed ffmpeg.
func avWithFFmpeg(t testing.TB) *scrub.Scrubber {
	return scrub.New(scrub.Options{FFmpeg: mediatest.Tool(t, "ffmpeg")})
}

// avPackets is ffmpeg's framemd5 of the packets of the streams maps
// select, copied, never decoded: the same means the same essence bytes
// with the same timing.
func avPackets(t testing.TB, path string, maps ...string) string {
	t.Helper()
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-i", path}
	for _, m := range maps {
		args = append(args, "-map", m)
	}
	return string(mediatest.Run(t, "ffmpeg", append(args, "-c", "copy", "-f", "framemd5", "-")...))
}

// avDecodes fails unless ffmpeg decodes every stream of path without an
// error and ffprobe reads it.
func avDecodes(t testing.TB, path string) {
	t.Helper()
	mediatest.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-map", "0", "-f", "null", "-")
	mediatest.Run(t, "ffprobe", "-v", "error", "-show_streams", path)
}

// avSameEssence checks that the scrubbed file has the packets of the
// original's streams (maps) and decodes.
func avSameEssence(t testing.TB, orig, scrubbed string, maps ...string) {
	t.Helper()
	want, got := avPackets(t, orig, maps...), avPackets(t, scrubbed, maps...)
	if want != got {
		t.Errorf("the packets changed:\n%s", avDiff(want, got))
	}
	avDecodes(t, scrubbed)
}

// avDiff is the first lines that differ between two texts.
func avDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var d []string
	for i := 0; i < max(len(al), len(bl)) && len(d) < 10; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			d = append(d, "- "+x, "+ "+y)
		}
	}
	return strings.Join(d, "\n")
}

// avSameFrames checks that the packets of the streams maps select are the
// same bytes, and with timing the same timestamps too, and that the file
// decodes. It ignores what framemd5 says of the codec headers and side
// data: Ogg's comment header is one, and a remux rewrites it without the
// tags; ffmpeg times an MP3's frames from the tags around them.
func avSameFrames(t testing.TB, orig, scrubbed string, timing bool, maps ...string) {
	t.Helper()
	packets := func(path string) []string {
		var h []string
		for _, line := range strings.Split(avPackets(t, path, maps...), "\n") {
			f := strings.Split(line, ",")
			if len(f) < 6 || strings.HasPrefix(line, "#") {
				continue
			}
			if f = f[:6]; !timing {
				f = f[4:]
			}
			h = append(h, strings.Join(f, ","))
		}
		return h
	}
	want, got := packets(orig), packets(scrubbed)
	if !slices.Equal(want, got) || len(want) == 0 {
		t.Errorf("the packets changed:\n%s", avDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
	avDecodes(t, scrubbed)
}

// avGone checks that none of values is in the output's bytes nor in what
// exiftool reads from it, and that exiftool finds none of the tags named.
func avGone(t testing.TB, res avResult, values []string, tags ...string) {
	t.Helper()
	for _, v := range values {
		if bytes.Contains(res.out, []byte(v)) {
			t.Errorf("%q is still in the bytes", v)
		}
	}
	for k, v := range mediatest.Tags(t, res.path) {
		s := fmt.Sprint(v)
		for _, p := range values {
			if strings.Contains(s, p) {
				t.Errorf("exiftool still reads %q in %s", p, k)
			}
		}
		_, name, _ := strings.Cut(k, ":")
		if slices.Contains(tags, name) && s != "" {
			t.Errorf("exiftool still finds %s (%v)", k, v)
		}
	}
}

// avKept checks that each value is still in the bytes.
func avKept(t testing.TB, res avResult, values ...string) {
	t.Helper()
	for _, v := range values {
		if !bytes.Contains(res.out, []byte(v)) {
			t.Errorf("%q was removed, and should be kept", v)
		}
	}
}

// avRemoved checks that the report lists each field as removed.
func avRemoved(t testing.TB, rep hub.ScrubReport, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if !slices.ContainsFunc(rep.Removed, func(r hub.Removal) bool { return r.Field == f }) {
			t.Errorf("the report does not list %q as removed: %+v", f, rep.Removed)
		}
	}
}

// avIdempotent checks that scrubbing the output again changes nothing.
func avIdempotent(t testing.TB, s *scrub.Scrubber, res avResult, contentType string, p hub.ScrubPolicy) {
	t.Helper()
	again, rep, err := avScrubBytes(s, res.out, contentType, p)
	if err != nil {
		t.Fatalf("scrub the output again: %v", err)
	}
	if !bytes.Equal(again, res.out) || len(rep.Removed) > 0 {
		t.Errorf("scrubbing the output again changed it (%d bytes, then %d) or removed %+v", len(res.out), len(again), rep.Removed)
	}
}

// avNotParsed checks that err is a *hub.NotParsedError.
func avNotParsed(t testing.TB, err error) {
	t.Helper()
	var np *hub.NotParsedError
	if !errors.As(err, &np) {
		t.Fatalf("got %v, want a NotParsedError", err)
	}
}

// avTestFuzz is a fuzz target's body: no panic, an error only of the kinds
// the caller expects, an output that scrubs to itself, and the input
// unchanged when the report lists nothing removed.
func avTestFuzz(t *testing.T, b []byte, contentType string) {
	s := scrub.New(scrub.Options{})
	for _, anon := range []bool{false, true} {
		p := hub.ScrubPolicy{Anonymized: anon}
		out, rep, err := avScrubBytes(s, b, contentType, p)
		var np *hub.NotParsedError
		switch {
		case errors.As(err, &np):
			continue
		case err != nil && hub.ErrorCode(err) == hub.EUNSUPPORTED:
			continue
		case err != nil:
			t.Fatalf("anonymized %v: %v", anon, err)
		}
		if len(rep.Removed) == 0 && !bytes.Equal(out, b) {
			t.Fatalf("anonymized %v: nothing removed, and the output (%d bytes) is not the input (%d)", anon, len(out), len(b))
		}
		again, rep2, err := avScrubBytes(s, out, contentType, p)
		if err != nil {
			t.Fatalf("anonymized %v: the output does not scrub again: %v", anon, err)
		}
		if !bytes.Equal(again, out) || len(rep2.Removed) > 0 {
			t.Fatalf("anonymized %v: scrubbing twice is not scrubbing once (removed %+v)", anon, rep2.Removed)
		}
	}
}

// Builders of small files in Go, for the tests without tools and the
// fuzz seeds.

// avBox is an ISO BMFF box.
func avBox(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	b = append(b, typ...)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// avLargeBox is a box with a 64-bit size.
func avLargeBox(typ string, parts ...[]byte) []byte {
	n := 16
	for _, p := range parts {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = append(b, typ...)
	b = binary.BigEndian.AppendUint64(b, uint64(n))
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// avFull is a full box's version and flags, then parts.
func avFull(version byte, parts ...[]byte) []byte {
	b := []byte{version, 0, 0, 0}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// avData is an iTunes data box holding text.
func avData(text string) []byte {
	return avBox("data", []byte{0, 0, 0, 1, 0, 0, 0, 0}, []byte(text))
}

func avBE32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}

// avSyntheticMP4 is a small MP4 with a video track named by its camera,
// times, and metadata in udta, an iTunes item list, QuickTime keys and an
// XMP uuid box; its essence is "ESSENCE-BYTES".
func avSyntheticMP4() []byte {
	entry := make([]byte, 78) // a visual sample entry's body
	copy(entry[42:], "\x0bGoPro H.264")
	keys := func(names ...string) []byte {
		b := avBE32(uint32(len(names)))
		for _, n := range names {
			b = append(b, avBox("mdta", []byte(n))...)
		}
		return avBox("keys", avFull(0, b))
	}
	times := avBE32(0xdeadbeef, 0xdeadbeef, 1000, 1000)
	moov := avBox("moov",
		avBox("mvhd", avFull(0, times, make([]byte, 80))),
		avBox("trak",
			avBox("tkhd", avFull(0, times, make([]byte, 64))),
			avBox("mdia",
				avBox("mdhd", avFull(0, times, []byte{0x2c, 0x3a, 0, 0})), // "kaz"
				avBox("hdlr", avFull(0, avBE32(0), []byte("vide"), make([]byte, 12), []byte("GoPro AVC\x00"))),
				avBox("minf", avBox("stbl", avBox("stsd", avFull(0, avBE32(1), avBox("avc1", entry))))))),
		avBox("udta",
			avBox("\xa9xyz", []byte{0, 18, 0x15, 0xc7}, []byte("+43.2416+076.9453/")),
			avBox("\xa9mak", []byte{0, 8, 0x15, 0xc7}, []byte("CamMakeX")),
			avLargeBox("\xa9swr", []byte{0, 10, 0x15, 0xc7}, []byte("SoftSecret")),
			avBox("meta", avFull(0,
				avBox("hdlr", avFull(0, avBE32(0), []byte("mdirappl"), make([]byte, 9))),
				avBox("ilst",
					avBox("\xa9nam", avData("TitleKeep")),
					avBox("\xa9ART", avData("ArtistAigerim")),
					avBox("covr", avData("COVERBYTES")))))),
		avBox("meta",
			avBox("hdlr", avFull(0, avBE32(0), []byte("mdta"), make([]byte, 13))),
			keys("com.apple.quicktime.location.ISO6709", "com.apple.quicktime.title"),
			avBox("ilst",
				avBox("\x00\x00\x00\x01", avData("+43.2416+076.9453/")),
				avBox("\x00\x00\x00\x02", avData("TitleKeep")))))
	var b []byte
	b = append(b, avBox("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41"))...)
	b = append(b, moov...)
	b = append(b, avBox("mdat", []byte("ESSENCE-BYTES"))...)
	b = append(b, avBox("uuid", []byte{0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8, 0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac},
		[]byte("<x:xmpmeta><dc:creator>XmpCreator</dc:creator></x:xmpmeta>"))...)
	return b
}

// avSyncsafe is n as an ID3v2 syncsafe integer.
func avSyncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}

// avID3Frame is an ID3v2.3 (major 3) or 2.4 frame.
func avID3Frame(major byte, id string, data []byte) []byte {
	b := []byte(id)
	if major == 4 {
		b = append(b, avSyncsafe(len(data))...)
	} else {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	}
	return append(append(b, 0, 0), data...)
}

// avID3 is an ID3v2 tag of frames with padding zero bytes after them.
func avID3(major, flags byte, padding int, frames ...[]byte) []byte {
	var body []byte
	for _, f := range frames {
		body = append(body, f...)
	}
	body = append(body, make([]byte, padding)...)
	return append(append([]byte{'I', 'D', '3', major, 0, flags}, avSyncsafe(len(body))...), body...)
}

// avMPEGFrames is n fake MPEG audio frames: a sync word and zeros.
func avMPEGFrames(n int) []byte {
	var b []byte
	for i := range n {
		f := make([]byte, 104)
		copy(f, []byte{0xff, 0xfb, 0x10, 0x64, byte(i)})
		b = append(b, f...)
	}
	return b
}

// avAPE is an APEv2 tag with a header and a footer.
func avAPE(items ...[2]string) []byte {
	var body []byte
	for _, it := range items {
		body = binary.LittleEndian.AppendUint32(body, uint32(len(it[1])))
		body = binary.LittleEndian.AppendUint32(body, 0)
		body = append(append(append(body, it[0]...), 0), it[1]...)
	}
	hf := func(header bool) []byte {
		b := []byte("APETAGEX")
		b = binary.LittleEndian.AppendUint32(b, 2000)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(body)+32))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(items)))
		flags := uint32(1 << 31)
		if header {
			flags |= 1 << 29
		}
		b = binary.LittleEndian.AppendUint32(b, flags)
		return append(b, make([]byte, 8)...)
	}
	return append(append(hf(true), body...), hf(false)...)
}

// avLyrics3 is a Lyrics3v2 tag of fields ("LYR", "la la").
func avLyrics3(fields ...[2]string) []byte {
	b := []byte("LYRICSBEGIN")
	for _, f := range fields {
		b = append(b, fmt.Sprintf("%s%05d%s", f[0], len(f[1]), f[1])...)
	}
	return append(b, fmt.Sprintf("%06dLYRICS200", len(b))...)
}

// avID3v1 is an ID3v1.1 tag.
func avID3v1(title, artist, year, comment string, track byte) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	copy(b[3:33], title)
	copy(b[33:63], artist)
	copy(b[93:97], year)
	copy(b[97:125], comment)
	b[126] = track
	b[127] = 12
	return b
}

// avSyntheticMP3 is a small MP3 with tags at both ends.
func avSyntheticMP3() []byte {
	var b []byte
	b = append(b, avID3(4, 0, 16,
		avID3Frame(4, "TIT2", []byte("\x03TitleKeep")),
		avID3Frame(4, "TPE1", []byte("\x03ArtistAigerim")),
		avID3Frame(4, "TCOP", []byte("\x03CopyKeep")),
		avID3Frame(4, "TXXX", []byte("\x03comment\x00CommentSecret")),
		avID3Frame(4, "APIC", []byte("\x00image/jpeg\x00\x03\x00COVERBYTES")),
		avID3Frame(4, "PRIV", []byte("XMP\x00<x:xmpmeta>XmpCreator</x:xmpmeta>")))...)
	b = append(b, avMPEGFrames(8)...)
	b = append(b, avAPE([2]string{"Title", "TitleKeep"}, [2]string{"Artist", "ApeArtist"})...)
	b = append(b, avLyrics3([2]string{"IND", "00"}, [2]string{"LYR", "la la"}, [2]string{"EAR", "LyrArtist"})...)
	return append(b, avID3v1("TitleKeep", "V1Artist", "2024", "V1Comment", 3)...)
}

// avChunk is a RIFF chunk, padded to an even size.
func avChunk(id string, data ...[]byte) []byte {
	var body []byte
	for _, d := range data {
		body = append(body, d...)
	}
	b := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// avRIFF is a RIFF WAVE file of chunks.
func avRIFF(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+len(body)))
	return append(append(b, "WAVE"...), body...)
}

// avFmt is a WAV fmt chunk: 8 kHz, mono, 16 bits.
func avFmt() []byte {
	b := []byte{1, 0, 1, 0}
	b = binary.LittleEndian.AppendUint32(b, 8000)
	b = binary.LittleEndian.AppendUint32(b, 16000)
	return avChunk("fmt ", append(b, 2, 0, 16, 0))
}

// avBext is a bext chunk (version 1) naming a recorder.
func avBext(description, originator, reference, date, codingHistory string) []byte {
	b := make([]byte, 602)
	copy(b[0:256], description)
	copy(b[256:288], originator)
	copy(b[288:320], reference)
	copy(b[320:338], date)
	binary.LittleEndian.PutUint64(b[338:346], 12345)
	b[346] = 1
	return avChunk("bext", b, []byte(codingHistory))
}

// avSyntheticWAV is a small WAV with every kind of metadata chunk.
func avSyntheticWAV() []byte {
	return avRIFF(
		avFmt(),
		avChunk("LIST", []byte("INFO"),
			avChunk("INAM", []byte("TitleKeep\x00")),
			avChunk("IART", []byte("ArtistAigerim\x00")),
			avChunk("ICMT", []byte("CommentSecret\x00")),
			avChunk("ISFT", []byte("SoftSecret\x00"))),
		avBext("DescSecret", "ZoomSecret", "USSECRETREF", "2024-03-0110:00:00", "A=PCM,T=ZoomH6Secret\r\n"),
		avChunk("iXML", []byte("<BWFXML><LOCATION_GPS>43.2416</LOCATION_GPS></BWFXML>")),
		avChunk("data", bytes.Repeat([]byte("PCM!"), 25)),
		avChunk("cue ", avBE32(0)),
		avChunk("_PMX", []byte("<x:xmpmeta>XmpCreator</x:xmpmeta>")))
}
