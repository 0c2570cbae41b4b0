package scrub_test

import (
	"bytes"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// mp3Plant makes an MP3 with ID3v2.3 and ID3v1 tags and a cover picture
// that has a GPS position and a camera make of its own.
func mp3Plant(t *testing.T) string {
	t.Helper()
	cover := avMake(t, "cover.jpg", "-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1")
	mediatest.Plant(t, cover, "-GPSLatitude=43.2416", "-GPSLatitudeRef=N", "-Make=CoverCam")
	return avMake(t, "planted.mp3", "-f", "lavfi", "-i", "sine", "-i", cover, "-t", "1",
		"-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "copy", "-disposition:v", "attached_pic",
		"-metadata", "title=TitleKeep", "-metadata", "artist=ArtistAigerim", "-metadata", "comment=CommentSecret",
		"-metadata", "copyright=CopyKeep", "-metadata", "date=2024", "-id3v2_version", "3", "-write_id3v1", "1")
}

func TestScrubMP3(t *testing.T) {
	t.Parallel()
	path := mp3Plant(t)
	s := scrub.New(scrub.Options{})
	p := hub.ScrubPolicy{Anonymized: true}
	res := avMustScrub(t, s, path, "audio/mpeg", p)
	avGone(t, res, []string{"ArtistAigerim", "CommentSecret", "CoverCam", "Lavf"},
		"Artist", "Comment", "Picture", "Year", "EncoderSettings", "GPSLatitude", "Make")
	avKept(t, res, "TitleKeep", "CopyKeep")
	tags := mediatest.Tags(t, res.path)
	if tags["ID3v2_3:Title"] != "TitleKeep" || tags["ID3v1:Title"] != "TitleKeep" || tags["ID3v2_3:Copyright"] != "CopyKeep" {
		t.Errorf("the title and copyright did not stay: %v", tags)
	}
	avSameFrames(t, path, res.path, false, "0:a")
	avRemoved(t, res.rep, "author", "comment", "cover picture", "creation date", "software")
	avIdempotent(t, s, res, "audio/mpeg", p)

	// Not anonymized, the names, dates and comments stay; the picture goes.
	res = avMustScrub(t, s, path, "audio/mpeg", hub.ScrubPolicy{})
	avGone(t, res, []string{"CoverCam"}, "Picture", "GPSLatitude")
	avKept(t, res, "ArtistAigerim", "CommentSecret", "TitleKeep", "CopyKeep")
	avSameFrames(t, path, res.path, false, "0:a")
	avIdempotent(t, s, res, "audio/mpeg", hub.ScrubPolicy{})
}

func TestScrubMP3NothingToRemove(t *testing.T) {
	t.Parallel()
	path := avMake(t, "clean.mp3", "-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "libmp3lame", "-map_metadata", "-1",
		"-fflags", "+bitexact", "-id3v2_version", "0")
	s := scrub.New(scrub.Options{})
	for _, anon := range []bool{false, true} {
		res := avMustScrub(t, s, path, "audio/mpeg", hub.ScrubPolicy{Anonymized: anon})
		if !bytes.Equal(res.in, res.out) || len(res.rep.Removed) > 0 {
			t.Errorf("anonymized %v: a file with nothing to remove changed (removed %+v)", anon, res.rep.Removed)
		}
	}
}

// Tags at both ends, built in Go: ID3v2.4, APEv2, Lyrics3v2, ID3v1.1.
func TestScrubMP3Synthetic(t *testing.T) {
	t.Parallel()
	in := avSyntheticMP3()
	audio := avMPEGFrames(8)
	s := scrub.New(scrub.Options{})
	check := func(anon bool, gone, kept []string) []byte {
		t.Helper()
		out, rep, err := avScrubBytes(s, in, "audio/mpeg", hub.ScrubPolicy{Anonymized: anon})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range gone {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("anonymized %v: %q is still there", anon, v)
			}
		}
		for _, v := range append(kept, string(audio)) {
			if !bytes.Contains(out, []byte(v)) {
				t.Errorf("anonymized %v: %.20q was removed", anon, v)
			}
		}
		if len(rep.Removed) == 0 {
			t.Errorf("anonymized %v: nothing reported", anon)
		}
		again, rep2, err := avScrubBytes(s, out, "audio/mpeg", hub.ScrubPolicy{Anonymized: anon})
		if err != nil || !bytes.Equal(again, out) || len(rep2.Removed) > 0 {
			t.Errorf("anonymized %v: not idempotent (%v, %+v)", anon, err, rep2.Removed)
		}
		return out
	}
	out := check(true, []string{"ArtistAigerim", "CommentSecret", "COVERBYTES", "XmpCreator", "ApeArtist", "LyrArtist", "V1Artist", "V1Comment", "2024"},
		[]string{"TitleKeep", "CopyKeep", "TAG"})
	if v1 := out[len(out)-128:]; string(v1[:3]) != "TAG" || v1[126] != 3 || !bytes.HasPrefix(v1[3:], []byte("TitleKeep")) {
		t.Errorf("ID3v1 lost its title or track: %q", v1)
	}
	check(false, []string{"COVERBYTES", "XmpCreator"},
		[]string{"TitleKeep", "CopyKeep", "ArtistAigerim", "CommentSecret", "ApeArtist", "LyrArtist", "V1Artist", "V1Comment"})
}

