package hub_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// Heads of real files, enough for sniffing: what cameras, recorders and
// editing suites write at the start of a file.
var (
	movHead = append([]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "), make([]byte, 64)...)
	mp4Head = append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), make([]byte, 64)...)
	m4aHead = append([]byte("\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom"), make([]byte, 64)...)
	mxfHead = append([]byte{0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0d, 0x01, 0x02, 0x01, 0x01, 0x02, 0x04, 0x00}, make([]byte, 64)...)
	mp3Head = bytes.Repeat([]byte("\xff\xfb\x90\x64"+strings.Repeat("\x00", 413)), 4)
	wavHead = append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 64)...)
	pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	jpgHead = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	svgHead = []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>`)
	pdfHead = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
	txtHead = []byte("Домогательства на работе — это преступление.\nЖұмыстағы қудалау — қылмыс.\n")
	zipHead = []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
	exeHead = append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 64)...)
)

func TestSniffAndCheckAssetContent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		head      []byte
		requested hub.AssetType
		wantType  hub.AssetType
		wantCT    string
		wantCode  string
	}{
		{"QuickTime interview", movHead, "", hub.AssetVideo, "video/quicktime", ""},
		{"MP4 clip", mp4Head, "", hub.AssetVideo, "video/mp4", ""},
		{"M4A audio interview", m4aHead, "", hub.AssetAudio, "audio/x-m4a", ""},
		{"MXF broadcast master", mxfHead, "", hub.AssetVideo, "application/mxf", ""},
		{"MP3", mp3Head, "", hub.AssetAudio, "audio/mpeg", ""},
		{"WAV", wavHead, "", hub.AssetAudio, "audio/wav", ""},
		{"PNG poster", pngHead, "", hub.AssetPicture, "image/png", ""},
		{"PNG infographic", pngHead, hub.AssetGraphic, hub.AssetGraphic, "image/png", ""},
		{"JPEG photo", jpgHead, "", hub.AssetPicture, "image/jpeg", ""},
		{"SVG infographic", svgHead, "", hub.AssetGraphic, "image/svg+xml", ""},
		{"PDF leaflet", pdfHead, "", hub.AssetGraphic, "application/pdf", ""},
		{"PDF article", pdfHead, hub.AssetText, hub.AssetText, "application/pdf", ""},
		{"Cyrillic transcript", txtHead, "", hub.AssetText, "text/plain; charset=utf-8", ""},
		{"PDF claimed as picture", pdfHead, hub.AssetPicture, "", "application/pdf", hub.EUNSUPPORTED},
		{"MOV claimed as audio", movHead, hub.AssetAudio, "", "video/quicktime", hub.EUNSUPPORTED},
		{"zip", zipHead, "", "", "application/zip", hub.EUNSUPPORTED},
		{"executable", exeHead, "", "", "", hub.EUNSUPPORTED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := hub.SniffContentType(tc.head)
			if tc.wantCT != "" && ct != tc.wantCT {
				t.Errorf("sniffed %q, want %q", ct, tc.wantCT)
			}
			typ, err := hub.CheckAssetContent(tc.requested, ct)
			if code := hub.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tc.wantCode)
			}
			if typ != tc.wantType {
				t.Errorf("type %q, want %q", typ, tc.wantType)
			}
			if err != nil && !strings.Contains(hub.ErrorMessage(err), "looks like") {
				t.Errorf("message %q does not say what the file looks like", hub.ErrorMessage(err))
			}
		})
	}
}

func TestNormalizeLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"ru": "ru", "KK": "kk", "ky": "ky", "en-gb": "en-GB", "kk-cyrl-kz": "kk-Cyrl-KZ", "sr-latn": "sr-Latn",
		"russian": "", "r": "", "ru_RU": "", "": "", "ru-": "",
	} {
		got, err := hub.NormalizeLanguage(in)
		if want == "" {
			if err == nil {
				t.Errorf("%q accepted as %q", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q -> %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestKeySecrets(t *testing.T) {
	a, err := hub.NewKeySecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hub.NewKeySecret()
	if a == b || !strings.HasPrefix(a, "hub_") || len(a) < 40 {
		t.Fatalf("secrets %q %q", a, b)
	}
	h := hub.HashKeySecret(a)
	sum := sha256.Sum256([]byte(a))
	if h != hex.EncodeToString(sum[:]) || strings.Contains(h, a) {
		t.Fatal("the stored form is not the SHA-256 of the secret")
	}
}

func TestIDs(t *testing.T) {
	ids := hub.NewIDSource(func() time.Time { return time.Unix(1_800_000_000, 0) })
	prev := ""
	for range 1000 {
		id := ids.New()
		if !hub.ValidID(id) || id <= prev {
			t.Fatalf("%q after %q", id, prev)
		}
		prev = id
	}
	for _, bad := range []string{"", "nope", strings.ToLower(prev), prev + "0", "../../etc/passwd00000000000"} {
		if hub.ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
}

// TestDigestMatchesWhileStreaming checks the concurrent hasher against a
// plain one across read sizes, including reads far larger than its chunks.
func TestDigestMatchesWhileStreaming(t *testing.T) {
	data := bytes.Repeat([]byte("Жұмыстағы қудалау — қылмыс. "), 200_000)
	want := sha256.Sum256(data)
	small := data[:10_000] // byte-sized reads of the whole would take minutes under -race
	wantSmall := sha256.Sum256(small)
	got, n, err := hub.DigestForTest(bytes.NewReader(small), 1)
	if err != nil || n != int64(len(small)) || got != hex.EncodeToString(wantSmall[:]) {
		t.Errorf("read size 1: %s, %d, %v", got, n, err)
	}
	for _, readSize := range []int{4096, 1 << 20, 3<<20 + 7, 16 << 20} {
		got, n, err := hub.DigestForTest(io.LimitReader(bytes.NewReader(data), int64(len(data))), readSize)
		if err != nil || n != int64(len(data)) || got != hex.EncodeToString(want[:]) {
			t.Errorf("read size %d: %s, %d, %v", readSize, got, n, err)
		}
	}
}
