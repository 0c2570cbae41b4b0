package scrub_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// mp4Planted is what mp4Plant plants that identifies.
func mp4Planted() []string {
	return []string{"43.2416", "76.9453", "CanonTest", "ModelTest", "SoftTest", "ArtistAigerim", "CommentSecret",
		"XmpCreator", "KeysMake", "KeysModel", "KeysSoft", "KeysAuthor", "2024-03-01", "2024:03:01"}
}

// mp4Identifying is what exiftool names the identifying tags.
func mp4Identifying() []string {
	return []string{"GPSCoordinates", "GPSLatitude", "GPSLongitude", "GPSPosition", "Make", "Model", "Software",
		"Artist", "Author", "Comment", "Creator", "CreationDate", "Encoder", "XMPToolkit"}
}

// mp4Plant makes a small video (or, for .m4a, audio) file and plants
// identifying metadata in it with exiftool.
func mp4Plant(t *testing.T, name string) string {
	t.Helper()
	var path string
	if strings.HasSuffix(name, ".m4a") {
		path = avMake(t, name, "-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "aac")
	} else {
		path = avMake(t, name, append(avTestsrc(), "-c:v", "libx264", "-c:a", "aac", "-metadata:s:a:0", "language=kaz")...)
	}
	mediatest.Plant(t, path,
		"-GPSCoordinates=43.2416, 76.9453, 800", "-Make=CanonTest", "-Model=ModelTest", "-Software=SoftTest",
		"-CreateDate=2024:03:01 10:00:00", "-Artist=ArtistAigerim", "-Comment=CommentSecret",
		"-XMP:Creator=XmpCreator", "-XMP-exif:GPSLatitude=43.2416", "-XMP-exif:GPSLongitude=76.9453",
		"-Keys:GPSCoordinates=43.2416, 76.9453", "-UserData:GPSCoordinates=43.2416, 76.9453",
		"-Keys:Make=KeysMake", "-Keys:Model=KeysModel", "-Keys:Software=KeysSoft",
		"-Keys:CreationDate=2024:03:01 10:00:00", "-Keys:Author=KeysAuthor",
		"-Title=TitleKeep", "-Copyright=CopyKeep")
	return path
}

func TestScrubMP4Anonymized(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, contentType string }{
		{"planted.mp4", "video/mp4"}, {"planted.mov", "video/quicktime"}, {"planted.m4a", "audio/x-m4a"},
	} {
		t.Run(c.contentType, func(t *testing.T) {
			path := mp4Plant(t, c.name)
			s := avWithFFmpeg(t)
			p := hub.ScrubPolicy{Anonymized: true}
			res := avMustScrub(t, s, path, c.contentType, p)
			if len(res.out) != len(res.in) {
				t.Errorf("box surgery changed the size: %d bytes, then %d", len(res.in), len(res.out))
			}
			avGone(t, res, mp4Planted(), mp4Identifying()...)
			avKept(t, res, "TitleKeep", "CopyKeep")
			tags := mediatest.Tags(t, res.path)
			for _, k := range []string{"QuickTime:CreateDate", "Track1:TrackCreateDate", "Track1:MediaCreateDate"} {
				if v, ok := tags[k]; ok && v != "0000:00:00 00:00:00" && v != float64(0) {
					t.Errorf("%s is %v, want zero", k, v)
				}
			}
			avSameEssence(t, path, res.path, "0")
			avRemoved(t, res.rep, "GPS position", "camera make and model", "software", "creation date", "author", "comment", "XMP metadata")
			if res.rep.Format == "" || len(res.rep.Kept) == 0 {
				t.Errorf("report %+v: want a format and what was kept", res.rep)
			}
			avIdempotent(t, s, res, c.contentType, p)
		})
	}
}

