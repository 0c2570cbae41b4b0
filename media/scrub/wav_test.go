package scrub_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// wavInsert puts chunks into a WAV just before its data chunk and fixes
// the RIFF size.
func wavInsert(t *testing.T, path string, chunks ...[]byte) {
	t.Helper()
	b := mediatest.ReadFile(t, path)
	i := bytes.Index(b, []byte("data"))
	if i < 12 {
		t.Fatalf("no data chunk in %s", path)
	}
	var out []byte
	out = append(out, b[:i]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	out = append(out, b[i:]...)
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wavPlant makes a WAV with LIST INFO and bext written by ffmpeg, and an
// iXML chunk (odd-sized) and an XMP chunk added by hand.
func wavPlant(t *testing.T) string {
	t.Helper()
	path := avMake(t, "planted.wav", "-f", "lavfi", "-i", "sine", "-t", "1",
		"-metadata", "title=TitleKeep", "-metadata", "artist=ArtistAigerim", "-metadata", "comment=CommentSecret",
		"-metadata", "copyright=CopyKeep", "-metadata", "date=2024-03-01",
		"-write_bext", "1", "-metadata", "originator=ZoomSecret", "-metadata", "originator_reference=USSECRETREF",
		"-metadata", "coding_history=A=PCM,F=44100,W=16,M=mono,T=ZoomH6Secret", "-metadata", "description=DescSecret",
		"-metadata", "origination_date=2024-03-01", "-metadata", "origination_time=10:00:00", "-metadata", "time_reference=12345")
	wavInsert(t, path,
		avChunk("iXML", []byte("<BWFXML><LOCATION><LOCATION_GPS>43.2416, 76.9453</LOCATION_GPS></LOCATION></BWFXML>\x00")),
		avChunk("_PMX", []byte("<x:xmpmeta><dc:creator>XmpCreator</dc:creator></x:xmpmeta>")))
	return path
}

func TestScrubWAV(t *testing.T) {
	t.Parallel()
	path := wavPlant(t)
	s := scrub.New(scrub.Options{})
	p := hub.ScrubPolicy{Anonymized: true}
	res := avMustScrub(t, s, path, "audio/wav", p)
	avGone(t, res, []string{"ArtistAigerim", "CommentSecret", "ZoomSecret", "USSECRETREF", "ZoomH6Secret", "DescSecret",
		"43.2416", "XmpCreator", "2024", "Lavf"},
		"Artist", "Comment", "Originator", "OriginatorReference", "CodingHistory", "Description", "DateTimeOriginal", "Software", "DateCreated")
	avKept(t, res, "TitleKeep", "CopyKeep")
	if n := binary.LittleEndian.Uint32(res.out[4:8]); int(n) != len(res.out)-8 {
		t.Errorf("RIFF size %d, want %d", n, len(res.out)-8)
	}
	avSameEssence(t, path, res.path, "0:a")
	avRemoved(t, res.rep, "author", "comment", "software", "creation date", "broadcast originator", "recording device", "XMP metadata")
	avIdempotent(t, s, res, "audio/wav", p)

	// Not anonymized: the recorder goes, the names and dates stay.
	res = avMustScrub(t, s, path, "audio/wav", hub.ScrubPolicy{})
	avGone(t, res, []string{"ZoomSecret", "USSECRETREF", "ZoomH6Secret", "43.2416", "XmpCreator"}, "Originator", "CodingHistory")
	avKept(t, res, "ArtistAigerim", "CommentSecret", "DescSecret", "TitleKeep", "CopyKeep", "2024-03-01")
	if tags := mediatest.Tags(t, res.path); tags["RIFF:TimeReference"] == nil {
		t.Errorf("bext lost its time reference: %v", tags)
	}
	avSameEssence(t, path, res.path, "0:a")
	avIdempotent(t, s, res, "audio/wav", hub.ScrubPolicy{})
}

func TestScrubWAVNothingToRemove(t *testing.T) {
	t.Parallel()
	path := avMake(t, "clean.wav", "-f", "lavfi", "-i", "sine", "-t", "1", "-map_metadata", "-1", "-fflags", "+bitexact")
	s := scrub.New(scrub.Options{})
	for _, anon := range []bool{false, true} {
		res := avMustScrub(t, s, path, "audio/wav", hub.ScrubPolicy{Anonymized: anon})
		if !bytes.Equal(res.in, res.out) || len(res.rep.Removed) > 0 {
			t.Errorf("anonymized %v: a file with nothing to remove changed (removed %+v)", anon, res.rep.Removed)
		}
	}
}

func TestScrubWAVSynthetic(t *testing.T) {
	t.Parallel()
	in := avSyntheticWAV()
	s := scrub.New(scrub.Options{})
	for _, anon := range []bool{false, true} {
		p := hub.ScrubPolicy{Anonymized: anon}
		out, _, err := avScrubBytes(s, in, "audio/wav", p)
		if err != nil {
			t.Fatal(err)
		}
		gone := []string{"ZoomSecret", "USSECRETREF", "ZoomH6Secret", "43.2416", "XmpCreator"}
		kept := []string{"TitleKeep", string(avFmt()), string(avChunk("data", bytes.Repeat([]byte("PCM!"), 25))), string(avChunk("cue ", avBE32(0)))}
		if anon {
			gone = append(gone, "ArtistAigerim", "CommentSecret", "SoftSecret", "DescSecret", "2024-03-01")
		} else {
			kept = append(kept, "ArtistAigerim", "CommentSecret", "SoftSecret", "DescSecret", "2024-03-01")
		}
		for _, v := range gone {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("anonymized %v: %q is still there", anon, v)
			}
		}
		for _, v := range kept {
			if !bytes.Contains(out, []byte(v)) {
				t.Errorf("anonymized %v: %.20q was removed", anon, v)
			}
		}
		if n := binary.LittleEndian.Uint32(out[4:8]); int(n) != len(out)-8 {
			t.Errorf("anonymized %v: RIFF size %d, want %d", anon, n, len(out)-8)
		}
		again, rep, err := avScrubBytes(s, out, "audio/wav", p)
		if err != nil || !bytes.Equal(again, out) || len(rep.Removed) > 0 {
			t.Errorf("anonymized %v: not idempotent (%v, %+v)", anon, err, rep.Removed)
		}
	}
}

func TestScrubWAVNotParsed(t *testing.T) {
	t.Parallel()
	s := scrub.New(scrub.Options{})
	in := avSyntheticWAV()
	rf64 := bytes.Clone(in)
	copy(rf64, "RF64")
	past := bytes.Clone(in)
	binary.LittleEndian.PutUint32(past[4:8], uint32(len(in)))
	chunk := bytes.Clone(in)
	i := bytes.Index(chunk, []byte("data"))
	binary.LittleEndian.PutUint32(chunk[i+4:], 1<<20)
	for name, b := range map[string][]byte{"RF64": rf64, "RIFF size past the end": past, "chunk past the end": chunk, "truncated": in[:len(in)/2], "short": in[:10]} {
		_, _, err := avScrubBytes(s, b, "audio/wav", hub.ScrubPolicy{})
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		avNotParsed(t, err)
	}
	// Bytes after the RIFF chunk go; a single pad byte stays.
	tail := append(bytes.Clone(in), "ID3\x03\x00\x00\x00\x00\x00\x00"...)
	out, rep, err := avScrubBytes(s, tail, "audio/wav", hub.ScrubPolicy{})
	if err != nil || bytes.HasSuffix(out, []byte("ID3\x03\x00\x00\x00\x00\x00\x00")) {
		t.Errorf("an ID3 tag after the RIFF chunk stayed (%v, %+v)", err, rep.Removed)
	}
}

func FuzzScrubWAV(f *testing.F) {
	f.Add(avSyntheticWAV())
	f.Add(avRIFF(avFmt(), avChunk("data", []byte{1, 2, 3})))
	f.Add(avRIFF(avFmt(), avChunk("LIST", []byte("INFO"), avChunk("IART", []byte("x"))), avChunk("data", []byte{1})))
	f.Fuzz(func(t *testing.T, b []byte) { avTestFuzz(t, b, "audio/wav") })
}