func TestScrubMP3TagForms(t *testing.T) {
	t.Parallel()
	s := scrub.New(scrub.Options{})
	audio := avMPEGFrames(4)
	artist := avID3Frame(3, "TPE1", []byte("\x00ArtistAigerim"))
	title := avID3Frame(3, "TIT2", []byte("\x00TitleKeep"))
	// ID3v2.3 unsynchronised as a whole: its frames cannot be told apart,
	// so it goes whole.
	unsync := append(avID3(3, 0x80, 0, title, artist), audio...)
	out, rep, err := avScrubBytes(s, unsync, "audio/mpeg", hub.ScrubPolicy{})
	if err != nil || !bytes.Equal(out, audio) {
		t.Errorf("unsynchronised ID3v2.3: %v, %d bytes left", err, len(out))
	}
	avRemoved(t, rep, "ID3 tag")
	// ID3v2.4 with an extended header and a footer, and an ID3v2.2 tag.
	ext := []byte{0, 0, 0, 6, 1, 0}
	body := append(append(bytes.Clone(ext), avID3Frame(4, "TIT2", []byte("\x03TitleKeep"))...), avID3Frame(4, "TPE1", []byte("\x03ArtistAigerim"))...)
	v24 := append([]byte{'I', 'D', '3', 4, 0, 0x50}, avSyncsafe(len(body))...)
	v24 = append(append(v24, body...), append([]byte{'3', 'D', 'I', 4, 0, 0x50}, avSyncsafe(len(body))...)...)
	v22 := append([]byte{'I', 'D', '3', 2, 0, 0, 0, 0, 0, 32}, "TT2\x00\x00\x0a\x00TitleKeepTP1\x00\x00\x0a\x00ArtistAig"...)
	v22 = append(v22, make([]byte, 42-len(v22))...)
	for name, in := range map[string][]byte{"v2.4 ext+footer": append(v24, audio...), "v2.2": append(v22, audio...), "appended v2.4": append(bytes.Clone(audio), v24...)} {
		out, _, err := avScrubBytes(s, in, "audio/mpeg", hub.ScrubPolicy{Anonymized: true})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if bytes.Contains(out, []byte("ArtistAig")) || !bytes.Contains(out, audio) {
			t.Errorf("%s: % x", name, out[:min(len(out), 60)])
		}
		if name != "appended v2.4" && !bytes.Contains(out, []byte("TitleKeep")) {
			t.Errorf("%s: the title went", name)
		}
	}
	// Truncated tags and frames that run past their tag are not parsed.
	long := avID3(3, 0, 0, title)
	long[9] += 50
	past := avID3(3, 0, 0, title)
	past[10+7] = 200
	bad := []byte("ID3\x03\x00\x00\x00\x00\x80\x00")
	for name, in := range map[string][]byte{"tag past the end": long, "frame past its tag": append(past, audio...), "bad size": append(bad, audio...),
		"APE past the start": append(bytes.Clone(audio[:40]), avAPE([2]string{"Artist", "x"})[32:]...)} {
		_, _, err := avScrubBytes(s, in, "audio/mpeg", hub.ScrubPolicy{})
		avNotParsed(t, err)
		_ = name
	}
}

func FuzzScrubMP3(f *testing.F) {
	f.Add(avSyntheticMP3())
	f.Add(append(avID3(3, 0x80, 0, avID3Frame(3, "TIT2", []byte("\x00x"))), avMPEGFrames(2)...))
	f.Add(append(avMPEGFrames(2), avID3v1("a", "b", "2024", "c", 1)...))
	f.Fuzz(func(t *testing.T, b []byte) { avTestFuzz(t, b, "audio/mpeg") })
}