func TestScrubMOVKeepsNamesWhenNotAnonymized(t *testing.T) {
	t.Parallel()
	path := mp4Plant(t, "planted.mov")
	s := avWithFFmpeg(t)
	res := avMustScrub(t, s, path, "video/quicktime", hub.ScrubPolicy{})
	avGone(t, res, []string{"43.2416", "76.9453", "CanonTest", "ModelTest", "KeysMake", "KeysModel", "XmpCreator"},
		"GPSCoordinates", "GPSLatitude", "GPSPosition", "Make", "Model", "Creator")
	avKept(t, res, "ArtistAigerim", "CommentSecret", "KeysAuthor", "KeysSoft", "TitleKeep", "CopyKeep")
	if v := mediatest.Tags(t, res.path)["QuickTime:CreateDate"]; v == "0000:00:00 00:00:00" {
		t.Errorf("the creation date was zeroed in a package that is not anonymized")
	}
	avSameEssence(t, path, res.path, "0")
	avIdempotent(t, s, res, "video/quicktime", hub.ScrubPolicy{})
}

// A file with nothing to remove is written as it came.
func TestScrubMP4NothingToRemove(t *testing.T) {
	t.Parallel()
	path := avMake(t, "clean.mp4", append(avTestsrc(), "-c:v", "libx264", "-c:a", "aac", "-map_metadata", "-1",
		"-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact")...)
	s := avWithFFmpeg(t)
	res := avMustScrub(t, s, path, "video/mp4", hub.ScrubPolicy{})
	if !bytes.Equal(res.in, res.out) || len(res.rep.Removed) > 0 {
		t.Errorf("a file with nothing to remove changed (removed %+v)", res.rep.Removed)
	}
	// Anonymized, ffmpeg's compressor name goes; then nothing is left.
	res = avMustScrub(t, s, path, "video/mp4", hub.ScrubPolicy{Anonymized: true})
	avRemoved(t, res.rep, "software")
	again := avMustScrub(t, s, res.path, "video/mp4", hub.ScrubPolicy{Anonymized: true})
	if !bytes.Equal(again.in, again.out) {
		t.Errorf("a scrubbed file changed when scrubbed again")
	}
}

