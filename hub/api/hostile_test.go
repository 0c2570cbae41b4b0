package api_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
)

// pngWith is a PNG signature and IHDR claiming w x h pixels, then the
// given chunks (type, data) with correct CRCs, then IEND.
func pngWith(w, h uint32, chunks ...[2]string) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	put := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	put("IHDR", ihdr)
	for _, c := range chunks {
		put(c[0], []byte(c[1]))
	}
	put("IEND", nil)
	return b.Bytes()
}

// TestHostileFiles uploads what an attacker or a broken camera sends: each
// gets a clear answer or a failed rendition, never half-stored bytes, and
// the hub keeps serving.
func TestHostileFiles(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{renditions: true})
	producer := h.key("producer")
	var good bytes.Buffer
	if err := jpeg.Encode(&good, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	truncated := good.Bytes()[:good.Len()/2]
	hugeChunk := append(pngWith(8, 8)[:33], []byte("\x7f\xff\xff\xf0IDATxxxx")...)
	bomb := pngWith(50000, 50000, [2]string{"IDAT", "x\x9c\x03\x00\x00\x00\x00\x01"})
	playlist := []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\n#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n#EXTINF:10,\nhttp://example.org/x.ts\n")
	cases := []struct {
		name       string
		file       string
		body       []byte
		anonymized bool
		status     int
		// scrub is the answer's scrub level; failed, a rendition that must
		// end failed.
		scrub, failed string
	}{
		{"truncated JPEG, anonymized", "cut.jpg", truncated, true, http.StatusUnsupportedMediaType, "", ""},
		{"truncated JPEG", "cut.jpg", truncated, false, http.StatusCreated, "not_parsed", "thumbnail"},
		{"PNG with a huge chunk length, anonymized", "huge.png", hugeChunk, true, http.StatusUnsupportedMediaType, "", ""},
		{"PNG claiming 50,000 x 50,000 pixels", "bomb.png", bomb, false, http.StatusCreated, "standard", "thumbnail"},
		{"HLS playlist disguised as MP4", "clip.mp4", playlist, false, http.StatusCreated, "not_parsed", "poster"},
		{"HLS playlist disguised as MP4, anonymized", "clip.mp4", playlist, true, http.StatusUnsupportedMediaType, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pkg struct{ ID string }
			h.do("POST", "/v1/packages", producer, map[string]any{
				"campaign": "korgau123", "language": "ru", "anonymized": c.anonymized,
				"headlines": []map[string]string{{"value": "hostile"}},
			}).expect(t, http.StatusCreated).json(t, &pkg)
			before := h.state()
			r := h.do("PUT", "/v1/packages/"+pkg.ID+"/assets/"+c.file, producer, c.body).expect(t, c.status)
			if c.status != http.StatusCreated {
				if p := r.problem(t); !strings.Contains(p.Detail, "nothing was stored") {
					t.Errorf("refusal %q does not say nothing was stored", p.Detail)
				}
				h.assertUnchanged(before)
				return
			}
			var up struct{ Scrub string }
			r.json(t, &up)
			if up.Scrub != c.scrub {
				t.Errorf("scrub %q, want %q", up.Scrub, c.scrub)
			}
			h.settled()
			var p struct {
				Associations []struct {
					Renditions []struct{ Name, State, Reason string }
				}
			}
			h.do("GET", "/v1/packages/"+pkg.ID, producer, nil).expect(t, http.StatusOK).json(t, &p)
			found := false
			for _, rd := range p.Associations[0].Renditions {
				if rd.Name == c.failed {
					found = true
					if rd.State != "failed" || rd.Reason == "" {
						t.Errorf("%s: %s %q, want failed with a reason", rd.Name, rd.State, rd.Reason)
					}
				}
			}
			if !found {
				t.Errorf("no %s rendition: %+v", c.failed, p.Associations[0].Renditions)
			}
			if strings.Contains(string(h.do("GET", "/v1/packages/"+pkg.ID, producer, nil).body), "root:") {
				t.Error("a rendition holds /etc/passwd")
			}
		})
	}
	h.do("GET", "/readyz", "", nil).expect(t, http.StatusOK)
}