// mp4Telemetry makes a MOV with a GoPro-like gpmd data track whose samples
// hold a GPS position, and identifying metadata.
func mp4Telemetry(t *testing.T) string {
	t.Helper()
	gps := filepath.Join(t.TempDir(), "gps.bin")
	if err := os.WriteFile(gps, bytes.Repeat([]byte("GPS5-43.2416,76.9453-SECRETPOS;"), 20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := avMake(t, "telemetry.mov", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine", "-f", "data", "-i", gps,
		"-t", "1", "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac", "-c:d", "copy", "-tag:d", "gpmd",
		"-metadata:s:a:0", "language=kaz", "-metadata:s:a:0", "handler_name=KazakhInterview",
		"-metadata:s:v:0", "handler_name=GoPro AVC")
	mediatest.Plant(t, path, "-GPSCoordinates=43.2416, 76.9453", "-Make=CanonTest", "-Artist=ArtistAigerim", "-Title=TitleKeep")
	return path
}

func TestScrubMP4TelemetryTrack(t *testing.T) {
	t.Parallel()
	mov := mp4Telemetry(t)
	// The same file as an MP4: only its brand differs.
	b := mediatest.ReadFile(t, mov)
	if string(b[4:12]) != "ftypqt  " {
		t.Fatalf("ffmpeg's MOV starts %q", b[:12])
	}
	mp4 := filepath.Join(t.TempDir(), "telemetry.mp4")
	mb := bytes.Clone(b)
	copy(mb[8:12], "mp41")
	copy(mb[16:20], "mp41")
	if err := os.WriteFile(mp4, mb, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, contentType string }{{mov, "video/quicktime"}, {mp4, "video/mp4"}} {
		for _, anon := range []bool{false, true} {
			t.Run(c.contentType+map[bool]string{false: "", true: "/anonymized"}[anon], func(t *testing.T) {
				p := hub.ScrubPolicy{Anonymized: anon}
				s := avWithFFmpeg(t)
				res := avMustScrub(t, s, c.path, c.contentType, p)
				avGone(t, res, []string{"SECRETPOS", "43.2416", "GoPro", "CanonTest"}, "GPSCoordinates", "Make")
				avKept(t, res, "KazakhInterview")
				avRemoved(t, res.rep, "GPS telemetry track", "GPS position")
				if anon {
					avGone(t, res, []string{"ArtistAigerim"}, "Artist")
				}
				avSameEssence(t, c.path, res.path, "0:v", "0:a")
				var probe struct {
					Streams []struct {
						CodecType string            `json:"codec_type"`
						Tags      map[string]string `json:"tags"`
					} `json:"streams"`
				}
				if err := json.Unmarshal(mediatest.Run(t, "ffprobe", "-v", "error", "-of", "json", "-show_streams", res.path), &probe); err != nil {
					t.Fatal(err)
				}
				if len(probe.Streams) != 2 || probe.Streams[0].CodecType != "video" || probe.Streams[1].CodecType != "audio" {
					t.Errorf("streams after the remux: %+v, want video and audio", probe.Streams)
				} else if probe.Streams[1].Tags["language"] != "kaz" {
					t.Errorf("the audio track's language is %q, want kaz", probe.Streams[1].Tags["language"])
				}
				avIdempotent(t, scrub.New(scrub.Options{}), res, c.contentType, p)
			})
		}
	}
	// Without ffmpeg the track cannot go: an anonymized package refuses
	// the file, another stores it unscrubbed.
	s := scrub.New(scrub.Options{})
	_, err := avScrub(t, s, mov, "video/quicktime", hub.ScrubPolicy{Anonymized: true})
	if hub.ErrorCode(err) != hub.EUNSUPPORTED {
		t.Errorf("anonymized, without ffmpeg: %v, want EUNSUPPORTED", err)
	}
	_, err = avScrub(t, s, mov, "video/quicktime", hub.ScrubPolicy{})
	avNotParsed(t, err)
}

// The surgery without a tool: a file built in Go.
func TestScrubMP4Synthetic(t *testing.T) {
	t.Parallel()
	in := avSyntheticMP4()
	s := scrub.New(scrub.Options{})
	for _, anon := range []bool{false, true} {
		p := hub.ScrubPolicy{Anonymized: anon}
		out, rep, err := avScrubBytes(s, in, "video/mp4", p)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(in) || bytes.Index(out, []byte("ESSENCE-BYTES")) != bytes.Index(in, []byte("ESSENCE-BYTES")) {
			t.Fatalf("anonymized %v: the essence moved", anon)
		}
		gone := []string{"43.2416", "CamMakeX", "COVERBYTES", "XmpCreator", "GoPro AVC"}
		kept := []string{"TitleKeep", "\x2c\x3a"} // the title, the language
		if anon {
			gone = append(gone, "ArtistAigerim", "SoftSecret", "GoPro H.264", "\xde\xad\xbe\xef")
		} else {
			kept = append(kept, "ArtistAigerim", "SoftSecret", "GoPro H.264", "\xde\xad\xbe\xef")
		}
		for _, v := range gone {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("anonymized %v: %q is still there", anon, v)
			}
		}
		for _, v := range kept {
			if !bytes.Contains(out, []byte(v)) {
				t.Errorf("anonymized %v: %q was removed", anon, v)
			}
		}
		if anon {
			// The 64-bit ©swr box is a 64-bit free box now.
			i := bytes.Index(in, []byte("\x00\x00\x00\x01\xa9swr"))
			if want := append([]byte("\x00\x00\x00\x01free"), in[i+8:i+16]...); !bytes.Equal(out[i:i+16], want) {
				t.Errorf("the 64-bit box became % x, want % x", out[i:i+16], want)
			}
		}
		again, rep2, err := avScrubBytes(s, out, "video/mp4", p)
		if err != nil || !bytes.Equal(again, out) || len(rep2.Removed) > 0 {
			t.Errorf("anonymized %v: not idempotent (%v, removed %+v)", anon, err, rep2.Removed)
		}
		for _, r := range rep.Removed {
			if strings.ContainsAny(r.Field, "0123456789") || strings.Contains(r.Field, "Aigerim") {
				t.Errorf("a report field holds a value: %q", r.Field)
			}
		}
	}
}

func TestScrubMP4NotParsed(t *testing.T) {
	t.Parallel()
	in := avSyntheticMP4()
	s := scrub.New(scrub.Options{})
	cut := func(n int) []byte { return bytes.Clone(in[:n]) }
	past := bytes.Clone(in)
	binary.BigEndian.PutUint32(past[bytes.Index(past, []byte("mdat"))-4:], 1<<30) // mdat's size past the end
	short := bytes.Clone(in)
	i := bytes.Index(short, []byte("moov"))
	binary.BigEndian.PutUint32(short[i+4:], 4) // mvhd shorter than its header
	large := bytes.Clone(in)
	binary.BigEndian.PutUint32(large[i-4:], 1) // moov's 64-bit size that is not there
	for name, b := range map[string][]byte{
		"truncated": cut(len(in) - 20), "in moov": cut(i + 40), "size past the end": past,
		"box shorter than its header": short, "64-bit size": large,
	} {
		if _, _, err := avScrubBytes(s, b, "video/mp4", hub.ScrubPolicy{}); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			avNotParsed(t, err)
		}
	}
	// Size 0 is "to the end of the file".
	zero := bytes.Clone(in)
	j := bytes.Index(zero, []byte("uuid")) - 4
	binary.BigEndian.PutUint32(zero[j:], 0)
	out, _, err := avScrubBytes(s, zero, "video/mp4", hub.ScrubPolicy{})
	if err != nil || len(out) != len(zero) || bytes.Contains(out, []byte("XmpCreator")) {
		t.Errorf("a last box of size 0: %v", err)
	}
}

func FuzzScrubMP4(f *testing.F) {
	in := avSyntheticMP4()
	f.Add(in)
	f.Add(in[:200])
	f.Add(avBox("ftyp", []byte("isom")))
	f.Fuzz(func(t *testing.T, b []byte) { avTestFuzz(t, b, "video/mp4") })
}

// benchMP4 makes a ~50 MB MP4 with metadata to remove.
func benchMP4(b *testing.B) string {
	part := avMake(b, "part.mp4", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=25", "-f", "lavfi", "-i", "sine", "-t", "10",
		"-c:v", "mpeg4", "-q:v", "1", "-c:a", "aac")
	path := avMake(b, "bench.mp4", "-stream_loop", "7", "-i", part, "-c", "copy")
	mediatest.Plant(b, path, "-GPSCoordinates=43.2416, 76.9453", "-Make=CanonTest", "-Artist=ArtistAigerim")
	return path
}

func BenchmarkScrubMP4(b *testing.B) {
	path := benchMP4(b)
	src := sourceOf(b, "bench.mp4", mediatest.ReadFile(b, path))
	s := scrub.New(scrub.Options{})
	b.Run("surgery", func(b *testing.B) {
		b.SetBytes(src.Size())
		for b.Loop() {
			var rep hub.ScrubReport
			if err := s.Scrub(b.Context(), io.Discard, src, "video/mp4", hub.ScrubPolicy{Anonymized: true}, &rep); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCopyMP4(b *testing.B) {
	path := benchMP4(b)
	src := sourceOf(b, "bench.mp4", mediatest.ReadFile(b, path))
	b.Run("io.Copy", func(b *testing.B) {
		b.SetBytes(src.Size())
		for b.Loop() {
			if _, err := io.Copy(io.Discard, io.NewSectionReader(src, 0, src.Size())); err != nil {
				b.Fatal(err)
			}
		}
	})
}
